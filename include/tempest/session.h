/* session.h - one generation: prompt, settings, random numbers, history.
 *
 * A session owns the model state and the next-token distribution under the
 * current settings, so a front end can draw the distribution before the
 * token is drawn, change a setting (the distribution is recomputed at once
 * from the same logits) and then step. Every step records the token, the
 * probability it had and the settings in force.
 */
#ifndef TEMPEST_SESSION_H
#define TEMPEST_SESSION_H

#include <stdint.h>

#include "tempest/error.h"
#include "tempest/model.h"
#include "tempest/rng.h"
#include "tempest/sampler.h"

typedef struct tp_step {
    int token;
    float p;            /* probability after the chain when it was drawn */
    float p_base;       /* probability at T = 1 with nothing cut; -1 when the
                         * session's views lack TP_VIEW_BASE */
    int rank;           /* 0 = the most likely token at T = 1; -1 likewise */
    float entropy_bits; /* of the distribution it was drawn from */
    int n_kept;
    int cfg_id;         /* settings in force: tp_session_step_config, an index
                         * into the session's table of settings (a step is
                         * 40 bytes instead of 104, which is most of what a
                         * long playground run keeps per token) */
    double u;           /* the uniform number the draw used; -1 when the token
                         * was pushed (forced), not drawn */
} tp_step;

typedef struct tp_session {
    const tp_model *model;
    tp_sampler_config cfg;
    uint64_t seed;
    tp_rng rng;
    char *prompt;
    int *tokens; /* prompt tokens then generated ones */
    int n_tokens, cap_tokens;
    int n_prompt;
    tp_state *state;
    float *logits; /* for the next token */
    tp_dist dist;  /* the next-token distribution under cfg */
    tp_step *steps;
    int n_steps, cap_steps;
    tp_sampler_config *configs; /* every setting a step was drawn under, in the
                                 * order they came into force; never shrinks,
                                 * so ids in branches stay valid */
    int n_configs, cap_configs;
    long n_forgotten; /* generated steps dropped from the front by
                       * tp_session_forget: steps[i] is step n_forgotten + i
                       * of the run */
    int streaming; /* tp_session_set_streaming */
} tp_session;

/* Start a generation. The model first reads its start token (newline, or
 * token 0 when it has none; not part of the text), then the prompt. */
tp_status tp_session_new(tp_session **out, const tp_model *model, const char *prompt,
                         const tp_sampler_config *cfg, uint64_t seed, tp_error *err);
void tp_session_free(tp_session *s);

/* Start again from a prompt (NULL: the same one) with a seed. On error the
 * session is unchanged. */
tp_status tp_session_restart(tp_session *s, const char *prompt, uint64_t seed, tp_error *err);

/* Change settings; the next-token distribution is recomputed at once. On a
 * bad value nothing changes. */
tp_status tp_session_set_config(tp_session *s, const tp_sampler_config *cfg, tp_error *err);

/* Draw the next token, record it and advance the model. Returns the token,
 * or -1 when out of memory (err says so). */
int tp_session_step(tp_session *s, tp_error *err);

/* The settings step (0 <= step < n_steps) was drawn under. */
const tp_sampler_config *tp_session_step_config(const tp_session *s, int step);

/* The same for a step record of this session (or of a branch of it). */
const tp_sampler_config *tp_session_config_of(const tp_session *s, const tp_step *st);

/* Which optional views (TP_VIEW_*) the session's distribution fills each
 * time it is recomputed (step, push, settings, restart); all by default. A
 * caller that only draws tokens (tempest generate) clears them: the tokens
 * drawn are the same, and the steps then record p_base and rank as -1. */
void tp_session_set_views(tp_session *s, unsigned views);

/* Streaming (for output that is printed and forgotten, as in `tempest
 * generate`): no steps are recorded, and tokens are kept only as far back as
 * the repetition penalty looks, so memory stays flat however long it runs.
 * The tokens drawn are the same; n_prompt no longer indexes s->tokens once
 * old tokens have been dropped. */
void tp_session_set_streaming(tp_session *s, int on);

/* A history window: drop the first n tokens (n_prompt <= n <= n_tokens:
 * the prompt and the first n - n_prompt generated steps). What follows is
 * unchanged, including the model state (it is after every token); n_prompt
 * becomes 0 and n_forgotten grows by the steps dropped. A repetition penalty
 * then sees at most the tokens kept. A session that has a rewind forgets
 * through it (tp_rewind_forget), which keeps the state the tokens led to.
 * Restarting forgets nothing more: it starts a new history. */
tp_status tp_session_forget(tp_session *s, int n, tp_error *err);

/* Append token (for forced choices and scripted input) as if drawn. */
tp_status tp_session_push(tp_session *s, int token, tp_error *err);

/* tp_session_push in two halves, so several sessions can share one batched
 * model pass (lanes): begin records the token without stepping the model;
 * the caller steps s->state on the token (tp_model_step_batch) and hands the
 * logits it wrote to end, which recomputes the distribution (logits NULL:
 * they are already in s->logits). */
tp_status tp_session_begin_push(tp_session *s, int token, tp_error *err);
void tp_session_end_push(tp_session *s, const float *logits);

#endif
