/*
 * mkprof - writes an indexed profile (.llamaprof) from a text description,
 * so use-build tests can state exactly which sites and contexts a profile
 * holds. Usage: mkprof IN.txt OUT.llamaprof. Lines:
 *
 *   site KIND FRAME[;FRAME...]        a site: its kind (malloc, calloc, new...)
 *                                     and inline chain, innermost first
 *   external KIND                     the external pseudo-site of KIND
 *                                     (allocations by code the pass did not
 *                                     rewrite); its contexts give all frames
 *   ctx CLASS COUNT [FRAME...]        a context of the last site: COUNT
 *                                     allocations of lifetime CLASS (0..6),
 *                                     its callers innermost first
 *   # ...                             comment
 *
 * FRAME is FUNCTION:LINE_OFFSET:COLUMN, as the pass hashes it; a FUNCTION
 * starting with '?' makes an unsymbolised frame, with '!' a frame without a
 * source position (a library function). Ids are
 * computed the way the pass and llama-profdata compute them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llama/profdata/indexed.h"
#include "llama/abi.h"

#define MAX_SITES 64
#define MAX_CTX 64
#define MAX_FRAMES 16

struct site {
  struct llama_idx_site s;
  struct llama_idx_context ctx[MAX_CTX];
  struct llama_idx_frame frames[MAX_CTX][MAX_FRAMES];
  struct llama_idx_frame own[MAX_FRAMES];
  uint32_t own_count;
};

static struct site sites[MAX_SITES];
static size_t nsites;

static uint32_t parse_frames(char *text, struct llama_idx_frame *out, uint32_t max,
                             const char *sep) {
  uint32_t n = 0;
  for (char *tok = strtok(text, sep); tok && n < max; tok = strtok(NULL, sep)) {
    char *c1 = strchr(tok, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2) {
      fprintf(stderr, "mkprof: bad frame '%s' (FUNCTION:LINE_OFFSET:COLUMN)\n", tok);
      exit(2);
    }
    *c1 = *c2 = 0;
    int unsym = tok[0] == '?'; /* "?prog+0x10": an unsymbolised frame */
    int noline = tok[0] == '!'; /* "!f": symbolised, no source position (a library) */
    const char *name = tok + (unsym || noline);
    out[n++] = (struct llama_idx_frame){strdup(name), noline ? "" : "t.c",
                                        noline ? 0 : (uint32_t)atoi(c1 + 1) + 10,
                                        (uint32_t)atoi(c2 + 1), (uint32_t)atoi(c1 + 1),
                                        unsym ? LLAMA_IDX_FRAME_UNSYMBOLIZED : 0};
  }
  return n;
}

static unsigned kind_of(const char *name) {
  for (unsigned k = 0; k < 64; k++) {
    const char *n = llama_alloc_kind_name(k);
    if (n && !strcmp(n, name)) return k;
  }
  fprintf(stderr, "mkprof: unknown kind '%s'\n", name);
  exit(2);
}

static uint64_t hash_frames(const struct llama_idx_frame *f, uint32_t n) {
  uint64_t h = LLAMA_HASH_INIT;
  for (uint32_t i = 0; i < n; i++)
    h = llama_hash_frame(h, f[i].function, strlen(f[i].function), f[i].line_offset, f[i].column);
  return h;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: mkprof IN.txt OUT.llamaprof\n");
    return 2;
  }
  FILE *in = fopen(argv[1], "r");
  if (!in) { perror(argv[1]); return 1; }
  char line[4096];
  uint64_t total = 0;
  while (fgets(line, sizeof line, in)) {
    line[strcspn(line, "\n")] = 0;
    char *kw = strtok(line, " ");
    if (!kw || kw[0] == '#') continue;
    if (!strcmp(kw, "site")) {
      struct site *s = &sites[nsites++];
      char *kind = strtok(NULL, " "), *frames = strtok(NULL, " ");
      s->own_count = parse_frames(frames, s->own, MAX_FRAMES, ";");
      s->s.site_id = hash_frames(s->own, s->own_count);
      s->s.kind = (uint16_t)kind_of(kind);
      s->s.function = s->own[0].function;
      s->s.file = "t.c";
      s->s.line = s->own[0].line;
      s->s.column = s->own[0].column;
      s->s.line_offset = s->own[0].line_offset;
      s->s.inlined_at = "";
      s->s.contexts = s->ctx;
    } else if (!strcmp(kw, "external")) {
      struct site *s = &sites[nsites++];
      s->s.kind = (uint16_t)kind_of(strtok(NULL, " "));
      s->s.site_id = llama_external_site_id(s->s.kind);
      s->s.site_flags = LLAMA_SITE_EXTERNAL;
      s->s.function = LLAMA_EXTERNAL_FUNCTION;
      s->s.file = "";
      s->s.inlined_at = "";
      s->s.contexts = s->ctx;
    } else if (!strcmp(kw, "ctx") && nsites) {
      struct site *s = &sites[nsites - 1];
      struct llama_idx_context *c = &s->ctx[s->s.context_count];
      struct llama_idx_frame *f = s->frames[s->s.context_count++];
      unsigned cls = (unsigned)atoi(strtok(NULL, " "));
      uint64_t count = strtoull(strtok(NULL, " "), NULL, 10);
      memcpy(f, s->own, s->own_count * sizeof *f);
      uint32_t n = s->own_count;
      char *rest = strtok(NULL, "");
      if (rest) n += parse_frames(rest, f + n, MAX_FRAMES - n, " ");
      c->frames = f;
      c->frame_count = n;
      c->context_id = hash_frames(f, n);
      c->site_id = s->s.site_id;
      c->samples = c->calls = count;
      c->bytes = c->sampled_bytes = count * 32;
      c->histogram[cls == 6 ? LLAMA_HIST_LIVE : cls] = count;
      c->lifetime_class = cls;
      for (int h = 0; h < LLAMA_HIST_SIZE; h++) s->s.histogram[h] += c->histogram[h];
      s->s.calls += count;
      s->s.samples += count;
      s->s.bytes = s->s.sampled_bytes = s->s.calls * 32;
      if (c->lifetime_class != s->ctx[0].lifetime_class)
        s->s.flags |= LLAMA_IDX_SITE_CONTEXT_DEPENDENT;
      total += count;
    } else {
      fprintf(stderr, "mkprof: bad line starting with '%s'\n", kw);
      return 2;
    }
  }
  struct llama_idx_site out_sites[MAX_SITES];
  for (size_t i = 0; i < nsites; i++) {
    struct site *s = &sites[i];
    s->s.lifetime_class = llama_class_of_histogram(s->s.histogram, LLAMA_DEFAULT_QUANTILE_PPM);
    for (size_t a = 1; a < s->s.context_count; a++) /* contexts sorted by id */
      for (size_t b = a; b > 0 && s->ctx[b - 1].context_id > s->ctx[b].context_id; b--) {
        struct llama_idx_context t = s->ctx[b];
        s->ctx[b] = s->ctx[b - 1];
        s->ctx[b - 1] = t;
      }
    out_sites[i] = s->s;
  }
  struct llama_idx_meta meta = {.sample_period = 1, .profile_count = 1, .total_samples = total,
                                .total_calls = total, .total_bytes = total * 32,
                                .quantile_ppm = LLAMA_DEFAULT_QUANTILE_PPM,
                                .class_count = LLAMA_NUM_CLASSES, .tool_version = "mkprof"};
  void *buf;
  size_t len;
  char err[256];
  if (llama_idx_serialize(&meta, out_sites, nsites, &buf, &len, err, sizeof err)) {
    fprintf(stderr, "mkprof: %s\n", err);
    return 1;
  }
  FILE *fp = fopen(argv[2], "wb");
  if (!fp || fwrite(buf, 1, len, fp) != len || fclose(fp)) { perror(argv[2]); return 1; }
  return 0;
}
