/* train_lstm.c - the LSTM cell for training: nn.LSTM's equations, gates
 * in the order i, f, g, o; saved = the four activations. */
#include <stddef.h>

#include "tempest/train_cell.h"

/* n units of one row; the gates of a unit lie H apart. */
TP_GATE_LOOP static void row_forward(const float *restrict z, const float *restrict cp,
                                     float *restrict c, float *restrict h,
                                     float *restrict act, int H, int n)
{
    for (int j = 0; j < n; j++) {
        float i = tp_sigmoid_approx(z[j]), f = tp_sigmoid_approx(z[H + j]);
        float g = tp_tanh_approx(z[2 * H + j]), o = tp_sigmoid_approx(z[3 * H + j]);
        act[j] = i;
        act[H + j] = f;
        act[2 * H + j] = g;
        act[3 * H + j] = o;
        c[j] = f * cp[j] + i * g;
        h[j] = o * tp_tanh_approx(c[j]);
    }
}

static void lstm_forward(const float *gi, const float *gh, const float *h_prev,
                         const float *c_prev, float *h, float *c, float *saved, int batch,
                         int H, int j0, int j1)
{
    (void)gh;
    (void)h_prev;
    for (int b = 0; b < batch; b++) {
        size_t k = (size_t)b * H + j0, k4 = 4 * (size_t)b * H + j0;
        row_forward(gi + k4, c_prev + k, c + k, h + k, saved + k4, H, j1 - j0);
    }
}

TP_GATE_LOOP static void row_backward(const float *restrict act, const float *restrict c,
                                      const float *restrict cp, float *restrict dh_io,
                                      float *restrict dc_io, float *restrict d, int H, int n)
{
    for (int j = 0; j < n; j++) {
        float i = act[j], f = act[H + j], g = act[2 * H + j], o = act[3 * H + j];
        float tc = tp_tanh_approx(c[j]);
        float dh = dh_io[j];
        float dc = dc_io[j] + dh * o * (1 - tc * tc);
        d[j] = dc * g * i * (1 - i);
        d[H + j] = dc * cp[j] * f * (1 - f);
        d[2 * H + j] = dc * i * (1 - g * g);
        d[3 * H + j] = dh * tc * o * (1 - o);
        dc_io[j] = dc * f;
        dh_io[j] = 0; /* all of d h_prev goes through W_hh */
    }
}

static void lstm_backward(const float *saved, const float *h_prev, const float *c_prev,
                          const float *c, const float *h, float *dh, float *dc, float *dgi,
                          float *dgh, int batch, int H, int j0, int j1)
{
    (void)h_prev;
    (void)h;
    (void)dgh;
    for (int b = 0; b < batch; b++) {
        size_t k = (size_t)b * H + j0, k4 = 4 * (size_t)b * H + j0;
        row_backward(saved + k4, c + k, c_prev + k, dh + k, dc + k, dgi + k4, H, j1 - j0);
    }
}

const tp_train_cell TP_TRAIN_CELL_LSTM = {
    "lstm", "lstm", "LSTM", NULL, 4, 1, 1, lstm_forward, lstm_backward,
};
