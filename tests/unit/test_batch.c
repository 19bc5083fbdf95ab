/* test_batch.c - tp_model_step_batch gives, bit for bit, what single steps
 * give (any n, states at different positions, every kernel, weight type and
 * cell kind, one or two threads), and reduced-precision weights stay near f32. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "tempest/kernels.h"
#include "tempest/model.h"

static tp_model *load_opts(const th_lstm *m, tp_weight_type w, const char *kernel,
                           int no_input_sums)
{
    th_file f;
    th_lstm_file(m, (th_names){0}, &f);
    size_t size;
    uint8_t *buf = th_file_bytes(&f, &size);
    tp_safetensors st;
    tp_error err = {0};
    tp_model *model = NULL;
    cr_assert_eq(tp_st_parse(&st, buf, size, &err), TP_OK, "%s", err.msg);
    tp_model_options opt = {.weights = w, .kernel = kernel, .no_input_sums = no_input_sums};
    tp_status rc = tp_model_from_safetensors_with(&model, &st, &opt, &err);
    tp_st_close(&st);
    free(buf);
    th_file_free(&f);
    if (rc == TP_OK)
        return model;
    if (kernel && strcmp(kernel, "portable") != 0)
        cr_skip_test("kernel %s unavailable: %s", kernel, err.msg);
    cr_assert_fail("loading: %s", err.msg);
    return NULL;
}

static tp_model *load_with(const th_lstm *m, tp_weight_type w, const char *kernel)
{
    return load_opts(m, w, kernel, 0);
}

/* Put state i at position i % 5 + 1 with its own tokens. */
static void spread_states(const tp_model *m, tp_state **s, int n)
{
    for (int i = 0; i < n; i++)
        for (int k = 0; k <= i % 5; k++)
            tp_model_step(m, s[i], (i * 3 + k * 5) % m->n_vocab, NULL);
}

static tp_state **new_states(const tp_model *m, int n)
{
    tp_state **s = calloc((size_t)n, sizeof *s);
    cr_assert_not_null(s);
    for (int i = 0; i < n; i++)
        cr_assert_not_null(s[i] = tp_state_new(m));
    return s;
}

static void free_states(tp_state **s, int n)
{
    for (int i = 0; i < n; i++)
        tp_state_free(s[i]);
    free(s);
}

static void assert_same_state(const tp_model *m, const tp_state *a, const tp_state *b,
                              const char *what, int i)
{
    size_t LH = (size_t)m->n_layers * (size_t)m->n_hidden * sizeof(float);
    cr_assert(memcmp(a->h, b->h, LH) == 0 && memcmp(a->c, b->c, LH) == 0,
              "%s: state %d differs", what, i);
}

/* n sequences, 4 batched steps, against the same states stepped alone. */
static void check_identical(const tp_model *m, int n, const char *what)
{
    size_t V = (size_t)m->n_vocab;
    tp_state **batch = new_states(m, n), **alone = new_states(m, n);
    spread_states(m, batch, n);
    spread_states(m, alone, n);
    int *tokens = malloc((size_t)n * sizeof *tokens);
    float *lb = malloc((size_t)n * V * sizeof *lb), *la = malloc(V * sizeof *la);
    cr_assert(tokens && lb && la);
    for (int step = 0; step < 4; step++) {
        for (int i = 0; i < n; i++)
            tokens[i] = (i * 7 + step * 3 + 1) % m->n_vocab;
        tp_model_step_batch(m, batch, tokens, n, lb);
        for (int i = 0; i < n; i++) {
            tp_model_step(m, alone[i], tokens[i], la);
            cr_assert(memcmp(la, lb + (size_t)i * V, V * sizeof *la) == 0,
                      "%s n=%d step %d: logits of sequence %d differ (%.9g vs %.9g)", what, n,
                      step, i, la[0], lb[(size_t)i * V]);
            assert_same_state(m, alone[i], batch[i], what, i);
        }
    }
    /* logits NULL advances the states all the same */
    tp_model_step_batch(m, batch, tokens, n, NULL);
    for (int i = 0; i < n; i++) {
        tp_model_step(m, alone[i], tokens[i], NULL);
        assert_same_state(m, alone[i], batch[i], what, i);
    }
    free(tokens);
    free(lb);
    free(la);
    free_states(batch, n);
    free_states(alone, n);
}

static const int SIZES[] = {1, 2, 3, 4, 5, 7, 64, 65, 130};

/* Every cell kind in the first two shapes; the LSTM in the third too. */
static void check_all_sizes(const char *kernel, tp_weight_type w)
{
    for (int cell = 0; cell < TP_CELL_N; cell++) {
        th_lstm shapes[3];
        th_cell_init(&shapes[0], (tp_cell)cell, 11, 7, 13, 2, 1, 0.5f); /* odd: H 13, E 7 */
        th_cell_init(&shapes[1], (tp_cell)cell, 9, 0, 6, 1, 2, 0.5f);   /* one-hot input */
        th_cell_init(&shapes[2], (tp_cell)cell, 30, 16, 24, 3, 3, 0.4f);
        int n_shapes = cell == TP_CELL_LSTM ? 3 : 2;
        for (int k = 0; k < 3; k++) {
            if (k < n_shapes) {
                tp_model *m = load_with(&shapes[k], w, kernel);
                char what[96];
                snprintf(what, sizeof what, "%s %s %s model %d", kernel,
                         tp_weight_type_name(w), tp_cell_name((tp_cell)cell), k);
                for (size_t i = 0; i < sizeof SIZES / sizeof SIZES[0]; i++)
                    check_identical(m, SIZES[i], what);
                tp_model_free(m);
            }
            th_lstm_free(&shapes[k]);
        }
    }
}

Test(batch, bit_identical_portable_every_type)
{
    for (int w = 0; w < TP_W_N; w++)
        check_all_sizes("portable", (tp_weight_type)w);
}

Test(batch, bit_identical_avx2_every_type)
{
    for (int w = 0; w < TP_W_N; w++)
        check_all_sizes("avx2", (tp_weight_type)w);
}

/* Large enough that the rows are split over two threads. */
Test(batch, bit_identical_with_two_threads)
{
    for (int cell = 0; cell < TP_CELL_N; cell += 1 + (cell == TP_CELL_GRU)) {
        th_lstm big;
        th_cell_init(&big, (tp_cell)cell, 30, 64, 128, 2, 4, 0.2f);
        tp_model *m = load_with(&big, TP_W_F32, NULL);
        m->threads = 2;
        check_identical(m, 64, tp_cell_name((tp_cell)cell));
        check_identical(m, 100, tp_cell_name((tp_cell)cell));
        tp_model_free(m);
        th_lstm_free(&big);
    }
}

/* Reduced precision moves the logits, but only a little: at most these
 * fractions of the largest |logit| over a 30-step run of a model whose
 * weights are uniform in [-0.5, 0.5]. */
static double max_logit_gap(tp_cell cell, tp_weight_type w, double *scale)
{
    th_lstm t;
    /* Smaller weights for the ungated cells: a relu RNN's sums grow fast. */
    const float weight_scale[TP_CELL_N] = {0.5f, 0.3f, 0.3f, 0.2f};
    th_cell_init(&t, cell, 30, 16, 40, 2, 9, weight_scale[cell]);
    tp_model *full = load_with(&t, TP_W_F32, NULL), *low = load_with(&t, w, NULL);
    tp_state *a = tp_state_new(full), *b = tp_state_new(low);
    float la[30], lb[30];
    double gap = 0.0;
    *scale = 0.0;
    for (int step = 0; step < 30; step++) {
        int tok = (step * 11 + 2) % 30;
        tp_model_step(full, a, tok, la);
        tp_model_step(low, b, tok, lb);
        for (int v = 0; v < 30; v++) {
            gap = fmax(gap, fabs(la[v] - lb[v]));
            *scale = fmax(*scale, fabs(la[v]));
        }
    }
    tp_state_free(a);
    tp_state_free(b);
    tp_model_free(full);
    tp_model_free(low);
    th_lstm_free(&t);
    return gap;
}

Test(batch, reduced_precision_near_f32)
{
    const double tolerance[TP_W_N] = {0.0, 2e-3, 1.5e-2, 2e-2};
    for (int cell = 0; cell < TP_CELL_N; cell++)
        for (int w = 1; w < TP_W_N; w++) {
            double scale, gap = max_logit_gap((tp_cell)cell, (tp_weight_type)w, &scale);
            const char *c = tp_cell_name((tp_cell)cell);
            cr_assert(scale > 0.5, "%s: degenerate logits", c);
            cr_assert(gap <= tolerance[w] * scale, "%s %s: logits %.3g off f32 (max |logit| "
                      "%.3g)", c, tp_weight_type_name((tp_weight_type)w), gap, scale);
            cr_assert(gap > 0.0, "%s %s: no difference at all: are the weights really "
                      "converted?", c, tp_weight_type_name((tp_weight_type)w));
        }
}

/* A GRU's w_ih and w_hh are stored apart, in the chosen type. */
Test(batch, gru_stores_two_matrices_per_layer)
{
    th_lstm t;
    th_cell_init(&t, TP_CELL_GRU, 9, 7, 13, 1, 1, 0.5f);
    tp_model *m = load_with(&t, TP_W_BF16, NULL);
    cr_assert_eq(m->layers[0].w.rows, 39);
    cr_assert_eq(m->layers[0].w.cols, 7);
    cr_assert_eq(m->layers[0].w_hh.cols, 13);
    cr_assert_eq(m->layers[0].w_hh.type, TP_W_BF16);
    cr_assert_not_null(m->layers[0].bias_hh);
    tp_model_free(m);
    th_lstm_free(&t);
}

/* Storage really shrinks: the fused matrix of a layer in each type. */
Test(batch, reduced_precision_stores_smaller_rows)
{
    th_lstm t;
    th_lstm_init(&t, 9, 7, 13, 1, 1, 0.5f);
    const int bytes[TP_W_N] = {4, 2, 2, 1};
    for (int w = 0; w < TP_W_N; w++) {
        tp_model *m = load_with(&t, (tp_weight_type)w, NULL);
        cr_assert_eq(m->layers[0].w.type, (tp_weight_type)w);
        cr_assert_eq(tp_weight_type_size(m->layers[0].w.type), (size_t)bytes[w]);
        cr_assert_eq(m->layers[0].w.ld % TP_PAD, 0);
        cr_assert_eq(m->layers[0].w.cols, 7 + 13);
        tp_model_free(m);
    }
    th_lstm_free(&t);
}

/* tp_model_step_batch_then: `after` sees each sequence's own logits once per
 * step, and the token it writes for its sequence is what the next step
 * feeds, as when the sequences are stepped alone (greedy chains). */
struct chain {
    size_t V;
    int *tokens;
    int *calls;
};

static int argmax(const float *x, size_t n)
{
    size_t best = 0;
    for (size_t v = 1; v < n; v++)
        if (x[v] > x[best])
            best = v;
    return (int)best;
}

static void pick_greedy(void *ctx, int i, float *logits)
{
    struct chain *c = ctx;
    c->calls[i]++;
    c->tokens[i] = argmax(logits, c->V);
}

static void check_chains(const tp_model *m, int n, const char *what)
{
    size_t V = (size_t)m->n_vocab;
    tp_state **batch = new_states(m, n), **alone = new_states(m, n);
    spread_states(m, batch, n);
    spread_states(m, alone, n);
    int *tokens = malloc((size_t)n * sizeof *tokens), *calls = calloc((size_t)n, sizeof *calls);
    float *lb = malloc((size_t)n * V * sizeof *lb), *la = malloc(V * sizeof *la);
    cr_assert(tokens && calls && lb && la);
    for (int i = 0; i < n; i++)
        tokens[i] = (i * 7 + 1) % m->n_vocab;
    struct chain c = {V, tokens, calls};
    int fed[130];
    cr_assert(n <= (int)(sizeof fed / sizeof fed[0]), "n=%d: fed[] too small", n);
    for (int step = 0; step < 6; step++) {
        memcpy(fed, tokens, (size_t)n * sizeof *tokens);
        tp_model_step_batch_then(m, batch, tokens, n, lb, pick_greedy, &c);
        for (int i = 0; i < n; i++) {
            tp_model_step(m, alone[i], fed[i], la);
            cr_assert_eq(calls[i], step + 1, "%s n=%d: after ran %d times for %d", what, n,
                         calls[i], i);
            cr_assert_eq(tokens[i], argmax(la, V), "%s n=%d step %d: sequence %d picked %d",
                         what, n, step, i, tokens[i]);
            assert_same_state(m, alone[i], batch[i], what, i);
        }
    }
    free(tokens);
    free(calls);
    free(lb);
    free(la);
    free_states(batch, n);
    free_states(alone, n);
}

Test(batch, then_feeds_each_sequence_its_own_pick)
{
    th_lstm big;
    th_cell_init(&big, TP_CELL_LSTM, 30, 64, 128, 2, 4, 0.6f);
    tp_model *m = load_with(&big, TP_W_F32, NULL);
    const int sizes[] = {1, 5, 11, 12, 13, 64, 130}; /* both sides of the split */
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
        check_chains(m, sizes[k], "lstm");
    tp_model_free(m);
    th_lstm_free(&big);
}

/* Layer 0 started from the per-token input sums gives the bits of the
 * whole product: the same logits and states as a model that multiplies the
 * embedding every step, for every cell kind, kernel and weight type, alone
 * and in a batch. A one-hot model has no such table. */
static void check_input_sums(const char *kernel, tp_weight_type w, tp_cell cell)
{
    th_lstm t;
    th_cell_init(&t, cell, 30, 11, 21, 2, 5, 0.5f); /* odd E and H: padded tails */
    tp_model *with = load_opts(&t, w, kernel, 0), *without = load_opts(&t, w, kernel, 1);
    cr_assert_not_null(with->layers[0].input_sums, "%s: no input sums", kernel);
    cr_assert_null(without->layers[0].input_sums);
    enum { N = 7 };
    tp_state **a = new_states(with, N), **b = new_states(without, N);
    float la[N * 30], lb[N * 30];
    int tokens[N];
    for (int step = 0; step < 12; step++) {
        for (int i = 0; i < N; i++)
            tokens[i] = (i * 13 + step * 7 + 3) % 30;
        int n = step % 2 ? N : 1; /* one sequence, then a batch of seven */
        tp_model_step_batch(with, a, tokens, n, la);
        tp_model_step_batch(without, b, tokens, n, lb);
        cr_assert(memcmp(la, lb, (size_t)n * 30 * sizeof *la) == 0,
                  "%s %s %s step %d: logits differ", kernel, tp_weight_type_name(w),
                  tp_cell_name(cell), step);
        for (int i = 0; i < n; i++)
            assert_same_state(with, a[i], b[i], tp_cell_name(cell), i);
    }
    free_states(a, N);
    free_states(b, N);
    tp_model_free(with);
    tp_model_free(without);
    th_lstm_free(&t);
}

Test(batch, input_sums_give_the_same_bits)
{
    const char *kernels[] = {"portable", "avx2"};
    for (int k = 0; k < 2; k++)
        for (int w = 0; w < TP_W_N; w++)
            for (int cell = 0; cell < TP_CELL_N; cell++)
                check_input_sums(kernels[k], (tp_weight_type)w, (tp_cell)cell);
}

Test(batch, one_hot_model_has_no_input_sums)
{
    th_lstm t;
    th_cell_init(&t, TP_CELL_LSTM, 9, 0, 6, 1, 2, 0.5f);
    tp_model *m = load_with(&t, TP_W_F32, NULL);
    cr_assert_null(m->layers[0].input_sums);
    tp_model_free(m);
    th_lstm_free(&t);
}

/* A run's `after`: sequence i's next token from its logits (the largest,
 * shifted by i), logged so that two runs can be compared token by token. */
struct run_log {
    int V, *tokens, *log, n_steps, step_of[130];
};

static int next_token(const float *logits, int V, int i)
{
    int best = 0;
    for (int v = 1; v < V; v++)
        if (logits[v] > logits[best])
            best = v;
    return (best + i) % V;
}

static void log_next(void *ctx, int i, float *logits)
{
    struct run_log *r = ctx;
    int tok = next_token(logits, r->V, i);
    r->tokens[i] = tok;
    r->log[i * r->n_steps + r->step_of[i]++] = tok;
}

/* tp_model_run_batch, split between two threads for the whole run (and in
 * chunks past 64 sequences), gives every sequence the tokens and state of
 * stepping it alone with the same rule. */
Test(batch, run_batch_matches_single_steps)
{
    th_lstm t;
    th_cell_init(&t, TP_CELL_LSTM, 30, 16, 40, 2, 8, 0.5f);
    tp_model *m = load_with(&t, TP_W_F32, NULL);
    m->threads = 2;
    const int sizes[] = {1, 5, 40, 130};
    enum { STEPS = 6 };
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        int n = sizes[k];
        tp_state **batch = new_states(m, n), **alone = new_states(m, n);
        int *tokens = calloc((size_t)n, sizeof *tokens);
        int *log = calloc((size_t)n * STEPS, sizeof *log);
        float *logits = calloc((size_t)n * 30, sizeof *logits), la[30];
        cr_assert(tokens && log && logits);
        for (int i = 0; i < n; i++)
            tokens[i] = i % 30;
        struct run_log r = {30, tokens, log, STEPS, {0}};
        tp_model_run_batch(m, batch, tokens, n, logits, STEPS, log_next, &r);
        for (int i = 0; i < n; i++) {
            int tok = i % 30;
            for (int step = 0; step < STEPS; step++) {
                tp_model_step(m, alone[i], tok, la);
                tok = next_token(la, 30, i);
                cr_assert_eq(log[i * STEPS + step], tok, "n=%d sequence %d step %d", n, i,
                             step);
            }
            cr_assert_eq(r.step_of[i], STEPS);
            assert_same_state(m, alone[i], batch[i], "run_batch", i);
        }
        free(tokens);
        free(log);
        free(logits);
        free_states(batch, n);
        free_states(alone, n);
    }
    tp_model_free(m);
    th_lstm_free(&t);
}
