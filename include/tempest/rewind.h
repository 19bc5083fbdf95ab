/* rewind.h - the past of a session, exactly: the distribution any earlier
 * token was drawn from, and cutting or replacing a session's history.
 *
 * Nothing per step is stored beyond what the session already keeps (its
 * tokens and the settings of each step). Instead the model is re-run over
 * the token history from the nearest checkpoint: a copy of the model state
 * every `every` tokens, built on demand. The steps are the same single steps
 * the session took, so the numbers are the same bits. Memory: one state
 * (2 x layers x hidden floats) per `every` tokens over the last
 * RECENT x every tokens and per SPARSE x every before them, whatever the
 * vocabulary.
 * The checkpoints remember the tokens they were built from and drop
 * themselves from the first token that differs (restart, branch, new model).
 */
#ifndef TEMPEST_REWIND_H
#define TEMPEST_REWIND_H

#include "tempest/error.h"
#include "tempest/model.h"
#include "tempest/sampler.h"
#include "tempest/session.h"

#define TP_REWIND_EVERY 64
#define TP_REWIND_RECENT 64 /* checkpoints kept at every `every` tokens ... */
#define TP_REWIND_SPARSE 8  /* ... and one in SPARSE of the older ones */

typedef struct tp_rewind {
    const tp_model *model;
    int every;
    float **ckpt; /* ckpt[k]: h then c after the start token and tokens[0 .. k*every),
                   * or NULL: not built (yet), or thinned out */
    int n_ckpt, cap_ckpt;
    int *tokens;     /* the tokens the checkpoints were built from */
    int n_tokens, cap_tokens;
    tp_state *work;
    float *logits;
    /* After tp_rewind_forget: ckpt[0] is the state after the forgotten
     * tokens (never dropped) and origin_logits what it predicts; forgotten
     * is the session's n_forgotten it was taken at. NULL and 0 otherwise. */
    float *origin_logits;
    long forgotten;
} tp_rewind;

/* every <= 0 picks TP_REWIND_EVERY. The model is the session's; after
 * freeing a model, free (or re-initialise) the rewinds that used it. */
tp_status tp_rewind_init(tp_rewind *r, int every, tp_error *err);
void tp_rewind_free(tp_rewind *r);

/* The model state after tokens[0 .. pos) of s and the logits for the token
 * at pos (0 <= pos <= s->n_tokens); state may be NULL. */
tp_status tp_rewind_state_at(tp_rewind *r, const tp_session *s, int pos, tp_state *state,
                             float *logits, tp_error *err);

/* Called after each step of s: at every `every` tokens a copy of the live
 * state becomes a checkpoint, so travelling back after a long run does not
 * first re-run all of it (a state copy, no model step). */
tp_status tp_rewind_observe(tp_rewind *r, const tp_session *s, tp_error *err);

/* The distribution generated step `step` (0 <= step < s->n_steps) was drawn
 * from, under the settings in force then. out is initialised for the model's
 * vocabulary; its views decide what is filled. */
tp_status tp_rewind_dist_at(tp_rewind *r, const tp_session *s, int step, tp_dist *out,
                            tp_error *err);

/* Keep only the first n_steps generated steps: tokens, model state and the
 * next-token distribution (under the current settings) as if the later
 * steps had never happened. The random numbers go on where they were. */
tp_status tp_rewind_truncate(tp_rewind *r, tp_session *s, int n_steps, tp_error *err);

/* A history window: s forgets its first n tokens (tp_session_forget) and
 * the state after them becomes the origin that travelling back starts
 * from; the checkpoints move down with the tokens. n is a multiple of
 * `every`. On error neither changes. A session restarted since (n_forgotten
 * back to 0) starts the rewind afresh. */
tp_status tp_rewind_forget(tp_rewind *r, tp_session *s, int n, tp_error *err);

/* Replace the generated history with steps[0 .. n) (the same prompt): the
 * tokens are fed to the model and the records kept as given. */
tp_status tp_rewind_load(tp_rewind *r, tp_session *s, const tp_step *steps, int n,
                         tp_error *err);

#endif
