/* kernels.h - the hot loops of the model step: the only place for SIMD.
 *
 * Weights live in tp_matrix as panels of eight rows (one AVX2 register of
 * floats) interleaved by column: panel p holds column 0 of rows 8p..8p+7,
 * then column 1, and so on, 64-byte aligned, zero padded past the last row,
 * stored as f32, f16, bf16 or int8 with one scale per row; kernels widen to
 * f32 in registers. A kernel set (portable C, or AVX2+FMA) is picked at run time;
 * TEMPEST_KERNEL=portable|avx2 forces one.
 *
 * Every kernel computes each (row, sequence) dot product the same way
 * whatever the number of sequences or the rows it is asked for: one running
 * sum in k order, then scale and bias. That is what makes a batched step
 * bit-identical to single steps.
 */
#ifndef TEMPEST_KERNELS_H
#define TEMPEST_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "tempest/error.h"

/* Columns are padded to a multiple of this; vectors fed to a matrix must be
 * at least ld long with zeros past cols. */
#define TP_PAD 8
/* Rows per panel. */
#define TP_PANEL 8

typedef enum tp_weight_type { TP_W_F32, TP_W_F16, TP_W_BF16, TP_W_INT8, TP_W_N } tp_weight_type;

/* "f32", "f16", "bf16", "int8"; the message names the value otherwise. */
tp_status tp_weight_type_parse(const char *text, tp_weight_type *out, tp_error *err);
const char *tp_weight_type_name(tp_weight_type t);
/* Bytes per element (inline: the kernels ask for every panel they start). */
static inline size_t tp_weight_type_size(tp_weight_type t)
{
    return t == TP_W_INT8 ? 1 : t == TP_W_F16 || t == TP_W_BF16 ? 2 : 4;
}

typedef struct tp_matrix {
    int rows, cols;
    int ld;              /* columns from a panel's start to the next's: cols
                          * rounded up to TP_PAD, or for a view of some
                          * columns (tp_matrix_columns) its parent's ld */
    tp_weight_type type;
    void *data;          /* panels of TP_PANEL rows x ld columns, column-major
                          * inside a panel; 64-byte aligned, zero padded */
    float *scale;        /* int8: value = q * scale[row]; NULL otherwise */
} tp_matrix;

/* The start of panel p (rows TP_PANEL * p onwards). */
static inline const void *tp_matrix_panel(const tp_matrix *W, int p)
{
    return (const char *)W->data +
           (size_t)p * TP_PANEL * (size_t)W->ld * tp_weight_type_size(W->type);
}

/* Columns [c0, c1) of W as a matrix sharing W's storage (nothing to free).
 * A panel's columns are contiguous, so the view starts c0 columns into each
 * panel and keeps W's ld as the stride; column c0 stays as aligned as
 * column 0 for the f32, f16 and bf16 loads. */
static inline tp_matrix tp_matrix_columns(const tp_matrix *W, int c0, int c1)
{
    tp_matrix v = *W;
    v.cols = c1 - c0;
    v.data = (char *)W->data + (size_t)c0 * TP_PANEL * tp_weight_type_size(W->type);
    return v;
}

/* Store W (rows x cols, row-major f32) as type; int8 rounds each row to 127
 * steps of max|row| / 127. */
tp_status tp_matrix_init(tp_matrix *m, const float *W, int rows, int cols, tp_weight_type type,
                         tp_error *err);
void tp_matrix_free(tp_matrix *m);
/* A zero matrix of the shape, to be filled row by row with
 * tp_matrix_set_row (what tp_matrix_init does from a whole buffer). */
tp_status tp_matrix_alloc(tp_matrix *m, int rows, int cols, tp_weight_type type,
                          tp_error *err);
/* Store row r from src (cols f32 values), as tp_matrix_init would. */
void tp_matrix_set_row(tp_matrix *m, int r, const float *src);
/* Element (r, c) widened to f32 (for tests and slow paths). */
float tp_matrix_get(const tp_matrix *m, int r, int c);

/* Y: for every sequence s < n and row r in [r0, r1):
 *   y[s][r] = b[r] + scale[r] * (from[s][r] + dot(W row r, x[s]))
 * (scale 1 unless int8), the dot product one running sum in k order that
 * starts at from[s][r], or at 0 when from is NULL. So a sum over columns
 * [0, c) (a view, b and scale NULL) continued by the rest over [c, cols)
 * gives the bits of the whole sum: what lets a step start layer 0 from a
 * per-token table. x[s] holds at least W->cols floats. b may be NULL: then
 * nothing is added, so a partial sum passes through exactly. */
typedef void (*tp_matmul_fn)(const tp_matrix *W, const float *b, const float *const *x,
                             const float *const *from, float *const *y, int n, int r0,
                             int r1);

/* One recurrent cell update of n units from pre-activations, as PyTorch
 * computes it. LSTM, gates = [i | f | g | o]:
 *   c' = sigmoid(f) * c + sigmoid(i) * tanh(g);  h' = sigmoid(o) * tanh(c')
 * GRU, gates = [W_ir x + b_ir | W_iz x + b_iz | W_in x + b_in |
 *               W_hr h + b_hr | W_hz h + b_hz | W_hn h + b_hn] (6n; c unused):
 *   r = sigmoid(.r + .r), z = sigmoid(.z + .z), n = tanh(.in + r * .hn),
 *   h' = (1 - z) * n + z * h, computed as n + z * (h - n) like PyTorch
 * RNN, gates = [W_ih x + b_ih + W_hh h + b_hh] (n; c unused):
 *   h' = tanh(gates) or relu(gates) */
typedef void (*tp_cell_fn)(const float *gates, float *h, float *c, int n);

typedef struct tp_kernels {
    const char *name; /* "portable", "avx2" */
    tp_matmul_fn matmul[TP_W_N];
    tp_cell_fn lstm_cell;
    tp_cell_fn gru_cell;
    tp_cell_fn rnn_tanh_cell;
    tp_cell_fn rnn_relu_cell;
} tp_kernels;

/* The kernel set called name ("portable", "avx2"), or for NULL/"" the best
 * this CPU runs. Unknown names and sets the CPU lacks are errors. */
tp_status tp_kernels_find(const char *name, const tp_kernels **out, tp_error *err);
/* As tp_kernels_find with $TEMPEST_KERNEL (unset: the best). */
tp_status tp_kernels_from_env(const tp_kernels **out, tp_error *err);

/* y[r] += x[r] for r in 0..n. */
void tp_vec_add(float *y, const float *x, int n);

/* The portable cell with libm's expf/tanhf: the reference the others are
 * held to. */
void tp_lstm_cell(const float *gates, float *h, float *c, int n);
void tp_gru_cell(const float *gates, float *h, float *c, int n);
void tp_rnn_tanh_cell(const float *gates, float *h, float *c, int n);
void tp_rnn_relu_cell(const float *gates, float *h, float *c, int n);

/* f32 to IEEE half and bfloat16, round to nearest even (the widening
 * conversions are in safetensors.h). */
uint16_t tp_f32_to_f16(float f);
uint16_t tp_f32_to_bf16(float f);

#endif
