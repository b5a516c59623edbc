/*
 * lstm_train.c - training the lifetime LSTM (see lstm.h): initialisation,
 * the forward pass that keeps every step, backpropagation through time and
 * Adam. Only the trainer links it; the runtime links lstm.c alone.
 */
#include <stdlib.h>
#include <string.h>
#include <tgmath.h>

#include "llama_model.h"
#include "lstm.h"
#include "lstm_kernels.h"

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
