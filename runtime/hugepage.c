/* hugepage.c - huge pages and the bins that own them.
 *
 * Each bin (lifetime classes 0..6 plus the unclassified bin) owns a list of
 * 2 MiB huge pages and carves spans (runs of 32 KiB units) out of them. A
 * page that empties goes back to the pool's warm cache, newest first: a
 * short-lived class empties and refills pages every few milliseconds, and
 * faulting a fresh huge page costs a 2 MiB clear in the kernel (71% of the
 * time of the mixed-lifetime benchmark before this cache). A warm page idle
 * for LLAMA_PURGE_DELAY_MS (50 ms), or beyond the cache's learned limit
 * (the largest recent dip, at most LLAMA_HUGE_PAGE_CACHE = 16 pages), is
 * unmapped; expiry runs on every page release and in the maintenance.
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
  llama_huge_page_t *partial; /* pages with free units */
  llama_huge_page_t *full;    /* pages without */
  llama_huge_page_t *open;    /* the page being filled */
  uint64_t acquired, released, promotions_in, promotions_out; /* counters; pages held = list lengths */
  uint64_t recycled; /* spans of shorter classes placed in this bin's pages */
  /* Published copies of "partial != NULL" and "holds any page", so that
   * other threads may skip a bin without taking its lock. */
  _Atomic uint8_t has_partial, has_pages;
  /* Eager huge pages (carve_fresh): the bin's newest page (the probe) and
   * when the bin took it; when the probe became dense within the purge
   * delay, a page the bin takes from the OS before eager_until (0: none)
   * is faulted in huge. probe and probe_ns: bin lock. */
  llama_huge_page_t *probe;
  uint64_t probe_ns;
  _Atomic uint64_t eager_until;
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
  _Atomic uint64_t collapses, breaks; /* pages made huge / split again (subrelease) */
  _Atomic uint64_t eager;             /* pages faulted in huge at first touch */
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER};

static _Atomic uint64_t next_deadline_check;

/* Work for the background thread (or the next slow path): set when a page
 * gets free units, empties, or becomes dense enough to collapse. */
static _Atomic int work_pending;

/* The bounds are the contract's (include/llama/classes.h). */
LLAMA_EXPORT uint64_t llama_class_bound_ns(unsigned k) { return llama_class_upper_bound_ns(k); }

static uint64_t bin_deadline(unsigned bin, uint64_t now) {
  if (bin + 1 >= LLAMA_NUM_CLASSES || !llama_options.promote) return 0;
  return now + llama_class_bound_ns(bin) * llama_options.deadline_slack;
}

static void note_work(void) {
  /* seq_cst store (see background.c), only when the flag is clear: a span
   * release in a busy program must not write a shared line every time. */
  if (!atomic_load_explicit(&work_pending, memory_order_relaxed)) atomic_store(&work_pending, 1);
  llama_background_wake();
}

void llama_hugepages_note_work(void) { note_work(); }

bool llama_hugepages_work_pending(void) { return atomic_load(&work_pending) != 0; }

/* At the start of a maintenance pass (background.c), before any of its
 * parts looks for work: work reported after this is seen by the next pass. */
void llama_hugepages_work_taken(void) { atomic_store(&work_pending, 0); }

/* ---- the pool of empty huge pages ---------------------------------------- */

/* How many empty pages the warm cache may hold: the largest recent "brief
 * dip" in the pages the bins hold, as TCMalloc's HugeCache sizes itself. A
 * dip is the bins' usage falling and coming back within the window: a
 * short-lived class that empties and refills pages every few milliseconds
 * dips by those pages, and caching them saves their page faults. A program
 * that frees a lot once (the SQLite shell's VACUUM frees 8 MiB 20-40 ms
 * before it exits; a server after a burst) has no such dip, and what it
 * frees beyond the limit is unmapped at once instead of after
 * LLAMA_PURGE_DELAY_MS. The limit grows on a miss (a page had to come from
 * the OS) to min(how far usage fell from the window's peak, how far it has
 * come back from the window's low) plus a tenth (rounded down), up to
 * LLAMA_HUGE_PAGE_CACHE; it starts at 0 and does not shrink (cached pages
 * still expire after the purge delay, which bounds what it holds). The
 * window is 2 purge delays (100 ms), kept as 4 epochs of usage extremes:
 * a cached page lives one purge delay, so a dip that takes longer to come
 * back cannot be served from the cache, and counting it only kept pages
 * that expired unused. (With a 1 s window the SQLite shell, whose usage
 * rises by a page every ~0.4 s, learned a limit of 2 that no dip used,
 * and kept 4 MiB of VACUUM's pages to its exit.)
 * All under the pool lock. */
#define DEMAND_EPOCHS 4

static struct {
  struct {
    uint32_t min_usage, max_usage; /* pages held by bins */
    uint32_t max_off_peak;         /* the window's peak usage minus usage, at releases */
  } e[DEMAND_EPOCHS];
  unsigned cur;
  uint64_t cur_start;
  uint32_t limit;
} demand;

/* Pages the bins hold: taken from the pool and not put back. */
static uint32_t pool_usage(void) { return (uint32_t)(pool.resident - pool.warm_count); }

static void demand_advance(uint64_t now) {
  uint64_t len = llama_purge_delay_ns() / 2; /* window / 4 */
  unsigned steps = 0;
  if (now < demand.cur_start) return; /* read before another thread's report */
  if (demand.cur_start && len) {
    while (now - demand.cur_start >= len && steps <= DEMAND_EPOCHS) {
      demand.cur_start += len;
      steps++;
    }
    if (steps > DEMAND_EPOCHS) demand.cur_start = now;
  } else {
    demand.cur_start = now;
    steps = DEMAND_EPOCHS;
  }
  for (unsigned i = 0; i < steps && i < DEMAND_EPOCHS; i++) {
    demand.cur = (demand.cur + 1) % DEMAND_EPOCHS;
    demand.e[demand.cur].min_usage = demand.e[demand.cur].max_usage = pool_usage();
    demand.e[demand.cur].max_off_peak = 0;
  }
}

static uint32_t demand_max_usage(void) {
  uint32_t m = 0;
  for (unsigned i = 0; i < DEMAND_EPOCHS; i++)
    if (demand.e[i].max_usage > m) m = demand.e[i].max_usage;
  return m;
}

/* The pool's counters just changed by a page taken or (released) put back. */
static void demand_report(uint64_t now, bool released) {
  demand_advance(now);
  uint32_t usage = pool_usage();
  if (usage < demand.e[demand.cur].min_usage) demand.e[demand.cur].min_usage = usage;
  if (usage > demand.e[demand.cur].max_usage) demand.e[demand.cur].max_usage = usage;
  if (released) {
    uint32_t off_peak = demand_max_usage() - usage;
    if (off_peak > demand.e[demand.cur].max_off_peak) demand.e[demand.cur].max_off_peak = off_peak;
  }
}

/* A page had to come from the OS: grow the limit to the dip it ends. */
static void demand_miss(void) {
  uint32_t usage = pool_usage(), shrink = 0, low = usage;
  for (unsigned i = 0; i < DEMAND_EPOCHS; i++) {
    if (demand.e[i].max_off_peak > shrink) shrink = demand.e[i].max_off_peak;
    if (demand.e[i].min_usage < low) low = demand.e[i].min_usage;
  }
  uint32_t grow = usage - low, dip = shrink < grow ? shrink : grow;
  uint32_t limit = dip + dip / 10; /* TCMalloc's slack, rounded down: a dip of 1 caches 1 */
  if (limit > llama_options.huge_page_cache) limit = llama_options.huge_page_cache;
  if (limit > demand.limit) demand.limit = limit;
}

/* A page for a bin: a warm one, else a new one, faulted in huge at its
 * first touch when `eager` and the kernel agrees; *fresh says which. */
static llama_huge_page_t *pool_take(bool eager, bool *fresh_out) {
  llama_huge_page_t *page = NULL;
  bool fresh = true;
  uint64_t now = llama_now_ns();
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
      /* Lazy huge pages: a page becomes huge only once dense (see
       * llama_span_acquire); until then it is backed by 4 KiB pages, also
       * when THP is "always" (MADV_NOHUGEPAGE), so a bin holding a few
       * objects costs their 4 KiB pages, not 2 MiB. */
      if (llama_lazy_huge()) llama_os_hugepage_forbid(chunk, size);
      else llama_os_hugepage_advise(chunk, size);
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
      return pool_take(eager, fresh_out);
    }
    page = (llama_huge_page_t *)pool.chunk_next;
    pool.chunk_next += HUGE_PAGE_SIZE;
  }
  if (fresh) {
    pool.resident++;
    if (pool.resident > pool.peak) pool.peak = pool.resident;
  }
  demand_report(now, false);
  if (fresh) demand_miss();
  pthread_mutex_unlock(&pool.lock);
  *fresh_out = fresh;
  if (fresh) {
    bool huge;
    if (llama_lazy_huge()) {
      huge = eager && llama_os_hugepage_fault_huge(page);
      if (huge) atomic_fetch_add_explicit(&pool.eager, 1, memory_order_relaxed);
    } else {
      huge = llama_options.huge_pages && !llama_os_thp_disabled(); /* advised at mapping */
    }
    page->huge = huge; /* the first touch, but for an eager page's */
  } else {
    /* Keep whether the cached page is huge: its memory is still backed so. */
    uint8_t huge = page->huge;
    memset(page, 0, sizeof(*page)); /* new chunk pages are zero */
    page->huge = huge;
  }
  /* Zeroing only the header is enough: spans carve blocks without assuming
   * zeroed memory, and calloc clears what it hands out. */
  return page;
}

/* Takes expired or surplus warm pages off the cache (pool lock held) and
 * returns them as a list to unmap outside the lock. */
static llama_huge_page_t *pool_take_expired(uint64_t now, bool force) {
  llama_huge_page_t *out = NULL;
  uint64_t delay = llama_purge_delay_ns();
  while (pool.warm_tail) {
    llama_huge_page_t *page = pool.warm_tail;
    bool expired = force || pool.warm_count > demand.limit || now - page->deadline_ns >= delay;
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
  demand_report(now, true);
  llama_huge_page_t *expired = pool_take_expired(now, false);
  pthread_mutex_unlock(&pool.lock);
  unmap_list(expired); /* outside the lock: syscalls */
  note_work();
}

/* Unmaps warm pages: all of them when force, else the expired and surplus.
 * Returns whether warm pages remain (work for later). */
bool llama_hugepages_trim(bool force) {
  uint64_t now = llama_now_ns();
  pthread_mutex_lock(&pool.lock);
  llama_huge_page_t *expired = pool_take_expired(now, force);
  bool left = pool.warm_count != 0;
  pthread_mutex_unlock(&pool.lock);
  unmap_list(expired);
  return left;
}

/* ---- bin page lists (bin lock held) --------------------------------------- */

static void list_add(llama_huge_page_t **head, llama_huge_page_t *page) {
  page->prev = NULL;
  page->next = *head;
  if (*head) (*head)->prev = page;
  *head = page;
}

/* The partial list is kept in address order, so that new spans come from
 * the lowest page with room (bin_find_page). */
static void list_add_ordered(llama_huge_page_t **head, llama_huge_page_t *page) {
  llama_huge_page_t *before = NULL, *after = *head;
  while (after && after < page) before = after, after = after->next;
  page->prev = before;
  page->next = after;
  if (after) after->prev = page;
  if (before) before->next = page;
  else *head = page;
}

static void list_del(llama_huge_page_t **head, llama_huge_page_t *page) {
  if (page->prev) page->prev->next = page->next;
  else *head = page->next;
  if (page->next) page->next->prev = page->prev;
  page->next = page->prev = NULL;
}

static llama_huge_page_t **page_list(llama_bin_t *bin, const llama_huge_page_t *page) {
  return page->free_units ? &bin->partial : &bin->full;
}

static void bin_publish(llama_bin_t *bin) {
  atomic_store_explicit(&bin->has_partial, bin->partial != NULL, memory_order_relaxed);
  atomic_store_explicit(&bin->has_pages, bin->partial || bin->full, memory_order_relaxed);
}

/* A racy peek (a stale answer costs a page or postpones work by a tick). */
static bool bin_peek_partial(llama_bin_t *bin) {
  return atomic_load_explicit(&bin->has_partial, memory_order_relaxed);
}
static bool bin_peek_pages(llama_bin_t *bin) {
  return atomic_load_explicit(&bin->has_pages, memory_order_relaxed);
}

static void bin_link(llama_bin_t *bin, llama_huge_page_t *page) {
  if (page->free_units) list_add_ordered(&bin->partial, page);
  else list_add(&bin->full, page);
  bin_publish(bin);
}

static void bin_unlink(llama_bin_t *bin, llama_huge_page_t *page) {
  list_del(page_list(bin, page), page);
  if (bin->open == page) bin->open = NULL;
  if (bin->probe == page) bin->probe = NULL;
  bin_publish(bin);
}

/* Sets a page's free-unit bitmap, moving it between the partial and full
 * lists when it fills or gets its first free unit. */
static void page_set_free(llama_bin_t *bin, llama_huge_page_t *page, uint64_t free_units) {
  bool was_full = page->free_units == 0, is_full = free_units == 0;
  if (was_full != is_full) {
    list_del(was_full ? &bin->full : &bin->partial, page);
    page->free_units = free_units;
    if (is_full) list_add(&bin->full, page);
    else list_add_ordered(&bin->partial, page);
    bin_publish(bin);
  } else {
    page->free_units = free_units;
  }
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

/* Best fit among a bin's partly used pages: the fullest page with a run
 * (TCMalloc's HugeFiller does the same: dense pages get denser, sparse pages
 * drain and can be released). `skip` (the owner's open page, when looking for
 * holes for another bin) is not considered. */
static llama_huge_page_t *bin_best_fit(llama_bin_t *bin, unsigned units, int *unit,
                                       const llama_huge_page_t *skip) {
  llama_huge_page_t *best = NULL;
  int best_free = UNITS_PER_HUGE_PAGE + 1, best_unit = -1;
  for (llama_huge_page_t *p = bin->partial; p; p = p->next) {
    if (p == skip || p->sparse) continue;
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

/* Own pages: the lowest-addressed page with room (address-ordered first
 * fit; the partial list is in address order). Against "the open page, else
 * the fullest" (TCMalloc's HugeFiller order), a program that refills the
 * same amount of memory over and over (xmllint --repeat) reuses the same
 * low units each time instead of touching all of its pages' units: 10.3 ->
 * 9.2-9.5 MiB time-averaged there; the benchmarks did not move (design.md
 * §2.5). Low pages fill and high pages drain, so emptied pages still come
 * free to be released, as with fullest-first. */
static llama_huge_page_t *bin_find_page(llama_bin_t *bin, unsigned units, int *unit, bool sparse) {
  for (llama_huge_page_t *p = bin->partial; p; p = p->next)
    if (p->sparse == sparse && (*unit = find_run(p->free_units, units)) >= 0) return p;
  return NULL;
}

/* Bins whose holes bin `b` may fill, longest-lived first (recycling, as in
 * the LLAMA paper: an object that dies sooner than its page's owners costs
 * nothing there, and a hole filled is a page not taken). Classes 0..5 use
 * the holes of longer classes; unclassified objects only those of class 6;
 * class 6 only its own. Returns how many bins were written to order[]. */
unsigned llama_recycle_order(unsigned b, unsigned order[LLAMA_NUM_BINS]) {
  unsigned n = 0;
  if (!llama_options.recycle) return 0;
  if (b == LLAMA_BIN_UNCLASSIFIED) {
    order[n++] = LLAMA_NUM_CLASSES - 1;
    return n;
  }
  for (unsigned j = LLAMA_NUM_CLASSES - 1; j > b; j--) order[n++] = j;
  return n;
}

static void check_deadlines(uint64_t now);

/* Units in use in a page. */
static unsigned page_used_units(const llama_huge_page_t *page) {
  return UNITS_PER_HUGE_PAGE - (unsigned)__builtin_popcountll(page->free_units);
}

/* Pages a bin holds (bin lock). */
static uint64_t bin_pages(const llama_bin_t *bin) {
  return bin->acquired - bin->released + bin->promotions_in - bin->promotions_out;
}

/* Marks units [unit, unit+units) of page used by a span of bin `span_bin`
 * (bin lock of the page's owner held) and returns the descriptor. Sets
 * *collapse when the page became dense enough to be made huge. */
static llama_span_t *carve(llama_bin_t *owner, llama_huge_page_t *page, unsigned unit,
                           unsigned units, unsigned span_bin, bool *collapse) {
  page_set_free(owner, page, page->free_units & ~unit_mask(unit, units));
  page->purged_units &= ~unit_mask(unit, units); /* they fault back in */
  page->idle_units &= ~unit_mask(unit, units);   /* in use: not idle */
  for (unsigned u = 0; u < units; u++) page->unit_head[unit + u] = (uint8_t)unit;
  *collapse = false;
  if (llama_lazy_huge() && page_used_units(page) >= llama_options.huge_page_units) {
    /* Eager huge pages (design.md §2.5). A lazy page costs a collapse once
     * dense: a 2 MiB copy, after a fault per 4 KiB page. A bin whose newest
     * page became dense within the purge delay is growing: if it holds at
     * least LLAMA_EAGER_HUGE_PAGES pages (so that the open page's unused
     * part, resident from the start, is a small share of it), its next page
     * from the OS within one more delay is faulted in huge (carve_fresh). */
    if (owner->probe == page) {
      owner->probe = NULL;
      uint64_t now = llama_coarse_ns(), delay = llama_purge_delay_ns();
      unsigned min_pages = llama_options.eager_huge_pages;
      if (min_pages && delay && bin_pages(owner) >= min_pages && now - owner->probe_ns <= delay)
        atomic_store_explicit(&owner->eager_until, now + delay, memory_order_relaxed);
    }
    if (!page->huge && !page->want_huge && !page->sparse) {
      page->want_huge = 1;
      page->collapse_retries = 0;
      *collapse = true;
    }
  }
  llama_span_t *span = &page->spans[unit];
  span->end = (uint32_t)((unit + units) * UNIT_SIZE);
  span->units = (uint8_t)units;
  span->bin = (uint8_t)span_bin;
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

/* Makes a dense page huge: MADV_HUGEPAGE, then MADV_COLLAPSE (the kernel
 * copies its 4 KiB pages into one huge page now instead of waiting for
 * khugepaged). Owner's bin lock held, so the page cannot empty, move or be
 * released meanwhile; the syscall is slow (about a 2 MiB copy), which is why
 * the background thread does it when it runs. */
#define COLLAPSE_RETRIES 8 /* EAGAIN failures retried per dense page */
static void collapse_locked(llama_huge_page_t *page) {
  page->want_huge = 0;
  if (page->huge || page->sparse || page_used_units(page) < llama_options.huge_page_units) return;
  /* A failed collapse leaves the page on 4 KiB pages, purged and trimmed as
   * such: believed huge, its free units stayed resident (Ruby turns THP off
   * for itself, and held 1.3x the best peer's peak RSS under LLAMA). */
  int r = llama_os_hugepage_collapse(page);
  if (r < 0 && page->collapse_retries < COLLAPSE_RETRIES) {
    page->collapse_retries++;
    page->want_huge = 1; /* the next maintenance pass tries again */
    return;
  }
  if (r <= 0) return;
  page->huge = 1;
  atomic_fetch_add_explicit(&pool.collapses, 1, memory_order_relaxed);
}

static void collapse_page(llama_huge_page_t *page) {
  llama_bin_t *bin = lock_page_bin(page);
  if (page->region_kind == REGION_HUGE_PAGE && page->free_units != ALL_UNITS_FREE)
    collapse_locked(page);
  pthread_mutex_unlock(&bin->lock);
}

/* A run of `units` units in pages already held: the bin's own, then holes
 * in the pages of longer-lived bins. NULL when there is none. */
static llama_span_t *acquire_held(unsigned bin_index, unsigned units, bool *collapse) {
  llama_span_t *span = NULL;
  llama_huge_page_t *page;
  int unit;
  /* 1. The bin's own pages. */
  llama_bin_t *bin = &bins[bin_index];
  pthread_mutex_lock(&bin->lock);
  if ((page = bin_find_page(bin, units, &unit, false))) {
    bin->open = page;
    span = carve(bin, page, (unsigned)unit, units, bin_index, collapse);
  }
  pthread_mutex_unlock(&bin->lock);
  /* 2. Holes in the pages of longer-lived bins. */
  if (!span) {
    unsigned order[LLAMA_NUM_BINS], n = llama_recycle_order(bin_index, order);
    for (unsigned i = 0; i < n && !span; i++) {
      llama_bin_t *other = &bins[order[i]];
      if (!bin_peek_partial(other)) continue;
      pthread_mutex_lock(&other->lock);
      if ((page = bin_best_fit(other, units, &unit, other->open))) {
        span = carve(other, page, (unsigned)unit, units, bin_index, collapse);
        other->recycled++;
      }
      pthread_mutex_unlock(&other->lock);
    }
  }
  return span;
}

/* Every span acquisition: deadlines at most once a millisecond, and the
 * maintenance there when no background thread runs it. */
static uint64_t acquire_prologue(void) {
  uint64_t now = llama_now_ns();
  if (now >= atomic_load_explicit(&next_deadline_check, memory_order_relaxed)) {
    atomic_store_explicit(&next_deadline_check, now + 1000000, memory_order_relaxed);
    if (llama_options.promote) check_deadlines(now);
    if (!llama_background_running()) llama_memory_maintain(now, false);
  }
  return now;
}

/* A page from the pool for bin `bin_index`, its first `units` units
 * carved (NULL when the OS refuses memory). A sparse page (for sparse
 * spans) is never the bin's open page, and a page the warm cache hands back
 * still huge cannot be one. */
static llama_span_t *carve_fresh(unsigned bin_index, unsigned units, bool sparse, bool *collapse) {
  llama_bin_t *bin = &bins[bin_index];
  uint64_t until = sparse ? 0 : atomic_load_explicit(&bin->eager_until, memory_order_relaxed);
  bool eager = until && llama_coarse_ns() <= until, fresh;
  llama_huge_page_t *page = pool_take(eager, &fresh);
  if (!page) return NULL;
  if (until && fresh) atomic_store_explicit(&bin->eager_until, 0, memory_order_relaxed); /* used */
  page->region_kind = REGION_HUGE_PAGE;
  page->free_units = ALL_UNITS_FREE;
  page->sparse = sparse && !page->huge;
  atomic_store_explicit(&page->bin, bin_index, memory_order_relaxed);
  pthread_mutex_lock(&bin->lock);
  bin_link(bin, page);
  bin->acquired++;
  if (!page->sparse) {
    bin->open = page;
    bin->probe = page;
    bin->probe_ns = llama_coarse_ns();
  }
  llama_span_t *span = carve(bin, page, 0, units, bin_index, collapse);
  pthread_mutex_unlock(&bin->lock);
  llama_background_start();
  return span;
}

/* Every acquisition's end: the page's deadline restarts (it receives new
 * objects again) and a page that became dense is collapsed. */
static llama_span_t *acquired(llama_span_t *span, unsigned bin_index, uint64_t now, bool collapse) {
  llama_huge_page_t *page = llama_huge_page_of(span);
  if (atomic_load_explicit(&page->bin, memory_order_relaxed) == bin_index)
    atomic_store_explicit(&page->deadline_ns, bin_deadline(bin_index, now), memory_order_relaxed);
  if (collapse) {
    if (llama_background_running()) note_work();
    else collapse_page(page);
  }
  return span;
}

/* Takes between min_units and max_units consecutive units (as many as held
 * pages offer, halving from max_units; a fresh page gives max_units) for a
 * new span of bin `bin`. Returns the span descriptor (kind SPAN_UNUSED,
 * fields end/units/bin set) or NULL when the OS refuses memory. */
llama_span_t *llama_span_acquire_range(unsigned bin_index, unsigned min_units, unsigned max_units) {
  uint64_t now = acquire_prologue();
  bool collapse = false;
  llama_span_t *span = NULL;
  for (unsigned units = max_units;;) {
    if ((span = acquire_held(bin_index, units, &collapse)) || units <= min_units) break;
    units = units / 2 > min_units ? units / 2 : min_units;
  }
  if (!span && !(span = carve_fresh(bin_index, max_units, false, &collapse))) return NULL;
  return acquired(span, bin_index, now, collapse);
}

llama_span_t *llama_span_acquire(unsigned bin_index, unsigned units) {
  return llama_span_acquire_range(bin_index, units, units);
}

/* One unit for a sparse span: the first span a heap has of a small size
 * class (heap.c), which is all the class ever has where it only churns. The
 * SQLite shell had twenty such spans, one per size class, each 32 KiB for
 * 0-2 KiB of live blocks, on huge pages: 620 KiB of its 1 MiB above live
 * (design.md §2.5). Sparse spans go to pages of their own that are never
 * made huge, where span trimming gives their free tails back at 4 KiB;
 * other spans never go there, so the dense pages fill with dense spans.
 * Where every page is huge anyway (LLAMA_HUGE_PAGE_UNITS=0), or the pool
 * hands back a page that is still huge, it is an ordinary span; where the
 * OS refuses a page, any room the bin has will do. */
llama_span_t *llama_span_acquire_sparse(unsigned bin_index) {
  if (!llama_lazy_huge()) return llama_span_acquire(bin_index, 1);
  uint64_t now = acquire_prologue();
  llama_bin_t *bin = &bins[bin_index];
  llama_span_t *span = NULL;
  llama_huge_page_t *page;
  bool collapse = false;
  int unit;
  pthread_mutex_lock(&bin->lock);
  if ((page = bin_find_page(bin, 1, &unit, true)))
    span = carve(bin, page, (unsigned)unit, 1, bin_index, &collapse);
  pthread_mutex_unlock(&bin->lock);
  if (!span && !(span = carve_fresh(bin_index, 1, true, &collapse)))
    return llama_span_acquire(bin_index, 1);
  return acquired(span, bin_index, now, collapse);
}

/* Decommits [from, to), free memory inside one of the caller's spans (span
 * trimming, heap.c), when the span's page is on 4 KiB pages and not about
 * to be collapsed: taking 4 KiB pages out of a huge page would split it,
 * which only the page's maintenance decides (enough idle free space,
 * llama_hugepages_break_sparse). Under the page's bin lock, so that no
 * collapse runs meanwhile. Returns whether it decommitted. */
bool llama_hugepages_decommit_in_span(llama_span_t *span, uint8_t *from, uint8_t *to) {
  llama_huge_page_t *page = llama_huge_page_of(span);
  llama_bin_t *bin = lock_page_bin(page);
  bool ok = !page->huge && !page->want_huge;
  if (ok) llama_os_decommit(from, (size_t)(to - from));
  pthread_mutex_unlock(&bin->lock);
  return ok;
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
  llama_bin_t *bin = lock_page_bin(page);
  page_set_free(bin, page, page->free_units | unit_mask(unit, units));
  if (page->free_units == ALL_UNITS_FREE) {
    bin_unlink(bin, page);
    bin->released++;
    pthread_mutex_unlock(&bin->lock);
    pool_put(page);
    return;
  }
  pthread_mutex_unlock(&bin->lock);
  note_work();
}

/* A span became (active=true) or stopped being (false) a heap's current span.
 * When the last current span of a page goes, the page's deadline starts.
 *
 * Only pages that can be promoted keep the count: a page of class 6 or of
 * the unclassified bin has no deadline, and its count would only cost a
 * locked add on a shared line at every span switch (mimalloc-bench's larson:
 * 25% of its cycles, two threads switching spans of the same pages). The
 * test is stable but for one race: promote_list may see no current span,
 * then a span of the page becomes current (counted, bin 5), then the page
 * moves to bin 6, and the decrement is skipped. The count then stays up on
 * a page that is never promoted again (bin 6), and is reset when the page
 * is reused (pool_take clears the header): harmless, and no underflow. */
void llama_huge_page_span_active(llama_span_t *span, bool active) {
  llama_huge_page_t *page = llama_huge_page_of(span);
  if (!llama_options.promote ||
      atomic_load_explicit(&page->bin, memory_order_relaxed) + 1 >= LLAMA_NUM_CLASSES)
    return;
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

static void promote_list(llama_bin_t *from, llama_bin_t *to, unsigned k,
                         llama_huge_page_t *page, uint64_t now) {
  llama_huge_page_t *next;
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
}

/* Promotes every idle page of classes 0..5 whose deadline passed. Runs at
 * most every millisecond, from the span-acquisition slow path. */
static void check_deadlines(uint64_t now) {
  for (unsigned k = 0; k + 1 < LLAMA_NUM_CLASSES; k++) {
    llama_bin_t *from = &bins[k], *to = &bins[k + 1];
    if (!bin_peek_pages(from)) continue;
    pthread_mutex_lock(&from->lock);
    pthread_mutex_lock(&to->lock);
    promote_list(from, to, k, from->partial, now);
    promote_list(from, to, k, from->full, now);
    pthread_mutex_unlock(&to->lock);
    pthread_mutex_unlock(&from->lock);
  }
}

/* Gives the free units in `purgeable` back to the OS (bin lock held). The
 * header at the start of unit 0 is kept. */
static void decommit_units(llama_huge_page_t *page, uint64_t purgeable) {
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

/* Splits a huge page for good (owner's bin lock held): MADV_NOHUGEPAGE keeps
 * khugepaged from collapsing it back, which it would do with a single 4 KiB
 * page present; it becomes huge again once dense. */
static void break_locked(llama_huge_page_t *page) {
  llama_os_hugepage_forbid(page, HUGE_PAGE_SIZE);
  page->huge = 0;
  atomic_fetch_add_explicit(&pool.breaks, 1, memory_order_relaxed);
}

bool llama_hugepages_break_sparse(llama_huge_page_t *page, uint64_t other_free) {
  llama_bin_t *bin = lock_page_bin(page);
  uint64_t free_bytes = other_free + (uint64_t)__builtin_popcountll(page->free_units) * UNIT_SIZE;
  bool broke = page->huge && page->free_units != ALL_UNITS_FREE &&
               free_bytes >= (uint64_t)llama_options.purge_min_free_units * UNIT_SIZE;
  if (broke) break_locked(page);
  pthread_mutex_unlock(&bin->lock);
  return broke;
}

/* One page's share of the maintenance (owner's bin lock held). Returns true
 * when the page will need work later (free units not yet idle long enough).
 *
 * Idle units, unit by unit (a second-chance clock): a maintenance pass
 * marks the resident free units; a later pass, at least the purge delay on,
 * returns those of them that no span took meanwhile (carve unmarks), and
 * marks again. A unit goes back between one and two delays after it was
 * last freed, whatever its neighbours do. Before, a page was idle only when
 * none of its units had been freed for the delay: on a page whose other
 * units were reused every few milliseconds (xmllint's document, rebuilt
 * every 6 ms) units nobody used any more stayed resident for good, 1.0 MiB
 * at the document's peak beside 4.8 MiB in spans. */
static bool maintain_page(llama_huge_page_t *page, uint64_t now, bool force) {
  if (page->want_huge) collapse_locked(page);
  if (page->want_huge) return true; /* a collapse to try again: nothing to purge */
  if (!llama_options.purge_units && !force) return false;
  uint64_t resident = page->free_units & ~page->purged_units;
  if (!resident) return false;
  /* A huge page with too few free units to be worth a split: no work, now
   * or later (the thread may sleep; a span release wakes it). */
  if (page->huge && !force &&
      __builtin_popcountll(resident) < (int)llama_options.purge_min_free_units)
    return false;
  uint64_t delay = llama_purge_delay_ns();
  if (!force && (!page->idle_since_ns || now - page->idle_since_ns < delay)) {
    if (!page->idle_since_ns) {
      page->idle_units = resident;
      page->idle_since_ns = now;
    }
    return true;
  }
  uint64_t idle = force ? resident : page->idle_units & resident;
  /* Huge: subrelease only when enough of it is idle, and split it for good. */
  if (page->huge && __builtin_popcountll(idle) < (int)llama_options.purge_min_free_units && !force)
    idle = 0;
  if (idle) {
    if (page->huge) break_locked(page);
    decommit_units(page, idle);
  }
  page->idle_units = resident & ~idle;
  page->idle_since_ns = page->idle_units ? now : 0;
  return page->idle_units != 0;
}

/* The memory-returning work: expires warm pages, collapses dense pages,
 * subreleases sparse and idle free units (all of them when force). Runs on
 * the background thread, or at most once a millisecond from the allocation
 * slow path when there is none. Returns whether work remains for later. */
bool llama_hugepages_maintain(uint64_t now, bool force) {
  bool later = llama_hugepages_trim(force);
  for (unsigned b = 0; b < LLAMA_NUM_BINS; b++) {
    llama_bin_t *bin = &bins[b];
    if (!bin_peek_pages(bin)) continue;
    pthread_mutex_lock(&bin->lock);
    for (llama_huge_page_t *page = bin->partial; page; page = page->next)
      later |= maintain_page(page, now, force);
    for (llama_huge_page_t *page = bin->full; page; page = page->next) {
      if (page->want_huge) collapse_locked(page);
      later |= page->want_huge;
    }
    pthread_mutex_unlock(&bin->lock);
  }
  return later;
}

/* ---- statistics and fork -------------------------------------------------- */

void llama_hugepages_bin_stats(unsigned b, llama_bin_stats_t *out) {
  pthread_mutex_lock(&bins[b].lock);
  out->huge_pages_held = 0;
  for (unsigned l = 0; l < 2; l++)
    for (llama_huge_page_t *p = l ? bins[b].full : bins[b].partial; p; p = p->next) out->huge_pages_held++;
  out->huge_pages_acquired = bins[b].acquired;
  out->huge_pages_released = bins[b].released;
  out->promotions_in = bins[b].promotions_in;
  out->promotions_out = bins[b].promotions_out;
  pthread_mutex_unlock(&bins[b].lock);
}

/* Resident bytes of [p, p + size) (4 KiB pages; p page-aligned). */
static uint64_t resident_bytes(const void *p, size_t size) {
  unsigned char vec[HUGE_PAGE_SIZE / 4096];
  uint64_t total = 0;
  for (size_t off = 0; off < size; off += HUGE_PAGE_SIZE) {
    size_t len = size - off < HUGE_PAGE_SIZE ? size - off : HUGE_PAGE_SIZE;
    unsigned n = (unsigned)((len + 4095) / 4096);
    if (!llama_os_residency((const uint8_t *)p + off, len, vec)) continue;
    for (unsigned i = 0; i < n; i++) total += (vec[i] & 1) * 4096ull;
  }
  return total;
}

static void account_page(const llama_huge_page_t *page, unsigned owner, llama_stats_t *out) {
  unsigned char vec[HUGE_PAGE_SIZE / 4096];
  if (!llama_os_residency(page, HUGE_PAGE_SIZE, vec)) return;
  llama_memory_t *own = &out->memory_bins[owner];
  /* The header: the first 8 KiB. */
  for (unsigned i = 0; i < HUGE_PAGE_HEADER_SIZE / 4096; i++) own->metadata += (vec[i] & 1) * 4096ull;
  if (page->huge) own->huge += HUGE_PAGE_SIZE;
  for (unsigned u = 0; u < UNITS_PER_HUGE_PAGE;) {
    unsigned first = u == 0 ? HUGE_PAGE_HEADER_SIZE / 4096 : u * (UNIT_SIZE / 4096);
    if ((page->free_units >> u) & 1) {
      uint64_t r = 0;
      for (unsigned i = first; i < (u + 1) * (UNIT_SIZE / 4096); i++) r += (vec[i] & 1) * 4096ull;
      own->free_units += r;
      u++;
      continue;
    }
    const llama_span_t *span = &page->spans[u];
    unsigned units = span->units ? span->units : 1;
    if (page->unit_head[u] != u) { /* not a span start: defensive */
      u++;
      continue;
    }
    uint64_t r = 0;
    for (unsigned i = first; i < (u + units) * (UNIT_SIZE / 4096) && i < HUGE_PAGE_SIZE / 4096; i++)
      r += (vec[i] & 1) * 4096ull;
    unsigned b = span->bin < LLAMA_NUM_BINS ? span->bin : owner;
    uint64_t live = 0;
    if (span->kind != SPAN_UNUSED) {
      /* Racy read of owner fields: a snapshot, as documented. */
      uint32_t used = __atomic_load_n(&span->used, __ATOMIC_RELAXED);
      live = span->kind == SPAN_EXTENT ? __atomic_load_n(&span->live_bytes, __ATOMIC_RELAXED)
                                       : (uint64_t)used * span->block_size;
      out->bins[b].live_objects += used;
      out->bins[b].live_bytes += live;
      out->bins[owner].span_bytes += (uint64_t)units * UNIT_SIZE;
    }
    uint64_t live_resident = live < r ? live : r;
    out->memory_bins[b].live += live_resident;
    out->memory_bins[b].free_blocks += r - live_resident;
    u += units;
  }
}

/* Adds the live objects and bytes of every span to out->bins[span's bin],
 * and the residency of every held and cached page to out->memory_bins. */
void llama_hugepages_live(llama_stats_t *out) {
  for (unsigned b = 0; b < LLAMA_NUM_BINS; b++) {
    pthread_mutex_lock(&bins[b].lock);
    for (unsigned l = 0; l < 2; l++)
      for (llama_huge_page_t *page = l ? bins[b].full : bins[b].partial; page; page = page->next) {
        out->bins[b].free_unit_bytes += (uint64_t)__builtin_popcountll(page->free_units) * UNIT_SIZE;
        account_page(page, b, out);
      }
    out->recycled_spans += bins[b].recycled;
    pthread_mutex_unlock(&bins[b].lock);
  }
  pthread_mutex_lock(&pool.lock);
  for (llama_huge_page_t *page = pool.warm; page; page = page->next) {
    out->memory.cached += resident_bytes(page, HUGE_PAGE_SIZE);
    if (page->huge) out->memory.huge += HUGE_PAGE_SIZE;
  }
  out->huge_page_collapses = atomic_load_explicit(&pool.collapses, memory_order_relaxed);
  out->huge_page_breaks = atomic_load_explicit(&pool.breaks, memory_order_relaxed);
  out->huge_pages_eager = atomic_load_explicit(&pool.eager, memory_order_relaxed);
  pthread_mutex_unlock(&pool.lock);
}

uint64_t llama_resident_bytes(const void *p, size_t size) { return resident_bytes(p, size); }

void llama_hugepages_global_stats(llama_stats_t *out) {
  pthread_mutex_lock(&pool.lock);
  out->huge_pages_resident = pool.resident;
  out->huge_pages_cached = pool.warm_count;
  out->huge_pages_peak = pool.peak;
  out->huge_pages_returned = pool.returned;
  out->huge_page_cache_limit = demand.limit;
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
