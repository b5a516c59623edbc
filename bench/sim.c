/* sim.c - the paced heap-simulation engine (see sim.h): object bookkeeping
 * in mmap'd memory, a per-millisecond free wheel, the RSS sampler thread and
 * the summary metrics of bench_lifetime and bench_nolife. */
#define _GNU_SOURCE
#include "sim.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define SIM_NIL 0u                /* record index 0 is never used */
#define SIM_RECORD_CAP (1u << 26) /* 64 Mi records reserved (1 GiB virtual) */
#define SIM_HUGE_EVERY 25         /* smaps_rollup read every N samples */
#define MIB (1024.0 * 1024.0)

/* One live object: 16 bytes, linked into the list of its death millisecond. */
typedef struct sim_record_s {
  void *ptr;
  uint32_t size;
  uint32_t next;
} sim_record_t;

typedef struct sim_sample_s {
  uint64_t t_ns;          /* since the start of the run */
  uint64_t resident_pages;
  uint64_t shared_pages;  /* file-backed part of resident */
  uint64_t live_bytes;    /* sum of requested sizes of live objects */
  uint64_t book_bytes;    /* resident bytes of the engine's own bookkeeping */
  uint32_t vtime_ms;      /* virtual time when sampled */
  int32_t huge_kib;       /* AnonHugePages, or -1 when not read */
  /* Under libllamalloc, read with huge_kib: huge pages held per bin and
   * empty ones cached (stats_taken = 0 when not read). */
  uint32_t stats_taken;
  uint32_t llama_cached_pages;
  uint32_t llama_bin_pages[LLAMA_NUM_BINS];
  uint32_t llama_bin_live_kib[LLAMA_NUM_BINS];
  llama_memory_t llama_memory; /* the runtime's accounting of its heap */
  llama_memory_t llama_memory_bins[LLAMA_NUM_BINS]; /* the same, per bin */
} sim_sample_t;

struct sim_s {
  const sim_config_t *config;
  bench_rng_t rng;
  uint32_t now_ms;
  sim_record_t *records;
  uint32_t record_hwm; /* records[1..record_hwm) have been touched */
  uint32_t free_records;
  uint32_t *death_list; /* head record per death millisecond */
  uint32_t forever_list;
  uint64_t live_bytes;
  uint64_t fixed_book_bytes;
  uint64_t allocations, frees, requests, corrupt;
  uint64_t class_allocations[LLAMA_NUM_CLASSES];
  /* Shared with the sampler. */
  _Atomic uint64_t pub_live_bytes;
  _Atomic uint64_t pub_book_bytes;
  _Atomic uint32_t pub_vtime_ms;
  _Atomic int stop;
  sim_sample_t *samples;
  uint64_t sample_cap;
  _Atomic uint64_t sample_count;
  uint64_t start_ns;
};

bench_rng_t *sim_rng(sim_t *sim) { return &sim->rng; }
void sim_count_requests(sim_t *sim, uint64_t n) { sim->requests += n; }

static inline uint64_t check_value(const void *p, size_t size) {
  return ((uint64_t)(uintptr_t)p ^ (size * 0x9e3779b97f4a7c15ull)) |
         1ull; /* never zero, so a zeroed object never passes */
}

static void publish_book_bytes(sim_t *sim) {
  uint64_t page = bench_page_size();
  uint64_t pool = ((uint64_t)sim->record_hwm * sizeof(sim_record_t) + page -
                   1) / page * page;
  atomic_store_explicit(&sim->pub_book_bytes, sim->fixed_book_bytes + pool,
                        memory_order_relaxed);
}

void sim_alloc(sim_t *sim, size_t size, uint32_t lifetime_ms) {
  if (size < 16) size = 16;
  if (lifetime_ms == 0) lifetime_ms = 1;
  unsigned k = lifetime_ms == SIM_FOREVER
                   ? LLAMA_NUM_CLASSES - 1
                   /* +1 ms: frees happen at millisecond granularity */
                   : bench_lifetime_class_of_ns(((uint64_t)lifetime_ms + 1) *
                                                1000000ull);
  void *p = sim->config->use_class ? bench_malloc_class(size, k) : malloc(size);
  if (!p)
    bench_die("allocation of %zu bytes (class %u) returned NULL (%s)", size,
              k, strerror(errno));
  uint64_t check = check_value(p, size);
  memset(p, (int)(check & 0xff), size);
  memcpy(p, &check, sizeof check);

  uint32_t r = sim->free_records;
  if (r != SIM_NIL) {
    sim->free_records = sim->records[r].next;
  } else {
    if (sim->record_hwm >= SIM_RECORD_CAP)
      bench_die("more than %u live objects", SIM_RECORD_CAP);
    r = sim->record_hwm++;
    if ((r & 255) == 0) publish_book_bytes(sim);
  }
  sim->records[r].ptr = p;
  sim->records[r].size = (uint32_t)size;
  uint64_t death = (uint64_t)sim->now_ms + lifetime_ms;
  uint32_t *list = lifetime_ms != SIM_FOREVER && death < sim->config->duration_ms
                       ? &sim->death_list[death]
                       : &sim->forever_list;
  sim->records[r].next = *list;
  *list = r;
  sim->live_bytes += size;
  sim->allocations++;
  sim->class_allocations[k]++;
}

/* Checks and frees every object of list *head; returns it to empty. */
static void free_list(sim_t *sim, uint32_t *head) {
  uint32_t r = *head;
  while (r != SIM_NIL) {
    sim_record_t *rec = &sim->records[r];
    uint32_t next = rec->next;
    uint64_t check = check_value(rec->ptr, rec->size), seen;
    memcpy(&seen, rec->ptr, sizeof seen);
    if (seen != check ||
        ((unsigned char *)rec->ptr)[rec->size - 1] != (unsigned char)check)
      sim->corrupt++;
    free(rec->ptr);
    sim->live_bytes -= rec->size;
    sim->frees++;
    rec->next = sim->free_records;
    sim->free_records = r;
    r = next;
  }
  *head = SIM_NIL;
}

/* llama_stats_get_sized's output (it writes only as much as we pass). */
typedef struct sim_llama_stats_s {
  llama_stats_t stats;
} sim_llama_stats_t;

static void take_sample(sim_t *sim, uint64_t index) {
  sim_sample_t *s = &sim->samples[index];
  s->t_ns = bench_now_ns() - sim->start_ns;
  if (bench_read_statm(&s->resident_pages, &s->shared_pages) != 0)
    s->resident_pages = s->shared_pages = 0;
  s->live_bytes = atomic_load_explicit(&sim->pub_live_bytes,
                                       memory_order_relaxed);
  s->book_bytes = atomic_load_explicit(&sim->pub_book_bytes,
                                       memory_order_relaxed);
  s->vtime_ms = atomic_load_explicit(&sim->pub_vtime_ms, memory_order_relaxed);
  s->huge_kib = -1;
  s->stats_taken = 0;
  if (index % SIM_HUGE_EVERY != 0) return;
  s->huge_kib = (int32_t)bench_read_anon_huge_kib();
  sim_llama_stats_t buf; /* llama_stats_get never allocates */
  const llama_stats_t *st = &buf.stats;
  if (bench_llama_stats_get && bench_llama_stats_get(&buf.stats, sizeof buf.stats) == 0) {
    s->stats_taken = 1;
    s->llama_cached_pages = (uint32_t)st->huge_pages_cached;
    for (unsigned b = 0; b < LLAMA_NUM_BINS; b++) {
      s->llama_bin_pages[b] = (uint32_t)st->bins[b].huge_pages_held;
      s->llama_bin_live_kib[b] = (uint32_t)(st->bins[b].live_bytes >> 10);
    }
    s->llama_memory = st->memory;
    memcpy(s->llama_memory_bins, st->memory_bins, sizeof s->llama_memory_bins);
  }
}

static void *sampler_main(void *arg) {
  sim_t *sim = arg;
  uint64_t period = (uint64_t)sim->config->sample_ms * 1000000ull;
  for (uint64_t i = 0; i < sim->sample_cap; i++) {
    if (atomic_load_explicit(&sim->stop, memory_order_acquire)) break;
    bench_sleep_until_ns(sim->start_ns + i * period);
    take_sample(sim, i);
    atomic_store_explicit(&sim->sample_count, i + 1, memory_order_release);
  }
  return NULL;
}

/* Heap RSS of a sample in bytes (may be slightly negative at start-up). */
static double heap_rss(const sim_sample_t *s) {
  uint64_t page = bench_page_size();
  return (double)(s->resident_pages - s->shared_pages) * (double)page -
         (double)s->book_bytes;
}

static void write_series(const sim_t *sim, uint64_t count) {
  const char *path = sim->config->series_path;
  if (!path) return;
  FILE *f = fopen(path, "w");
  if (!f) {
    fprintf(stderr, "%s: cannot write %s\n", sim->config->benchmark, path);
    return;
  }
  fprintf(f, "# %s %s, malloc from %s\n", sim->config->benchmark,
          sim->config->variant, bench_malloc_provider());
  fprintf(f, "# t_s\tvtime_s\theap_rss_mib\tlive_mib\ttotal_rss_mib\t"
             "anon_huge_mib");
  if (bench_llama_stats_get) {
    /* Huge pages held by each bin (7 = unclassified) and cached empty. */
    for (unsigned b = 0; b < LLAMA_NUM_BINS; b++) fprintf(f, "\thp_bin%u", b);
    fprintf(f, "\thp_cached");
  }
  fprintf(f, "\n");
  uint64_t page = bench_page_size();
  for (uint64_t i = 0; i < count; i++) {
    const sim_sample_t *s = &sim->samples[i];
    fprintf(f, "%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t", (double)s->t_ns / 1e9,
            s->vtime_ms / 1e3, heap_rss(s) / MIB, (double)s->live_bytes / MIB,
            (double)(s->resident_pages * page) / MIB);
    if (s->huge_kib >= 0) fprintf(f, "%.1f", s->huge_kib / 1024.0);
    else fprintf(f, "NaN");
    if (bench_llama_stats_get) {
      for (unsigned b = 0; b < LLAMA_NUM_BINS; b++) {
        if (s->stats_taken) fprintf(f, "\t%u", s->llama_bin_pages[b]);
        else fprintf(f, "\tNaN");
      }
      if (s->stats_taken) fprintf(f, "\t%u", s->llama_cached_pages);
      else fprintf(f, "\tNaN");
    }
    fprintf(f, "\n");
  }
  fclose(f);
}

/* Under libllamalloc: prints huge pages held and live MiB per bin from the
 * sample nearest to `index` that has them. */
static void llama_bins_at(const sim_t *sim, uint64_t count, uint64_t index,
                          const char *when) {
  const sim_sample_t *best = NULL;
  uint64_t best_distance = UINT64_MAX;
  for (uint64_t i = 0; i < count; i++) {
    uint64_t distance = i > index ? i - index : index - i;
    if (sim->samples[i].stats_taken && distance < best_distance)
      best = &sim->samples[i], best_distance = distance;
  }
  if (!best) return;
  printf("# llama %s (t=%.2f s, heap RSS %.1f MiB): huge pages held / live "
         "MiB per bin:", when, best->t_ns / 1e9, heap_rss(best) / MIB);
  for (unsigned b = 0; b < LLAMA_NUM_BINS; b++) {
    if (b == LLAMA_BIN_UNCLASSIFIED) printf(" none:");
    else printf(" %u:", b);
    printf("%u/%.1f", best->llama_bin_pages[b],
           best->llama_bin_live_kib[b] / 1024.0);
  }
  printf("; cached %u\n", best->llama_cached_pages);
  /* Where the heap's resident bytes go (the runtime's own accounting,
   * mincore-exact): requested live bytes, rounding to size classes, and each
   * cause of memory above live. */
  const llama_memory_t *m = &best->llama_memory;
  double live_blocks = (double)m->live, requested = (double)best->live_bytes;
  printf("# llama accounting %s (MiB): resident %.1f = live %.1f (requested %.1f + rounding %.1f)"
         " + free blocks in spans %.1f + free units %.1f + cached pages %.1f + metadata %.1f"
         " + large %.1f; on huge pages %.1f\n",
         when, m->resident / MIB, live_blocks / MIB, requested / MIB,
         (live_blocks - requested) / MIB, m->free_blocks / MIB, m->free_units / MIB,
         m->cached / MIB, m->metadata / MIB, m->large / MIB, m->huge / MIB);
  printf("# llama accounting %s per bin (MiB live/free blocks/free units):", when);
  for (unsigned b = 0; b < LLAMA_NUM_BINS; b++) {
    const llama_memory_t *mb = &best->llama_memory_bins[b];
    if (mb->live + mb->free_blocks + mb->free_units == 0) continue;
    if (b == LLAMA_BIN_UNCLASSIFIED) printf(" none");
    else printf(" %u", b);
    printf(" %.1f/%.1f/%.1f", mb->live / MIB, mb->free_blocks / MIB, mb->free_units / MIB);
  }
  printf("\n");
}

static void report(sim_t *sim, uint64_t count, uint64_t busy_ns,
                   uint64_t wall_ns, uint64_t max_lag_ns,
                   int64_t huge_end_kib) {
  const sim_config_t *cfg = sim->config;
  double peak_heap = 0, peak_total = 0, peak_live = 0, sum_heap = 0,
         sum_live = 0, fin_heap = 0, fin_live = 0, peak_huge = 0,
         huge_sum = 0, huge_heap_sum = 0; /* samples that read AnonHugePages */
  uint64_t n = 0, n_final = 0, page = bench_page_size(), peak_index = 0;
  for (uint64_t i = 0; i < count; i++) {
    const sim_sample_t *s = &sim->samples[i];
    double heap = heap_rss(s), live = (double)s->live_bytes;
    double total = (double)(s->resident_pages * page);
    if (heap > peak_heap) peak_heap = heap, peak_index = i;
    if (total > peak_total) peak_total = total;
    if (live > peak_live) peak_live = live;
    if (s->huge_kib >= 0 && s->huge_kib / 1024.0 > peak_huge)
      peak_huge = s->huge_kib / 1024.0;
    if (s->vtime_ms >= cfg->duration_ms) continue; /* after the workload */
    sum_heap += heap, sum_live += live, n++;
    if (s->huge_kib >= 0) huge_sum += s->huge_kib * 1024.0, huge_heap_sum += heap;
    if (s->vtime_ms >= cfg->final_from_ms)
      fin_heap += heap, fin_live += live, n_final++;
  }
  if (n == 0) bench_die("no RSS samples were taken");
  double avg_heap = sum_heap / n, avg_live = sum_live / n;
  if (n_final) fin_heap /= n_final, fin_live /= n_final;
  /* Time-averaged fragmentation: time-averaged waste over time-averaged RSS,
   * i.e. (avg RSS - avg live) / avg RSS. */
  double avg_frag = avg_heap > 0 ? (avg_heap - avg_live) / avg_heap : 0;
  double fin_frag = fin_heap > 0 ? (fin_heap - fin_live) / fin_heap : 0;
  double busy_s = (double)busy_ns / 1e9;
  double rps = busy_s > 0 ? (double)sim->requests / busy_s : 0;
  double huge_end = huge_end_kib >= 0 ? huge_end_kib / 1024.0 : 0;
  if (huge_end > peak_huge) peak_huge = huge_end;
  /* Time-averaged huge-page share: AnonHugePages over heap RSS, both
   * averaged over the samples that read AnonHugePages (capped at 1: the
   * engine's own bookkeeping may sit on huge pages too). */
  double huge_share = huge_heap_sum > 0 ? huge_sum / huge_heap_sum : 0;
  if (huge_share > 1) huge_share = 1;

  printf("# %s %s: %llu allocations, %llu frees, %llu requests, "
         "%llu samples in %.2f s (busy %.2f s, max lag %.1f ms)\n",
         cfg->benchmark, cfg->variant, (unsigned long long)sim->allocations,
         (unsigned long long)sim->frees, (unsigned long long)sim->requests,
         (unsigned long long)count, wall_ns / 1e9, busy_s, max_lag_ns / 1e6);
  printf("# allocations per oracle class:");
  for (unsigned k = 0; k < LLAMA_NUM_CLASSES; k++)
    printf(" %u:%llu", k, (unsigned long long)sim->class_allocations[k]);
  printf("%s\n", cfg->use_class ? "" : " (not passed: plain malloc)");
  printf("# heap RSS MiB: peak %.1f, time-avg %.1f, final %.1f; live MiB: "
         "peak %.1f, time-avg %.1f, final %.1f\n",
         peak_heap / MIB, avg_heap / MIB, fin_heap / MIB, peak_live / MIB,
         avg_live / MIB, fin_live / MIB);
  printf("# fragmentation: time-avg %.3f, final %.3f; AnonHugePages MiB: "
         "end %.1f, peak %.1f, time-avg share of the heap %.2f; %.0f requests/busy-s\n",
         avg_frag, fin_frag, huge_end, peak_huge, huge_share, rps);
  if (cfg->paced && max_lag_ns > 100000000ull)
    printf("# warning: fell %.0f ms behind the virtual clock; lifetimes "
           "stretched in real time\n", max_lag_ns / 1e6);

  const char *b = cfg->benchmark, *v = cfg->variant;
  bench_result(b, v, "peak_rss_mib", peak_heap / MIB);
  bench_result(b, v, "avg_rss_mib", avg_heap / MIB);
  bench_result(b, v, "final_rss_mib", fin_heap / MIB);
  bench_result(b, v, "peak_total_rss_mib", peak_total / MIB);
  bench_result(b, v, "peak_live_mib", peak_live / MIB);
  bench_result(b, v, "avg_live_mib", avg_live / MIB);
  bench_result(b, v, "final_live_mib", fin_live / MIB);
  bench_result(b, v, "avg_frag", avg_frag);
  bench_result(b, v, "final_frag", fin_frag);
  bench_result(b, v, "huge_end_mib", huge_end);
  bench_result(b, v, "huge_peak_mib", peak_huge);
  bench_result(b, v, "huge_share", huge_share);
  bench_result(b, v, "req_per_s", rps);
  bench_result(b, v, "max_lag_ms", max_lag_ns / 1e6);
  if (sim->corrupt) {
    printf("# ERROR: %llu objects were corrupted between malloc and free\n",
           (unsigned long long)sim->corrupt);
    bench_result(b, v, "corrupt_objects", (double)sim->corrupt);
  }

  llama_bins_at(sim, count, peak_index, "at peak RSS");
  llama_bins_at(sim, count, count ? count - 1 : 0, "at the end");

  sim_llama_stats_t buf;
  if (bench_llama_stats_get && bench_llama_stats_get(&buf.stats, sizeof buf.stats) == 0) {
    const llama_stats_t st = buf.stats;
    printf("# llama: allocations static %llu, predicted %llu, default %llu; "
           "huge pages resident %llu, cached %llu, peak %llu, returned %llu\n",
           (unsigned long long)st.allocations_static,
           (unsigned long long)st.allocations_predicted,
           (unsigned long long)st.allocations_default,
           (unsigned long long)st.huge_pages_resident,
           (unsigned long long)st.huge_pages_cached,
           (unsigned long long)st.huge_pages_peak,
           (unsigned long long)st.huge_pages_returned);
    printf("# llama bins (live MiB / held / acquired / released / "
           "promoted in / out):");
    for (unsigned k = 0; k < LLAMA_NUM_BINS; k++) {
      const llama_bin_stats_t *bs = &st.bins[k];
      printf(" [%u] %.1f/%llu/%llu/%llu/%llu/%llu", k, bs->live_bytes / MIB,
             (unsigned long long)bs->huge_pages_held,
             (unsigned long long)bs->huge_pages_acquired,
             (unsigned long long)bs->huge_pages_released,
             (unsigned long long)bs->promotions_in,
             (unsigned long long)bs->promotions_out);
    }
    printf("\n");
    bench_result(b, v, "llama_huge_pages_peak", (double)st.huge_pages_peak);
    uint64_t promoted = 0;
    for (unsigned k = 0; k < LLAMA_NUM_BINS; k++)
      promoted += st.bins[k].promotions_out;
    bench_result(b, v, "llama_promotions", (double)promoted);
  }
}

/* Touches `mib` MiB of anonymous memory in huge pages and unmaps it again,
 * outside the allocator under test. In a virtual machine with free page
 * reporting (virtio-balloon), free 2 MiB blocks are handed back to the host
 * after a few idle seconds, and the next huge page fault on them costs
 * milliseconds of host faulting; which allocator happens to meet them first
 * then depends on what ran before. Prefaulting gives every allocator the same
 * host-backed free memory for the short unpaced throughput runs. */
static void prefault(uint32_t mib) {
  if (mib == 0) return;
  size_t bytes = (size_t)mib << 20;
  void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return;
  madvise(p, bytes, MADV_HUGEPAGE);
  for (size_t off = 0; off < bytes; off += 4096) ((volatile char *)p)[off] = 1;
  munmap(p, bytes);
}

int sim_run(const sim_config_t *config, sim_tick_fn tick, void *context,
            uint64_t seed) {
  static sim_t sim_storage;
  sim_t *sim = &sim_storage;
  memset(sim, 0, sizeof *sim);
  sim->config = config;
  bench_rng_seed(&sim->rng, seed);
  if (config->duration_ms == 0 || config->sample_ms == 0)
    bench_die("duration and sample period must be positive");

  uint64_t page = bench_page_size();
  size_t death_bytes = ((size_t)config->duration_ms + 1) * sizeof(uint32_t);
  sim->death_list = bench_map(death_bytes, 1);
  /* Room for twice the samples of a paced run plus slack for lag. */
  sim->sample_cap = 2ull * config->duration_ms / config->sample_ms + 1000;
  size_t sample_bytes = sim->sample_cap * sizeof(sim_sample_t);
  sim->samples = bench_map(sample_bytes, 1);
  sim->records = bench_map((size_t)SIM_RECORD_CAP * sizeof(sim_record_t), 0);
  sim->record_hwm = 1;
  sim->fixed_book_bytes = (death_bytes + page - 1) / page * page +
                          (sample_bytes + page - 1) / page * page;
  publish_book_bytes(sim);

  prefault(config->prefault_mib);
  uint64_t resident, shared;
  if (bench_read_statm(&resident, &shared) == 0)
    printf("# start: anonymous RSS %.1f MiB (engine bookkeeping %.1f MiB)\n",
           (double)(resident - shared) * page / MIB,
           atomic_load(&sim->pub_book_bytes) / MIB);

  sim->start_ns = bench_now_ns();
  pthread_t sampler;
  if (pthread_create(&sampler, NULL, sampler_main, sim))
    bench_die("cannot start the sampler thread");

  uint64_t busy_ns = 0, max_lag_ns = 0, start = sim->start_ns;
  for (uint32_t ms = 0; ms < config->duration_ms; ms++) {
    uint64_t due = start + (uint64_t)ms * 1000000ull;
    uint64_t t = bench_now_ns();
    if (config->paced && t < due) {
      bench_sleep_until_ns(due);
      t = bench_now_ns();
    }
    if (t > due && t - due > max_lag_ns) max_lag_ns = t - due;
    sim->now_ms = ms;
    atomic_store_explicit(&sim->pub_vtime_ms, ms, memory_order_relaxed);
    free_list(sim, &sim->death_list[ms]);
    tick(sim, ms, context);
    atomic_store_explicit(&sim->pub_live_bytes, sim->live_bytes,
                          memory_order_relaxed);
    busy_ns += bench_now_ns() - t;
  }
  uint64_t wall_ns = bench_now_ns() - start;
  publish_book_bytes(sim);
  atomic_store_explicit(&sim->pub_vtime_ms, config->duration_ms,
                        memory_order_relaxed);
  int64_t huge_end_kib = bench_read_anon_huge_kib();
  atomic_store_explicit(&sim->stop, 1, memory_order_release);
  pthread_join(sampler, NULL);
  uint64_t count = atomic_load(&sim->sample_count);

  report(sim, count, busy_ns, wall_ns, max_lag_ns, huge_end_kib);
  write_series(sim, count);

  /* Free what is left, checking it too. */
  for (uint64_t ms = config->duration_ms; ms-- > 0;)
    if (sim->death_list[ms] != SIM_NIL) free_list(sim, &sim->death_list[ms]);
  uint64_t corrupt_before = sim->corrupt;
  free_list(sim, &sim->forever_list);
  if (sim->corrupt != corrupt_before)
    printf("# ERROR: %llu objects corrupted at the final free\n",
           (unsigned long long)(sim->corrupt - corrupt_before));
  fflush(stdout);
  return sim->corrupt ? 1 : 0;
}

int sim_parse_common_option(int argc, char **argv, int *i,
                            sim_config_t *config) {
  static int prefault_given;
  uint64_t v;
  const char *s;
  if (bench_opt_u64(argc, argv, i, "duration-ms", &v)) {
    if (v < 100 || v > 3600000) bench_die("--duration-ms out of range");
    config->duration_ms = (uint32_t)v;
    return 1;
  }
  if (bench_opt_u64(argc, argv, i, "sample-ms", &v)) {
    if (v == 0 || v > 10000) bench_die("--sample-ms out of range");
    config->sample_ms = (uint32_t)v;
    return 1;
  }
  if (bench_opt_str(argc, argv, i, "series", &s)) {
    config->series_path = s;
    return 1;
  }
  if (bench_opt_str(argc, argv, i, "variant", &s)) {
    if (!strcmp(s, "class")) config->use_class = 1;
    else if (!strcmp(s, "default")) config->use_class = 0;
    else bench_die("--variant must be class or default, not '%s'", s);
    config->variant = config->use_class ? "class" : "default";
    return 1;
  }
  if (!strcmp(argv[*i], "--unpaced")) {
    config->paced = 0;
    if (!prefault_given) config->prefault_mib = 256;
    return 1;
  }
  if (bench_opt_u64(argc, argv, i, "prefault-mib", &v)) {
    if (v > 65536) bench_die("--prefault-mib out of range");
    config->prefault_mib = (uint32_t)v;
    prefault_given = 1;
    return 1;
  }
  return 0;
}
