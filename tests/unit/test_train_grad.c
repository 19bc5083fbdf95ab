/* test_train_grad.c - the trainer's backward pass against finite
 * differences, for every parameter tensor of a tiny two-layer model of
 * every cell kind, with and without dropout, from a non-zero carried state. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tempest/train.h"

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

static void check_gradients(tp_train_cell_kind cell, tp_train_dropout dropout)
{
    tp_train_net net;
    tp_rng rng;
    tp_error err = {0};
    tp_rng_seed(&rng, 5);
    cr_assert_eq(tp_train_net_init(&net, cell, V, E, H, L, &rng, &err), TP_OK, "%s", err.msg);
    tp_train_work *w = tp_train_work_new(&net, SEQ, BATCH);
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
