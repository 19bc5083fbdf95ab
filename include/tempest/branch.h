/* branch.h - every alternative history of a generation, kept as a tree.
 *
 * A branch is a history of steps. The root starts at the prompt; any other
 * branch shares its first fork_step steps with its parent and owns the
 * steps after them, so a tree of b branches of length n costs b short tails
 * rather than b whole copies. The front end saves the current history into
 * the current branch before it forks or switches, and loads a branch's
 * whole history (tp_branch_path) into the session when switching to it.
 */
#ifndef TEMPEST_BRANCH_H
#define TEMPEST_BRANCH_H

#include "tempest/error.h"
#include "tempest/session.h"

typedef struct tp_branch {
    int parent;    /* -1: the root */
    int fork_step; /* steps shared with the parent */
    tp_step *steps; /* own steps, after fork_step */
    int n_steps, cap_steps;
} tp_branch;

typedef struct tp_branch_tree {
    tp_branch *b;
    int n, cap;
    int current;
} tp_branch_tree;

/* One empty root, which is current. */
tp_status tp_branch_tree_init(tp_branch_tree *t, tp_error *err);
void tp_branch_tree_free(tp_branch_tree *t);
/* Back to one empty root (a restart starts a new tree). */
void tp_branch_tree_clear(tp_branch_tree *t);

/* Whole length of branch id: its shared steps plus its own. */
int tp_branch_length(const tp_branch_tree *t, int id);

/* Store steps[0 .. n) as the current branch's history. Its first fork_step
 * steps belong to its ancestors, so n must be at least fork_step. */
tp_status tp_branch_save(tp_branch_tree *t, const tp_step *steps, int n, tp_error *err);

/* A new branch off the current one after at_step steps (0 <= at_step <=
 * its length); it becomes current, empty; returns its id or -1 (err). */
int tp_branch_fork(tp_branch_tree *t, int at_step, tp_error *err);

/* The whole history of branch id in a new array (*out, free it; NULL when
 * empty) of *n steps. */
tp_status tp_branch_path(const tp_branch_tree *t, int id, tp_step **out, int *n,
                         tp_error *err);

/* How many ancestors id has (the root: 0). */
int tp_branch_depth(const tp_branch_tree *t, int id);

#endif
