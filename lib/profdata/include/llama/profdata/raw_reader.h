/*
 * raw_reader.h - parses a raw profile (include/llama/raw_profile.h) from a memory
 * buffer into plain arrays. Every length, count and offset in the input is
 * bounds-checked, every sample's stack id is resolved, and any inconsistency
 * is reported as one error string naming the file and the problem; the parser
 * never reads outside the buffer and never trusts an alignment. No
 * dependencies beyond libc: part of the llama_profdata library.
 */
#ifndef LLAMA_RAW_READER_H
#define LLAMA_RAW_READER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One key/value pair of the META section. */
struct llama_raw_meta_info {
  const char *key;
  const char *value;
};

/* One loaded module (MODULES): runtime pc in [start, end) belongs to it and
 * has ELF virtual address pc - load_bias. */
struct llama_raw_module_info {
  uint64_t load_bias;
  uint64_t start;
  uint64_t end;
  const unsigned char *build_id; /* build_id_len bytes, NULL if none */
  uint32_t build_id_len;
  const char *path; /* NUL-terminated copy */
};

/* One allocation or deallocation site (SITES). Strings are NUL-terminated. */
struct llama_raw_site_info {
  uint64_t id;
  uint64_t count; /* calls through the site (all, not just sampled) */
  uint64_t bytes; /* bytes requested through the site */
  uint32_t line;
  uint32_t column;
  uint32_t line_offset;
  uint16_t kind;  /* enum llama_alloc_kind */
  uint16_t flags; /* LLAMA_SITE_* */
  const char *function;
  const char *file;
  const char *inlined_at;
};

/* One captured call stack (STACKS); pcs[0] is the return address into the
 * function that holds the allocation site. */
struct llama_raw_stack_info {
  uint32_t id;
  uint32_t depth;
  const uint64_t *pcs; /* depth entries (NULL if depth is 0) */
};

/* One sampled allocation (SAMPLES), with its stack resolved. */
struct llama_raw_sample_info {
  uint64_t site_id;
  uint64_t size;
  uint64_t alloc_ns;
  uint64_t free_ns; /* LLAMA_RAW_NOT_FREED if live */
  uint64_t free_site_id;
  uint32_t stack_id;
  uint32_t stack_index; /* index into llama_raw_profile.stacks, or
                           LLAMA_RAW_NO_STACK (stack_id 0 and no stack 0:
                           the profiler could not record the stack) */
  uint32_t alloc_tid;
  uint32_t free_tid;
  uint32_t flags; /* LLAMA_RAW_S_* */
};

#define LLAMA_RAW_NO_STACK UINT32_MAX

struct llama_raw_profile {
  /* header */
  uint32_t version;
  uint64_t pid;
  uint64_t start_ns;
  uint64_t end_ns;
  uint64_t sample_period;
  uint32_t flags; /* LLAMA_RAW_F_* */
  uint32_t section_count;
  uint32_t unknown_sections; /* skipped sections of kinds this reader does not know */

  struct llama_raw_meta_info *meta;
  size_t meta_count;
  struct llama_raw_module_info *modules;
  size_t module_count;
  struct llama_raw_site_info *sites;
  size_t site_count;
  struct llama_raw_stack_info *stacks;
  size_t stack_count;
  struct llama_raw_sample_info *samples;
  size_t sample_count;

  struct llama_raw_arena *arena; /* owns every string and array above */
};

/*
 * Parses the raw profile in buf[0, len). `name` (the file name) prefixes
 * error messages. Does not keep a reference to buf: the caller may free it
 * afterwards. Returns a profile to release with llama_raw_free, or NULL with
 * a message "NAME: problem" in err (errlen bytes, always NUL-terminated when
 * errlen > 0) on malformed input or out of memory.
 */
struct llama_raw_profile *llama_raw_parse(const void *buf, size_t len, const char *name, char *err,
                                          size_t errlen);

/* Releases a profile from llama_raw_parse. NULL is a no-op. */
void llama_raw_free(struct llama_raw_profile *profile);

/* The META value for `key`, or NULL. */
const char *llama_raw_meta_get(const struct llama_raw_profile *profile, const char *key);

/* The module whose [start, end) holds pc, or NULL. */
const struct llama_raw_module_info *llama_raw_find_module(const struct llama_raw_profile *profile,
                                                          uint64_t pc);

/* 1 if buf starts with the raw profile magic. */
int llama_raw_has_magic(const void *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* LLAMA_RAW_READER_H */
