/*
 * bench_predict - the cost of one lifetime prediction, as the runtime's
 * dynamic path would pay it on a cache miss: encode a context (tokenise
 * every frame's linkage name, look each token up) and run the LSTM.
 *
 *   bench_predict MODEL PROFILE [SECONDS]
 *
 * Every context of PROFILE is encoded and predicted in a loop for about
 * SECONDS (default 2); reports the mean time per prediction split into
 * encoding and inference, by token length, and the contexts per second.
 * Single thread; the model is read-only, so threads scale independently.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "llama/profdata/indexed.h"
#include "llama_model.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct ctx {
  struct llama_model_frame *frames;
  uint32_t nframes;
  unsigned kind;
  size_t ntok;
};

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: bench_predict MODEL PROFILE [SECONDS]\n");
    return 2;
  }
  double seconds = argc > 3 ? atof(argv[3]) : 2.0;
  char err[512];
  void *buf;
  size_t len;
  struct llama_model m;
  if (llama_model_read_file(argv[1], &buf, &len, err, sizeof err) ||
      llama_model_open(buf, len, argv[1], &m, err, sizeof err)) {
    fprintf(stderr, "bench_predict: %s\n", err);
    return 1;
  }
  struct llama_idx *idx = llama_idx_read_file(argv[2], err, sizeof err);
  if (!idx) {
    fprintf(stderr, "bench_predict: %s\n", err);
    return 1;
  }
  size_t n = 0, cap = llama_idx_context_count(idx) + 1;
  struct ctx *cs = calloc(cap, sizeof *cs);
  uint32_t ids[LLAMA_MODEL_MAX_TOKENS];
  for (size_t si = 0; si < llama_idx_site_count(idx); si++) {
    const struct llama_idx_site *s = llama_idx_site_at(idx, si);
    for (uint32_t ci = 0; ci < s->context_count; ci++) {
      const struct llama_idx_context *c = &s->contexts[ci];
      struct ctx *x = &cs[n++];
      x->frames = calloc(c->frame_count + 1, sizeof *x->frames);
      for (uint32_t f = 0; f < c->frame_count; f++) {
        x->frames[f].function = c->frames[f].function;
        x->frames[f].file = c->frames[f].file;
        x->frames[f].inlined = (c->frames[f].flags & LLAMA_IDX_FRAME_INLINED) != 0;
      }
      x->nframes = c->frame_count;
      x->kind = s->kind;
      x->ntok = llama_model_encode(&m, x->frames, x->nframes, x->kind, ids, LLAMA_MODEL_MAX_TOKENS);
    }
  }
  if (n == 0) {
    fprintf(stderr, "bench_predict: no contexts in %s\n", argv[2]);
    return 1;
  }
  /* Encoding alone, then encoding + prediction, each for half the time. */
  volatile unsigned sink = 0;
  double t_enc = 0, t_all = 0;
  uint64_t n_enc = 0, n_all = 0, tokens = 0;
  double start = now();
  while (now() - start < seconds / 2)
    for (size_t i = 0; i < n; i++, n_enc++)
      sink += (unsigned)llama_model_encode(&m, cs[i].frames, cs[i].nframes, cs[i].kind, ids,
                                           LLAMA_MODEL_MAX_TOKENS);
  t_enc = now() - start;
  start = now();
  while (now() - start < seconds / 2)
    for (size_t i = 0; i < n; i++, n_all++) {
      size_t k = llama_model_encode(&m, cs[i].frames, cs[i].nframes, cs[i].kind, ids,
                                    LLAMA_MODEL_MAX_TOKENS);
      tokens += k;
      sink += llama_model_predict(&m, ids, k, NULL);
    }
  t_all = now() - start;
  double enc_us = t_enc / (double)n_enc * 1e6, all_us = t_all / (double)n_all * 1e6;
  printf("model: vocabulary %u, embed %u, hidden %u, layers %u\n", m.vocab_size, m.embed,
         m.hidden, m.layers);
  printf("contexts: %zu, mean tokens %.1f\n", n, (double)tokens / (double)n_all);
  printf("encode: %.2f us per context\n", enc_us);
  printf("encode + predict: %.2f us per context (%.0f per second), %.3f us per token\n", all_us,
         1e6 / all_us, (all_us - enc_us) / ((double)tokens / (double)n_all));
  (void)sink;
  return 0;
}
