/* test_train_grad.c - the trainer's backward pass against finite
 * differences, for every parameter tensor of a tiny two-layer model of
 * every cell kind, with and without dropout, from a non-zero carried state. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tempest/train.h"
#include "tempest/train_kernel.h"

enum { V = 5, E = 3, H = 4, L = 2, SEQ = 3, BATCH = 2 };

static const int IN[SEQ * BATCH] = {0, 1, 2, 3, 4, 0};
static const int OUT[SEQ * BATCH] = {1, 2, 3, 4, 0, 2};

/* The summed loss from the given start state; dropout masks come from a
 * fresh rng each time, so every evaluation sees the same masks. */
static double loss_at(tp_train_net *net, tp_train_work *w, const float *state0,
                      tp_train_dropout dropout, int backward)
{
    float state[2 * L * BATCH * H];
    memcpy(state, state0, sizeof state);
    tp_rng rng;
    tp_rng_seed(&rng, 99);
    return tp_train_net_chunk(net, w, IN, OUT, SEQ, BATCH, state, dropout, &rng, backward);
}

/* max_batch: the work area's size; with room for 4 rows per token the
 * trainer folds layer 0's input projection by token (train_net.c). */
static void check_gradients_with(tp_train_cell_kind cell, tp_train_dropout dropout,
                                 int max_batch)
{
    tp_train_net net;
    tp_rng rng;
    tp_error err = {0};
    tp_rng_seed(&rng, 5);
    cr_assert_eq(tp_train_net_init(&net, cell, V, E, H, L, &rng, &err), TP_OK, "%s", err.msg);
    tp_train_work *w = tp_train_work_new(&net, SEQ, max_batch);
    cr_assert_not_null(w);
    float state0[2 * L * BATCH * H];
    for (size_t i = 0; i < sizeof state0 / sizeof state0[0]; i++)
        state0[i] = (float)(0.5 * sin((double)i));
    loss_at(&net, w, state0, dropout, 1);
    float *analytic = malloc(net.n_params * sizeof(float));
    memcpy(analytic, net.grads, net.n_params * sizeof(float));
    const double eps = 1e-2;
    double base = loss_at(&net, w, state0, dropout, 0);
    int checked = 0, skipped = 0;
    for (int ti = 0; ti < net.n_tensors; ti++) {
        const tp_train_tensor *t = &net.tensors[ti];
        double worst = 0;
        for (size_t k = 0; k < t->count; k++) {
            float *p = net.params + t->offset + k, saved = *p;
            *p = saved + (float)eps;
            double up = loss_at(&net, w, state0, dropout, 0);
            *p = saved - (float)eps;
            double down = loss_at(&net, w, state0, dropout, 0);
            *p = saved;
            /* A relu kink inside [-eps, eps] makes the two one-sided slopes
             * disagree; the central difference there is no derivative. */
            if (fabs((up - base) - (base - down)) > 0.2 * fabs(up - down) + 1e-5) {
                skipped++;
                continue;
            }
            checked++;
            double numeric = (up - down) / (2 * eps) / (SEQ * BATCH);
            double diff = fabs(numeric - analytic[t->offset + k]);
            double rel = diff / fmax(1e-3, fabs(numeric) + fabs(analytic[t->offset + k]));
            if (rel > worst)
                worst = rel;
        }
        cr_expect_lt(worst, 2e-2,
                     "%s %s: worst relative gradient error %g (dropout %g, io %g)",
                     net.cell->name, t->name, worst, dropout.between, dropout.io);
    }
    cr_expect_gt(checked, 10 * skipped, "%d checked, %d skipped at kinks", checked, skipped);
    free(analytic);
    tp_train_work_free(w);
    tp_train_net_free(&net);
}

static void check_gradients(tp_train_cell_kind cell, tp_train_dropout dropout)
{
    check_gradients_with(cell, dropout, BATCH);
}

/* Folded: the embedding through W_ih per token, the gate gradients summed
 * per token for W_ih's and the embedding's gradients. */
Test(train_grad, folded_input_projection_matches_finite_differences)
{
    check_gradients_with(TP_TRAIN_LSTM, (tp_train_dropout){0, 0}, 4 * V);
    check_gradients_with(TP_TRAIN_GRU, (tp_train_dropout){0.3, 0}, 4 * V);
    check_gradients_with(TP_TRAIN_RNN_TANH, (tp_train_dropout){0, 0}, 4 * V);
}

Test(train_grad, lstm_every_tensor_matches_finite_differences)
{
    check_gradients(TP_TRAIN_LSTM, (tp_train_dropout){0, 0});
}

Test(train_grad, lstm_with_dropout_between_layers)
{
    check_gradients(TP_TRAIN_LSTM, (tp_train_dropout){0.3, 0});
}

/* With io dropout every tensor sees a mask: the embedding's through the
 * first layer's input, the decoder's through its input. */
Test(train_grad, lstm_with_dropout_on_embedding_and_decoder_input)
{
    check_gradients(TP_TRAIN_LSTM, (tp_train_dropout){0, 0.4});
    check_gradients(TP_TRAIN_LSTM, (tp_train_dropout){0.3, 0.4});
}

Test(train_grad, gru_every_tensor_matches_finite_differences)
{
    check_gradients(TP_TRAIN_GRU, (tp_train_dropout){0, 0});
    check_gradients(TP_TRAIN_GRU, (tp_train_dropout){0.3, 0.3});
}

Test(train_grad, rnn_tanh_every_tensor_matches_finite_differences)
{
    check_gradients(TP_TRAIN_RNN_TANH, (tp_train_dropout){0, 0});
}

Test(train_grad, rnn_relu_every_tensor_matches_finite_differences)
{
    check_gradients(TP_TRAIN_RNN_RELU, (tp_train_dropout){0, 0});
}

Test(train_grad, bias_pairs_get_the_same_gradient)
{
    tp_train_net net;
    tp_rng rng;
    tp_error err = {0};
    tp_rng_seed(&rng, 7);
    cr_assert_eq(tp_train_net_init(&net, TP_TRAIN_LSTM, V, E, H, 1, &rng, &err), TP_OK);
    tp_train_work *w = tp_train_work_new(&net, SEQ, BATCH);
    float state[2 * BATCH * H] = {0};
    tp_train_net_chunk(&net, w, IN, OUT, SEQ, BATCH, state, (tp_train_dropout){0, 0}, NULL,
                       1);
    const tp_train_tensor *a = tp_train_net_find(&net, "lstm.bias_ih_l0");
    const tp_train_tensor *b = tp_train_net_find(&net, "lstm.bias_hh_l0");
    cr_assert(a && b);
    cr_expect_eq(memcmp(net.grads + a->offset, net.grads + b->offset, a->count * sizeof(float)),
                 0);
    tp_train_work_free(w);
    tp_train_net_free(&net);
}

/* Two threads split the hidden units of the time loops (each its rows of
 * W_hh forward, its columns backward): the loss, every gradient and the
 * carried state are those of one thread. H = 40 splits unevenly (16 + 24)
 * and runs on sgemm; H = 48 (16 + 32) on the packed panels of
 * train_kernel.h. A unit range off by one, or a missing barrier, shows. */
static void check_threads_agree(tp_train_cell_kind cell, int H2)
{
    enum { V2 = 7, E2 = 5, HMAX = 48, SEQ2 = 6, B2 = 3, N = SEQ2 * B2 };
    int in[N], out[N];
    for (int i = 0; i < N; i++) {
        in[i] = (i * 3) % V2;
        out[i] = (i * 5 + 1) % V2;
    }
    tp_train_net net;
    tp_rng rng;
    tp_rng_seed(&rng, 17);
    cr_assert_eq(tp_train_net_init(&net, cell, V2, E2, H2, L, &rng, NULL), TP_OK);
    tp_train_work *w = tp_train_work_new(&net, SEQ2, B2);
    cr_assert_not_null(w);
    float state[2][2 * L * B2 * HMAX];
    float *grads[2];
    double loss[2];
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < 2 * L * B2 * H2; i++)
            state[k][i] = (float)(0.3 * cos((double)i));
        net.threads = k + 1;
        tp_rng_seed(&rng, 3);
        loss[k] = tp_train_net_chunk(&net, w, in, out, SEQ2, B2, state[k],
                                     (tp_train_dropout){0.2, 0.1}, &rng, 1);
        grads[k] = malloc(net.n_params * sizeof(float));
        memcpy(grads[k], net.grads, net.n_params * sizeof(float));
    }
    cr_expect_float_eq(loss[1], loss[0], 1e-6 * fabs(loss[0]), "%s loss", net.cell->name);
    double worst = 0, scale = 0;
    for (size_t i = 0; i < net.n_params; i++) {
        worst = fmax(worst, fabs(grads[1][i] - grads[0][i]));
        scale = fmax(scale, fabs(grads[0][i]));
    }
    cr_expect_leq(worst, 1e-5 * scale, "%s gradients differ by %g (largest %g)", net.cell->name,
                  worst, scale);
    for (int i = 0; i < 2 * L * B2 * H2; i++)
        cr_expect_float_eq(state[1][i], state[0][i], 1e-6, "%s state %d", net.cell->name, i);
    free(grads[0]);
    free(grads[1]);
    tp_train_work_free(w);
    tp_train_net_free(&net);
}

Test(train_grad, two_threads_give_what_one_gives)
{
    for (int cell = 0; cell < TP_TRAIN_CELL_N; cell++) {
        check_threads_agree((tp_train_cell_kind)cell, 40);
        check_threads_agree((tp_train_cell_kind)cell, 48);
    }
}

/* The packed-panel product against plain sums, for batch sizes that use
 * every block height (6, 4, 2 and 1 rows) and both packings. */
Test(train_grad, packed_panel_product_matches_plain_sums)
{
    if (!tp_tk_usable(16, 0))
        cr_skip_test("this CPU lacks AVX2/FMA: the trainer uses sgemm instead");
    enum { K = 40, NOUT = 48, LD = 56 };
    static float W[NOUT * LD], WT[K * LD], P[NOUT * K], A[13 * K], C[13 * NOUT], R[13 * NOUT];
    for (int i = 0; i < NOUT * LD; i++)
        W[i] = (float)sin(0.37 * i);
    for (int k = 0; k < K; k++)
        for (int j = 0; j < NOUT; j++)
            WT[k * LD + j] = W[j * LD + k]; /* the same matrix, stored by columns */
    for (int i = 0; i < 13 * K; i++)
        A[i] = (float)cos(0.11 * i);
    int batches[] = {1, 2, 4, 6, 7, 11, 13};
    for (int by = 0; by < 2; by++) {
        if (by == 0)
            tp_tk_pack_rows(P, W, LD, 0, NOUT, K);
        else
            tp_tk_pack_cols(P, WT, LD, 0, NOUT, K);
        for (size_t bi = 0; bi < sizeof batches / sizeof batches[0]; bi++) {
            int B = batches[bi];
            for (int i = 0; i < B * NOUT; i++)
                C[i] = R[i] = (float)(0.01 * i);
            for (int b = 0; b < B; b++)
                for (int j = 0; j < NOUT; j++) {
                    double sum = R[b * NOUT + j];
                    for (int k = 0; k < K; k++)
                        sum += (double)A[b * K + k] * W[j * LD + k];
                    R[b * NOUT + j] = (float)sum;
                }
            /* the last 32 outputs alone, as the second thread computes them */
            tp_tk_gemm(B, 16, K, A, K, P, C, NOUT);
            tp_tk_gemm(B, 32, K, A, K, P + 16 * K, C + 16, NOUT);
            for (int i = 0; i < B * NOUT; i++)
                cr_assert_float_eq(C[i], R[i], 1e-4, "packed by %s, batch %d, element %d: %g "
                                   "against %g", by ? "columns" : "rows", B, i, C[i], R[i]);
        }
    }
}
