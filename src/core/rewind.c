/* rewind.c - the past of a session from checkpoints (see rewind.h). */
#include "tempest/rewind.h"

#include <stdlib.h>
#include <string.h>

tp_status tp_rewind_init(tp_rewind *r, int every, tp_error *err)
{
    (void)err;
    memset(r, 0, sizeof *r);
    r->every = every > 0 ? every : TP_REWIND_EVERY;
    return TP_OK;
}

static void drop_checkpoints(tp_rewind *r, int keep)
{
    for (int k = keep; k < r->n_ckpt; k++) {
        free(r->ckpt[k]);
        r->ckpt[k] = NULL;
    }
    if (keep < r->n_ckpt)
        r->n_ckpt = keep;
}

/* Room for ckpt[0 .. k]; new slots are empty (NULL). */
static tp_status reserve_slots(tp_rewind *r, int k, tp_error *err)
{
    if (k >= r->cap_ckpt) {
        int cap = r->cap_ckpt ? r->cap_ckpt : 16;
        while (cap <= k)
            cap *= 2;
        float **c = realloc(r->ckpt, (size_t)cap * sizeof *c);
        if (!c)
            return tp_fail(err, TP_ERR_NOMEM, "out of memory for rewinding");
        r->ckpt = c;
        r->cap_ckpt = cap;
    }
    for (int j = r->n_ckpt; j <= k; j++)
        r->ckpt[j] = NULL;
    if (k >= r->n_ckpt)
        r->n_ckpt = k + 1;
    return TP_OK;
}

/* A checkpoint is the state's h and c in one block: a tp_state also
 * carries its scratch rows, more than twice the size. */
static size_t checkpoint_floats(const tp_state *st)
{
    return 2 * (size_t)st->n_layers * (size_t)st->n_hidden;
}

static void restore_checkpoint(tp_state *st, const float *ck)
{
    size_t LH = checkpoint_floats(st) / 2;
    memcpy(st->h, ck, LH * sizeof *ck);
    memcpy(st->c, ck + LH, LH * sizeof *ck);
}

/* Keep a copy of st as ckpt[k] (st: the state after tokens[0 .. k*every)). */
static tp_status store_checkpoint(tp_rewind *r, int k, const tp_state *st, tp_error *err)
{
    tp_status rc = reserve_slots(r, k, err);
    if (rc)
        return rc;
    size_t LH = checkpoint_floats(st) / 2;
    if (!r->ckpt[k] && !(r->ckpt[k] = malloc(2 * LH * sizeof *r->ckpt[k])))
        return tp_fail(err, TP_ERR_NOMEM, "out of memory for rewinding");
    memcpy(r->ckpt[k], st->h, LH * sizeof *st->h);
    memcpy(r->ckpt[k] + LH, st->c, LH * sizeof *st->c);
    return TP_OK;
}

/* Checkpoints older than the recent TP_REWIND_RECENT are thinned to one in
 * TP_REWIND_SPARSE: a long run then keeps a few bytes a token for them
 * instead of a state per 64 tokens, and travelling far back re-runs at most
 * SPARSE * every steps once (replay_to rebuilds the ones it passes). */
static void thin_checkpoint(tp_rewind *r, int newest)
{
    int k = newest - TP_REWIND_RECENT;
    if (k > 0 && k < r->n_ckpt && k % TP_REWIND_SPARSE != 0) {
        free(r->ckpt[k]);
        r->ckpt[k] = NULL;
    }
}

static void drop_model(tp_rewind *r)
{
    drop_checkpoints(r, 0);
    tp_state_free(r->work);
    free(r->logits);
    free(r->origin_logits);
    r->work = NULL;
    r->logits = NULL;
    r->origin_logits = NULL;
    r->forgotten = 0;
    r->model = NULL;
    r->n_tokens = 0;
}

void tp_rewind_free(tp_rewind *r)
{
    drop_model(r);
    free(r->ckpt);
    free(r->tokens);
    memset(r, 0, sizeof *r);
}

/* The model and the history's origin: a session restarted since a forget
 * (n_forgotten back to 0) starts afresh; one that forgot without telling
 * the rewind cannot be followed (its first tokens are gone). */
static tp_status use_model(tp_rewind *r, const tp_session *s, tp_error *err)
{
    const tp_model *m = s->model;
    if (s->n_forgotten != r->forgotten) {
        if (s->n_forgotten != 0)
            return tp_fail(err, TP_ERR_USAGE, "the history was cut (%ld steps) without its "
                           "rewind", s->n_forgotten);
        drop_model(r);
    }
    /* the sizes too: a new model may be allocated where a freed one was */
    if (r->model == m && r->work->n_layers == m->n_layers && r->work->n_hidden == m->n_hidden)
        return TP_OK;
    if (r->origin_logits)
        return tp_fail(err, TP_ERR_USAGE, "the model changed under a cut history");
    drop_model(r);
    r->work = tp_state_new(m);
    r->logits = malloc((size_t)m->n_vocab * sizeof *r->logits);
    if (!r->work || !r->logits) {
        drop_model(r);
        return tp_fail(err, TP_ERR_NOMEM, "out of memory for rewinding");
    }
    r->model = m;
    return TP_OK;
}

/* Checkpoints built on tokens that s no longer has are dropped; the token
 * copy then follows s. */
static tp_status sync_tokens(tp_rewind *r, const tp_session *s, tp_error *err)
{
    int n = s->n_tokens, same = 0, both = n < r->n_tokens ? n : r->n_tokens;
    /* usually nothing changed but the new tail: one memcmp decides that */
    if (both > 0 && memcmp(r->tokens, s->tokens, (size_t)both * sizeof *r->tokens) == 0)
        same = both;
    while (same < n && same < r->n_tokens && r->tokens[same] == s->tokens[same])
        same++;
    int keep = same / r->every + 1; /* ckpt[k] reads tokens below k * every only */
    drop_checkpoints(r, keep < r->n_ckpt ? keep : r->n_ckpt);
    if (n > r->cap_tokens) {
        int cap = r->cap_tokens ? r->cap_tokens : 256;
        while (cap < n)
            cap *= 2;
        int *t = realloc(r->tokens, (size_t)cap * sizeof *t);
        if (!t)
            return tp_fail(err, TP_ERR_NOMEM, "out of memory for rewinding %d tokens", n);
        r->tokens = t;
        r->cap_tokens = cap;
    }
    /* only the tail that differs: observe runs every 64 tokens of a history
     * that may be millions long */
    if (n > same)
        memcpy(r->tokens + same, s->tokens + same, (size_t)(n - same) * sizeof *r->tokens);
    r->n_tokens = n;
    return TP_OK;
}

/* r->work := the state after tokens[0 .. pos), with the logits of the last
 * step in r->logits. Starts from the nearest checkpoint below pos (so at
 * least one token is fed and the logits come from the same step the
 * session took) and keeps the checkpoints it passes. */
static tp_status replay_to(tp_rewind *r, int pos, tp_error *err)
{
    if (r->origin_logits && pos == 0) { /* ckpt[0] is the origin, always kept */
        restore_checkpoint(r->work, r->ckpt[0]);
        memcpy(r->logits, r->origin_logits, (size_t)r->model->n_vocab * sizeof *r->logits);
        return TP_OK;
    }
    if (pos == 0 || r->n_ckpt == 0 || !r->ckpt[0]) {
        tp_state_reset(r->work);
        tp_model_step(r->model, r->work, tp_model_start_token(r->model), r->logits);
        tp_status rc = store_checkpoint(r, 0, r->work, err);
        if (rc || pos == 0)
            return rc;
    }
    int k = (pos - 1) / r->every;
    if (k >= r->n_ckpt)
        k = r->n_ckpt - 1;
    while (!r->ckpt[k])
        k--;
    restore_checkpoint(r->work, r->ckpt[k]);
    for (int i = k * r->every; i < pos; i++) {
        tp_model_step(r->model, r->work, r->tokens[i], i == pos - 1 ? r->logits : NULL);
        if ((i + 1) % r->every == 0 && i + 1 < pos) {
            tp_status rc = store_checkpoint(r, (i + 1) / r->every, r->work, err);
            if (rc)
                return rc;
        }
    }
    return TP_OK;
}

tp_status tp_rewind_observe(tp_rewind *r, const tp_session *s, tp_error *err)
{
    if (s->n_tokens % (r->every > 0 ? r->every : TP_REWIND_EVERY) != 0)
        return TP_OK;
    tp_status rc = use_model(r, s, err);
    if (!rc)
        rc = sync_tokens(r, s, err);
    if (!rc && s->n_tokens > 0)
        rc = store_checkpoint(r, s->n_tokens / r->every, s->state, err);
    if (!rc)
        thin_checkpoint(r, s->n_tokens / r->every);
    return rc;
}

tp_status tp_rewind_state_at(tp_rewind *r, const tp_session *s, int pos, tp_state *state,
                             float *logits, tp_error *err)
{
    if (pos < 0 || pos > s->n_tokens)
        return tp_fail(err, TP_ERR_USAGE, "position %d is outside the history (0 to %d)", pos,
                       s->n_tokens);
    tp_status rc = use_model(r, s, err);
    if (!rc)
        rc = sync_tokens(r, s, err);
    if (!rc)
        rc = replay_to(r, pos, err);
    if (rc)
        return rc;
    if (state)
        tp_state_copy(state, r->work);
    if (logits)
        memcpy(logits, r->logits, (size_t)r->model->n_vocab * sizeof *logits);
    return TP_OK;
}

tp_status tp_rewind_forget(tp_rewind *r, tp_session *s, int n, tp_error *err)
{
    if (n < s->n_prompt || n > s->n_tokens || n % r->every || s->streaming)
        return tp_fail(err, TP_ERR_USAGE, "cannot forget %d of %d tokens (at least the prompt's "
                       "%d, a multiple of %d)", n, s->n_tokens, s->n_prompt, r->every);
    float *logits = malloc((size_t)s->model->n_vocab * sizeof *logits);
    if (!logits)
        return tp_fail(err, TP_ERR_NOMEM, "out of memory for rewinding");
    int k0 = n / r->every;
    tp_status rc = tp_rewind_state_at(r, s, n, NULL, logits, err);
    if (!rc) /* r->work: the state after tokens[0 .. n), the new origin */
        rc = store_checkpoint(r, k0, r->work, err);
    if (rc) {
        free(logits);
        return rc;
    }
    for (int k = 0; k < k0; k++)
        free(r->ckpt[k]);
    memmove(r->ckpt, r->ckpt + k0, (size_t)(r->n_ckpt - k0) * sizeof *r->ckpt);
    for (int k = r->n_ckpt - k0; k < r->n_ckpt; k++)
        r->ckpt[k] = NULL;
    r->n_ckpt -= k0;
    memmove(r->tokens, r->tokens + n, (size_t)(r->n_tokens - n) * sizeof *r->tokens);
    r->n_tokens -= n;
    free(r->origin_logits);
    r->origin_logits = logits;
    tp_session_forget(s, n, NULL); /* cannot fail: its checks were made above */
    r->forgotten = s->n_forgotten;
    return TP_OK;
}

tp_status tp_rewind_dist_at(tp_rewind *r, const tp_session *s, int step, tp_dist *out,
                            tp_error *err)
{
    if (step < 0 || step >= s->n_steps)
        return tp_fail(err, TP_ERR_USAGE, "step %d is outside the history (0 to %d)", step,
                       s->n_steps - 1);
    int pos = s->n_prompt + step;
    tp_status rc = tp_rewind_state_at(r, s, pos, NULL, NULL, err);
    if (rc)
        return rc;
    tp_sampler_apply(tp_session_step_config(s, step), r->logits, s->tokens, pos, out);
    return TP_OK;
}

tp_status tp_rewind_truncate(tp_rewind *r, tp_session *s, int n_steps, tp_error *err)
{
    if (n_steps < 0 || n_steps > s->n_steps)
        return tp_fail(err, TP_ERR_USAGE, "cannot cut at step %d of %d", n_steps, s->n_steps);
    int pos = s->n_prompt + n_steps;
    tp_status rc = tp_rewind_state_at(r, s, pos, s->state, s->logits, err);
    if (rc)
        return rc;
    s->n_tokens = pos;
    s->n_steps = n_steps;
    tp_sampler_apply(&s->cfg, s->logits, s->tokens, s->n_tokens, &s->dist);
    return TP_OK;
}

static int common_prefix(const tp_session *s, const tp_step *steps, int n)
{
    int c = 0;
    while (c < n && c < s->n_steps && s->steps[c].token == steps[c].token)
        c++;
    return c;
}

tp_status tp_rewind_load(tp_rewind *r, tp_session *s, const tp_step *steps, int n,
                         tp_error *err)
{
    for (int i = 0; i < n; i++)
        if (steps[i].cfg_id < 0 || steps[i].cfg_id >= s->n_configs)
            return tp_fail(err, TP_ERR_USAGE, "step %d has settings %d, not one of this "
                           "session's %d", i, steps[i].cfg_id, s->n_configs);
    int c = common_prefix(s, steps, n);
    tp_status rc = tp_rewind_truncate(r, s, c, err);
    /* the distributions on the way are not looked at: skip their views */
    unsigned views = s->dist.views;
    tp_session_set_views(s, 0);
    for (int i = c; !rc && i < n; i++)
        rc = tp_session_push(s, steps[i].token, err);
    tp_session_set_views(s, views);
    if (rc) {
        tp_rewind_truncate(r, s, c, NULL);
        return rc;
    }
    memcpy(s->steps + c, steps + c, (size_t)(n - c) * sizeof *steps);
    tp_sampler_apply(&s->cfg, s->logits, s->tokens, s->n_tokens, &s->dist);
    return TP_OK;
}
