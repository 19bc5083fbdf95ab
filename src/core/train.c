/* train.c - a training run: configuration, data, steps, validation and
 * samples (see train.h). Files are in train_io.c, the network in
 * train_net.c, the optimiser in adam.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tempest/train.h"

void tp_train_defaults(tp_train_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->tokenizer = TP_TOK_CHAR;
    cfg->vocab_limit = 8000;
    cfg->embed = 64;
    cfg->hidden = 256;
    cfg->layers = 2;
    cfg->seq = 128;
    cfg->batch = 32;
    cfg->lr = 0.002;
    cfg->clip = 5.0;
    cfg->dropout = 0.0;
    cfg->dropout_io = 0.0;
    cfg->val_fraction = 0.1;
    cfg->steps = 3000;
    cfg->eval_every = 500;
    cfg->seed = 1;
    cfg->sample_length = 0; /* 0: 160 characters or 40 words */
}

static tp_status check_int(const char *flag, long v, long lo, long hi, tp_error *err)
{
    if (v < lo || v > hi)
        return tp_fail(err, TP_ERR_USAGE, "%s %ld is out of range (%ld to %ld)", flag, v, lo,
                       hi);
    return TP_OK;
}

static tp_status check_real(const char *flag, double v, double lo, double hi, int open_hi,
                            tp_error *err)
{
    if (!(v >= lo && (open_hi ? v < hi : v <= hi)))
        return tp_fail(err, TP_ERR_USAGE, "%s %g is out of range (%g to %g%s)", flag, v, lo,
                       hi, open_hi ? ", exclusive" : "");
    return TP_OK;
}

tp_status tp_train_config_check(const tp_train_config *c, tp_error *err)
{
    tp_status rc;
    if (!tp_train_cell_of(c->cell))
        return tp_fail(err, TP_ERR_USAGE, "unknown cell kind %d", (int)c->cell);
    if ((rc = check_int("--embed", c->embed, 1, 65536, err)) ||
        (rc = check_int("--hidden", c->hidden, 1, 65536, err)) ||
        (rc = check_int("--layers", c->layers, 1, 16, err)) ||
        (rc = check_int("--seq", c->seq, 1, 100000, err)) ||
        (rc = check_int("--batch", c->batch, 1, 100000, err)) ||
        (rc = check_int("--steps", c->steps, 1, 1000000000L, err)) ||
        (rc = check_int("--eval-every", c->eval_every, 1, 1000000000L, err)) ||
        (rc = check_int("--vocab-limit", c->vocab_limit, 3, TP_VOCAB_MAX_SIZE, err)) ||
        (rc = check_int("--sample-length", c->sample_length, 0, 100000, err)) ||
        (rc = check_real("--lr", c->lr, 1e-9, 10, 0, err)) ||
        (rc = check_real("--clip", c->clip, 1e-9, 1e9, 0, err)) ||
        (rc = check_real("--dropout", c->dropout, 0, 1, 1, err)) ||
        (rc = check_real("--dropout-io", c->dropout_io, 0, 1, 1, err)) ||
        (rc = check_real("--val-fraction", c->val_fraction, 0, 0.9, 0, err)))
        return rc;
    if ((double)c->seq * c->batch > 1e8)
        return tp_fail(err, TP_ERR_USAGE, "--seq %d x --batch %d is over 10^8 tokens a step",
                       c->seq, c->batch);
    return TP_OK;
}

double tp_train_lr(const tp_train_config *cfg, long k)
{
    /* LambdaLR has been stepped k - 1 times when step k runs. */
    double s = (double)(k - 1 < cfg->steps ? k - 1 : cfg->steps);
    return cfg->lr * (0.05 + 0.95 * 0.5 * (1 + cos(M_PI * s / (double)cfg->steps)));
}

static uint64_t hash_text(const char *text, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)text[i]) * 1099511628211ULL;
    return h;
}

/* Per stream: train_pytorch.py's streams() cuts the training part into
 * `batch` rows of n_train / batch tokens. */
static long stream_len(const tp_trainer *t)
{
    return t->n_train / t->cfg.batch;
}

/* Encode the text and split it; the vocabulary must be set. */
static tp_status load_text(tp_trainer *t, const char *text, size_t len, tp_error *err)
{
    int n = 0;
    if (strlen(text) != len)
        return tp_fail(err, TP_ERR_FORMAT, "the text holds a NUL byte at offset %zu",
                       strlen(text));
    uint64_t hash = hash_text(text, len);
    if (t->text_hash && hash != t->text_hash)
        return tp_fail(err, TP_ERR_USAGE, "it was made from another text than --text");
    t->text_hash = hash;
    tp_status rc = tp_vocab_encode(t->vocab, text, &t->ids, &n, err);
    if (rc)
        return rc;
    t->n_ids = n;
    t->n_train = n - (long)((double)n * t->cfg.val_fraction);
    if (stream_len(t) < t->cfg.seq + 1)
        return tp_fail(err, TP_ERR_USAGE, "the text is too short: %ld training tokens make "
                       "%d streams of %ld, and --seq %d needs %d", t->n_train, t->cfg.batch,
                       stream_len(t), t->cfg.seq, t->cfg.seq + 1);
    return TP_OK;
}

/* Everything sized by the configuration and the vocabulary. */
static tp_status allocate(tp_trainer *t, tp_error *err)
{
    const tp_train_config *c = &t->cfg;
    size_t P = t->net.n_params, rows = (size_t)c->seq * c->batch;
    t->adam_m = calloc(P, sizeof(float));
    t->adam_v = calloc(P, sizeof(float));
    t->state = calloc((size_t)2 * c->layers * c->batch * c->hidden, sizeof(float));
    t->chunk_in = malloc(rows * sizeof(int));
    t->chunk_out = malloc(rows * sizeof(int));
    t->work = tp_train_work_new(&t->net, c->seq, c->batch);
    t->eval_work = tp_train_work_new(&t->net, TP_TRAIN_EVAL_SEQ, 1);
    if (!t->adam_m || !t->adam_v || !t->state || !t->chunk_in || !t->chunk_out || !t->work ||
        !t->eval_work)
        return tp_fail(err, TP_ERR_NOMEM, "out of memory for training buffers");
    return TP_OK;
}

tp_status tp_trainer_setup(tp_trainer *t, const char *text, size_t len, tp_error *err)
{
    tp_status rc = load_text(t, text, len, err);
    if (!rc)
        rc = tp_train_net_init(&t->net, t->cfg.cell, tp_vocab_size(t->vocab), t->cfg.embed,
                               t->cfg.hidden, t->cfg.layers, &t->rng, err);
    if (!rc)
        rc = allocate(t, err);
    return rc;
}

tp_status tp_trainer_new(tp_trainer **out, const tp_train_config *cfg, const char *text,
                         size_t len, tp_error *err)
{
    *out = NULL;
    tp_status rc = tp_train_config_check(cfg, err);
    if (rc)
        return rc;
    tp_trainer *t = calloc(1, sizeof *t);
    if (!t)
        return tp_fail(err, TP_ERR_NOMEM, "out of memory");
    t->cfg = *cfg;
    tp_rng_seed(&t->rng, cfg->seed);
    rc = cfg->tokenizer == TP_TOK_CHAR ? tp_vocab_build_char(&t->vocab, text, len, err)
                                       : tp_vocab_build_word(&t->vocab, text,
                                                             cfg->vocab_limit, err);
    if (!rc)
        rc = tp_trainer_setup(t, text, len, err);
    if (rc) {
        tp_trainer_free(t);
        return rc;
    }
    *out = t;
    return TP_OK;
}

void tp_trainer_free(tp_trainer *t)
{
    if (!t)
        return;
    tp_vocab_free(t->vocab);
    free(t->ids);
    tp_train_net_free(&t->net);
    free(t->adam_m);
    free(t->adam_v);
    free(t->state);
    tp_train_work_free(t->work);
    tp_train_work_free(t->eval_work);
    free(t->chunk_in);
    free(t->chunk_out);
    free(t);
}

/* The next chunk of every stream, time-major, as train_pytorch.py slices
 * rows[:, pos:pos + seq]; at the end of the streams, back to the start
 * with a zero state. */
static void next_chunk(tp_trainer *t)
{
    int seq = t->cfg.seq, batch = t->cfg.batch;
    long per = stream_len(t);
    if (t->pos + seq + 1 > per) {
        t->pos = 0;
        memset(t->state, 0,
               (size_t)2 * t->cfg.layers * batch * t->cfg.hidden * sizeof(float));
    }
    for (int s = 0; s < seq; s++)
        for (int b = 0; b < batch; b++) {
            const int *row = t->ids + (size_t)b * per + t->pos;
            t->chunk_in[s * batch + b] = row[s];
            t->chunk_out[s * batch + b] = row[s + 1];
        }
    t->pos += seq;
}

tp_status tp_trainer_step(tp_trainer *t, double *loss, tp_error *err)
{
    const tp_train_config *c = &t->cfg;
    next_chunk(t);
    int rows = c->seq * c->batch;
    double sum = tp_train_net_chunk(&t->net, t->work, t->chunk_in, t->chunk_out, c->seq,
                                    c->batch, t->state,
                                    (tp_train_dropout){c->dropout, c->dropout_io}, &t->rng, 1);
    *loss = sum / rows;
    if (!isfinite(*loss))
        return tp_fail(err, TP_ERR_FORMAT, "the loss became %g at step %ld; try a lower --lr",
                       *loss, t->step + 1);
    tp_clip_grad_norm(t->net.grads, t->net.n_params, c->clip);
    t->step++;
    tp_adam_step(t->net.params, t->net.grads, t->adam_m, t->adam_v, t->net.n_params,
                 tp_train_lr(c, t->step), t->step);
    return TP_OK;
}

double tp_trainer_validate(tp_trainer *t, long max_tokens)
{
    long n = t->n_ids - t->n_train;
    if (max_tokens > 0 && n > max_tokens)
        n = max_tokens;
    if (n < 2)
        return NAN;
    const int *ids = t->ids + t->n_train;
    size_t state_len = (size_t)2 * t->cfg.layers * t->cfg.hidden;
    float *state = calloc(state_len, sizeof(float));
    if (!state)
        return NAN;
    double total = 0;
    for (long i = 0; i < n - 1; i += TP_TRAIN_EVAL_SEQ) {
        int len = (int)(n - 1 - i < TP_TRAIN_EVAL_SEQ ? n - 1 - i : TP_TRAIN_EVAL_SEQ);
        total += tp_train_net_chunk(&t->net, t->eval_work, ids + i, ids + i + 1, len, 1,
                                    state, (tp_train_dropout){0, 0}, NULL, 0);
    }
    free(state);
    return total / (double)(n - 1);
}

static int sample_from(const float *logits, int V, double temperature, tp_rng *rng)
{
    float mx = logits[0];
    for (int v = 1; v < V; v++)
        mx = logits[v] > mx ? logits[v] : mx;
    double sum = 0;
    for (int v = 0; v < V; v++)
        sum += exp((logits[v] - mx) / temperature);
    double u = tp_rng_uniform(rng) * sum, acc = 0;
    for (int v = 0; v < V; v++) {
        acc += exp((logits[v] - mx) / temperature);
        if (u < acc)
            return v;
    }
    return V - 1;
}

char *tp_trainer_sample(tp_trainer *t, uint64_t seed)
{
    int n = t->cfg.sample_length;
    if (n <= 0)
        n = tp_vocab_kind(t->vocab) == TP_TOK_WORD ? 40 : 160;
    int *out = malloc((size_t)n * sizeof(int));
    float *state = calloc((size_t)2 * t->cfg.layers * t->cfg.hidden, sizeof(float));
    if (!out || !state) {
        free(out);
        free(state);
        return NULL;
    }
    tp_rng rng;
    tp_rng_seed(&rng, seed);
    int nl = tp_vocab_find(t->vocab, "\n", 1), tok = nl >= 0 ? nl : 0;
    for (int i = 0; i < n; i++) {
        tp_train_net_chunk(&t->net, t->eval_work, &tok, &tok, 1, 1, state,
                           (tp_train_dropout){0, 0}, NULL, 0);
        tok = sample_from(tp_train_work_logits(t->eval_work, 1, 1, 0),
                          tp_vocab_size(t->vocab), 0.8, &rng);
        out[i] = tok;
    }
    char *text = tp_vocab_join(t->vocab, nl, out, n);
    free(out);
    free(state);
    return text;
}
