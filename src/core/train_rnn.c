/* train_rnn.c - the vanilla RNN cells for training, nn.RNN's
 * h = act(x W_ih^T + b_ih + h_prev W_hh^T + b_hh) with act tanh or relu;
 * the derivative is taken from h itself, so nothing is saved. Also the
 * table of every cell. */
#include <stddef.h>
#include <string.h>

#include "tempest/train_cell.h"

TP_GATE_LOOP static void tanh_rows(const float *restrict z, float *restrict h, size_t n)
{
    for (size_t j = 0; j < n; j++)
        h[j] = tp_tanh_approx(z[j]);
}

TP_GATE_LOOP static void relu_rows(const float *restrict z, float *restrict h, size_t n)
{
    for (size_t j = 0; j < n; j++)
        h[j] = z[j] > 0 ? z[j] : 0;
}

/* A row function over units [j0, j1) of each of batch rows; the whole
 * batch at once when that is every unit (one contiguous run). */
static void forward_units(void (*rows)(const float *restrict, float *restrict, size_t),
                          const float *z, float *h, int batch, int H, int j0, int j1)
{
    if (j0 == 0 && j1 == H) {
        rows(z, h, (size_t)batch * H);
        return;
    }
    for (int b = 0; b < batch; b++)
        rows(z + (size_t)b * H + j0, h + (size_t)b * H + j0, (size_t)(j1 - j0));
}

static void tanh_forward(const float *gi, const float *gh, const float *h_prev,
                         const float *c_prev, float *h, float *c, float *saved, int batch,
                         int H, int j0, int j1)
{
    (void)gh, (void)h_prev, (void)c_prev, (void)c, (void)saved;
    forward_units(tanh_rows, gi, h, batch, H, j0, j1);
}

static void relu_forward(const float *gi, const float *gh, const float *h_prev,
                         const float *c_prev, float *h, float *c, float *saved, int batch,
                         int H, int j0, int j1)
{
    (void)gh, (void)h_prev, (void)c_prev, (void)c, (void)saved;
    forward_units(relu_rows, gi, h, batch, H, j0, j1);
}

TP_GATE_LOOP static void tanh_back_rows(const float *restrict h, float *restrict dh,
                                        float *restrict d, size_t n)
{
    for (size_t j = 0; j < n; j++) {
        d[j] = dh[j] * (1 - h[j] * h[j]);
        dh[j] = 0;
    }
}

TP_GATE_LOOP static void relu_back_rows(const float *restrict h, float *restrict dh,
                                        float *restrict d, size_t n)
{
    for (size_t j = 0; j < n; j++) {
        d[j] = h[j] > 0 ? dh[j] : 0;
        dh[j] = 0;
    }
}

static void backward_units(void (*rows)(const float *restrict, float *restrict,
                                        float *restrict, size_t),
                           const float *h, float *dh, float *dgi, int batch, int H, int j0,
                           int j1)
{
    if (j0 == 0 && j1 == H) {
        rows(h, dh, dgi, (size_t)batch * H);
        return;
    }
    for (int b = 0; b < batch; b++) {
        size_t k = (size_t)b * H + j0;
        rows(h + k, dh + k, dgi + k, (size_t)(j1 - j0));
    }
}

static void tanh_backward(const float *saved, const float *h_prev, const float *c_prev,
                          const float *c, const float *h, float *dh, float *dc, float *dgi,
                          float *dgh, int batch, int H, int j0, int j1)
{
    (void)saved, (void)h_prev, (void)c_prev, (void)c, (void)dc, (void)dgh;
    backward_units(tanh_back_rows, h, dh, dgi, batch, H, j0, j1);
}

static void relu_backward(const float *saved, const float *h_prev, const float *c_prev,
                          const float *c, const float *h, float *dh, float *dc, float *dgi,
                          float *dgh, int batch, int H, int j0, int j1)
{
    (void)saved, (void)h_prev, (void)c_prev, (void)c, (void)dc, (void)dgh;
    backward_units(relu_back_rows, h, dh, dgi, batch, H, j0, j1);
}

const tp_train_cell TP_TRAIN_CELL_RNN_TANH = {
    "rnn_tanh", "rnn", "RNN (tanh)", "tanh", 1, 0, 1, tanh_forward, tanh_backward,
};
const tp_train_cell TP_TRAIN_CELL_RNN_RELU = {
    "rnn_relu", "rnn", "RNN (relu)", "relu", 1, 0, 1, relu_forward, relu_backward,
};

static const tp_train_cell *const CELLS[TP_TRAIN_CELL_N] = {
    &TP_TRAIN_CELL_LSTM, &TP_TRAIN_CELL_GRU, &TP_TRAIN_CELL_RNN_TANH, &TP_TRAIN_CELL_RNN_RELU,
};

const tp_train_cell *tp_train_cell_of(tp_train_cell_kind kind)
{
    return kind >= 0 && kind < TP_TRAIN_CELL_N ? CELLS[kind] : NULL;
}

int tp_train_cell_parse(const char *name)
{
    for (int k = 0; k < TP_TRAIN_CELL_N; k++)
        if (strcmp(name, CELLS[k]->name) == 0)
            return k;
    return -1;
}
