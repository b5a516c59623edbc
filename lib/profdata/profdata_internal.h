/*
 * profdata_internal.h - helpers shared by the readers and the writer of the
 * llama_profdata library: little-endian loads and stores that never assume
 * alignment, and the error formatter every parse error goes through. Not part
 * of the library's API.
 */
#ifndef LLAMA_PROFDATA_INTERNAL_H
#define LLAMA_PROFDATA_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

static inline uint16_t llama_ld16(const unsigned char *p) {
  return (uint16_t)(p[0] | (unsigned)p[1] << 8);
}

static inline uint32_t llama_ld32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t llama_ld64(const unsigned char *p) {
  return (uint64_t)llama_ld32(p) | (uint64_t)llama_ld32(p + 4) << 32;
}

static inline void llama_st16(unsigned char *p, uint16_t v) {
  p[0] = (unsigned char)v;
  p[1] = (unsigned char)(v >> 8);
}

static inline void llama_st32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (unsigned char)(v >> (8 * i));
}

static inline void llama_st64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++)
    p[i] = (unsigned char)(v >> (8 * i));
}

/* Writes "NAME: message" into err (if errlen > 0). Always returns -1 so
 * callers can `return llama_errorf(...)`. */
__attribute__((format(printf, 4, 5))) static inline int
llama_errorf(char *err, size_t errlen, const char *name, const char *fmt, ...) {
  if (!err || errlen == 0)
    return -1;
  int n = snprintf(err, errlen, "%s: ", name ? name : "<input>");
  if (n < 0 || (size_t)n >= errlen)
    return -1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
  va_end(ap);
  return -1;
}

#endif /* LLAMA_PROFDATA_INTERNAL_H */
