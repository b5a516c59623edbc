/*
 * fuzz_model_file.c - libFuzzer target for the model file reader
 * (model/model.c). Built with FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, which
 * skips only the checksum comparison so that mutations reach the structural
 * checks behind it. Any input must either open or fail with an error naming
 * the input. An opened model is used the way the runtime uses it (encode
 * contexts, predict, look up contexts, read every token string), then
 * serialised again: the copy must open and hold the same weights.
 *
 *   build/bin/fuzz-model-file -max_len=4096 CORPUS_COPY tools/fuzz/corpus/model
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llama_model.h"

static volatile unsigned sink;

static void fail(const char *what, const char *err) {
  fprintf(stderr, "%s: %s\n", what, err);
  abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[256];
  /* The reader wants an 8-byte aligned buffer, as from mmap or malloc. */
  void *buf = malloc(size ? size : 1);
  memcpy(buf, data, size);
  struct llama_model m;
  if (llama_model_open(buf, size, "fuzz.llamamodel", &m, err, sizeof err)) {
    if (strncmp(err, "fuzz.llamamodel: ", 17) != 0 || strlen(err) <= 17)
      fail("error without a file name or problem", err);
    free(buf);
    return 0;
  }
  static const struct llama_model_frame frames[] = {
      {"at_once", "a.c", 0, 3},
      {"_ZN5cache10EntryTableC2Em", "", 1, 12},
      {"libc.so.6+0x1f0", NULL, 0, 0},
      {"main", "main.c", 0, 4000000000u},
  };
  uint32_t ids[LLAMA_MODEL_MAX_TOKENS];
  float probs[LLAMA_NUM_CLASSES];
  for (unsigned kind = 0; kind < 3; kind++) {
    size_t n = llama_model_encode(&m, frames, 4 - kind, kind * 11, ids, LLAMA_MODEL_MAX_TOKENS);
    for (size_t i = 0; i < n; i++)
      if (ids[i] >= m.vocab_size)
        fail("encode", "token id out of range");
    sink += llama_model_predict(&m, ids, n, probs);
  }
  sink += (unsigned)llama_model_lookup_context(&m, 0x1234);

  /* Round trip. */
  const char **tokens = calloc(m.vocab_size, sizeof *tokens);
  const char *s = m.token_strings;
  for (uint32_t id = 0; id < m.vocab_size; id++) {
    tokens[id] = s;
    s += strlen(s) + 1;
  }
  struct llama_model_desc d = {m.features,      m.embed,      m.hidden,        m.layers,
                               m.max_tokens,    m.default_class, m.longest_class, m.vocab_size,
                               tokens,          m.params,     m.ctx_id,        m.ctx_class,
                               m.ctx_count,     m.meta};
  void *out;
  size_t out_len;
  if (llama_model_serialize(&d, &out, &out_len, err, sizeof err))
    fail("serialize of an opened model", err);
  struct llama_model m2;
  if (llama_model_open(out, out_len, "copy", &m2, err, sizeof err))
    fail("reopen", err);
  if (m2.param_count != m.param_count ||
      memcmp(m2.params, m.params, m.param_count * sizeof(float)) != 0 ||
      m2.vocab_size != m.vocab_size || m2.ctx_count != m.ctx_count)
    fail("round trip", "model changed");
  free(out);
  free(tokens);
  free(buf);
  return 0;
}
