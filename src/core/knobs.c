/* knobs.c - stepping, describing and parsing the playground's settings. */
#include "tempest/knobs.h"
#include "tempest/sweep.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const int TOP_K_LADDER[] = {0, 1, 2, 3, 5, 10, 20, 40, 100, 200};
#define N_RUNGS ((int)(sizeof TOP_K_LADDER / sizeof TOP_K_LADDER[0]))

static double clamp(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Repeated += 0.05 drifts (0.1 + 0.2 != 0.3); snapping keeps "0.80" exact. */
static double snap(double v, double grid)
{
    return round(v / grid) * grid;
}

double tp_knob_temperature(double t, double delta)
{
    return clamp(snap(t + delta, 0.01), 0.0, TP_KNOB_TEMP_MAX);
}

int tp_knob_top_k(int k, int dir)
{
    if (k < 0)
        k = 0;
    if (dir > 0) {
        for (int i = 0; i < N_RUNGS; i++)
            if (TOP_K_LADDER[i] > k)
                return TOP_K_LADDER[i];
        return k > TOP_K_LADDER[N_RUNGS - 1] ? k : TOP_K_LADDER[N_RUNGS - 1];
    }
    for (int i = N_RUNGS - 1; i >= 0; i--)
        if (TOP_K_LADDER[i] < k)
            return TOP_K_LADDER[i];
    return 0;
}

double tp_knob_top_p(double p, int dir)
{
    if (p > 1.0)
        p = 1.0;
    return clamp(snap(p + dir * TP_KNOB_TOP_P_STEP, 0.01), TP_KNOB_TOP_P_STEP, 1.0);
}

double tp_knob_min_p(double m, int dir)
{
    return clamp(snap(m + dir * TP_KNOB_MIN_P_STEP, 0.01), 0.0, 1.0);
}

void tp_knob_cycle_order(tp_sampler_config *cfg)
{
    const char *next = tp_sampler_is_temperature_first(cfg) ? "trunc-first" : "temp-first";
    tp_sampler_parse_order(cfg, next, NULL);
}

static void format_top_k(int k, char *out, size_t cap)
{
    if (k <= 0)
        snprintf(out, cap, "off");
    else
        snprintf(out, cap, "%d", k);
}

static void format_top_p(double p, char *out, size_t cap)
{
    if (p >= 1.0)
        snprintf(out, cap, "off");
    else
        snprintf(out, cap, "%.2f", p);
}

static void format_min_p(double m, char *out, size_t cap)
{
    if (m <= 0.0)
        snprintf(out, cap, "off");
    else
        snprintf(out, cap, "%.2f", m);
}

void tp_knobs_format(const tp_sampler_config *cfg, char *out, size_t cap)
{
    char k[24], p[24], m[24], order[96];
    format_top_k(cfg->top_k, k, sizeof k);
    format_top_p(cfg->top_p, p, sizeof p);
    format_min_p(cfg->min_p, m, sizeof m);
    tp_sampler_order_label(cfg, order, sizeof order);
    snprintf(out, cap, "T=%.2f  top-k=%s  top-p=%s  min-p=%s  order=%s", cfg->temperature, k,
             p, m, order);
}

int tp_knobs_describe_change(const tp_sampler_config *a, const tp_sampler_config *b,
                             int ascii, char *out, size_t cap)
{
    const char *arrow = ascii ? "->" : "→";
    char x[96], y[96];
    if (a->temperature != b->temperature) {
        snprintf(out, cap, "T %.2f%s%.2f", a->temperature, arrow, b->temperature);
    } else if (a->top_k != b->top_k) {
        format_top_k(a->top_k, x, sizeof x);
        format_top_k(b->top_k, y, sizeof y);
        snprintf(out, cap, "top-k %s%s%s", x, arrow, y);
    } else if (a->top_p != b->top_p) {
        format_top_p(a->top_p, x, sizeof x);
        format_top_p(b->top_p, y, sizeof y);
        snprintf(out, cap, "top-p %s%s%s", x, arrow, y);
    } else if (a->min_p != b->min_p) {
        format_min_p(a->min_p, x, sizeof x);
        format_min_p(b->min_p, y, sizeof y);
        snprintf(out, cap, "min-p %s%s%s", x, arrow, y);
    } else if (a->n_order != b->n_order ||
               memcmp(a->order, b->order, (size_t)a->n_order * sizeof a->order[0]) != 0) {
        tp_sampler_order_label(b, y, sizeof y);
        snprintf(out, cap, "order %s", y);
    } else if (a->repeat_penalty != b->repeat_penalty ||
               a->repeat_last_n != b->repeat_last_n) {
        snprintf(out, cap, "repeat penalty %.2f", b->repeat_penalty);
    } else {
        if (cap > 0)
            out[0] = '\0';
        return 0;
    }
    return 1;
}

const tp_command_info TP_COMMANDS[] = {
    {"temp", "T", "temperature, 0 (greedy) to 100"},
    {"topk", "K|off", "keep the K most likely tokens"},
    {"topp", "P|off", "keep the smallest set holding mass P (0 to 1)"},
    {"minp", "M|off", "keep tokens with p >= M * p_max (0 to 1)"},
    {"order", "temp-first|trunc-first|LIST", "order of the sampler stages"},
    {"seed", "N", "restart from the prompt with seed N"},
    {"prompt", "TEXT", "restart from TEXT (\\n for a newline)"},
    {"model", "PATH", "load another model and restart"},
    {"theme", "NAME|PATH", "switch the colour theme"},
    {"speed", "N|max", "tokens per second, 1 to 1000, or max"},
    {"save", "FILE", "write the transcript with its settings"},
    {"sweep", "[TEMPS] [STRATEGIES]", "small sweep (3 seeds x 200 tokens), charted"},
    {"record", "FILE|off", "record steps, keys and commands (tempest replay)"},
    {"lanes", "SPECS|off", "2-4 lanes side by side, e.g. 0.2,0.8/p0.9,1.5"},
    {"butterfly", "T [EPS]|off", "lanes at T and T+EPS (0.01), where they split"},
    {"show", "", "print the next-token distribution (repl)"},
    {"length", "N", "tokens per continuation (repl)"},
    {"dice", "[N]", "draw N samples (default 100) without advancing"},
    {"help", "", "list keys and commands"},
    {"quit", "", "leave"},
    {NULL, NULL, NULL},
};

static int is_off(const char *arg)
{
    return strcmp(arg, "off") == 0 || strcmp(arg, "none") == 0;
}

static tp_status parse_number(const char *name, const char *arg, double lo, double hi,
                              double *out, tp_error *err)
{
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    if (!*arg || end == arg || *end != '\0' || !isfinite(v) || errno == ERANGE)
        return tp_fail(err, TP_ERR_USAGE, "%s: '%.60s' is not a number", name, arg);
    if (v < lo || v > hi)
        return tp_fail(err, TP_ERR_USAGE, "%s: %.60s is out of range (%g to %g)", name, arg,
                       lo, hi);
    *out = v;
    return TP_OK;
}

static tp_status parse_whole(const char *name, const char *arg, unsigned long long hi,
                             unsigned long long *out, tp_error *err)
{
    char *end;
    errno = 0;
    if (!isdigit((unsigned char)arg[0]))
        return tp_fail(err, TP_ERR_USAGE, "%s: '%.60s' is not a whole number", name, arg);
    unsigned long long v = strtoull(arg, &end, 10);
    if (*end != '\0' || errno == ERANGE || v > hi)
        return tp_fail(err, TP_ERR_USAGE, "%s: '%.60s' is not a whole number from 0 to %llu",
                       name, arg, hi);
    *out = v;
    return TP_OK;
}

static tp_status need_arg(const char *name, const char *arg, tp_error *err)
{
    if (!*arg)
        return tp_fail(err, TP_ERR_USAGE, "%s needs a value (see :help)", name);
    return TP_OK;
}

static tp_status parse_sampler(const char *name, const char *arg, tp_command *out,
                               tp_error *err)
{
    tp_sampler_config *cfg = &out->cfg;
    unsigned long long k;
    tp_status rc = need_arg(name, arg, err);
    if (rc)
        return rc;
    out->action = TP_ACT_SET_CONFIG;
    if (strcmp(name, "temp") == 0)
        return parse_number(name, arg, 0, TP_TEMPERATURE_MAX, &cfg->temperature, err);
    if (strcmp(name, "topk") == 0) {
        if (is_off(arg)) {
            cfg->top_k = 0;
            return TP_OK;
        }
        rc = parse_whole(name, arg, INT_MAX, &k, err);
        if (!rc)
            cfg->top_k = (int)k;
        return rc;
    }
    if (strcmp(name, "topp") == 0) {
        if (is_off(arg)) {
            cfg->top_p = 1.0;
            return TP_OK;
        }
        return parse_number(name, arg, 0, 1, &cfg->top_p, err);
    }
    if (strcmp(name, "minp") == 0) {
        if (is_off(arg)) {
            cfg->min_p = 0.0;
            return TP_OK;
        }
        return parse_number(name, arg, 0, 1, &cfg->min_p, err);
    }
    rc = tp_sampler_parse_order(cfg, arg, err);
    if (rc)
        tp_error_prefix(err, "order");
    return rc;
}

static tp_status parse_other(const char *name, const char *arg, tp_command *out,
                             tp_error *err)
{
    unsigned long long v;
    tp_status rc;
    if (strcmp(name, "seed") == 0) {
        out->action = TP_ACT_SET_SEED;
        if ((rc = need_arg(name, arg, err)) || (rc = parse_whole(name, arg, UINT64_MAX, &v, err)))
            return rc;
        out->seed = (uint64_t)v;
        return TP_OK;
    }
    if (strcmp(name, "speed") == 0) {
        out->action = TP_ACT_SET_SPEED;
        if ((rc = need_arg(name, arg, err)))
            return rc;
        if (strcmp(arg, "max") == 0 || strcmp(arg, "full") == 0) {
            out->speed = 0;
            return TP_OK;
        }
        return parse_number(name, arg, 1, TP_SPEED_MAX, &out->speed, err);
    }
    if (strcmp(name, "length") == 0) {
        out->action = TP_ACT_SET_LENGTH;
        if ((rc = need_arg(name, arg, err)) || (rc = parse_whole(name, arg, 100000, &v, err)))
            return rc;
        out->length = (long)v;
        return TP_OK;
    }
    if (strcmp(name, "lanes") == 0 || strcmp(name, "butterfly") == 0) {
        out->action = TP_ACT_LANES;
        return tp_lanes_parse_command(name, arg, &out->lanes, err);
    }
    if (strcmp(name, "dice") == 0) {
        out->action = TP_ACT_DICE_SAMPLE;
        out->length = TP_DICE_DEFAULT;
        if (*arg && (rc = parse_whole(name, arg, TP_DICE_MAX, &v, err)))
            return rc;
        if (*arg && v == 0)
            return tp_fail(err, TP_ERR_USAGE, "dice: draw at least 1 sample");
        if (*arg)
            out->length = (long)v;
        return TP_OK;
    }
    static const struct { const char *name; tp_action act; int needs_text; } SIMPLE[] = {
        {"prompt", TP_ACT_SET_PROMPT, 0}, {"model", TP_ACT_SET_MODEL, 1},
        {"theme", TP_ACT_SET_THEME, 1},   {"save", TP_ACT_SAVE, 1},
        {"show", TP_ACT_SHOW, 0},         {"help", TP_ACT_HELP, 0},
        {"quit", TP_ACT_QUIT, 0},         {"q", TP_ACT_QUIT, 0},
        {"sweep", TP_ACT_SWEEP, 0},       {"record", TP_ACT_RECORD, 1},
    };
    for (size_t i = 0; i < sizeof SIMPLE / sizeof SIMPLE[0]; i++) {
        if (strcmp(name, SIMPLE[i].name) != 0)
            continue;
        if (SIMPLE[i].needs_text && (rc = need_arg(name, arg, err)))
            return rc;
        if (strlen(arg) >= sizeof out->text)
            return tp_fail(err, TP_ERR_USAGE, "%s: the text is too long (%zu bytes)", name,
                           strlen(arg));
        if (SIMPLE[i].act == TP_ACT_SWEEP && (rc = tp_sweep_parse_request(arg, &out->sweep, err)))
            return rc;
        out->action = SIMPLE[i].act;
        if (SIMPLE[i].act == TP_ACT_SET_PROMPT)
            tp_unescape_line(arg, out->text, sizeof out->text);
        else
            memcpy(out->text, arg, strlen(arg) + 1); /* length checked above */
        return TP_OK;
    }
    return tp_fail(err, TP_ERR_USAGE, "unknown command '%.40s' (try :help)", name);
}

tp_status tp_command_parse(const char *line, const tp_sampler_config *current,
                           tp_command *out, tp_error *err)
{
    memset(out, 0, sizeof *out);
    out->cfg = *current;
    while (isspace((unsigned char)*line) || *line == ':')
        line++;
    if (!*line)
        return TP_OK;
    char name[32];
    size_t n = 0;
    while (line[n] && !isspace((unsigned char)line[n]))
        n++;
    if (n >= sizeof name)
        return tp_fail(err, TP_ERR_USAGE, "unknown command '%.40s' (try :help)", line);
    memcpy(name, line, n);
    name[n] = '\0';
    const char *arg = line + n;
    while (isspace((unsigned char)*arg))
        arg++;
    /* trailing blanks are an editing accident, not part of a value */
    char value[sizeof out->text + 1];
    snprintf(value, sizeof value, "%s", arg);
    size_t len = strlen(value);
    while (len > 0 && isspace((unsigned char)value[len - 1]))
        value[--len] = '\0';
    tp_status rc;
    if (!strcmp(name, "temp") || !strcmp(name, "topk") || !strcmp(name, "topp") ||
        !strcmp(name, "minp") || !strcmp(name, "order"))
        rc = parse_sampler(name, value, out, err);
    else
        rc = parse_other(name, value, out, err);
    if (!rc && out->action == TP_ACT_SET_CONFIG)
        rc = tp_sampler_validate(&out->cfg, err);
    if (rc) {
        out->action = TP_ACT_NONE;
        out->cfg = *current;
    }
    return rc;
}

void tp_unescape_line(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    for (; *in && o + 1 < cap; in++) {
        if (in[0] == '\\' && (in[1] == 'n' || in[1] == 't' || in[1] == '\\')) {
            out[o++] = in[1] == 'n' ? '\n' : in[1] == 't' ? '\t' : '\\';
            in++;
        } else {
            out[o++] = *in;
        }
    }
    if (cap > 0)
        out[o] = '\0';
}

void tp_escape_line(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    for (; *in; in++) {
        const char *rep = *in == '\n' ? "\\n" : *in == '\t' ? "\\t" : *in == '\\' ? "\\\\" : NULL;
        size_t need = rep ? 2 : 1;
        if (o + need + 1 > cap)
            break;
        if (rep) {
            out[o++] = rep[0];
            out[o++] = rep[1];
        } else {
            out[o++] = *in;
        }
    }
    if (cap > 0)
        out[o] = '\0';
}
