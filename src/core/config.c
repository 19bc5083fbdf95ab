/* config.c - the config file: syntax, names and duplicates (see config.h).
 *
 * libinih does the INI syntax. It does not tell the handler the line
 * number, so the text is fed to it through a reader that counts lines: the
 * reader hands over one line per call (longer lines are refused up front),
 * so when the handler runs, the count is the line of the entry. */
#include "tempest/config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILE (64u << 10)

const char *const TP_CONFIG_KEYS[] = {
    "model", "theme", "prompt", "speed", "temperature", "top_k", "top_p", "min_p",
    "order", "repeat_penalty", "repeat_last_n", "seed", "weights", NULL,
};

struct reader {
    const char *p, *end;
    int line;
};

struct parse_ctx {
    tp_config *c;
    struct reader *in;
    char why[160];
    int why_line;
};

static char *read_line(char *str, int num, void *stream)
{
    struct reader *in = stream;
    if (in->p >= in->end || num < 2)
        return NULL;
    size_t n = 0;
    while (in->p + n < in->end && n < (size_t)num - 1 && in->p[n] != '\n')
        n++;
    if (in->p + n < in->end && n < (size_t)num - 1)
        n++; /* the newline itself */
    memcpy(str, in->p, n);
    str[n] = '\0';
    in->p += n;
    in->line++;
    return str;
}

static int refuse(struct parse_ctx *ctx, const char *fmt, const char *what)
{
    if (!ctx->why_line) { /* inih goes on after an error; report the first */
        snprintf(ctx->why, sizeof ctx->why, fmt, what);
        ctx->why_line = ctx->in->line;
    }
    return 0;
}

static const char *canonical_key(const char *name)
{
    char k[32];
    size_t n = strlen(name);
    if (n >= sizeof k)
        return NULL;
    for (size_t i = 0; i <= n; i++)
        k[i] = name[i] == '-' ? '_' : (char)tolower((unsigned char)name[i]);
    for (int i = 0; TP_CONFIG_KEYS[i]; i++)
        if (strcmp(k, TP_CONFIG_KEYS[i]) == 0)
            return TP_CONFIG_KEYS[i];
    return NULL;
}

/* "a value" -> a value: quotes keep the spaces inih would trim. */
static void unquote(char *dst, const char *value, size_t cap)
{
    size_t n = strlen(value);
    if (n >= 2 && value[0] == '"' && value[n - 1] == '"') {
        value++;
        n -= 2;
    }
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, value, n);
    dst[n] = '\0';
}

static int on_entry(void *user, const char *section, const char *name, const char *value)
{
    struct parse_ctx *ctx = user;
    tp_config *c = ctx->c;
    if (ctx->why_line)
        return 0;
    if (section[0] && strcmp(section, "tempest") != 0)
        return refuse(ctx, "unknown section [%.40s] (settings go at the top or under "
                      "[tempest])", section);
    const char *key = canonical_key(name);
    if (!key)
        return refuse(ctx, "unknown setting '%.40s'", name);
    for (int i = 0; i < c->n; i++)
        if (c->entries[i].key == key)
            return refuse(ctx, "%s is set twice", key);
    if (c->n >= TP_CONFIG_MAX_ENTRIES) /* cannot happen: fewer keys than slots */
        return refuse(ctx, "too many settings%s", "");
    tp_config_entry *e = &c->entries[c->n++];
    e->key = key;
    e->line = ctx->in->line;
    unquote(e->value, value, sizeof e->value);
    return 1;
}

/* Lines inih would cut and NUL bytes it would stop at: refused, with the
 * line. Returns the bad line, or 0. */
static int find_bad_line(const char *text, size_t len, const char **why)
{
    int line = 1;
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\0') {
            *why = "a NUL byte";
            return line;
        }
        if (text[i] == '\n') {
            line++;
            start = i + 1;
        } else if (i - start >= TP_CONFIG_MAX_LINE) {
            *why = "a line longer than 197 bytes";
            return line;
        }
    }
    return 0;
}

tp_status tp_config_parse(tp_config *c, const char *name, const char *text, size_t len,
                          tp_error *err)
{
    memset(c, 0, sizeof *c);
    if (len > MAX_FILE)
        return tp_fail(err, TP_ERR_USAGE, "%s: %zu bytes, more than a config file's %u",
                       name, len, MAX_FILE);
    const char *why = NULL;
    int bad = find_bad_line(text, len, &why);
    if (bad)
        return tp_fail(err, TP_ERR_USAGE, "%s:%d: %s", name, bad, why);
    struct reader in = {text, text + len, 0};
    struct parse_ctx ctx = {.c = c, .in = &in};
    int line = ini_parse_stream(read_line, &in, on_entry, &ctx);
    if (line == 0)
        return TP_OK;
    memset(c, 0, sizeof *c);
    if (line < 0)
        return tp_fail(err, TP_ERR_NOMEM, "%s: out of memory", name);
    if (ctx.why_line)
        return tp_fail(err, TP_ERR_USAGE, "%s:%d: %s", name, ctx.why_line, ctx.why);
    return tp_fail(err, TP_ERR_USAGE, "%s:%d: not 'name = value' or '[section]'", name, line);
}

tp_status tp_config_load(tp_config *c, const char *path, tp_error *err)
{
    memset(c, 0, sizeof *c);
    if (strlen(path) >= sizeof c->path)
        return tp_fail(err, TP_ERR_USAGE, "config file path too long: '%.60s...'", path);
    FILE *f = fopen(path, "rb");
    if (!f)
        return tp_fail(err, TP_ERR_IO, "cannot open config file '%s': %s", path,
                       strerror(errno));
    char *buf = malloc(MAX_FILE + 1);
    if (!buf) {
        fclose(f);
        return tp_fail(err, TP_ERR_NOMEM, "out of memory reading '%s'", path);
    }
    size_t n = fread(buf, 1, MAX_FILE + 1, f);
    int failed = ferror(f);
    fclose(f);
    tp_status rc = failed ? tp_fail(err, TP_ERR_IO, "cannot read config file '%s'", path)
                          : tp_config_parse(c, path, buf, n, err);
    free(buf);
    if (!rc)
        snprintf(c->path, sizeof c->path, "%s", path);
    return rc;
}

tp_status tp_config_locate(char *out, size_t cap, int *is_explicit, tp_error *err)
{
    const char *env = getenv("TEMPEST_CONFIG");
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    int n = 0;
    *is_explicit = env && *env;
    if (*is_explicit)
        n = snprintf(out, cap, "%s", env);
    else if (xdg && xdg[0] == '/') /* the XDG spec: relative values are ignored */
        n = snprintf(out, cap, "%s/tempest/config.ini", xdg);
    else if (home && *home)
        n = snprintf(out, cap, "%s/.config/tempest/config.ini", home);
    else if (cap)
        out[0] = '\0';
    if (n < 0 || (size_t)n >= cap)
        return tp_fail(err, TP_ERR_USAGE, "config file path too long");
    return TP_OK;
}

const char *tp_config_get(const tp_config *c, const char *key)
{
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->entries[i].key, key) == 0)
            return c->entries[i].value;
    return NULL;
}
