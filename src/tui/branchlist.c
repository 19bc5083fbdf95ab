/* branchlist.c - the branches (`b`): every history forced so far, as a
 * tree; Up/Down and Enter (or a digit) switch the text to another one. */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tempest/tui_explore.h"
#include "tempest/tui_panes.h"

#define PREVIEW_TOKENS 24

/* The steps of branch i as they are now: the session's for the current
 * one (the tree has them only as of the last save). */
static void branch_view(const tp_app *a, int i, const tp_step **own, int *n_own, int *len)
{
    const tp_branch_tree *t = &a->explore->tree;
    const tp_branch *b = &t->b[i];
    if (i == t->current) {
        int n = a->session->n_steps;
        *own = a->session->steps + b->fork_step;
        *n_own = n - b->fork_step;
        *len = n;
    } else {
        *own = b->steps;
        *n_own = b->n_steps;
        *len = b->fork_step + b->n_steps;
    }
}

static void preview(const tp_app *a, const tp_step *own, int n, char *out, size_t cap)
{
    int ids[PREVIEW_TOKENS];
    int k = n < PREVIEW_TOKENS ? n : PREVIEW_TOKENS;
    for (int j = 0; j < k; j++)
        ids[j] = own[j].token;
    char *text = tp_vocab_join(a->model->vocab, -1, ids, k);
    char line[256];
    tp_escape_line(text ? text : "", line, sizeof line);
    snprintf(out, cap, "%s", line);
    free(text);
}

void tp_branches_draw(tp_app *a, int y, int x, int h, int w)
{
    const tp_explore *e = a->explore;
    const tp_branch_tree *t = &e->tree;
    int attr = a->attrs[TP_ROLE_HELP], row = 0;
    char text[512], tail[256];
    snprintf(text, sizeof text, "branches: %d   (Up/Down, Enter or 1-9: switch; b: close)", t->n);
    tp_box_line(y + row++, x, w, text, attr | A_BOLD);
    int first = e->branch_pick - (h - 2) + 1 > 0 ? e->branch_pick - (h - 2) + 1 : 0;
    for (int i = first; i < t->n && row < h; i++) {
        const tp_step *own;
        int n_own, len;
        branch_view(a, i, &own, &n_own, &len);
        preview(a, own, n_own, tail, sizeof tail);
        int depth = tp_branch_depth(t, i);
        char where[64];
        if (t->b[i].parent < 0)
            snprintf(where, sizeof where, "root");
        else
            snprintf(where, sizeof where, "from %d at step %d", t->b[i].parent + 1,
                     t->b[i].fork_step);
        snprintf(text, sizeof text, "%s%*s%-2d %-18s %5d steps  \"%s\"",
                 i == t->current ? (a->ascii ? ">" : "▶") : " ", depth * 2, "", i + 1, where,
                 len, tail);
        tp_box_line(y + row++, x, w, text, i == e->branch_pick ? (int)(attr | A_REVERSE) : attr);
    }
}

static void switch_to(tp_app *a, int id)
{
    tp_explore *e = a->explore;
    tp_session *s = a->session;
    tp_error err = {0};
    tp_step *path = NULL;
    int n = 0;
    e->overlay = TP_OVERLAY_NONE;
    if (id == e->tree.current)
        return;
    if (tp_branch_save(&e->tree, s->steps, s->n_steps, &err) ||
        tp_branch_path(&e->tree, id, &path, &n, &err) ||
        tp_rewind_load(&e->rewind, s, path, n, &err)) {
        free(path);
        tp_app_message(a, 1, "%s", err.msg);
        return;
    }
    free(path);
    e->tree.current = id;
    e->version++;
    a->show_drawn = 0;
    tp_explore_do(a, TP_ACT_LIVE, 0);
    tp_app_message(a, 0, "branch %d: %d steps", id + 1, n);
}

int tp_branches_key(tp_app *a, int ch)
{
    tp_explore *e = a->explore;
    int n = e->tree.n;
    switch (ch) {
    case KEY_UP: e->branch_pick = e->branch_pick > 0 ? e->branch_pick - 1 : 0; break;
    case KEY_DOWN: e->branch_pick = e->branch_pick < n - 1 ? e->branch_pick + 1 : n - 1; break;
    case '\n': case '\r': case KEY_ENTER: switch_to(a, e->branch_pick); break;
    default:
        if (ch >= '1' && ch <= '9' && ch - '1' < n) {
            switch_to(a, ch - '1');
            break;
        }
        return 0;
    }
    a->dirty = 1;
    return 1;
}
