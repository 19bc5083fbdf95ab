/* script.c - the demo script parser (format in script.h). */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tempest/knobs.h"
#include "tempest/script.h"

static const char *const OP_NAMES[] = {"wait", "wait tokens", "pause", "at", "at tokens",
                                       "caption", "restart", "quit", "command"};

const char *tp_script_op_name(tp_script_op op)
{
    return op <= TP_SCRIPT_COMMAND ? OP_NAMES[op] : "?";
}

void tp_script_free(tp_script *s)
{
    free(s->steps);
    memset(s, 0, sizeof *s);
}

static tp_status add(tp_script *s, tp_script_step st, tp_error *err)
{
    if (s->n_steps == s->cap_steps) {
        int cap = s->cap_steps ? s->cap_steps * 2 : 16;
        tp_script_step *n = realloc(s->steps, (size_t)cap * sizeof *n);
        if (!n)
            return tp_fail(err, TP_ERR_NOMEM, "out of memory for the script");
        s->steps = n;
        s->cap_steps = cap;
    }
    s->steps[s->n_steps++] = st;
    return TP_OK;
}

static const char *skip_space(const char *p)
{
    while (isspace((unsigned char)*p))
        p++;
    return p;
}

/* The first word of *p into word (cap bytes); *p moves past it. */
static void next_word(const char **p, char *word, size_t cap)
{
    const char *s = skip_space(*p);
    size_t n = 0;
    while (s[n] && !isspace((unsigned char)s[n]))
        n++;
    snprintf(word, cap, "%.*s", (int)n, s);
    *p = skip_space(s + n);
}

/* "5s", "500ms", "1.5", "40 tokens": a duration (ms) or a token count. */
static tp_status parse_amount(const char **p, int *is_tokens, double *out, tp_error *err)
{
    char word[64], unit[16];
    next_word(p, word, sizeof word);
    char *end;
    errno = 0;
    double v = strtod(word, &end);
    if (end == word || !isfinite(v) || v < 0 || errno == ERANGE)
        return tp_fail(err, TP_ERR_USAGE, "'%s' is not a duration (5s, 500ms) or '40 tokens'",
                       word);
    const char *rest = *p;
    if (!*end) {
        next_word(&rest, unit, sizeof unit);
        if (!strcmp(unit, "tokens") || !strcmp(unit, "token") || !strcmp(unit, "tok")) {
            *p = rest;
            end = "tokens";
        } else if (!strcmp(unit, "s") || !strcmp(unit, "ms")) {
            *p = rest;
            end = unit;
        } else {
            end = "s";
        }
    }
    *is_tokens = !strcmp(end, "tokens");
    if (*is_tokens) {
        if (v != floor(v) || v > TP_SCRIPT_MAX_TOKENS)
            return tp_fail(err, TP_ERR_USAGE, "'%s tokens': a whole number up to %ld", word,
                           TP_SCRIPT_MAX_TOKENS);
        *out = v;
        return TP_OK;
    }
    double ms = !strcmp(end, "ms") ? v : !strcmp(end, "s") ? v * 1000.0 : -1;
    if (ms < 0)
        return tp_fail(err, TP_ERR_USAGE, "'%s': the unit must be s, ms or tokens", word);
    if (ms > TP_SCRIPT_MAX_SECONDS * 1000.0)
        return tp_fail(err, TP_ERR_USAGE, "'%s' is longer than %.0f s", word,
                       TP_SCRIPT_MAX_SECONDS);
    *out = ms;
    return TP_OK;
}

/* caption "TEXT" (\" \\ \n inside), caption TEXT, or caption off. */
static tp_status parse_caption(const char *arg, char *out, tp_error *err)
{
    size_t len = strlen(arg);
    if (!strcmp(arg, "off") || len == 0) {
        out[0] = '\0';
        return TP_OK;
    }
    if (arg[0] != '"') {
        if (len >= TP_SCRIPT_TEXT_MAX)
            return tp_fail(err, TP_ERR_USAGE, "the caption is longer than %d bytes",
                           TP_SCRIPT_TEXT_MAX - 1);
        memcpy(out, arg, len + 1);
        return TP_OK;
    }
    size_t o = 0;
    const char *p = arg + 1;
    for (; *p && *p != '"'; p++) {
        char c = *p;
        if (c == '\\' && p[1]) {
            p++;
            c = *p == 'n' ? '\n' : *p;
        }
        if (o + 1 >= TP_SCRIPT_TEXT_MAX)
            return tp_fail(err, TP_ERR_USAGE, "the caption is longer than %d bytes",
                           TP_SCRIPT_TEXT_MAX - 1);
        out[o++] = c;
    }
    out[o] = '\0';
    if (*p != '"' || *skip_space(p + 1))
        return tp_fail(err, TP_ERR_USAGE, "the caption needs a closing '\"' at the end");
    return TP_OK;
}

static tp_status parse_command(const char *line, tp_script_step *st, tp_error *err)
{
    tp_sampler_config def;
    tp_sampler_defaults(&def);
    tp_command cmd;
    size_t len = strlen(line);
    if (len >= TP_SCRIPT_TEXT_MAX)
        return tp_fail(err, TP_ERR_USAGE, "the line is longer than %d bytes",
                       TP_SCRIPT_TEXT_MAX - 1);
    tp_status rc = tp_command_parse(line, &def, &cmd, err);
    if (rc)
        return rc;
    st->op = TP_SCRIPT_COMMAND;
    memcpy(st->text, line, len + 1);
    return TP_OK;
}

static tp_status parse_restart(const char *arg, tp_script_step *st, tp_error *err)
{
    st->op = TP_SCRIPT_RESTART;
    st->amount = -1;
    if (!*arg)
        return TP_OK;
    char *end;
    errno = 0;
    unsigned long long seed = isdigit((unsigned char)*arg) ? strtoull(arg, &end, 10) : 0;
    if (!isdigit((unsigned char)*arg) || *skip_space(end) || errno == ERANGE ||
        seed > (1ull << 53))
        return tp_fail(err, TP_ERR_USAGE, "restart: '%s' is not a seed (0 to 2^53)", arg);
    st->amount = (double)seed;
    return TP_OK;
}

static tp_status parse_wait(const char *word, const char *arg, tp_script_step *st, tp_error *err)
{
    int tokens;
    tp_status rc = parse_amount(&arg, &tokens, &st->amount, err);
    if (rc)
        return rc;
    if (*arg)
        return tp_fail(err, TP_ERR_USAGE, "%s: unexpected '%s'", word, arg);
    if (!strcmp(word, "pause")) {
        if (tokens)
            return tp_fail(err, TP_ERR_USAGE, "pause takes a duration (3s), not tokens");
        st->op = TP_SCRIPT_PAUSE_MS;
    } else {
        st->op = tokens ? TP_SCRIPT_WAIT_TOKENS : TP_SCRIPT_WAIT_MS;
    }
    return TP_OK;
}

static tp_status parse_instruction(tp_script *s, const char *line, int no, tp_error *err);

/* at TIME|N tokens INSTRUCTION: a wait until then, then the instruction. */
static tp_status parse_at(tp_script *s, const char *arg, int no, tp_error *err)
{
    tp_script_step st = {.line = no};
    int tokens;
    tp_status rc = parse_amount(&arg, &tokens, &st.amount, err);
    if (rc)
        return rc;
    if (!*arg)
        return tp_fail(err, TP_ERR_USAGE, "at: what should happen then? (at 5s temp 1.5)");
    st.op = tokens ? TP_SCRIPT_UNTIL_TOKENS : TP_SCRIPT_UNTIL_MS;
    if ((rc = add(s, st, err)))
        return rc;
    if (!strncmp(arg, "at", 2) && (!arg[2] || isspace((unsigned char)arg[2])))
        return tp_fail(err, TP_ERR_USAGE, "at: one 'at' per line");
    return parse_instruction(s, arg, no, err);
}

static tp_status parse_instruction(tp_script *s, const char *line, int no, tp_error *err)
{
    char word[32];
    const char *arg = line;
    next_word(&arg, word, sizeof word);
    tp_script_step st = {.line = no};
    tp_status rc;
    if (!strcmp(word, "at"))
        return parse_at(s, arg, no, err);
    if (!strcmp(word, "wait") || !strcmp(word, "pause"))
        rc = parse_wait(word, arg, &st, err);
    else if (!strcmp(word, "caption")) {
        st.op = TP_SCRIPT_CAPTION;
        rc = parse_caption(arg, st.text, err);
    } else if (!strcmp(word, "restart"))
        rc = parse_restart(arg, &st, err);
    else if (!strcmp(word, "quit") && !*arg) {
        st.op = TP_SCRIPT_QUIT;
        rc = TP_OK;
    } else
        rc = parse_command(line, &st, err);
    return rc ? rc : add(s, st, err);
}

/* A copy of line [p, end) without its comment and surrounding blanks. A '#'
 * inside a quoted caption is text. */
static void clean_line(const char *p, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    int quoted = 0;
    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        if (p[i] == '"' && (i == 0 || p[i - 1] != '\\'))
            quoted = !quoted;
        if (p[i] == '#' && !quoted)
            break;
        out[o++] = p[i] == '\r' || p[i] == '\t' ? ' ' : p[i];
    }
    while (o > 0 && isspace((unsigned char)out[o - 1]))
        o--;
    out[o] = '\0';
}

tp_status tp_script_parse(tp_script *s, const char *text, size_t len, const char *name,
                          tp_error *err)
{
    memset(s, 0, sizeof *s);
    size_t pos = 0;
    int no = 0;
    char line[TP_SCRIPT_TEXT_MAX + 64];
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        tp_status rc = TP_OK;
        if (++no > TP_SCRIPT_MAX_LINES)
            rc = tp_fail(err, TP_ERR_USAGE, "more than %d lines", TP_SCRIPT_MAX_LINES);
        else if (end - pos >= sizeof line - 1)
            rc = tp_fail(err, TP_ERR_USAGE, "the line is longer than %d bytes",
                         (int)sizeof line - 2);
        else if (memchr(text + pos, '\0', end - pos))
            rc = tp_fail(err, TP_ERR_USAGE, "a NUL byte: not a text file");
        if (!rc) {
            clean_line(text + pos, end - pos, line, sizeof line);
            const char *p = skip_space(line);
            if (*p)
                rc = parse_instruction(s, p, no, err);
        }
        if (rc) {
            tp_error_prefix(err, "%s line %d", name, no);
            tp_script_free(s);
            return rc;
        }
        pos = end + 1;
    }
    return TP_OK;
}
