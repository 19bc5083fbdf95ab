/* session.c - a generation over a model (see session.h). */
#include "tempest/session.h"

#include <stdlib.h>
#include <string.h>

static tp_status reserve_tokens(tp_session *s, int need, tp_error *err)
{
    if (need <= s->cap_tokens)
        return TP_OK;
    int cap = s->cap_tokens ? s->cap_tokens : 256;
    while (cap < need)
        cap *= 2;
    int *t = realloc(s->tokens, (size_t)cap * sizeof *t);
    if (!t)
        return tp_fail(err, TP_ERR_NOMEM, "out of memory for %d tokens", need);
    s->tokens = t;
    s->cap_tokens = cap;
    return TP_OK;
}

static void refresh_dist(tp_session *s)
{
    tp_sampler_apply(&s->cfg, s->logits, s->tokens, s->n_tokens, &s->dist);
}

/* Reset the model and feed the prompt ids, leaving logits for what follows. */
static void feed_prompt(tp_session *s, const int *ids, int n)
{
    tp_model_prime(s->model, s->state, ids, n, s->logits);
    if (n > 0) /* ids may be NULL for an empty prompt */
        memcpy(s->tokens, ids, (size_t)n * sizeof *ids);
    s->n_tokens = s->n_prompt = n;
    s->n_steps = 0;
    s->n_forgotten = 0;
    refresh_dist(s);
}

tp_status tp_session_restart(tp_session *s, const char *prompt, uint64_t seed, tp_error *err)
{
    const char *text = prompt ? prompt : s->prompt;
    int *ids = NULL, n = 0;
    tp_status rc = tp_vocab_encode(s->model->vocab, text, &ids, &n, err);
    if (rc)
        return rc;
    char *copy = strdup(text);
    if (!copy || (rc = reserve_tokens(s, n + 1, err))) {
        free(copy);
        free(ids);
        return rc ? rc : tp_fail(err, TP_ERR_NOMEM, "out of memory for the prompt");
    }
    free(s->prompt);
    s->prompt = copy;
    s->seed = seed;
    tp_rng_seed(&s->rng, seed);
    feed_prompt(s, ids, n);
    free(ids);
    return TP_OK;
}

tp_status tp_session_new(tp_session **out, const tp_model *model, const char *prompt,
                         const tp_sampler_config *cfg, uint64_t seed, tp_error *err)
{
    *out = NULL;
    tp_status rc = tp_sampler_validate(cfg, err);
    if (rc)
        return rc;
    tp_session *s = calloc(1, sizeof *s);
    if (!s)
        return tp_fail(err, TP_ERR_NOMEM, "out of memory for a session");
    s->model = model;
    s->cfg = *cfg;
    s->state = tp_state_new(model);
    s->logits = calloc((size_t)model->n_vocab, sizeof *s->logits);
    s->prompt = strdup("");
    if (!s->state || !s->logits || !s->prompt)
        rc = tp_fail(err, TP_ERR_NOMEM, "out of memory for a session");
    if (!rc)
        rc = tp_dist_init(&s->dist, model->n_vocab, err);
    if (!rc)
        rc = tp_session_restart(s, prompt ? prompt : "", seed, err);
    if (rc) {
        tp_session_free(s);
        return rc;
    }
    *out = s;
    return TP_OK;
}

void tp_session_free(tp_session *s)
{
    if (!s)
        return;
    tp_state_free(s->state);
    tp_dist_free(&s->dist);
    free(s->logits);
    free(s->prompt);
    free(s->tokens);
    free(s->steps);
    free(s->configs);
    free(s);
}

tp_status tp_session_set_config(tp_session *s, const tp_sampler_config *cfg, tp_error *err)
{
    tp_status rc = tp_sampler_validate(cfg, err);
    if (rc)
        return rc;
    s->cfg = *cfg;
    refresh_dist(s);
    return TP_OK;
}

void tp_session_set_streaming(tp_session *s, int on)
{
    s->streaming = on;
}

/* Streaming: once the buffer holds twice what the penalty can see (and at
 * least 4096), keep only the recent half. Amortised O(1) per token. */
static void drop_old_tokens(tp_session *s)
{
    int window = s->cfg.repeat_penalty != 1.0 ? s->cfg.repeat_last_n : 0;
    int keep = window > 4096 ? window : 4096;
    if (s->n_tokens < 2 * keep || s->n_tokens < s->cap_tokens)
        return;
    memmove(s->tokens, s->tokens + s->n_tokens - keep, (size_t)keep * sizeof *s->tokens);
    s->n_tokens = keep;
    s->n_prompt = 0;
}

/* The id of the settings in force, added to the table when they differ
 * from the last ones added (settings change by key, rarely). */
static int current_config_id(tp_session *s, tp_error *err)
{
    if (s->n_configs > 0 && tp_sampler_config_equal(&s->configs[s->n_configs - 1], &s->cfg))
        return s->n_configs - 1;
    if (s->n_configs == s->cap_configs) {
        int cap = s->cap_configs ? s->cap_configs * 2 : 16;
        tp_sampler_config *c = realloc(s->configs, (size_t)cap * sizeof *c);
        if (!c) {
            tp_fail(err, TP_ERR_NOMEM, "out of memory for %d settings", cap);
            return -1;
        }
        s->configs = c;
        s->cap_configs = cap;
    }
    s->configs[s->n_configs] = s->cfg;
    return s->n_configs++;
}

const tp_sampler_config *tp_session_config_of(const tp_session *s, const tp_step *st)
{
    return &s->configs[st->cfg_id];
}

const tp_sampler_config *tp_session_step_config(const tp_session *s, int step)
{
    return tp_session_config_of(s, &s->steps[step]);
}

static tp_status record(tp_session *s, int token, tp_error *err)
{
    if (s->streaming) {
        drop_old_tokens(s);
        tp_status rc = reserve_tokens(s, s->n_tokens + 1, err);
        if (!rc)
            s->tokens[s->n_tokens++] = token;
        return rc;
    }
    if (s->n_steps == s->cap_steps) {
        int cap = s->cap_steps ? s->cap_steps * 2 : 256;
        tp_step *st = realloc(s->steps, (size_t)cap * sizeof *st);
        if (!st)
            return tp_fail(err, TP_ERR_NOMEM, "out of memory for the history");
        s->steps = st;
        s->cap_steps = cap;
    }
    tp_status rc = reserve_tokens(s, s->n_tokens + 1, err);
    if (rc)
        return rc;
    int cfg_id = current_config_id(s, err);
    if (cfg_id < 0)
        return TP_ERR_NOMEM;
    const tp_dist *d = &s->dist;
    int base = (d->views & TP_VIEW_BASE) != 0; /* else p_base is stale */
    s->steps[s->n_steps++] = (tp_step){
        .token = token, .p = (float)d->p[token],
        .p_base = base ? (float)d->p_base[token] : -1.0f,
        .rank = base ? tp_dist_rank(d, token) : -1, .entropy_bits = (float)d->entropy_bits,
        .n_kept = d->n_kept, .cfg_id = cfg_id, .u = -1.0,
    };
    s->tokens[s->n_tokens++] = token;
    return TP_OK;
}

tp_status tp_session_forget(tp_session *s, int n, tp_error *err)
{
    if (n < s->n_prompt || n > s->n_tokens || s->streaming)
        return tp_fail(err, TP_ERR_USAGE, "cannot forget %d of %d tokens (the prompt is %d)", n,
                       s->n_tokens, s->n_prompt);
    int dropped = n - s->n_prompt;
    memmove(s->tokens, s->tokens + n, (size_t)(s->n_tokens - n) * sizeof *s->tokens);
    memmove(s->steps, s->steps + dropped, (size_t)(s->n_steps - dropped) * sizeof *s->steps);
    s->n_tokens -= n;
    s->n_steps -= dropped;
    s->n_prompt = 0;
    s->n_forgotten += dropped;
    return TP_OK;
}

tp_status tp_session_begin_push(tp_session *s, int token, tp_error *err)
{
    if (token < 0 || token >= s->model->n_vocab)
        return tp_fail(err, TP_ERR_USAGE, "token id %d is outside the vocabulary (0 to %d)",
                       token, s->model->n_vocab - 1);
    return record(s, token, err);
}

void tp_session_end_push(tp_session *s, const float *logits)
{
    if (logits)
        memcpy(s->logits, logits, (size_t)s->model->n_vocab * sizeof *s->logits);
    refresh_dist(s);
}

tp_status tp_session_push(tp_session *s, int token, tp_error *err)
{
    tp_status rc = tp_session_begin_push(s, token, err);
    if (rc)
        return rc;
    tp_model_step(s->model, s->state, token, s->logits);
    tp_session_end_push(s, NULL);
    return TP_OK;
}

void tp_session_set_views(tp_session *s, unsigned views)
{
    s->dist.views = views;
}

int tp_session_step(tp_session *s, tp_error *err)
{
    double u = tp_rng_uniform(&s->rng);
    int token = tp_sampler_pick(&s->dist, u, NULL, NULL);
    if (tp_session_push(s, token, err) != TP_OK)
        return -1;
    if (!s->streaming) /* a streaming session keeps no steps */
        s->steps[s->n_steps - 1].u = u;
    return token;
}
