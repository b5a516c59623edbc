/*
 * lstm.c - the lifetime LSTM's forward pass (see lstm.h): what the runtime
 * links. Training (initialisation, backward, Adam) is lstm_train.c, so the
 * runtime does not reference libm's log, pow and sqrt, and libllamalloc.so
 * does not need libm. Type-generic through tgmath.h so the same source
 * builds the float model and the double copy the gradient check uses.
 */
#include "lstm.h"

#include <stdlib.h>
#include <string.h>
#include <tgmath.h>

#include "llama_model.h"
#include "lstm_kernels.h"

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

