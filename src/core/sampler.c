/* sampler.c - the sampling chain (semantics in sampler.h and DESIGN.md). */
#include "tempest/sampler.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tp_ranked {
    double key;
    int id;
};

static const char *const STAGE_NAMES[TP_N_STAGES] = {
    "repeat_penalty", "temperature", "top_k", "top_p", "min_p",
};

static const tp_stage TEMP_FIRST[] = {TP_STAGE_REPEAT, TP_STAGE_TEMPERATURE, TP_STAGE_TOP_K,
                                      TP_STAGE_TOP_P, TP_STAGE_MIN_P};
static const tp_stage TRUNC_FIRST[] = {TP_STAGE_REPEAT, TP_STAGE_TOP_K, TP_STAGE_TOP_P,
                                       TP_STAGE_MIN_P, TP_STAGE_TEMPERATURE};

const char *tp_stage_name(tp_stage s)
{
    return s >= 0 && s < TP_N_STAGES ? STAGE_NAMES[s] : "?";
}

static void set_order(tp_sampler_config *cfg, const tp_stage *order)
{
    cfg->n_order = TP_N_STAGES;
    memcpy(cfg->order, order, sizeof cfg->order);
}

void tp_sampler_defaults(tp_sampler_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->temperature = 0.8;
    cfg->top_k = 0;
    cfg->top_p = 1.0;
    cfg->min_p = 0.0;
    cfg->repeat_penalty = 1.0;
    cfg->repeat_last_n = 64;
    set_order(cfg, TEMP_FIRST);
}

tp_status tp_sampler_validate(const tp_sampler_config *cfg, tp_error *err)
{
    if (!(cfg->temperature >= 0.0 && cfg->temperature <= TP_TEMPERATURE_MAX))
        return tp_fail(err, TP_ERR_USAGE, "temperature %g is out of range (0 to %g; 0 is "
                       "greedy)", cfg->temperature, TP_TEMPERATURE_MAX);
    if (cfg->top_k < 0)
        return tp_fail(err, TP_ERR_USAGE, "top-k %d is out of range (0 is off, or a "
                       "positive count)", cfg->top_k);
    if (!(cfg->top_p >= 0.0 && cfg->top_p <= 1.0))
        return tp_fail(err, TP_ERR_USAGE, "top-p %g is out of range (0 to 1; 1 is off)",
                       cfg->top_p);
    if (!(cfg->min_p >= 0.0 && cfg->min_p <= 1.0))
        return tp_fail(err, TP_ERR_USAGE, "min-p %g is out of range (0 to 1; 0 is off)",
                       cfg->min_p);
    if (!(cfg->repeat_penalty > 0.0 && cfg->repeat_penalty <= TP_REPEAT_PENALTY_MAX))
        return tp_fail(err, TP_ERR_USAGE, "repeat penalty %g is out of range (above 0, at "
                       "most %g; 1 is off)", cfg->repeat_penalty, TP_REPEAT_PENALTY_MAX);
    if (cfg->repeat_last_n < 0)
        return tp_fail(err, TP_ERR_USAGE, "repeat-last-n %d is out of range (0 or more)",
                       cfg->repeat_last_n);
    return TP_OK;
}

static int stage_from_name(const char *word, size_t len)
{
    static const struct { const char *name; tp_stage stage; } ALIASES[] = {
        {"temperature", TP_STAGE_TEMPERATURE}, {"temp", TP_STAGE_TEMPERATURE},
        {"top_k", TP_STAGE_TOP_K}, {"topk", TP_STAGE_TOP_K},
        {"top_p", TP_STAGE_TOP_P}, {"topp", TP_STAGE_TOP_P},
        {"min_p", TP_STAGE_MIN_P}, {"minp", TP_STAGE_MIN_P},
        {"repeat_penalty", TP_STAGE_REPEAT}, {"repeat", TP_STAGE_REPEAT},
    };
    char buf[32];
    if (len == 0 || len >= sizeof buf)
        return -1;
    for (size_t i = 0; i < len; i++)
        buf[i] = word[i] == '-' ? '_' : (char)tolower((unsigned char)word[i]);
    buf[len] = '\0';
    for (size_t i = 0; i < sizeof ALIASES / sizeof ALIASES[0]; i++)
        if (strcmp(ALIASES[i].name, buf) == 0)
            return (int)ALIASES[i].stage;
    return -1;
}

tp_status tp_sampler_parse_order(tp_sampler_config *cfg, const char *text, tp_error *err)
{
    if (strcmp(text, "temp-first") == 0 || strcmp(text, "temp_first") == 0) {
        set_order(cfg, TEMP_FIRST);
        return TP_OK;
    }
    if (strcmp(text, "trunc-first") == 0 || strcmp(text, "trunc_first") == 0) {
        set_order(cfg, TRUNC_FIRST);
        return TP_OK;
    }
    tp_stage order[TP_N_STAGES];
    int n = 0, seen[TP_N_STAGES] = {0};
    const char *p = text;
    while (1) {
        size_t len = strcspn(p, ",");
        while (len && isspace((unsigned char)*p))
            p++, len--;
        size_t trim = len;
        while (trim && isspace((unsigned char)p[trim - 1]))
            trim--;
        int s = stage_from_name(p, trim);
        if (s < 0)
            return tp_fail(err, TP_ERR_USAGE, "order: unknown stage '%.*s' (use temperature, "
                           "top_k, top_p, min_p, repeat_penalty)", (int)(trim > 40 ? 40 : trim), p);
        if (seen[s]++)
            return tp_fail(err, TP_ERR_USAGE, "order: stage '%s' appears twice",
                           STAGE_NAMES[s]);
        order[n++] = (tp_stage)s;
        if (!p[len])
            break;
        p += len + 1;
    }
    for (int s = TP_STAGE_TEMPERATURE; s < TP_N_STAGES; s++)
        if (!seen[s])
            return tp_fail(err, TP_ERR_USAGE, "order '%.80s' must name temperature, top_k, "
                           "top_p and min_p once each (missing %s)", text, STAGE_NAMES[s]);
    cfg->n_order = 0;
    if (!seen[TP_STAGE_REPEAT])
        cfg->order[cfg->n_order++] = TP_STAGE_REPEAT;
    for (int i = 0; i < n; i++)
        cfg->order[cfg->n_order++] = order[i];
    return TP_OK;
}

static int same_order(const tp_sampler_config *cfg, const tp_stage *order)
{
    return cfg->n_order == TP_N_STAGES &&
           memcmp(cfg->order, order, sizeof cfg->order) == 0;
}

int tp_sampler_is_temperature_first(const tp_sampler_config *cfg)
{
    for (int i = 0; i < cfg->n_order; i++) {
        if (cfg->order[i] == TP_STAGE_TEMPERATURE)
            return 1;
        if (cfg->order[i] != TP_STAGE_REPEAT)
            return 0;
    }
    return 1;
}

void tp_sampler_order_label(const tp_sampler_config *cfg, char *out, size_t cap)
{
    if (same_order(cfg, TEMP_FIRST)) {
        snprintf(out, cap, "temp-first");
        return;
    }
    if (same_order(cfg, TRUNC_FIRST)) {
        snprintf(out, cap, "trunc-first");
        return;
    }
    size_t w = 0;
    out[0] = '\0';
    for (int i = 0; i < cfg->n_order && w < cap; i++)
        w += (size_t)snprintf(out + w, cap - w, "%s%s", i ? "," : "",
                              STAGE_NAMES[cfg->order[i]]);
}

tp_status tp_dist_init(tp_dist *d, int n, tp_error *err)
{
    memset(d, 0, sizeof *d);
    d->n = n;
    size_t un = (size_t)(n > 0 ? n : 1);
    d->logits = calloc(un, sizeof *d->logits);
    d->p_base = calloc(un, sizeof *d->p_base);
    d->p = calloc(un, sizeof *d->p);
    d->kept = calloc(un, 1);
    d->cut_by = calloc(un, 1);
    d->stage_p = calloc(un * TP_N_STAGES, sizeof *d->stage_p);
    d->z = calloc(un, sizeof *d->z);
    d->ranked = calloc(un, sizeof *d->ranked);
    d->seen = calloc(un, 1);
    if (!d->logits || !d->p_base || !d->p || !d->kept || !d->cut_by || !d->stage_p ||
        !d->z || !d->ranked || !d->seen) {
        tp_dist_free(d);
        return tp_fail(err, TP_ERR_NOMEM, "out of memory for a %d-token distribution", n);
    }
    return TP_OK;
}

void tp_dist_free(tp_dist *d)
{
    free(d->logits);
    free(d->p_base);
    free(d->p);
    free(d->kept);
    free(d->cut_by);
    free(d->stage_p);
    free(d->z);
    free(d->ranked);
    free(d->seen);
    memset(d, 0, sizeof *d);
}

/* p = softmax(z) over the kept set (0 elsewhere), max-subtracted. */
static void softmax_kept(const double *z, const unsigned char *kept, int n, double *p)
{
    double zmax = -INFINITY, sum = 0.0;
    for (int i = 0; i < n; i++)
        if (kept[i] && z[i] > zmax)
            zmax = z[i];
    for (int i = 0; i < n; i++) {
        p[i] = kept[i] ? exp(z[i] - zmax) : 0.0;
        sum += p[i];
    }
    for (int i = 0; i < n; i++)
        p[i] /= sum;
}

static void cut(tp_dist *d, int id, tp_stage stage)
{
    if (d->kept[id]) {
        d->kept[id] = 0;
        d->cut_by[id] = (signed char)stage;
        d->n_kept--;
    }
}

static void apply_repeat(const tp_sampler_config *cfg, const int *ctx, int n_ctx, tp_dist *d)
{
    double r = cfg->repeat_penalty;
    if (r == 1.0 || cfg->repeat_last_n == 0)
        return;
    int start = n_ctx > cfg->repeat_last_n ? n_ctx - cfg->repeat_last_n : 0;
    memset(d->seen, 0, (size_t)d->n);
    for (int i = start; i < n_ctx; i++) {
        int t = ctx[i];
        if (t < 0 || t >= d->n || d->seen[t])
            continue;
        d->seen[t] = 1;
        d->z[t] = d->z[t] > 0 ? d->z[t] / r : d->z[t] * r;
    }
}

static void apply_temperature(double T, tp_dist *d)
{
    if (T > 0.0) {
        for (int i = 0; i < d->n; i++)
            d->z[i] /= T;
        return;
    }
    int best = -1;
    for (int i = 0; i < d->n; i++)
        if (d->kept[i] && (best < 0 || d->z[i] > d->z[best]))
            best = i;
    for (int i = 0; i < d->n; i++)
        if (i != best)
            cut(d, i, TP_STAGE_TEMPERATURE);
}

static int by_key_desc(const void *a, const void *b)
{
    const struct tp_ranked *x = a, *y = b;
    if (x->key != y->key)
        return x->key > y->key ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* Kept ids sorted by key descending (lower id first on ties); returns count. */
static int rank_kept(tp_dist *d, const double *key)
{
    int m = 0;
    for (int i = 0; i < d->n; i++)
        if (d->kept[i])
            d->ranked[m++] = (struct tp_ranked){key[i], i};
    qsort(d->ranked, (size_t)m, sizeof *d->ranked, by_key_desc);
    return m;
}

static void apply_top_k(int k, tp_dist *d)
{
    if (k <= 0 || k >= d->n_kept)
        return;
    int m = rank_kept(d, d->z);
    for (int r = k; r < m; r++)
        cut(d, d->ranked[r].id, TP_STAGE_TOP_K);
}

static void apply_top_p(double top_p, tp_dist *d, double *p)
{
    if (top_p >= 1.0)
        return;
    softmax_kept(d->z, d->kept, d->n, p);
    int m = rank_kept(d, p);
    double mass = 0.0;
    int r = 0;
    /* The tolerance keeps a token whose mass reaches p only up to rounding
     * (four tokens of 0.25 reach 0.5 after two of them). */
    while (r < m && mass < top_p - 1e-12)
        mass += p[d->ranked[r++].id];
    if (r == 0)
        r = 1;
    for (; r < m; r++)
        cut(d, d->ranked[r].id, TP_STAGE_TOP_P);
}

static void apply_min_p(double min_p, tp_dist *d, double *p)
{
    if (min_p <= 0.0)
        return;
    softmax_kept(d->z, d->kept, d->n, p);
    double pmax = 0.0;
    for (int i = 0; i < d->n; i++)
        if (p[i] > pmax)
            pmax = p[i];
    for (int i = 0; i < d->n; i++)
        if (d->kept[i] && p[i] < min_p * pmax)
            cut(d, i, TP_STAGE_MIN_P);
}

static void apply_stage(const tp_sampler_config *cfg, tp_stage s, const int *ctx,
                        int n_ctx, tp_dist *d, double *scratch)
{
    switch (s) {
    case TP_STAGE_REPEAT: apply_repeat(cfg, ctx, n_ctx, d); break;
    case TP_STAGE_TEMPERATURE: apply_temperature(cfg->temperature, d); break;
    case TP_STAGE_TOP_K: apply_top_k(cfg->top_k, d); break;
    case TP_STAGE_TOP_P: apply_top_p(cfg->top_p, d, scratch); break;
    case TP_STAGE_MIN_P: apply_min_p(cfg->min_p, d, scratch); break;
    default: break;
    }
}

void tp_sampler_apply(const tp_sampler_config *cfg, const float *logits, const int *context,
                      int n_context, tp_dist *d)
{
    int n = d->n;
    for (int i = 0; i < n; i++) {
        d->logits[i] = logits[i];
        d->z[i] = logits[i];
        d->kept[i] = 1;
        d->cut_by[i] = -1;
    }
    d->n_kept = n;
    softmax_kept(d->z, d->kept, n, d->p_base);
    d->n_stages = cfg->n_order;
    for (int s = 0; s < cfg->n_order; s++) {
        d->stages[s] = cfg->order[s];
        /* d->p doubles as scratch for the truncations; the snapshot below
         * is taken after the stage is done with it. */
        apply_stage(cfg, cfg->order[s], context, n_context, d, d->p);
        softmax_kept(d->z, d->kept, n, d->stage_p + (size_t)s * n);
    }
    softmax_kept(d->z, d->kept, n, d->p);
    double h = 0.0;
    for (int i = 0; i < n; i++)
        if (d->p[i] > 0.0)
            h -= d->p[i] * log2(d->p[i]);
    d->entropy_bits = h > 0.0 ? h : 0.0;
}

int tp_sampler_draw(const tp_dist *d, tp_rng *rng)
{
    double u = tp_rng_uniform(rng), acc = 0.0;
    int last = 0;
    for (int i = 0; i < d->n; i++) {
        if (!d->kept[i])
            continue;
        acc += d->p[i];
        last = i;
        if (u < acc)
            return i;
    }
    return last; /* u fell in the rounding gap above the final sum */
}

void tp_dist_order(const tp_dist *d, int by_final, int *order)
{
    struct tp_ranked *r = d->ranked;
    const double *key = by_final ? d->p : d->p_base;
    for (int i = 0; i < d->n; i++)
        r[i] = (struct tp_ranked){key[i], i};
    qsort(r, (size_t)d->n, sizeof *r, by_key_desc);
    for (int i = 0; i < d->n; i++)
        order[i] = r[i].id;
}

int tp_dist_rank(const tp_dist *d, int id)
{
    int rank = 0;
    for (int i = 0; i < d->n; i++)
        if (d->p_base[i] > d->p_base[id] || (d->p_base[i] == d->p_base[id] && i < id))
            rank++;
    return rank;
}
