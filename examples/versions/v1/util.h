/* util.h - allocation helpers, PRNG and pacing clock of the webapp example
 * (the same in both versions). */
#ifndef WEBAPP_UTIL_H
#define WEBAPP_UTIL_H

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void xfree(void *p);
void fatal(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

struct rng {
  uint64_t state;
};
void rng_init(struct rng *r, uint64_t seed, uint64_t stream);
uint32_t rng_below(struct rng *r, uint32_t n);
uint32_t rng_between(struct rng *r, uint32_t lo, uint32_t hi);

void pacing_start(void);
void pacing_wait_until(uint64_t logical_ms);
double pacing_elapsed(void);

#endif
