/*
 * lstm_kernels.h - the LSTM's arithmetic shared by inference (lstm.c) and
 * training (lstm_train.c): exp, the gate activations, the vector loops, one
 * cell step and the output layer. Private to model/; type-generic through
 * tgmath.h like its users, so the gradient check's double copy uses them too.
 */
#ifndef LLAMA_LSTM_KERNELS_H
#define LLAMA_LSTM_KERNELS_H

#include <stdint.h>
#include <string.h>
#include <tgmath.h>

#include "lstm.h"

/* e^x for float, without libm: Cody-Waite reduction x = k ln2 + r,
 * |r| <= ln2/2, and e^r by its degree-7 Taylor polynomial (relative error
 * at most 1e-7 against libm's exp over the normal range, under two float
 * ulps), scaled by 2^k through the exponent
 * bits. The runtime's only libm function was expf, and calling it faults
 * in libm pages that a small program's RSS shows (about 130 KiB measured
 * on the SQLite shell). Same results in the trainer and the runtime: both
 * use this. */
static inline float exp_f(float x) {
  if (!(x <= 88.72283f)) /* overflow, or NaN (NaN + inf is NaN) */
    return x + __builtin_inff();
  if (x < -103.9721f)
    return 0.0f;
  int k = (int)(x * 1.44269504f + (x >= 0 ? 0.5f : -0.5f));
  float r = (x - (float)k * 0.693145751953125f) - (float)k * 1.428606765330187e-06f;
  float p = 1.0f + r * (1.0f + r * (0.5f + r * (1.6666667e-1f + r * (4.1666668e-2f +
                   r * (8.3333338e-3f + r * (1.3888889e-3f + r * 1.9841270e-4f))))));
  union {
    float f;
    uint32_t u;
  } scale;
  if (k < -126) { /* subnormal result: scale in two steps */
    scale.u = (uint32_t)(k + 126 + 127) << 23;
    return p * scale.f * 1.17549435e-38f;
  }
  if (k > 127) { /* x just below the overflow bound */
    scale.u = (uint32_t)(k - 1 + 127) << 23;
    return p * scale.f * 2.0f;
  }
  scale.u = (uint32_t)(k + 127) << 23;
  return p * scale.f;
}

/* exp of the element type: the float model uses exp_f, the double copy of
 * the gradient check libm's exp. */
#define exp_real(x) _Generic((x), float: exp_f, default: exp)(x)

static inline llama_real sigmoid(llama_real x) {
  return (llama_real)1 / ((llama_real)1 + exp_real(-x));
}

/* tanh through exp, which is several times faster than libm's tanhf; the
 * absolute error stays within a few float ulps of 1. Saturates cleanly. */
static inline llama_real tanh_(llama_real x) {
  if (x > 20)
    return 1;
  if (x < -20)
    return -1;
  llama_real e = exp_real(2 * x);
  return (e - 1) / (e + 1);
}

/* out[0, n) += a * x[0, n) */
static inline void axpy(llama_real *restrict out, const llama_real *restrict x, llama_real a,
                        uint64_t n) {
  for (uint64_t i = 0; i < n; i++)
    out[i] += a * x[i];
}

/* a . b with 8 independent partial sums added in a fixed order: the
 * compiler vectorises it without reassociating, so the result is the same
 * at every optimisation level. */
static inline double dot(const llama_real *a, const llama_real *b, uint64_t n) {
  llama_real s[8] = {0};
  uint64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; k++)
      s[k] += a[i + k] * b[i + k];
  for (; i < n; i++)
    s[i % 8] += a[i] * b[i];
  return (double)(((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7])));
}

/*
 * One LSTM step: gates[4H] receives the activated i, f, g, o; c and h the new
 * state. h_prev/c_prev NULL means the zero state (the first token).
 */
static inline void cell_forward(const llama_real *W, const llama_real *b, const llama_real *x,
                         uint64_t in, const llama_real *h_prev, const llama_real *c_prev,
                         uint64_t H, llama_real *restrict gates, llama_real *restrict c,
                         llama_real *restrict h) {
  uint64_t G = 4 * H;
  memcpy(gates, b, G * sizeof *gates);
  for (uint64_t j = 0; j < in; j++)
    axpy(gates, W + j * G, x[j], G);
  if (h_prev)
    for (uint64_t j = 0; j < H; j++)
      axpy(gates, W + (in + j) * G, h_prev[j], G);
  for (uint64_t k = 0; k < H; k++) {
    llama_real i = sigmoid(gates[k]), f = sigmoid(gates[H + k]);
    llama_real g = tanh_(gates[2 * H + k]), o = sigmoid(gates[3 * H + k]);
    gates[k] = i;
    gates[H + k] = f;
    gates[2 * H + k] = g;
    gates[3 * H + k] = o;
    c[k] = f * (c_prev ? c_prev[k] : 0) + i * g;
    h[k] = o * tanh_(c[k]);
  }
}

static inline void dense_forward(const struct llama_lstm_dims *d, const struct llama_lstm_layout *l,
                          const llama_real *p, const llama_real *h, llama_real *logits) {
  memcpy(logits, p + l->bo, d->classes * sizeof *logits);
  for (uint64_t j = 0; j < d->hidden; j++)
    axpy(logits, p + l->Wo + j * d->classes, h[j], d->classes);
}

#endif
