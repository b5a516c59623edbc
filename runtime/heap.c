/* heap.c - thread heaps and the spans they own.
 *
 * Each thread has a heap with, per (bin, size class), a current span that the
 * fast path allocates from, plus lists of other owned spans with free blocks
 * ("avail") and without ("full"). A span is owned by one heap; its owner pops
 * and pushes its free list without atomics. Other threads push freed blocks on
 * the span's atomic thread_free list and flag the owner, who collects them on
 * its next slow path in that size class (or at a full sweep, every 256 slow
 * paths). When a thread exits, its heap turns vacant with its spans, and the
 * next thread that needs a heap takes it whole ("Heap handover" below). A
 * vacant heap that no thread takes within the purge delay is given up: its
 * spans are abandoned, and other heaps collect their remote frees, release
 * them once empty, and adopt them for reuse.
 *
 * A span that empties goes back to its huge page at once, unless it is the
 * current span of its size class: that one is kept (a malloc/free ping-pong
 * must not take the bin lock) until the next full sweep or llama_collect().
 *
 * Runs (one medium object, 128 KiB .. 1 MiB, in whole units) have no owner:
 * they are carved and released under the bin lock. */
#include "internal.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

llama_span_t llama_empty_span; /* never has blocks: makes the fast path fail */
/* The heap of a thread that has none yet (or whose heap it left at exit): every
 * current span is the empty one and no span is ever owned by it, so both fast
 * paths fail into their slow paths without testing the pointer for NULL. */
llama_heap_t llama_heap_empty = {
    .current = {[0 ... LLAMA_NUM_BINS - 1] = {[0 ... SIZE_CLASS_COUNT - 1] = &llama_empty_span}},
};
__thread llama_heap_t *llama_tls_heap __attribute__((tls_model("initial-exec"))) = &llama_heap_empty;

static pthread_mutex_t heaps_lock = PTHREAD_MUTEX_INITIALIZER;
static llama_heap_t *heaps_all;
static pthread_key_t heap_key;
static bool heap_key_ok;

static pthread_mutex_t abandoned_lock = PTHREAD_MUTEX_INITIALIZER;
static llama_span_t *abandoned; /* spans of exited threads */
static _Atomic size_t abandoned_count; /* lets callers skip the lock */

#define ADOPT_SCAN_MAX 32

/* Span trimming (see span_trim): how often, and how many bytes. */
static _Atomic uint64_t span_trims, span_trimmed_bytes;

/* Bytes of a block span's block area, [start, end): its blocks x their size. */
static uint32_t span_block_bytes(const llama_span_t *span) {
  return span->end - (uint32_t)(llama_span_start(span) - (uint8_t *)llama_huge_page_of(span));
}

/* ---- span lists ------------------------------------------------------------ */

static void list_push(llama_span_t **head, llama_span_t *span) {
  span->prev = NULL;
  span->next = *head;
  if (*head) (*head)->prev = span;
  *head = span;
}

static void list_remove(llama_span_t **head, llama_span_t *span) {
  if (span->prev) span->prev->next = span->next;
  else *head = span->next;
  if (span->next) span->next->prev = span->prev;
  span->next = span->prev = NULL;
}

/* Moves every block other threads freed into the span's own free list.
 * Caller owns the span. Returns the number of blocks collected. */
static uint32_t span_collect(llama_span_t *span) {
  /* Look before the exchange: most spans have no remote frees, and a read
   * leaves the line shared where a locked exchange takes it over. */
  if (!atomic_load_explicit(&span->thread_free, memory_order_relaxed)) return 0;
  llama_block_t *list = atomic_exchange_explicit(&span->thread_free, NULL, memory_order_acquire);
  if (!list) return 0;
  uint32_t n = 1;
  llama_block_t *tail = list;
  while (tail->next) {
    tail = tail->next;
    n++;
  }
  tail->next = span->free;
  span->free = list;
  llama_assert(span->used >= n);
  span->used -= n;
  return n;
}

LLAMA_INLINE bool span_has_room(const llama_span_t *span) {
  return span->free || span->bump + span->block_size <= span->end;
}

/* Carves never-used blocks: every block that starts in the 4 KiB page of the
 * next one (at least that one), so that the fast path serves the rest. Writing
 * their links touches no page the first block does not, so resident memory
 * is as with one block at a time; but a fresh span of small blocks no longer
 * takes one slow path per block (bench_fastpath, 16..512 B, took 2% of its
 * pairs through the slow path, most of them carving). */
static llama_block_t *span_carve(llama_span_t *span) {
  uint8_t *base = (uint8_t *)llama_huge_page_of(span);
  uint32_t bs = span->block_size, at = span->bump;
  uint32_t limit = ((at + 4096u) & ~4095u); /* blocks starting before this */
  if (limit > span->end - bs + 1) limit = span->end - bs + 1;
  llama_block_t *first = (llama_block_t *)(base + at), *last = first;
  for (at += bs; at < limit; at += bs) {
    llama_block_t *b = (llama_block_t *)(base + at);
    last->next = b;
    last = b;
  }
  last->next = NULL;
  span->bump = at;
  return first;
}

/* Pops a free block, or carves never-used ones. NULL when the span is full
 * (always for the empty sentinel, whose kind is SPAN_UNUSED). */
static void *span_pop(llama_span_t *span) {
  llama_block_t *block = span->free;
  if (block) {
    span->free = block->next;
  } else if (span->kind == SPAN_BLOCKS && span->bump + span->block_size <= span->end) {
    block = span_carve(span);
    span->free = block->next;
  } else {
    return NULL;
  }
  span->used++;
  return block;
}

/* ---- heaps ----------------------------------------------------------------- */

static void heap_vacate(void *arg);

/* LLAMA_DEFER_MAX if every span of class sc holds more blocks than that (a
 * span at a huge page's start loses its header's room), else 0. */
static uint8_t defer_limit(unsigned sc) {
  size_t bytes = llama_class_units(sc) * UNIT_SIZE - HUGE_PAGE_HEADER_SIZE;
  return bytes / llama_class_size(sc) > LLAMA_DEFER_MAX ? LLAMA_DEFER_MAX : 0;
}

static void heap_reset(llama_heap_t *heap) {
  for (unsigned b = 0; b < LLAMA_NUM_BINS; b++)
    for (unsigned sc = 0; sc < SIZE_CLASS_COUNT; sc++) {
      heap->current[b][sc] = &llama_empty_span;
      heap->avail[b][sc] = heap->full[b][sc] = NULL;
      atomic_store_explicit(&heap->remote_pending[b][sc], 0, memory_order_relaxed);
      heap->deferred[b][sc] = (llama_deferred_t){.limit = defer_limit(sc)};
    }
  heap->retained_count = 0;
  heap->alive = true;
  heap->vacant = false;
}

/* Heap handover. A thread that exits leaves its heap vacant, spans and
 * all (heap_vacate), and the next thread that needs a heap takes the most
 * recently vacated one as it is: its current spans, avail and full lists.
 * Nothing in the spans changes hands: a span's owner is its heap, so the
 * new thread's frees into them are the owner's and other threads' are
 * remote frees, as they were while the heap was vacant.
 *
 * Why: mimalloc-bench's larson hands each thread's objects to a new thread
 * every ~20 ms (280 threads in 5 s). Abandoning every span at each exit
 * left, at the end of a run, 300 abandoned spans; 69 of one class held 1,046
 * live blocks in room for 7,012 (1.9 MiB of free blocks, half of the run's
 * 3.7 MiB), because a new thread adopted only what the first 32 entries of
 * the abandoned list offered and otherwise carved new spans. jemalloc's
 * arenas outlive their threads for the same reason; mimalloc reclaims an
 * abandoned segment whole.
 *
 * A vacant heap that no thread takes within LLAMA_PURGE_DELAY_MS is given
 * up by the maintenance (llama_heaps_maintain): its spans go to the
 * abandoned list, as they went at exit before, so that any heap can adopt
 * them and the empty ones go back to their pages. */
static _Atomic unsigned vacant_count; /* lets the maintenance skip the lock */
/* Set by heap_vacate: the thread is exiting. A later allocation of it
 * (another key's destructor) gets a fresh heap, not a vacant one, which it
 * could keep alive past its last destructor round. */
static __thread bool thread_exiting __attribute__((tls_model("initial-exec")));
static uint64_t handovers, given_up;   /* statistics, under heaps_lock */

/* Takes a vacant heap for the caller (heaps_lock held): a new thread, or
 * the maintenance while it gives the heap up; either way no other thread
 * can take it meanwhile. */
static void vacant_claim(llama_heap_t *heap) {
  heap->vacant = false;
  heap->alive = true;
  atomic_fetch_sub_explicit(&vacant_count, 1, memory_order_relaxed);
}

/* Creates the calling thread's heap: a vacant heap (see above), else a
 * given-up heap reset, else a new one (heaps are never unmapped, so a stale
 * pointer to one is always safe to read). NULL if the OS has no memory. */
llama_heap_t *llama_heap_init_thread(void) {
  if (LLAMA_UNLIKELY(atomic_load_explicit(&llama_init_state, memory_order_acquire) != 2))
    llama_init_slow();
  llama_heap_t *heap = NULL, *vacant = NULL;
  pthread_mutex_lock(&heaps_lock);
  for (llama_heap_t *h = heaps_all; h; h = h->next_all) {
    if (h->alive || h->orphaned) continue;
    if (!h->vacant) heap = heap ? heap : h;
    else if (!thread_exiting && (!vacant || h->vacant_ns > vacant->vacant_ns)) vacant = h;
  }
  if (vacant) {
    heap = vacant;
    vacant_claim(heap);
    handovers++;
  } else if (heap) {
    heap_reset(heap);
  }
  pthread_mutex_unlock(&heaps_lock);
  if (!heap) {
    heap = llama_os_map((sizeof(llama_heap_t) + 4095) & ~(size_t)4095);
    if (!heap) return NULL;
    heap_reset(heap);
    pthread_mutex_lock(&heaps_lock);
    heap->next_all = heaps_all;
    heaps_all = heap;
    pthread_mutex_unlock(&heaps_lock);
  }
  llama_tls_heap = heap; /* before setspecific, which may allocate */
  if (heap_key_ok) pthread_setspecific(heap_key, heap);
  return heap;
}

/* Called once from llama_init_slow(). */
void llama_heaps_init(void) {
  heap_key_ok = pthread_key_create(&heap_key, heap_vacate) == 0;
}

llama_heap_t *llama_heaps_first(void) { return heaps_all; }

/* *x -= min(*x, v); returns what it subtracted. */
static uint64_t sub_saturated(uint64_t *x, uint64_t v) {
  uint64_t d = v < *x ? v : *x;
  *x -= d;
  return d;
}

void llama_heaps_account(llama_stats_t *out) {
  size_t size = (sizeof(llama_heap_t) + 4095) & ~(size_t)4095;
  out->span_trims = atomic_load_explicit(&span_trims, memory_order_relaxed);
  out->span_trimmed_bytes = atomic_load_explicit(&span_trimmed_bytes, memory_order_relaxed);
  pthread_mutex_lock(&heaps_lock);
  out->heap_handovers = handovers;
  out->heaps_given_up = given_up;
  for (llama_heap_t *h = heaps_all; h; h = h->next_all) {
    out->memory.metadata += llama_resident_bytes(h, size);
    /* Deferred frees are free blocks, not live ones (their spans count
     * them as used). Owner-written counts, read racily: a snapshot. */
    for (unsigned b = 0; b < LLAMA_NUM_BINS; b++)
      for (unsigned sc = 0; sc < SIZE_CLASS_COUNT; sc++) {
        unsigned n = __atomic_load_n(&h->deferred[b][sc].n, __ATOMIC_RELAXED);
        if (!n) continue;
        uint64_t bytes = (uint64_t)n * llama_class_size(sc);
        uint64_t moved = sub_saturated(&out->memory_bins[b].live, bytes);
        out->memory_bins[b].free_blocks += moved;
        sub_saturated(&out->bins[b].live_bytes, bytes);
        sub_saturated(&out->bins[b].live_objects, n);
      }
  }
  pthread_mutex_unlock(&heaps_lock);
}
void llama_heaps_lock(void) { pthread_mutex_lock(&heaps_lock); }
void llama_heaps_unlock(void) { pthread_mutex_unlock(&heaps_lock); }

/* Releases retained entry i if its span is still current and empty. */
static void retained_drop(llama_heap_t *heap, unsigned i) {
  llama_retained_t r = heap->retained[i];
  heap->retained_count--;
  for (unsigned j = i; j < heap->retained_count; j++) heap->retained[j] = heap->retained[j + 1];
  if (heap->current[r.bin][r.size_class] != r.span || r.span->used != 0) return;
  heap->current[r.bin][r.size_class] = &llama_empty_span;
  llama_huge_page_span_active(r.span, false);
  llama_span_release(r.span);
}

/* Keeps an emptied current span for a while (a malloc/free ping-pong must
 * not go to the bin lock each time), but at most RETAINED_MAX of them and
 * for RETAINED_SLOW_PATHS slow paths, so a freed class's pages go back. */
static void retain(llama_heap_t *heap, llama_span_t *span) {
  for (unsigned i = 0; i < heap->retained_count; i++)
    if (heap->retained[i].span == span) return;
  if (heap->retained_count == RETAINED_MAX) retained_drop(heap, 0);
  heap->retained[heap->retained_count++] = (llama_retained_t){
      span, span->bin, span->size_class, heap->slow_count};
}

static void retained_expire(llama_heap_t *heap) {
  while (heap->retained_count &&
         heap->slow_count - heap->retained[0].since > RETAINED_SLOW_PATHS)
    retained_drop(heap, 0);
}

/* A span of the heap just became empty. Release it unless it is current. */
static void span_emptied(llama_heap_t *heap, llama_span_t *span) {
  if (heap->current[span->bin][span->size_class] == span) {
    retain(heap, span);
    return;
  }
  if (llama_span_flags(span) & SPAN_IN_FULL) list_remove(&heap->full[span->bin][span->size_class], span);
  else list_remove(&heap->avail[span->bin][span->size_class], span);
  llama_span_release(span);
}

/* ---- deferred frees -----------------------------------------------------------
 *
 * A free by the owner into one of its full spans does not put the span back
 * on the avail list: the block goes on a short per-class list of the heap,
 * and the class's next allocation takes it from there (both inline in
 * alloc.c's fast paths, where the current span has no free block and the
 * span is IN_FULL). Random
 * replacement in a class whose spans are all nearly full (a cache of fixed-
 * size entries; larson) otherwise moved a span from the full list to the
 * avail list on every free and back on the next allocation: two list moves
 * and a span switch per free and malloc. Frees defer only while the class
 * is tight (avail_pick's last scan found no span with room, pick_skip): in
 * a class with room, a span off the full list serves the next allocations
 * on the fast path, where deferred blocks take one slow path each, and each
 * free into a full span would be a slow one (bench_fastpath's 512 mixed
 * slots: 5.3 -> 5.8 ns a pair when every class deferred). The blocks stay
 * counted in their spans until the list is given back: when it holds
 * LLAMA_DEFER_MAX blocks, when a free un-fulls a span of the class (it has room
 * again), and at every full sweep (every 256 slow paths, llama_collect,
 * thread exit). So a span holding a deferred block is on the full list and
 * every free into it is deferred or gives the list back first; with more
 * than LLAMA_DEFER_MAX blocks (only those classes defer, `limit`) its
 * blocks are never all deferred, and deferred blocks never keep an empty
 * span from its page. The statistics count them as free blocks
 * (llama_heaps_account). */

static void span_unfull(llama_heap_t *heap, llama_span_t *span) {
  list_remove(&heap->full[span->bin][span->size_class], span);
  llama_span_set_flags(span, llama_span_flags(span) & (uint8_t)~SPAN_IN_FULL);
  list_push(&heap->avail[span->bin][span->size_class], span);
}

/* The owner gives a block back to its span: onto its free list, the span
 * off the full list, and back to its page when it empties. */
static void span_put_block(llama_heap_t *heap, llama_span_t *span, llama_block_t *block) {
  block->next = span->free;
  span->free = block;
  if (llama_span_flags(span) & SPAN_IN_FULL) span_unfull(heap, span);
  if (--span->used == 0) span_emptied(heap, span);
}

/* Gives a class's deferred blocks back to their spans. */
static void deferred_flush(llama_heap_t *heap, unsigned bin, unsigned sc) {
  llama_deferred_t *d = &heap->deferred[bin][sc];
  llama_block_t *block = d->head;
  d->head = NULL;
  d->n = 0;
  while (block) {
    llama_block_t *next = block->next;
    span_put_block(heap, llama_span_of(llama_huge_page_of(block), block), block);
    block = next;
  }
}

/* Collects remote frees in every span of one size class. */
static void sweep_class(llama_heap_t *heap, unsigned bin, unsigned sc, bool release_current) {
  llama_span_t *span, *next;
  deferred_flush(heap, bin, sc);
  for (span = heap->full[bin][sc]; span; span = next) {
    next = span->next;
    if (span_collect(span)) span_unfull(heap, span); /* released below if empty */
  }
  for (span = heap->avail[bin][sc]; span; span = next) {
    next = span->next;
    span_collect(span);
    if (span->used == 0) {
      list_remove(&heap->avail[bin][sc], span);
      llama_span_release(span);
    }
  }
  span = heap->current[bin][sc];
  if (span != &llama_empty_span) {
    span_collect(span);
    if (span->used == 0) {
      if (release_current) {
        heap->current[bin][sc] = &llama_empty_span;
        llama_huge_page_span_active(span, false);
        llama_span_release(span);
      } else {
        retain(heap, span);
      }
    }
  }
}

static void heap_sweep(llama_heap_t *heap, bool release_current) {
  if (release_current)
    while (heap->retained_count) retained_drop(heap, 0);
  for (unsigned b = 0; b < LLAMA_NUM_BINS; b++)
    for (unsigned sc = 0; sc < SIZE_CLASS_COUNT; sc++) {
      atomic_store_explicit(&heap->remote_pending[b][sc], 0, memory_order_relaxed);
      if (heap->full[b][sc] || heap->avail[b][sc] || heap->current[b][sc] != &llama_empty_span)
        sweep_class(heap, b, sc, release_current);
    }
}

/* ---- span trimming --------------------------------------------------------- */

/* A span holds resident pages that no live block needs: past its carving
 * mark, the pages of the units' earlier spans (free units are reused
 * before they are purged, and a new span carves only what it hands out),
 * and behind it, blocks of a burst that ended (the free list is LIFO, so
 * they stay free in place). The SQLite shell, mid-run, had 20 one-unit
 * spans of small classes each holding 32 KiB resident for 0-5 KiB live,
 * every live block in the span's first 4 KiB page (the objects that outlive
 * a burst are the oldest, at the lowest addresses); 625 KiB of its 1 MiB
 * above live. The owner trims such a span: the free blocks past the last
 * live one go back to "never carved" (off the free list, the carving mark
 * lowered) and every whole 4 KiB page from there to the span's end is
 * decommitted; carving touches them again when the class needs them. Only
 * the owner may do this: it alone pops the span's free list, without a
 * lock. */
#define TRIM_MIN_BYTES (8u * 1024) /* a tail shorter than this stays */
#define TRIM_BACKOFF_MAX 6         /* skip at most 2^6 - 1 visits */

/* A trim attempt that gave nothing back: skip the span's next 1, 3, 7, ...
 * visits (at most 63: 3 s for a current span, visited every purge delay; a
 * minute for one on an avail list, visited every second). A span in steady
 * use (its free blocks spread to its end) then costs a free-list walk every
 * few seconds, not every pass: walking every span's free list every 50 ms
 * took 14% of SQLite speedtest1's time. */
static size_t trim_backoff(llama_span_t *span) {
  if (span->trim_fails < TRIM_BACKOFF_MAX) span->trim_fails++;
  span->trim_skip = (uint8_t)((1u << span->trim_fails) - 1);
  return 0;
}

/* Trims one span of the calling thread's heap (force: whatever the
 * backoff says). Returns the bytes decommitted. */
static size_t span_trim(llama_span_t *span, bool force) {
  if (span->kind != SPAN_BLOCKS || span->units != 1) return 0;
  if (span->trim_skip && !force) {
    span->trim_skip--;
    return 0;
  }
  llama_huge_page_t *page = llama_huge_page_of(span);
  /* A hint (huge is atomic); the decommit decides under the bin lock. */
  if (atomic_load_explicit(&page->huge, memory_order_relaxed)) return trim_backoff(span);
  if (atomic_load_explicit(&span->thread_free, memory_order_relaxed)) span_collect(span);
  uint8_t *base = (uint8_t *)page;
  uint32_t start = (uint32_t)(llama_span_start(span) - base), bs = span->block_size;
  uint32_t carved = (span->bump - start) / bs;
  uint32_t span_end = (uint32_t)(llama_span_unit(span) + 1) * UNIT_SIZE;
  /* Where resident memory may end: the span's end, unless an earlier trim
   * left nothing resident past the carving mark's page. */
  uint32_t resident_end = span->tail_clean ? (span->bump + 4095u) & ~4095u : span_end;
  /* Walk the free list only when its blocks could make a tail worth it. */
  bool walk = span->free && carved > span->used && (carved - span->used) * bs >= TRIM_MIN_BYTES;
  uint32_t keep = carved;
  if (walk) {
    /* Which carved blocks are free; then the last one that is not. */
    uint64_t is_free[UNIT_SIZE / 8 / 64] = {0};
    for (llama_block_t *b = span->free; b; b = b->next) {
      uint32_t i = (uint32_t)((uint8_t *)b - base - start) / bs;
      is_free[i / 64] |= 1ull << (i % 64);
    }
    while (keep && (is_free[(keep - 1) / 64] >> ((keep - 1) % 64)) & 1) keep--;
  }
  uint32_t bump = start + keep * bs, from = (bump + 4095u) & ~4095u;
  if (resident_end < from + TRIM_MIN_BYTES) return walk ? trim_backoff(span) : 0;
  /* The tail leaves the free list before its pages are decommitted (their
   * links are in them); if the decommit is refused (the page is about to
   * be made huge), those blocks are only carved again later. */
  if (keep < carved) { /* unlink the blocks past the new mark, keeping the others' order */
    llama_block_t **link = &span->free;
    while (*link) {
      if ((uint8_t *)*link >= base + bump) *link = (*link)->next;
      else link = &(*link)->next;
    }
    span->bump = bump;
  }
  if (!llama_hugepages_decommit_in_span(span, base + from, base + resident_end))
    return trim_backoff(span);
  span->tail_clean = 1;
  span->trim_fails = 0;
  atomic_fetch_add_explicit(&span_trims, 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&span_trimmed_bytes, resident_end - from, memory_order_relaxed);
  return resident_end - from;
}

/* Trims the heap's current spans (one per bin and size class: bounded
 * work; the shell's and LevelDB's waste), and with `all` the spans on its
 * avail lists too (partly used spans a class moved on from: the demo's
 * flash crowd leaves 2 MiB of free tails there), which a big heap has
 * thousands of: visiting them every pass, even to count down a backoff,
 * took 2.3% of SQLite speedtest1's time. force: whatever the backoff says. */
static void heap_trim(llama_heap_t *heap, bool all, bool force) {
  for (unsigned b = 0; b < LLAMA_NUM_BINS; b++)
    for (unsigned sc = 0; sc < SIZE_CLASS_COUNT; sc++) {
      if (heap->current[b][sc] != &llama_empty_span) span_trim(heap->current[b][sc], force);
      if (all)
        for (llama_span_t *span = heap->avail[b][sc]; span; span = span->next) span_trim(span, force);
    }
}

/* Called from the allocation slow path: every 32nd call reads the clock;
 * the heap trims its current spans at most once per purge delay (a trimmed
 * tail that the class needs again costs its page faults, as a fresh span
 * would; at most once per delay), all its spans once per 20 delays (1 s). */
void llama_heap_trim_paced(llama_heap_t *heap) {
  if (++heap->trim_tick % 32 != 0) return;
  uint64_t now = llama_now_ns(), delay = llama_purge_delay_ns();
  if (now - heap->trimmed_ns < delay) return;
  heap->trimmed_ns = now;
  bool all = now - heap->trimmed_all_ns >= 20 * delay;
  if (all) heap->trimmed_all_ns = now;
  heap_trim(heap, all, false);
}

void llama_heap_collect(llama_heap_t *heap, bool force) {
  heap_sweep(heap, true);
  heap_trim(heap, true, true);
  uint64_t now = llama_now_ns();
  llama_heaps_maintain(now, force);
  llama_memory_maintain(now, force);
}

/* Takes span off the abandoned list (abandoned_lock held). */
static void abandoned_unlink(llama_span_t *span) {
  list_remove(&abandoned, span);
  atomic_fetch_sub_explicit(&abandoned_count, 1, memory_order_relaxed);
  llama_span_set_flags(span, llama_span_flags(span) & (uint8_t)~SPAN_ABANDONED);
}

/* Takes an abandoned span of (bin, sc) that has room, collecting its remote
 * frees. NULL if there is none near the front of the list. */
static llama_span_t *adopt_abandoned(llama_heap_t *heap, unsigned bin, unsigned sc) {
  if (!atomic_load_explicit(&abandoned_count, memory_order_relaxed)) return NULL;
  llama_span_t *found = NULL;
  pthread_mutex_lock(&abandoned_lock);
  unsigned scanned = 0;
  for (llama_span_t *span = abandoned; span && scanned < ADOPT_SCAN_MAX; span = span->next, scanned++) {
    if (span->bin != bin || span->size_class != sc) continue;
    span_collect(span);
    if (!span_has_room(span)) continue;
    abandoned_unlink(span);
    atomic_store_explicit(&span->heap, heap, memory_order_release);
    span_collect(span); /* frees that raced with the handover */
    found = span;
    break;
  }
  pthread_mutex_unlock(&abandoned_lock);
  return found;
}

/* Releases every abandoned span that became empty. */
static void span_collect_abandoned(void) {
  if (!atomic_load_explicit(&abandoned_count, memory_order_relaxed)) return;
  pthread_mutex_lock(&abandoned_lock);
  llama_span_t *span = abandoned, *next;
  for (; span; span = next) {
    next = span->next;
    span_collect(span);
    if (span->used == 0) {
      abandoned_unlink(span);
      llama_span_release(span);
    }
  }
  pthread_mutex_unlock(&abandoned_lock);
}

static void abandon_span(llama_span_t *span) {
  llama_span_set_flags(span, llama_span_flags(span) & (uint8_t)~SPAN_IN_FULL);
  atomic_store_explicit(&span->heap, NULL, memory_order_release);
  span_collect(span);
  if (span->used == 0) {
    llama_span_release(span);
    return;
  }
  pthread_mutex_lock(&abandoned_lock);
  list_push(&abandoned, span);
  llama_span_set_flags(span, llama_span_flags(span) | SPAN_ABANDONED);
  atomic_fetch_add_explicit(&abandoned_count, 1, memory_order_relaxed);
  pthread_mutex_unlock(&abandoned_lock);
}

/* Reclaim on free: a thread that frees into an abandoned span of a class it
 * allocates itself (it has a current span there) takes the span over, onto
 * its avail list, so the span's free blocks serve that thread's next
 * allocations of the class instead of waiting for a slow path to adopt it
 * (adoption looks at the first ADOPT_SCAN_MAX abandoned spans only) while
 * new spans are carved. A program whose threads hand their objects to the
 * next thread and exit (mimalloc-bench's larson, a server's short-lived
 * workers) otherwise kept every dead thread's spans partly used and apart
 * from everyone's allocations. A thread that only frees in the class (a
 * reaper) does not take spans it would never refill: they stay for the
 * allocating threads to adopt (test/allocator/abandoned.c). True if the
 * caller now owns the span. */
static bool reclaim_on_free(llama_heap_t *heap, llama_span_t *span) {
  bool taken = false;
  pthread_mutex_lock(&abandoned_lock);
  if ((llama_span_flags(span) & SPAN_ABANDONED) &&
      !atomic_load_explicit(&span->heap, memory_order_relaxed)) {
    abandoned_unlink(span);
    atomic_store_explicit(&span->heap, heap, memory_order_release);
    taken = true;
  }
  pthread_mutex_unlock(&abandoned_lock);
  if (!taken) return false;
  span_collect(span); /* frees pushed while it was abandoned */
  list_push(&heap->avail[span->bin][span->size_class], span);
  return true;
}

/* Gives every span of the heap up: to its page when empty, else to the
 * abandoned list. The caller owns the heap. */
static void heap_give_up(llama_heap_t *heap) {
  heap_sweep(heap, true);
  for (unsigned b = 0; b < LLAMA_NUM_BINS; b++)
    for (unsigned sc = 0; sc < SIZE_CLASS_COUNT; sc++) {
      llama_span_t *span = heap->current[b][sc];
      if (span != &llama_empty_span) {
        heap->current[b][sc] = &llama_empty_span;
        llama_huge_page_span_active(span, false);
        abandon_span(span);
      }
      while ((span = heap->avail[b][sc])) {
        list_remove(&heap->avail[b][sc], span);
        abandon_span(span);
      }
      while ((span = heap->full[b][sc])) {
        list_remove(&heap->full[b][sc], span);
        abandon_span(span);
      }
    }
}

/* Thread exit (pthread key destructor): the heap turns vacant with its
 * spans, minus the empty ones and with the deferred frees given back
 * (heap_sweep), for the next thread or the maintenance to take. */
static void heap_vacate(void *arg) {
  llama_heap_t *heap = arg;
  thread_exiting = true;
  heap_sweep(heap, true);
  llama_tls_heap = &llama_heap_empty;
  pthread_mutex_lock(&heaps_lock);
  heap->alive = false;
  heap->vacant = true;
  heap->vacant_ns = llama_now_ns();
  atomic_fetch_add_explicit(&vacant_count, 1, memory_order_relaxed);
  pthread_mutex_unlock(&heaps_lock);
  llama_background_wake(); /* its ticks give the heap up if no thread takes it */
}

bool llama_heaps_maintain(uint64_t now, bool force) {
  uint64_t delay = llama_purge_delay_ns();
  bool later = false;
  while (atomic_load_explicit(&vacant_count, memory_order_relaxed)) {
    llama_heap_t *heap = NULL;
    later = false;
    pthread_mutex_lock(&heaps_lock);
    for (llama_heap_t *h = heaps_all; h && !heap; h = h->next_all) {
      if (!h->vacant) continue;
      /* Not now - vacant_ns: a heap vacated after the caller read the
       * clock would wrap around and look long due. */
      if (force || h->vacant_ns + delay <= now) heap = h;
      else later = true;
    }
    if (heap) {
      vacant_claim(heap);
      given_up++;
    }
    pthread_mutex_unlock(&heaps_lock);
    if (!heap) break;
    heap_give_up(heap);
    pthread_mutex_lock(&heaps_lock);
    heap->alive = false;
    pthread_mutex_unlock(&heaps_lock);
  }
  span_collect_abandoned();
  return later;
}

/* ---- allocation slow path ---------------------------------------------------- */

static void span_init_blocks(llama_heap_t *heap, llama_span_t *span, unsigned sc) {
  uint32_t bs = (uint32_t)llama_class_size(sc);
  uint32_t start = (uint32_t)(llama_span_start(span) - (uint8_t *)llama_huge_page_of(span));
  uint32_t count = (span->end - start) / bs;
  span->kind = SPAN_BLOCKS;
  span->size_class = (uint8_t)sc;
  span->block_size = bs;
  span->end = start + count * bs;
  span->bump = start;
  span->tail_clean = 0; /* the units may hold an earlier span's pages */
  span->trim_skip = span->trim_fails = 0;
  span->free = NULL;
  span->used = 0;
  llama_span_set_flags(span, 0);
  atomic_store_explicit(&span->thread_free, NULL, memory_order_relaxed);
  atomic_store_explicit(&span->heap, heap, memory_order_release);
}

static void make_current(llama_heap_t *heap, unsigned bin, unsigned sc, llama_span_t *span) {
  heap->current[bin][sc] = span;
  llama_huge_page_span_active(span, true);
}

/* The avail span a size class goes on with when its current span runs out:
 * the first of the list's first AVAIL_SCAN spans with a quarter of its
 * blocks (and at least two) free, else the one with the most free of them.
 * The list's head is the span that last stopped being full, often on one
 * free: taking it blindly retired it again one allocation later, and on
 * larson (mimalloc-bench: random sizes freed at random, so every span of a
 * class stays nearly full) nearly every allocation and free took the slow
 * path, 21.6 M span retirements in 7 s. Asking for a quarter amortises a
 * switch over many allocations (larson 26-31 -> 33-47 M operations/s), and
 * the heap got denser, not looser (free blocks 5.6 -> 3.6-4.5 MiB for 10.9
 * live): the spans nearly full stay out of the way until frees make them
 * worth a switch. Appending them at the list's tail instead (mimalloc's page
 * queue) was faster still, 52 M/s, but held 24% more RSS.
 * A class with no such span (its spans hold one or two free blocks each:
 * random replacement in a tight heap) gains nothing from the scan but its
 * cache misses, 24 -> 38 ns a free and malloc: after a scan that found
 * none, the next PICK_BACKOFF switches take the head without looking. */
#define AVAIL_SCAN 8
#define PICK_BACKOFF 16

static llama_span_t *avail_pick(llama_heap_t *heap, unsigned bin, unsigned sc) {
  llama_span_t *head = heap->avail[bin][sc], *best = head;
  llama_deferred_t *d = &heap->deferred[bin][sc];
  if (d->pick_skip) {
    d->pick_skip--;
    return head;
  }
  uint32_t best_free = 0;
  unsigned n = 0;
  for (llama_span_t *span = head; span && n < AVAIL_SCAN; span = span->next, n++) {
    uint32_t bytes = span_block_bytes(span);
    uint32_t free = bytes - span->used * span->block_size;
    if (free >= bytes / 4 && free >= 2 * span->block_size) return span;
    if (free > best_free) {
      best_free = free;
      best = span;
    }
  }
  d->pick_skip = PICK_BACKOFF; /* no span with room: the class is tight */
  return best;
}

/* The fast path found the current span's free list empty. */
void *llama_heap_alloc_slow(llama_heap_t *heap, unsigned bin, unsigned sc) {
  llama_span_t *span = heap->current[bin][sc];
  void *block;
  /* 1. Never-used blocks of the current span. (The class's deferred frees
   * were taken inline, alloc.c, unless a full sweep is due: it gives them
   * back to their spans.) */
  if ((block = span_pop(span))) return block;
  bool sweep_due = ++heap->slow_count % LLAMA_SWEEP_PERIOD == 0;
  /* 2. Remote frees: this class when flagged; everything periodically. */
  if (sweep_due) {
    heap_sweep(heap, false);
    /* Giving up vacant heaps is the background thread's work when it runs. */
    if (llama_background_running()) span_collect_abandoned();
    else llama_heaps_maintain(llama_now_ns(), false);
  } else if (atomic_load_explicit(&heap->remote_pending[bin][sc], memory_order_relaxed)) {
    atomic_store_explicit(&heap->remote_pending[bin][sc], 0, memory_order_relaxed);
    sweep_class(heap, bin, sc, false);
  } else if (span != &llama_empty_span && span_collect(span) && span->used == 0) {
    retain(heap, span);
  }
  /* A sweep may have retained and then evicted (released) the current span:
   * never touch the old pointer again. */
  span = heap->current[bin][sc];
  if ((block = span_pop(span))) return block;
  /* 3. Retire the current span to the full list. */
  if (span != &llama_empty_span) {
    heap->span_switches++;
    llama_span_set_flags(span, llama_span_flags(span) | SPAN_IN_FULL);
    list_push(&heap->full[bin][sc], span);
    llama_huge_page_span_active(span, false);
    heap->current[bin][sc] = &llama_empty_span;
  }
  if (heap->retained_count) retained_expire(heap);
  /* 4. An owned span with free blocks, an abandoned one, or a new one. */
  span = heap->avail[bin][sc];
  if (span) {
    span = avail_pick(heap, bin, sc);
    list_remove(&heap->avail[bin][sc], span);
  } else if (!(span = adopt_abandoned(heap, bin, sc))) {
    /* The class's only span in this heap (none full): sparse, unless it
     * fills (llama_span_acquire_sparse). */
    unsigned units = llama_class_units(sc);
    span = units == 1 && !heap->full[bin][sc] ? llama_span_acquire_sparse(bin)
                                              : llama_span_acquire(bin, units);
    if (!span) return NULL;
    span_init_blocks(heap, span, sc);
  }
  make_current(heap, bin, sc, span);
  return span_pop(span);
}

/* ---- free slow path ----------------------------------------------------------- */

/* First byte of the block that contains p (p may be an interior, aligned
 * pointer handed out by the aligned allocation functions). */
void *llama_block_start(llama_span_t *span, const void *p) {
  uint8_t *start = llama_span_start(span);
  if (span->kind == SPAN_RUN) return start;
  size_t offset = (size_t)((const uint8_t *)p - start);
  return start + offset - offset % span->block_size;
}

size_t llama_block_usable(llama_span_t *span, const void *p) {
  if (span->kind == SPAN_EXTENT) return llama_extent_usable(p);
  uint8_t *block = llama_block_start(span, p);
  return (size_t)(block + span->block_size - (const uint8_t *)p);
}

/* Every free that is not "owner frees a plain block": interior pointers,
 * spans on the full list, runs, frees from other threads. */
void llama_free_generic(llama_heap_t *heap, llama_span_t *span, void *p) {
  int saved_errno = errno;
  if (span->kind == SPAN_RUN) {
    llama_span_release(span); /* a run holds one object: now free */
    errno = saved_errno;
    return;
  }
  if (span->kind == SPAN_EXTENT) {
    llama_extent_free(span, p);
    errno = saved_errno;
    return;
  }
  if (LLAMA_UNLIKELY(span->kind != SPAN_BLOCKS)) {
    llama_report("free of a pointer not allocated by llamalloc (ignored)", NULL);
    errno = saved_errno;
    return;
  }
  llama_block_t *block = (llama_span_flags(span) & SPAN_INTERIOR) ? llama_block_start(span, p) : p;
  llama_heap_t *owner = atomic_load_explicit(&span->heap, memory_order_acquire);
  if (!owner && (llama_span_flags(span) & SPAN_ABANDONED) && llama_heap_is_real(heap) &&
      heap->current[span->bin][span->size_class] != &llama_empty_span) {
    /* Taken by us, or meanwhile adopted by another heap (then flag it). */
    if (reclaim_on_free(heap, span)) owner = heap;
    else owner = atomic_load_explicit(&span->heap, memory_order_acquire);
  }
  if (owner == heap) { /* never the empty heap: it owns no span */
    if (llama_span_flags(span) & SPAN_IN_FULL) {
      unsigned bin = span->bin, sc = span->size_class;
      llama_deferred_t *d = &heap->deferred[bin][sc];
      if (d->pick_skip && d->limit) {
        if (d->n == d->limit) deferred_flush(heap, bin, sc);
        if (llama_span_flags(span) & SPAN_IN_FULL) { /* still full after a flush */
          llama_deferred_push(d, block);
          errno = saved_errno;
          return;
        }
      } else if (d->head) {
        deferred_flush(heap, bin, sc); /* the class has room again */
      }
    }
    span_put_block(heap, span, block);
    errno = saved_errno;
    return;
  }
  /* Another thread's span (or an abandoned one): push on its thread_free. */
  llama_block_t *head = atomic_load_explicit(&span->thread_free, memory_order_relaxed);
  do {
    block->next = head;
  } while (!atomic_compare_exchange_weak_explicit(&span->thread_free, &head, block,
                                                  memory_order_release, memory_order_relaxed));
  /* Flag the owner; abandoned spans are swept every LLAMA_SWEEP_PERIOD slow paths. */
  if (owner && !atomic_load_explicit(&owner->remote_pending[span->bin][span->size_class],
                                     memory_order_relaxed))
    atomic_store_explicit(&owner->remote_pending[span->bin][span->size_class], 1, memory_order_relaxed);
  errno = saved_errno;
}

/* Fast-path helper: the owner freed the last block of a span. */
void llama_span_emptied(llama_heap_t *heap, llama_span_t *span) { span_emptied(heap, span); }

/* ---- runs: one medium object in whole units ----------------------------------- */

void *llama_run_alloc(unsigned bin, size_t n) {
  unsigned units = (unsigned)((n + HUGE_PAGE_HEADER_SIZE + UNIT_SIZE - 1) >> UNIT_SHIFT);
  llama_span_t *span = llama_span_acquire(bin, units);
  if (!span) return NULL;
  uint8_t *start = llama_span_start(span);
  span->kind = SPAN_RUN;
  span->block_size = (uint32_t)(span->end - (uint32_t)(start - (uint8_t *)llama_huge_page_of(span)));
  span->used = 1;
  llama_span_set_flags(span, 0);
  return start;
}

/* ---- fork ------------------------------------------------------------------------ */

void llama_heaps_fork_prepare(void) {
  pthread_mutex_lock(&heaps_lock);
  pthread_mutex_lock(&abandoned_lock);
}

void llama_heaps_fork_parent(void) {
  pthread_mutex_unlock(&abandoned_lock);
  pthread_mutex_unlock(&heaps_lock);
}

/* In the child only the forking thread survives. The other threads' heaps
 * may have been caught mid-update, so they are never touched again: their
 * objects can still be freed (through the remote path) but their spans are
 * not reused. */
void llama_heaps_fork_child(void) {
  pthread_mutex_init(&abandoned_lock, NULL);
  pthread_mutex_init(&heaps_lock, NULL);
  for (llama_heap_t *h = heaps_all; h; h = h->next_all)
    if (h != llama_tls_heap && h->alive) {
      h->alive = false;
      h->orphaned = true;
    }
}
