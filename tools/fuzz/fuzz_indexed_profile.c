/*
 * fuzz_indexed_profile.c - libFuzzer target for the indexed profile reader
 * (tools/profdata/indexed.c). Any input must either parse or produce an
 * error naming the input. A parsed profile is walked completely, looked up
 * through the API, serialised again, and the result must parse and serialise
 * to the same bytes (writer and reader agree on every field).
 *
 *   build/bin/fuzz-indexed-profile -max_len=4096 CORPUS_COPY tools/fuzz/corpus/indexed
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llama/profdata/indexed.h"

static volatile size_t sink;

static void fail(const char *what, const char *err) {
  fprintf(stderr, "%s: %s\n", what, err);
  abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[256];
  struct llama_idx *idx = llama_idx_parse(data, size, "fuzz.llamaprof", err, sizeof err);
  if (!idx) {
    if (strncmp(err, "fuzz.llamaprof: ", 16) != 0 || strlen(err) <= 16)
      fail("error without a file name or problem", err);
    return 0;
  }
  size_t n = strlen(llama_idx_get_meta(idx)->tool_version);
  size_t sites = llama_idx_site_count(idx);
  for (size_t i = 0; i < sites; i++) {
    const struct llama_idx_site *s = llama_idx_site_at(idx, i);
    n += strlen(s->function) + strlen(s->file) + strlen(s->inlined_at);
    if (llama_idx_find_site(idx, s->site_id) != s)
      fail("find_site", "did not find a listed site");
    n += llama_class_of_histogram(s->histogram, llama_idx_get_meta(idx)->quantile_ppm);
    for (uint32_t c = 0; c < s->context_count; c++) {
      const struct llama_idx_context *cx = &s->contexts[c];
      if (llama_idx_find_context(idx, s->site_id, cx->context_id) != cx)
        fail("find_context", "did not find a listed context");
      for (uint32_t f = 0; f < cx->frame_count; f++)
        n += strlen(cx->frames[f].function) + strlen(cx->frames[f].file);
    }
  }
  sink = n;

  void *first, *second;
  size_t first_len, second_len;
  if (llama_idx_serialize(llama_idx_get_meta(idx), sites ? llama_idx_site_at(idx, 0) : NULL, sites,
                          &first, &first_len, err, sizeof err))
    fail("serialize", err);
  llama_idx_free(idx);
  idx = llama_idx_parse(first, first_len, "fuzz.llamaprof", err, sizeof err);
  if (!idx)
    fail("re-parse of a serialised profile", err);
  sites = llama_idx_site_count(idx);
  if (llama_idx_serialize(llama_idx_get_meta(idx), sites ? llama_idx_site_at(idx, 0) : NULL, sites,
                          &second, &second_len, err, sizeof err))
    fail("second serialize", err);
  if (first_len != second_len || memcmp(first, second, first_len) != 0)
    fail("round trip", "serialise(parse(x)) is not stable");
  free(first);
  free(second);
  llama_idx_free(idx);
  return 0;
}
