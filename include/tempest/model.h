/* model.h - a recurrent language model loaded from PyTorch-named tensors.
 *
 * embedding (or one-hot) -> L stacked recurrent layers -> linear head. The
 * layers are one of torch.nn.LSTM (gate order i, f, g, o), torch.nn.GRU
 * (r, z, n, with b_hn inside r's product) or torch.nn.RNN (tanh or relu),
 * with PyTorch's equations (kernels.h spells them out). A model is
 * read-only once loaded; everything that changes while generating lives in a
 * tp_state, so one model can serve many states (lanes, beams, threads).
 */
#ifndef TEMPEST_MODEL_H
#define TEMPEST_MODEL_H

#include <stddef.h>

#include "tempest/error.h"
#include "tempest/kernels.h"
#include "tempest/safetensors.h"
#include "tempest/vocab.h"

#define TP_MAX_LAYERS 16

/* The kind of recurrent layer; every layer of a model has the same kind. */
typedef enum tp_cell { TP_CELL_LSTM, TP_CELL_GRU, TP_CELL_RNN_TANH, TP_CELL_RNN_RELU,
                       TP_CELL_N } tp_cell;

/* "LSTM", "GRU", "RNN (tanh)", "RNN (relu)": for people. */
const char *tp_cell_name(tp_cell c);
/* "lstm", "gru", "rnn_tanh", "rnn_relu": for JSON and scripts. */
const char *tp_cell_id(tp_cell c);
/* Gate blocks per layer, the rows of weight_hh over H: 4, 3 or 1. */
int tp_cell_gates(tp_cell c);

/* G = tp_cell_gates(cell) * H below. */
typedef struct tp_layer {
    int n_in;      /* input width: embedding, hidden, or 0 for one-hot input */
    tp_matrix w;   /* LSTM, RNN: [G][n_in + H], each row w_ih's row then w_hh's,
                    * so one pass over [x ; h] gives every gate.
                    * GRU: [G][n_in], w_ih alone (n needs W_hn h apart) */
    tp_matrix w_hh; /* GRU only: [G][H]; otherwise empty (ld 0) */
    float *w_ih_t; /* one-hot layer 0 only: [V][G], w_ih transposed (f32) */
    float *input_sums; /* layer 0 with an embedding, unless too large or
                        * turned off: [V][G], for each token the running
                        * sums of w over the input columns (no bias, no
                        * scale), which a step continues over h: the same
                        * bits as the whole product, n_in columns fewer */
    float *bias;   /* [G]: LSTM, RNN bias_ih + bias_hh; GRU bias_ih */
    float *bias_hh; /* GRU only: [G] bias_hh; NULL otherwise */
} tp_layer;

typedef struct tp_model {
    tp_cell cell;
    int n_vocab;
    int n_embed; /* 0: one-hot input */
    int n_hidden;
    int n_layers;
    float *embed;  /* [V][E] */
    tp_layer layers[TP_MAX_LAYERS];
    tp_matrix head_w; /* [V][H] */
    float *head_b;    /* [V] */
    tp_vocab *vocab;
    char *description;
    size_t n_params;
    tp_weight_type weights;    /* how the matrices are stored */
    const tp_kernels *kernels; /* the kernels every step uses */
    int threads;               /* most threads a batched step may use */
    struct tp_pool *pool;      /* the helper thread when threads > 1 */
} tp_model;

/* How to load: weight precision and kernel set (NULL: $TEMPEST_KERNEL, or
 * the best the CPU runs). no_input_sums: multiply the embedding at every
 * step instead of keeping layer 0's per-token sums (for tests: the two give
 * the same bits). */
typedef struct tp_model_options {
    tp_weight_type weights;
    const char *kernel;
    int no_input_sums;
} tp_model_options;

typedef struct tp_state {
    int n_layers, n_hidden;
    float *h;  /* [L][H]: each layer's hidden state, whatever the cell */
    float *c;  /* [L][H]: an LSTM's cell state; GRU and RNN have none and
                * leave it all zeros */
    float *xh; /* scratch: layer input then h, zero padded to the widest
                * matrix row (kernels read whole padded rows); for a GRU
                * h starts at w.ld, after the padded input */
    int xh_len;
    float *gates; /* scratch: [4H] LSTM, [6H] GRU (input and hidden parts), [H] RNN */
    float *gate_log; /* NULL (the default): off. Else [L][3][H]: the input,
                      * forget and output gate activations of the last step
                      * (LSTM only) */
} tp_state;

/* Load with f32 weights and the default kernels; $TEMPEST_WEIGHTS
 * (f32|f16|bf16|int8) and $TEMPEST_KERNEL (portable|avx2) override them,
 * a bad value being an error. */
tp_status tp_model_load(tp_model **out, const char *path, tp_error *err);
tp_status tp_model_load_with(tp_model **out, const char *path, const tp_model_options *opt,
                             tp_error *err);
tp_status tp_model_from_safetensors(tp_model **out, const tp_safetensors *st,
                                    tp_error *err);
tp_status tp_model_from_safetensors_with(tp_model **out, const tp_safetensors *st,
                                         const tp_model_options *opt, tp_error *err);
/* The options tp_model_load uses: from the environment (see above). */
tp_status tp_model_options_from_env(tp_model_options *opt, tp_error *err);
void tp_model_free(tp_model *m);

/* A zero state, as PyTorch starts with; NULL when out of memory. */
tp_state *tp_state_new(const tp_model *m);
void tp_state_free(tp_state *s);
void tp_state_reset(tp_state *s);
/* Copy h and c (both states must belong to the same model). */
void tp_state_copy(tp_state *dst, const tp_state *src);

/* Keep (on) or stop keeping the gate activations of each step in
 * s->gate_log, for a view inside the cell; off costs nothing. */
tp_status tp_state_log_gates(tp_state *s, int on, tp_error *err);

/* The token a model starts from when there is no prompt: its newline token,
 * or token 0 when it has none. */
int tp_model_start_token(const tp_model *m);

/* Reset s, feed the start token and then ids[0..n), leaving the logits for
 * what follows in logits. The start token matters: a model trained on a
 * stream of text has rarely seen a zero state, so "ROMEO:" read from zero
 * is a stranger to it, while after a newline it is the start of a speech. */
void tp_model_prime(const tp_model *m, tp_state *s, const int *ids, int n, float *logits);

/* Feed one token (0 <= token < n_vocab): updates state and, when logits is
 * not NULL, writes the n_vocab logits for the next token. */
void tp_model_step(const tp_model *m, tp_state *s, int token, float *logits);

/* n steps at once: states[i] reads tokens[i] and, when logits is not NULL,
 * writes its logits to logits + i * n_vocab. One pass over the weights
 * serves all n, and each result is bit-identical to tp_model_step on that
 * state alone (same kernels). The states must be distinct. */
void tp_model_step_batch(const tp_model *m, tp_state **states, const int *tokens, int n,
                         float *logits);

/* What to do with sequence i's new logits (NULL when the step was asked for
 * none), called once per sequence after its step. */
typedef void (*tp_after_step_fn)(void *ctx, int i, float *logits);

/* tp_model_step_batch, then after(ctx, i, logits of i) for every i. Large
 * batches are split between the cores by sequence, and each sequence's
 * `after` runs on the core that stepped it, at the same time as others':
 * it may touch only what belongs to sequence i (its sampler state, its
 * slot of tokens, which its step has finished reading). */
void tp_model_step_batch_then(const tp_model *m, tp_state **states, const int *tokens, int n,
                              float *logits, tp_after_step_fn after, void *ctx);

/* `steps` calls of tp_model_step_batch_then, where after(ctx, i, logits of
 * i) sets tokens[i], the token sequence i reads at its next step: for
 * batches whose sequences never wait on each other (generate --batch). The
 * sequences are split between the cores once for the whole run, so the
 * cores meet at the end instead of at every step; each result is still
 * bit-identical to stepping its sequence alone. */
void tp_model_run_batch(const tp_model *m, tp_state **states, int *tokens, int n,
                        float *logits, long steps, tp_after_step_fn after, void *ctx);

#endif
