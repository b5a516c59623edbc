/* hugepage.c - huge pages and the bins that own them.
 *
 * Each bin (lifetime classes 0..6 plus the unclassified bin) owns a list of
 * 2 MiB huge pages and carves spans (runs of 32 KiB units) out of them. A
 * page that empties goes back to the pool's warm cache, newest first: a
 * short-lived class empties and refills pages every few milliseconds, and
 * faulting a fresh huge page costs a 2 MiB clear in the kernel (71% of the
 * time of the mixed-lifetime benchmark before this cache). A warm page idle
 * for LLAMA_PURGE_DELAY_MS (50 ms), or beyond LLAMA_HUGE_PAGE_CACHE (64) pages, is
 * unmapped; expiry runs on every page release and at least once a
 * millisecond from the allocation slow path.
 *
 * Deadlines: a page that stops receiving new spans (no heap has a current
 * span in it) gets deadline = now + slack x bound(class). A page still holding
 * live objects after its deadline was mispredicted: it moves to the next
 * longer class, and its free units serve that class from then on.
 *
 * Released pages are unmapped, not decommitted in place: a free list threaded
 * through decommitted pages would fault them (a whole THP) back in.
 *
 * Locks: bin locks in ascending bin order, then the pool lock. */
#include "internal.h"

#include <string.h>

typedef struct llama_bin_s {
  pthread_mutex_t lock;
  llama_huge_page_t *pages; /* every page owned by the bin */
  llama_huge_page_t *open;  /* the page being filled */
  uint64_t held, acquired, released, promotions_in, promotions_out;
} llama_bin_t;

static llama_bin_t bins[LLAMA_NUM_BINS] = {
    [0 ... LLAMA_NUM_BINS - 1] = {.lock = PTHREAD_MUTEX_INITIALIZER}};

#define CHUNK_PAGES 16 /* huge pages reserved per mmap */

static struct {
  pthread_mutex_t lock;
  llama_huge_page_t *warm, *warm_tail; /* empty, resident; newest first */
  unsigned warm_count;
  uint8_t *chunk_next, *chunk_end; /* reserved, never used */
  uint64_t resident, peak, returned;
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER};

static _Atomic uint64_t next_deadline_check;

LLAMA_EXPORT uint64_t llama_class_bound_ns(unsigned k) {
  static const uint64_t bounds[LLAMA_NUM_CLASSES] = {
      10000000ull, 100000000ull, 1000000000ull, 10000000000ull,
      100000000000ull, 1000000000000ull, UINT64_MAX};
  return k < LLAMA_NUM_CLASSES ? bounds[k] : UINT64_MAX;
}

static uint64_t bin_deadline(unsigned bin, uint64_t now) {
  if (bin + 1 >= LLAMA_NUM_CLASSES || !llama_options.promote) return 0;
  return now + llama_class_bound_ns(bin) * llama_options.deadline_slack;
}

/* ---- the pool of empty huge pages ---------------------------------------- */

static llama_huge_page_t *pool_take(void) {
  llama_huge_page_t *page = NULL;
  bool fresh = true;
  pthread_mutex_lock(&pool.lock);
  if (pool.warm) {
    page = pool.warm;
    pool.warm = page->next;
    if (pool.warm) pool.warm->prev = NULL;
    else pool.warm_tail = NULL;
    pool.warm_count--;
    fresh = false;
  } else {
    if (pool.chunk_next == pool.chunk_end) {
      pthread_mutex_unlock(&pool.lock);
      size_t size = CHUNK_PAGES * HUGE_PAGE_SIZE;
      uint8_t *chunk = llama_os_map_aligned(size, HUGE_PAGE_SIZE, NULL);
      if (!chunk) return NULL;
      /* Lazy huge pages (LLAMA_HUGE_PAGE_UNITS > 0): a page is advised
       * only once enough of it is in use (llama_span_acquire), so a bin
       * that holds a few objects costs their 4 KiB pages, not 2 MiB. */
      if (!llama_options.huge_page_units) llama_os_hugepage_advise(chunk, size);
      pthread_mutex_lock(&pool.lock);
      if (pool.chunk_next != pool.chunk_end) {
        /* Another thread refilled meanwhile: keep its chunk, drop ours. */
        pthread_mutex_unlock(&pool.lock);
        llama_os_unmap(chunk, size);
        pthread_mutex_lock(&pool.lock);
      } else {
        pool.chunk_next = chunk;
        pool.chunk_end = chunk + size;
      }
    }
    if (pool.chunk_next == pool.chunk_end) { /* raced dry again */
      pthread_mutex_unlock(&pool.lock);
      return pool_take();
    }
    page = (llama_huge_page_t *)pool.chunk_next;
    pool.chunk_next += HUGE_PAGE_SIZE;
  }
  if (fresh) {
    pool.resident++;
    if (pool.resident > pool.peak) pool.peak = pool.resident;
  }
  pthread_mutex_unlock(&pool.lock);
  if (!fresh) memset(page, 0, sizeof(*page)); /* new chunk pages are zero */
  /* Zeroing only the header is enough: spans carve blocks without assuming
   * zeroed memory, and calloc clears what it hands out. */
  return page;
}

/* Takes expired or surplus warm pages off the cache (pool lock held) and
 * returns them as a list to unmap outside the lock. */
static llama_huge_page_t *pool_take_expired(uint64_t now, bool force) {
  llama_huge_page_t *out = NULL;
  uint64_t delay = (uint64_t)llama_options.purge_delay_ms * 1000000ull;
  while (pool.warm_tail) {
    llama_huge_page_t *page = pool.warm_tail;
    bool expired = force || pool.warm_count > llama_options.huge_page_cache ||
                   now - page->deadline_ns >= delay;
    if (!expired) break;
    pool.warm_tail = page->prev;
    if (pool.warm_tail) pool.warm_tail->next = NULL;
    else pool.warm = NULL;
    pool.warm_count--;
    pool.resident--;
    pool.returned++;
    page->next = out;
    out = page;
  }
  return out;
}

static void unmap_list(llama_huge_page_t *page) {
  while (page) {
    llama_huge_page_t *next = page->next;
    llama_os_unmap(page, HUGE_PAGE_SIZE);
    page = next;
  }
}

static void pool_put(llama_huge_page_t *page) {
  uint64_t now = llama_now_ns();
  pthread_mutex_lock(&pool.lock);
  page->deadline_ns = now; /* in the pool: when it became empty */
  page->prev = NULL;
  page->next = pool.warm;
  if (pool.warm) pool.warm->prev = page;
  else pool.warm_tail = page;
  pool.warm = page;
  pool.warm_count++;
  llama_huge_page_t *expired = pool_take_expired(now, false);
  pthread_mutex_unlock(&pool.lock);
  unmap_list(expired); /* outside the lock: syscalls */
}

/* Unmaps warm pages: all of them when force, else the expired and surplus. */
void llama_hugepages_trim(bool force) {
  uint64_t now = llama_now_ns();
  pthread_mutex_lock(&pool.lock);
  llama_huge_page_t *expired = pool_take_expired(now, force);
  pthread_mutex_unlock(&pool.lock);
  unmap_list(expired);
}

/* ---- bin page lists (bin lock held) --------------------------------------- */

static void bin_link(llama_bin_t *bin, llama_huge_page_t *page) {
  page->prev = NULL;
  page->next = bin->pages;
  if (bin->pages) bin->pages->prev = page;
  bin->pages = page;
  bin->held++;
}

static void bin_unlink(llama_bin_t *bin, llama_huge_page_t *page) {
  if (page->prev) page->prev->next = page->next;
  else bin->pages = page->next;
  if (page->next) page->next->prev = page->prev;
  page->next = page->prev = NULL;
  if (bin->open == page) bin->open = NULL;
  bin->held--;
}

/* Bit mask of `units` units from `unit` (units <= UNITS_PER_HUGE_PAGE). */
static uint64_t unit_mask(unsigned unit, unsigned units) {
  uint64_t ones = units >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << units) - 1);
  return ones << unit;
}

/* Lowest unit index starting `units` consecutive free units, or -1. */
static int find_run(uint64_t free_units, unsigned units) {
  uint64_t m = free_units;
  for (unsigned k = 1; k < units && m; k++) m &= free_units >> k;
  return m ? __builtin_ctzll(m) : -1;
}

/* Best fit: the open page if it has room, else the fullest page with a run. */
static llama_huge_page_t *bin_find_page(llama_bin_t *bin, unsigned units, int *unit) {
  if (bin->open && (*unit = find_run(bin->open->free_units, units)) >= 0) return bin->open;
  llama_huge_page_t *best = NULL;
  int best_free = UNITS_PER_HUGE_PAGE + 1, best_unit = -1;
  for (llama_huge_page_t *p = bin->pages; p; p = p->next) {
    int nfree = __builtin_popcountll(p->free_units);
    if (nfree < (int)units || nfree >= best_free) continue;
    int u = find_run(p->free_units, units);
    if (u < 0) continue;
    best = p;
    best_free = nfree;
    best_unit = u;
    if (nfree == (int)units) break;
  }
  *unit = best_unit;
  return best;
}

static void check_deadlines(uint64_t now);
static void purge_free_units(uint64_t now, bool force);

/* Takes `units` consecutive units for a new span of bin `bin`. Returns the
 * span descriptor (kind SPAN_UNUSED, fields end/units/bin set) or NULL
 * when the OS refuses memory. */
llama_span_t *llama_span_acquire(unsigned bin_index, unsigned units) {
  uint64_t now = llama_now_ns();
  if (now >= atomic_load_explicit(&next_deadline_check, memory_order_relaxed)) {
    atomic_store_explicit(&next_deadline_check, now + 1000000, memory_order_relaxed);
    if (llama_options.promote) check_deadlines(now);
    llama_hugepages_trim(false);
    if (llama_options.purge_units) purge_free_units(now, false);
  }
  llama_bin_t *bin = &bins[bin_index];
  pthread_mutex_lock(&bin->lock);
  int unit;
  llama_huge_page_t *page = bin_find_page(bin, units, &unit);
  if (!page) {
    pthread_mutex_unlock(&bin->lock);
    page = pool_take();
    if (!page) return NULL;
    page->region_kind = REGION_HUGE_PAGE;
    page->free_units = ALL_UNITS_FREE;
    atomic_store_explicit(&page->bin, bin_index, memory_order_relaxed);
    pthread_mutex_lock(&bin->lock);
    bin_link(bin, page);
    bin->acquired++;
    unit = 0;
  }
  page->free_units &= ~unit_mask((unsigned)unit, units);
  page->purged_units &= ~unit_mask((unsigned)unit, units); /* they fault back in */
  for (unsigned u = 0; u < units; u++) page->unit_head[unit + u] = (uint8_t)unit;
  bin->open = page;
  atomic_store_explicit(&page->deadline_ns, bin_deadline(bin_index, now), memory_order_relaxed);
  bool collapse = false;
  if (!page->advised && llama_options.huge_page_units &&
      UNITS_PER_HUGE_PAGE - (unsigned)__builtin_popcountll(page->free_units) >=
          llama_options.huge_page_units) {
    page->advised = 1;
    collapse = true;
  }
  pthread_mutex_unlock(&bin->lock);
  if (collapse) llama_os_hugepage_collapse(page);

  llama_span_t *span = &page->spans[unit];
  span->end = (uint32_t)((unit + units) * UNIT_SIZE);
  span->units = (uint8_t)units;
  span->bin = (uint8_t)bin_index;
  span->kind = SPAN_UNUSED;
  return span;
}

/* Locks the bin that owns page now (the page may be promoted concurrently). */
static llama_bin_t *lock_page_bin(llama_huge_page_t *page) {
  for (;;) {
    unsigned b = atomic_load_explicit(&page->bin, memory_order_acquire);
    pthread_mutex_lock(&bins[b].lock);
    if (atomic_load_explicit(&page->bin, memory_order_relaxed) == b) return &bins[b];
    pthread_mutex_unlock(&bins[b].lock);
  }
}

/* Gives a span's units back to its huge page; an emptied page leaves its bin
 * and goes to the pool. The span must hold no live object. */
void llama_span_release(llama_span_t *span) {
  llama_huge_page_t *page = llama_huge_page_of(span);
  unsigned unit = llama_span_unit(span), units = span->units;
  span->kind = SPAN_UNUSED;
  llama_span_set_flags(span, 0);
  span->free = NULL;
  span->bump = 0;
  atomic_store_explicit(&span->heap, NULL, memory_order_relaxed);
  atomic_store_explicit(&span->thread_free, NULL, memory_order_relaxed);
  uint64_t now = llama_now_ns();
  llama_bin_t *bin = lock_page_bin(page);
  page->free_units |= unit_mask(unit, units);
  page->unit_freed_ns = now;
  if (page->free_units == ALL_UNITS_FREE) {
    bin_unlink(bin, page);
    bin->released++;
    pthread_mutex_unlock(&bin->lock);
    pool_put(page);
    return;
  }
  pthread_mutex_unlock(&bin->lock);
}

/* A span became (active=true) or stopped being (false) a heap's current span.
 * When the last current span of a page goes, the page's deadline starts. */
void llama_huge_page_span_active(llama_span_t *span, bool active) {
  llama_huge_page_t *page = llama_huge_page_of(span);
  if (active) {
    atomic_fetch_add_explicit(&page->active_spans, 1, memory_order_relaxed);
    return;
  }
  if (atomic_fetch_sub_explicit(&page->active_spans, 1, memory_order_relaxed) == 1) {
    unsigned b = atomic_load_explicit(&page->bin, memory_order_relaxed);
    atomic_store_explicit(&page->deadline_ns, bin_deadline(b, llama_now_ns()),
                          memory_order_relaxed);
  }
}

/* Promotes every idle page of classes 0..5 whose deadline passed. Runs at
 * most every millisecond, from the span-acquisition slow path. */
static void check_deadlines(uint64_t now) {
  for (unsigned k = 0; k + 1 < LLAMA_NUM_CLASSES; k++) {
    llama_bin_t *from = &bins[k], *to = &bins[k + 1];
    pthread_mutex_lock(&from->lock);
    pthread_mutex_lock(&to->lock);
    llama_huge_page_t *page = from->pages, *next;
    for (; page; page = next) {
      next = page->next;
      uint64_t deadline = atomic_load_explicit(&page->deadline_ns, memory_order_relaxed);
      if (!deadline || now <= deadline) continue;
      if (atomic_load_explicit(&page->active_spans, memory_order_relaxed)) continue;
      bin_unlink(from, page);
      from->promotions_out++;
      atomic_store_explicit(&page->bin, k + 1, memory_order_release);
      atomic_store_explicit(&page->deadline_ns, bin_deadline(k + 1, now), memory_order_relaxed);
      bin_link(to, page);
      to->promotions_in++;
    }
    pthread_mutex_unlock(&to->lock);
    pthread_mutex_unlock(&from->lock);
  }
}

/* Subrelease: gives back the free units of fragmented held pages (at least
 * LLAMA_PURGE_MIN_FREE free units, last unit freed more than
 * LLAMA_PURGE_DELAY_MS ago; every page with free units when force). This
 * splits the page's huge mapping (the kernel maps the rest with 4 KiB pages
 * until khugepaged collapses it again): huge-page coverage of a partly used
 * page is traded for RSS. The header at the start of unit 0 is kept. */
static void purge_free_units(uint64_t now, bool force) {
  uint64_t delay = (uint64_t)llama_options.purge_delay_ms * 1000000ull;
  for (unsigned b = 0; b < LLAMA_NUM_BINS; b++) {
    pthread_mutex_lock(&bins[b].lock);
    for (llama_huge_page_t *page = bins[b].pages; page; page = page->next) {
      uint64_t purgeable = page->free_units & ~page->purged_units;
      if (!purgeable) continue;
      /* Only fragmented pages: some span was freed in it (a page still being
       * filled for the first time keeps its huge mapping), it has been idle
       * for the delay, and most of it is free. */
      if (!force && (!page->unit_freed_ns || now - page->unit_freed_ns < delay ||
                     __builtin_popcountll(page->free_units) < (int)llama_options.purge_min_free_units))
        continue;
      page->purged_units |= purgeable;
      while (purgeable) {
        unsigned first = (unsigned)__builtin_ctzll(purgeable);
        unsigned last = first;
        while (last + 1 < UNITS_PER_HUGE_PAGE && (purgeable >> (last + 1)) & 1) last++;
        purgeable &= ~unit_mask(first, last - first + 1);
        uint8_t *from = (uint8_t *)page + (first == 0 ? HUGE_PAGE_HEADER_SIZE : (size_t)first * UNIT_SIZE);
        uint8_t *to = (uint8_t *)page + (size_t)(last + 1) * UNIT_SIZE;
        llama_os_decommit(from, (size_t)(to - from));
      }
    }
    pthread_mutex_unlock(&bins[b].lock);
  }
}

void llama_hugepages_purge(bool force) {
  if (llama_options.purge_units || force) purge_free_units(llama_now_ns(), force);
}

/* ---- statistics and fork -------------------------------------------------- */

void llama_hugepages_bin_stats(unsigned b, llama_bin_stats_t *out) {
  pthread_mutex_lock(&bins[b].lock);
  out->huge_pages_held = bins[b].held;
  out->huge_pages_acquired = bins[b].acquired;
  out->huge_pages_released = bins[b].released;
  out->promotions_in = bins[b].promotions_in;
  out->promotions_out = bins[b].promotions_out;
  pthread_mutex_unlock(&bins[b].lock);
}

/* Adds the live objects and bytes of every span to out->bins[span's bin]. */
void llama_hugepages_live(llama_stats_t *out) {
  for (unsigned b = 0; b < LLAMA_NUM_BINS; b++) {
    pthread_mutex_lock(&bins[b].lock);
    for (llama_huge_page_t *page = bins[b].pages; page; page = page->next) {
      out->bins[b].free_unit_bytes += (uint64_t)__builtin_popcountll(page->free_units) * UNIT_SIZE;
      for (unsigned u = 0; u < UNITS_PER_HUGE_PAGE; u++) {
        llama_span_t *span = &page->spans[u];
        if (page->unit_head[u] != u || (page->free_units >> u) & 1) continue;
        if (span->kind == SPAN_UNUSED) continue;
        /* Racy read of owner fields: a snapshot, as documented. */
        uint32_t used = __atomic_load_n(&span->used, __ATOMIC_RELAXED);
        out->bins[span->bin].live_objects += used;
        out->bins[span->bin].live_bytes += (uint64_t)used * span->block_size;
        out->bins[b].span_bytes += (uint64_t)span->units * UNIT_SIZE;
      }
    }
    pthread_mutex_unlock(&bins[b].lock);
  }
}

void llama_hugepages_global_stats(llama_stats_t *out) {
  pthread_mutex_lock(&pool.lock);
  out->huge_pages_resident = pool.resident;
  out->huge_pages_cached = pool.warm_count;
  out->huge_pages_peak = pool.peak;
  out->huge_pages_returned = pool.returned;
  pthread_mutex_unlock(&pool.lock);
}

void llama_hugepages_fork_prepare(void) {
  for (unsigned b = 0; b < LLAMA_NUM_BINS; b++) pthread_mutex_lock(&bins[b].lock);
  pthread_mutex_lock(&pool.lock);
}

void llama_hugepages_fork_parent(void) {
  pthread_mutex_unlock(&pool.lock);
  for (unsigned b = LLAMA_NUM_BINS; b-- > 0;) pthread_mutex_unlock(&bins[b].lock);
}

void llama_hugepages_fork_child(void) {
  pthread_mutex_init(&pool.lock, NULL);
  for (unsigned b = 0; b < LLAMA_NUM_BINS; b++) pthread_mutex_init(&bins[b].lock, NULL);
}
