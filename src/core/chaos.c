/* chaos.c - first divergence of T and T + eps over many seeds (chaos.h). */
#include "tempest/chaos.h"
#include "tempest/workers.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* What one worker needs for a batch of TP_CHAOS_BATCH seeds. */
typedef struct chaos_batch {
    const tp_chaos_spec *spec;
    tp_sampler_config cfg_a, cfg_b;
    tp_state *states[TP_CHAOS_BATCH];
    tp_rng rng[TP_CHAOS_BATCH];
    int *context;     /* [batch][n_prompt + length] */
    float *logits;    /* [batch][V]: each seed's next-token logits */
    float *stepped;   /* [batch][V]: what the batched step writes */
    tp_dist da, db;
} chaos_batch;

static void batch_free(chaos_batch *b)
{
    for (int i = 0; i < TP_CHAOS_BATCH; i++)
        tp_state_free(b->states[i]);
    free(b->context);
    free(b->logits);
    free(b->stepped);
    tp_dist_free(&b->da);
    tp_dist_free(&b->db);
}

static tp_status batch_init(chaos_batch *b, const tp_chaos_spec *spec, tp_error *err)
{
    memset(b, 0, sizeof *b);
    b->spec = spec;
    b->cfg_a = b->cfg_b = spec->base;
    b->cfg_a.temperature = spec->temperature;
    b->cfg_b.temperature = spec->temperature + spec->epsilon;
    size_t V = (size_t)spec->model->n_vocab;
    size_t ctx = (size_t)spec->n_prompt + (size_t)spec->length;
    b->context = malloc(TP_CHAOS_BATCH * ctx * sizeof *b->context);
    b->logits = malloc(TP_CHAOS_BATCH * V * sizeof *b->logits);
    b->stepped = malloc(TP_CHAOS_BATCH * V * sizeof *b->stepped);
    int ok = b->context && b->logits && b->stepped;
    for (int i = 0; i < TP_CHAOS_BATCH && ok; i++)
        ok = (b->states[i] = tp_state_new(spec->model)) != NULL;
    if (!ok) {
        batch_free(b);
        return tp_fail(err, TP_ERR_NOMEM, "out of memory for a batch of seeds");
    }
    tp_status rc = tp_dist_init(&b->da, (int)V, err);
    if (!rc)
        rc = tp_dist_init(&b->db, (int)V, err);
    if (rc) {
        batch_free(b);
        return rc;
    }
    b->da.views = b->db.views = 0; /* tokens only: no views to fill */
    return TP_OK;
}

/* One step of seed i: 1 when its lanes part here. */
static int lanes_part(chaos_batch *b, int i, int n_context, int *token)
{
    const tp_chaos_spec *spec = b->spec;
    size_t V = (size_t)spec->model->n_vocab;
    const int *ctx = b->context + (size_t)i * ((size_t)spec->n_prompt + (size_t)spec->length);
    const float *logits = b->logits + (size_t)i * V;
    tp_sampler_apply(&b->cfg_a, logits, ctx, n_context, &b->da);
    tp_sampler_apply(&b->cfg_b, logits, ctx, n_context, &b->db);
    double u = tp_rng_uniform(&b->rng[i]);
    *token = tp_sampler_pick(&b->da, u, NULL, NULL);
    return tp_sampler_pick(&b->db, u, NULL, NULL) != *token;
}

/* Seeds first .. first + n - 1 from the primed state; results to steps. */
static void run_batch(chaos_batch *b, const tp_state *primed, const float *primed_logits,
                      int first, int n, int *steps)
{
    const tp_chaos_spec *spec = b->spec;
    size_t V = (size_t)spec->model->n_vocab;
    size_t ctx_len = (size_t)spec->n_prompt + (size_t)spec->length;
    int active[TP_CHAOS_BATCH], tokens[TP_CHAOS_BATCH], n_active = 0;
    tp_state *live[TP_CHAOS_BATCH];
    for (int i = 0; i < n; i++) {
        tp_state_copy(b->states[i], primed);
        memcpy(b->logits + (size_t)i * V, primed_logits, V * sizeof *primed_logits);
        memcpy(b->context + (size_t)i * ctx_len, spec->prompt,
               (size_t)spec->n_prompt * sizeof *spec->prompt);
        tp_rng_seed(&b->rng[i], spec->seed0 + (uint64_t)(first + i));
        steps[first + i] = -1;
        active[n_active++] = i;
    }
    for (int t = 0; t < spec->length && n_active > 0; t++) {
        int still = 0;
        for (int k = 0; k < n_active; k++) {
            int i = active[k], tok;
            if (lanes_part(b, i, spec->n_prompt + t, &tok)) {
                steps[first + i] = t;
                continue;
            }
            b->context[(size_t)i * ctx_len + (size_t)spec->n_prompt + (size_t)t] = tok;
            tokens[still] = tok;
            live[still] = b->states[i];
            active[still++] = i;
        }
        n_active = still;
        if (t + 1 == spec->length || n_active == 0)
            break;
        tp_model_step_batch(spec->model, live, tokens, n_active, b->stepped);
        for (int k = 0; k < n_active; k++)
            memcpy(b->logits + (size_t)active[k] * V, b->stepped + (size_t)k * V,
                   V * sizeof *b->stepped);
    }
}

typedef struct chaos_pool {
    const tp_chaos_spec *spec;
    const tp_state *primed;
    const float *primed_logits;
    int *steps;
    int next_batch, n_batches;
    tp_status rc;
    tp_error err;
    pthread_mutex_t lock;
} chaos_pool;

static void *worker(void *arg)
{
    chaos_pool *p = arg;
    chaos_batch b;
    tp_error err = {0};
    tp_status rc = batch_init(&b, p->spec, &err);
    for (;;) {
        pthread_mutex_lock(&p->lock);
        if (rc && !p->rc) {
            p->rc = rc;
            p->err = err;
        }
        int k = p->rc ? p->n_batches : p->next_batch++;
        pthread_mutex_unlock(&p->lock);
        if (k >= p->n_batches)
            break;
        int first = k * TP_CHAOS_BATCH, left = p->spec->n_seeds - first;
        run_batch(&b, p->primed, p->primed_logits, first,
                  left < TP_CHAOS_BATCH ? left : TP_CHAOS_BATCH, p->steps);
    }
    if (!rc)
        batch_free(&b);
    return NULL;
}

static tp_status check_spec(const tp_chaos_spec *spec, tp_error *err)
{
    if (spec->n_seeds < 1 || spec->length < 1)
        return tp_fail(err, TP_ERR_USAGE, "chaos needs at least one seed and one step");
    if (!(spec->epsilon > 0) || spec->temperature < 0 ||
        spec->temperature + spec->epsilon > TP_TEMPERATURE_MAX)
        return tp_fail(err, TP_ERR_USAGE, "chaos: T = %g and T + epsilon = %g must lie in "
                       "0 to %g with epsilon above 0", spec->temperature,
                       spec->temperature + spec->epsilon, TP_TEMPERATURE_MAX);
    tp_sampler_config cfg = spec->base;
    cfg.temperature = spec->temperature;
    return tp_sampler_validate(&cfg, err);
}

tp_status tp_chaos_run(const tp_chaos_spec *spec, int *steps, tp_error *err)
{
    tp_status rc = check_spec(spec, err);
    if (rc)
        return rc;
    tp_state *primed = tp_state_new(spec->model);
    float *logits = malloc((size_t)spec->model->n_vocab * sizeof *logits);
    if (!primed || !logits) {
        tp_state_free(primed);
        free(logits);
        return tp_fail(err, TP_ERR_NOMEM, "out of memory for chaos");
    }
    /* Every seed starts from the same prompt: read it once. */
    tp_model_prime(spec->model, primed, spec->prompt, spec->n_prompt, logits);
    chaos_pool p = {.spec = spec, .primed = primed, .primed_logits = logits, .steps = steps,
                    .n_batches = (spec->n_seeds + TP_CHAOS_BATCH - 1) / TP_CHAOS_BATCH};
    pthread_mutex_init(&p.lock, NULL);
    tp_run_workers(worker, &p, spec->jobs < p.n_batches ? spec->jobs : p.n_batches);
    pthread_mutex_destroy(&p.lock);
    tp_state_free(primed);
    free(logits);
    if (p.rc && err)
        *err = p.err;
    return p.rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double quantile(const double *sorted, int n, double q)
{
    double h = q * (n - 1);
    int f = (int)floor(h);
    if (f + 1 >= n)
        return sorted[n - 1];
    return sorted[f] + (h - f) * (sorted[f + 1] - sorted[f]);
}

void tp_chaos_stats_compute(const int *steps, int n, int length, tp_chaos_stats *out)
{
    *out = (tp_chaos_stats){.n = n};
    double *v = n > 0 ? malloc((size_t)n * sizeof *v) : NULL;
    if (!v) {
        out->min = out->q1 = out->median = out->q3 = out->max = out->mean = NAN;
        return;
    }
    double sum = 0;
    for (int i = 0; i < n; i++) {
        out->n_censored += steps[i] < 0;
        v[i] = steps[i] < 0 ? length : steps[i];
        sum += v[i];
    }
    out->n_split = n - out->n_censored;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    out->min = v[0];
    out->q1 = quantile(v, n, 0.25);
    out->median = quantile(v, n, 0.5);
    out->q3 = quantile(v, n, 0.75);
    out->max = v[n - 1];
    out->mean = sum / n;
    free(v);
}

void tp_chaos_histogram(const int *steps, int n, int length, int n_bins, int *counts)
{
    memset(counts, 0, (size_t)n_bins * sizeof *counts);
    if (n_bins < 1 || length < 1)
        return;
    for (int i = 0; i < n; i++) {
        if (steps[i] < 0)
            continue;
        long bin = (long)steps[i] * n_bins / length;
        counts[bin >= n_bins ? n_bins - 1 : bin]++;
    }
}
