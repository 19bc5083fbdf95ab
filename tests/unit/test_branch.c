/* test_branch.c - the tree of alternative histories. */
#include <criterion/criterion.h>
#include <string.h>

#include "tempest/branch.h"

/* n steps whose tokens are base, base+1, ... */
static void history(tp_step *out, int n, int base)
{
    memset(out, 0, (size_t)n * sizeof *out);
    for (int i = 0; i < n; i++)
        out[i].token = base + i;
}

static void assert_path(const tp_branch_tree *t, int id, const int *tokens, int n)
{
    tp_step *p = NULL;
    int len = -1;
    cr_assert_eq(tp_branch_path(t, id, &p, &len, NULL), TP_OK);
    cr_assert_eq(len, n, "branch %d: length %d, want %d", id, len, n);
    for (int i = 0; i < n; i++)
        cr_assert_eq(p[i].token, tokens[i], "branch %d step %d: %d, want %d", id, i,
                     p[i].token, tokens[i]);
    free(p);
}

Test(branch, starts_with_one_empty_root)
{
    tp_branch_tree t;
    cr_assert_eq(tp_branch_tree_init(&t, NULL), TP_OK);
    cr_assert_eq(t.n, 1);
    cr_assert_eq(t.current, 0);
    cr_assert_eq(tp_branch_length(&t, 0), 0);
    tp_step *p = (tp_step *)1;
    int n = -1;
    cr_assert_eq(tp_branch_path(&t, 0, &p, &n, NULL), TP_OK);
    cr_assert_null(p);
    cr_assert_eq(n, 0);
    tp_branch_tree_free(&t);
}

/* root: 0..9; fork A at 4 (4 own); back on root it grew to 12; fork B off
 * A at 2 (before A's fork): B shares the root's first two steps. */
Test(branch, forks_share_prefixes_and_keep_their_tails)
{
    tp_branch_tree t;
    tp_branch_tree_init(&t, NULL);
    tp_step h[32];
    history(h, 10, 0);
    cr_assert_eq(tp_branch_save(&t, h, 10, NULL), TP_OK);
    int a = tp_branch_fork(&t, 4, NULL);
    cr_assert_eq(a, 1);
    cr_assert_eq(t.current, 1);
    cr_assert_eq(tp_branch_length(&t, a), 4);
    history(h + 4, 4, 100); /* 0 1 2 3 100 101 102 103 */
    cr_assert_eq(tp_branch_save(&t, h, 8, NULL), TP_OK);
    assert_path(&t, a, (int[]){0, 1, 2, 3, 100, 101, 102, 103}, 8);
    assert_path(&t, 0, (int[]){0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 10);
    int b = tp_branch_fork(&t, 2, NULL);
    cr_assert_eq(b, 2);
    cr_assert_eq(tp_branch_depth(&t, b), 2);
    history(h + 2, 1, 200);
    cr_assert_eq(tp_branch_save(&t, h, 3, NULL), TP_OK);
    assert_path(&t, b, (int[]){0, 1, 200}, 3);
    /* switch back to the root and let it grow: the others are untouched */
    t.current = 0;
    history(h, 12, 0);
    cr_assert_eq(tp_branch_save(&t, h, 12, NULL), TP_OK);
    assert_path(&t, 0, (int[]){0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 12);
    assert_path(&t, a, (int[]){0, 1, 2, 3, 100, 101, 102, 103}, 8);
    assert_path(&t, b, (int[]){0, 1, 200}, 3);
    tp_branch_tree_free(&t);
}

Test(branch, bad_forks_and_saves_are_refused)
{
    tp_branch_tree t;
    tp_branch_tree_init(&t, NULL);
    tp_step h[8];
    history(h, 5, 0);
    tp_branch_save(&t, h, 5, NULL);
    tp_error err = {0};
    cr_assert_eq(tp_branch_fork(&t, 6, &err), -1);
    cr_assert(strstr(err.msg, "step 6"), "%s", err.msg);
    cr_assert_eq(tp_branch_fork(&t, -1, &err), -1);
    cr_assert_eq(t.n, 1, "a refused fork adds nothing");
    cr_assert_eq(tp_branch_fork(&t, 5, NULL), 1); /* at the end: a continuation */
    cr_assert_neq(tp_branch_save(&t, h, 4, &err), TP_OK, "shorter than the fork");
    tp_step *p;
    int n;
    cr_assert_neq(tp_branch_path(&t, 7, &p, &n, &err), TP_OK);
    tp_branch_tree_free(&t);
}

Test(branch, clear_leaves_one_empty_root)
{
    tp_branch_tree t;
    tp_branch_tree_init(&t, NULL);
    tp_step h[8];
    history(h, 8, 0);
    tp_branch_save(&t, h, 8, NULL);
    tp_branch_fork(&t, 3, NULL);
    tp_branch_fork(&t, 1, NULL);
    cr_assert_eq(t.n, 3);
    tp_branch_tree_clear(&t);
    cr_assert_eq(t.n, 1);
    cr_assert_eq(t.current, 0);
    cr_assert_eq(tp_branch_length(&t, 0), 0);
    cr_assert_eq(tp_branch_fork(&t, 0, NULL), 1);
    tp_branch_tree_free(&t);
}
