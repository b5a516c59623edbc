/*
 * lstm.c - forward, backward and Adam for the lifetime LSTM (see lstm.h).
 * Type-generic through tgmath.h so the same source builds the float model
 * and the double copy the gradient check uses.
 */
#include "lstm.h"

#include <stdlib.h>
#include <string.h>
#include <tgmath.h>

#include "llama_model.h"

void llama_lstm_layout(const struct llama_lstm_dims *d, struct llama_lstm_layout *l) {
  uint64_t H = d->hidden, at = 0;
  memset(l, 0, sizeof *l);
  l->emb = at;
  at += (uint64_t)d->vocab * d->embed;
  for (uint32_t k = 0; k < d->layers && k < 2; k++) {
    uint64_t in = k == 0 ? d->embed : H;
    l->W[k] = at;
    at += (in + H) * 4 * H;
    l->b[k] = at;
    at += 4 * H;
  }
  l->Wo = at;
  at += H * d->classes;
  l->bo = at;
  at += d->classes;
  l->total = at;
}

/* Uniform in [-1, 1). */
static double uniform_pm1(uint64_t *s) { return (double)(llama_rand64(s) >> 11) * 0x1p-52 - 1.0; }

void llama_lstm_init(const struct llama_lstm_dims *d, llama_real *p, uint64_t seed) {
  struct llama_lstm_layout l;
  llama_lstm_layout(d, &l);
  uint64_t s = seed ^ 0x6c6c616d61ull; /* "llama" */
  uint64_t H = d->hidden;
  double scale = 1.0 / sqrt((double)H);
  /* Sum of three uniforms: bell-shaped, std 0.1. */
  for (uint64_t i = 0; i < (uint64_t)d->vocab * d->embed; i++)
    p[l.emb + i] = (llama_real)((uniform_pm1(&s) + uniform_pm1(&s) + uniform_pm1(&s)) * 0.1);
  for (uint32_t k = 0; k < d->layers; k++) {
    uint64_t in = k == 0 ? d->embed : H;
    for (uint64_t i = 0; i < (in + H) * 4 * H; i++)
      p[l.W[k] + i] = (llama_real)(uniform_pm1(&s) * scale);
    for (uint64_t i = 0; i < 4 * H; i++)
      p[l.b[k] + i] = (llama_real)(i >= H && i < 2 * H ? 1.0 : 0.0);
  }
  for (uint64_t i = 0; i < H * d->classes; i++)
    p[l.Wo + i] = (llama_real)(uniform_pm1(&s) * scale);
  for (uint64_t i = 0; i < d->classes; i++)
    p[l.bo + i] = 0;
}

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
static void cell_forward(const llama_real *W, const llama_real *b, const llama_real *x,
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

static void dense_forward(const struct llama_lstm_dims *d, const struct llama_lstm_layout *l,
                          const llama_real *p, const llama_real *h, llama_real *logits) {
  memcpy(logits, p + l->bo, d->classes * sizeof *logits);
  for (uint64_t j = 0; j < d->hidden; j++)
    axpy(logits, p + l->Wo + j * d->classes, h[j], d->classes);
}

void llama_lstm_softmax(const llama_real *logits, llama_real *probs, uint32_t classes) {
  llama_real mx = logits[0], sum = 0;
  for (uint32_t k = 1; k < classes; k++)
    if (logits[k] > mx)
      mx = logits[k];
  for (uint32_t k = 0; k < classes; k++)
    sum += probs[k] = exp_real(logits[k] - mx);
  for (uint32_t k = 0; k < classes; k++)
    probs[k] /= sum;
}

void llama_lstm_infer(const struct llama_lstm_dims *d, const llama_real *p, const uint32_t *ids,
                      size_t n, llama_real *logits) {
  struct llama_lstm_layout l;
  llama_lstm_layout(d, &l);
  uint64_t H = d->hidden;
  llama_real gates[4 * LLAMA_MODEL_MAX_HIDDEN];
  llama_real h[LLAMA_MODEL_MAX_LAYERS][2][LLAMA_MODEL_MAX_HIDDEN];
  llama_real c[LLAMA_MODEL_MAX_LAYERS][2][LLAMA_MODEL_MAX_HIDDEN];
  int cur = 0;
  for (size_t t = 0; t < n; t++) {
    int prev = cur ^ 1;
    const llama_real *x = p + l.emb + (uint64_t)ids[t] * d->embed;
    uint64_t in = d->embed;
    for (uint32_t k = 0; k < d->layers; k++) {
      cell_forward(p + l.W[k], p + l.b[k], x, in, t ? h[k][prev] : NULL, t ? c[k][prev] : NULL,
                   H, gates, c[k][cur], h[k][cur]);
      x = h[k][cur];
      in = H;
    }
    cur ^= 1;
  }
  dense_forward(d, &l, p, h[d->layers - 1][cur ^ 1], logits);
}

/* ---- training ---- */

struct llama_lstm_work {
  struct llama_lstm_dims dims;
  struct llama_lstm_layout layout;
  size_t max_len;
  /* [layer][t][...]: activated gates (4H), cell (H), hidden (H) */
  llama_real *gates, *c, *h;
  llama_real *dz, *dv, *dh, *dc, *dh_above;
};

struct llama_lstm_work *llama_lstm_work_new(const struct llama_lstm_dims *d, size_t max_len) {
  struct llama_lstm_work *w = calloc(1, sizeof *w);
  if (!w)
    return NULL;
  w->dims = *d;
  llama_lstm_layout(d, &w->layout);
  w->max_len = max_len;
  uint64_t H = d->hidden, L = d->layers, in_max = d->embed > H ? d->embed : H;
  w->gates = malloc(L * max_len * 4 * H * sizeof(llama_real));
  w->c = malloc(L * max_len * H * sizeof(llama_real));
  w->h = malloc(L * max_len * H * sizeof(llama_real));
  w->dz = malloc(4 * H * sizeof(llama_real));
  w->dv = malloc((in_max + H) * sizeof(llama_real));
  w->dh = malloc(L * H * sizeof(llama_real));
  w->dc = malloc(L * H * sizeof(llama_real));
  w->dh_above = malloc(H * sizeof(llama_real));
  if (!w->gates || !w->c || !w->h || !w->dz || !w->dv || !w->dh || !w->dc || !w->dh_above) {
    llama_lstm_work_free(w);
    return NULL;
  }
  return w;
}

void llama_lstm_work_free(struct llama_lstm_work *w) {
  if (!w)
    return;
  free(w->gates);
  free(w->c);
  free(w->h);
  free(w->dz);
  free(w->dv);
  free(w->dh);
  free(w->dc);
  free(w->dh_above);
  free(w);
}

double llama_lstm_example(const struct llama_lstm_dims *d, const llama_real *p,
                          const uint32_t *ids, size_t n, unsigned label, double weight,
                          llama_real *grad, struct llama_lstm_work *w, llama_real *probs_out) {
  const struct llama_lstm_layout *l = &w->layout;
  uint64_t H = d->hidden, G = 4 * H, L = d->layers, E = d->embed, C = d->classes;
#define GATES(k, t) (w->gates + ((k) * w->max_len + (t)) * G)
#define CELL(k, t) (w->c + ((k) * w->max_len + (t)) * H)
#define HID(k, t) (w->h + ((k) * w->max_len + (t)) * H)
#define INPUT(k, t) ((k) == 0 ? p + l->emb + (uint64_t)ids[t] * E : HID((k) - 1, t))

  /* Forward, keeping every step's gates and state. */
  for (size_t t = 0; t < n; t++)
    for (uint64_t k = 0; k < L; k++)
      cell_forward(p + l->W[k], p + l->b[k], INPUT(k, t), k == 0 ? E : H,
                   t ? HID(k, t - 1) : NULL, t ? CELL(k, t - 1) : NULL, H, GATES(k, t),
                   CELL(k, t), HID(k, t));
  llama_real logits[LLAMA_NUM_CLASSES], probs[LLAMA_NUM_CLASSES];
  const llama_real *h_last = HID(L - 1, n - 1);
  dense_forward(d, l, p, h_last, logits);
  llama_lstm_softmax(logits, probs, (uint32_t)C);
  if (probs_out)
    memcpy(probs_out, probs, C * sizeof *probs);
  double pl = probs[label] > 1e-30 ? (double)probs[label] : 1e-30;
  double loss = -weight * log(pl);

  /* Output layer. */
  llama_real dlogits[LLAMA_NUM_CLASSES];
  for (uint64_t k = 0; k < C; k++)
    dlogits[k] = (llama_real)(weight * ((double)probs[k] - (k == label ? 1.0 : 0.0)));
  for (uint64_t k = 0; k < C; k++)
    grad[l->bo + k] += dlogits[k];
  for (uint64_t j = 0; j < H; j++) {
    axpy(grad + l->Wo + j * C, dlogits, h_last[j], C);
    w->dh_above[j] = (llama_real)dot(p + l->Wo + j * C, dlogits, C);
  }

  /* Backpropagation through time: t from the end, layers from the top. dh[k]
   * and dc[k] carry the gradient from step t+1 into step t of layer k;
   * dh_above carries the gradient from layer k+1 (or the output) at step t. */
  memset(w->dh, 0, L * H * sizeof *w->dh);
  memset(w->dc, 0, L * H * sizeof *w->dc);
  for (size_t tt = n; tt-- > 0;) {
    for (uint64_t kk = L; kk-- > 0;) {
      llama_real *dh = w->dh + kk * H, *dc = w->dc + kk * H;
      const llama_real *gt = GATES(kk, tt), *ct = CELL(kk, tt);
      const llama_real *c_prev = tt ? CELL(kk, tt - 1) : NULL;
      if (kk == L - 1 && tt != n - 1)
        memset(w->dh_above, 0, H * sizeof *w->dh_above); /* no loss at step t < n-1 */
      for (uint64_t j = 0; j < H; j++) {
        llama_real i = gt[j], f = gt[H + j], g = gt[2 * H + j], o = gt[3 * H + j];
        llama_real tc = tanh_(ct[j]);
        llama_real dht = dh[j] + w->dh_above[j];
        llama_real dct = dc[j] + dht * o * (1 - tc * tc);
        llama_real cp = c_prev ? c_prev[j] : 0;
        w->dz[j] = dct * g * i * (1 - i);
        w->dz[H + j] = dct * cp * f * (1 - f);
        w->dz[2 * H + j] = dct * i * (1 - g * g);
        w->dz[3 * H + j] = dht * tc * o * (1 - o);
        dc[j] = dct * f; /* into step t-1 */
      }
      uint64_t in = kk == 0 ? E : H;
      const llama_real *x = INPUT(kk, tt), *hp = tt ? HID(kk, tt - 1) : NULL;
      const llama_real *W = p + l->W[kk];
      llama_real *dW = grad + l->W[kk];
      axpy(grad + l->b[kk], w->dz, 1, G);
      for (uint64_t j = 0; j < in; j++) {
        axpy(dW + j * G, w->dz, x[j], G);
        w->dv[j] = (llama_real)dot(W + j * G, w->dz, G);
      }
      for (uint64_t j = 0; j < H; j++) {
        if (hp)
          axpy(dW + (in + j) * G, w->dz, hp[j], G);
        dh[j] = (llama_real)dot(W + (in + j) * G, w->dz, G); /* into step t-1 */
      }
      if (kk > 0)
        memcpy(w->dh_above, w->dv, H * sizeof *w->dv); /* into layer k-1, step t */
      else
        axpy(grad + l->emb + (uint64_t)ids[tt] * E, w->dv, 1, E);
    }
  }
#undef GATES
#undef CELL
#undef HID
#undef INPUT
  return loss;
}

void llama_adam_update(const struct llama_adam *a, uint64_t t, llama_real *p, const llama_real *g,
                       llama_real *m, llama_real *v, uint64_t lo, uint64_t hi) {
  double c1 = 1.0 - pow(a->beta1, (double)t), c2 = 1.0 - pow(a->beta2, (double)t);
  llama_real step = (llama_real)(a->lr * sqrt(c2) / c1);
  llama_real b1 = (llama_real)a->beta1, b2 = (llama_real)a->beta2;
  llama_real eps = (llama_real)(a->eps * sqrt(c2));
  for (uint64_t i = lo; i < hi; i++) {
    m[i] = b1 * m[i] + (1 - b1) * g[i];
    v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
    p[i] -= step * m[i] / (sqrt(v[i]) + eps);
  }
}
