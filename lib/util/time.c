/*
 * util: RFC 3339 timestamps (ACME's "expires", ARI windows) and
 * Retry-After (RFC 9110 §10.2.3).
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

static int digits(const char **p, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

int acme__time_parse_rfc3339(const char *s, time_t *out)
{
    struct tm tm;
    int year, mon, day, hour, min, sec, oh, om;
    const char *p = s;
    time_t t;

    if (!s)
        return -1;
    memset(&tm, 0, sizeof(tm));
    if (digits(&p, 4, &year) || *p++ != '-' || digits(&p, 2, &mon) || *p++ != '-' ||
        digits(&p, 2, &day) || (*p != 'T' && *p != 't' && *p != ' '))
        return -1;
    p++;
    if (digits(&p, 2, &hour) || *p++ != ':' || digits(&p, 2, &min) || *p++ != ':' ||
        digits(&p, 2, &sec))
        return -1;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return -1;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
        return -1;
    tm.tm_year = year - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = min;
    tm.tm_sec = sec == 60 ? 59 : sec;
    t = timegm(&tm);
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '+' ? 1 : -1;

        if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) || oh > 23 || om > 59)
            return -1;
        t -= sign * (oh * 3600 + om * 60);
    } else {
        return -1;
    }
    if (*p != '\0')
        return -1;
    *out = t;
    return 0;
}

void acme__time_format_rfc3339(time_t t, char *buf, size_t len)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* HTTP-date (IMF-fixdate, RFC 9110 §5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT". */
static int parse_http_date(const char *s, time_t *out)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    char mon[4], gmt[4];
    int day, year, hour, min, sec, n = 0;
    struct tm tm;
    const char *m;

    /* Skip the day name and comma. */
    const char *comma = strchr(s, ',');
    if (!comma)
        return -1;
    if (sscanf(comma + 1, " %2d %3s %4d %2d:%2d:%2d %3s%n", &day, mon, &year, &hour, &min, &sec,
               gmt, &n) != 7)
        return -1;
    if (strcmp(gmt, "GMT") != 0 || comma[1 + n] != '\0')
        return -1;
    mon[3] = '\0';
    if (strlen(mon) != 3 || !(m = strstr(months, mon)) || (m - months) % 3 != 0)
        return -1;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = year - 1900;
    tm.tm_mon = (int)((m - months) / 3);
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = min;
    tm.tm_sec = sec;
    if (day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
        return -1;
    *out = timegm(&tm);
    return 0;
}

int64_t acme__retry_after_parse(const char *value, time_t now)
{
    const char *p = value;
    time_t when;

    if (!value)
        return -1;
    while (*p == ' ' || *p == '\t')
        p++;
    if (isdigit((unsigned char)*p)) {
        char *end;
        unsigned long long v = strtoull(p, &end, 10);

        while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
            end++;
        if (*end != '\0')
            return -1;
        /* A century is the most anyone means; more is an attack or a bug. */
        return v > 3155760000ULL ? 3155760000LL : (int64_t)v;
    }
    if (parse_http_date(p, &when) < 0)
        return -1;
    return when > now ? (int64_t)(when - now) : 0;
}
