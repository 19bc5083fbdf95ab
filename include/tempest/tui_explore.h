/* tui_explore.h - exploring a generation in the playground: time travel
 * over the text, forcing candidates into branches, and the overlays that
 * open up the numbers (math, sampler stages, dice, samples, quiz, LSTM).
 *
 * tui.c, keys.c, histogram.c, textpane.c and statusbar.c call the small
 * hooks below; everything else lives in explore.c, overlays.c, quiz.c and
 * lstmview.c.
 */
#ifndef TEMPEST_TUI_EXPLORE_H
#define TEMPEST_TUI_EXPLORE_H

#include "tempest/branch.h"
#include "tempest/rewind.h"
#include "tempest/tui_app.h"

typedef enum tp_focus { TP_FOCUS_LIVE, TP_FOCUS_TEXT, TP_FOCUS_HIST } tp_focus;

typedef enum tp_overlay {
    TP_OVERLAY_NONE, TP_OVERLAY_MATH, TP_OVERLAY_STAGES, TP_OVERLAY_DICE,
    TP_OVERLAY_SAMPLES, TP_OVERLAY_LSTM, TP_OVERLAY_BRANCHES
} tp_overlay;

typedef enum tp_quiz_phase { TP_QUIZ_OFF, TP_QUIZ_ASK, TP_QUIZ_REVEAL } tp_quiz_phase;

typedef struct tp_explore {
    tp_focus focus;
    int cursor;           /* text focus: the generated step under the cursor; -1: live */
    int selected;         /* rank of the selected candidate in the histogram */
    int was_paused;       /* to restore when going back to live */
    tp_rewind rewind;
    tp_dist past;         /* the distribution at the cursor */
    int past_step;        /* which step past holds; -1: none */
    const tp_session *past_session;
    unsigned version, past_version; /* bumped when the history is rewritten */
    tp_branch_tree tree;
    int branch_pick;      /* the branch list's selection */
    tp_overlay overlay;
    /* dice: samples drawn from the shown distribution without advancing */
    int *counts;
    double *sample_p;     /* the distribution they were drawn from */
    int *sample_order;    /* its ids, most probable first */
    long n_samples;
    char sample_what[64];
    uint64_t dice_draws;  /* how many times samples were drawn (seeds the draws) */
    /* quiz */
    tp_quiz_phase quiz;
    int quiz_guess;       /* token guessed, -1: none */
    int quiz_rounds, quiz_hits, quiz_scored;
    char quiz_line[256];
} tp_explore;

/* Set up and tear down with the app (after its model is loaded). */
int tp_explore_open(tp_app *a);
void tp_explore_close(tp_app *a);
/* The session started again (restart, new model): back to live, one branch. */
void tp_explore_reset(tp_app *a);

/* After each token: keeps a checkpoint of the live state now and then. */
void tp_explore_after_step(tp_app *a);
/* A key before the keymap sees it; 1 when it was used. */
int tp_explore_key(tp_app *a, int ch);
/* Actions of the keymap (TP_ACT_FOCUS ... TP_ACT_BRANCHES) and :dice. */
void tp_explore_do(tp_app *a, tp_action act, long arg);

/* What the histogram shows: the distribution, the token drawn from it (or
 * -1) and the settings it was computed with. */
const tp_dist *tp_explore_hist_source(tp_app *a, int *drawn_id,
                                      const tp_sampler_config **cfg);
/* The id the histogram highlights as selected, or -1. */
int tp_explore_selected_id(const tp_app *a);
/* The step the text pane marks with a cursor, or -1. */
int tp_explore_cursor(const tp_app *a);
/* The settings and step label the status bar shows. */
const tp_sampler_config *tp_explore_status_cfg(const tp_app *a);
void tp_explore_step_label(const tp_app *a, char *out, size_t cap);
/* Draw over the histogram (quiz, overlays); 1 when the histogram is hidden. */
int tp_explore_hide_hist(const tp_app *a);
void tp_explore_draw(tp_app *a, int lines, int cols);

/* inside the modules */
/* The distribution step (0 <= step < n_steps) was drawn from, cached; NULL
 * (and a message) on error. */
const tp_dist *tp_explore_dist_at(tp_app *a, int step);
/* The cursor is on a generated step (not live, not the next token). */
int tp_explore_at_past_step(const tp_app *a);
void tp_overlay_draw(tp_app *a, int lines, int cols);
void tp_dice_sample(tp_app *a, long n);
/* Free the samples (they are sized for one vocabulary). */
void tp_dice_forget(tp_explore *e);
void tp_quiz_start(tp_app *a);
int tp_quiz_key(tp_app *a, int ch);
void tp_quiz_draw(tp_app *a, int lines, int cols);
void tp_lstm_draw(tp_app *a, int y, int x, int h, int w);
void tp_branches_draw(tp_app *a, int y, int x, int h, int w);
int tp_branches_key(tp_app *a, int ch);
/* The visible form of token id ("␣", "⏎", ...). */
void tp_token_label(const tp_app *a, int id, char *out, size_t cap);
/* A line of an overlay box: filled with the box colour, text clipped. */
void tp_box_line(int y, int x, int w, const char *text, int attr);

#endif
