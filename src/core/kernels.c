/* kernels.c - the matrix products and the recurrent cells (LSTM, GRU, RNN),
 * portable and AVX2+FMA,
 * and the table that picks between them at run time.
 *
 * Bit-identical batching rests on one rule, kept by every kernel here: the
 * dot product of a row and a sequence is one running sum taken in k order,
 * then scaled and biased. Weights are stored in panels of eight rows
 * interleaved by column (see kernels.h), so one vector holds column k of
 * eight rows: a vector lane is a row, never a part of a sum. Register
 * blocking only changes how many panels and sequences run side by side,
 * never the order inside one sum, and there is no horizontal reduction.
 */
#include "tempest/kernels.h"
#include "tempest/safetensors.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define TP_HAVE_AVX2 1
#include <immintrin.h>
#else
#define TP_HAVE_AVX2 0
#endif

/* ---- portable ----------------------------------------------------------- */

/* Element (r, k) of W widened to f32 (without the int8 row scale, which
 * finish applies once to the whole sum). */
static float weight_at(const tp_matrix *W, const void *panel, int lane, int k)
{
    size_t i = (size_t)k * TP_PANEL + (size_t)lane;
    switch (W->type) {
    case TP_W_F16: return tp_f16_to_f32(((const uint16_t *)panel)[i]);
    case TP_W_BF16: return tp_bf16_to_f32(((const uint16_t *)panel)[i]);
    case TP_W_INT8: return (float)((const int8_t *)panel)[i];
    default: return ((const float *)panel)[i];
    }
}

static float finish(const tp_matrix *W, const float *b, int r, float sum)
{
    if (W->scale)
        sum = W->scale[r] * sum;
    return b ? b[r] + sum : sum;
}

static void portable_matmul(const tp_matrix *W, const float *b, const float *const *x,
                            const float *const *from, float *const *y, int n, int r0, int r1)
{
    for (int r = r0; r < r1; r++) {
        const void *panel = tp_matrix_panel(W, r / TP_PANEL);
        for (int s = 0; s < n; s++) {
            float acc = from ? from[s][r] : 0.0f;
            for (int k = 0; k < W->cols; k++)
                acc += weight_at(W, panel, r % TP_PANEL, k) * x[s][k];
            y[s][r] = finish(W, b, r, acc);
        }
    }
}

void tp_vec_add(float *y, const float *x, int n)
{
    for (int i = 0; i < n; i++)
        y[i] += x[i];
}

static float sigmoid(float x)
{
    return 1.0f / (1.0f + expf(-x));
}

void tp_lstm_cell(const float *gates, float *h, float *c, int n)
{
    const float *gi = gates, *gf = gates + n, *gg = gates + 2 * n, *go = gates + 3 * n;
    for (int j = 0; j < n; j++) {
        float cj = sigmoid(gf[j]) * c[j] + sigmoid(gi[j]) * tanhf(gg[j]);
        c[j] = cj;
        h[j] = sigmoid(go[j]) * tanhf(cj);
    }
}

void tp_gru_cell(const float *gates, float *h, float *c, int n)
{
    (void)c;
    const float *xr = gates, *xz = gates + n, *xn = gates + 2 * n;
    const float *hr = gates + 3 * n, *hz = gates + 4 * n, *hn = gates + 5 * n;
    for (int j = 0; j < n; j++) {
        float r = sigmoid(xr[j] + hr[j]), z = sigmoid(xz[j] + hz[j]);
        float nj = tanhf(xn[j] + r * hn[j]);
        h[j] = nj + z * (h[j] - nj);
    }
}

void tp_rnn_tanh_cell(const float *gates, float *h, float *c, int n)
{
    (void)c;
    for (int j = 0; j < n; j++)
        h[j] = tanhf(gates[j]);
}

void tp_rnn_relu_cell(const float *gates, float *h, float *c, int n)
{
    (void)c;
    for (int j = 0; j < n; j++)
        h[j] = gates[j] > 0.0f ? gates[j] : 0.0f;
}

static const tp_kernels PORTABLE = {
    "portable",
    {portable_matmul, portable_matmul, portable_matmul, portable_matmul},
    tp_lstm_cell,
    tp_gru_cell,
    tp_rnn_tanh_cell,
    tp_rnn_relu_cell,
};

/* ---- AVX2 + FMA (+ F16C, which every AVX2 CPU has) ---------------------- */

#if TP_HAVE_AVX2
#define AVX2 __attribute__((target("avx2,fma,f16c")))
#define INLINE_AVX2 static inline __attribute__((always_inline, target("avx2,fma,f16c")))

/* Column k of a panel (eight rows), widened to f32 in registers. */
INLINE_AVX2 __m256 load_col(const void *panel, int k, tp_weight_type t)
{
    size_t i = (size_t)k * TP_PANEL;
    switch (t) {
    case TP_W_F16:
        return _mm256_cvtph_ps(_mm_load_si128((const __m128i *)((const uint16_t *)panel + i)));
    case TP_W_BF16: {
        __m128i v = _mm_load_si128((const __m128i *)((const uint16_t *)panel + i));
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(v), 16));
    }
    case TP_W_INT8: {
        __m128i v = _mm_loadl_epi64((const __m128i *)((const int8_t *)panel + i));
        return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(v));
    }
    default: return _mm256_load_ps((const float *)panel + i);
    }
}

/* Lane l of acc is the sum for row 8p + l: store the rows in [r0, r1).
 * A whole panel is finished as one vector: the same two operations as
 * finish (scale * sum, then b + sum), lane by lane, so the same bits. */
INLINE_AVX2 void store_rows(const tp_matrix *W, const float *b, float *y, int p, int r0,
                            int r1, __m256 acc)
{
    int first = p * TP_PANEL;
    if (first >= r0 && first + TP_PANEL <= r1) {
        if (W->scale)
            acc = _mm256_mul_ps(_mm256_loadu_ps(W->scale + first), acc);
        if (b)
            acc = _mm256_add_ps(_mm256_loadu_ps(b + first), acc);
        _mm256_storeu_ps(y + first, acc);
        return;
    }
    float v[TP_PANEL];
    _mm256_storeu_ps(v, acc);
    for (int l = 0; l < TP_PANEL; l++)
        if (first + l >= r0 && first + l < r1)
            y[first + l] = finish(W, b, first + l, v[l]);
}

/* The running sums of the rows of panel p in from that lie in [r0, r1),
 * for a panel the range cuts. Lanes outside it are never stored, so they
 * need no value. Out of line: rare, and inlined into every tile its loop
 * pushed the products past AddressSanitizer's limit of checked accesses
 * per function (see avx2_panel_block), which made `make check SANITIZE=1`
 * ten times slower. */
static AVX2 __attribute__((noinline)) __m256 start_cut_rows(const float *from, int p, int r0,
                                                           int r1)
{
    int first = p * TP_PANEL;
    float v[TP_PANEL] = {0};
    for (int l = 0; l < TP_PANEL; l++)
        if (first + l >= r0 && first + l < r1)
            v[l] = from[first + l];
    return _mm256_loadu_ps(v);
}

/* The running sums a tile starts from: one load for a whole panel, which
 * is every panel but the cut ones at the ends of a row range (a call per
 * accumulator per tile took 3% of a batch-64 generation). */
INLINE_AVX2 __m256 start_rows(const float *from, int p, int r0, int r1)
{
    int first = p * TP_PANEL;
    if (first >= r0 && first + TP_PANEL <= r1)
        return _mm256_loadu_ps(from + first);
    return start_cut_rows(from, p, r0, r1);
}

/* PB panels from p times SB sequences from s, one accumulator each, column
 * by column: a column vector of each panel, x[s][k] broadcast. PB * SB + PB
 * + 1 registers must fit in 16; PB, SB and t are constants after inlining,
 * so the arrays live in registers. */
INLINE_AVX2 void avx2_tile(const tp_matrix *W, const float *b, const float *const *x,
                           const float *const *from, float *const *y, int p, int s, int PB,
                           int SB, int r0, int r1, tp_weight_type t)
{
    __m256 acc[8][6];
    const void *pan[8];
    const float *xs[6];
#pragma GCC unroll 8
    for (int i = 0; i < PB; i++) {
        pan[i] = tp_matrix_panel(W, p + i);
#pragma GCC unroll 6
        for (int j = 0; j < SB; j++)
            acc[i][j] = from ? start_rows(from[s + j], p + i, r0, r1) : _mm256_setzero_ps();
    }
#pragma GCC unroll 6
    for (int j = 0; j < SB; j++)
        xs[j] = x[s + j];
    /* Unrolled: the loop's own count, compare and branch otherwise take
     * issue slots from twelve FMAs (batch 64 went from 76 to 90% of one
     * core's FMA peak in a product alone). */
    int K = W->cols;
#pragma GCC unroll 4
    for (int k = 0; k < K; k++) {
        __m256 w[8];
#pragma GCC unroll 8
        for (int i = 0; i < PB; i++)
            w[i] = load_col(pan[i], k, t);
#pragma GCC unroll 6
        for (int j = 0; j < SB; j++) {
            __m256 xv = _mm256_broadcast_ss(xs[j] + k);
#pragma GCC unroll 8
            for (int i = 0; i < PB; i++)
                acc[i][j] = _mm256_fmadd_ps(w[i], xv, acc[i][j]);
        }
    }
#pragma GCC unroll 8
    for (int i = 0; i < PB; i++)
#pragma GCC unroll 6
        for (int j = 0; j < SB; j++)
            store_rows(W, b, y[s + j], p + i, r0, r1, acc[i][j]);
}

/* Panels [p, p + PB) against every sequence: three panels take four
 * sequences at a time (12 accumulators, 3 weight vectors, 1 broadcast: all
 * 16 registers, and 7 loads per 12 FMAs), one or two panels six at a time,
 * eight panels only one sequence. Only the tiles each PB can need are
 * written out, which keeps the function small: past about 7,000 memory
 * accesses in one function AddressSanitizer checks every access through a
 * call, and `make check SANITIZE=1` ran ten times slower. */
INLINE_AVX2 void avx2_panel_block(const tp_matrix *W, const float *b, const float *const *x,
                                  const float *const *from, float *const *y, int n, int p,
                                  int PB, int r0, int r1, tp_weight_type t)
{
    if (PB == 8) { /* n == 1 */
        avx2_tile(W, b, x, from, y, p, 0, 8, 1, r0, r1, t);
        return;
    }
    int SB = PB == 3 ? 4 : 6, s = 0;
    for (; s + SB <= n; s += SB)
        avx2_tile(W, b, x, from, y, p, s, PB, SB, r0, r1, t);
    int rest = n - s;
    if (SB == 6 && rest == 5)
        avx2_tile(W, b, x, from, y, p, s, PB, 5, r0, r1, t);
    else if (SB == 6 && rest == 4)
        avx2_tile(W, b, x, from, y, p, s, PB, 4, r0, r1, t);
    else if (rest == 3)
        avx2_tile(W, b, x, from, y, p, s, PB, 3, r0, r1, t);
    else if (rest == 2)
        avx2_tile(W, b, x, from, y, p, s, PB, 2, r0, r1, t);
    else if (rest == 1)
        avx2_tile(W, b, x, from, y, p, s, PB, 1, r0, r1, t);
}

/* Panels outer, sequences inner: a few panels stay in cache while every
 * sequence passes them. One sequence alone takes eight panels at a time,
 * so eight FMA chains hide the FMA latency while the weights stream past
 * once. */
INLINE_AVX2 void avx2_matmul(const tp_matrix *W, const float *b, const float *const *x,
                             const float *const *from, float *const *y, int n, int r0,
                             int r1, tp_weight_type t)
{
    int p = r0 / TP_PANEL, pend = (r1 + TP_PANEL - 1) / TP_PANEL;
    if (n == 1)
        for (; p + 8 <= pend; p += 8)
            avx2_panel_block(W, b, x, from, y, n, p, 8, r0, r1, t);
    for (; p + 3 <= pend; p += 3)
        avx2_panel_block(W, b, x, from, y, n, p, 3, r0, r1, t);
    for (; p + 2 <= pend; p += 2)
        avx2_panel_block(W, b, x, from, y, n, p, 2, r0, r1, t);
    for (; p < pend; p++)
        avx2_panel_block(W, b, x, from, y, n, p, 1, r0, r1, t);
}

#define AVX2_MATMUL(NAME, TYPE)                                                          \
    static AVX2 void NAME(const tp_matrix *W, const float *b, const float *const *x,     \
                          const float *const *from, float *const *y, int n, int r0,      \
                          int r1)                                                        \
    {                                                                                    \
        avx2_matmul(W, b, x, from, y, n, r0, r1, TYPE);                                  \
    }
AVX2_MATMUL(avx2_matmul_f32, TP_W_F32)
AVX2_MATMUL(avx2_matmul_f16, TP_W_F16)
AVX2_MATMUL(avx2_matmul_bf16, TP_W_BF16)
AVX2_MATMUL(avx2_matmul_int8, TP_W_INT8)

/* e^x to about 2 ulp: x = n ln2 + r with |r| <= ln2 / 2, a degree-6
 * polynomial for e^r (the Cephes expf coefficients), 2^n built in the
 * exponent bits. The clamp keeps 2^n a normal number. */
INLINE_AVX2 __m256 exp8(__m256 x)
{
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)), _mm256_set1_ps(88.0f));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    __m256 e = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
    __m256i bits = _mm256_slli_epi32(
        _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(e, _mm256_castsi256_ps(bits));
}

INLINE_AVX2 __m256 sigmoid8(__m256 x)
{
    __m256 one = _mm256_set1_ps(1.0f);
    return _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}

/* tanh x = 1 - 2 / (e^2x + 1): absolute error about 1e-7, which is what the
 * model's sums can feel. */
INLINE_AVX2 __m256 tanh8(__m256 x)
{
    __m256 one = _mm256_set1_ps(1.0f);
    __m256 e = exp8(_mm256_add_ps(x, x));
    return _mm256_sub_ps(one, _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, one)));
}

/* c' = sigmoid(f) c + sigmoid(i) tanh(g) for eight units. */
INLINE_AVX2 void avx2_cell8_c(const float *gi, const float *gf, const float *gg, float *c)
{
    __m256 i = sigmoid8(_mm256_loadu_ps(gi)), f = sigmoid8(_mm256_loadu_ps(gf));
    __m256 g = tanh8(_mm256_loadu_ps(gg));
    _mm256_storeu_ps(c, _mm256_fmadd_ps(f, _mm256_loadu_ps(c), _mm256_mul_ps(i, g)));
}

/* h' = sigmoid(o) tanh(c') for eight units. */
INLINE_AVX2 void avx2_cell8_h(const float *go, const float *c, float *h)
{
    _mm256_storeu_ps(h, _mm256_mul_ps(sigmoid8(_mm256_loadu_ps(go)), tanh8(_mm256_loadu_ps(c))));
}

/* Two passes, c' for every unit and then h': in one pass each unit's h'
 * waits on its c' through two exp chains in a row, more latency than the
 * out-of-order window hides; apart, the units of a pass are independent
 * (a quarter faster, the same arithmetic). Units past the last multiple of
 * 8 go through the same code via padded copies. */
static AVX2 void avx2_lstm_cell(const float *gates, float *h, float *c, int n)
{
    const float *gi = gates, *gf = gates + n, *gg = gates + 2 * n, *go = gates + 3 * n;
    int whole = n / 8 * 8;
    for (int j = 0; j < whole; j += 8)
        avx2_cell8_c(gi + j, gf + j, gg + j, c + j);
    for (int j = 0; j < whole; j += 8)
        avx2_cell8_h(go + j, c + j, h + j);
    if (whole == n)
        return;
    float t[6][8] = {{0}};
    int j = whole, rest = n - j;
    memcpy(t[0], gi + j, (size_t)rest * sizeof(float));
    memcpy(t[1], gf + j, (size_t)rest * sizeof(float));
    memcpy(t[2], gg + j, (size_t)rest * sizeof(float));
    memcpy(t[3], go + j, (size_t)rest * sizeof(float));
    memcpy(t[5], c + j, (size_t)rest * sizeof(float));
    avx2_cell8_c(t[0], t[1], t[2], t[5]);
    avx2_cell8_h(t[3], t[5], t[4]);
    memcpy(h + j, t[4], (size_t)rest * sizeof(float));
    memcpy(c + j, t[5], (size_t)rest * sizeof(float));
}

/* r, z, n and h' for eight units; g points at the first of them in the
 * [x-part r z n | h-part r z n] layout, each part n_units wide. */
INLINE_AVX2 void avx2_gru8(const float *g, int n, float *h)
{
    __m256 r = sigmoid8(_mm256_add_ps(_mm256_loadu_ps(g), _mm256_loadu_ps(g + 3 * n)));
    __m256 z = sigmoid8(_mm256_add_ps(_mm256_loadu_ps(g + n), _mm256_loadu_ps(g + 4 * n)));
    __m256 nn = tanh8(_mm256_fmadd_ps(r, _mm256_loadu_ps(g + 5 * n), _mm256_loadu_ps(g + 2 * n)));
    __m256 hv = _mm256_loadu_ps(h);
    _mm256_storeu_ps(h, _mm256_fmadd_ps(z, _mm256_sub_ps(hv, nn), nn));
}

static AVX2 void avx2_gru_cell(const float *gates, float *h, float *c, int n)
{
    (void)c;
    int j = 0;
    for (; j + 8 <= n; j += 8)
        avx2_gru8(gates + j, n, h + j);
    if (j == n)
        return;
    /* The tail through the same code: six padded gate rows of 8, then h. */
    float t[6 * 8 + 8] = {0};
    int rest = n - j;
    for (int k = 0; k < 6; k++)
        memcpy(t + 8 * k, gates + k * n + j, (size_t)rest * sizeof(float));
    memcpy(t + 48, h + j, (size_t)rest * sizeof(float));
    avx2_gru8(t, 8, t + 48);
    memcpy(h + j, t + 48, (size_t)rest * sizeof(float));
}

/* h = f(gates) eight at a time, the tail through a padded copy. */
#define AVX2_RNN_CELL(NAME, F)                                                   \
    static AVX2 void NAME(const float *gates, float *h, float *c, int n)         \
    {                                                                            \
        (void)c;                                                                 \
        int j = 0;                                                               \
        for (; j + 8 <= n; j += 8)                                               \
            _mm256_storeu_ps(h + j, F(_mm256_loadu_ps(gates + j)));              \
        if (j == n)                                                              \
            return;                                                              \
        float t[8] = {0};                                                        \
        memcpy(t, gates + j, (size_t)(n - j) * sizeof(float));                   \
        _mm256_storeu_ps(t, F(_mm256_loadu_ps(t)));                              \
        memcpy(h + j, t, (size_t)(n - j) * sizeof(float));                       \
    }

INLINE_AVX2 __m256 relu8(__m256 x)
{
    return _mm256_max_ps(x, _mm256_setzero_ps());
}

AVX2_RNN_CELL(avx2_rnn_tanh_cell, tanh8)
AVX2_RNN_CELL(avx2_rnn_relu_cell, relu8)

static const tp_kernels AVX2_KERNELS = {
    "avx2",
    {avx2_matmul_f32, avx2_matmul_f16, avx2_matmul_bf16, avx2_matmul_int8},
    avx2_lstm_cell,
    avx2_gru_cell,
    avx2_rnn_tanh_cell,
    avx2_rnn_relu_cell,
};

static int cpu_has_avx2(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
           __builtin_cpu_supports("f16c");
}
#endif

/* ---- choosing ----------------------------------------------------------- */

tp_status tp_kernels_find(const char *name, const tp_kernels **out, tp_error *err)
{
    int want_best = !name || !*name;
    if (!want_best && strcmp(name, "portable") == 0) {
        *out = &PORTABLE;
        return TP_OK;
    }
#if TP_HAVE_AVX2
    if (want_best || strcmp(name, "avx2") == 0) {
        if (cpu_has_avx2()) {
            *out = &AVX2_KERNELS;
            return TP_OK;
        }
        if (!want_best)
            return tp_fail(err, TP_ERR_USAGE, "TEMPEST_KERNEL 'avx2': this CPU lacks AVX2, "
                           "FMA or F16C");
    }
#else
    if (!want_best && strcmp(name, "avx2") == 0)
        return tp_fail(err, TP_ERR_USAGE, "TEMPEST_KERNEL 'avx2': not available on this "
                       "architecture");
#endif
    if (want_best) {
        *out = &PORTABLE;
        return TP_OK;
    }
    return tp_fail(err, TP_ERR_USAGE, "TEMPEST_KERNEL '%.60s' is not one of portable, avx2",
                   name);
}

tp_status tp_kernels_from_env(const tp_kernels **out, tp_error *err)
{
    return tp_kernels_find(getenv("TEMPEST_KERNEL"), out, err);
}
