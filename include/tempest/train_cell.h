/* train_cell.h - the recurrent cells the trainer knows, one file each
 * (train_lstm.c, train_gru.c, train_rnn.c): their gate count and one time
 * step forward and back over a batch of rows, in PyTorch's equations and
 * gate order. train_net.c does the matrix products around them. */
#ifndef TEMPEST_TRAIN_CELL_H
#define TEMPEST_TRAIN_CELL_H

#include <stdint.h>

typedef enum tp_train_cell_kind {
    TP_TRAIN_LSTM, TP_TRAIN_GRU, TP_TRAIN_RNN_TANH, TP_TRAIN_RNN_RELU, TP_TRAIN_CELL_N
} tp_train_cell_kind;

typedef struct tp_train_cell {
    const char *name;   /* "lstm", "gru", "rnn_tanh", "rnn_relu" (--cell) */
    const char *module; /* PyTorch module name: "lstm", "gru", "rnn" */
    const char *label;  /* "LSTM", "GRU", "RNN (tanh)", "RNN (relu)" */
    const char *nonlinearity; /* metadata "nonlinearity" for nn.RNN, else NULL */
    int gates;          /* weight rows per hidden unit: 4, 3 or 1 */
    int has_c;          /* a cell state besides h (LSTM) */
    /* fused: the cell only needs x W_ih^T + b_ih + h W_hh^T + b_hh, so the
     * recurrent product is accumulated onto the input projection and the
     * pre-activation gradient is the same for both weights. */
    int fused;
    /* One step, batch rows, hidden units [j0, j1) of each (two threads take
     * half the units each). gi: [batch][gates*H] the input projection plus
     * b_ih (fused: plus the recurrent part and b_hh); gh: [batch][gates*H]
     * h_prev W_hh^T + b_hh (NULL when fused). Writes h (and c) and saved:
     * [batch][4H], what the backward step needs, for those units. */
    void (*forward)(const float *gi, const float *gh, const float *h_prev,
                    const float *c_prev, float *h, float *c, float *saved, int batch, int H,
                    int j0, int j1);
    /* One step back. dh: [batch][H] d loss / d h (from above and from the
     * next step); replaced by the part of d loss / d h_prev that does not go
     * through W_hh. dc: d loss / d c, replaced by d loss / d c_prev (LSTM).
     * Writes dgi (d loss / d input pre-activations) and, when not fused,
     * dgh (d loss / d recurrent pre-activations). Units [j0, j1) only. */
    void (*backward)(const float *saved, const float *h_prev, const float *c_prev,
                     const float *c, const float *h, float *dh, float *dc, float *dgi,
                     float *dgh, int batch, int H, int j0, int j1);
} tp_train_cell;

extern const tp_train_cell TP_TRAIN_CELL_LSTM, TP_TRAIN_CELL_GRU, TP_TRAIN_CELL_RNN_TANH,
    TP_TRAIN_CELL_RNN_RELU;

/* The cell of a kind; NULL for an invalid kind. */
const tp_train_cell *tp_train_cell_of(tp_train_cell_kind kind);
/* Parse --cell's value; -1 when it names no cell. */
int tp_train_cell_parse(const char *name);

/* ---- gate math shared by the cells ---------------------------------------
 * Branch-free, so that the compiler vectorises the row loops (libm's expf
 * and tanhf were a third of a training step): x = n ln2 + r, a degree-6
 * polynomial for e^r, 2^n put in the exponent bits; relative error about
 * 2e-7, clamped where 2^n stays normal. Compile with -fno-trapping-math. */
static inline float tp_exp_approx(float x)
{
    x = x < -87.0f ? -87.0f : x > 88.0f ? 88.0f : x;
    /* round to nearest by the 1.5 * 2^23 trick: no libm call */
    float n = (x * 1.44269504f + 12582912.0f) - 12582912.0f;
    float r = x - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float e = p * r * r + r + 1.0f;
    union {
        int32_t i;
        float f;
    } scale = {.i = ((int32_t)n + 127) << 23};
    return e * scale.f;
}

static inline float tp_sigmoid_approx(float x)
{
    return 1.0f / (1.0f + tp_exp_approx(-x));
}

static inline float tp_tanh_approx(float x)
{
    return 1.0f - 2.0f / (tp_exp_approx(2.0f * x) + 1.0f);
}

/* The row loops are compiled twice, for AVX2 and for any x86-64, and the
 * loader picks one for the CPU (the same one every run on a machine). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TP_GATE_LOOP __attribute__((target_clones("avx2", "default")))
#else
#define TP_GATE_LOOP
#endif

#endif
