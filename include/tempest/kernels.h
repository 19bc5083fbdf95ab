/* kernels.h - the hot loops of the model step: the only place for SIMD. */
#ifndef TEMPEST_KERNELS_H
#define TEMPEST_KERNELS_H

#include <stddef.h>

/* y[r] = b[r] + dot(W[r, 0:cols], x) for r in 0..rows; W row-major with
 * row stride cols. b may be NULL (then 0). */
void tp_matvec(float *y, const float *W, const float *b, const float *x, int rows,
               int cols);

/* y[r] += x[r] for r in 0..n. */
void tp_vec_add(float *y, const float *x, int n);

/* One LSTM cell update from pre-activations in PyTorch's gate order:
 * gates = [i | f | g | o], each n long.
 *   c' = sigmoid(f) * c + sigmoid(i) * tanh(g);  h' = sigmoid(o) * tanh(c') */
void tp_lstm_cell(const float *gates, float *h, float *c, int n);

#endif
