/* pool.h - v2's object-pool layer: a wrapper over xmalloc that keeps
 * per-process allocation statistics (new in v2). */
#ifndef WEBAPP_POOL_H
#define WEBAPP_POOL_H

#include <stddef.h>
#include <stdint.h>

void *pool_alloc(size_t n);
char *pool_strndup(const char *s, size_t n);
void pool_free(void *p);
uint64_t pool_objects_live(void);

#endif
