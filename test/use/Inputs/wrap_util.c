/* An allocation wrapper in its own translation unit, like xmalloc in GNU
 * programs: its one malloc serves callers with very different lifetimes. */
#include <stdlib.h>
#include <string.h>

void *xmalloc(size_t n) {
  void *p = malloc(n);
  if (!p) abort();
  return p;
}

char *xstrdup(const char *s) {
  size_t n = strlen(s) + 1;
  return memcpy(xmalloc(n), s, n);
}
