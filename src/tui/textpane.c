/* textpane.c - the prompt and the generated text, word-wrapped, each token
 * coloured by how likely it was, markers where a setting changed. */
#include <curses.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "tempest/tui_explore.h"
#include "tempest/tui_panes.h"

typedef struct glyph {
    char bytes[8];
    unsigned char len, width;
    unsigned char newline; /* a line break, not drawn */
    int attr;
} glyph;

typedef struct glyphs {
    glyph *g;
    int n, cap;
} glyphs;

static void push(glyphs *gs, const char *bytes, size_t len, int width, int attr, int newline)
{
    if (gs->n == gs->cap || len >= sizeof gs->g[0].bytes)
        return; /* the buffer is sized for the pane; overflow just clips */
    glyph *g = &gs->g[gs->n++];
    memcpy(g->bytes, bytes, len);
    g->bytes[len] = '\0';
    g->len = (unsigned char)len;
    g->width = (unsigned char)width;
    g->newline = (unsigned char)newline;
    g->attr = attr;
}

/* Split a token's text into glyphs; newlines break lines, tabs become a
 * space, other control characters a visible escape. */
static void push_text(glyphs *gs, const char *s, int attr, int newest, int ascii)
{
    mbstate_t st;
    memset(&st, 0, sizeof st);
    size_t left = strlen(s);
    while (left > 0) {
        wchar_t wc;
        size_t n = mbrtowc(&wc, s, left, &st);
        if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
            memset(&st, 0, sizeof st);
            push(gs, "?", 1, 1, attr, 0);
            n = 1;
        } else if (wc == L'\n') {
            if (newest)
                push(gs, ascii ? "$" : "⏎", ascii ? 1 : 3, 1, attr, 0);
            push(gs, "", 0, 0, attr, 1);
        } else if (wc == L'\t' || wc < 32) {
            push(gs, " ", 1, 1, attr, 0);
        } else {
            int w = wcwidth(wc);
            push(gs, s, n, w < 0 ? 1 : w, attr, 0);
        }
        s += n;
        left -= n;
    }
}

static int token_attr(const tp_app *a, const tp_step *st, int newest)
{
    if (newest)
        return a->attrs[TP_ROLE_NEWEST];
    int level = 4;
    if (a->color_mode == TP_COLOR_BY_PROB)
        level = tp_heat_level(st->p);
    else if (a->color_mode == TP_COLOR_BY_RANK)
        level = tp_rank_level(st->rank);
    else
        return a->attrs[TP_ROLE_NORMAL];
    return a->attrs[TP_ROLE_HEAT0 + level];
}

static int changed_at(const tp_session *s, int step)
{
    char buf[8];
    const tp_sampler_config *before = step == 0 ? NULL : tp_session_step_config(s, step - 1);
    return before && tp_knobs_describe_change(before, tp_session_step_config(s, step), 1, buf, sizeof buf);
}

/* The steps shown: the newest ones, or around the time-travel cursor. */
static void step_window(const tp_app *a, int budget, int *first, int *end)
{
    const tp_session *s = a->session;
    int cursor = tp_explore_cursor(a);
    *end = s->n_steps;
    *first = s->n_steps > budget ? s->n_steps - budget : 0;
    if (cursor >= 0 && cursor < *first) {
        *first = cursor > budget / 2 ? cursor - budget / 2 : 0;
        *end = *first + budget < s->n_steps ? *first + budget : s->n_steps;
    }
}

/* Returns the glyph where the cursor's token starts, or -1. */
static int collect(const tp_app *a, glyphs *gs, int budget)
{
    const tp_session *s = a->session;
    const tp_vocab *v = a->model->vocab;
    int first_step, end_step, cursor = tp_explore_cursor(a), cursor_glyph = -1;
    step_window(a, budget, &first_step, &end_step);
    int prev = -1;
    if (first_step == 0) {
        for (int i = 0; i < s->n_prompt; i++) {
            int id = s->tokens[i];
            push_text(gs, tp_vocab_separator(v, prev, id), a->attrs[TP_ROLE_PROMPT], 0, a->ascii);
            push_text(gs, tp_vocab_token(v, id), a->attrs[TP_ROLE_PROMPT], 0, a->ascii);
            prev = id;
        }
    } else {
        prev = s->tokens[s->n_prompt + first_step - 1];
    }
    for (int i = first_step; i < end_step; i++) {
        const tp_step *st = &s->steps[i];
        int newest = i == s->n_steps - 1;
        if (changed_at(s, i))
            push(gs, a->ascii ? "|" : "│", a->ascii ? 1 : 3, 1, a->attrs[TP_ROLE_MARKER], 0);
        int attr = token_attr(a, st, newest);
        if (a->divergence_mark == i + 1) { /* lanes: where this text parts from another */
            push(gs, a->ascii ? ">>" : "»", 2, a->ascii ? 2 : 1, a->attrs[TP_ROLE_MARKER], 0);
            attr |= A_UNDERLINE;
        }
        push_text(gs, tp_vocab_separator(v, prev, st->token), attr, 0, a->ascii);
        if (i == cursor) {
            cursor_glyph = gs->n;
            attr = (int)(attr | A_REVERSE);
        }
        push_text(gs, tp_vocab_token(v, st->token), attr, newest || i == cursor, a->ascii);
        prev = st->token;
    }
    if (cursor >= s->n_steps) { /* the next token: a block where it will go */
        cursor_glyph = gs->n;
        push(gs, " ", 1, 1, (int)(a->attrs[TP_ROLE_NEWEST] | A_REVERSE), 0);
    }
    return cursor_glyph;
}

/* The first line to show: the last r.h lines, or lines that hold the cursor. */
static int first_line(const int *starts, int n_lines, int h, int cursor_glyph)
{
    int first = n_lines > h ? n_lines - h : 0;
    if (cursor_glyph < 0)
        return first;
    int k = 0;
    while (k + 1 < n_lines && starts[k + 1] <= cursor_glyph)
        k++;
    return k < first ? k : first;
}

/* Greedy word wrap: line_start[k] is the first glyph of line k. */
static int wrap(const glyphs *gs, int width, int *line_start, int max_lines)
{
    int n_lines = 0, col = 0, last_space = -1, start = 0;
    if (max_lines > 0)
        line_start[n_lines++] = 0;
    for (int i = 0; i < gs->n && n_lines < max_lines; i++) {
        const glyph *g = &gs->g[i];
        if (g->newline) {
            start = i + 1;
            line_start[n_lines++] = start;
            col = 0;
            last_space = -1;
            continue;
        }
        if (col + g->width > width) {
            start = last_space >= start ? last_space + 1 : i;
            line_start[n_lines++] = start;
            col = 0;
            for (int j = start; j < i; j++)
                col += gs->g[j].width;
            last_space = -1;
        }
        if (g->len == 1 && g->bytes[0] == ' ')
            last_space = i;
        col += g->width;
    }
    return n_lines;
}

static void paint_line(const glyphs *gs, int from, int to, int y, int x, int w)
{
    int col = 0;
    for (int i = from; i < to && col < w; i++) {
        const glyph *g = &gs->g[i];
        if (g->newline || col + g->width > w)
            continue;
        attron(g->attr);
        mvaddnstr(y, x + col, g->bytes, g->len);
        attroff(g->attr);
        col += g->width;
    }
}

void tp_textpane_draw(tp_app *a, tp_rect r)
{
    if (r.h <= 0 || r.w <= 0)
        return;
    int budget = r.h * r.w * 2 + 64;
    glyphs gs = {calloc((size_t)budget * 2, sizeof(glyph)), 0, budget * 2};
    int max_lines = budget * 2 + 1;
    int *starts = calloc((size_t)max_lines + 1, sizeof *starts);
    if (!gs.g || !starts) {
        free(gs.g);
        free(starts);
        tp_put_clipped(r.y, r.x, "out of memory", r.w, a->attrs[TP_ROLE_ERROR]);
        return;
    }
    int cursor_glyph = collect(a, &gs, budget);
    int n_lines = wrap(&gs, r.w, starts, max_lines);
    starts[n_lines] = gs.n;
    int first = first_line(starts, n_lines, r.h, cursor_glyph);
    for (int k = first; k < n_lines; k++)
        paint_line(&gs, starts[k], starts[k + 1], r.y + k - first, r.x, r.w);
    free(gs.g);
    free(starts);
}
