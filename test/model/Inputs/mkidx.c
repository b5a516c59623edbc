/*
 * mkidx.c - writes synthetic indexed profiles for the model tests: a server
 * whose allocations all go through one wrapper (one site, many contexts, as
 * sqlite3Malloc or xmalloc in real programs), and whose lifetimes follow the
 * role named by the allocating function:
 *
 *   scratch, tmp, parse, format, decode, token   -> class 0 (<= 10 ms)
 *   response, reply, batch, flush, send, output  -> class 1
 *   cache, entry, lru, memo, lookup, store       -> class 2
 *   session, conn, client, login, peer, socket   -> class 3
 *   config, table, registry, init, schema, global-> class 6 (never freed)
 *
 *   mkidx v1 SEED OUT   functions like session_create, called from handle_get...
 *   mkidx v2 SEED OUT   the same roles renamed (startClientSession), other
 *                       callers and wrapper, one more call level: no context
 *                       of v2 exists in v1
 *
 * SEED varies which paths run, the sample counts and a 4% lifetime noise, so two
 * seeds of one version are two runs of one program.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llama/profdata/indexed.h"
#include "llama/abi.h"

static const char *const roles[5][6] = {
    {"scratch", "tmp", "parse", "format", "decode", "token"},
    {"response", "reply", "batch", "flush", "send", "output"},
    {"cache", "entry", "lru", "memo", "lookup", "store"},
    {"session", "conn", "client", "login", "peer", "socket"},
    {"config", "table", "registry", "init", "schema", "global"},
};
static const unsigned role_class[5] = {0, 1, 2, 3, 6};
static const char *const verbs[2][4] = {{"create", "alloc", "make", "new"},
                                        {"Start", "Acquire", "Prepare", "Obtain"}};
static const char *const callers[2][5] = {
    {"handle_get", "handle_put", "worker_loop", "event_dispatch", "serve_request"},
    {"onGet", "onPut", "workerMain", "dispatchEvent", "replayJournal"}};

static uint64_t rng;
static uint64_t next(void) {
  rng += 0x9e3779b97f4a7c15ull;
  uint64_t z = rng;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static char *fmt(const char *a, const char *b, int v2) {
  char *s = malloc(128);
  if (v2) /* startClientSession-like camelCase, words reordered */
    snprintf(s, 128, "%c%s%c%s", b[0] | 0x20, b + 1, a[0] & ~0x20, a + 1);
  else
    snprintf(s, 128, "%s_%s", a, b);
  return s;
}

int main(int argc, char **argv) {
  if (argc != 4 || (strcmp(argv[1], "v1") && strcmp(argv[1], "v2"))) {
    fprintf(stderr, "usage: mkidx v1|v2 SEED OUT\n");
    return 2;
  }
  int v2 = argv[1][1] == '2';
  rng = strtoull(argv[2], NULL, 10) * 7919 + 1;
  enum { MAXC = 5 * 6 * 4 };
  static struct llama_idx_context ctx[MAXC];
  static struct llama_idx_frame frames[MAXC][6];
  uint64_t site_hist[LLAMA_HIST_SIZE] = {0}, samples = 0;
  size_t n = 0;
  for (int r = 0; r < 5; r++)
    for (int w = 0; w < 6; w++)
      for (int v = 0; v < 4; v++) {
        if (next() % 8 == 0) /* each run misses about 1/8 of the paths */
          continue;
        struct llama_idx_frame *f = frames[n];
        int k = 0;
        f[k++] = (struct llama_idx_frame){v2 ? "memAllocate" : "xmalloc", "src/util.c", 12, 10, 2, 0};
        if (v2) /* a new wrapper layer */
          f[k++] = (struct llama_idx_frame){"poolGet", "src/pool.c", 40, 7, 3, 0};
        f[k++] = (struct llama_idx_frame){fmt(roles[r][w], verbs[v2][v], v2), "src/server.c",
                                          100 + (uint32_t)n, 5, 4, 0};
        f[k++] = (struct llama_idx_frame){callers[v2][(r * 7 + w * 3 + v) % 5], "src/main.c", 50, 3, 9, 0};
        f[k++] = (struct llama_idx_frame){"main", "src/main.c", 20, 3, 6, 0};
        struct llama_idx_context *c = &ctx[n];
        c->frames = f;
        c->frame_count = (uint32_t)k;
        uint64_t id = LLAMA_HASH_INIT;
        for (int i = 0; i < k; i++)
          id = llama_hash_frame(id, f[i].function, strlen(f[i].function), f[i].line_offset,
                                f[i].column);
        c->context_id = id;
        c->site_id = 0x5151;
        c->samples = 20 + next() % 400;
        unsigned cls = role_class[r];
        for (uint64_t s = 0; s < c->samples; s++) {
          unsigned k2 = cls;
          if (next() % 100 < 4) /* noise: a neighbouring class */
            k2 = cls == 0 ? 1 : cls - 1;
          c->histogram[k2 == 6 ? LLAMA_HIST_LIVE : k2]++;
        }
        c->lifetime_class = llama_class_of_histogram(c->histogram, LLAMA_DEFAULT_QUANTILE_PPM);
        c->calls = c->samples * 100;
        c->sampled_bytes = c->samples * 64;
        c->bytes = c->calls * 64;
        for (int h = 0; h < LLAMA_HIST_SIZE; h++)
          site_hist[h] += c->histogram[h];
        samples += c->samples;
        n++;
      }
  struct llama_idx_site site = {
      .site_id = 0x5151,
      .calls = samples * 100,
      .bytes = samples * 6400,
      .samples = samples,
      .sampled_bytes = samples * 64,
      .function = v2 ? "memAllocate" : "xmalloc",
      .file = "src/util.c",
      .inlined_at = "",
      .line = 12,
      .column = 10,
      .line_offset = 2,
      .kind = LLAMA_KIND_MALLOC,
      .lifetime_class = llama_class_of_histogram(site_hist, LLAMA_DEFAULT_QUANTILE_PPM),
      .flags = LLAMA_IDX_SITE_CONTEXT_DEPENDENT,
      .contexts = ctx,
      .context_count = (uint32_t)n,
  };
  memcpy(site.histogram, site_hist, sizeof site_hist);
  /* Contexts sorted by id, as the format requires. */
  for (size_t i = 1; i < n; i++)
    for (size_t j = i; j > 0 && ctx[j - 1].context_id > ctx[j].context_id; j--) {
      struct llama_idx_context t = ctx[j];
      ctx[j] = ctx[j - 1];
      ctx[j - 1] = t;
    }
  struct llama_idx_meta meta = {.sample_period = 100, .profile_count = 1,
                                .total_samples = samples, .total_calls = samples * 100,
                                .total_bytes = samples * 6400,
                                .quantile_ppm = LLAMA_DEFAULT_QUANTILE_PPM,
                                .class_count = LLAMA_NUM_CLASSES, .tool_version = "mkidx"};
  void *out;
  size_t len;
  char err[256];
  if (llama_idx_serialize(&meta, &site, 1, &out, &len, err, sizeof err)) {
    fprintf(stderr, "mkidx: %s\n", err);
    return 1;
  }
  FILE *fp = fopen(argv[3], "wb");
  if (!fp || fwrite(out, 1, len, fp) != len || fclose(fp)) {
    perror(argv[3]);
    return 1;
  }
  printf("mkidx: %s: %zu contexts, %llu samples\n", argv[3], n, (unsigned long long)samples);
  return 0;
}
