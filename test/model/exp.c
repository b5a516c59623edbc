// The float model's exp (lstm_kernels.h's exp_f), reached through the public
// llama_lstm_softmax, which calls it on logit - max <= 0: the softmax of
// {x, 0} is {e^x, 1} / (e^x + 1) for x <= 0 and {1, e^-x} / (1 + e^-x) for
// x > 0, so the ratio of its two probabilities is e^-x either way, one exp_f
// of an argument in [-80, 0] divided out. That ratio must be within 4e-7
// (relative) of libm's double exp, about two float ulps; a wrong polynomial
// coefficient or reduction constant is off by far more (0.49 for the 0.5
// coefficient: 1e-4). Positive arguments (tanh, sigmoid of negative gates)
// take the same polynomial and exponent scaling. Also: no NaN or negative
// probability at the extremes, and probabilities of a wide spread sum to 1.
// RUN: %cc -O2 -I%model_src %s %model_src/lstm.c -lm -o %t
// RUN: %t | FileCheck %s
// CHECK: exp: {{[0-9]+}} points, max relative error {{[0-3]\.[0-9]+e-0[7-9]}}
// CHECK-NEXT: extremes: ok
// CHECK-NEXT: PASS
#include <math.h>
#include <stdio.h>

#include "lstm.h"

int main(void) {
  double worst = 0;
  int points = 0, fail = 0;
  for (double x = -80; x <= 80; x += 0.0371) {
    float logits[2] = {(float)x, 0.0f}, p[2];
    llama_lstm_softmax(logits, p, 2);
    double got = (double)p[1] / (double)p[0], want = exp(-(double)(float)x);
    double rel = fabs(got - want) / want;
    if (rel > worst) worst = rel;
    points++;
  }
  printf("exp: %d points, max relative error %.2e\n", points, worst);
  float wide[4] = {100.0f, -100.0f, 0.0f, -200.0f}, q[4];
  llama_lstm_softmax(wide, q, 4);
  double sum = 0;
  for (int i = 0; i < 4; i++) {
    if (!(q[i] >= 0)) fail = 1;
    sum += q[i];
  }
  if (fabs(sum - 1) > 1e-6 || q[0] < 0.999999f) fail = 1;
  printf("extremes: %s\n", fail ? "FAIL" : "ok");
  if (worst > 4e-7) fail = 1;
  puts(fail ? "FAIL" : "PASS");
  return fail;
}
