/*
 * fuzz_raw_profile.c - libFuzzer target for the raw profile reader
 * (tools/profdata/raw_reader.c). Any input must either parse or produce an
 * error message naming the input; a parsed profile is walked completely so
 * that ASan sees every pointer the reader hands out.
 *
 *   build/bin/fuzz-raw-profile -max_len=4096 CORPUS_COPY tools/fuzz/corpus/raw
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llama/profdata/raw_reader.h"

static volatile size_t sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[256];
  struct llama_raw_profile *pr = llama_raw_parse(data, size, "fuzz.profraw", err, sizeof err);
  if (!pr) {
    if (strncmp(err, "fuzz.profraw: ", 14) != 0 || strlen(err) <= 14) {
      fprintf(stderr, "error without a file name or problem: '%s'\n", err);
      abort();
    }
    return 0;
  }
  size_t n = 0;
  for (size_t i = 0; i < pr->meta_count; i++)
    n += strlen(pr->meta[i].key) + strlen(pr->meta[i].value);
  for (size_t i = 0; i < pr->module_count; i++) {
    n += strlen(pr->modules[i].path);
    for (uint32_t b = 0; b < pr->modules[i].build_id_len; b++)
      n += pr->modules[i].build_id[b];
  }
  for (size_t i = 0; i < pr->site_count; i++)
    n +=
        strlen(pr->sites[i].function) + strlen(pr->sites[i].file) + strlen(pr->sites[i].inlined_at);
  for (size_t i = 0; i < pr->stack_count; i++)
    for (uint32_t d = 0; d < pr->stacks[i].depth; d++)
      n += (size_t)pr->stacks[i].pcs[d];
  for (size_t i = 0; i < pr->sample_count; i++) {
    if (pr->samples[i].stack_index == LLAMA_RAW_NO_STACK) {
      if (pr->samples[i].stack_id != 0)
        abort();
      continue;
    }
    const struct llama_raw_stack_info *st = &pr->stacks[pr->samples[i].stack_index];
    if (st->id != pr->samples[i].stack_id)
      abort();
    if (st->depth)
      n += llama_raw_find_module(pr, st->pcs[0]) != NULL;
  }
  n += llama_raw_meta_get(pr, "exe") != NULL;
  sink = n;
  llama_raw_free(pr);
  return 0;
}
