/*
 * service: internals shared by the service's files (service.c: life cycle,
 * scheduler, workers, jobs; work.c: one check or issuing attempt of a
 * name; status.c: snapshots) and by the unit tests.
 *
 * Locking is described at the top of service.c.
 */
#ifndef ACME_SERVICE_INTERNAL_H
#define ACME_SERVICE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <acme/service.h>

#include "util/log.h"

typedef struct acme__svc_work acme__svc_work;
typedef struct acme__svc_name acme__svc_name;

/* What the service knows about renewal information for a name. */
enum { ARI_UNKNOWN = 0, ARI_YES = 1, ARI_NO = 2 };

/*
 * The state of one name.  Owned by the service (s->names); every field
 * but `name` is guarded by s->lock.
 */
struct acme__svc_name {
    char *name;                 /* immutable */
    acme__svc_work *work;       /* guarded by lock: the one job of this name, or NULL */
    int64_t next_ms;            /* guarded by lock: heap key (INT64_MAX: not in the heap) */
    size_t heap_idx;            /* guarded by lock: SIZE_MAX when not in the heap */
    bool in_store;              /* guarded by lock: seen by the last list */
    bool startup;               /* guarded by lock: counted in s->startup_pending */
    bool have_cert;             /* guarded by lock: the store held a usable certificate */
    time_t not_before;          /* guarded by lock */
    time_t not_after;           /* guarded by lock: 0 when no certificate */
    unsigned int failures;      /* guarded by lock: failed attempts in a row */
    int64_t retry_at_ms;        /* guarded by lock: no scheduled attempt before this */
    int64_t ratelimit_until_ms; /* guarded by lock: no attempt at all before this */
    bool blocked;               /* guarded by lock: userActionRequired; no retries */
    acme_error *last_error;     /* guarded by lock: owned */
    int ari;                    /* guarded by lock: ARI_* */
    char *ari_cert_id;          /* guarded by lock: the certificate the ARI fields are about */
    int64_t ari_poll_ms;        /* guarded by lock: next renewalInfo poll (0: now) */
    time_t ari_start, ari_end;  /* guarded by lock: the last window */
    time_t ari_renew_at;        /* guarded by lock: the time picked inside it */
};

/*
 * A job: a check of one name that may issue, queued or running.  At most
 * one per name (name->work).  Guarded by s->lock, except what the running
 * worker keeps on its stack.
 */
struct acme__svc_work {
    acme__svc_name *ns;         /* the name; immutable */
    bool force;                 /* guarded by lock: issue even if fresh */
    bool scheduled;             /* guarded by lock: the scheduler wants it (never cancelled by a handle) */
    bool queued;                /* guarded by lock: in s->queue */
    bool running;               /* guarded by lock */
    bool decided;               /* guarded by lock: the worker chose whether to issue */
    bool issuing;               /* guarded by lock: ... and chose to */
    bool again;                 /* guarded by lock: forced after a decision not to issue */
    bool cancelled;             /* guarded by lock */
    acme_issuer *issuer;        /* guarded by lock: the issuer in use, for cancel */
    unsigned int cancel_refs;   /* guarded by lock: cancellers calling issuer outside the lock */
    acme_service_job *jobs;     /* guarded by lock: handles waiting for it */
    acme__svc_work *qnext;      /* guarded by lock: queue link */
};

/* A caller's handle. */
struct acme_service_job {
    acme_service *service;      /* guarded by service->lock: NULL once the service is freed */
    acme__svc_work *work;       /* guarded by lock: NULL once completed or cancelled */
    char *name;                 /* immutable */
    acme_service_job_fn *cb;    /* immutable */
    void *userdata;             /* immutable */
    bool done;                  /* guarded by lock */
    bool delivering;            /* guarded by lock: its callback is running */
    int rc;                     /* guarded by lock: valid when done */
    acme_error *error;          /* guarded by lock: owned; valid when done */
    acme_service_job *wnext;    /* guarded by lock: in work->jobs */
    acme_service_job *dnext;    /* a delivery list on one thread's stack */
    acme_service_job *hprev, *hnext; /* guarded by lock: in service->handles */
};

/* A when_certs_valid callback waiting. */
typedef struct acme__svc_ready {
    acme_service_ready_fn *cb;
    void *userdata;
    struct acme__svc_ready *next;
} acme__svc_ready;

struct acme_service {
    /* Immutable after acme_service_new(). */
    acme_store *store;
    acme_issuer_factory_fn *factory;
    void *factory_userdata;
    acme_clock *clock;
    bool own_clock;
    acme_responder **responders;
    size_t nresponders;
    char *email;
    int64_t check_interval, reissue_interval, panic_interval; /* seconds */
    int64_t retry_initial, retry_max;                         /* seconds */
    acme_service_panic_fn *panic;
    void *panic_userdata;
    acme_service_keygen_fn *keygen;
    void *keygen_userdata;
    acme_key_type key_type;
    unsigned int nworkers;
    acme_service_event_fn *on_event;
    void *event_userdata;
    /* A library-internal second event sink (the endpoint's cache reload). */
    acme_service_event_fn *observer;  /* guarded by lock */
    void *observer_userdata;          /* guarded by lock */
    acme__logger log;
    int issue_timeout;

    pthread_mutex_t lock;       /* the service lock */
    pthread_cond_t sched_cond;  /* the scheduler waits on it (clock deadline) */
    pthread_cond_t queue_cond;  /* workers wait on it */
    pthread_cond_t state_cond;  /* everyone else: jobs, readiness, idleness */

    /* guarded by lock */
    bool running;               /* guarded by lock: started and not yet stopped */
    bool stopping;              /* guarded by lock */
    bool ever_started;          /* guarded by lock */
    bool subscribed;            /* guarded by lock: clock notify registered */
    pthread_t scheduler;        /* written by start, joined by stop */
    pthread_t *workers;         /* written by start, joined by stop */
    unsigned int nstarted;      /* threads started by start */

    acme__svc_name **names;     /* guarded by lock */
    size_t nnames, names_cap;   /* guarded by lock */
    acme__svc_name **heap;      /* guarded by lock: min-heap on next_ms */
    size_t nheap, heap_cap;     /* guarded by lock */
    acme__svc_work *qhead, *qtail; /* guarded by lock: the job queue */
    unsigned int nrunning;      /* guarded by lock: jobs being run by workers */
    unsigned int ndelivering;   /* guarded by lock: threads delivering callbacks */
    bool sched_idle;            /* guarded by lock: scheduler waiting, nothing due */
    int64_t check_due_ms;       /* guarded by lock: next full check */
    unsigned int check_failures;/* guarded by lock: failed lists in a row */

    bool startup_listed;        /* guarded by lock: the startup list succeeded */
    size_t startup_pending;     /* guarded by lock: names of the startup check not attempted */
    bool ready;                 /* guarded by lock: when_certs_valid fired */
    acme__svc_ready *ready_cbs; /* guarded by lock */

    acme_service_job *handles;  /* guarded by lock: every live handle */
};

/* ---- service.c, for work.c ---- */

/* Record that a startup name is done (lock held); may make the service ready. */
void acme__svc_startup_done_locked(acme_service *s, acme__svc_name *ns);
/* Deliver ready callbacks collected while ready became true (no lock held). */
void acme__svc_deliver_ready(acme_service *s);
/* Re-key @p ns in the heap (lock held); INT64_MAX removes it. */
void acme__svc_heap_set_locked(acme_service *s, acme__svc_name *ns, int64_t next_ms);
/* A random 64-bit value (for jitter and ARI). */
uint64_t acme__svc_random(void);

/* ---- work.c ---- */

/* Run one job (on a worker, no lock held); completes it or queues it again. */
void acme__svc_run_work(acme_service *s, acme__svc_work *w);

/*
 * Complete @p w (lock held): detach it from its name, hand @p rc and
 * @p error (copied) to its handles.  Returns the handles whose callbacks
 * must run: pass them to acme__svc_deliver_jobs() after unlocking.
 */
acme_service_job *acme__svc_complete_locked(acme_service *s, acme__svc_work *w, int rc,
                                            const acme_error *error);
/* Run the callbacks of completed handles (no lock held). */
void acme__svc_deliver_jobs(acme_service *s, acme_service_job *list);

/* ---- for lib/endpoint ---- */

/*
 * Set (or, with @p fn NULL, clear) the service's internal event observer,
 * which gets every event before the application's on_event.  The endpoint
 * uses it to reload a name its cache holds when a certificate is stored.
 * Returns ACME_E_INVALIDSTATE when another observer is set.  Clear it
 * only after acme_service_stop(), so that no event is in flight.
 */
int acme__service_set_observer(acme_service *s, acme_service_event_fn *fn, void *userdata,
                               acme_error **err);

/* ---- for the tests ---- */

/*
 * Wait until the service is idle: no job queued or running, no callback
 * being delivered, and the scheduler waiting with nothing due at the
 * clock's current time.  With a manual clock, call it after every
 * acme_clock_manual_advance() to let the service catch up.  No timeout.
 */
void acme__service_wait_idle(acme_service *s);

#endif
