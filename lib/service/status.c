/*
 * service: status snapshots: a copy of every name's state, taken under the
 * service lock and read afterwards without it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <acme/sys/error.h>

#include "service/service-internal.h"
#include "util/i18n.h"
#include "util/util.h"

typedef struct status_entry {
    char *name;
    time_t not_after;
    time_t next_check;
    acme_error *last_error;
    unsigned int failures;
    bool in_flight;
    bool issuing;
    bool blocked;
} status_entry;

struct acme_service_status {
    status_entry *v;
    size_t n;
};

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const status_entry *)a)->name, ((const status_entry *)b)->name);
}

int acme_service_status_get(acme_service_status **out, acme_service *s, acme_error **err)
{
    acme_service_status *st;
    bool nomem = false;

    if (out)
        *out = NULL;
    if (!out || !s)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    if (!(st = calloc(1, sizeof(*st))))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    pthread_mutex_lock(&s->lock);
    if (s->nnames && !(st->v = calloc(s->nnames, sizeof(*st->v))))
        nomem = true;
    for (size_t i = 0; !nomem && i < s->nnames; i++) {
        const acme__svc_name *ns = s->names[i];
        status_entry *se = &st->v[st->n];

        if (!(se->name = acme__strdup(ns->name))) {
            nomem = true;
            break;
        }
        st->n++;
        se->not_after = ns->have_cert ? ns->not_after : 0;
        /* In flight: being looked at now; else the heap's time (none when blocked). */
        if (ns->work)
            se->next_check = (time_t)(acme_clock_now_ms(s->clock) / 1000);
        else if (ns->next_ms != INT64_MAX)
            se->next_check = (time_t)(ns->next_ms / 1000);
        else if (s->running && s->check_due_ms != INT64_MAX)
            se->next_check = (time_t)(s->check_due_ms / 1000);
        se->last_error = ns->last_error ? acme_error_copy(ns->last_error) : NULL;
        se->failures = ns->failures;
        se->in_flight = ns->work != NULL;
        se->issuing = ns->work && ns->work->decided && ns->work->issuing;
        se->blocked = ns->blocked;
    }
    pthread_mutex_unlock(&s->lock);
    if (nomem) {
        acme_service_status_free(st);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    if (st->n > 1)
        qsort(st->v, st->n, sizeof(*st->v), cmp_entry);
    *out = st;
    return ACME_OK;
}

size_t acme_service_status_count(const acme_service_status *st)
{
    return st ? st->n : 0;
}

static const status_entry *at(const acme_service_status *st, size_t i)
{
    return st && i < st->n ? &st->v[i] : NULL;
}

const char *acme_service_status_name(const acme_service_status *st, size_t i)
{
    const status_entry *e = at(st, i);

    return e ? e->name : NULL;
}

time_t acme_service_status_not_after(const acme_service_status *st, size_t i)
{
    const status_entry *e = at(st, i);

    return e ? e->not_after : 0;
}

time_t acme_service_status_next_check(const acme_service_status *st, size_t i)
{
    const status_entry *e = at(st, i);

    return e ? e->next_check : 0;
}

const acme_error *acme_service_status_last_error(const acme_service_status *st, size_t i)
{
    const status_entry *e = at(st, i);

    return e ? e->last_error : NULL;
}

unsigned int acme_service_status_failures(const acme_service_status *st, size_t i)
{
    const status_entry *e = at(st, i);

    return e ? e->failures : 0;
}

bool acme_service_status_issuing(const acme_service_status *st, size_t i)
{
    const status_entry *e = at(st, i);

    return e ? e->issuing : false;
}

bool acme_service_status_in_flight(const acme_service_status *st, size_t i)
{
    const status_entry *e = at(st, i);

    return e ? e->in_flight : false;
}

bool acme_service_status_blocked(const acme_service_status *st, size_t i)
{
    const status_entry *e = at(st, i);

    return e ? e->blocked : false;
}

void acme_service_status_free(acme_service_status *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->n; i++) {
        free(st->v[i].name);
        acme_error_free(st->v[i].last_error);
    }
    free(st->v);
    free(st);
}
