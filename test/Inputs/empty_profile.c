/*
 * empty_profile.c - writes a valid indexed profile with no sites to argv[1]:
 * the smallest profile llama-config --use= and llama-clang accept (they read
 * the profile in full). lit.cfg.py makes one at start-up for %use_cflags.
 */
#include <stdio.h>
#include <stdlib.h>

#include "llama/profdata/indexed.h"

int main(int argc, char **argv) {
  struct llama_idx_meta meta = {.quantile_ppm = LLAMA_DEFAULT_QUANTILE_PPM,
                                .class_count = LLAMA_NUM_CLASSES,
                                .tool_version = "empty_profile"};
  void *buf;
  size_t len;
  char err[256];
  if (argc != 2) {
    fprintf(stderr, "usage: empty_profile OUTPUT\n");
    return 1;
  }
  if (llama_idx_serialize(&meta, NULL, 0, &buf, &len, err, sizeof err)) {
    fprintf(stderr, "empty_profile: %s\n", err);
    return 1;
  }
  FILE *f = fopen(argv[1], "wb");
  if (!f || fwrite(buf, 1, len, f) != len || fclose(f)) {
    perror(argv[1]);
    return 1;
  }
  free(buf);
  return 0;
}
