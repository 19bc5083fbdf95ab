/* sweep.c - run sweep cells on a few threads (see sweep.h). */
#include "tempest/sweep.h"
#include "tempest/workers.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const tp_metric_info METRICS[TP_N_METRICS] = {
    [TP_M_ENTROPY] = {"entropy_bits", "H bits"},
    [TP_M_SELF_PPL] = {"self_perplexity", "self-ppl"},
    [TP_M_DISTINCT1_W] = {"distinct1_words", "d1 w"},
    [TP_M_DISTINCT2_W] = {"distinct2_words", "d2 w"},
    [TP_M_DISTINCT3_W] = {"distinct3_words", "d3 w"},
    [TP_M_DISTINCT1_C] = {"distinct1_chars", "d1 c"},
    [TP_M_DISTINCT2_C] = {"distinct2_chars", "d2 c"},
    [TP_M_DISTINCT3_C] = {"distinct3_chars", "d3 c"},
    [TP_M_REPETITION] = {"repetition", "rep4"},
    [TP_M_NOVELTY] = {"novelty", "novel4"},
    [TP_M_VALIDITY] = {"word_validity", "valid"},
};

const tp_metric_info *tp_metric_get(tp_metric m)
{
    return &METRICS[m];
}

int tp_sweep_n_cells(const tp_sweep_spec *spec)
{
    return spec->n_strategies * spec->n_temperatures * spec->n_seeds;
}

/* The cell's metrics (and text when keep_text) from its generation g,
 * whose tokens it frees. */
static tp_status score_cell(const tp_sweep_spec *spec, tp_sweep_cell *cell, int keep_text,
                            tp_generation *g, tp_error *err)
{
    int prev = spec->n_prompt ? spec->prompt[spec->n_prompt - 1] : -1;
    char *text = tp_vocab_join(spec->model->vocab, prev, g->tokens, g->n);
    free(g->tokens);
    g->tokens = NULL;
    if (!text)
        return tp_fail(err, TP_ERR_NOMEM, "out of memory for a sample");
    tp_text_stats ts;
    tp_status rc = tp_text_stats_compute(text, spec->reference, &ts, err);
    if (!rc) {
        double *m = cell->metric;
        m[TP_M_ENTROPY] = g->entropy_bits;
        m[TP_M_SELF_PPL] = exp(g->self_nll);
        for (int n = 0; n < 3; n++) {
            m[TP_M_DISTINCT1_W + n] = ts.distinct_words[n];
            m[TP_M_DISTINCT1_C + n] = ts.distinct_chars[n];
        }
        m[TP_M_REPETITION] = ts.repetition;
        m[TP_M_NOVELTY] = ts.novelty;
        m[TP_M_VALIDITY] = ts.word_validity;
    }
    if (keep_text && !rc)
        cell->text = text;
    else
        free(text);
    return rc;
}

static void cell_config(const tp_sweep_spec *spec, const tp_sweep_cell *cell,
                        tp_sampler_config *cfg)
{
    tp_strategy_config(&spec->strategies[cell->strategy],
                       spec->temperatures[cell->temperature], &spec->base, cfg);
}

static tp_status run_cell(const tp_sweep_spec *spec, tp_sweep_cell *cell, int keep_text,
                          tp_error *err)
{
    const tp_strategy *st = &spec->strategies[cell->strategy];
    tp_sampler_config cfg;
    cell_config(spec, cell, &cfg);
    tp_generation g;
    tp_status rc = tp_decode(spec->model, spec->prompt, spec->n_prompt, &cfg, st->beam,
                             st->sampled_beam, cell->seed, spec->length, &g, err);
    return rc ? rc : score_cell(spec, cell, keep_text, &g, err);
}

/* Cells [0, n) all sampled (no beam), stepped together: each gets what
 * run_cell would give it (tp_decode_batch's promise). */
static tp_status run_sampled_cells(const tp_sweep_spec *spec, tp_sweep_cell *cells, int n,
                                   int keep_text, tp_error *err)
{
    tp_sampler_config cfgs[TP_SWEEP_BATCH] = {0}; /* n >= 1 are set below */
    uint64_t seeds[TP_SWEEP_BATCH] = {0};
    tp_generation g[TP_SWEEP_BATCH];
    for (int i = 0; i < n; i++) {
        cell_config(spec, &cells[i], &cfgs[i]);
        seeds[i] = cells[i].seed;
    }
    tp_status rc = tp_decode_batch(spec->model, spec->prompt, spec->n_prompt, cfgs, seeds, n,
                                   spec->length, g, err);
    for (int i = 0; i < n; i++) {
        if (!rc)
            rc = score_cell(spec, &cells[i], keep_text, &g[i], err);
        else
            free(g[i].tokens);
    }
    return rc;
}

/* What a worker takes at a time: one beam cell, or up to TP_SWEEP_BATCH
 * sampled cells of one strategy, which are contiguous in the layout. */
struct item {
    int first, n;
};

struct pool {
    const tp_sweep_spec *spec;
    tp_sweep_cell *cells;
    struct item *items;
    int n, n_items, next, done, keep_text;
    tp_status rc;
    tp_error err;
    tp_sweep_progress_fn progress;
    void *ctx;
    pthread_mutex_t lock;
};

static tp_status run_item(const struct pool *p, const struct item *it, tp_error *err)
{
    tp_sweep_cell *cells = p->cells + it->first;
    if (!p->spec->strategies[cells->strategy].beam)
        return run_sampled_cells(p->spec, cells, it->n, p->keep_text, err);
    return run_cell(p->spec, cells, p->keep_text, err);
}

static void *worker(void *arg)
{
    struct pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        if (!p->rc && p->spec->cancel && *p->spec->cancel) {
            p->rc = TP_ERR_USAGE;
            tp_fail(&p->err, TP_ERR_USAGE, "sweep cancelled");
        }
        int i = p->rc ? p->n_items : p->next++;
        pthread_mutex_unlock(&p->lock);
        if (i >= p->n_items)
            return NULL;
        tp_error err = {0};
        tp_status rc = run_item(p, &p->items[i], &err);
        pthread_mutex_lock(&p->lock);
        if (rc && !p->rc) {
            p->rc = rc;
            p->err = err;
        }
        p->done += p->items[i].n;
        if (p->progress && !rc)
            p->progress(p->ctx, p->done, p->n);
        pthread_mutex_unlock(&p->lock);
    }
}

/* A strategy's sampled cells in batches of equal size, at most
 * TP_SWEEP_BATCH each; a beam strategy's cells one by one. Returns the
 * number of items written to items (room for every cell). */
static int plan_items(const tp_sweep_spec *spec, struct item *items)
{
    int per = spec->n_temperatures * spec->n_seeds, n = 0;
    for (int s = 0; s < spec->n_strategies; s++) {
        int first = s * per;
        if (spec->strategies[s].beam) {
            for (int i = 0; i < per; i++)
                items[n++] = (struct item){first + i, 1};
            continue;
        }
        int batches = (per + TP_SWEEP_BATCH - 1) / TP_SWEEP_BATCH;
        for (int b = 0; b < batches; b++) {
            int lo = (int)((long)per * b / batches), hi = (int)((long)per * (b + 1) / batches);
            items[n++] = (struct item){first + lo, hi - lo};
        }
    }
    return n;
}

static void lay_out_cells(const tp_sweep_spec *spec, tp_sweep_cell *cells)
{
    int i = 0;
    for (int s = 0; s < spec->n_strategies; s++)
        for (int t = 0; t < spec->n_temperatures; t++)
            for (int k = 0; k < spec->n_seeds; k++, i++) {
                memset(&cells[i], 0, sizeof cells[i]);
                cells[i].strategy = s;
                cells[i].temperature = t;
                cells[i].seed = spec->seed0 + (uint64_t)k;
            }
}

tp_status tp_sweep_run(const tp_sweep_spec *spec, tp_sweep_cell *cells, int keep_text,
                       tp_sweep_progress_fn progress, void *ctx, tp_error *err)
{
    struct pool p = {.spec = spec, .cells = cells, .n = tp_sweep_n_cells(spec),
                     .keep_text = keep_text, .progress = progress, .ctx = ctx};
    lay_out_cells(spec, cells);
    p.items = malloc((size_t)(p.n > 0 ? p.n : 1) * sizeof *p.items);
    if (!p.items)
        return tp_fail(err, TP_ERR_NOMEM, "out of memory for %d sweep cells", p.n);
    p.n_items = plan_items(spec, p.items);
    pthread_mutex_init(&p.lock, NULL);
    tp_run_workers(worker, &p, spec->jobs);
    pthread_mutex_destroy(&p.lock);
    free(p.items);
    if (p.rc) {
        if (err)
            *err = p.err;
        tp_sweep_cells_free(cells, p.n);
    }
    return p.rc;
}

void tp_sweep_cells_free(tp_sweep_cell *cells, int n)
{
    for (int i = 0; i < n; i++) {
        free(cells[i].text);
        cells[i].text = NULL;
    }
}

void tp_sweep_summary(const tp_sweep_spec *spec, const tp_sweep_cell *cells, int strategy,
                      int temperature, double mean[TP_N_METRICS], double sd[TP_N_METRICS])
{
    int k = spec->n_seeds;
    const tp_sweep_cell *c = cells + ((size_t)strategy * spec->n_temperatures + temperature) * k;
    for (int m = 0; m < TP_N_METRICS; m++) {
        double sum = 0.0, sq = 0.0;
        for (int i = 0; i < k; i++)
            sum += c[i].metric[m];
        mean[m] = sum / k;
        for (int i = 0; i < k; i++)
            sq += (c[i].metric[m] - mean[m]) * (c[i].metric[m] - mean[m]);
        sd[m] = k > 1 ? sqrt(sq / (k - 1)) : 0.0;
    }
}

tp_status tp_parse_temperatures(const char *text, size_t len, double *out, int max, int *n,
                                tp_error *err)
{
    const char *p = text, *end = text + len;
    *n = 0;
    while (p < end) {
        if (*n == max)
            return tp_fail(err, TP_ERR_USAGE, "at most %d temperatures", max);
        char *stop;
        errno = 0;
        double t = strtod(p, &stop);
        if (stop == p || stop > end || (stop < end && *stop != ',') || !isfinite(t) ||
            t < 0 || t > TP_TEMPERATURE_MAX)
            return tp_fail(err, TP_ERR_USAGE, "'%.*s' is not a list of temperatures from 0 "
                           "to %g", (int)(len > 60 ? 60 : len), text, TP_TEMPERATURE_MAX);
        if (*n > 0 && t <= out[*n - 1])
            return tp_fail(err, TP_ERR_USAGE, "temperatures must increase ('%.*s')",
                           (int)(len > 60 ? 60 : len), text);
        out[(*n)++] = t;
        p = stop + (stop < end);
    }
    return *n ? TP_OK : tp_fail(err, TP_ERR_USAGE, "no temperatures given");
}

tp_status tp_parse_strategies(const char *text, tp_strategy *out, int max, int *n,
                              tp_error *err)
{
    char buf[1024];
    if (strlen(text) >= sizeof buf)
        return tp_fail(err, TP_ERR_USAGE, "the strategy list is too long");
    strcpy(buf, text);
    *n = 0;
    for (char *save, *tok = strtok_r(buf, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
        if (*n == max)
            return tp_fail(err, TP_ERR_USAGE, "at most %d strategies", max);
        tp_status rc = tp_strategy_parse(tok, &out[(*n)++], err);
        if (rc)
            return rc;
    }
    return *n ? TP_OK : tp_fail(err, TP_ERR_USAGE, "no strategies given");
}

tp_status tp_sweep_parse_request(const char *args, tp_sweep_request *out, tp_error *err)
{
    memset(out, 0, sizeof *out);
    tp_status rc = tp_parse_temperatures("0.2,0.5,0.8,1.1,1.4", 19, out->temperatures,
                                         TP_SWEEP_REQ_TEMPS, &out->n_temperatures, err);
    if (!rc)
        rc = tp_parse_strategies("sample;top_p=0.9", out->strategies, TP_SWEEP_REQ_STRATEGIES,
                                 &out->n_strategies, err);
    while (!rc && isspace((unsigned char)*args))
        args++;
    size_t first = strcspn(args, " \t");
    /* A first word that starts like a number is the temperature list. */
    if (!rc && first && (isdigit((unsigned char)args[0]) || args[0] == '.')) {
        rc = tp_parse_temperatures(args, first, out->temperatures, TP_SWEEP_REQ_TEMPS,
                                   &out->n_temperatures, err);
        args += first;
        while (isspace((unsigned char)*args))
            args++;
    }
    if (!rc && *args)
        rc = tp_parse_strategies(args, out->strategies, TP_SWEEP_REQ_STRATEGIES,
                                 &out->n_strategies, err);
    if (rc)
        tp_error_prefix(err, "sweep");
    return rc;
}
