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
    d->views = TP_VIEW_ALL;
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
    d->cand = calloc(un, sizeof *d->cand);
    if (!d->logits || !d->p_base || !d->p || !d->kept || !d->cut_by || !d->stage_p ||
        !d->z || !d->ranked || !d->seen || !d->cand) {
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
    free(d->cand);
    memset(d, 0, sizeof *d);
}

/* p = softmax(z) over the kept ids cand[0..m) (in id order), 0 elsewhere.
 * Max-subtracted; the sum runs in id order, so the values are bit for bit
 * those of a pass over the whole vocabulary. */
static void softmax_cand(const double *z, const int *cand, int m, double *p)
{
    double zmax = -INFINITY, sum = 0.0;
    for (int j = 0; j < m; j++)
        if (z[cand[j]] > zmax)
            zmax = z[cand[j]];
    for (int j = 0; j < m; j++) {
        p[cand[j]] = exp(z[cand[j]] - zmax);
        sum += p[cand[j]];
    }
    for (int j = 0; j < m; j++)
        p[cand[j]] /= sum;
}

/* The same over a whole row, cut ids zeroed: what the views and p hold. */
static void softmax_row(const tp_dist *d, double *p)
{
    memset(p, 0, (size_t)d->n * sizeof *p);
    softmax_cand(d->z, d->cand, d->n_kept, p);
}

static void cut(tp_dist *d, int id, tp_stage stage)
{
    d->kept[id] = 0;
    d->cut_by[id] = (signed char)stage;
}

/* Drop the ids a stage cut from cand, keeping id order. */
static void compact(tp_dist *d)
{
    int m = 0;
    for (int j = 0; j < d->n_kept; j++)
        if (d->kept[d->cand[j]])
            d->cand[m++] = d->cand[j];
    d->n_kept = m;
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

/* Only kept logits are scaled: a cut token's logit is never read again.
 * z * (1 / T) is within an ulp of z / T, keeps equal logits equal and the
 * order unchanged; a division per token was a third of the whole chain's
 * time at a 32000-token vocabulary. */
static void apply_temperature(double T, tp_dist *d)
{
    if (T > 0.0) {
        double inv = 1.0 / T, *z = d->z;
        const int *cand = d->cand;
        if (d->n_kept == d->n) {
            for (int i = 0, n = d->n; i < n; i++)
                z[i] *= inv;
        } else {
            for (int j = 0, m = d->n_kept; j < m; j++)
                z[cand[j]] *= inv;
        }
        return;
    }
    int best = d->cand[0];
    for (int j = 1; j < d->n_kept; j++)
        if (d->z[d->cand[j]] > d->z[best])
            best = d->cand[j];
    for (int j = 0; j < d->n_kept; j++)
        if (d->cand[j] != best)
            cut(d, d->cand[j], TP_STAGE_TEMPERATURE);
    d->cand[0] = best;
    d->n_kept = 1;
}

/* The ranking order: key descending, lower id first on ties. A strict total
 * order (ids are distinct), so any selection by it has one answer. */
static int better(struct tp_ranked a, struct tp_ranked b)
{
    return a.key > b.key || (a.key == b.key && a.id < b.id);
}

static int by_key_desc(const void *a, const void *b)
{
    const struct tp_ranked *x = a, *y = b;
    if (x->key != y->key)
        return x->key > y->key ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

static void swap_ranked(struct tp_ranked *a, int i, int j)
{
    struct tp_ranked t = a[i];
    a[i] = a[j];
    a[j] = t;
}

/* Median of a[lo], a[mid], a[hi] moved to a[hi], to serve as the pivot. */
static void pivot_to_end(struct tp_ranked *a, int lo, int hi)
{
    int mid = lo + (hi - lo) / 2;
    if (better(a[mid], a[lo]))
        swap_ranked(a, mid, lo);
    if (better(a[hi], a[lo]))
        swap_ranked(a, hi, lo);
    if (better(a[mid], a[hi]))
        swap_ranked(a, mid, hi);
}

/* Rearrange a[0..m) so a[0..k) holds its k best (in no order), 0 < k < m.
 * Quickselect with a median-of-three pivot; after a depth budget it falls
 * back to sorting what is left, so the worst case stays O(m log m). */
static void select_best(struct tp_ranked *a, int m, int k)
{
    int lo = 0, hi = m - 1, budget = 8;
    for (int t = m; t > 1; t >>= 1)
        budget += 2;
    while (lo < hi) {
        if (--budget < 0) {
            qsort(a + lo, (size_t)(hi - lo + 1), sizeof *a, by_key_desc);
            return;
        }
        pivot_to_end(a, lo, hi);
        int store = lo;
        for (int i = lo; i < hi; i++)
            if (better(a[i], a[hi]))
                swap_ranked(a, i, store++);
        swap_ranked(a, store, hi);
        if (store == k - 1 || store == k)
            return;
        if (store < k - 1)
            lo = store + 1;
        else
            hi = store - 1;
    }
}

/* Cut every kept id ranked below the threshold entry t (by key[]) and
 * compact cand in the same pass. Branch-free, because which side of the
 * threshold a token falls on is unpredictable. */
static void cut_below(tp_dist *d, const double *key, struct tp_ranked t, tp_stage stage)
{
    /* Locals, because the byte stores below may alias anything in *d. */
    unsigned char *kept = d->kept;
    signed char *cut_by = d->cut_by;
    int *cand = d->cand;
    int n = d->n_kept, m = 0;
    for (int j = 0; j < n; j++) {
        int id = cand[j];
        int keep = (key[id] > t.key) | ((key[id] == t.key) & (id <= t.id));
        kept[id] = (unsigned char)keep;
        cut_by[id] = (signed char)(keep ? -1 : (int)stage);
        cand[m] = id;
        m += keep;
    }
    d->n_kept = m;
}

static int by_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Below this many survivors, marking them is cheaper than comparing every
 * kept token with the threshold. */
#define FEW_SURVIVORS 256

/* Keep exactly the ids w[0..k) of the kept set: cut everything, restore
 * the survivors, and rebuild cand from their ids sorted. */
static void keep_only(tp_dist *d, const struct tp_ranked *w, int k, tp_stage stage)
{
    unsigned char *kept = d->kept;
    signed char *cut_by = d->cut_by;
    int *cand = d->cand, n = d->n_kept;
    if (n == d->n) {
        memset(kept, 0, (size_t)n);
        memset(cut_by, (int)stage, (size_t)n);
    } else {
        for (int j = 0; j < n; j++) {
            kept[cand[j]] = 0;
            cut_by[cand[j]] = (signed char)stage;
        }
    }
    for (int j = 0; j < k; j++) {
        kept[w[j].id] = 1;
        cut_by[w[j].id] = -1;
        cand[j] = w[j].id;
    }
    qsort(cand, (size_t)k, sizeof *cand, by_int);
    d->n_kept = k;
}

static void sift_down(struct tp_ranked *h, int k, int i)
{
    for (;;) {
        int c = 2 * i + 1;
        if (c >= k)
            return;
        if (c + 1 < k && better(h[c], h[c + 1]))
            c++;
        if (!better(h[i], h[c]))
            return;
        swap_ranked(h, i, c);
        i = c;
    }
}

/* The k-th best kept logit, for small k: a heap of the k best so far, worst
 * at the root. Scanning in id order, a later equal key never beats the
 * root, so most tokens cost one comparison. */
static struct tp_ranked kth_by_heap(tp_dist *d, int k)
{
    struct tp_ranked *h = d->ranked;
    for (int j = 0; j < k; j++)
        h[j] = (struct tp_ranked){d->z[d->cand[j]], d->cand[j]};
    for (int i = k / 2 - 1; i >= 0; i--)
        sift_down(h, k, i);
    const double *z = d->z;
    const int *cand = d->cand;
    for (int j = k, m = d->n_kept; j < m; j++) {
        if (z[cand[j]] > h[0].key) {
            h[0] = (struct tp_ranked){z[cand[j]], cand[j]};
            sift_down(h, k, 0);
        }
    }
    return h[0];
}

/* Above this k the heap's log k per insertion loses to quickselect. */
#define TOP_K_HEAP_MAX 128

static struct tp_ranked kth_by_select(tp_dist *d, int k)
{
    struct tp_ranked *a = d->ranked;
    int m = d->n_kept;
    for (int j = 0; j < m; j++)
        a[j] = (struct tp_ranked){d->z[d->cand[j]], d->cand[j]};
    select_best(a, m, k);
    struct tp_ranked worst = a[0];
    for (int j = 1; j < k; j++)
        if (better(worst, a[j]))
            worst = a[j];
    return worst;
}

static void apply_top_k(int k, tp_dist *d)
{
    if (k <= 0 || k >= d->n_kept)
        return;
    if (k <= TOP_K_HEAP_MAX) {
        kth_by_heap(d, k);
        keep_only(d, d->ranked, k, TP_STAGE_TOP_K); /* the heap holds the k best */
        return;
    }
    cut_below(d, d->z, kth_by_select(d, k), TP_STAGE_TOP_K);
}

/* How many more entries the next chunk of top-p takes: at least double the
 * last, and at least the count the remaining mass needs, since no later
 * entry is larger than the last one seen. */
static int next_chunk(int chunk, double need, double last_p, int left)
{
    double want = last_p > 0.0 ? ceil(need / last_p) : (double)left;
    int c = chunk * 2;
    if (want > c)
        c = want < (double)left ? (int)want : left;
    return c < left ? c : left;
}

/* Rank of the crossing entry + 1: entries a[0..m) are ranked chunk by chunk,
 * each chunk selected out of the rest and then sorted, until the mass
 * reaches p. Only the surviving prefix (and one chunk past it) is sorted. */
static int top_p_count(struct tp_ranked *a, int m, double target)
{
    int lo = 0, r = 0, chunk = 16;
    double mass = 0.0;
    while (lo < m) {
        int hi = lo + (chunk < m - lo ? chunk : m - lo);
        if (hi < m)
            select_best(a + lo, m - lo, hi - lo);
        qsort(a + lo, (size_t)(hi - lo), sizeof *a, by_key_desc);
        while (r < hi && mass < target)
            mass += a[r++].key;
        if (mass >= target)
            break;
        chunk = next_chunk(chunk, target - mass, a[hi - 1].key, m - hi);
        lo = hi;
    }
    return r;
}

static void apply_top_p(double top_p, tp_dist *d, double *p)
{
    if (top_p >= 1.0)
        return;
    int m = d->n_kept;
    softmax_cand(d->z, d->cand, m, p);
    for (int j = 0; j < m; j++)
        d->ranked[j] = (struct tp_ranked){p[d->cand[j]], d->cand[j]};
    /* The tolerance keeps a token whose mass reaches p only up to rounding
     * (four tokens of 0.25 reach 0.5 after two of them). */
    int r = top_p_count(d->ranked, m, top_p - 1e-12);
    if (r == 0)
        r = 1;
    if (r < m && r <= FEW_SURVIVORS)
        keep_only(d, d->ranked, r, TP_STAGE_TOP_P); /* ranked[0..r) survive */
    else if (r < m)
        cut_below(d, p, d->ranked[r - 1], TP_STAGE_TOP_P);
}

static void apply_min_p(double min_p, tp_dist *d, double *p)
{
    if (min_p <= 0.0)
        return;
    softmax_cand(d->z, d->cand, d->n_kept, p);
    double pmax = 0.0;
    for (int j = 0; j < d->n_kept; j++)
        if (p[d->cand[j]] > pmax)
            pmax = p[d->cand[j]];
    for (int j = 0; j < d->n_kept; j++)
        if (p[d->cand[j]] < min_p * pmax)
            cut(d, d->cand[j], TP_STAGE_MIN_P);
    compact(d);
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

static void start_chain(const float *logits, tp_dist *d)
{
    int n = d->n, *cand = d->cand;
    double *z = d->z;
    memcpy(d->logits, logits, (size_t)n * sizeof *logits);
    for (int i = 0; i < n; i++) {
        z[i] = logits[i];
        cand[i] = i;
    }
    memset(d->kept, 1, (size_t)n);
    memset(d->cut_by, -1, (size_t)n);
    d->n_kept = n;
}

void tp_sampler_apply(const tp_sampler_config *cfg, const float *logits, const int *context,
                      int n_context, tp_dist *d)
{
    int n = d->n;
    start_chain(logits, d);
    if (d->views & TP_VIEW_BASE)
        softmax_cand(d->z, d->cand, n, d->p_base);
    d->n_stages = cfg->n_order;
    for (int s = 0; s < cfg->n_order; s++) {
        d->stages[s] = cfg->order[s];
        /* d->p doubles as scratch for the truncations; the snapshot below
         * is taken after the stage is done with it. */
        apply_stage(cfg, cfg->order[s], context, n_context, d, d->p);
        if (d->views & TP_VIEW_STAGES)
            softmax_row(d, d->stage_p + (size_t)s * n);
    }
    softmax_row(d, d->p);
    double h = 0.0;
    for (int j = 0; j < d->n_kept; j++) {
        double p = d->p[d->cand[j]];
        if (p > 0.0)
            h -= p * log2(p);
    }
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
