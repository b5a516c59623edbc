// A user's program for test/config/install.test, built against an installed
// prefix: the profiling build includes llamaprof.h and writes a profile on
// request, the use build includes llamalloc.h and calls into libllamalloc.
#include <stdio.h>
#include <stdlib.h>
#ifdef USE_BUILD
#include <llamalloc.h>
#else
#include <llamaprof.h>
#endif

int main(int argc, char **argv) {
  long sum = 0;
  for (int i = 0; i < 1000; i++) {
    int *p = malloc(sizeof *p);
    *p = i;
    sum += *p;
    free(p);
  }
  printf("sum %ld\n", sum);
#ifdef USE_BUILD
  printf("class 1 ends after %llu ns\n", (unsigned long long)llama_class_bound_ns(1));
#else
  if (argc > 1 && llama_prof_dump(argv[1]) != 0) return 1;
  printf("dumped\n");
#endif
  return 0;
}
