/* train_gru.c - the GRU cell for training: nn.GRU's equations, gates in
 * the order r, z, n, with b_hn inside r * (...):
 *   r = sigmoid(gi_r + gh_r)   z = sigmoid(gi_z + gh_z)
 *   n = tanh(gi_n + r * gh_n)  h = (1 - z) * n + z * h_prev
 * where gi = x W_ih^T + b_ih and gh = h_prev W_hh^T + b_hh.
 * saved = r, z, n, gh_n. */
#include <stddef.h>

#include "tempest/train_cell.h"

TP_GATE_LOOP static void row_forward(const float *restrict gi, const float *restrict gh,
                                     const float *restrict hp, float *restrict h,
                                     float *restrict s, int H, int n)
{
    for (int j = 0; j < n; j++) {
        float r = tp_sigmoid_approx(gi[j] + gh[j]);
        float z = tp_sigmoid_approx(gi[H + j] + gh[H + j]);
        float hn = gh[2 * H + j];
        float n = tp_tanh_approx(gi[2 * H + j] + r * hn);
        s[j] = r;
        s[H + j] = z;
        s[2 * H + j] = n;
        s[3 * H + j] = hn;
        h[j] = (1 - z) * n + z * hp[j];
    }
}

static void gru_forward(const float *gi, const float *gh, const float *h_prev,
                        const float *c_prev, float *h, float *c, float *saved, int batch,
                        int H, int j0, int j1)
{
    (void)c_prev;
    (void)c;
    for (int b = 0; b < batch; b++) {
        size_t k = (size_t)b * H;
        row_forward(gi + 3 * k + j0, gh + 3 * k + j0, h_prev + k + j0, h + k + j0,
                    saved + 4 * k + j0, H, j1 - j0);
    }
}

TP_GATE_LOOP static void row_backward(const float *restrict s, const float *restrict hp,
                                      float *restrict dh_io, float *restrict dgi,
                                      float *restrict dgh, int H, int n)
{
    for (int j = 0; j < n; j++) {
        float r = s[j], z = s[H + j], n = s[2 * H + j], hn = s[3 * H + j];
        float dh = dh_io[j];
        float dn = dh * (1 - z) * (1 - n * n);
        float dr = dn * hn * r * (1 - r);
        float dz = dh * (hp[j] - n) * z * (1 - z);
        dgi[j] = dr;
        dgi[H + j] = dz;
        dgi[2 * H + j] = dn;
        dgh[j] = dr;
        dgh[H + j] = dz;
        dgh[2 * H + j] = dn * r;
        dh_io[j] = dh * z;
    }
}

static void gru_backward(const float *saved, const float *h_prev, const float *c_prev,
                         const float *c, const float *h, float *dh, float *dc, float *dgi,
                         float *dgh, int batch, int H, int j0, int j1)
{
    (void)c_prev;
    (void)c;
    (void)h;
    (void)dc;
    for (int b = 0; b < batch; b++) {
        size_t k = (size_t)b * H;
        row_backward(saved + 4 * k + j0, h_prev + k + j0, dh + k + j0, dgi + 3 * k + j0,
                     dgh + 3 * k + j0, H, j1 - j0);
    }
}

const tp_train_cell TP_TRAIN_CELL_GRU = {
    "gru", "gru", "GRU", NULL, 3, 0, 0, gru_forward, gru_backward,
};
