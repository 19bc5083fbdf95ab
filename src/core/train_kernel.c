/* train_kernel.c - the time loops' product on pre-packed panels (see
 * train_kernel.h). */
#include "tempest/train_kernel.h"

#include <stddef.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define TP_TK_X86 1
#endif

int tp_tk_usable(int n, int offset)
{
#ifdef TP_TK_X86
    if (n <= 0 || n % 16 || offset % 16)
        return 0;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    (void)n;
    (void)offset;
    return 0;
#endif
}

void tp_tk_pack_rows(float *P, const float *W, int ldw, int r0, int n, int K)
{
    for (int r = r0; r < r0 + n; r++) {
        float *panel = P + (size_t)(r / 16) * 16 * K + r % 16;
        const float *row = W + (size_t)r * ldw;
        for (int k = 0; k < K; k++)
            panel[(size_t)k * 16] = row[k];
    }
}

void tp_tk_pack_cols(float *P, const float *W, int ldw, int c0, int n, int K)
{
    for (int c = c0; c < c0 + n; c += 16) {
        float *panel = P + (size_t)(c / 16) * 16 * K;
        for (int k = 0; k < K; k++)
            for (int i = 0; i < 16; i++)
                panel[(size_t)k * 16 + i] = W[(size_t)k * ldw + c + i];
    }
}

#ifdef TP_TK_X86
/* R (1 to 6) rows of C by 16 columns: 2R accumulators, two panel loads and R
 * broadcasts per k. Six rows is the most that keeps the 12 accumulators,
 * the two panel vectors and the broadcast in the 16 AVX registers. */
__attribute__((target("avx2,fma"), always_inline)) static inline void
block(const float *A, int lda, const float *P, int K, float *C, int ldc, const int R)
{
    __m256 c[6][2];
    _Pragma("GCC unroll 6") for (int r = 0; r < R; r++) {
        c[r][0] = _mm256_loadu_ps(C + (size_t)r * ldc);
        c[r][1] = _mm256_loadu_ps(C + (size_t)r * ldc + 8);
    }
    _Pragma("GCC unroll 4") for (int k = 0; k < K; k++) {
        __m256 p0 = _mm256_loadu_ps(P + 16 * (size_t)k), p1 = _mm256_loadu_ps(P + 16 * (size_t)k + 8);
        _Pragma("GCC unroll 6") for (int r = 0; r < R; r++) {
            __m256 a = _mm256_broadcast_ss(A + (size_t)r * lda + k);
            c[r][0] = _mm256_fmadd_ps(a, p0, c[r][0]);
            c[r][1] = _mm256_fmadd_ps(a, p1, c[r][1]);
        }
    }
    _Pragma("GCC unroll 6") for (int r = 0; r < R; r++) {
        _mm256_storeu_ps(C + (size_t)r * ldc, c[r][0]);
        _mm256_storeu_ps(C + (size_t)r * ldc + 8, c[r][1]);
    }
}

#define TP_TK_BLOCK(R)                                                                          \
    __attribute__((target("avx2,fma"))) static void block##R(                                  \
        const float *A, int lda, const float *P, int K, float *C, int ldc)                      \
    {                                                                                            \
        block(A, lda, P, K, C, ldc, R);                                                          \
    }
TP_TK_BLOCK(6)
TP_TK_BLOCK(4)
TP_TK_BLOCK(2)
TP_TK_BLOCK(1)

void tp_tk_gemm(int B, int n, int K, const float *A, int lda, const float *P, float *C, int ldc)
{
    for (int j = 0; j < n; j += 16) {
        const float *Pj = P + (size_t)j * K;
        float *Cj = C + j;
        int b = 0;
        /* 32 streams as 6+6+6+6+4+4: two rows alone run at half speed */
        for (; b + 6 <= B && B - b != 8; b += 6)
            block6(A + (size_t)b * lda, lda, Pj, K, Cj + (size_t)b * ldc, ldc);
        for (; b + 4 <= B; b += 4)
            block4(A + (size_t)b * lda, lda, Pj, K, Cj + (size_t)b * ldc, ldc);
        for (; b + 2 <= B; b += 2)
            block2(A + (size_t)b * lda, lda, Pj, K, Cj + (size_t)b * ldc, ldc);
        for (; b < B; b++)
            block1(A + (size_t)b * lda, lda, Pj, K, Cj + (size_t)b * ldc, ldc);
    }
}
#else
void tp_tk_gemm(int B, int n, int K, const float *A, int lda, const float *P, float *C, int ldc)
{
    /* the portable reference; the trainer does not call it (tp_tk_usable is
     * 0 here, so it uses sgemm) */
    for (int b = 0; b < B; b++)
        for (int j = 0; j < n; j++)
            for (int k = 0; k < K; k++)
                C[(size_t)b * ldc + j] += A[(size_t)b * lda + k] * P[(size_t)(j / 16) * 16 * K +
                                                                    (size_t)k * 16 + j % 16];
}
#endif
