/* theme.c - themes as a table of semantic roles; INI files via libinih. */
#include "tempest/tui_theme.h"

#include <ctype.h>
#include <curses.h>
#include <dirent.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#ifndef TEMPEST_DATADIR
#define TEMPEST_DATADIR "/usr/local/share/tempest"
#endif

static const char *const ROLE_NAMES[TP_N_ROLES] = {
    [TP_ROLE_NORMAL] = "normal",   [TP_ROLE_TITLE] = "title",
    [TP_ROLE_BORDER] = "border",   [TP_ROLE_STATUS] = "status",
    [TP_ROLE_MESSAGE] = "message", [TP_ROLE_ERROR] = "error",
    [TP_ROLE_PROMPT] = "prompt",   [TP_ROLE_NEWEST] = "newest",
    [TP_ROLE_MARKER] = "marker",   [TP_ROLE_HEAT0] = "heat0",
    [TP_ROLE_HEAT1] = "heat1",     [TP_ROLE_HEAT2] = "heat2",
    [TP_ROLE_HEAT3] = "heat3",     [TP_ROLE_HEAT4] = "heat4",
    [TP_ROLE_HEADER] = "header",   [TP_ROLE_LABEL] = "label",
    [TP_ROLE_BAR] = "bar",         [TP_ROLE_BASE_MARK] = "base_mark",
    [TP_ROLE_CUT] = "cut",         [TP_ROLE_DRAWN] = "drawn",
    [TP_ROLE_RULE] = "rule",       [TP_ROLE_SPARK] = "spark",
    [TP_ROLE_HELP] = "help",
};

#define S(f, b, a) {(f), (b), (a)}
enum { K = 0, R = 1, G = 2, Y = 3, B = 4, M = 5, C = 6, W = 7, D = TP_COLOR_DEFAULT };

/* The dark default, also what a theme file starts from. */
static const tp_style BUILTIN[TP_N_ROLES] = {
    [TP_ROLE_NORMAL] = S(D, D, 0),          [TP_ROLE_TITLE] = S(K, C, TP_ATTR_BOLD),
    [TP_ROLE_BORDER] = S(B, D, 0),          [TP_ROLE_STATUS] = S(K, W, 0),
    [TP_ROLE_MESSAGE] = S(C, D, 0),         [TP_ROLE_ERROR] = S(W, R, TP_ATTR_BOLD),
    [TP_ROLE_PROMPT] = S(W, D, TP_ATTR_BOLD), [TP_ROLE_NEWEST] = S(K, Y, TP_ATTR_BOLD),
    [TP_ROLE_MARKER] = S(M, D, TP_ATTR_BOLD), [TP_ROLE_HEAT0] = S(R, D, 0),
    [TP_ROLE_HEAT1] = S(M, D, 0),           [TP_ROLE_HEAT2] = S(Y, D, 0),
    [TP_ROLE_HEAT3] = S(G, D, 0),           [TP_ROLE_HEAT4] = S(C, D, 0),
    [TP_ROLE_HEADER] = S(C, D, TP_ATTR_BOLD), [TP_ROLE_LABEL] = S(W, D, 0),
    [TP_ROLE_BAR] = S(G, D, 0),             [TP_ROLE_BASE_MARK] = S(Y, D, TP_ATTR_BOLD),
    [TP_ROLE_CUT] = S(D, D, TP_ATTR_DIM),   [TP_ROLE_DRAWN] = S(K, Y, TP_ATTR_BOLD),
    [TP_ROLE_RULE] = S(M, D, 0),            [TP_ROLE_SPARK] = S(B, W, 0),
    [TP_ROLE_HELP] = S(W, B, 0),
};

const char *tp_role_name(tp_role r)
{
    return r < TP_N_ROLES ? ROLE_NAMES[r] : "?";
}

void tp_theme_builtin(tp_theme *t)
{
    snprintf(t->name, sizeof t->name, "builtin");
    memcpy(t->roles, BUILTIN, sizeof BUILTIN);
}

static const char *const COLOR_NAMES[] = {"black", "red",     "green", "yellow",
                                          "blue",  "magenta", "cyan",  "white"};

static int parse_color(const char *w, short *out)
{
    if (strcasecmp(w, "default") == 0) {
        *out = TP_COLOR_DEFAULT;
        return 1;
    }
    int bright = strncasecmp(w, "bright-", 7) == 0;
    const char *base = bright ? w + 7 : w;
    for (int i = 0; i < 8; i++)
        if (strcasecmp(base, COLOR_NAMES[i]) == 0) {
            *out = (short)(i + (bright ? 8 : 0));
            return 1;
        }
    char *end;
    long n = strtol(w, &end, 10);
    if (isdigit((unsigned char)w[0]) && *end == '\0' && n >= 0 && n <= 255) {
        *out = (short)n;
        return 1;
    }
    return 0;
}

static int parse_attr(const char *w, unsigned *attrs)
{
    static const struct { const char *name; unsigned bit; } ATTRS[] = {
        {"bold", TP_ATTR_BOLD},           {"dim", TP_ATTR_DIM},
        {"reverse", TP_ATTR_REVERSE},     {"underline", TP_ATTR_UNDERLINE},
        {"italic", TP_ATTR_ITALIC},       {"normal", 0},
    };
    for (size_t i = 0; i < sizeof ATTRS / sizeof ATTRS[0]; i++)
        if (strcasecmp(w, ATTRS[i].name) == 0) {
            *attrs |= ATTRS[i].bit;
            return 1;
        }
    return 0;
}

/* "FG [on BG] [attr...]": words split by blanks or commas. */
static int parse_style(const char *value, tp_style *out, char *why, size_t cap)
{
    tp_style s = {TP_COLOR_DEFAULT, TP_COLOR_DEFAULT, 0};
    char buf[256];
    snprintf(buf, sizeof buf, "%s", value);
    int want_bg = 0, n_colors = 0;
    for (char *save = NULL, *w = strtok_r(buf, " \t,", &save); w; w = strtok_r(NULL, " \t,", &save)) {
        short c;
        if (strcasecmp(w, "on") == 0) {
            want_bg = 1;
        } else if (parse_attr(w, &s.attrs)) {
            continue;
        } else if (parse_color(w, &c)) {
            if (want_bg)
                s.bg = c;
            else if (n_colors++ == 0)
                s.fg = c;
            else {
                snprintf(why, cap, "two foreground colours in '%.60s'", value);
                return 0;
            }
            want_bg = 0;
        } else {
            snprintf(why, cap, "unknown colour or attribute '%.40s'", w);
            return 0;
        }
    }
    *out = s;
    return 1;
}

struct parse_ctx {
    tp_theme *theme;
    char why[200];
};

static int on_entry(void *user, const char *section, const char *name, const char *value)
{
    struct parse_ctx *ctx = user;
    if (strcmp(section, "theme") == 0) {
        if (strcmp(name, "name") == 0)
            snprintf(ctx->theme->name, sizeof ctx->theme->name, "%s", value);
        return 1; /* description and friends are for people */
    }
    if (strcmp(section, "roles") != 0) {
        snprintf(ctx->why, sizeof ctx->why, "unknown section [%.40s]", section);
        return 0;
    }
    for (int r = 0; r < TP_N_ROLES; r++)
        if (strcmp(name, ROLE_NAMES[r]) == 0)
            return parse_style(value, &ctx->theme->roles[r], ctx->why, sizeof ctx->why);
    snprintf(ctx->why, sizeof ctx->why, "unknown role '%.40s'", name);
    return 0;
}

tp_status tp_theme_parse_file(tp_theme *t, const char *path, tp_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return tp_fail(err, TP_ERR_IO, "cannot open theme '%s'", path);
    tp_theme work = *t;
    struct parse_ctx ctx = {&work, "syntax error"};
    int line = ini_parse_file(f, on_entry, &ctx);
    fclose(f);
    if (line != 0)
        return tp_fail(err, TP_ERR_FORMAT, "%s:%d: %s", path, line,
                       line < 0 ? "cannot read the file" : ctx.why);
    *t = work;
    return TP_OK;
}

/* Theme directories, most local first: beside the binary, the source tree,
 * the install prefix (as the bundled model is found). */
static int theme_dirs(char dirs[][PATH_MAX], int max)
{
    int n = 0;
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
        const char *fmts[] = {"%s/themes", "%s/../themes", "%s/../share/tempest/themes"};
        for (int i = 0; i < 3 && n < max; i++)
            if (snprintf(dirs[n], PATH_MAX, fmts[i], exe) < PATH_MAX)
                n++;
    }
    if (n < max && snprintf(dirs[n], PATH_MAX, "%s/themes", TEMPEST_DATADIR) < PATH_MAX)
        n++;
    return n;
}

static int looks_like_path(const char *s)
{
    size_t n = strlen(s);
    return strchr(s, '/') || (n > 4 && strcmp(s + n - 4, ".ini") == 0);
}

tp_status tp_theme_load(tp_theme *t, const char *name, tp_error *err)
{
    tp_theme_builtin(t);
    if (looks_like_path(name))
        return tp_theme_parse_file(t, name, err);
    for (const char *c = name; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_')
            return tp_fail(err, TP_ERR_USAGE, "bad theme name '%.60s'", name);
    char dirs[4][PATH_MAX], path[PATH_MAX * 2];
    int n = theme_dirs(dirs, 4);
    for (int i = 0; i < n; i++) {
        int len = snprintf(path, sizeof path, "%s/%s.ini", dirs[i], name);
        if (len > 0 && (size_t)len < sizeof path && access(path, R_OK) == 0) {
            tp_status rc = tp_theme_parse_file(t, path, err);
            if (!rc && strcmp(t->name, "builtin") == 0)
                snprintf(t->name, sizeof t->name, "%s", name);
            return rc;
        }
    }
    return tp_fail(err, TP_ERR_USAGE, "no theme named '%s' (try default, light, mono, "
                   "projector, or a path)", name);
}

static int has_name(char names[][64], int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0)
            return 1;
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(a, b);
}

int tp_theme_names(char names[][64], int max)
{
    char dirs[4][PATH_MAX];
    int n_dirs = theme_dirs(dirs, 4), n = 0;
    for (int i = 0; i < n_dirs; i++) {
        DIR *d = opendir(dirs[i]);
        if (!d)
            continue;
        for (struct dirent *e; (e = readdir(d)) && n < max;) {
            size_t len = strlen(e->d_name);
            if (len <= 4 || len - 4 >= 64 || strcmp(e->d_name + len - 4, ".ini") != 0)
                continue;
            char base[64];
            snprintf(base, sizeof base, "%.*s", (int)(len - 4), e->d_name);
            if (!has_name(names, n, base))
                snprintf(names[n++], 64, "%s", base);
        }
        closedir(d);
    }
    qsort(names, (size_t)n, sizeof names[0], by_name);
    return n;
}

/* On 8-colour terminals the bright colours become their base plus bold. */
static short fit_color(short c, unsigned *attrs)
{
    if (c < 0 || c < COLORS)
        return c;
    if (c >= 8 && c < 16) {
        *attrs |= TP_ATTR_BOLD;
        return (short)(c - 8);
    }
    return (short)(c % 8);
}

static int curses_attrs(unsigned a)
{
    int out = 0;
    if (a & TP_ATTR_BOLD) out |= A_BOLD;
    if (a & TP_ATTR_DIM) out |= A_DIM;
    if (a & TP_ATTR_REVERSE) out |= A_REVERSE;
    if (a & TP_ATTR_UNDERLINE) out |= A_UNDERLINE;
#ifdef A_ITALIC
    if (a & TP_ATTR_ITALIC) out |= A_ITALIC;
#endif
    return out;
}

void tp_theme_apply(const tp_theme *t, int use_color, int *attrs)
{
    for (int r = 0; r < TP_N_ROLES; r++) {
        tp_style s = t->roles[r];
        unsigned extra = s.attrs;
        if (!use_color || r + 1 >= COLOR_PAIRS) {
            /* without colour a coloured background still needs to stand out */
            if (s.bg != TP_COLOR_DEFAULT && s.bg != COLOR_BLACK)
                extra |= TP_ATTR_REVERSE;
            attrs[r] = curses_attrs(extra);
            continue;
        }
        short fg = fit_color(s.fg, &extra), bg = fit_color(s.bg, &extra);
        init_pair((short)(r + 1), fg, bg);
        attrs[r] = curses_attrs(extra) | (int)COLOR_PAIR(r + 1);
    }
}
