/* bench_common.c - shared helpers of the benchmark programs: run-time lookup
 * of the LLAMA entry points, clock, random sizes, /proc readers that never
 * allocate, option parsing and the RESULT line format (see bench_common.h). */
#define _GNU_SOURCE
#include "bench_common.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

bench_malloc_class_fn bench_llama_malloc_class;
bench_stats_get_fn bench_llama_stats_get;
static const char *bench_program = "bench";

void bench_die(const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "%s: ", bench_program);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(2);
}

const char *bench_malloc_provider(void) {
  Dl_info info;
  void *sym = dlsym(RTLD_DEFAULT, "malloc");
  if (!sym || !dladdr(sym, &info) || !info.dli_fname) return "unknown";
  if (strstr(info.dli_fname, "libc.so")) return "glibc";
  return info.dli_fname;
}

void bench_init(const char *benchmark_name) {
  bench_program = benchmark_name;
  /* POSIX guarantees that function pointers round-trip through void *. */
  void *sym = dlsym(RTLD_DEFAULT, "llama_malloc_class");
  bench_llama_malloc_class = (bench_malloc_class_fn)sym;
  sym = dlsym(RTLD_DEFAULT, "llama_stats_get_sized");
  bench_llama_stats_get = (bench_stats_get_fn)sym;
  printf("# %s: malloc from %s; llama_malloc_class %s\n", benchmark_name,
         bench_malloc_provider(),
         bench_llama_malloc_class ? "found" : "absent (falls back to malloc)");
  fflush(stdout);
}

unsigned bench_lifetime_class_of_ns(uint64_t lifetime_ns) {
  return llama_class_of_lifetime_ns(lifetime_ns);
}

uint64_t bench_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void bench_sleep_until_ns(uint64_t deadline_ns) {
  struct timespec ts = {.tv_sec = (time_t)(deadline_ns / 1000000000ull),
                        .tv_nsec = (long)(deadline_ns % 1000000000ull)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
  }
}

double bench_rng_log_uniform(bench_rng_t *rng, double lo, double hi) {
  return lo * exp(bench_rng_unit(rng) * log(hi / lo));
}

/* Reads a small /proc file into buf (NUL-terminated) without stdio. */
static ssize_t read_small_file(const char *path, char *buf, size_t cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t got = 0;
  while (got + 1 < cap) {
    ssize_t n = read(fd, buf + got, cap - 1 - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += (size_t)n;
  }
  close(fd);
  buf[got] = '\0';
  return (ssize_t)got;
}

static const char *parse_u64(const char *s, uint64_t *out) {
  while (*s == ' ' || *s == '\t') s++;
  uint64_t v = 0;
  int digits = 0;
  while (*s >= '0' && *s <= '9') v = v * 10 + (uint64_t)(*s++ - '0'), digits++;
  *out = v;
  return digits ? s : NULL;
}

int bench_read_statm(uint64_t *resident_pages, uint64_t *shared_pages) {
  char buf[256];
  if (read_small_file("/proc/self/statm", buf, sizeof buf) <= 0) return -1;
  uint64_t size, resident, shared;
  const char *s = parse_u64(buf, &size);
  if (s) s = parse_u64(s, &resident);
  if (s) s = parse_u64(s, &shared);
  if (!s) return -1;
  *resident_pages = resident;
  *shared_pages = shared;
  return 0;
}

int64_t bench_read_anon_huge_kib(void) {
  char buf[4096];
  if (read_small_file("/proc/self/smaps_rollup", buf, sizeof buf) <= 0)
    return -1;
  const char *line = strstr(buf, "AnonHugePages:");
  if (!line) return -1;
  uint64_t kib;
  if (!parse_u64(line + strlen("AnonHugePages:"), &kib)) return -1;
  return (int64_t)kib;
}

uint64_t bench_page_size(void) {
  static uint64_t page;
  if (!page) page = (uint64_t)sysconf(_SC_PAGESIZE);
  return page;
}

void *bench_map(size_t bytes, int populate) {
  size_t page = (size_t)bench_page_size();
  bytes = (bytes + page - 1) & ~(page - 1);
  void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
                     (populate ? MAP_POPULATE : 0),
                 -1, 0);
  if (p == MAP_FAILED) bench_die("mmap of %zu bytes failed", bytes);
  /* Bookkeeping must stay in 4 KiB pages so its resident size is exact. */
  madvise(p, bytes, MADV_NOHUGEPAGE);
  if (populate) memset(p, 0, bytes);
  return p;
}

void bench_unmap(void *p, size_t bytes) {
  size_t page = (size_t)bench_page_size();
  munmap(p, (bytes + page - 1) & ~(page - 1));
}

void bench_result(const char *benchmark, const char *variant,
                  const char *metric, double value) {
  printf("RESULT,%s,%s,%s,%.6g\n", benchmark, variant, metric, value);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double bench_median(double *values, int n) {
  if (n <= 0) return 0;
  qsort(values, (size_t)n, sizeof *values, cmp_double);
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

/* Returns the value text of option `name` at argv[*i], or NULL. */
static const char *opt_value(int argc, char **argv, int *i, const char *name) {
  const char *arg = argv[*i];
  size_t len = strlen(name);
  if (strncmp(arg, "--", 2) != 0 || strncmp(arg + 2, name, len) != 0)
    return NULL;
  const char *rest = arg + 2 + len;
  if (*rest == '=') return rest + 1;
  if (*rest != '\0') return NULL;
  if (*i + 1 >= argc) bench_die("option --%s needs a value", name);
  return argv[++*i];
}

int bench_opt_u64(int argc, char **argv, int *i, const char *name,
                  uint64_t *out) {
  const char *v = opt_value(argc, argv, i, name);
  if (!v) return 0;
  char *end;
  errno = 0;
  unsigned long long x = strtoull(v, &end, 0);
  if (errno || end == v || *end) bench_die("--%s: bad number '%s'", name, v);
  *out = x;
  return 1;
}

int bench_opt_double(int argc, char **argv, int *i, const char *name,
                     double *out) {
  const char *v = opt_value(argc, argv, i, name);
  if (!v) return 0;
  char *end;
  errno = 0;
  double x = strtod(v, &end);
  if (errno || end == v || *end) bench_die("--%s: bad number '%s'", name, v);
  *out = x;
  return 1;
}

int bench_opt_str(int argc, char **argv, int *i, const char *name,
                  const char **out) {
  const char *v = opt_value(argc, argv, i, name);
  if (!v) return 0;
  *out = v;
  return 1;
}

int bench_quick(void) {
  const char *q = getenv("BENCH_QUICK");
  return q && *q && strcmp(q, "0") != 0;
}

int bench_opt_variant(int argc, char **argv, int *i, int *use_class, unsigned *lifetime_class) {
  const char *variant;
  uint64_t k;
  if (bench_opt_str(argc, argv, i, "variant", &variant)) {
    if (!strcmp(variant, "class")) *use_class = 1;
    else if (!strcmp(variant, "default")) *use_class = 0;
    else bench_die("--variant must be default or class, not '%s'", variant);
    return 1;
  }
  if (bench_opt_u64(argc, argv, i, "class", &k)) {
    *lifetime_class = (unsigned)k;
    return 1;
  }
  return 0;
}
