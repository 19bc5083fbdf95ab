/* quiz.c - predict, then reveal (`g`). Generation stops before each token
 * and the histogram is hidden. For a room: people call out a guess, the
 * presenter types it (character models) or just presses Enter; the key
 * reveals the distribution and the token drawn from it, and the score
 * counts the typed guesses that matched. After a reveal without a typed
 * guess, `y` or `n` scores the room's guess by hand. Esc ends the quiz. */
#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "tempest/tui_explore.h"
#include "tempest/tui_panes.h"

#define KEY_ESC 27

static void score_text(const tp_explore *e, char *out, size_t cap)
{
    snprintf(out, cap, "score %d/%d (%d rounds)", e->quiz_hits, e->quiz_scored,
             e->quiz_rounds);
}

void tp_quiz_start(tp_app *a)
{
    tp_explore *e = a->explore;
    char score[96];
    if (e->quiz != TP_QUIZ_OFF) {
        e->quiz = TP_QUIZ_OFF;
        score_text(e, score, sizeof score);
        tp_app_message(a, 0, "quiz over: %s", score);
        return;
    }
    tp_explore_do(a, TP_ACT_LIVE, 0);
    e->overlay = TP_OVERLAY_NONE;
    e->quiz = TP_QUIZ_ASK;
    e->quiz_rounds = e->quiz_hits = e->quiz_scored = 0;
    e->quiz_line[0] = '\0';
    a->paused = 1;
    tp_app_message(a, 0, "quiz: guess the next token, then reveal");
}

static int char_model(const tp_app *a)
{
    return tp_vocab_kind(a->model->vocab) == TP_TOK_CHAR;
}

static void reveal(tp_app *a, int guess)
{
    tp_explore *e = a->explore;
    if (tp_app_step(a) != 0)
        return;
    const tp_dist *d = &a->drawn_dist;
    int drawn = a->drawn_id;
    char tok[TP_VIEW_LABEL_MAX], g[TP_VIEW_LABEL_MAX], score[96];
    tp_token_label(a, drawn, tok, sizeof tok);
    e->quiz_rounds++;
    e->quiz_guess = guess;
    if (guess >= 0) {
        e->quiz_scored++;
        e->quiz_hits += guess == drawn;
        score_text(e, score, sizeof score);
        tp_token_label(a, guess, g, sizeof g);
        snprintf(e->quiz_line, sizeof e->quiz_line,
                 "drawn '%s' (p=%.1f%%); guess '%s' (p=%.1f%%): %s  %s", tok, 100.0 * d->p[drawn],
                 g, 100.0 * d->p[guess], guess == drawn ? "RIGHT" : "miss", score);
    } else {
        score_text(e, score, sizeof score);
        snprintf(e->quiz_line, sizeof e->quiz_line,
                 "drawn '%s' (p=%.1f%%); y/n: did the room get it?  %s", tok,
                 100.0 * d->p[drawn], score);
    }
    tp_app_message(a, 0, "%s", e->quiz_line);
    e->quiz = TP_QUIZ_REVEAL;
}

static int ask_key(tp_app *a, int ch)
{
    if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
        reveal(a, -1);
        return 1;
    }
    if (ch < 32 || ch > 126)
        return 0; /* arrows and the like still turn the knobs */
    if (!char_model(a)) {
        tp_app_message(a, 0, "a word model: Enter reveals, then y/n scores");
        return 1;
    }
    char c = (char)ch;
    int id = tp_vocab_find(a->model->vocab, &c, 1);
    if (id < 0) {
        tp_app_message(a, 1, "'%c' is not in the vocabulary; guess again", c);
        return 1;
    }
    reveal(a, id);
    return 1;
}

static int reveal_key(tp_app *a, int ch)
{
    tp_explore *e = a->explore;
    if ((ch < 32 || ch > 126) && ch != '\n' && ch != '\r' && ch != KEY_ENTER)
        return 0;
    if (e->quiz_guess < 0 && (ch == 'y' || ch == 'n')) {
        e->quiz_scored++;
        e->quiz_hits += ch == 'y';
    }
    e->quiz = TP_QUIZ_ASK;
    char score[96];
    score_text(e, score, sizeof score);
    tp_app_message(a, 0, "quiz: next round  %s", score);
    return 1;
}

int tp_quiz_key(tp_app *a, int ch)
{
    tp_explore *e = a->explore;
    if (ch == KEY_ESC) {
        tp_quiz_start(a); /* ends it */
        return 1;
    }
    a->dirty = 1;
    return e->quiz == TP_QUIZ_ASK ? ask_key(a, ch) : reveal_key(a, ch);
}

void tp_quiz_draw(tp_app *a, int lines, int cols)
{
    const tp_explore *e = a->explore;
    (void)lines;
    (void)cols;
    if (e->quiz != TP_QUIZ_ASK)
        return;
    tp_rect r = a->layout.hist;
    int attr = a->attrs[TP_ROLE_HELP];
    char score[96], text[160];
    score_text(e, score, sizeof score);
    const char *how = char_model(a) ? "type your guess (one character)" : "call out a guess";
    const char *rows[] = {"QUIZ: what comes next?", "", how, "Enter: reveal without a guess",
                          "Esc: end the quiz", "", score};
    for (int i = 0; i < (int)(sizeof rows / sizeof rows[0]) && i < r.h; i++) {
        snprintf(text, sizeof text, "%s", rows[i]);
        tp_box_line(r.y + i, r.x + 1, r.w - 1, text, attr | (i == 0 ? A_BOLD : 0));
    }
}
