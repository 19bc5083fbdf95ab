/* test_kernels.c - the matrix kernels and the cells: portable against a
 * double-precision reference, AVX2 against portable, the stored weight
 * types, the number conversions and TEMPEST_KERNEL. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "tempest/kernels.h"
#include "tempest/safetensors.h"

static const tp_kernels *kernels_or_skip(const char *name)
{
    const tp_kernels *k = NULL;
    tp_error err = {0};
    if (tp_kernels_find(name, &k, &err) != TP_OK)
        cr_skip_test("kernel set %s not available: %s", name, err.msg);
    cr_assert_str_eq(k->name, name);
    return k;
}

/* x[n][ld] with zeros past cols, and the pointer table kernels take. */
typedef struct inputs {
    float *buf;
    const float *x[80];
    float *ybuf;
    float *y[80];
} inputs;

static void inputs_init(inputs *in, const tp_matrix *W, int n, uint64_t seed)
{
    in->buf = calloc((size_t)n * (size_t)W->ld, sizeof(float));
    in->ybuf = calloc((size_t)n * (size_t)W->rows, sizeof(float));
    cr_assert(in->buf && in->ybuf);
    uint64_t s = seed;
    for (int i = 0; i < n; i++) {
        for (int c = 0; c < W->cols; c++)
            in->buf[(size_t)i * W->ld + c] = th_rand(&s, 1.0f);
        in->x[i] = in->buf + (size_t)i * W->ld;
        in->y[i] = in->ybuf + (size_t)i * W->rows;
    }
}

static void inputs_free(inputs *in)
{
    free(in->buf);
    free(in->ybuf);
}

/* b[r] + sum_c W(r, c) x[c] in double, and sum |terms| for a relative scale. */
static double reference(const tp_matrix *W, const float *b, const float *x, int r, double *mag)
{
    double s = b ? b[r] : 0.0, m = b ? fabs(b[r]) : 0.0;
    for (int c = 0; c < W->cols; c++) {
        double t = (double)tp_matrix_get(W, r, c) * x[c];
        s += t;
        m += fabs(t);
    }
    *mag = m;
    return s;
}

static const int SHAPES[][2] = {{13, 7}, {1, 1}, {8, 8}, {13, 37}, {33, 64}, {65, 100}, {20, 513}};

static void check_against_reference(const char *name, tp_weight_type t)
{
    const tp_kernels *k = kernels_or_skip(name);
    for (size_t sh = 0; sh < sizeof SHAPES / sizeof SHAPES[0]; sh++) {
        int rows = SHAPES[sh][0], cols = SHAPES[sh][1];
        uint64_t seed = 7 + sh;
        float *w = th_rand_vec((size_t)rows * cols, &seed, 0.5f);
        float *b = th_rand_vec((size_t)rows, &seed, 0.5f);
        tp_matrix W;
        cr_assert_eq(tp_matrix_init(&W, w, rows, cols, t, NULL), TP_OK);
        for (int n = 1; n <= 7; n++) {
            inputs in;
            inputs_init(&in, &W, n, 100 + n);
            k->matmul[t](&W, b, in.x, NULL, in.y, n, 0, rows);
            for (int i = 0; i < n; i++)
                for (int r = 0; r < rows; r++) {
                    double mag, want = reference(&W, b, in.x[i], r, &mag);
                    cr_assert(fabs(in.y[i][r] - want) <= 1e-5 * (mag + 1e-30),
                              "%s %s %dx%d n=%d seq %d row %d: %.9g vs %.9g", name,
                              tp_weight_type_name(t), rows, cols, n, i, r, in.y[i][r], want);
                }
            inputs_free(&in);
        }
        tp_matrix_free(&W);
        free(w);
        free(b);
    }
}

Test(kernels, portable_matches_double_reference_every_type)
{
    for (int t = 0; t < TP_W_N; t++)
        check_against_reference("portable", (tp_weight_type)t);
}

Test(kernels, avx2_matches_double_reference_every_type)
{
    for (int t = 0; t < TP_W_N; t++)
        check_against_reference("avx2", (tp_weight_type)t);
}

/* The two kernel sets agree to 1e-5 relative (to the sum of |terms|), for
 * every type, odd sizes and row ranges that start and end mid-block. */
Test(kernels, avx2_agrees_with_portable)
{
    const tp_kernels *a = kernels_or_skip("avx2"), *p = kernels_or_skip("portable");
    for (int t = 0; t < TP_W_N; t++)
        for (size_t sh = 0; sh < sizeof SHAPES / sizeof SHAPES[0]; sh++) {
            int rows = SHAPES[sh][0], cols = SHAPES[sh][1];
            uint64_t seed = 99 + sh;
            float *w = th_rand_vec((size_t)rows * cols, &seed, 1.0f);
            tp_matrix W;
            cr_assert_eq(tp_matrix_init(&W, w, rows, cols, (tp_weight_type)t, NULL), TP_OK);
            inputs ia, ip;
            inputs_init(&ia, &W, 5, 3);
            inputs_init(&ip, &W, 5, 3);
            int r0 = rows > 3 ? 1 : 0, r1 = rows > 3 ? rows - 1 : rows;
            a->matmul[t](&W, NULL, ia.x, NULL, ia.y, 5, r0, r1);
            p->matmul[t](&W, NULL, ip.x, NULL, ip.y, 5, r0, r1);
            for (int i = 0; i < 5; i++)
                for (int r = r0; r < r1; r++) {
                    double mag;
                    reference(&W, NULL, ia.x[i], r, &mag);
                    cr_assert(fabs(ia.y[i][r] - ip.y[i][r]) <= 1e-5 * mag,
                              "%s %dx%d: avx2 %.9g portable %.9g", tp_weight_type_name(t),
                              rows, cols, ia.y[i][r], ip.y[i][r]);
                }
            /* Rows outside [r0, r1) are not touched. */
            if (r0 > 0)
                cr_assert_eq(ia.y[0][0], 0.0f);
            inputs_free(&ia);
            inputs_free(&ip);
            tp_matrix_free(&W);
            free(w);
        }
}

/* A product over columns [0, c) (no bias, no scale) continued over
 * [c, cols) from its sums gives the bits of the whole product, for every
 * kernel set, type and split, row ranges included. */
static void check_continued(const char *name, tp_weight_type t)
{
    const tp_kernels *k = kernels_or_skip(name);
    for (size_t sh = 0; sh < sizeof SHAPES / sizeof SHAPES[0]; sh++) {
        int rows = SHAPES[sh][0], cols = SHAPES[sh][1];
        uint64_t seed = 31 + sh;
        float *w = th_rand_vec((size_t)rows * cols, &seed, 0.5f);
        float *b = th_rand_vec((size_t)rows, &seed, 0.5f);
        tp_matrix W;
        cr_assert_eq(tp_matrix_init(&W, w, rows, cols, t, NULL), TP_OK);
        const int splits[] = {0, 1, cols / 2, cols - 1, cols};
        for (size_t c = 0; c < sizeof splits / sizeof splits[0]; c++) {
            int c0 = splits[c] < 0 ? 0 : splits[c];
            int r0 = rows > 3 ? 2 : 0, r1 = rows > 3 ? rows - 1 : rows;
            inputs whole, part, rest;
            inputs_init(&whole, &W, 6, 9);
            inputs_init(&part, &W, 6, 9);
            inputs_init(&rest, &W, 6, 9);
            k->matmul[t](&W, b, whole.x, NULL, whole.y, 6, r0, r1);
            tp_matrix first = tp_matrix_columns(&W, 0, c0);
            tp_matrix second = tp_matrix_columns(&W, c0, cols);
            first.scale = NULL;
            k->matmul[t](&first, NULL, part.x, NULL, part.y, 6, r0, r1);
            const float *x2[6], *from[6];
            for (int i = 0; i < 6; i++) {
                x2[i] = rest.x[i] + c0;
                from[i] = part.y[i];
            }
            k->matmul[t](&second, b, x2, from, rest.y, 6, r0, r1);
            for (int i = 0; i < 6; i++)
                cr_assert(memcmp(whole.y[i] + r0, rest.y[i] + r0,
                                 (size_t)(r1 - r0) * sizeof(float)) == 0,
                          "%s %s %dx%d split at %d: seq %d differs", name,
                          tp_weight_type_name(t), rows, cols, c0, i);
            inputs_free(&whole);
            inputs_free(&part);
            inputs_free(&rest);
        }
        tp_matrix_free(&W);
        free(w);
        free(b);
    }
}

Test(kernels, continued_sums_give_the_bits_of_the_whole)
{
    for (int t = 0; t < TP_W_N; t++) {
        check_continued("portable", (tp_weight_type)t);
        check_continued("avx2", (tp_weight_type)t);
    }
}

Test(kernels, avx2_cell_matches_libm_cell)
{
    const tp_kernels *a = kernels_or_skip("avx2");
    enum { H = 13 };
    float gates[4 * H], h1[H], c1[H], h2[H], c2[H];
    uint64_t s = 5;
    for (int trial = 0; trial < 50; trial++) {
        float scale = trial < 40 ? 4.0f : 120.0f; /* large values hit the clamps */
        for (int j = 0; j < 4 * H; j++)
            gates[j] = th_rand(&s, scale);
        for (int j = 0; j < H; j++)
            c1[j] = c2[j] = th_rand(&s, 3.0f);
        gates[0] = 0.0f, gates[H + 1] = -1e-4f, gates[2 * H + 2] = 1e-6f; /* near zero */
        tp_lstm_cell(gates, h1, c1, H);
        a->lstm_cell(gates, h2, c2, H);
        for (int j = 0; j < H; j++) {
            cr_assert(fabsf(h1[j] - h2[j]) < 1e-6f, "h[%d]: %.9g vs %.9g", j, h1[j], h2[j]);
            cr_assert(fabsf(c1[j] - c2[j]) < 1e-6f * (1 + fabsf(c1[j])), "c[%d]: %.9g vs %.9g",
                      j, c1[j], c2[j]);
            cr_assert(isfinite(h2[j]) && isfinite(c2[j]));
        }
    }
}

/* The AVX2 GRU and RNN cells against the libm ones, at odd widths (the
 * padded tail) and with values large enough to reach the clamps. */
Test(kernels, avx2_gru_and_rnn_cells_match_libm_cells)
{
    const tp_kernels *a = kernels_or_skip("avx2");
    const tp_cell_fn ref[3] = {tp_gru_cell, tp_rnn_tanh_cell, tp_rnn_relu_cell};
    const tp_cell_fn fast[3] = {a->gru_cell, a->rnn_tanh_cell, a->rnn_relu_cell};
    uint64_t s = 17;
    for (int H = 1; H <= 21; H += 4)
        for (int trial = 0; trial < 20; trial++) {
            float gates[6 * 21], h1[21], h2[21], c[21] = {0};
            float scale = trial < 15 ? 4.0f : 100.0f;
            for (int j = 0; j < 6 * H; j++)
                gates[j] = th_rand(&s, scale);
            for (int k = 0; k < 3; k++) {
                for (int j = 0; j < H; j++)
                    h1[j] = h2[j] = th_rand(&s, 1.0f);
                ref[k](gates, h1, c, H);
                fast[k](gates, h2, c, H);
                for (int j = 0; j < H; j++)
                    cr_assert(fabsf(h1[j] - h2[j]) < 1e-6f * (1 + fabsf(h1[j])),
                              "cell %d H %d h[%d]: %.9g vs %.9g", k, H, j, h1[j], h2[j]);
            }
            for (int j = 0; j < H; j++)
                cr_assert_eq(c[j], 0.0f, "a GRU or RNN cell wrote c");
        }
}

/* The libm cells compute PyTorch's equations (kernels.h). */
Test(kernels, gru_and_rnn_cells_follow_the_equations)
{
    /* One unit: x-part r z n, h-part r z n. */
    const float g[6] = {0.5f, -1.0f, 0.25f, 0.1f, 0.3f, -2.0f};
    float h = 0.6f, c = 0.0f;
    tp_gru_cell(g, &h, &c, 1);
    double r = 1 / (1 + exp(-0.6)), z = 1 / (1 + exp(0.7));
    double n = tanh(0.25 + r * -2.0);
    cr_assert(fabs(h - ((1 - z) * n + z * 0.6)) < 1e-6, "gru h %.9g", h);
    float x[2] = {-0.7f, 1.5f}, y[2];
    tp_rnn_tanh_cell(x, y, &c, 2);
    cr_assert(fabs(y[0] - tanh(-0.7)) < 1e-7 && fabs(y[1] - tanh(1.5)) < 1e-7);
    tp_rnn_relu_cell(x, y, &c, 2);
    cr_assert(y[0] == 0.0f && y[1] == 1.5f);
}

Test(kernels, matrix_rows_padded_aligned_and_zero_filled)
{
    float w[13 * 7];
    for (int i = 0; i < 13 * 7; i++)
        w[i] = (float)(i + 1);
    for (int t = 0; t < TP_W_N; t++) {
        tp_matrix W;
        cr_assert_eq(tp_matrix_init(&W, w, 13, 7, (tp_weight_type)t, NULL), TP_OK);
        cr_assert_eq(W.ld, 8);
        cr_assert_eq((uintptr_t)W.data % 64, 0, "%s not 64-byte aligned",
                     tp_weight_type_name(t));
        for (int r = 0; r < 13; r++)
            cr_assert_eq(tp_matrix_get(&W, r, 7), 0.0f, "padding of row %d", r);
        tp_matrix_free(&W);
    }
}

/* How far each stored type may move a weight: half an ulp of its mantissa,
 * or half a step of 127 per row for int8. */
Test(kernels, stored_weights_within_their_precision)
{
    enum { R = 9, C = 50 };
    uint64_t s = 11;
    float *w = th_rand_vec(R * C, &s, 3.0f);
    const double rel[TP_W_N] = {0, 0x1p-11, 0x1p-8, 0};
    for (int t = 0; t < TP_W_N; t++) {
        tp_matrix W;
        cr_assert_eq(tp_matrix_init(&W, w, R, C, (tp_weight_type)t, NULL), TP_OK);
        for (int r = 0; r < R; r++) {
            double amax = 0;
            for (int c = 0; c < C; c++)
                amax = fmax(amax, fabs(w[r * C + c]));
            for (int c = 0; c < C; c++) {
                double got = tp_matrix_get(&W, r, c), want = w[r * C + c];
                double tol = t == TP_W_INT8 ? amax / 254 * 1.0001 : rel[t] * fabs(want);
                cr_assert(fabs(got - want) <= tol, "%s (%d,%d): %.9g vs %.9g",
                          tp_weight_type_name(t), r, c, got, want);
            }
        }
        tp_matrix_free(&W);
    }
    free(w);
}

Test(kernels, half_and_bfloat16_conversions_round_to_nearest_even)
{
    cr_assert_eq(tp_f32_to_f16(1.0f), 0x3c00);
    cr_assert_eq(tp_f32_to_f16(-2.0f), 0xc000);
    cr_assert_eq(tp_f32_to_f16(65504.0f), 0x7bff);
    cr_assert_eq(tp_f32_to_f16(65520.0f), 0x7c00);      /* rounds up to infinity */
    cr_assert_eq(tp_f32_to_f16(1.0f + 0x1p-11f), 0x3c00); /* tie: to even */
    cr_assert_eq(tp_f32_to_f16(1.0f + 0x3p-11f), 0x3c02); /* tie: to even, upward */
    cr_assert_eq(tp_f32_to_f16(0x1p-24f), 0x0001);      /* smallest subnormal */
    cr_assert_eq(tp_f32_to_f16(0x1p-26f), 0x0000);
    cr_assert_eq(tp_f32_to_f16(0x1p-14f), 0x0400);      /* smallest normal */
    cr_assert_eq(tp_f32_to_bf16(1.0f), 0x3f80);
    cr_assert_eq(tp_f32_to_bf16(1.0f + 0x1p-8f), 0x3f80);  /* tie: to even */
    cr_assert_eq(tp_f32_to_bf16(1.0f + 0x3p-8f), 0x3f82);  /* tie: to even, upward */
    cr_assert(isnan(tp_bf16_to_f32(tp_f32_to_bf16(NAN))));
    for (float f = -70000.0f; f < 70000.0f; f += 77.7f) {
        float back = tp_f16_to_f32(tp_f32_to_f16(f));
        if (fabsf(f) < 65504.0f)
            cr_assert(fabsf(back - f) <= fabsf(f) * 0x1p-11f, "%g -> %g", f, back);
    }
}

Test(kernels, weight_type_names)
{
    tp_weight_type t;
    const char *names[] = {"f32", "f16", "bf16", "int8"};
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(tp_weight_type_parse(names[i], &t, NULL), TP_OK);
        cr_assert_eq((int)t, i);
        cr_assert_str_eq(tp_weight_type_name(t), names[i]);
    }
    tp_error err = {0};
    cr_assert_eq(tp_weight_type_parse("f8", &t, &err), TP_ERR_USAGE);
    cr_assert(strstr(err.msg, "'f8'"), "%s", err.msg);
}

/* Criterion runs each test in its own process, so setenv stays here. */
Test(kernels, tempest_kernel_forces_a_set)
{
    const tp_kernels *k = NULL;
    tp_error err = {0};
    setenv("TEMPEST_KERNEL", "portable", 1);
    cr_assert_eq(tp_kernels_from_env(&k, &err), TP_OK);
    cr_assert_str_eq(k->name, "portable");
    th_lstm m;
    th_lstm_init(&m, 8, 5, 6, 1, 1, 0.5f);
    tp_model *model = th_lstm_model(&m, (th_names){0}, &err);
    cr_assert_not_null(model, "%s", err.msg);
    cr_assert_str_eq(model->kernels->name, "portable");
    tp_model_free(model);

    setenv("TEMPEST_KERNEL", "sse9", 1);
    cr_assert_eq(tp_kernels_from_env(&k, &err), TP_ERR_USAGE);
    cr_assert(strstr(err.msg, "'sse9'") && strstr(err.msg, "TEMPEST_KERNEL"), "%s", err.msg);
    model = th_lstm_model(&m, (th_names){0}, &err);
    cr_assert_null(model);
    cr_assert(strstr(err.msg, "'sse9'"), "%s", err.msg);

    unsetenv("TEMPEST_KERNEL");
    cr_assert_eq(tp_kernels_from_env(&k, &err), TP_OK);
    if (tp_kernels_find("avx2", &k, NULL) == TP_OK) {
        cr_assert_eq(tp_kernels_from_env(&k, &err), TP_OK);
        cr_assert_str_eq(k->name, "avx2", "the best set is the default");
        setenv("TEMPEST_KERNEL", "avx2", 1);
        cr_assert_eq(tp_kernels_from_env(&k, &err), TP_OK);
        cr_assert_str_eq(k->name, "avx2");
    }
    th_lstm_free(&m);
}

Test(kernels, tempest_weights_environment)
{
    th_lstm m;
    th_lstm_init(&m, 8, 5, 6, 1, 1, 0.5f);
    tp_error err = {0};
    setenv("TEMPEST_WEIGHTS", "bf16", 1);
    tp_model *model = th_lstm_model(&m, (th_names){0}, &err);
    cr_assert_not_null(model, "%s", err.msg);
    cr_assert_eq(model->weights, TP_W_BF16);
    cr_assert_eq(model->head_w.type, TP_W_BF16);
    tp_model_free(model);
    setenv("TEMPEST_WEIGHTS", "f12", 1);
    cr_assert_null(th_lstm_model(&m, (th_names){0}, &err));
    cr_assert(strstr(err.msg, "'f12'"), "%s", err.msg);
    th_lstm_free(&m);
}
