/* stats.c - the statistics API and the LLAMA_STATS=1 report.
 *
 * Counters live where they are cheapest to keep: per thread heap (objects
 * and bytes per bin, allocation sources), per bin (huge pages, promotions),
 * in the pool (resident huge pages) and in large.c. This file sums them.
 * Nothing here allocates: the report is formatted into a stack buffer. */
#include "internal.h"

#include <string.h>

/* Row labels of the bins: the class number, "none" for the unclassified bin. */
static const char *const names[LLAMA_NUM_BINS] = {"0", "1", "2", "3", "4", "5", "6", "none"};

/* Fills a whole llama_stats_t. */
static void stats_collect(llama_stats_t *out) {
  memset(out, 0, sizeof *out);
  llama_heaps_lock();
  for (llama_heap_t *h = llama_heaps_first(); h; h = h->next_all) {
    for (unsigned b = 0; b < LLAMA_NUM_BINS; b++) {
      const uint64_t *a = h->allocations[b];
      out->bins[b].allocations += a[SOURCE_STATIC] + a[SOURCE_PREDICTED] + a[SOURCE_DEFAULT];
      out->allocations_static += a[SOURCE_STATIC];
      out->allocations_predicted += a[SOURCE_PREDICTED];
      out->allocations_default += a[SOURCE_DEFAULT];
    }
    out->cache_hits += h->predict_hits;
    out->cache_misses += h->predict_misses;
    out->predict_ns += h->predict_ns;
    out->span_switches += h->span_switches;
    out->threads++;
  }
  llama_heaps_unlock();
  for (unsigned b = 0; b < LLAMA_NUM_BINS; b++) llama_hugepages_bin_stats(b, &out->bins[b]);
  llama_hugepages_global_stats(out);
  llama_hugepages_live(out);
  llama_large_stats(out);
  llama_heaps_account(out);
  /* Totals: bins summed into the whole-heap record. */
  llama_memory_t *m = &out->memory;
  for (unsigned b = 0; b < LLAMA_NUM_BINS; b++) {
    llama_memory_t *mb = &out->memory_bins[b];
    mb->resident = mb->live + mb->free_blocks + mb->free_units + mb->metadata + mb->large;
    m->live += mb->live;
    m->free_blocks += mb->free_blocks;
    m->free_units += mb->free_units;
    m->metadata += mb->metadata;
    m->large += mb->large;
    m->huge += mb->huge;
  }
  m->resident = m->live + m->free_blocks + m->free_units + m->cached + m->metadata + m->large;
  llama_os_process_memory(&out->process_rss, &out->process_anon_huge);
}

LLAMA_EXPORT int llama_stats_get_sized(llama_stats_t *out, size_t size) {
  llama_stats_t s;
  stats_collect(&s);
  if (size > sizeof s) {
    memset((char *)out + sizeof s, 0, size - sizeof s);
    size = sizeof s;
  }
  memcpy(out, &s, size);
  return 0;
}

static void flush(int fd, llama_buf_t *b) {
  llama_write_fd(fd, b->p, b->len);
  b->len = 0;
}

/* "prediction: model NAME, cache hits N (xx.x%), misses N, mean miss cost N us,
 * cache entries N/CAP" */
static void print_prediction(llama_buf_t *b, const llama_stats_t *s) {
  uint64_t entries, capacity, lookups = s->cache_hits + s->cache_misses;
  llama_predict_cache_use(&entries, &capacity);
  llama_buf_str(b, "prediction: model ");
  llama_buf_str(b, llama_predict_model_name());
  llama_buf_str(b, ", cache hits ");
  llama_buf_u64(b, s->cache_hits, 0);
  uint64_t permille = lookups ? (s->cache_hits * 1000 + lookups / 2) / lookups : 0;
  llama_buf_str(b, " (");
  llama_buf_u64(b, permille / 10, 0);
  llama_buf_str(b, ".");
  llama_buf_u64(b, permille % 10, 0);
  llama_buf_str(b, "%), misses ");
  llama_buf_u64(b, s->cache_misses, 0);
  llama_buf_str(b, ", mean miss cost ");
  llama_buf_u64(b, s->cache_misses ? (s->predict_ns / s->cache_misses + 500) / 1000 : 0, 0);
  llama_buf_str(b, " us, cache entries ");
  llama_buf_u64(b, entries, 0);
  llama_buf_str(b, "/");
  llama_buf_u64(b, capacity, 0);
  llama_buf_str(b, "\n");
}

static void memory_row(llama_buf_t *b, const char *name, const llama_memory_t *m, bool cached) {
  llama_buf_str(b, name);
  for (size_t i = strlen(name); i < 6; i++) llama_buf_str(b, " ");
  llama_buf_bytes(b, m->resident, 11);
  llama_buf_bytes(b, m->live, 11);
  llama_buf_bytes(b, m->free_blocks, 12);
  llama_buf_bytes(b, m->free_units, 11);
  if (cached) llama_buf_bytes(b, m->cached, 11);
  else llama_buf_str(b, "          -");
  llama_buf_bytes(b, m->metadata, 11);
  llama_buf_bytes(b, m->large, 11);
  llama_buf_bytes(b, m->huge, 11);
  llama_buf_str(b, "\n");
}

/* The accounting: where every resident byte of the heap goes. */
static void print_memory(int fd, llama_buf_t *b, const llama_stats_t *s) {
  llama_buf_str(b, "memory (resident bytes by cause)\n"
                   "bin     resident       live free blocks free units     cached   metadata"
                   "      large   on huge\n");
  flush(fd, b);
  for (unsigned k = 0; k < LLAMA_NUM_BINS; k++) {
    if (!s->memory_bins[k].resident) continue;
    memory_row(b, names[k], &s->memory_bins[k], false);
    flush(fd, b);
  }
  memory_row(b, "total", &s->memory, true);
  llama_buf_str(b, "above live: ");
  llama_buf_bytes(b, s->memory.resident - s->memory.live - s->memory.large, 0);
  llama_buf_str(b, "; process RSS ");
  llama_buf_bytes(b, s->process_rss, 0);
  llama_buf_str(b, ", AnonHugePages ");
  llama_buf_bytes(b, s->process_anon_huge, 0);
  llama_buf_str(b, "; huge page collapses ");
  llama_buf_u64(b, s->huge_page_collapses, 0);
  llama_buf_str(b, ", splits ");
  llama_buf_u64(b, s->huge_page_breaks, 0);
  llama_buf_str(b, ", faulted in huge ");
  llama_buf_u64(b, s->huge_pages_eager, 0);
  if (llama_os_thp_disabled()) llama_buf_str(b, " (THP disabled for this process: no huge pages)");
  llama_buf_str(b, "; spans recycled into longer classes' pages ");
  llama_buf_u64(b, s->recycled_spans, 0);
  llama_buf_str(b, "; span tails trimmed ");
  llama_buf_u64(b, s->span_trims, 0);
  llama_buf_str(b, " (");
  llama_buf_bytes(b, s->span_trimmed_bytes, 0);
  llama_buf_str(b, "); span switches ");
  llama_buf_u64(b, s->span_switches, 0);
  llama_buf_str(b, "; heap handovers ");
  llama_buf_u64(b, s->heap_handovers, 0);
  llama_buf_str(b, ", given up ");
  llama_buf_u64(b, s->heaps_given_up, 0);
  llama_buf_str(b, "\n");
  flush(fd, b);
}

/* LLAMA_STATS_INTERVAL_MS: one line of the accounting, for a time series
 * (the exit report shows only the end). Written by the background thread:
 *   llama-stats t_ms=T rss=R anon_huge=A resident=H live=L free_blocks=B
 *     free_units=U cached=C metadata=M large=G on_huge=P       (KiB) */
void llama_stats_line(int fd, uint64_t ms) {
  llama_stats_t s;
  stats_collect(&s);
  const llama_memory_t *m = &s.memory;
  const struct { const char *key; uint64_t v; } f[] = {
      {" rss=", s.process_rss},      {" anon_huge=", s.process_anon_huge},
      {" resident=", m->resident},   {" live=", m->live},
      {" free_blocks=", m->free_blocks}, {" free_units=", m->free_units},
      {" cached=", m->cached},       {" metadata=", m->metadata},
      {" large=", m->large},         {" on_huge=", m->huge}};
  char buf[512];
  llama_buf_t b = {buf, 0, sizeof buf};
  llama_buf_str(&b, "llama-stats t_ms=");
  llama_buf_u64(&b, ms, 0);
  for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
    llama_buf_str(&b, f[i].key);
    llama_buf_u64(&b, f[i].v >> 10, 0);
  }
  llama_buf_str(&b, "\n");
  flush(fd, &b);
}

LLAMA_EXPORT void llama_stats_print(int fd) {
  llama_stats_t s;
  stats_collect(&s);
  char buf[1024];
  llama_buf_t b = {buf, 0, sizeof buf};
  llama_buf_str(&b, "llamalloc statistics\n");
  llama_buf_str(&b, "class      bound    live bytes   live objs   allocations  "
                    "hp held  hp taken  hp freed  promo in  promo out    in spans  free units\n");
  flush(fd, &b);
  uint64_t live_total = 0;
  for (unsigned k = 0; k < LLAMA_NUM_BINS; k++) {
    llama_bin_stats_t *c = &s.bins[k];
    live_total += c->live_objects;
    llama_buf_str(&b, names[k]);
    for (size_t i = strlen(names[k]); i < 5; i++) llama_buf_str(&b, " ");
    const char *bound = llama_class_bound_label(k); /* "-" for the unclassified bin */
    for (size_t i = strlen(bound); i < 10; i++) llama_buf_str(&b, " ");
    llama_buf_str(&b, bound);
    llama_buf_bytes(&b, c->live_bytes, 14);
    llama_buf_u64(&b, c->live_objects, 12);
    llama_buf_u64(&b, c->allocations, 14);
    llama_buf_u64(&b, c->huge_pages_held, 9);
    llama_buf_u64(&b, c->huge_pages_acquired, 10);
    llama_buf_u64(&b, c->huge_pages_released, 10);
    llama_buf_u64(&b, c->promotions_in, 10);
    llama_buf_u64(&b, c->promotions_out, 11);
    llama_buf_bytes(&b, c->span_bytes, 12);
    llama_buf_bytes(&b, c->free_unit_bytes, 12);
    llama_buf_str(&b, "\n");
    flush(fd, &b);
  }
  llama_buf_str(&b, "huge pages: resident ");
  llama_buf_u64(&b, s.huge_pages_resident, 0);
  llama_buf_str(&b, " (");
  llama_buf_bytes(&b, s.huge_pages_resident * HUGE_PAGE_SIZE, 0);
  llama_buf_str(&b, "), cached ");
  llama_buf_u64(&b, s.huge_pages_cached, 0);
  llama_buf_str(&b, " (limit ");
  llama_buf_u64(&b, s.huge_page_cache_limit, 0);
  llama_buf_str(&b, "), peak ");
  llama_buf_u64(&b, s.huge_pages_peak, 0);
  llama_buf_str(&b, ", returned to the OS ");
  llama_buf_u64(&b, s.huge_pages_returned, 0);
  llama_buf_str(&b, "\nlarge objects: live ");
  llama_buf_u64(&b, s.large_live_objects, 0);
  llama_buf_str(&b, " (");
  llama_buf_bytes(&b, s.large_live_bytes, 0);
  llama_buf_str(&b, ")\nthreads: ");
  llama_buf_u64(&b, s.threads, 0);
  llama_buf_str(&b, "\nallocations: static ");
  llama_buf_u64(&b, s.allocations_static, 0);
  llama_buf_str(&b, ", predicted ");
  llama_buf_u64(&b, s.allocations_predicted, 0);
  llama_buf_str(&b, ", default ");
  llama_buf_u64(&b, s.allocations_default, 0);
  llama_buf_str(&b, "\n");
  flush(fd, &b);
  print_prediction(&b, &s);
  print_memory(fd, &b, &s);
  if (live_total == 0) llama_buf_str(&b, "all objects were freed\n");
  else {
    llama_buf_str(&b, "not freed: ");
    llama_buf_u64(&b, live_total, 0);
    llama_buf_str(&b, " objects\n");
  }
  flush(fd, &b);
}
