/* kernels.c - portable kernels, written so the compiler can vectorise them.
 *
 * The dot product keeps eight independent partial sums: without
 * -ffast-math the compiler may not reorder a single running sum, and eight
 * lanes both vectorise and hide the add latency.
 */
#include "tempest/kernels.h"

#include <math.h>

/* The matrix-vector product dominates a step. Build one portable version
 * and one for x86-64-v3 (AVX2 + FMA); the loader picks the best the CPU has
 * at run time, so the binary needs no -march flag to be fast or correct. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TP_MULTIVERSION __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define TP_MULTIVERSION
#endif

static inline float dot(const float *a, const float *b, int n)
{
    float acc[8] = {0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++)
            acc[k] += a[i + k] * b[i + k];
    float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; i < n; i++)
        s += a[i] * b[i];
    return s;
}

TP_MULTIVERSION
void tp_matvec(float *y, const float *W, const float *b, const float *x, int rows, int cols)
{
    for (int r = 0; r < rows; r++)
        y[r] = (b ? b[r] : 0.0f) + dot(W + (size_t)r * (size_t)cols, x, cols);
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
