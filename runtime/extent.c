/* extent.c - medium objects in coalescing extents, one free index per bin.
 *
 * Why: the runtime's accounting of bench_lifetime at its peak showed
 * 21.9 MiB above 70.4 MiB requested that size-class spans cause: 6.2 MiB of
 * rounding (4 classes per doubling) and 15.7 MiB of free blocks inside spans,
 * most of them in spans of medium classes (1 KiB .. 64 KiB blocks, 4 to a
 * span): a partly used span per (bin, size class), and freed blocks that only
 * a request of the same class can reuse. glibc, best fit with coalescing,
 * held less at that peak than our live blocks alone. So requests above
 * LLAMA_EXTENT_MIN (1 KiB) and up to RUN_MAX (1 MiB) are carved from chunks
 * by best fit, rounded to 16 bytes, and freed space coalesces with its
 * neighbours: any later request of the bin, whatever its size, reuses it.
 * Small requests keep the lock-free size-class spans of heap.c.
 *
 * Layout (boundary tags, as in dlmalloc and TLSF):
 *
 *   chunk = one span of >= 8 units (256 KiB), kind SPAN_EXTENT, of one bin
 *   +-----+---------+-----+--------------+-----+---------+ ... +----------+
 *   | hdr | payload | hdr | free (links) | hdr | payload |     | sentinel |
 *   +-----+---------+-----+--------------+-----+---------+ ... +----------+
 *   hdr (16 bytes): back = PREV_USED, or the previous block's size while it
 *   is free; and size | USED | PURGED | BUSY. Only the lock holder writes
 *   either word, and a neighbour's free writes only `back`, so a live
 *   object's size word never changes under its user (malloc_usable_size
 *   reads it without the lock). The sentinel is a used block of size
 *   0 ending the chunk. Two free blocks are never adjacent.
 *
 * Free blocks sit in 128 lists per bin (8 per doubling, a bitmap finds the
 * first non-empty one). Allocation scans the request's own list for the
 * best of its first few blocks, else takes the head of the next non-empty
 * list: every block there is large enough. Resident space comes first: a
 * list holds its resident blocks before its purged ones (free_insert), the
 * scan takes a resident fit over a purged one, and the fallback a resident
 * head up to a doubling larger over a purged head. ("Resident" means not
 * purged by this file: a new chunk's pages may still be untouched.) A
 * chunk that becomes one free
 * block goes back to its huge page (llama_span_release), where the page
 * rules (recycling, subrelease, the warm cache) take over.
 *
 * Returning memory: free blocks that cover whole 4 KiB pages and stayed free
 * LLAMA_PURGE_DELAY_MS are decommitted by the maintenance (background
 * thread) on pages backed by 4 KiB pages; a huge page is split first when it
 * turned sparse (llama_extents_maintain).
 *
 * Recycling: a bin without a fitting free block first takes one from the
 * free lists of longer-lived bins (the LLAMA paper's rule: an object that
 * dies before its neighbours costs nothing there), then a new chunk.
 *
 * Locks: one per bin, taken alone (never two at once); a chunk is acquired
 * and released with no extent lock held. Every free takes the lock of the
 * chunk's bin, whichever thread frees. */
#include "internal.h"

#include <errno.h>
#include <sched.h>
#include <string.h>

#define EXT_HDR 16u
#define EXT_USED 1u
#define EXT_PREV_USED 2u
#define EXT_PURGED 4u
#define EXT_BUSY 8u /* taken out of the lists while purged outside the lock */
#define EXT_FLAGS 15u
#define EXT_MIN_BLOCK 48u  /* header, two links, the time it was freed */
#define EXT_CHUNK_UNITS 8u /* 256 KiB */
#define EXT_SUB_SHIFT 3u   /* 8 lists per doubling */
#define EXT_LISTS 128u
#define EXT_SCAN 8u        /* blocks looked at in the request's own list */
#define EXT_PURGE_MIN 8192u /* smallest free block worth a purge */

typedef struct ext_block_s {
  uint64_t back;       /* EXT_PREV_USED, or the previous block's size while it is free */
  uint64_t size_flags; /* size (multiple of 16) | EXT_* flags */
  /* Free blocks only, in the payload: */
  struct ext_block_s *next, *prev;
  uint64_t freed_ns;
} ext_block_t;

struct purge_batch_s;

typedef struct ext_bin_s {
  pthread_mutex_t lock;
  struct purge_batch_s *inflight; /* blocks being purged outside the lock */
  uint64_t map[EXT_LISTS / 64];
  ext_block_t *lists[EXT_LISTS];
  ext_block_t *tails[EXT_LISTS]; /* purged blocks go last: resident ones are reused first */
  _Atomic uint8_t dirty;    /* free blocks not yet purged */
  _Atomic uint8_t has_free; /* any free block: lets others skip the lock */
} ext_bin_t;

static ext_bin_t ext_bins[LLAMA_NUM_BINS] = {
    [0 ... LLAMA_NUM_BINS - 1] = {.lock = PTHREAD_MUTEX_INITIALIZER}};

LLAMA_INLINE uint64_t block_size(const ext_block_t *b) { return b->size_flags & ~(uint64_t)EXT_FLAGS; }
LLAMA_INLINE ext_block_t *block_at(const void *p, uint64_t off) {
  return (ext_block_t *)((uint8_t *)p + off);
}

/* List of a free block of `size` bytes (size >= EXT_MIN_BLOCK). */
static unsigned list_index(uint64_t size) {
  unsigned fl = 63u - (unsigned)__builtin_clzll(size);
  unsigned sl = (unsigned)(size >> (fl - EXT_SUB_SHIFT)) & ((1u << EXT_SUB_SHIFT) - 1u);
  unsigned i = (fl - 5u) * (1u << EXT_SUB_SHIFT) + sl;
  return i < EXT_LISTS ? i : EXT_LISTS - 1;
}

#if LLAMA_DEBUG > 1
/* List i's invariants after every change (LLAMA_DEBUG=2: walks the list):
 * links, the tail, each block's list, no used block, the bitmap, and every
 * resident block before every purged one (find_fit and purge_scan stop at
 * the first purged block). */
static void list_check(const ext_bin_t *eb, unsigned i) {
  const ext_block_t *prev = NULL;
  bool purged = false;
  for (const ext_block_t *b = eb->lists[i]; b; prev = b, b = b->next) {
    llama_assert(b->prev == prev);
    llama_assert(list_index(block_size(b)) == i);
    llama_assert(!(b->size_flags & (EXT_USED | EXT_BUSY)));
    if (b->size_flags & EXT_PURGED) purged = true;
    else llama_assert(!purged);
  }
  llama_assert(eb->tails[i] == prev);
  llama_assert(!(eb->map[i / 64] >> (i % 64) & 1) == !eb->lists[i]);
}
#else
#define list_check(eb, i) ((void)0)
#endif

/* Resident free blocks at the head of their list, purged ones at the tail:
 * allocation takes resident memory before it faults purged pages back in
 * (jemalloc reuses dirty extents before muzzy ones for the same reason),
 * and what was purged stays purged while other room is there. */
static void free_insert(ext_bin_t *eb, ext_block_t *b) {
  unsigned i = list_index(block_size(b));
  if ((b->size_flags & EXT_PURGED) && eb->lists[i]) {
    b->next = NULL;
    b->prev = eb->tails[i];
    b->prev->next = b;
    eb->tails[i] = b;
  } else {
    b->prev = NULL;
    b->next = eb->lists[i];
    if (b->next) b->next->prev = b;
    else eb->tails[i] = b;
    eb->lists[i] = b;
  }
  eb->map[i / 64] |= (uint64_t)1 << (i % 64);
  atomic_store_explicit(&eb->has_free, 1, memory_order_relaxed);
  list_check(eb, i);
}

static void free_remove(ext_bin_t *eb, ext_block_t *b) {
  unsigned i = list_index(block_size(b));
  if (b->prev) b->prev->next = b->next;
  else eb->lists[i] = b->next;
  if (b->next) b->next->prev = b->prev;
  else eb->tails[i] = b->prev;
  if (!eb->lists[i]) {
    eb->map[i / 64] &= ~((uint64_t)1 << (i % 64));
    if (!eb->map[0] && !eb->map[1]) atomic_store_explicit(&eb->has_free, 0, memory_order_relaxed);
  }
  list_check(eb, i);
}

/* A free block of at least `need` bytes, or NULL (bin lock held): the
 * best fit among the first few blocks of the request's own list, resident
 * before purged; else the head of the next non-empty list, or a resident
 * head of a list at most a doubling larger than that one (a larger
 * resident block is split rather than purged pages faulted back in, but
 * not one of any size; at most 9 heads are read). */
static ext_block_t *find_fit(ext_bin_t *eb, uint64_t need) {
  unsigned i = list_index(need);
  ext_block_t *best = NULL;
  unsigned scanned = 0;
  for (ext_block_t *b = eb->lists[i]; b && scanned < EXT_SCAN; b = b->next, scanned++) {
    /* Resident blocks come first: past a resident fit, only purged ones. */
    if ((b->size_flags & EXT_PURGED) && best && !(best->size_flags & EXT_PURGED)) break;
    uint64_t s = block_size(b);
    if (s >= need && (!best || s < block_size(best))) {
      best = b;
      if (s == need) break;
    }
  }
  if (best) return best;
  ext_block_t *first = NULL;
  unsigned first_list = 0;
  for (unsigned w = (i + 1) / 64; w < EXT_LISTS / 64; w++) {
    uint64_t m = eb->map[w];
    if (w == (i + 1) / 64) m &= ~(uint64_t)0 << ((i + 1) % 64);
    for (; m; m &= m - 1) {
      unsigned list = w * 64 + (unsigned)__builtin_ctzll(m);
      if (first && list > first_list + (1u << EXT_SUB_SHIFT)) return first;
      ext_block_t *head = eb->lists[list];
      if (!(head->size_flags & EXT_PURGED)) return head;
      if (!first) first = head, first_list = list;
    }
  }
  return first;
}

LLAMA_INLINE llama_span_t *chunk_of(const ext_block_t *b) {
  return llama_span_of(llama_huge_page_of(b), b);
}

/* Allocates `need` bytes from free block b (bin lock held). */
static void *take(ext_bin_t *eb, ext_block_t *b, uint64_t need) {
  free_remove(eb, b);
  uint64_t size = block_size(b);
  ext_block_t *next = block_at(b, size);
  if (size - need >= EXT_MIN_BLOCK) {
    ext_block_t *rest = block_at(b, need);
    rest->back = EXT_PREV_USED;
    rest->size_flags = (size - need) | (b->size_flags & EXT_PURGED);
    rest->freed_ns = b->freed_ns;
    next->back = size - need;
    free_insert(eb, rest);
    size = need;
  } else {
    next->back = EXT_PREV_USED;
  }
  b->size_flags = size | EXT_USED;
  llama_span_t *chunk = chunk_of(b);
  chunk->used++;
  chunk->live_bytes += (uint32_t)size;
  return (uint8_t *)b + EXT_HDR;
}

/* A new chunk for bin `bin` with room for `need` bytes, linked as one free
 * block (no lock held; takes the bin lock to link). */
static bool chunk_new(unsigned bin, uint64_t need) {
  uint64_t bytes = need + EXT_HDR + HUGE_PAGE_HEADER_SIZE; /* unit 0 starts later */
  unsigned units = (unsigned)((bytes + UNIT_SIZE - 1) >> UNIT_SHIFT), most = units;
  if (most < EXT_CHUNK_UNITS) most = EXT_CHUNK_UNITS;
  if (most > UNITS_PER_HUGE_PAGE) return false;
  /* Holes of held pages first, however short (down to the request). */
  llama_span_t *span = llama_span_acquire_range(bin, units, most);
  if (!span) return false;
  uint8_t *start = llama_span_start(span);
  uint8_t *end = (uint8_t *)llama_huge_page_of(span) + span->end;
  uint64_t size = (uint64_t)(end - start) - EXT_HDR;
  span->kind = SPAN_EXTENT;
  span->block_size = 0;
  span->used = 0;
  span->live_bytes = 0;
  llama_span_set_flags(span, 0);
  ext_block_t *b = (ext_block_t *)start, *sentinel = block_at(start, size);
  b->back = EXT_PREV_USED;
  b->size_flags = size;
  b->freed_ns = 0;
  sentinel->back = size;
  sentinel->size_flags = EXT_USED; /* size 0, previous free */
  ext_bin_t *eb = &ext_bins[bin];
  pthread_mutex_lock(&eb->lock);
  free_insert(eb, b);
  pthread_mutex_unlock(&eb->lock);
  return true;
}

static bool try_bin(unsigned bin, uint64_t need, void **out) {
  ext_bin_t *eb = &ext_bins[bin];
  if (!atomic_load_explicit(&eb->has_free, memory_order_relaxed)) return false;
  pthread_mutex_lock(&eb->lock);
  ext_block_t *b = find_fit(eb, need);
  if (b) *out = take(eb, b, need);
  pthread_mutex_unlock(&eb->lock);
  return b != NULL;
}

/* Block size for a request of n bytes: header, rounded to 16, at least a
 * free block's size. */
static uint64_t block_need(size_t n) {
  uint64_t need = ((uint64_t)n + EXT_HDR + 15u) & ~(uint64_t)15u;
  return need < EXT_MIN_BLOCK ? EXT_MIN_BLOCK : need;
}

void *llama_extent_alloc(unsigned bin, size_t n) {
  uint64_t need = block_need(n);
  void *p = NULL;
  for (int attempt = 0; attempt < 4; attempt++) {
    if (try_bin(bin, need, &p)) return p;
    if (attempt == 0) {
      unsigned order[LLAMA_NUM_BINS], count = llama_recycle_order(bin, order);
      for (unsigned i = 0; i < count; i++)
        if (try_bin(order[i], need, &p)) return p;
    }
    /* Another thread may take the new chunk's room first: try again. */
    if (!chunk_new(bin, need)) return NULL;
  }
  return NULL;
}

/* Puts block b (not in a list, size `size`) back as free space: merges it
 * with free neighbours and links it (bin lock held). Returns the size of the
 * merged free block, or 0 when the whole chunk is now free: the caller
 * releases it after unlocking. */
static uint64_t put_free(ext_bin_t *eb, llama_span_t *span, ext_block_t *b, uint64_t size,
                     uint64_t freed_ns, uint64_t purged) {
  uint8_t *start = llama_span_start(span);
  ext_block_t *next = block_at(b, size);
  if (!(next->size_flags & EXT_USED)) {
    purged &= next->size_flags;
    free_remove(eb, next);
    size += block_size(next);
  }
  if (!(b->back & EXT_PREV_USED)) {
    ext_block_t *prev = (ext_block_t *)((uint8_t *)b - b->back);
    purged &= prev->size_flags;
    free_remove(eb, prev);
    size += block_size(prev);
    b = prev;
  }
  uint64_t chunk_size = (uint64_t)((uint8_t *)llama_huge_page_of(span) + span->end - start) - EXT_HDR;
  if ((uint8_t *)b == start && size == chunk_size) {
    span->kind = SPAN_UNUSED; /* the chunk is empty: its units go back */
    return 0;
  }
  b->back = EXT_PREV_USED; /* two free blocks are never neighbours */
  b->size_flags = size | (purged & EXT_PURGED);
  next = block_at(b, size);
  next->back = size;
  b->freed_ns = freed_ns;
  free_insert(eb, b);
  return size;
}

/* A free block of `merged` bytes was linked (bin lock held): marks the bin
 * dirty when the block is worth a purge. The caller wakes the maintenance
 * after unlocking when this returns true. */
static bool note_dirty(ext_bin_t *eb, uint64_t merged) {
  bool purgeable = merged >= EXT_PURGE_MIN && llama_options.purge_units;
  if (purgeable && !atomic_load_explicit(&eb->dirty, memory_order_relaxed))
    atomic_store_explicit(&eb->dirty, 1, memory_order_relaxed);
  return purgeable;
}

void llama_extent_free(llama_span_t *span, void *p) {
  ext_block_t *b = (ext_block_t *)((uint8_t *)p - EXT_HDR);
  if ((uint8_t *)b < llama_span_start(span) || ((uintptr_t)p & 15u)) {
    llama_report("free of a pointer not allocated by llamalloc (ignored)", NULL);
    return;
  }
  ext_bin_t *eb = &ext_bins[span->bin];
  pthread_mutex_lock(&eb->lock);
  if ((b->size_flags & (EXT_USED | EXT_BUSY)) != EXT_USED || block_size(b) == 0) {
    pthread_mutex_unlock(&eb->lock);
    llama_report("double free or free of an interior pointer (ignored)", NULL);
    return;
  }
  uint64_t size = block_size(b);
  b->size_flags &= ~(uint64_t)EXT_USED; /* a second free of p is seen, even merged */
  span->used--;
  span->live_bytes -= (uint32_t)size;
  uint64_t merged = put_free(eb, span, b, size, llama_coarse_ns(), 0);
  if (!merged) {
    pthread_mutex_unlock(&eb->lock);
    llama_span_release(span);
    return;
  }
  bool purgeable = note_dirty(eb, merged);
  pthread_mutex_unlock(&eb->lock);
  if (purgeable) llama_hugepages_note_work();
}

/* realloc in place. Growing takes the front of the free block that follows
 * (its tail stays free, with its purge state); shrinking frees the tail,
 * which merges with a free successor. A program that grows a buffer by
 * doubling (SQLite's sorter and string builders: 64 KiB to 512 KiB) then
 * neither copies it nor holds every old copy resident until the purge
 * delay. */
bool llama_extent_resize(llama_span_t *span, void *p, size_t n) {
  ext_block_t *b = (ext_block_t *)((uint8_t *)p - EXT_HDR);
  uint64_t need = block_need(n);
  ext_bin_t *eb = &ext_bins[span->bin];
  pthread_mutex_lock(&eb->lock);
  uint64_t size = block_size(b);
  if ((b->size_flags & (EXT_USED | EXT_BUSY)) != EXT_USED || size == 0) {
    pthread_mutex_unlock(&eb->lock); /* realloc's own path reports it */
    return false;
  }
  ext_block_t *next = block_at(b, size);
  bool purgeable = false;
  if (need > size) {
    uint64_t room = next->size_flags & EXT_USED ? 0 : block_size(next);
    if (need > size + room) {
      pthread_mutex_unlock(&eb->lock);
      return false;
    }
    free_remove(eb, next);
    uint64_t rest = size + room - need, purged = next->size_flags & EXT_PURGED;
    uint64_t freed_ns = next->freed_ns;
    ext_block_t *after = block_at(next, room);
    if (rest >= EXT_MIN_BLOCK) {
      ext_block_t *tail = block_at(b, need);
      tail->back = EXT_PREV_USED;
      tail->size_flags = rest | purged;
      tail->freed_ns = freed_ns;
      after->back = rest;
      free_insert(eb, tail);
    } else {
      need = size + room;
      after->back = EXT_PREV_USED;
    }
  } else {
    uint64_t rest = size - need;
    if (rest < EXT_MIN_BLOCK) {
      pthread_mutex_unlock(&eb->lock);
      return true; /* fits; nothing worth giving back */
    }
    ext_block_t *tail = block_at(b, need);
    tail->back = EXT_PREV_USED;
    purgeable = note_dirty(eb, put_free(eb, span, tail, rest, llama_coarse_ns(), 0));
  }
  span->live_bytes = (uint32_t)(span->live_bytes + need - size);
  b->size_flags = need | EXT_USED;
  pthread_mutex_unlock(&eb->lock);
  if (purgeable) llama_hugepages_note_work();
  return true;
}

size_t llama_extent_usable(const void *p) {
  const ext_block_t *b = (const ext_block_t *)((const uint8_t *)p - EXT_HDR);
  return (size_t)(block_size(b) - EXT_HDR);
}

/* Idle free bytes per huge-page-backed page, gathered by one maintenance
 * pass of a bin (a page past the limit is looked at in a later pass). */
#define SPARSE_PAGES 64
typedef struct sparse_s {
  llama_huge_page_t *page[SPARSE_PAGES];
  uint64_t free_bytes[SPARSE_PAGES];
} sparse_t;

static void sparse_add(sparse_t *t, llama_huge_page_t *page, uint64_t bytes) {
  unsigned h = (unsigned)(((uintptr_t)page >> HUGE_PAGE_SHIFT) * 0x9E3779B1u) % SPARSE_PAGES;
  for (unsigned i = 0; i < SPARSE_PAGES; i++, h = (h + 1) % SPARSE_PAGES) {
    if (t->page[h] == page || !t->page[h]) {
      t->page[h] = page;
      t->free_bytes[h] += bytes;
      return;
    }
  }
}

/* Blocks taken out of the lists to be purged with no lock held: marked
 * USED | BUSY so that neighbours freed meanwhile do not merge with them and
 * no allocation can take them (jemalloc purges extents the same way). */
#define PURGE_BATCH 64
typedef struct purge_batch_s {
  ext_block_t *block[PURGE_BATCH];
  uint64_t size[PURGE_BATCH]; /* read under the lock: headers change meanwhile */
  unsigned count;
  bool overflow; /* idle blocks left for another round */
} purge_batch_t;

/* One bin's scan (bin lock held): idle free blocks on 4 KiB-backed pages go
 * into *batch; those on huge pages are summed per page into *sparse.
 * Returns whether blocks are still waiting for their delay or the batch. */
static bool purge_scan(ext_bin_t *eb, uint64_t now, bool force, sparse_t *sparse,
                       purge_batch_t *batch) {
  uint64_t delay = llama_purge_delay_ns();
  bool waiting = false;
  for (unsigned i = list_index(EXT_PURGE_MIN); i < EXT_LISTS; i++) {
    ext_block_t *next;
    for (ext_block_t *b = eb->lists[i]; b; b = next) {
      next = b->next;
      if (b->size_flags & EXT_PURGED) break; /* and so is the rest of the list */
      if (block_size(b) < EXT_PURGE_MIN) continue;
      if (!force && !(now > b->freed_ns && now - b->freed_ns >= delay)) {
        waiting = true;
        continue;
      }
      llama_huge_page_t *page = llama_huge_page_of(b);
      if (page->huge && !force) {
        if (sparse) sparse_add(sparse, page, block_size(b));
        continue;
      }
      if (batch->count == PURGE_BATCH) {
        batch->overflow = true;
        continue;
      }
      free_remove(eb, b);
      b->size_flags |= EXT_USED | EXT_BUSY;
      block_at(b, block_size(b))->back = EXT_PREV_USED; /* no merging into it */
      batch->size[batch->count] = block_size(b);
      batch->block[batch->count++] = b;
    }
  }
  return waiting;
}

/* Puts the batch's blocks back on the lists, merged with neighbours freed
 * meanwhile (`purged`: EXT_PURGED when their pages were decommitted, 0 when
 * unknown), and ends the bin's in-flight batch. Chunks that turned out
 * empty go to empty[] for the caller to release after unlocking. Bin lock
 * held. */
static unsigned batch_put_back(ext_bin_t *eb, purge_batch_t *batch, uint64_t purged,
                               llama_span_t **empty) {
  unsigned n_empty = 0;
  for (unsigned i = 0; i < batch->count; i++) {
    ext_block_t *b = batch->block[i];
    b->size_flags &= ~(uint64_t)(EXT_USED | EXT_BUSY);
    llama_span_t *span = chunk_of(b);
    if (!put_free(eb, span, b, block_size(b), b->freed_ns, purged)) empty[n_empty++] = span;
  }
  batch->count = 0;
  eb->inflight = NULL;
  return n_empty;
}

/* Decommits the batch's whole 4 KiB pages past each block's links (no lock
 * held), then puts the blocks back, merged with neighbours freed meanwhile.
 * Chunks that turned out empty are released. */
static void purge_batch(ext_bin_t *eb, purge_batch_t *batch) {
  for (unsigned i = 0; i < batch->count; i++) {
    ext_block_t *b = batch->block[i];
    uintptr_t from = ((uintptr_t)b + EXT_MIN_BLOCK + 4095u) & ~(uintptr_t)4095u;
    uintptr_t to = ((uintptr_t)b + batch->size[i]) & ~(uintptr_t)4095u;
    if (to > from) llama_os_decommit((void *)from, to - from);
  }
  llama_span_t *empty[PURGE_BATCH];
  pthread_mutex_lock(&eb->lock);
  unsigned n_empty = batch_put_back(eb, batch, EXT_PURGED, empty);
  pthread_mutex_unlock(&eb->lock);
  for (unsigned i = 0; i < n_empty; i++) llama_span_release(empty[i]);
}

/* Purges free blocks idle for LLAMA_PURGE_DELAY_MS (all when force). A huge
 * page whose idle free space (free blocks plus free units) reaches
 * LLAMA_PURGE_MIN_FREE units turned sparse: it is split (hugepage.c,
 * llama_hugepages_break_sparse) and its free blocks purged, as Temeraire
 * subreleases sparse huge pages; dense pages stay whole. */
bool llama_extents_maintain(uint64_t now, bool force) {
  bool later = false;
  if (!llama_options.purge_units && !force) return false;
  for (unsigned bin = 0; bin < LLAMA_NUM_BINS; bin++) {
    ext_bin_t *eb = &ext_bins[bin];
    if (!atomic_load_explicit(&eb->dirty, memory_order_relaxed) && !force) continue;
    sparse_t sparse;
    purge_batch_t batch;
    memset(&sparse, 0, sizeof sparse);
    bool waiting = false;
    atomic_store_explicit(&eb->dirty, 0, memory_order_relaxed);
    /* Rounds of a batch each; after the first, pages found sparse are split
     * and their blocks join the next rounds. */
    for (unsigned round = 0;; round++) {
      batch.count = 0;
      batch.overflow = false;
      pthread_mutex_lock(&eb->lock);
      /* One batch per bin at a time (llama_collect beside the background
       * thread), so that a fork finds every busy block in eb->inflight:
       * wait for the other (at most 64 madvise calls; it holds no lock). */
      while (eb->inflight) {
        pthread_mutex_unlock(&eb->lock);
        sched_yield();
        pthread_mutex_lock(&eb->lock);
      }
      waiting |= purge_scan(eb, now, force, round == 0 ? &sparse : NULL, &batch);
      eb->inflight = batch.count ? &batch : NULL; /* for a fork meanwhile */
      pthread_mutex_unlock(&eb->lock);
      bool broke = false;
      for (unsigned i = 0; round == 0 && i < SPARSE_PAGES; i++)
        if (sparse.page[i]) broke |= llama_hugepages_break_sparse(sparse.page[i], sparse.free_bytes[i]);
      purge_batch(eb, &batch);
      if (!batch.overflow && !broke) break;
      if (round == 1024) { /* bounded: frees racing in can feed it forever */
        waiting = true;
        break;
      }
    }
    if (waiting) atomic_store_explicit(&eb->dirty, 1, memory_order_relaxed);
    later |= waiting;
  }
  return later;
}

void llama_extents_fork_prepare(void) {
  for (unsigned b = 0; b < LLAMA_NUM_BINS; b++) pthread_mutex_lock(&ext_bins[b].lock);
}

void llama_extents_fork_parent(void) {
  for (unsigned b = LLAMA_NUM_BINS; b-- > 0;) pthread_mutex_unlock(&ext_bins[b].lock);
}

/* The child has no background thread: blocks it was purging when the fork
 * happened (its batch is still in the child's copy of that thread's stack)
 * go back on the lists, as not purged (some of their pages may read as
 * zeros already, which a free block does not mind). Runs after the huge
 * page locks are reinitialised (init.c's order), so empty chunks can go. */
void llama_extents_fork_child(void) {
  for (unsigned bin = 0; bin < LLAMA_NUM_BINS; bin++) {
    ext_bin_t *eb = &ext_bins[bin];
    pthread_mutex_init(&eb->lock, NULL);
    if (!eb->inflight) continue;
    llama_span_t *empty[PURGE_BATCH];
    unsigned n_empty = batch_put_back(eb, eb->inflight, 0, empty);
    for (unsigned i = 0; i < n_empty; i++) llama_span_release(empty[i]);
  }
}
