/* branch.c - the tree of alternative histories (see branch.h). */
#include "tempest/branch.h"

#include <stdlib.h>
#include <string.h>

static tp_status add_branch(tp_branch_tree *t, int parent, int fork_step, tp_error *err)
{
    if (t->n == t->cap) {
        int cap = t->cap ? t->cap * 2 : 8;
        tp_branch *b = realloc(t->b, (size_t)cap * sizeof *b);
        if (!b)
            return tp_fail(err, TP_ERR_NOMEM, "out of memory for %d branches", cap);
        t->b = b;
        t->cap = cap;
    }
    t->b[t->n++] = (tp_branch){.parent = parent, .fork_step = fork_step};
    return TP_OK;
}

tp_status tp_branch_tree_init(tp_branch_tree *t, tp_error *err)
{
    memset(t, 0, sizeof *t);
    return add_branch(t, -1, 0, err);
}

void tp_branch_tree_clear(tp_branch_tree *t)
{
    for (int i = 0; i < t->n; i++)
        free(t->b[i].steps);
    t->n = t->cap ? 1 : 0; /* the root's slot stays */
    if (t->n)
        t->b[0] = (tp_branch){.parent = -1};
    t->current = 0;
}

void tp_branch_tree_free(tp_branch_tree *t)
{
    tp_branch_tree_clear(t);
    free(t->b);
    memset(t, 0, sizeof *t);
}

int tp_branch_length(const tp_branch_tree *t, int id)
{
    if (id < 0 || id >= t->n)
        return 0;
    return t->b[id].fork_step + t->b[id].n_steps;
}

tp_status tp_branch_save(tp_branch_tree *t, const tp_step *steps, int n, tp_error *err)
{
    tp_branch *b = &t->b[t->current];
    if (n < b->fork_step)
        return tp_fail(err, TP_ERR_USAGE, "a history of %d steps is shorter than the fork at %d",
                       n, b->fork_step);
    int own = n - b->fork_step;
    if (own > b->cap_steps) {
        tp_step *s = realloc(b->steps, (size_t)own * sizeof *s);
        if (!s)
            return tp_fail(err, TP_ERR_NOMEM, "out of memory for a branch of %d steps", n);
        b->steps = s;
        b->cap_steps = own;
    }
    if (own)
        memcpy(b->steps, steps + b->fork_step, (size_t)own * sizeof *steps);
    b->n_steps = own;
    return TP_OK;
}

int tp_branch_fork(tp_branch_tree *t, int at_step, tp_error *err)
{
    int len = tp_branch_length(t, t->current);
    if (at_step < 0 || at_step > len) {
        tp_fail(err, TP_ERR_USAGE, "cannot branch at step %d of a history of %d", at_step, len);
        return -1;
    }
    if (add_branch(t, t->current, at_step, err))
        return -1;
    t->current = t->n - 1;
    return t->current;
}

/* Fill out[0 .. length of id) from the branch and its ancestors. */
static void fill_path(const tp_branch_tree *t, int id, tp_step *out, int upto)
{
    const tp_branch *b = &t->b[id];
    if (b->parent >= 0 && b->fork_step > 0)
        fill_path(t, b->parent, out, b->fork_step < upto ? b->fork_step : upto);
    int own = upto - b->fork_step;
    if (own > b->n_steps)
        own = b->n_steps; /* never read past what was saved */
    if (own > 0)
        memcpy(out + b->fork_step, b->steps, (size_t)own * sizeof *out);
}

tp_status tp_branch_path(const tp_branch_tree *t, int id, tp_step **out, int *n,
                         tp_error *err)
{
    *out = NULL;
    *n = 0;
    if (id < 0 || id >= t->n)
        return tp_fail(err, TP_ERR_USAGE, "no branch %d (there are %d)", id + 1, t->n);
    int len = tp_branch_length(t, id);
    if (len == 0)
        return TP_OK;
    *out = malloc((size_t)len * sizeof **out);
    if (!*out)
        return tp_fail(err, TP_ERR_NOMEM, "out of memory for a history of %d steps", len);
    fill_path(t, id, *out, len);
    *n = len;
    return TP_OK;
}

int tp_branch_depth(const tp_branch_tree *t, int id)
{
    int d = 0;
    while (id > 0 && id < t->n && t->b[id].parent >= 0) {
        id = t->b[id].parent;
        d++;
    }
    return d;
}
