/* train.h - training a recurrent language model in C (`tempest train`).
 *
 * The model is tools/train_pytorch.py's: embedding -> L stacked LSTM layers
 * -> linear head, with PyTorch's parameter names, initialisation ranges and
 * equations; or the same with GRU or vanilla RNN layers (train_cell.h). Training is that script's too: `batch` contiguous streams of the
 * training text, truncated BPTT over `seq` tokens with the state carried
 * between chunks, cross-entropy, total-norm gradient clipping, Adam with
 * PyTorch's defaults and a cosine learning-rate decay to 5%.
 *
 * Everything a run depends on (weights, Adam moments, step, data position,
 * carried state, random numbers) lives in a tp_trainer, so a checkpoint
 * holds it all and a resumed run is bit-identical to an uninterrupted one
 * (for the same BLAS thread count).
 */
#ifndef TEMPEST_TRAIN_H
#define TEMPEST_TRAIN_H

#include <stdint.h>

#include "tempest/error.h"
#include "tempest/rng.h"
#include "tempest/train_cell.h"
#include "tempest/vocab.h"

/* Validation tokens scored at intermediate evaluations (the last one scores
 * the whole held-out part), as train_pytorch.py does. */
#define TP_TRAIN_EVAL_TOKENS 20000
/* Chunk length of evaluation, as train_pytorch.py's evaluate(). */
#define TP_TRAIN_EVAL_SEQ 256

typedef struct tp_train_config {
    tp_train_cell_kind cell;
    tp_tokenizer tokenizer;
    int vocab_limit; /* word: most tokens kept, "\n" and "<unk>" included */
    int embed, hidden, layers;
    int seq, batch;
    double lr, clip, dropout, val_fraction;
    double dropout_io; /* on the embedding's output and the decoder's input */
    long steps;      /* length of the schedule */
    long eval_every; /* evaluate and checkpoint every this many steps */
    uint64_t seed;
    int sample_length; /* tokens in the sample shown at each evaluation */
} tp_train_config;

/* train_pytorch.py's defaults. */
void tp_train_defaults(tp_train_config *cfg);
/* Check every number against its range; the message names the flag. */
tp_status tp_train_config_check(const tp_train_config *cfg, tp_error *err);

/* One named tensor of the flat parameter array. */
typedef struct tp_train_tensor {
    char name[48];
    int rows, cols; /* cols is 0 for a vector */
    size_t offset, count;
} tp_train_tensor;

#define TP_TRAIN_MAX_TENSORS (3 + 4 * 16)

typedef struct tp_train_net {
    const tp_train_cell *cell;
    int threads; /* the time loops' hidden units are split between this many
                  * threads; element-wise loops and the BLAS use them too */
    int n_vocab, n_embed, n_hidden, n_layers;
    tp_train_tensor tensors[TP_TRAIN_MAX_TENSORS];
    int n_tensors;
    size_t n_params;
    float *params, *grads; /* [n_params] each, in tensors' order */
} tp_train_net;

typedef struct tp_train_work tp_train_work;

typedef struct tp_trainer {
    tp_train_config cfg;
    tp_vocab *vocab;
    int *ids;        /* the whole text, encoded */
    long n_train;    /* ids[0..n_train) train, the rest validation */
    long n_ids;
    uint64_t text_hash; /* of the text's bytes: a resume must use the same text
                         * (when set before tp_trainer_setup, it is checked) */
    tp_train_net net;
    float *adam_m, *adam_v;
    long step;     /* steps done */
    long pos;      /* next chunk's offset in each stream */
    float *state;  /* carried h then c: [2][L][batch][H] */
    tp_rng rng;    /* dropout masks */
    tp_train_work *work, *eval_work;
    int *chunk_in, *chunk_out; /* [seq * batch], time-major */
} tp_trainer;

/* Build a trainer on text (NUL-terminated, len bytes): the vocabulary, the
 * encoded text and its split, PyTorch-style random weights from cfg->seed. */
tp_status tp_trainer_new(tp_trainer **out, const tp_train_config *cfg, const char *text,
                         size_t len, tp_error *err);
/* Continue from a checkpoint: the text must be the one it was made from.
 * steps > 0 replaces the checkpoint's schedule length. */
tp_status tp_trainer_resume(tp_trainer **out, const char *ckpt_path, const char *text,
                            size_t len, long steps, tp_error *err);
void tp_trainer_free(tp_trainer *t);
/* For tp_trainer_new and the checkpoint reader: with t->cfg, t->rng and
 * t->vocab set, encode and split the text, initialise the weights and
 * allocate the buffers. */
tp_status tp_trainer_setup(tp_trainer *t, const char *text, size_t len, tp_error *err);

/* Replace the weights with a model file's (same shapes and vocabulary):
 * parity tests start both trainers from the same weights. */
tp_status tp_trainer_load_weights(tp_trainer *t, const char *model_path, tp_error *err);

/* One optimisation step on the next chunk; *loss is its mean cross-entropy
 * in nats per token. */
tp_status tp_trainer_step(tp_trainer *t, double *loss, tp_error *err);

/* Mean cross-entropy over the held-out tokens from a zero state (at most
 * max_tokens of them, 0: all), as `tempest eval` scores it. NAN when there
 * is no held-out text. */
double tp_trainer_validate(tp_trainer *t, long max_tokens);

/* A sample of cfg->sample_length tokens after the newline token, at
 * temperature 0.8, from its own random numbers (training is not disturbed).
 * Returns malloc'd text or NULL when out of memory. */
char *tp_trainer_sample(tp_trainer *t, uint64_t seed);

/* Write the model as a safetensors file tempest and train_pytorch.py's model
 * class load; atomically (temp file, fsync, rename, fsync of the directory). */
tp_status tp_trainer_save_model(const tp_trainer *t, const char *path,
                                const char *description, tp_error *err);
/* Write everything a bit-identical resume needs, atomically. */
tp_status tp_trainer_save_checkpoint(const tp_trainer *t, const char *path, tp_error *err);

/* The learning rate of step k (1-based): lr * (0.05 + 0.95 * cosine decay). */
double tp_train_lr(const tp_train_config *cfg, long k);

/* ---- the network (train_net.c) ------------------------------------------ */

tp_status tp_train_net_init(tp_train_net *net, tp_train_cell_kind cell, int vocab, int embed,
                            int hidden, int layers, tp_rng *rng, tp_error *err);
void tp_train_net_free(tp_train_net *net);
const tp_train_tensor *tp_train_net_find(const tp_train_net *net, const char *name);

/* Scratch space for chunks of at most max_seq x max_batch tokens. */
tp_train_work *tp_train_work_new(const tp_train_net *net, int max_seq, int max_batch);
void tp_train_work_free(tp_train_work *w);

/* Dropout probabilities: between recurrent layers, as nn.LSTM's dropout;
 * io on the embedding's output and the last layer's output, as the
 * nn.Dropout of PyTorch's word_language_model example. */
typedef struct tp_train_dropout {
    double between, io;
} tp_train_dropout;

/* Forward a chunk: in and target are [seq][batch] (time-major) token ids;
 * state is [2][L][batch][H] (h then c; c unused but for LSTM), read as the start state and
 * overwritten with the end state. Non-zero dropout draws its masks
 * from rng. Returns the summed cross-entropy in nats. With
 * backward set, net->grads receives d(mean loss)/d(params) (overwritten). */
double tp_train_net_chunk(tp_train_net *net, tp_train_work *w, const int *in,
                          const int *target, int seq, int batch, float *state,
                          tp_train_dropout dropout, tp_rng *rng, int backward);

/* Logits of the last position of the previous forward, batch row b. */
const float *tp_train_work_logits(const tp_train_work *w, int seq, int batch, int b);

/* ---- optimiser (adam.c) ------------------------------------------------- */

/* Scale g[0..n) so its Euclidean norm is at most max_norm (PyTorch's
 * clip_grad_norm_: factor max_norm / (norm + 1e-6) when below 1); returns
 * the norm before clipping. */
double tp_clip_grad_norm(float *g, size_t n, double max_norm);
/* One Adam step (PyTorch's, betas 0.9 and 0.999, eps 1e-8); step is 1-based. */
void tp_adam_step(float *p, const float *g, float *m, float *v, size_t n, double lr,
                  long step);

/* ---- vocabulary builders (vocab_build.c) -------------------------------- */

/* sorted(set(text)) by code point: train_pytorch.py's char vocabulary. */
tp_status tp_vocab_build_char(tp_vocab **out, const char *text, size_t len, tp_error *err);
/* Word vocabulary: "\n" (id 0), "<unk>" (id 1), then the most frequent
 * pieces (as tp_vocab_encode splits words) up to limit tokens in all, most
 * frequent first, ties in byte order. */
tp_status tp_vocab_build_word(tp_vocab **out, const char *text, int limit, tp_error *err);

#endif
