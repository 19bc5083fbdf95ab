/* train_kernel.h - the product of the trainer's time loops with the weights
 * packed once per chunk.
 *
 * Each step of a time loop multiplies a small batch (32 streams) by the same
 * W_hh. cblas_sgemm repacks its share of W_hh on every call; these panels
 * are packed once per chunk and read straight from the cache by an AVX2/FMA
 * kernel (6 streams x 16 outputs per block, the accumulators in registers).
 * With two threads each core's half of the panels stays in its own L2.
 *
 * A panel is 16 outputs by K inputs, stored [K][16]. Output blocks of 16
 * mean every size here must be a multiple of 16 (tp_tk_usable says so).
 */
#ifndef TEMPEST_TRAIN_KERNEL_H
#define TEMPEST_TRAIN_KERNEL_H

/* The CPU has AVX2 and FMA, and n (outputs a thread computes) and the
 * offsets it starts at are multiples of 16. */
int tp_tk_usable(int n, int offset);

/* Panels for outputs = rows r0 .. r0+n of W (row-major, ldw floats a row,
 * K columns used): C += A W[rows]^T. The panel of row r goes to
 * P + (r / 16) * 16 * K, so threads packing different rows share P. */
void tp_tk_pack_rows(float *P, const float *W, int ldw, int r0, int n, int K);

/* Panels for outputs = columns c0 .. c0+n of W (K rows, ldw floats a row):
 * C += A W[:, cols]. The panel of column c goes to P + (c / 16) * 16 * K. */
void tp_tk_pack_cols(float *P, const float *W, int ldw, int c0, int n, int K);

/* C[b][j] += sum_k A[b][k] Pj[k], b < B, j < n (16 | n), the panels of the
 * n outputs starting at P (as packed above). A: lda floats a row, C: ldc. */
void tp_tk_gemm(int B, int n, int K, const float *A, int lda, const float *P, float *C,
                int ldc);

#endif
