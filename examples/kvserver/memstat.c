/* memstat.c - the memory of the process, for the demo (bench/demo.sh): every
 * 50 logical ms the server samples its resident set from /proc/self and what
 * it holds itself (kv_live_bytes plus the C++ index and statistics), keeps
 * peak and time averages, the numbers at the end of the run (before the
 * shutdown frees), and with --series=PATH writes one line per sample:
 *
 *   seconds  rss_kib  anon_kib  huge_kib  held_kib
 *
 * Nothing here allocates: /proc is read with open/read into stack buffers and
 * the series is formatted on the stack and written with write(2), so the
 * measurement does not disturb the heap it measures.
 *
 * Under libllamalloc, KVSERVER_LLAMA_STATS=PREFIX also writes the runtime's
 * report (llama_stats_print: the accounting of every resident byte) at the
 * sample with the highest RSS to PREFIX.peak and at the end of the run to
 * PREFIX.end (bench/demo.sh prints them). llama_stats_print is a weak
 * reference, so other allocators need nothing.
 */
#include "kvserver.h"
#include "kvindex.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

static int series_fd = -1;
static int llama_peak_fd = -1, llama_end_fd = -1;
static uint64_t llama_peak_rss_kib;
void llama_stats_print(int fd) __attribute__((weak));

static int open_stats(const char *prefix, const char *suffix) {
  char path[4096];
  snprintf(path, sizeof path, "%s%s", prefix, suffix);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    kv_die("cannot open '%s'", path);
  return fd;
}

/* The runtime's report into fd, replacing what it held. */
static void llama_stats_to(int fd) {
  if (fd < 0 || ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0)
    return;
  llama_stats_print(fd);
}
static uint64_t samples;
static double sum_rss_kib, sum_anon_kib, sum_huge_kib, sum_held_bytes;
static uint64_t peak_anon_kib, peak_huge_kib;
static size_t peak_held_bytes, final_held_bytes;
static struct memstat_sample final_sample;

static ssize_t read_proc_file(const char *path, char *buf, size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  size_t got = 0;
  while (got + 1 < size) {
    ssize_t n = read(fd, buf + got, size - 1 - got);
    if (n <= 0)
      break;
    got += (size_t)n;
  }
  close(fd);
  buf[got] = '\0';
  return (ssize_t)got;
}

/* The number after "name:" in a /proc file's text (kB), or 0. */
static uint64_t proc_field_kib(const char *text, const char *name) {
  const char *p = strstr(text, name);
  if (!p)
    return 0;
  p += strlen(name);
  while (*p == ' ' || *p == '\t')
    p++;
  uint64_t v = 0;
  while (*p >= '0' && *p <= '9')
    v = v * 10 + (uint64_t)(*p++ - '0');
  return v;
}

int memstat_read(struct memstat_sample *out) {
  char buf[4096];
  if (read_proc_file("/proc/self/status", buf, sizeof buf) <= 0)
    return -1;
  out->rss_kib = proc_field_kib(buf, "\nVmRSS:");
  out->anon_kib = proc_field_kib(buf, "\nRssAnon:");
  if (read_proc_file("/proc/self/smaps_rollup", buf, sizeof buf) <= 0)
    return -1;
  out->huge_kib = proc_field_kib(buf, "\nAnonHugePages:");
  return 0;
}

uint64_t memstat_hwm_kib(void) {
  char buf[4096];
  if (read_proc_file("/proc/self/status", buf, sizeof buf) <= 0)
    return 0;
  return proc_field_kib(buf, "\nVmHWM:");
}

size_t memstat_held_bytes(void) { return kv_live_bytes() + keyindex_bytes() + stats_bytes(); }

static void series_write(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void series_write(const char *fmt, ...) {
  char line[160];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n > 0 && write(series_fd, line, (size_t)n) != n)
    kv_die("cannot write the series file");
}

void memstat_open_series(const char *path) {
  series_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (series_fd < 0)
    kv_die("cannot open series file '%s'", path);
  series_write("# seconds\trss_kib\tanon_kib\thuge_kib\theld_kib\n");
}

void memstat_tick(uint64_t now, double seconds) {
  (void)now;
  struct memstat_sample s;
  if (memstat_read(&s) != 0)
    return;
  if (samples == 0 && llama_stats_print) {
    const char *prefix = getenv("KVSERVER_LLAMA_STATS");
    if (prefix && *prefix) {
      llama_peak_fd = open_stats(prefix, ".peak");
      llama_end_fd = open_stats(prefix, ".end");
    }
  }
  if (llama_peak_fd >= 0 && s.rss_kib > llama_peak_rss_kib) {
    llama_peak_rss_kib = s.rss_kib;
    llama_stats_to(llama_peak_fd);
  }
  size_t held = memstat_held_bytes();
  samples++;
  sum_rss_kib += (double)s.rss_kib;
  sum_anon_kib += (double)s.anon_kib;
  sum_huge_kib += (double)s.huge_kib;
  sum_held_bytes += (double)held;
  if (s.anon_kib > peak_anon_kib)
    peak_anon_kib = s.anon_kib;
  if (s.huge_kib > peak_huge_kib)
    peak_huge_kib = s.huge_kib;
  if (held > peak_held_bytes)
    peak_held_bytes = held;
  if (series_fd >= 0)
    series_write("%.3f\t%llu\t%llu\t%llu\t%llu\n", seconds, (unsigned long long)s.rss_kib,
            (unsigned long long)s.anon_kib, (unsigned long long)s.huge_kib,
            (unsigned long long)(held / 1024));
}

/* The "final" numbers: at the end of the run, before the shutdown frees
 * (the server is still serving its regular clients). */
void memstat_final(void) {
  memstat_read(&final_sample);
  final_held_bytes = memstat_held_bytes();
  llama_stats_to(llama_end_fd);
}

/* One line, at exit: the kernel's peak, averages over the samples, final. */
void memstat_report(FILE *out) {
  struct memstat_sample fin = final_sample;
  size_t held = final_held_bytes;
  double n = samples ? (double)samples : 1.0;
  if (series_fd >= 0) {
    close(series_fd);
    series_fd = -1;
  }
  fprintf(out,
          "kvserver: memory samples=%llu hwm_kib=%llu avg_rss_kib=%.0f avg_anon_kib=%.0f "
          "peak_anon_kib=%llu avg_huge_kib=%.0f peak_huge_kib=%llu final_rss_kib=%llu "
          "final_anon_kib=%llu final_huge_kib=%llu avg_held_kib=%.0f peak_held_kib=%zu "
          "final_held_kib=%zu\n",
          (unsigned long long)samples, (unsigned long long)memstat_hwm_kib(), sum_rss_kib / n,
          sum_anon_kib / n, (unsigned long long)peak_anon_kib, sum_huge_kib / n,
          (unsigned long long)peak_huge_kib, (unsigned long long)fin.rss_kib,
          (unsigned long long)fin.anon_kib, (unsigned long long)fin.huge_kib,
          sum_held_bytes / n / 1024.0, peak_held_bytes / 1024, held / 1024);
}
