/* pool.c - the model's helper thread (see pool.h).
 *
 * Hand-over protocol: the caller bumps `posted` and, if the helper said it
 * is going to sleep, signals it under the lock; the helper announces sleep
 * under the lock and re-checks `posted` before waiting. Both sides use
 * sequentially consistent atomics, so one of them always sees the other
 * and no wake-up is lost. A job is run by whoever claims it first: the
 * helper, or the caller when it finishes its own share and finds the job
 * not yet started, so a helper without a core never holds the caller up.
 * The helper then only records the posting as done; a posting it missed is
 * covered by the next, since it always reads the newest.
 */
#include "tempest/pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#else
#define cpu_relax() ((void)0)
#endif

/* How long the helper spins for the next job before sleeping: longer than
 * the gap between the products of one step and between steps at full
 * speed, far shorter than anything a person notices. */
#define SPIN_NS 200000L

struct tp_pool {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    atomic_int busy;       /* a caller owns the helper */
    atomic_uint posted;    /* jobs handed over so far */
    atomic_uint done;      /* jobs finished so far */
    atomic_int sleeping;
    atomic_int stop;
    atomic_int claimed;    /* the current job has been started by someone */
    void (*fn)(void *);
    void *arg;
};

static long elapsed_ns(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - since->tv_sec) * 1000000000L + (now.tv_nsec - since->tv_nsec);
}

/* Spin until posted moves past seen, for SPIN_NS at most. */
static int spin_for_job(tp_pool *p, unsigned seen)
{
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int i = 1;; i++) {
        if (atomic_load(&p->posted) != seen)
            return 1;
        cpu_relax();
        if (i % 64 == 0) {
            /* On a busy machine give the core to whoever waits for it; on
             * a quiet one this returns at once. */
            sched_yield();
            if (elapsed_ns(&start) > SPIN_NS)
                return 0;
        }
    }
}

static void sleep_for_job(tp_pool *p, unsigned seen)
{
    pthread_mutex_lock(&p->lock);
    atomic_store(&p->sleeping, 1);
    while (atomic_load(&p->posted) == seen && !atomic_load(&p->stop))
        pthread_cond_wait(&p->wake, &p->lock);
    atomic_store(&p->sleeping, 0);
    pthread_mutex_unlock(&p->lock);
}

static void *helper_main(void *arg)
{
    tp_pool *p = arg;
    unsigned seen = 0;
    for (;;) {
        if (!spin_for_job(p, seen))
            sleep_for_job(p, seen);
        if (atomic_load(&p->stop))
            return NULL;
        seen = atomic_load(&p->posted);
        /* The caller may have taken the job back (see tp_pool_finish). */
        if (atomic_exchange(&p->claimed, 1) == 0)
            p->fn(p->arg);
        atomic_store(&p->done, seen);
    }
}

tp_status tp_pool_new(tp_pool **out, tp_error *err)
{
    *out = NULL;
    tp_pool *p = calloc(1, sizeof *p);
    if (!p)
        return tp_fail(err, TP_ERR_NOMEM, "out of memory for the helper thread");
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    if (pthread_create(&p->thread, NULL, helper_main, p) != 0) {
        pthread_cond_destroy(&p->wake);
        pthread_mutex_destroy(&p->lock);
        free(p);
        return tp_fail(err, TP_ERR_NOMEM, "cannot start the helper thread");
    }
    *out = p;
    return TP_OK;
}

static void wake_helper(tp_pool *p)
{
    if (!atomic_load(&p->sleeping))
        return;
    pthread_mutex_lock(&p->lock);
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
}

void tp_pool_free(tp_pool *p)
{
    if (!p)
        return;
    atomic_store(&p->stop, 1);
    pthread_mutex_lock(&p->lock);
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

int tp_pool_start(tp_pool *p, void (*fn)(void *), void *arg)
{
    if (atomic_exchange(&p->busy, 1))
        return 0;
    p->fn = fn;
    p->arg = arg;
    atomic_store(&p->claimed, 0);
    atomic_fetch_add(&p->posted, 1);
    wake_helper(p);
    return 1;
}

void tp_pool_finish(tp_pool *p)
{
    if (atomic_exchange(&p->claimed, 1) == 0) {
        /* Not started: the helper has no core right now (a busy machine),
         * and waiting for one would cost more than doing it here. */
        p->fn(p->arg);
        atomic_store(&p->busy, 0);
        return;
    }
    unsigned want = atomic_load(&p->posted);
    for (int i = 1; atomic_load(&p->done) != want; i++) {
        cpu_relax();
        if (i % 4096 == 0)
            sched_yield(); /* the helper may be waiting for a core */
    }
    atomic_store(&p->busy, 0);
}
