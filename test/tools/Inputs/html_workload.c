/* html_workload.c - a profile with every kind of site show --html explains:
 * a wrapper whose contexts disagree (temporaries freed at once, configs kept
 * until exit; 14 contexts), sites whose one context agrees, free sites, the
 * C library's own allocations (an external pseudo-site), and 60 more sites
 * called once (more than the page lists by default). */
#include <stdio.h>
#include <stdlib.h>

void *volatile sink;

__attribute__((noinline)) void *xmalloc(size_t n) {
  void *p = malloc(n);
  if (!p)
    abort();
  return p;
}

__attribute__((noinline)) char *make_temp(int i) {
  char *p = xmalloc(16);
  snprintf(p, 16, "t%d", i);
  return p;
}

__attribute__((noinline)) char *make_config(int i) {
  char *p = xmalloc(64);
  snprintf(p, 64, "config <%d> & \"more\"", i);
  return p;
}

/* Twelve more callers of xmalloc: twelve more contexts. */
#define CALLER(n) \
  __attribute__((noinline)) void caller##n(void) { free(xmalloc(8)); }
CALLER(0) CALLER(1) CALLER(2) CALLER(3) CALLER(4) CALLER(5)
CALLER(6) CALLER(7) CALLER(8) CALLER(9) CALLER(10) CALLER(11)

/* Sixty sites: one per macro use (a site is a source position). */
#define ONCE(n) sink = malloc(n), free(sink);
__attribute__((noinline)) void many_sites(void) {
  ONCE(1) ONCE(2) ONCE(3) ONCE(4) ONCE(5) ONCE(6) ONCE(7) ONCE(8) ONCE(9) ONCE(10)
  ONCE(11) ONCE(12) ONCE(13) ONCE(14) ONCE(15) ONCE(16) ONCE(17) ONCE(18) ONCE(19) ONCE(20)
  ONCE(21) ONCE(22) ONCE(23) ONCE(24) ONCE(25) ONCE(26) ONCE(27) ONCE(28) ONCE(29) ONCE(30)
  ONCE(31) ONCE(32) ONCE(33) ONCE(34) ONCE(35) ONCE(36) ONCE(37) ONCE(38) ONCE(39) ONCE(40)
  ONCE(41) ONCE(42) ONCE(43) ONCE(44) ONCE(45) ONCE(46) ONCE(47) ONCE(48) ONCE(49) ONCE(50)
  ONCE(51) ONCE(52) ONCE(53) ONCE(54) ONCE(55) ONCE(56) ONCE(57) ONCE(58) ONCE(59) ONCE(60)
}

int main(void) {
  caller0(), caller1(), caller2(), caller3(), caller4(), caller5();
  caller6(), caller7(), caller8(), caller9(), caller10(), caller11();
  many_sites();
  static char *configs[200];
  static int *counters[100];
  for (int i = 0; i < 2000; i++) {
    char *t = make_temp(i);
    sink = t;
    free(t);
    if (i % 10 == 0)
      configs[i / 10] = make_config(i);
    if (i % 20 == 0)
      counters[i / 20] = calloc(4, sizeof(int));
  }
  printf("%s %d\n", configs[199], counters[99][0]);
  return 0;
}
