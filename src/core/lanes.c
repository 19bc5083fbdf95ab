/* lanes.c - lanes that share prompt and random numbers (see lanes.h). */
#include "tempest/lanes.h"

#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- lane specs ---- */

/* The whole of s[0..len) as a finite number. */
static int number_of(const char *s, size_t len, double *out)
{
    char buf[48];
    if (len == 0 || len >= sizeof buf)
        return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (*end != '\0' || errno == ERANGE || !isfinite(v) || buf[0] == ' ')
        return 0;
    *out = v;
    return 1;
}

static tp_status bad_lane(tp_error *err, int lane, const char *part, size_t len,
                          const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static tp_status bad_lane(tp_error *err, int lane, const char *part, size_t len,
                          const char *fmt, ...)
{
    char detail[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    return tp_fail(err, TP_ERR_USAGE, "lane %d '%.*s': %s", lane, (int)(len > 60 ? 60 : len),
                   part, detail);
}

/* One "/kN", "/pX" or "/mX" (without the slash) into spec. */
static tp_status parse_setting(tp_lane_spec *spec, int lane, const char *part, size_t part_len,
                               const char *s, size_t len, tp_error *err)
{
    double v;
    int bit = (int)(len > 20 ? 20 : len);
    if (len < 1 || !strchr("kpm", s[0]))
        return bad_lane(err, lane, part, part_len,
                        "unknown setting '%.*s' (use /kN, /pX or /mX)", bit, s);
    if (len < 2 || !number_of(s + 1, len - 1, &v))
        return bad_lane(err, lane, part, part_len, "'%.*s' needs a number after '%c'", bit, s,
                        s[0]);
    switch (s[0]) {
    case 'k':
        if (v < 0 || v > 100000 || v != floor(v))
            return bad_lane(err, lane, part, part_len,
                            "top-k '%.*s' must be a whole number 0 to 100000", bit, s + 1);
        spec->top_k = (int)v;
        spec->set |= TP_LANE_TOP_K;
        return TP_OK;
    case 'p':
        if (!(v > 0 && v <= 1))
            return bad_lane(err, lane, part, part_len,
                            "top-p '%.*s' must be above 0 and at most 1", bit, s + 1);
        spec->top_p = v;
        spec->set |= TP_LANE_TOP_P;
        return TP_OK;
    default:
        if (!(v >= 0 && v <= 1))
            return bad_lane(err, lane, part, part_len, "min-p '%.*s' must be 0 to 1", bit,
                            s + 1);
        spec->min_p = v;
        spec->set |= TP_LANE_MIN_P;
        return TP_OK;
    }
}

static tp_status parse_lane(const char *part, size_t len, int lane, tp_lane_spec *spec,
                            tp_error *err)
{
    *spec = (tp_lane_spec){0};
    if (len == 0)
        return tp_fail(err, TP_ERR_USAGE, "lane %d is empty (e.g. 0.2,0.8/p0.9,1.5)", lane);
    size_t t_len = 0;
    while (t_len < len && part[t_len] != '/')
        t_len++;
    double t;
    if (!number_of(part, t_len, &t))
        return bad_lane(err, lane, part, len, "the temperature '%.*s' is not a number",
                        (int)(t_len > 20 ? 20 : t_len), part);
    if (t < 0 || t > TP_LANE_TEMP_MAX)
        return bad_lane(err, lane, part, len, "the temperature %g is out of range (0 to 5)", t);
    spec->temperature = t;
    size_t at = t_len;
    while (at < len) {
        size_t from = ++at; /* past the slash */
        while (at < len && part[at] != '/')
            at++;
        tp_status rc = parse_setting(spec, lane, part, len, part + from, at - from, err);
        if (rc)
            return rc;
    }
    return TP_OK;
}

tp_status tp_lanes_parse(const char *text, tp_lane_request *out, tp_error *err)
{
    *out = (tp_lane_request){0};
    int n = 1;
    for (const char *c = text; *c; c++)
        n += *c == ',';
    if (!*text || n < TP_LANES_MIN || n > TP_LANES_MAX)
        return tp_fail(err, TP_ERR_USAGE, "give %d to %d lanes, e.g. 0.2,0.8/p0.9,1.5 (got %d)",
                       TP_LANES_MIN, TP_LANES_MAX, *text ? n : 0);
    const char *part = text;
    for (int i = 0; i < n; i++) {
        size_t len = strcspn(part, ",");
        tp_status rc = parse_lane(part, len, i + 1, &out->lanes[i], err);
        if (rc)
            return rc;
        part += len + 1;
    }
    out->n = n;
    return TP_OK;
}

tp_status tp_lanes_butterfly(double temperature, double eps, tp_lane_request *out,
                             tp_error *err)
{
    *out = (tp_lane_request){0};
    if (!(temperature >= 0 && temperature <= TP_LANE_TEMP_MAX))
        return tp_fail(err, TP_ERR_USAGE, "the temperature %g must be 0 to 5",
                       temperature);
    if (!(eps > 0 && eps <= 1))
        return tp_fail(err, TP_ERR_USAGE, "epsilon %g must be above 0 and at most 1",
                       eps);
    if (temperature + eps > TP_LANE_TEMP_MAX)
        return tp_fail(err, TP_ERR_USAGE, "T + epsilon = %g is above 5",
                       temperature + eps);
    out->n = 2;
    out->butterfly = 1;
    out->lanes[0].temperature = temperature;
    out->lanes[1].temperature = temperature + eps;
    return TP_OK;
}

static tp_status parse_butterfly(const char *args, tp_lane_request *out, tp_error *err)
{
    double t, eps = TP_BUTTERFLY_EPS;
    size_t t_len = strcspn(args, " \t");
    const char *rest = args + t_len;
    rest += strspn(rest, " \t");
    if (!number_of(args, t_len, &t))
        return tp_fail(err, TP_ERR_USAGE, "the temperature '%.*s' is not a number (e.g. 0.8 0.01)",
                       (int)(t_len > 40 ? 40 : t_len), args);
    if (*rest && (strpbrk(rest, " \t") || !number_of(rest, strlen(rest), &eps)))
        return tp_fail(err, TP_ERR_USAGE, "epsilon '%.40s' is not a number (e.g. 0.8 0.01)",
                       rest);
    return tp_lanes_butterfly(t, eps, out, err);
}

tp_status tp_lanes_parse_args(int butterfly, const char *args, tp_lane_request *out,
                              tp_error *err)
{
    *out = (tp_lane_request){0};
    args += strspn(args, " \t");
    if (strcmp(args, "off") == 0)
        return TP_OK;
    if (!*args)
        return tp_fail(err, TP_ERR_USAGE, "needs a value, e.g. %s",
                       butterfly ? "0.8 0.01" : "0.2,0.8/p0.9,1.5");
    return butterfly ? parse_butterfly(args, out, err) : tp_lanes_parse(args, out, err);
}

tp_status tp_lanes_parse_command(const char *name, const char *args, tp_lane_request *out,
                                 tp_error *err)
{
    tp_status rc = tp_lanes_parse_args(strcmp(name, "butterfly") == 0, args, out, err);
    if (rc)
        tp_error_prefix(err, "%s", name);
    return rc;
}

void tp_lane_spec_apply(const tp_lane_spec *spec, const tp_sampler_config *base,
                        tp_sampler_config *out)
{
    *out = *base;
    out->temperature = spec->temperature;
    if (spec->set & TP_LANE_TOP_K)
        out->top_k = spec->top_k;
    if (spec->set & TP_LANE_TOP_P)
        out->top_p = spec->top_p;
    if (spec->set & TP_LANE_MIN_P)
        out->min_p = spec->min_p;
}

void tp_lane_spec_format(const tp_lane_spec *spec, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%g", spec->temperature);
    if (spec->set & TP_LANE_TOP_K && n >= 0 && (size_t)n < cap)
        n += snprintf(out + n, cap - (size_t)n, "/k%d", spec->top_k);
    if (spec->set & TP_LANE_TOP_P && n >= 0 && (size_t)n < cap)
        n += snprintf(out + n, cap - (size_t)n, "/p%g", spec->top_p);
    if (spec->set & TP_LANE_MIN_P && n >= 0 && (size_t)n < cap)
        snprintf(out + n, cap - (size_t)n, "/m%g", spec->min_p);
}

/* ---- divergence and the split ---- */

static int divergence_from(const tp_step *a, int na, const tp_step *b, int nb, int from)
{
    int n = na < nb ? na : nb;
    for (int i = from; i < n; i++)
        if (a[i].token != b[i].token)
            return i;
    return -1;
}

int tp_steps_divergence(const tp_step *a, int na, const tp_step *b, int nb)
{
    return divergence_from(a, na, b, nb, 0);
}

int tp_split_measure(const tp_dist *d0, const tp_dist *d1, double u, int step, tp_split *out)
{
    *out = (tp_split){.step = -1};
    double lo, hi;
    int a = tp_sampler_pick(d0, u, &lo, &hi);
    int b = tp_sampler_pick(d1, u, NULL, NULL);
    if (a == b)
        return 0;
    double below = u - lo, above = hi - u;
    *out = (tp_split){
        .step = step, .token_a = a, .token_b = b, .u = u, .lo = lo, .hi = hi,
        .p0_a = d0->p[a], .p0_b = d0->p[b], .p1_a = d1->p[a], .p1_b = d1->p[b],
        /* u past the rounding gap above the sum sits on the boundary */
        .margin = fmax(0.0, fmin(below, above)), .gap = fabs(d0->p[a] - d0->p[b]),
    };
    return 1;
}

/* ---- a lane set ---- */

static void forget_divergence(tp_lane_set *s)
{
    for (int i = 0; i < TP_LANES_MAX; i++)
        for (int j = 0; j < TP_LANES_MAX; j++) {
            s->div[i][j] = -1;
            s->checked[i][j] = 0;
        }
    s->split = (tp_split){.step = -1};
}

tp_status tp_lane_set_new(tp_lane_set **out, const tp_model *model, const char *prompt,
                          const tp_sampler_config *base, uint64_t seed,
                          const tp_lane_request *req, tp_error *err)
{
    *out = NULL;
    if (req->n < TP_LANES_MIN || req->n > TP_LANES_MAX)
        return tp_fail(err, TP_ERR_USAGE, "give %d to %d lanes (got %d)", TP_LANES_MIN,
                       TP_LANES_MAX, req->n);
    tp_lane_set *s = calloc(1, sizeof *s);
    if (!s)
        return tp_fail(err, TP_ERR_NOMEM, "out of memory for lanes");
    s->model = model;
    s->n = req->n;
    s->butterfly = req->butterfly;
    forget_divergence(s);
    s->logits = calloc((size_t)req->n * (size_t)model->n_vocab, sizeof *s->logits);
    tp_status rc = s->logits ? TP_OK : tp_fail(err, TP_ERR_NOMEM, "out of memory for lanes");
    for (int i = 0; i < req->n && !rc; i++) {
        tp_sampler_config cfg;
        tp_lane_spec_apply(&req->lanes[i], base, &cfg);
        rc = tp_session_new(&s->lanes[i], model, prompt, &cfg, seed, err);
        if (rc)
            tp_error_prefix(err, "lane %d", i + 1);
    }
    if (rc) {
        tp_lane_set_free(s);
        return rc;
    }
    *out = s;
    return TP_OK;
}

void tp_lane_set_free(tp_lane_set *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->n; i++)
        tp_session_free(s->lanes[i]);
    free(s->logits);
    free(s);
}

tp_status tp_lane_set_restart(tp_lane_set *s, const char *prompt, uint64_t seed, tp_error *err)
{
    /* The lanes share a vocabulary, so a bad prompt fails on the first
     * lane, before any lane has changed. */
    tp_status rc = TP_OK;
    for (int i = 0; i < s->n && !rc; i++)
        if (s->lanes[i])
            rc = tp_session_restart(s->lanes[i], prompt, seed, err);
    forget_divergence(s);
    return rc;
}

/* The lanes still in the set, in order. */
static int live_lanes(tp_lane_set *s, tp_session **live)
{
    int n = 0;
    for (int i = 0; i < s->n; i++)
        if (s->lanes[i])
            live[n++] = s->lanes[i];
    return n;
}

static void measure_split(tp_lane_set *s, double u, const int *tokens)
{
    tp_session *a = s->lanes[0], *b = s->lanes[1];
    if (s->split.step >= 0 || !a || !b || tokens[0] == tokens[1] ||
        a->n_steps != b->n_steps || tp_lane_set_pair_divergence(s, 0, 1) >= 0)
        return;
    tp_split_measure(&a->dist, &b->dist, u, a->n_steps, &s->split);
}

tp_status tp_lane_set_step(tp_lane_set *s, tp_error *err)
{
    tp_session *live[TP_LANES_MAX];
    tp_state *states[TP_LANES_MAX];
    int tokens[TP_LANES_MAX];
    int n = live_lanes(s, live);
    if (n == 0)
        return TP_OK;
    /* The u every lane is about to draw (same seed, same number of steps). */
    tp_rng peek = live[0]->rng;
    double u = tp_rng_uniform(&peek);
    for (int i = 0; i < n; i++)
        tokens[i] = tp_sampler_draw(&live[i]->dist, &live[i]->rng);
    if (n == s->n)
        measure_split(s, u, tokens);
    for (int i = 0; i < n; i++) {
        tp_status rc = tp_session_begin_push(live[i], tokens[i], err);
        if (rc)
            return rc; /* out of memory: the lanes that recorded are a step ahead */
        states[i] = live[i]->state;
    }
    int V = s->model->n_vocab;
    tp_model_step_batch(s->model, states, tokens, n, s->logits);
    for (int i = 0; i < n; i++)
        tp_session_end_push(live[i], s->logits + (size_t)i * (size_t)V);
    return TP_OK;
}

int tp_lane_set_pair_divergence(tp_lane_set *s, int i, int j)
{
    if (i == j || i < 0 || j < 0 || i >= s->n || j >= s->n || !s->lanes[i] || !s->lanes[j])
        return -1;
    if (i > j) {
        int t = i;
        i = j;
        j = t;
    }
    const tp_session *a = s->lanes[i], *b = s->lanes[j];
    int common = a->n_steps < b->n_steps ? a->n_steps : b->n_steps;
    if (common < s->checked[i][j]) { /* a lane restarted on its own: start over */
        s->checked[i][j] = 0;
        s->div[i][j] = -1;
    }
    if (s->div[i][j] < 0) {
        s->div[i][j] = divergence_from(a->steps, a->n_steps, b->steps, b->n_steps,
                                       s->checked[i][j]);
        s->checked[i][j] = common;
    }
    return s->div[i][j];
}

int tp_lane_set_divergence(tp_lane_set *s, int *pi, int *pj)
{
    int best = -1;
    for (int i = 0; i < s->n; i++)
        for (int j = i + 1; j < s->n; j++) {
            int d = tp_lane_set_pair_divergence(s, i, j);
            if (d >= 0 && (best < 0 || d < best)) {
                best = d;
                if (pi)
                    *pi = i;
                if (pj)
                    *pj = j;
            }
        }
    return best;
}

int tp_lane_set_lane_divergence(tp_lane_set *s, int i)
{
    int best = -1;
    for (int j = 0; j < s->n; j++) {
        int d = tp_lane_set_pair_divergence(s, i, j);
        if (d >= 0 && (best < 0 || d < best))
            best = d;
    }
    return best;
}

tp_session *tp_lane_set_detach(tp_lane_set *s, int i)
{
    if (i < 0 || i >= s->n)
        return NULL;
    tp_session *lane = s->lanes[i];
    s->lanes[i] = NULL;
    return lane;
}
