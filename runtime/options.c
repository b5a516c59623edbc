/* options.c - the allocator's options: one table, read once from the
 * environment at initialisation. Reads `environ` directly (getenv can
 * allocate under some loaders, and this runs inside the first malloc).
 * Parsing is tolerant; a bad value keeps the default and, with
 * LLAMA_VERBOSE=1, prints a warning. See docs/runtime.md. */
#include "internal.h"

#include <string.h>

extern char **environ;

llama_options_t llama_options = {
    .stats = 0,
    .stats_interval_ms = 0,
    .verbose = 0,
    .default_bin = LLAMA_BIN_UNCLASSIFIED,
    .huge_page_cache = 16,
    .purge_delay_ms = 50,
    .deadline_slack = 2,
    .promote = 1,
    .huge_pages = 1,
    .huge_page_units = 56,
    .purge_units = 1,
    .purge_min_free_units = 16,
    .eager_huge_pages = 16,
    .recycle = 1,
    .small_bins = 1,
    .extent_min = 1024,
    .background = 1,
    .predict = 1,
    .predict_depth = 16,
    .predict_cache = 65536,
    .model_path = NULL,
};

static const char *env_lookup(const char *name) {
  if (!environ) return NULL;
  size_t len = strlen(name);
  for (char **e = environ; *e; e++) {
    if (strncmp(*e, name, len) == 0 && (*e)[len] == '=') return *e + len + 1;
  }
  return NULL;
}

/* Parses an unsigned decimal, or yes/no/on/off/true/false for flags.
 * Returns false (and leaves *out) on anything else. */
static bool parse_unsigned(const char *s, unsigned long max, unsigned *out) {
  if (!s || !*s) return false;
  if (!strcmp(s, "yes") || !strcmp(s, "on") || !strcmp(s, "true")) { *out = 1; return max >= 1; }
  if (!strcmp(s, "no") || !strcmp(s, "off") || !strcmp(s, "false")) { *out = 0; return true; }
  unsigned long v = 0;
  for (const char *c = s; *c; c++) {
    if (*c < '0' || *c > '9') return false;
    v = v * 10 + (unsigned long)(*c - '0');
    if (v > max) return false;
  }
  *out = (unsigned)v;
  return true;
}

static void option_unsigned(const char *name, unsigned long max, unsigned *field) {
  const char *value = env_lookup(name);
  if (!value) return;
  if (!parse_unsigned(value, max, field)) llama_report("ignoring bad value of", name);
}

static void option_int(const char *name, int *field) {
  unsigned v = (unsigned)*field;
  option_unsigned(name, 1, &v);
  *field = (int)v;
}

void llama_options_init(void) {
  option_int("LLAMA_VERBOSE", &llama_options.verbose); /* first: reports need it */
  option_int("LLAMA_STATS", &llama_options.stats);
  option_unsigned("LLAMA_STATS_INTERVAL_MS", 3600000, &llama_options.stats_interval_ms);
  option_int("LLAMA_PROMOTE", &llama_options.promote);
  option_int("LLAMA_HUGE_PAGES", &llama_options.huge_pages);
  option_int("LLAMA_PURGE_UNITS", &llama_options.purge_units);
  option_int("LLAMA_RECYCLE", &llama_options.recycle);
  option_int("LLAMA_SMALL_BINS", &llama_options.small_bins);
  option_unsigned("LLAMA_EXTENT_MIN", RUN_MAX, &llama_options.extent_min);
  option_int("LLAMA_BACKGROUND", &llama_options.background);
  option_unsigned("LLAMA_PURGE_MIN_FREE", UNITS_PER_HUGE_PAGE, &llama_options.purge_min_free_units);
  option_unsigned("LLAMA_EAGER_HUGE_PAGES", 1u << 20, &llama_options.eager_huge_pages);
  option_unsigned("LLAMA_HUGE_PAGE_CACHE", 4096, &llama_options.huge_page_cache);
  option_unsigned("LLAMA_HUGE_PAGE_UNITS", UNITS_PER_HUGE_PAGE, &llama_options.huge_page_units);
  option_unsigned("LLAMA_DEADLINE_SLACK", 1000, &llama_options.deadline_slack);
  option_unsigned("LLAMA_PURGE_DELAY_MS", 3600000, &llama_options.purge_delay_ms);
  if (llama_options.deadline_slack == 0) llama_options.deadline_slack = 1;
  option_int("LLAMA_PREDICT", &llama_options.predict);
  option_unsigned("LLAMA_PREDICT_DEPTH", LLAMA_PREDICT_MAX_DEPTH, &llama_options.predict_depth);
  if (llama_options.predict_depth == 0) llama_options.predict_depth = 1;
  option_unsigned("LLAMA_PREDICT_CACHE", 1u << 26, &llama_options.predict_cache);
  /* A power of two, at least 1024 entries (rounded up). */
  unsigned cache = 1024;
  while (cache < llama_options.predict_cache) cache <<= 1;
  llama_options.predict_cache = cache;
  const char *model = env_lookup("LLAMA_MODEL");
  if (model && *model) llama_options.model_path = model;
  const char *def = env_lookup("LLAMA_DEFAULT_CLASS");
  if (def) {
    unsigned k;
    if (!strcmp(def, "none") || !strcmp(def, "unclassified"))
      llama_options.default_bin = LLAMA_BIN_UNCLASSIFIED;
    else if (parse_unsigned(def, LLAMA_NUM_CLASSES - 1, &k) && *def >= '0' && *def <= '9')
      llama_options.default_bin = k;
    else
      llama_report("ignoring bad value of", "LLAMA_DEFAULT_CLASS");
  }
}
