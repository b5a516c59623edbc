/* Input for test/runtime/preload_clang.test: a C file with enough headers,
 * macros and optimisable code to make clang allocate a lot at -O2. */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node {
  struct node *left, *right;
  uint64_t key;
  double weight;
  char name[24];
};

static struct node *insert(struct node *t, uint64_t key, double w) {
  if (!t) {
    t = calloc(1, sizeof *t);
    if (!t) abort();
    t->key = key;
    t->weight = w;
    snprintf(t->name, sizeof t->name, "n%llu", (unsigned long long)key);
    return t;
  }
  if (key < t->key)
    t->left = insert(t->left, key, w);
  else
    t->right = insert(t->right, key, w);
  return t;
}

static double walk(const struct node *t, int depth) {
  if (!t) return 0.0;
  return t->weight * depth + walk(t->left, depth + 1) + walk(t->right, depth + 1);
}

#define KERNEL(NAME, OP)                                                     \
  void NAME(float *restrict out, const float *restrict a,                    \
            const float *restrict b, int n) {                                \
    for (int i = 0; i < n; i++) out[i] = a[i] OP b[i];                      \
  }                                                                          \
  double NAME##_sum(const float *a, int n) {                                 \
    double s = 0;                                                            \
    for (int i = 0; i < n; i++) s += a[i] OP 2.0f;                          \
    return s;                                                                \
  }
KERNEL(vadd, +)
KERNEL(vsub, -)
KERNEL(vmul, *)
KERNEL(vdiv, /)

#define STATE_MACHINE(N)                                                     \
  int machine##N(const char *s) {                                            \
    int state = 0, count = 0;                                                \
    for (; *s; s++) {                                                        \
      switch (state) {                                                       \
      case 0: state = isdigit((unsigned char)*s) ? 1 : isalpha((unsigned char)*s) ? 2 : 0; break; \
      case 1: if (!isdigit((unsigned char)*s)) { count += N; state = 0; } break; \
      case 2: if (!isalnum((unsigned char)*s)) { count += 2 * N; state = 0; } break; \
      }                                                                      \
    }                                                                        \
    return count + state;                                                    \
  }
STATE_MACHINE(1) STATE_MACHINE(2) STATE_MACHINE(3) STATE_MACHINE(4)
STATE_MACHINE(5) STATE_MACHINE(6) STATE_MACHINE(7) STATE_MACHINE(8)
STATE_MACHINE(9) STATE_MACHINE(10) STATE_MACHINE(11) STATE_MACHINE(12)

uint64_t hash_bytes(const unsigned char *p, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  return h;
}

void matmul(int n, double a[n][n], double b[n][n], double c[n][n]) {
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) {
      double s = 0;
      for (int k = 0; k < n; k++) s += a[i][k] * b[k][j];
      c[i][j] = s;
    }
}

static int cmp_u64(const void *x, const void *y) {
  uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
  return (a > b) - (a < b);
}

int main(int argc, char **argv) {
  struct node *root = NULL;
  uint64_t keys[1000];
  for (int i = 0; i < 1000; i++) {
    keys[i] = hash_bytes((const unsigned char *)&i, sizeof i) % 100003;
    root = insert(root, keys[i], sqrt((double)i));
  }
  qsort(keys, 1000, sizeof keys[0], cmp_u64);
  float a[256], b[256], o[256];
  for (int i = 0; i < 256; i++) {
    a[i] = (float)i;
    b[i] = (float)(i + 1);
  }
  vadd(o, a, b, 256);
  vmul(o, o, b, 256);
  double m[8][8], n2[8][8], r[8][8];
  for (int i = 0; i < 8; i++)
    for (int j = 0; j < 8; j++) m[i][j] = n2[j][i] = i * 8 + j;
  matmul(8, m, n2, r);
  int total = 0;
  for (int i = 1; i < argc; i++)
    total += machine1(argv[i]) + machine7(argv[i]) + machine12(argv[i]);
  printf("%f %f %f %d %llu\n", walk(root, 0), vadd_sum(o, 256) + vdiv_sum(a, 256),
         r[3][4], total, (unsigned long long)keys[500]);
  return 0;
}
