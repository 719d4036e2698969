/*
 * responders: the http-01 token table (RFC 8555 §8.3) and the responder
 * that fills it.
 *
 * The table maps a token to the key authorization to serve for it.  The
 * client's worker threads add and remove entries through the responder
 * while HTTP server threads (libmicrohttpd's, or the application's own)
 * look them up, so one mutex guards it.
 *
 * Lock: acme_http01.lock, a leaf lock: nothing else is locked while it is
 * held, and no callback runs under it.  It guards `refs` and the entries.
 * Owner: the table; each listener and responder holds a reference, and
 * the last acme_http01_free()/unref destroys it.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <acme/client.h>
#include <acme/http01.h>
#include <acme/sys/error.h>
#include <acme/sys/responder.h>

#include "responders/http01-int.h"
#include "util/i18n.h"
#include "util/util.h"

/*
 * Tokens carry at least 128 bits (RFC 8555 §11.3), 22 base64url
 * characters or more; CAs send 43.  The bound only keeps a hostile path or
 * caller from making us compare or copy megabytes.
 */
#define TOKEN_MAX 512
/* A key authorization is the token, ".", and a SHA-256 thumbprint (43). */
#define KEYAUTH_MAX (TOKEN_MAX + 1 + 128)

struct acme_http01 {
    pthread_mutex_t lock;
    unsigned int refs;       /* guarded by lock */
    acme__http01_set set;    /* guarded by lock */
};

/* Length of the base64url run at the start of @p s (stops at anything else). */
static size_t b64url_span(const char *s)
{
    size_t i = 0;

    while (s[i] && ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
                    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
        i++;
    return i;
}

int acme__http01_check(const char *token, const char *key_authorization, acme_error **err)
{
    size_t tlen;

    if (!token || !acme__is_b64url(token) || strlen(token) > TOKEN_MAX)
        return acme_error_set(err, ACME_E_INVALID, _("http-01: the challenge token is not base64url"));
    tlen = strlen(token);
    /* RFC 8555 §8.1: keyAuthorization = token || '.' || base64url(Thumbprint(accountKey)) */
    if (!key_authorization || strlen(key_authorization) > KEYAUTH_MAX ||
        strncmp(key_authorization, token, tlen) != 0 || key_authorization[tlen] != '.' ||
        !acme__is_b64url(key_authorization + tlen + 1))
        return acme_error_set(err, ACME_E_INVALID,
                              _("http-01: the key authorization does not belong to token %s"), token);
    return ACME_OK;
}

const char *acme__http01_errstr(int errnum, char *buf, size_t len)
{
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
    return strerror_r(errnum, buf, len); /* GNU: may return a static string */
#else
    if (strerror_r(errnum, buf, len) != 0)
        snprintf(buf, len, "error %d", errnum);
    return buf;
#endif
}

bool acme__http01_name_ok(const char *name)
{
    size_t i;

    if (!name || !*name)
        return false;
    /* 253 for a DNS name (RFC 1035); an IPv6 literal is far shorter. */
    for (i = 0; name[i]; i++) {
        unsigned char c = (unsigned char)name[i];

        if (i >= 253 || c <= ' ' || c >= 0x7f || c == '/' || c == '\\')
            return false;
    }
    return true;
}

int acme_http01_new(acme_http01 **out, acme_error **err)
{
    acme_http01 *h;

    if (!out)
        return acme_error_set(err, ACME_E_INVALID, _("http-01: no place for the result"));
    *out = NULL;
    if (!(h = calloc(1, sizeof(*h))))
        return acme_error_set(err, ACME_E_NOMEM, _("out of memory"));
    if (pthread_mutex_init(&h->lock, NULL) != 0) {
        free(h);
        return acme_error_set(err, ACME_E_NOMEM, _("http-01: cannot make a mutex"));
    }
    h->refs = 1;
    *out = h;
    return ACME_OK;
}

acme_http01 *acme__http01_ref(acme_http01 *h)
{
    pthread_mutex_lock(&h->lock);
    h->refs++;
    pthread_mutex_unlock(&h->lock);
    return h;
}

void acme_http01_free(acme_http01 *h)
{
    unsigned int left;

    if (!h)
        return;
    pthread_mutex_lock(&h->lock);
    left = --h->refs;
    pthread_mutex_unlock(&h->lock);
    if (left > 0)
        return;
    acme__http01_set_clear(&h->set);
    pthread_mutex_destroy(&h->lock);
    free(h);
}

acme__http01_entry *acme__http01_set_find(const acme__http01_set *s, const char *token,
                                          size_t len)
{
    for (size_t i = 0; i < s->n; i++)
        if (strlen(s->entries[i].token) == len && memcmp(s->entries[i].token, token, len) == 0)
            return &s->entries[i];
    return NULL;
}

int acme__http01_set_add(acme__http01_set *s, const char *token, const char *key_authorization,
                         bool *added, acme_error **err)
{
    acme__http01_entry *e;

    if (added)
        *added = false;
    if ((e = acme__http01_set_find(s, token, strlen(token)))) {
        /*
         * The same challenge started twice (two orders sharing a pending
         * authorization) is counted; another key authorization for a
         * token in flight is a caller error we refuse rather than serve
         * the wrong answer to one of them.
         */
        if (strcmp(e->key_authorization, key_authorization) != 0)
            return acme_error_set(err, ACME_E_INVALIDSTATE,
                                  _("http-01: token %s is already answered with another key authorization"),
                                  token);
        e->count++;
        return ACME_OK;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        acme__http01_entry *v = realloc(s->entries, cap * sizeof(*v));

        if (!v)
            return acme_error_set(err, ACME_E_NOMEM, _("out of memory"));
        s->entries = v;
        s->cap = cap;
    }
    e = &s->entries[s->n];
    e->token = acme__strdup(token);
    e->key_authorization = acme__strdup(key_authorization);
    e->count = 1;
    if (!e->token || !e->key_authorization) {
        free(e->token);
        free(e->key_authorization);
        return acme_error_set(err, ACME_E_NOMEM, _("out of memory"));
    }
    s->n++;
    if (added)
        *added = true;
    return ACME_OK;
}

int acme__http01_set_remove(acme__http01_set *s, const char *token)
{
    acme__http01_entry *e = acme__http01_set_find(s, token, strlen(token));

    if (!e)
        return ACME_E_NOTFOUND;
    if (--e->count > 0)
        return 0;
    free(e->token);
    free(e->key_authorization);
    /* Order does not matter: move the last entry into the hole. */
    *e = s->entries[--s->n];
    return 1;
}

void acme__http01_set_clear(acme__http01_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->entries[i].token);
        free(s->entries[i].key_authorization);
    }
    free(s->entries);
    s->entries = NULL;
    s->n = s->cap = 0;
}

int acme_http01_add(acme_http01 *h, const char *token, const char *key_authorization,
                    acme_error **err)
{
    int rc;

    if (!h)
        return acme_error_set(err, ACME_E_INVALID, _("http-01: no token table"));
    if ((rc = acme__http01_check(token, key_authorization, err)) != ACME_OK)
        return rc;
    pthread_mutex_lock(&h->lock);
    rc = acme__http01_set_add(&h->set, token, key_authorization, NULL, err);
    pthread_mutex_unlock(&h->lock);
    return rc;
}

int acme_http01_remove(acme_http01 *h, const char *token)
{
    int rc;

    if (!h || !token)
        return ACME_E_INVALID;
    pthread_mutex_lock(&h->lock);
    rc = acme__http01_set_remove(&h->set, token);
    pthread_mutex_unlock(&h->lock);
    return rc < 0 ? rc : ACME_OK;
}

int acme_http01_lookup(char **body_out, const acme_http01 *h, const char *path, acme_error **err)
{
    static const char prefix[] = ACME_HTTP01_PATH_PREFIX;
    acme_http01 *t = (acme_http01 *)h; /* the lock is not part of the value */
    const char *token;
    size_t len;
    const acme__http01_entry *e;
    int rc = ACME_OK;

    if (body_out)
        *body_out = NULL;
    if (!h || !path)
        return acme_error_set(err, ACME_E_INVALID, _("http-01: no token table or path"));

    /*
     * RFC 8555 §8.3: the CA asks for exactly
     * /.well-known/acme-challenge/<token>.  The token must run to the end
     * of the path (or to a query string, which the CA never sends but a
     * server may leave on the path); "..", "/", "%2e" and the like stop
     * the base64url run early and so never match.
     */
    if (strncmp(path, prefix, sizeof(prefix) - 1) != 0)
        return acme_error_set(err, ACME_E_NOTFOUND, _("http-01: not a challenge path"));
    token = path + sizeof(prefix) - 1;
    len = b64url_span(token);
    if (len == 0 || len > TOKEN_MAX || (token[len] != '\0' && token[len] != '?'))
        return acme_error_set(err, ACME_E_NOTFOUND, _("http-01: not a challenge path"));

    pthread_mutex_lock(&t->lock);
    if (!(e = acme__http01_set_find(&t->set, token, len))) {
        rc = ACME_E_NOTFOUND;
    } else if (body_out && !(*body_out = acme__strdup(e->key_authorization))) {
        rc = ACME_E_NOMEM;
    }
    pthread_mutex_unlock(&t->lock);
    /* Set the error outside the lock: it allocates and formats. */
    if (rc == ACME_E_NOTFOUND)
        return acme_error_set(err, rc, _("http-01: no challenge in flight for this token"));
    if (rc == ACME_E_NOMEM)
        return acme_error_set(err, rc, _("out of memory"));
    return ACME_OK;
}

/* ------------------------------------------------------------------ */
/* The responder over a table                                           */
/* ------------------------------------------------------------------ */

static int table_start(void *self, const char *name, const acme_challenge *ch,
                       const char *key_authorization, acme_error **err)
{
    const char *token = ch ? acme_challenge_token(ch) : NULL;

    if (!acme__http01_name_ok(name))
        return acme_error_set(err, ACME_E_INVALID, _("http-01: invalid identifier"));
    return acme_http01_add(self, token, key_authorization, err);
}

static void table_stop(void *self, const char *name, const acme_challenge *ch,
                       const char *key_authorization)
{
    const char *token = ch ? acme_challenge_token(ch) : NULL;

    (void)name;
    (void)key_authorization;
    if (token)
        (void)acme_http01_remove(self, token);
}

static void table_destroy(void *self)
{
    acme_http01_free(self);
}

static const acme_responder_ops table_ops = {
    .version = ACME_RESPONDER_OPS_VERSION,
    .name = "http-01",
    .challenge_type = "http-01",
    .flags = 0,
    .start = table_start,
    .stop = table_stop,
    .destroy = table_destroy,
};

int acme_http01_responder(acme_responder **out, acme_http01 *h, acme_error **err)
{
    if (out)
        *out = NULL;
    if (!out || !h)
        return acme_error_set(err, ACME_E_INVALID, _("http-01: no token table"));
    /* acme_responder_new() owns the reference from here, also on failure. */
    return acme_responder_new(out, &table_ops, acme__http01_ref(h), err);
}

/* ------------------------------------------------------------------ */
/* The standalone responder: a table, its listener, and the responder   */
/* ------------------------------------------------------------------ */

typedef struct standalone {
    acme_http01 *h;
    acme_http01_server *srv;
} standalone;

static int standalone_start(void *self, const char *name, const acme_challenge *ch,
                            const char *key_authorization, acme_error **err)
{
    return table_start(((standalone *)self)->h, name, ch, key_authorization, err);
}

static void standalone_stop(void *self, const char *name, const acme_challenge *ch,
                            const char *key_authorization)
{
    table_stop(((standalone *)self)->h, name, ch, key_authorization);
}

static void standalone_destroy(void *self)
{
    standalone *s = self;

    acme_http01_server_free(s->srv); /* joins the server thread first */
    acme_http01_free(s->h);
    free(s);
}

static const acme_responder_ops standalone_ops = {
    .version = ACME_RESPONDER_OPS_VERSION,
    .name = "http-01 standalone",
    .challenge_type = "http-01",
    .flags = 0,
    .start = standalone_start,
    .stop = standalone_stop,
    .destroy = standalone_destroy,
};

int acme_responder_http01_standalone_new(acme_responder **out, const char *address,
                                         unsigned int port, const acme_http01_server_options *opts,
                                         acme_error **err)
{
    standalone *s;
    int rc;

    if (!out)
        return acme_error_set(err, ACME_E_INVALID, _("http-01: no place for the result"));
    *out = NULL;
    if (!(s = calloc(1, sizeof(*s))))
        return acme_error_set(err, ACME_E_NOMEM, _("out of memory"));
    if ((rc = acme_http01_new(&s->h, err)) != ACME_OK ||
        (rc = acme_http01_listen(&s->srv, s->h, address, port, opts, err)) != ACME_OK) {
        standalone_destroy(s);
        return rc;
    }
    return acme_responder_new(out, &standalone_ops, s, err);
}
