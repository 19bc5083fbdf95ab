/* sampler.c - the sampling chain (semantics in sampler.h and DESIGN.md). */
#include "tempest/sampler.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

struct tp_ranked {
    double key;
    int id;
};

/* Below this many entries an insertion sort beats qsort's calls through a
 * function pointer (and glibc's buffer allocation). */
#define SMALL_SORT 48

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

int tp_sampler_config_equal(const tp_sampler_config *a, const tp_sampler_config *b)
{
    return a->temperature == b->temperature && a->top_k == b->top_k && a->top_p == b->top_p &&
           a->min_p == b->min_p && a->repeat_penalty == b->repeat_penalty &&
           a->repeat_last_n == b->repeat_last_n && a->n_order == b->n_order &&
           memcmp(a->order, b->order, (size_t)a->n_order * sizeof a->order[0]) == 0;
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
    d->top_k_hint = NAN;
    d->top_k_wander = 0.1;
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
    d->e = calloc(un, sizeof *d->e);
    d->q = calloc(un, sizeof *d->q);
    d->live = calloc(un, sizeof *d->live);
    if (!d->logits || !d->p_base || !d->p || !d->kept || !d->cut_by || !d->stage_p ||
        !d->z || !d->ranked || !d->seen || !d->cand || !d->e || !d->q || !d->live) {
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
    free(d->e);
    free(d->q);
    free(d->live);
    memset(d, 0, sizeof *d);
}

/* e[id] = exp(z[id] - zmax) for the kept ids. Every cut keeps the largest
 * logit, so while z is unchanged (e_ok) the maximum and hence each exp() is
 * the same: top-p, min-p and the final softmax after a truncation reuse
 * them instead of calling exp() again, bit for bit the same values. */
static void kept_exps(tp_dist *d)
{
    if (d->e_ok)
        return;
    const double *z = d->z;
    const int *cand = d->cand;
    int m = d->n_kept;
    double zmax = -INFINITY;
    for (int j = 0; j < m; j++)
        if (z[cand[j]] > zmax)
            zmax = z[cand[j]];
    for (int j = 0; j < m; j++)
        d->e[cand[j]] = exp(z[cand[j]] - zmax);
    d->e_ok = 1;
}

/* p = softmax(z) over the kept ids (in id order), other entries untouched.
 * Max-subtracted; the sum runs in id order, so the values are bit for bit
 * those of a pass over the whole vocabulary. */
static void kept_probs(tp_dist *d, double *p)
{
    kept_exps(d);
    const double *e = d->e;
    const int *cand = d->cand;
    int m = d->n_kept;
    double sum = 0.0;
    for (int j = 0; j < m; j++)
        sum += e[cand[j]];
    for (int j = 0; j < m; j++)
        p[cand[j]] = e[cand[j]] / sum;
}

/* The same over a whole row, cut ids zeroed: what the views hold. */
static void softmax_row(tp_dist *d, double *p)
{
    memset(p, 0, (size_t)d->n * sizeof *p);
    kept_probs(d, p);
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
    d->e_ok = 0;
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
        d->e_ok = 0;
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

/* better() is a strict total order, so any sort gives the same result. */
static void sort_ranked(struct tp_ranked *a, int m)
{
    if (m > SMALL_SORT) {
        qsort(a, (size_t)m, sizeof *a, by_key_desc);
        return;
    }
    for (int i = 1; i < m; i++) {
        struct tp_ranked v = a[i];
        int j = i;
        for (; j > 0 && better(v, a[j - 1]); j--)
            a[j] = a[j - 1];
        a[j] = v;
    }
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

static void sort_ids(int *a, int m)
{
    if (m > SMALL_SORT) {
        qsort(a, (size_t)m, sizeof *a, by_int);
        return;
    }
    for (int i = 1; i < m; i++) {
        int v = a[i], j = i;
        for (; j > 0 && a[j - 1] > v; j--)
            a[j] = a[j - 1];
        a[j] = v;
    }
}

/* Below this many survivors, marking them is cheaper than comparing every
 * kept token with the threshold. */
#define FEW_SURVIVORS 256

/* Keep exactly the ids w[0..k) of the kept set: cut everything, restore
 * the survivors, and rebuild cand in id order. From the whole vocabulary
 * the survivors' ids are sorted; from a subset, cand (already in id order)
 * is compacted by the marks, which costs less than sorting them. */
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
    }
    if (n == d->n) {
        for (int j = 0; j < k; j++)
            cand[j] = w[j].id;
        sort_ids(cand, k);
    } else {
        int m = 0;
        for (int j = 0; j < n; j++) {
            cand[m] = cand[j];
            m += kept[cand[j]];
        }
    }
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
        sort_ranked(a + lo, hi - lo);
        while (r < hi && mass < target)
            mass += a[r++].key;
        if (mass >= target)
            break;
        chunk = next_chunk(chunk, target - mass, a[hi - 1].key, m - hi);
        lo = hi;
    }
    return r;
}

static void apply_top_p(double top_p, tp_dist *d)
{
    if (top_p >= 1.0)
        return;
    int m = d->n_kept;
    const double *p = d->q;
    kept_probs(d, d->q);
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

static void apply_min_p(double min_p, tp_dist *d)
{
    if (min_p <= 0.0)
        return;
    const double *p = d->q;
    kept_probs(d, d->q);
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
                        int n_ctx, tp_dist *d)
{
    switch (s) {
    case TP_STAGE_REPEAT: apply_repeat(cfg, ctx, n_ctx, d); break;
    case TP_STAGE_TEMPERATURE: apply_temperature(cfg->temperature, d); break;
    case TP_STAGE_TOP_K: apply_top_k(cfg->top_k, d); break;
    case TP_STAGE_TOP_P: apply_top_p(cfg->top_p, d); break;
    case TP_STAGE_MIN_P: apply_min_p(cfg->min_p, d); break;
    default: break;
    }
}

/* Every token kept, z = logits * scale: the chain's state before any cut.
 * scale is 1 or the 1 / T a temperature stage folded in, so z holds what
 * applying the stages one by one would have left. */
static void start_chain(const float *logits, double scale, tp_dist *d)
{
    int n = d->n, *cand = d->cand;
    double *z = d->z;
    for (int i = 0; i < n; i++) {
        z[i] = (double)logits[i] * scale;
        cand[i] = i;
    }
    memset(d->kept, 1, (size_t)n);
    memset(d->cut_by, -1, (size_t)n);
    d->n_kept = n;
}

/* The first cut made straight from the caller's logits: ids[0..k) survive
 * (in id order when sorted is set), every other token is cut by stage.
 * Only survivors get a z entry, since a cut token's logit is never read
 * again. */
static void keep_from_logits(tp_dist *d, const float *logits, double scale, const int *ids,
                             int k, int sorted, tp_stage stage)
{
    int n = d->n, *cand = d->cand;
    unsigned char *kept = d->kept;
    memset(kept, 0, (size_t)n);
    memset(d->cut_by, (int)stage, (size_t)n);
    for (int j = 0; j < k; j++) {
        kept[ids[j]] = 1;
        d->cut_by[ids[j]] = -1;
        d->z[ids[j]] = (double)logits[ids[j]] * scale;
    }
    if (sorted) {
        memcpy(cand, ids, (size_t)k * sizeof *ids);
    } else if (n <= 16 * k) { /* a branch-free pass over a small vocabulary beats a sort */
        int m = 0;
        for (int i = 0; i < n; i++) {
            cand[m] = i;
            m += kept[i];
        }
    } else {
        memcpy(cand, ids, (size_t)k * sizeof *ids);
        sort_ids(cand, k);
    }
    d->n_kept = k;
}

/* Greedy on untouched logits: comparing the floats orders them exactly as
 * comparing their double copies would. Lowest id wins ties. */
static void greedy_from_logits(tp_dist *d, const float *logits)
{
    int best = 0;
    for (int i = 1; i < d->n; i++)
        if (logits[i] > logits[best])
            best = i;
    keep_from_logits(d, logits, 1.0, &best, 1, 1, TP_STAGE_TEMPERATURE);
}

/* Multiplying by a positive scale within these bounds neither reverses nor
 * creates an order between floats (distinct floats differ by at least 2^-24
 * relative, far above a double's rounding, and with FLT_MAX * 1e269 and
 * FLT_TRUE_MIN * 1e-250 nothing overflows or underflows), so ranking the
 * raw floats ranks the keys z * scale. */
#define SCALE_EXACT_MAX 1e269
#define SCALE_EXACT_MIN 1e-250

/* A float and its id packed so that one unsigned comparison is the ranking
 * order: the float's bits made monotone in the high half (-0 folded onto
 * +0, as they compare equal), the complemented id in the low half so the
 * lower id wins ties. NaN is never packed (the caller falls back). */
static uint64_t pack_key(float x, int id)
{
    uint32_t u;
    x += 0.0f; /* -0 becomes +0 */
    memcpy(&u, &x, sizeof u);
    u = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
    return (uint64_t)u << 32 | (uint32_t)~(uint32_t)id;
}

static int key_id(uint64_t key)
{
    return (int)~(uint32_t)key;
}

/* The heap's worst at the root. The hole moves down instead of swapping,
 * and the worse child is picked arithmetically, as which one it is does
 * not predict. */
static void ksift_down(uint64_t *h, int k, int i)
{
    uint64_t v = h[i];
    for (int c = 2 * i + 1; c < k; c = 2 * i + 1) {
        if (c + 1 < k)
            c += h[c + 1] < h[c];
        if (v < h[c])
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = v;
}

/* Offer token i to the heap of the k best (root's float *xr); scanning in
 * id order, a later equal logit never beats the root, so most tokens cost
 * one float comparison. */
static void offer(uint64_t *h, int k, const float *x, int i, float *xr)
{
    if (x[i] > *xr) {
        h[0] = pack_key(x[i], i);
        ksift_down(h, k, 0);
        *xr = x[key_id(h[0])];
    }
}

/* Does any of x[0..16) reach t? NaN never does. Four SSE2 compares where
 * there are: GCC 12 at -O2 leaves the plain loop scalar, about 35
 * instructions a block (callgrind), and at V = 32000 this test is most of
 * the chain. */
static int any_at_least(const float *x, float t)
{
#if defined(__SSE2__)
    __m128 vt = _mm_set1_ps(t);
    __m128 a = _mm_or_ps(_mm_cmpge_ps(_mm_loadu_ps(x), vt), _mm_cmpge_ps(_mm_loadu_ps(x + 4), vt));
    __m128 b = _mm_or_ps(_mm_cmpge_ps(_mm_loadu_ps(x + 8), vt),
                         _mm_cmpge_ps(_mm_loadu_ps(x + 12), vt));
    return _mm_movemask_ps(_mm_or_ps(a, b)) != 0;
#else
    int any = 0;
    for (int j = 0; j < 16; j++)
        any |= x[j] >= t;
    return any;
#endif
}

static int by_u64_desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x < y) - (x > y);
}

static void median_to_end(uint64_t *a, int lo, int hi)
{
    int mid = lo + (hi - lo) / 2;
    uint64_t t;
    if (a[mid] > a[lo])
        t = a[mid], a[mid] = a[lo], a[lo] = t;
    if (a[hi] > a[lo])
        t = a[hi], a[hi] = a[lo], a[lo] = t;
    if (a[mid] > a[hi])
        t = a[mid], a[mid] = a[hi], a[hi] = t;
}

/* Rearrange a[0..m) so a[0..k) holds its k largest, 0 < k < m. Keys are
 * distinct, so the answer is unique. Quickselect with a branch-free
 * partition (which side a key falls on does not predict) and a median of
 * three; past a depth budget it sorts what is left. */
static void select_largest(uint64_t *a, int m, int k)
{
    int lo = 0, hi = m - 1, budget = 8;
    for (int t = m; t > 1; t >>= 1)
        budget += 2;
    while (lo < hi) {
        if (--budget < 0) {
            qsort(a + lo, (size_t)(hi - lo + 1), sizeof *a, by_u64_desc);
            return;
        }
        median_to_end(a, lo, hi);
        uint64_t pivot = a[hi];
        int store = lo;
        for (int i = lo; i < hi; i++) {
            uint64_t v = a[i];
            a[i] = a[store]; /* a swap either way; only store's advance varies */
            a[store] = v;
            store += v > pivot;
        }
        a[hi] = a[store];
        a[store] = pivot;
        if (store == k - 1 || store == k)
            return;
        if (store < k)
            lo = store + 1;
        else
            hi = store - 1;
    }
}

#if defined(__SSE2__)
/* For each 4-bit compare mask, the lanes whose bit is set, packed to the
 * front, and how many there are. */
static const int32_t LANES_OF[16][4] = {
    {0, 0, 0, 0}, {0, 0, 0, 0}, {1, 0, 0, 0}, {0, 1, 0, 0}, {2, 0, 0, 0}, {0, 2, 0, 0},
    {1, 2, 0, 0}, {0, 1, 2, 0}, {3, 0, 0, 0}, {0, 3, 0, 0}, {1, 3, 0, 0}, {0, 1, 3, 0},
    {2, 3, 0, 0}, {0, 2, 3, 0}, {1, 2, 3, 0}, {0, 1, 2, 3},
};
static const int LANE_COUNT[16] = {0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4};
#endif

/* The ids i in [from, to) where x[i] reaches t (NaN never does), in id
 * order; at[] needs room for to - from + 3, as four lanes are stored at a
 * time. Branch-free: which tokens reach t does not predict. */
static int collect_at_least(const float *x, int from, int to, float t, int *at)
{
    int m = 0, i = from;
#if defined(__SSE2__)
    __m128 vt = _mm_set1_ps(t);
    for (; i + 4 <= to; i += 4) {
        int mask = _mm_movemask_ps(_mm_cmpge_ps(_mm_loadu_ps(x + i), vt));
        __m128i lanes = _mm_loadu_si128((const __m128i *)LANES_OF[mask]);
        _mm_storeu_si128((__m128i *)(at + m), _mm_add_epi32(lanes, _mm_set1_epi32(i)));
        m += LANE_COUNT[mask];
    }
#endif
    for (; i < to; i++) {
        at[m] = i;
        m += x[i] >= t;
    }
    return m;
}

/* The k best ids of x by a heap scan, in blocks of 16 that are skipped
 * whole when none beats the root. */
static void heap_top_k(const float *x, int n, int k, int *ids)
{
    uint64_t h[TOP_K_HEAP_MAX];
    int i = k;
    for (int j = 0; j < k; j++)
        h[j] = pack_key(x[j], j);
    for (int j = k / 2 - 1; j >= 0; j--)
        ksift_down(h, k, j);
    /* A block is skipped when nothing in it reaches the float just above
     * the root (at an infinite root the test only lets a block through
     * that offer() then rejects token by token). */
    float xr = x[key_id(h[0])], above = nextafterf(xr, INFINITY);
    for (; i + 16 <= n; i += 16) {
        if (!any_at_least(x + i, above))
            continue;
        for (int j = i; j < i + 16; j++)
            offer(h, k, x, j, &xr);
        above = nextafterf(xr, INFINITY);
    }
    for (; i < n; i++)
        offer(h, k, x, i, &xr);
    for (int j = 0; j < k; j++)
        ids[j] = key_id(h[j]);
}

/* Up to this vocabulary size top-k may start from the previous calls'
 * hint (top_k_from_logits) and collects with top_k_above. */
#define HINT_VOCAB_MAX 1024

#define SAMPLE 2048 /* tokens looked at to guess the top-k threshold */

/* Sift for a min-heap of floats (the r-th largest at the root). */
static void fsift_down(float *h, int r, int i)
{
    float v = h[i];
    for (int c = 2 * i + 1; c < r; c = 2 * i + 1) {
        if (c + 1 < r)
            c += h[c + 1] < h[c];
        if (!(h[c] < v))
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = v;
}

/* The r-th largest of S tokens spread evenly over x (r <= min(S, 256),
 * n >= S), or NaN when the first r sampled hold a NaN (a later NaN never
 * beats the root, so it is simply passed over). */
static float sample_threshold(const float *x, int n, int S, int r)
{
    float h[256];
    int step = n / S;
    for (int j = 0; j < r; j++) {
        h[j] = x[(size_t)j * step];
        if (isnan(h[j]))
            return NAN;
    }
    for (int q = r / 2 - 1; q >= 0; q--)
        fsift_down(h, r, q);
    for (int j = r; j < S; j++) {
        float v = x[(size_t)j * step];
        if (v > h[0]) {
            h[0] = v;
            fsift_down(h, r, 0);
        }
    }
    return h[0];
}

/* The k best ids of x without a heap over every token: a sample of S
 * tokens guesses a threshold t that about `margin` * k tokens reach, one
 * scan collects them (blocks with none are skipped whole), and quickselect
 * finds the k best among them. Any t that at least k tokens reach works,
 * as every other token is below those k; when fewer or too many reach it,
 * returns 0 and the caller falls back to heap_top_k. */
static int sampled_top_k(const float *x, int n, int k, int S, double margin, int *ids)
{
    uint64_t keys[8 * TOP_K_HEAP_MAX + 16];
    int at[8 * TOP_K_HEAP_MAX + 16 + 3]; /* a block of 16 past the cap, 4 lanes stored at once */
    int r = (int)ceil(margin * k * S / n), cap = 8 * k, m = 0, i = 0;
    if (r > S || r > 256)
        return 0;
    float t = sample_threshold(x, n, S, r < 1 ? 1 : r);
    if (isnan(t))
        return 0;
    for (; i + 16 <= n; i += 16) {
        if (!any_at_least(x + i, t))
            continue;
        m += collect_at_least(x, i, i + 16, t, at + m);
        if (m > cap)
            return 0;
    }
    m += collect_at_least(x, i, n, t, at + m);
    if (m < k)
        return 0;
    for (int j = 0; j < m; j++)
        keys[j] = pack_key(x[at[j]], at[j]);
    if (m > k)
        select_largest(keys, m, k);
    for (int j = 0; j < k; j++)
        ids[j] = key_id(keys[j]);
    return 1;
}

/* A large vocabulary is sampled at SAMPLE tokens for about 3k candidates;
 * a small one (up to HINT_VOCAB_MAX tokens, 4 per survivor or more: here
 * only when the previous calls' hint missed) at every fourth token for
 * about 2k: the heap's log k sifts per better token cost more there than
 * one pass and a quickselect over the few candidates. */
static int pick_top_k(const float *x, int n, int k, int *ids)
{
    if (n >= 4 * SAMPLE && n >= 32 * k)
        return sampled_top_k(x, n, k, SAMPLE, 3.0, ids);
    if (n <= HINT_VOCAB_MAX && n >= 4 * k)
        return sampled_top_k(x, n, k, n / 4, 2.0, ids);
    return 0;
}

/* Mean and standard deviation of x: where the k-th best lies, measured in
 * these, is what carries over from one call to the next (the maximum, a
 * single extreme token, wanders too much to measure from). Floats suffice
 * for a hint; an overflow only makes the threshold useless, never wrong. */
static void spread(const float *x, int n, double *mean, double *sd)
{
    float sum = 0.0f, sq = 0.0f;
    int i = 0;
#if defined(__SSE2__)
    __m128 s0 = _mm_setzero_ps(), s1 = s0, q0 = s0, q1 = s0;
    for (; i + 8 <= n; i += 8) {
        __m128 a = _mm_loadu_ps(x + i), b = _mm_loadu_ps(x + i + 4);
        s0 = _mm_add_ps(s0, a);
        s1 = _mm_add_ps(s1, b);
        q0 = _mm_add_ps(q0, _mm_mul_ps(a, a));
        q1 = _mm_add_ps(q1, _mm_mul_ps(b, b));
    }
    float ls[4], lq[4];
    _mm_storeu_ps(ls, _mm_add_ps(s0, s1));
    _mm_storeu_ps(lq, _mm_add_ps(q0, q1));
    sum = (ls[0] + ls[1]) + (ls[2] + ls[3]);
    sq = (lq[0] + lq[1]) + (lq[2] + lq[3]);
#endif
    for (; i < n; i++) {
        sum += x[i];
        sq += x[i] * x[i];
    }
    *mean = (double)sum / n;
    double var = (double)sq / n - *mean * *mean;
    *sd = var > 0.0 ? sqrt(var) : 0.0;
}

/* The float a packed key was made from (-0 comes back as +0). */
static float key_value(uint64_t key)
{
    uint32_t u = (uint32_t)(key >> 32);
    u = (u & 0x80000000u) ? (u & 0x7fffffffu) : ~u;
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* The k best ids of a small vocabulary, written in id order, from every
 * token reaching t: one branch-free pass collects them (in id order), a
 * quickselect finds the k-th best key, and a pass over the collected keeps
 * those at or above it. Returns 0 when fewer than k reach t (NaN included),
 * having written nothing the caller keeps; else 1, with the k-th best
 * logit in *low. Any t works that k tokens reach; a lower t only collects
 * more. */
static int top_k_above(const float *x, int n, int k, float t, int *ids, float *low)
{
    uint64_t keys[HINT_VOCAB_MAX], sel[HINT_VOCAB_MAX];
    int at[HINT_VOCAB_MAX + 3], m = collect_at_least(x, 0, n, t, at);
    if (m < k)
        return 0;
    for (int j = 0; j < m; j++)
        sel[j] = keys[j] = pack_key(x[at[j]], at[j]);
    if (m > k)
        select_largest(sel, m, k);
    uint64_t kth = sel[0];
    for (int j = 1; j < k; j++)
        kth = sel[j] < kth ? sel[j] : kth;
    int c = 0;
    for (int j = 0; j < m; j++) {
        ids[c] = at[j];
        c += keys[j] >= kth;
    }
    *low = key_value(kth);
    return 1;
}

/* The smallest of x[ids[0..k)]. */
static float lowest_of(const float *x, const int *ids, int k)
{
    float low = x[ids[0]];
    for (int j = 1; j < k; j++)
        low = x[ids[j]] < low ? x[ids[j]] : low;
    return low;
}

/* Where the next call's top-k starts looking, in standard deviations from
 * the mean: below the running average of where the k-th best lay by a
 * margin that grows with how much it wanders from call to call. Measured
 * (k-th best positions logged from the small model with k = 5, 10 and 16;
 * Gaussian logits at k = 40 of 256), this misses about once or twice in a
 * thousand calls on the model, whose k-th best wanders by 0.2-0.3, and
 * not once in 5,000 Gaussian calls, where it wanders by under 0.1 and
 * about 1.4 k tokens are collected. */
static double hint_threshold_z(const tp_dist *d)
{
    return d->top_k_hint - (0.15 + 2.5 * d->top_k_wander);
}

/* Fold where this call's k-th best logit, low, lay into the running hint.
 * When it cannot be measured the hint starts over (NaN: the next call
 * falls back and measures again). */
static void update_hint(tp_dist *d, float low, double mean, double sd)
{
    double z = (low - mean) / sd;
    if (!isfinite(z)) {
        d->top_k_hint = NAN;
        d->top_k_wander = 0.1;
    } else if (isnan(d->top_k_hint)) {
        d->top_k_hint = z;
    } else {
        d->top_k_wander += 0.05 * (fabs(z - d->top_k_hint) - d->top_k_wander);
        d->top_k_hint += 0.25 * (z - d->top_k_hint);
    }
}

/* Top-k (0 < k <= TOP_K_HEAP_MAX, k < n) of logits * scale, as the first
 * cut, from the floats. A small vocabulary starts from the threshold the
 * previous calls' hint suggests (successive distributions of one model have
 * similar shapes, and a sample heap costs more there than the whole chain
 * after it); otherwise, or when too few tokens reach that threshold,
 * sampled_top_k or the heap. The k best are unique under the id tie break,
 * so the survivors are those of kth_by_heap on the scaled keys whatever
 * path found them: the hint changes the time, never the answer. Returns 0,
 * having changed nothing, when the first k hold a NaN. */
static int top_k_from_logits(tp_dist *d, const float *x, double scale, int k)
{
    int n = d->n, *ids = d->live, sorted = 0; /* free scratch: p was cleared before the chain */
    int small = n <= HINT_VOCAB_MAX, hinted = small && n >= 4 * k;
    double mean = 0.0, sd = 0.0;
    float low = 0.0f;
    if (hinted) { /* a NaN anywhere makes the mean NaN, which no token reaches */
        spread(x, n, &mean, &sd);
        sorted = top_k_above(x, n, k, (float)(mean + hint_threshold_z(d) * sd), ids, &low);
    }
    if (!sorted) {
        for (int j = 0; j < k; j++)
            if (isnan(x[j]))
                return 0; /* NaN has no place in the packed order */
        if (small && !hinted) /* k above V / 4: a quickselect over all beats a heap of k */
            sorted = top_k_above(x, n, k, -INFINITY, ids, &low);
    }
    if (!sorted) {
        if (!pick_top_k(x, n, k, ids))
            heap_top_k(x, n, k, ids);
        if (hinted)
            low = lowest_of(x, ids, k);
    }
    if (hinted)
        update_hint(d, low, mean, sd);
    keep_from_logits(d, x, scale, ids, k, sorted, TP_STAGE_TOP_K);
    return 1;
}

static int repeat_is_noop(const tp_sampler_config *cfg, int n_ctx)
{
    return cfg->repeat_penalty == 1.0 || cfg->repeat_last_n == 0 || n_ctx <= 0;
}

/* Without stage snapshots nothing needs z over the whole vocabulary until
 * the first cut: stages that change nothing are skipped, temperature
 * becomes a scale on the keys, and a greedy or small top-k cut reads the
 * caller's logits directly. Returns the index of the first stage still to
 * run, with d holding the chain's state before it. */
static int lazy_front(const tp_sampler_config *cfg, const float *logits, int n_ctx, tp_dist *d)
{
    double scale = 1.0;
    for (int s = 0; s < cfg->n_order; s++) {
        int k = cfg->top_k;
        switch (cfg->order[s]) {
        case TP_STAGE_REPEAT:
            if (repeat_is_noop(cfg, n_ctx))
                continue;
            break;
        case TP_STAGE_TEMPERATURE:
            if (scale != 1.0) /* a second temperature stage: apply it for real */
                break;
            if (cfg->temperature > 0.0) {
                scale = 1.0 / cfg->temperature; /* as apply_temperature's z * inv */
                continue;
            }
            greedy_from_logits(d, logits);
            return s + 1;
        case TP_STAGE_TOP_K:
            if (k <= 0 || k >= d->n)
                continue;
            if (k <= TOP_K_HEAP_MAX && scale <= SCALE_EXACT_MAX && scale >= SCALE_EXACT_MIN &&
                top_k_from_logits(d, logits, scale, k))
                return s + 1;
            break;
        case TP_STAGE_TOP_P:
            if (cfg->top_p >= 1.0)
                continue;
            break;
        case TP_STAGE_MIN_P:
            if (cfg->min_p <= 0.0)
                continue;
            break;
        default:
            continue;
        }
        start_chain(logits, scale, d);
        return s;
    }
    start_chain(logits, scale, d);
    return cfg->n_order;
}

/* Zero p where the previous call left it nonzero. With views on the whole
 * row is cleared, as tp_dist_copy may have filled it. */
static void clear_p(tp_dist *d)
{
    if (d->views || d->n_live >= d->n) {
        memset(d->p, 0, (size_t)d->n * sizeof *d->p);
    } else {
        for (int j = 0; j < d->n_live; j++)
            d->p[d->live[j]] = 0.0;
    }
    d->n_live = 0;
}

/* p over the kept set, remembering where it is nonzero for clear_p; the
 * entropy when asked for (a log2 per kept token: 2% of a batched
 * generator's time, which only draws). */
static void finish(tp_dist *d)
{
    kept_probs(d, d->p);
    d->n_live = d->n_kept;
    if (d->n_kept < d->n)
        memcpy(d->live, d->cand, (size_t)d->n_kept * sizeof *d->cand);
    d->entropy_bits = NAN;
    if (!(d->views & TP_VIEW_ENTROPY))
        return;
    double h = 0.0;
    for (int j = 0; j < d->n_kept; j++) {
        double p = d->p[d->cand[j]];
        if (p > 0.0)
            h -= p * log2(p);
    }
    d->entropy_bits = h > 0.0 ? h : 0.0;
}

/* p_base: the plain softmax of the raw logits, the arithmetic of kept_probs
 * over every id. */
static void base_softmax(const float *logits, int n, double *p)
{
    double zmax = -INFINITY, sum = 0.0;
    for (int i = 0; i < n; i++)
        if ((double)logits[i] > zmax)
            zmax = logits[i];
    for (int i = 0; i < n; i++) {
        p[i] = exp((double)logits[i] - zmax);
        sum += p[i];
    }
    for (int i = 0; i < n; i++)
        p[i] /= sum;
}

void tp_sampler_apply(const tp_sampler_config *cfg, const float *logits, const int *context,
                      int n_context, tp_dist *d)
{
    int n = d->n, s = 0;
    clear_p(d);
    d->e_ok = 0;
    if (d->views)
        memcpy(d->logits, logits, (size_t)n * sizeof *logits);
    if (d->views & TP_VIEW_BASE)
        base_softmax(logits, n, d->p_base);
    d->n_stages = cfg->n_order;
    memcpy(d->stages, cfg->order, (size_t)cfg->n_order * sizeof *cfg->order);
    if (d->views & TP_VIEW_STAGES)
        start_chain(logits, 1.0, d);
    else
        s = lazy_front(cfg, logits, n_context, d);
    for (; s < cfg->n_order; s++) {
        apply_stage(cfg, cfg->order[s], context, n_context, d);
        if (d->views & TP_VIEW_STAGES)
            softmax_row(d, d->stage_p + (size_t)s * n);
    }
    finish(d);
}

int tp_sampler_pick(const tp_dist *d, double u, double *lo, double *hi)
{
    double acc = 0.0, below = 0.0;
    int last = 0;
    for (int i = 0; i < d->n; i++) {
        if (!d->kept[i])
            continue;
        below = acc;
        acc += d->p[i];
        last = i;
        if (u < acc)
            break;
    }
    /* Past the loop without a break, u fell in the rounding gap above the
     * final sum: the last kept token takes it. */
    if (lo)
        *lo = below;
    if (hi)
        *hi = acc;
    return last;
}

int tp_sampler_draw(const tp_dist *d, tp_rng *rng)
{
    return tp_sampler_pick(d, tp_rng_uniform(rng), NULL, NULL);
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
