/* kernels.c - the matrix products and the recurrent cells (LSTM, GRU, RNN),
 * portable and AVX2+FMA,
 * and the table that picks between them at run time.
 *
 * Bit-identical batching rests on one rule, kept by every kernel here: the
 * dot product of a row and a sequence is eight lane sums taken in k order
 * (lane l sums the products at k = 8m + l), reduced as
 * ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7)), then scaled and biased.
 * Register blocking only changes how many of those independent dot products
 * run side by side, never the order inside one.
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

static float reduce8(const float a[8])
{
    return ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]));
}

/* One portable dot product per element type; WIDEN turns element k of the
 * row into a float. */
#define PORTABLE_DOT(NAME, ELEM, WIDEN)                                        \
    static float NAME(const ELEM *w, const float *x, int ld)                   \
    {                                                                          \
        float acc[8] = {0};                                                    \
        for (int k = 0; k < ld; k += 8)                                        \
            for (int l = 0; l < 8; l++)                                        \
                acc[l] += WIDEN(w[k + l]) * x[k + l];                          \
        return reduce8(acc);                                                   \
    }

#define AS_FLOAT(v) (v)
#define AS_INT8(v) ((float)(v))
PORTABLE_DOT(dot_f32, float, AS_FLOAT)
PORTABLE_DOT(dot_f16, uint16_t, tp_f16_to_f32)
PORTABLE_DOT(dot_bf16, uint16_t, tp_bf16_to_f32)
PORTABLE_DOT(dot_int8, int8_t, AS_INT8)

static float finish(const tp_matrix *W, const float *b, int r, float sum)
{
    if (W->scale)
        sum = W->scale[r] * sum;
    return (b ? b[r] : 0.0f) + sum;
}

static float portable_dot(const tp_matrix *W, int r, const float *x)
{
    size_t off = (size_t)r * (size_t)W->ld;
    switch (W->type) {
    case TP_W_F16: return dot_f16((const uint16_t *)W->data + off, x, W->ld);
    case TP_W_BF16: return dot_bf16((const uint16_t *)W->data + off, x, W->ld);
    case TP_W_INT8: return dot_int8((const int8_t *)W->data + off, x, W->ld);
    default: return dot_f32((const float *)W->data + off, x, W->ld);
    }
}

static void portable_matmul(const tp_matrix *W, const float *b, const float *const *x,
                            float *const *y, int n, int r0, int r1)
{
    for (int r = r0; r < r1; r++)
        for (int s = 0; s < n; s++)
            y[s][r] = finish(W, b, r, portable_dot(W, r, x[s]));
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

/* Eight weights of row `row` from column k, widened to f32 in registers. */
INLINE_AVX2 __m256 load_w(const void *row, int k, tp_weight_type t)
{
    switch (t) {
    case TP_W_F16:
        return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)row + k)));
    case TP_W_BF16: {
        __m128i v = _mm_loadu_si128((const __m128i *)((const uint16_t *)row + k));
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(v), 16));
    }
    case TP_W_INT8: {
        __m128i v = _mm_loadl_epi64((const __m128i *)((const int8_t *)row + k));
        return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(v));
    }
    default: return _mm256_loadu_ps((const float *)row + k);
    }
}

/* The fixed reduction of the file comment, in registers. */
INLINE_AVX2 float hsum8(__m256 v)
{
    __m128 q = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    __m128 d = _mm_add_ps(q, _mm_movehl_ps(q, q));
    return _mm_cvtss_f32(_mm_add_ss(d, _mm_shuffle_ps(d, d, 1)));
}

INLINE_AVX2 const void *row_ptr(const tp_matrix *W, int r)
{
    return (const char *)W->data + (size_t)r * (size_t)W->ld * tp_weight_type_size(W->type);
}

/* RB rows from r times SB sequences from s, one accumulator each: RB * SB
 * + SB + 1 registers must fit in 16. RB, SB and t are constants after
 * inlining, so the accumulator array lives in registers. */
INLINE_AVX2 void avx2_block(const tp_matrix *W, const float *b, const float *const *x,
                            float *const *y, int r, int s, int RB, int SB, tp_weight_type t)
{
    __m256 acc[8][3];
    const void *rows[8];
#pragma GCC unroll 8
    for (int i = 0; i < RB; i++) {
        rows[i] = row_ptr(W, r + i);
#pragma GCC unroll 3
        for (int j = 0; j < SB; j++)
            acc[i][j] = _mm256_setzero_ps();
    }
    for (int k = 0; k < W->ld; k += 8) {
        __m256 xv[3];
#pragma GCC unroll 3
        for (int j = 0; j < SB; j++)
            xv[j] = _mm256_loadu_ps(x[s + j] + k);
#pragma GCC unroll 8
        for (int i = 0; i < RB; i++) {
            __m256 w = load_w(rows[i], k, t);
#pragma GCC unroll 3
            for (int j = 0; j < SB; j++)
                acc[i][j] = _mm256_fmadd_ps(w, xv[j], acc[i][j]);
        }
    }
#pragma GCC unroll 8
    for (int i = 0; i < RB; i++)
#pragma GCC unroll 3
        for (int j = 0; j < SB; j++)
            y[s + j][r + i] = finish(W, b, r + i, hsum8(acc[i][j]));
}

/* Rows [r, r + RB) against every sequence, three at a time. */
INLINE_AVX2 void avx2_row_block(const tp_matrix *W, const float *b, const float *const *x,
                                float *const *y, int n, int r, int RB, tp_weight_type t)
{
    int s = 0;
    for (; s + 3 <= n; s += 3)
        avx2_block(W, b, x, y, r, s, RB, 3, t);
    if (n - s == 2)
        avx2_block(W, b, x, y, r, s, RB, 2, t);
    else if (n - s == 1)
        avx2_block(W, b, x, y, r, s, RB, 1, t);
}

/* Rows outer, sequences inner: a block of rows stays in L1 while every
 * sequence passes it. One sequence alone gets eight rows at a time so eight
 * FMA chains hide the FMA latency. */
INLINE_AVX2 void avx2_matmul(const tp_matrix *W, const float *b, const float *const *x,
                             float *const *y, int n, int r0, int r1, tp_weight_type t)
{
    int r = r0;
    if (n == 1)
        for (; r + 8 <= r1; r += 8)
            avx2_row_block(W, b, x, y, n, r, 8, t);
    for (; r + 4 <= r1; r += 4)
        avx2_row_block(W, b, x, y, n, r, 4, t);
    for (; r < r1; r++)
        avx2_row_block(W, b, x, y, n, r, 1, t);
}

#define AVX2_MATMUL(NAME, TYPE)                                                          \
    static AVX2 void NAME(const tp_matrix *W, const float *b, const float *const *x,     \
                          float *const *y, int n, int r0, int r1)                        \
    {                                                                                    \
        avx2_matmul(W, b, x, y, n, r0, r1, TYPE);                                        \
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

INLINE_AVX2 void avx2_cell8(const float *gi, const float *gf, const float *gg, const float *go,
                            float *h, float *c)
{
    __m256 i = sigmoid8(_mm256_loadu_ps(gi)), f = sigmoid8(_mm256_loadu_ps(gf));
    __m256 g = tanh8(_mm256_loadu_ps(gg)), o = sigmoid8(_mm256_loadu_ps(go));
    __m256 cn = _mm256_fmadd_ps(f, _mm256_loadu_ps(c), _mm256_mul_ps(i, g));
    _mm256_storeu_ps(c, cn);
    _mm256_storeu_ps(h, _mm256_mul_ps(o, tanh8(cn)));
}

/* Units past the last multiple of 8 go through the same vector code via
 * padded copies, so every unit gets the same arithmetic. */
static AVX2 void avx2_lstm_cell(const float *gates, float *h, float *c, int n)
{
    const float *gi = gates, *gf = gates + n, *gg = gates + 2 * n, *go = gates + 3 * n;
    int j = 0;
    for (; j + 8 <= n; j += 8)
        avx2_cell8(gi + j, gf + j, gg + j, go + j, h + j, c + j);
    if (j == n)
        return;
    float t[6][8] = {{0}};
    int rest = n - j;
    memcpy(t[0], gi + j, (size_t)rest * sizeof(float));
    memcpy(t[1], gf + j, (size_t)rest * sizeof(float));
    memcpy(t[2], gg + j, (size_t)rest * sizeof(float));
    memcpy(t[3], go + j, (size_t)rest * sizeof(float));
    memcpy(t[5], c + j, (size_t)rest * sizeof(float));
    avx2_cell8(t[0], t[1], t[2], t[3], t[4], t[5]);
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
