// Finite-difference check of the LSTM's backward pass. lstm.c is compiled
// here in double precision (LLAMA_REAL=double), so central differences with
// a small step are accurate to about 1e-10 (absolute; the relative error
// has a floor of 1e-4 so that near-zero gradients do not amplify noise); a wrong term in any gate's
// gradient, the cell carry, the second layer, the embedding or the output
// layer shows up as a relative error of order 1. Also checks that inference
// and the training forward pass agree, and that unused embedding rows get no
// gradient.
// RUN: %cc -O1 -DLLAMA_REAL=double -I%model_src %s %model_src/lstm.c %model_src/lstm_train.c -lm -o %t
// RUN: %t 1 | FileCheck %s
// RUN: %t 2 | FileCheck %s
// CHECK: parameters checked: {{[1-9][0-9]*}}
// CHECK-NEXT: max relative error: {{[0-9.e+-]+}}
// CHECK-NEXT: inference matches training forward
// CHECK-NEXT: unused embedding rows untouched
// CHECK-NEXT: PASS
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lstm.h"

int main(int argc, char **argv) {
  struct llama_lstm_dims d = {6, 3, 4, (uint32_t)atoi(argv[1]), 7};
  struct llama_lstm_layout l;
  llama_lstm_layout(&d, &l);
  double *p = malloc(l.total * sizeof *p), *g = calloc(l.total, sizeof *g);
  llama_lstm_init(&d, p, 42);
  /* Make every parameter matter: random biases and a larger embedding. */
  uint64_t s = 7;
  for (uint64_t i = 0; i < l.total; i++) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    p[i] += ((double)(s >> 11) * 0x1p-53 - 0.5) * 0.6;
  }
  const uint32_t ids[] = {2, 4, 2, 5, 1, 3};
  size_t n = sizeof ids / sizeof *ids;
  unsigned label = 3;
  double weight = 0.7;
  struct llama_lstm_work *w = llama_lstm_work_new(&d, n);
  double probs[7];
  llama_lstm_example(&d, p, ids, n, label, weight, g, w, probs);

  double worst = 0;
  uint64_t checked = 0;
  for (uint64_t i = 0; i < l.total; i++) {
    const double h = 1e-6;
    double keep = p[i], scratch[7];
    double *dummy = calloc(l.total, sizeof *dummy);
    p[i] = keep + h;
    double up = llama_lstm_example(&d, p, ids, n, label, weight, dummy, w, scratch);
    p[i] = keep - h;
    double down = llama_lstm_example(&d, p, ids, n, label, weight, dummy, w, scratch);
    p[i] = keep;
    free(dummy);
    double num = (up - down) / (2 * h), err = fabs(num - g[i]) / fmax(1e-4, fabs(num) + fabs(g[i]));
    if (err > worst)
      worst = err;
    if (err > 1e-5)
      printf("parameter %llu: analytic %.10g numeric %.10g\n", (unsigned long long)i, g[i], num);
    checked++;
  }
  printf("parameters checked: %llu\nmax relative error: %.3g\n", (unsigned long long)checked, worst);

  double logits[7], p2[7];
  llama_lstm_infer(&d, p, ids, n, logits);
  llama_lstm_softmax(logits, p2, 7);
  int same = 1;
  for (int k = 0; k < 7; k++)
    same &= fabs(p2[k] - probs[k]) < 1e-12;
  printf(same ? "inference matches training forward\n" : "inference DIFFERS from training\n");

  int untouched = 1; /* token 0 never appears */
  for (uint32_t e = 0; e < d.embed; e++)
    untouched &= g[l.emb + e] == 0;
  printf(untouched ? "unused embedding rows untouched\n" : "unused embedding row has gradient\n");
  if (worst < 1e-5 && same && untouched)
    printf("PASS\n");
  llama_lstm_work_free(w);
  free(p);
  free(g);
  return 0;
}
