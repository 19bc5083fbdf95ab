/* test_view.c - the histogram view model and drawing helpers, on the
 * worked example of DESIGN.md: logits [2, 1, 0, -1, -2]. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "tempest/view.h"

static const char *const TOKENS[] = {"a", " ", "\n", "b", "c"};
static const float LOGITS[] = {2, 1, 0, -1, -2};

typedef struct fixture {
    tp_vocab *vocab;
    tp_dist dist;
    tp_hist_view view;
    tp_sampler_config cfg;
} fixture;

static void setup_fixture(fixture *f)
{
    tp_error err = {0};
    cr_assert_eq(tp_vocab_create(&f->vocab, TP_TOK_CHAR, TOKENS, 5, &err), TP_OK, "%s", err.msg);
    cr_assert_eq(tp_dist_init(&f->dist, 5, &err), TP_OK);
    cr_assert_eq(tp_hist_view_init(&f->view, 5, &err), TP_OK);
    tp_sampler_defaults(&f->cfg);
    f->cfg.temperature = 1.0;
}

static void apply(fixture *f)
{
    tp_sampler_apply(&f->cfg, LOGITS, NULL, 0, &f->dist);
}

static void teardown_fixture(fixture *f)
{
    tp_hist_view_free(&f->view);
    tp_dist_free(&f->dist);
    tp_vocab_free(f->vocab);
}

Test(view, rows_ordered_with_labels_and_bars)
{
    fixture f;
    setup_fixture(&f);
    apply(&f);
    tp_hist_view_build(&f.view, &f.dist, f.vocab, 3, 10, 1, 0);
    cr_assert_eq(f.view.n_rows, 3);
    cr_assert_eq(f.view.rows[0].id, 0);
    cr_assert_eq(f.view.rows[1].id, 1);
    cr_assert_str_eq(f.view.rows[1].label, "␣");
    cr_assert_str_eq(f.view.rows[2].label, "⏎");
    /* .6364 of 10 cells = 50.9 eighths */
    cr_assert_eq(f.view.rows[0].bar_eighths, 51);
    cr_assert_eq(f.view.rows[0].base_cell, 6);
    cr_assert_eq(f.view.rows[1].drawn, 1);
    cr_assert_eq(f.view.rows[0].drawn, 0);
    cr_assert_eq(f.view.others_count, 2);
    cr_assert_float_eq(f.view.others_p, 0.0317 + 0.0117, 2e-4);
    cr_assert_eq(f.view.n_kept, 5);
    cr_assert_eq(f.view.rule_before, -1);
    char h[96];
    tp_hist_header(&f.view, 0, h, sizeof h);
    cr_assert(strstr(h, "kept 5 of 5"), "%s", h);
    cr_assert(strncmp(h, "entropy 1.", 10) == 0, "%s", h);
    teardown_fixture(&f);
}

Test(view, greedy_is_one_full_bar)
{
    fixture f;
    setup_fixture(&f);
    f.cfg.temperature = 0;
    apply(&f);
    tp_hist_view_build(&f.view, &f.dist, f.vocab, 5, 8, -1, 0);
    cr_assert_eq(f.view.rows[0].bar_eighths, 64);
    char pct[16];
    tp_format_percent(f.view.rows[0].p, pct, sizeof pct);
    cr_assert_str_eq(pct, "100.0%");
    for (int i = 1; i < 5; i++) {
        cr_assert_eq(f.view.rows[i].bar_eighths, 0);
        cr_assert_eq(f.view.rows[i].cut_by, TP_STAGE_TEMPERATURE);
        cr_assert_str_eq(tp_cut_mark(f.view.rows[i].cut_by), "T");
    }
    teardown_fixture(&f);
}

Test(view, top_k_cuts_are_marked)
{
    fixture f;
    setup_fixture(&f);
    f.cfg.top_k = 2;
    apply(&f);
    tp_hist_view_build(&f.view, &f.dist, f.vocab, 5, 10, -1, 0);
    int kept = 0;
    for (int i = 0; i < 5; i++)
        kept += f.view.rows[i].cut_by < 0;
    cr_assert_eq(kept, 2);
    cr_assert_eq(f.view.rows[2].cut_by, TP_STAGE_TOP_K);
    cr_assert_float_eq(f.view.rows[0].p, 0.7311, 1e-4);
    cr_assert_float_eq(f.view.rows[2].p_base, 0.0861, 1e-4, "the T = 1 value stays");
    teardown_fixture(&f);
}

Test(view, top_p_rule_and_others_cut)
{
    fixture f;
    setup_fixture(&f);
    f.cfg.top_p = 0.9;
    apply(&f);
    tp_hist_view_build(&f.view, &f.dist, f.vocab, 4, 10, -1, 0);
    cr_assert_eq(f.view.rule_before, 3, "the rule sits under the crossing token");
    cr_assert_eq(f.view.others_count, 1);
    cr_assert_eq(f.view.others_cut, 1);
    cr_assert_float_eq(f.view.others_p, 0.0, 1e-12);
    teardown_fixture(&f);
}

Test(view, ascii_labels)
{
    fixture f;
    setup_fixture(&f);
    apply(&f);
    tp_hist_view_build(&f.view, &f.dist, f.vocab, 3, 10, -1, 1);
    cr_assert_str_eq(f.view.rows[1].label, "_");
    teardown_fixture(&f);
}

Test(view, bars)
{
    char out[128];
    tp_bar_render(11, 4, 0, out, sizeof out);
    cr_assert_str_eq(out, "█▍  ");
    tp_bar_render(64, 4, 0, out, sizeof out);
    cr_assert_str_eq(out, "████");
    tp_bar_render(0, 3, 0, out, sizeof out);
    cr_assert_str_eq(out, "   ");
    tp_bar_render(12, 4, 1, out, sizeof out);
    cr_assert_str_eq(out, "##  ");
}

Test(view, sparkline_and_heat)
{
    const float v[] = {0, 1, 2, 3, 4};
    char out[64];
    tp_sparkline(v, 5, 3, 4.0, 0, out, sizeof out);
    cr_assert_str_eq(out, "▅▇█");
    tp_sparkline(v, 5, 5, 4.0, 1, out, sizeof out);
    cr_assert_str_eq(out, " :=*#");
    cr_assert_eq(tp_heat_level(0.9), 4);
    cr_assert_eq(tp_heat_level(0.001), 0);
    cr_assert_eq(tp_rank_level(0), 4);
    cr_assert_eq(tp_rank_level(50), 2);
    cr_assert_eq(tp_rank_level(500), 0);
}

Test(view, percent_format)
{
    char out[16];
    tp_format_percent(0.3124, out, sizeof out);
    cr_assert_str_eq(out, "31.2%");
}
