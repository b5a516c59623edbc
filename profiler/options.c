/* options.c - the profiler's options: one table, read once from the
 * environment when the profiler initialises. Reads `environ` directly
 * (this can run inside a module constructor or the first sampled
 * allocation). Parsing is tolerant: a bad value keeps the default and prints
 * one warning. docs/profile-format.md lists the variables. */
#include "internal.h"

#include <string.h>
#include <unistd.h>

extern char **environ;

llama_prof_options_t llama_prof_options = {
    .sample_period = LLAMA_PROF_DEFAULT_SAMPLE,
    .depth = LLAMA_PROF_DEFAULT_DEPTH,
    .unwinder = LLAMA_PROF_UNWIND_FP,
    .verbose = 0,
    .max_samples = LLAMA_PROF_DEFAULT_MAX_SAMPLES,
    .file = LLAMA_PROF_DEFAULT_FILE,
    .external = 1,
};

static const char *env_lookup(const char *name) {
  if (!environ) return NULL;
  size_t len = strlen(name);
  for (char **e = environ; *e; e++) {
    if (strncmp(*e, name, len) == 0 && (*e)[len] == '=') return *e + len + 1;
  }
  return NULL;
}

/* Parses an unsigned decimal in [min, max], or yes/no/on/off/true/false.
 * Returns 0 (and leaves *out) on anything else. */
static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out) {
  if (!s || !*s) return 0;
  uint64_t v = 0;
  if (!strcmp(s, "yes") || !strcmp(s, "on") || !strcmp(s, "true")) {
    v = 1;
  } else if (!strcmp(s, "no") || !strcmp(s, "off") || !strcmp(s, "false")) {
    v = 0;
  } else {
    for (const char *c = s; *c; c++) {
      if (*c < '0' || *c > '9') return 0;
      if (v > (UINT64_MAX - 9) / 10) return 0;
      v = v * 10 + (uint64_t)(*c - '0');
    }
  }
  if (v < min || v > max) return 0;
  *out = v;
  return 1;
}

static void option_u64(const char *name, uint64_t min, uint64_t max, uint64_t *field) {
  const char *value = env_lookup(name);
  if (value && !parse_u64(value, min, max, field))
    llama_prof_report("ignoring bad value of", name, 0);
}

static void option_u32(const char *name, uint64_t min, uint64_t max, uint32_t *field) {
  uint64_t v = *field;
  option_u64(name, min, max, &v);
  *field = (uint32_t)v;
}

void llama_prof_options_read(void) {
  llama_prof_options_t *o = &llama_prof_options;
  option_u64("LLAMA_PROF_SAMPLE", 0, (uint64_t)1 << 40, &o->sample_period);
  option_u32("LLAMA_PROF_DEPTH", 1, LLAMA_PROF_MAX_DEPTH, &o->depth);
  option_u32("LLAMA_PROF_VERBOSE", 0, 1, &o->verbose);
  option_u64("LLAMA_PROF_MAX_SAMPLES", 0, LLAMA_PROF_LIMIT_MAX_SAMPLES, &o->max_samples);
  option_u32("LLAMA_PROF_EXTERNAL", 0, 1, &o->external);
  const char *unwind = env_lookup("LLAMA_PROF_UNWIND");
  if (unwind) {
    if (!strcmp(unwind, "libunwind"))
      o->unwinder = LLAMA_PROF_UNWIND_LIBUNWIND;
    else if (!strcmp(unwind, "fp") || !strcmp(unwind, "frame-pointer") || !*unwind)
      o->unwinder = LLAMA_PROF_UNWIND_FP;
    else
      llama_prof_report("ignoring bad value of", "LLAMA_PROF_UNWIND", 0);
  }
  /* Copied (the program may change its environment before the dump), and
   * made absolute: the profile goes to the directory the program started
   * in even if it changes directory before exiting. */
  static char file[4096];
  const char *value = env_lookup("LLAMA_PROF_FILE");
  const char *pattern = value && *value ? value : LLAMA_PROF_DEFAULT_FILE;
  llama_prof_str_t s = {file, 0, sizeof file};
  if (pattern[0] != '/' && getcwd(file, sizeof file - 1)) {
    s.len = strlen(file);
    if (s.len && file[s.len - 1] != '/') llama_prof_str_add(&s, "/");
  }
  llama_prof_str_add(&s, pattern);
  if (s.len < sizeof file - 1)
    o->file = file;
  else
    llama_prof_report("ignoring bad value of", "LLAMA_PROF_FILE (too long)", 0);
}
