/* large.c - objects above 1 MiB.
 *
 * Each object starts 2 MiB-aligned with an llama_large_t header, so that
 * `p & ~(2 MiB - 1)` finds it like a huge page header. Objects aligned to
 * 2 MiB or more cannot have the header in their own 2 MiB frame; those few
 * ("far" objects) get their own mapping and are found through a small
 * locked registry.
 *
 * The others are carved from *arenas*: 1 GiB of address space each
 * (MAP_NORESERVE: untouched, it costs nothing), 512 frames of 2 MiB. An
 * object takes a run of whole frames, the best-placed run of free frames:
 * the one with the most *dirty* frames (freed, still resident), then the
 * shortest run. Once the program has been seen to replace large objects
 * quickly (the reserve, below), a freed object's frames stay dirty and are
 * decommitted (MADV_DONTNEED) later by the maintenance; otherwise at free.
 * Free frames coalesce by construction (a bitmap). Why: huge frames are lazy (below),
 * so a fresh object is faulted in 4 KiB at a time, and on this VM a 4 KiB
 * fault costs ~12 us: mimalloc-bench's malloc-large (20 live buffers of
 * 5-25 MiB, replaced one at a time) took 88 s against glibc's 6.6, whose
 * heap reuses the memory it freed. A cache of whole freed mappings would
 * still have faulted 15-40% of the bytes (simulated: sizes differ, and
 * nothing coalesces). Objects above an arena, and where no arena can be
 * mapped, get their own mapping, unmapped at free.
 *
 * Huge frames are lazy, as small-object pages are (hugepage.c): an object
 * starts on 4 KiB pages (MADV_NOHUGEPAGE, also under THP "always"), and the
 * maintenance collapses each whole 2 MiB frame that a mincore scan finds
 * dense (LLAMA_HUGE_PAGE_UNITS/64 of its 4 KiB pages resident), 20 purge
 * delays after the allocation and then at doubling intervals while scans
 * find new dense frames, up to 7 fruitless ones. Advised huge from the
 * start, every frame the program touched at all cost 2 MiB: a vector's
 * spare capacity, an array touched in part (mimalloc-bench's barnes held
 * 1.17x glibc's time-averaged RSS, 1.00x without huge pages). A decommitted
 * frame is set back to MADV_NOHUGEPAGE. */
#include "internal.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>

/* The fast free (alloc.c) reads a large header as if it were a huge page
 * header: unit_head[] (zero: span 0) and span 0's owner and flags. Those
 * bytes stay zero (fresh mapping) and before the user pointer, so that the
 * owner test fails and the slow path looks at region_kind. */
#define LARGE_HEADER_SIZE 256
_Static_assert(sizeof(llama_large_t) <= offsetof(llama_huge_page_t, unit_head),
               "large header overlaps unit_head of the huge page header");
_Static_assert(offsetof(llama_huge_page_t, spans) + sizeof(llama_span_t) <= LARGE_HEADER_SIZE,
               "span 0 of the huge page header must lie inside the large header");

static pthread_mutex_t far_lock = PTHREAD_MUTEX_INITIALIZER; /* everything below */
static llama_large_t *far_list;
static llama_large_t *all_list; /* every large object, for the accounting (far_lock) */
static llama_large_t *scanning_now; /* the object being scanned, if any (far_lock) */
static pthread_mutex_t scan_lock = PTHREAD_MUTEX_INITIALIZER; /* one scanner; before far_lock */
static _Atomic uint64_t live_bytes[LLAMA_NUM_BINS], live_objects[LLAMA_NUM_BINS];
static _Atomic uint64_t next_maintain_ns; /* without the background thread */

/* A large object is first scanned after 20 purge delays (1 s): collapsing
 * copies each frame, which pays for an object that lives on, not for the
 * buffers a program churns (mimalloc-bench's malloc-large keeps 20 of 5-25
 * MiB for ~90 ms each: scanned after one delay it ran 11x slower). */
#define FIRST_SCAN_DELAYS 20u

static uint32_t now_ms(void) { return (uint32_t)(llama_now_ns() / 1000000u); }

/* [*from, *to): the whole 2 MiB frames of the object at base (user data at
 * base + offset), the frame holding only the header aside. */
static void large_frames(const uint8_t *base, size_t offset, size_t map_size, uintptr_t *from,
                         uintptr_t *to) {
  *from = ((uintptr_t)base + offset - LARGE_HEADER_SIZE + HUGE_PAGE_MASK) & ~(uintptr_t)HUGE_PAGE_MASK;
  *to = ((uintptr_t)base + map_size) & ~(uintptr_t)HUGE_PAGE_MASK;
}


/* ---- arenas ---------------------------------------------------------------- */

#define ARENA_FRAMES 512u /* 1 GiB of address space */
#define ARENA_WORDS (ARENA_FRAMES / 64u)
#define ARENA_MAX 64u
#define LARGE_IN_ARENA 8 /* scan_flags: carved from an arena */

typedef struct {
  uint8_t *base;
  uint64_t used[ARENA_WORDS];  /* frames of live objects */
  uint64_t dirty[ARENA_WORDS]; /* free frames that may still be resident */
  uint32_t freed_ms[ARENA_FRAMES]; /* when a dirty frame was freed */
  unsigned used_frames;
} arena_t;

static arena_t *arenas[ARENA_MAX]; /* far_lock */
static void reserve_note(unsigned frames, unsigned fresh);
static unsigned reserve_frames;   /* below, with the reserve's rules */
static uint32_t last_purge_ms;
static bool purged_once;
static unsigned arena_count;

LLAMA_INLINE bool bit(const uint64_t *w, unsigned i) { return (w[i / 64] >> (i % 64)) & 1; }
static void bits_set(uint64_t *w, unsigned from, unsigned n, bool on) {
  for (unsigned i = from; i < from + n; i++) {
    if (on) w[i / 64] |= 1ull << (i % 64);
    else w[i / 64] &= ~(1ull << (i % 64));
  }
}

/* The best place for `frames` frames: in each run of free frames, the
 * window with the most dirty frames; over all, the most dirty frames, then
 * the shortest run (best fit), then the lowest address. */
static bool arena_place(unsigned frames, unsigned *a_out, unsigned *f_out, unsigned *dirty_out) {
  int best_dirty = -1;
  unsigned best_len = UINT32_MAX;
  for (unsigned a = 0; a < arena_count; a++) {
    const arena_t *ar = arenas[a];
    if (ARENA_FRAMES - ar->used_frames < frames) continue;
    for (unsigned i = 0; i < ARENA_FRAMES;) {
      if (bit(ar->used, i)) {
        i++;
        continue;
      }
      unsigned j = i;
      while (j < ARENA_FRAMES && !bit(ar->used, j)) j++;
      unsigned len = j - i;
      if (len >= frames) {
        int d = 0;
        for (unsigned k = i; k < i + frames; k++) d += bit(ar->dirty, k);
        int wd = d;
        unsigned ws = i;
        for (unsigned s = i + 1; s + frames <= j; s++) { /* slide the window */
          d += (int)bit(ar->dirty, s + frames - 1) - (int)bit(ar->dirty, s - 1);
          if (d > wd) wd = d, ws = s;
        }
        if (wd > best_dirty || (wd == best_dirty && len < best_len)) {
          best_dirty = wd, best_len = len;
          *a_out = a, *f_out = ws, *dirty_out = (unsigned)wd;
        }
      }
      i = j;
    }
  }
  return best_dirty >= 0;
}

/* A new arena (far_lock held; dropped around the mmap). False when none can
 * be had: the caller maps the object on its own. */
static bool arena_grow(void) {
  if (arena_count == ARENA_MAX) return false;
  unsigned seen = arena_count;
  pthread_mutex_unlock(&far_lock);
  size_t meta = (sizeof(arena_t) + 4095) & ~(size_t)4095;
  arena_t *ar = llama_os_map(meta);
  uint8_t *base = ar ? llama_os_map_aligned((size_t)ARENA_FRAMES * HUGE_PAGE_SIZE, HUGE_PAGE_SIZE, NULL) : NULL;
  /* Lazy frames (or none): every frame starts on 4 KiB pages, also under
   * THP "always"; eager ones are advised per object. */
  if (base) llama_os_hugepage_forbid(base, (size_t)ARENA_FRAMES * HUGE_PAGE_SIZE);
  pthread_mutex_lock(&far_lock);
  if (!base || arena_count != seen || arena_count == ARENA_MAX) {
    /* Failed, or another thread added one meanwhile: use that one. */
    bool other = arena_count != seen;
    pthread_mutex_unlock(&far_lock);
    if (base) llama_os_unmap(base, (size_t)ARENA_FRAMES * HUGE_PAGE_SIZE);
    if (ar) llama_os_unmap(ar, meta);
    pthread_mutex_lock(&far_lock);
    return other;
  }
  ar->base = base;
  arenas[arena_count++] = ar;
  return true;
}

/* Carves `frames` frames for an object; returns their base, NULL if no
 * arena can hold them. dirty (bit k: the object's frame k) gets the frames
 * that were dirty. */
static uint8_t *arena_alloc(unsigned frames, uint64_t *dirty_out) {
  if (frames == 0 || frames > ARENA_FRAMES) return NULL;
  unsigned a, f, dirty;
  pthread_mutex_lock(&far_lock);
  while (!arena_place(frames, &a, &f, &dirty)) {
    if (!arena_grow()) {
      pthread_mutex_unlock(&far_lock);
      return NULL;
    }
  }
  arena_t *ar = arenas[a];
  for (unsigned k = 0; k < frames; k++)
    if (bit(ar->dirty, f + k)) dirty_out[k / 64] |= 1ull << (k % 64);
  bits_set(ar->used, f, frames, true);
  bits_set(ar->dirty, f, frames, false);
  ar->used_frames += frames;
  reserve_note(frames, frames - dirty);
  pthread_mutex_unlock(&far_lock);
  return ar->base + (size_t)f * HUGE_PAGE_SIZE;
}

/* The arena of p (far_lock held). */
static arena_t *arena_of(const void *p) {
  for (unsigned a = 0; a < arena_count; a++) {
    const uint8_t *b = arenas[a]->base;
    if ((const uint8_t *)p >= b && (const uint8_t *)p < b + (size_t)ARENA_FRAMES * HUGE_PAGE_SIZE)
      return arenas[a];
  }
  return NULL;
}

/* Frames of an object mapped over map_size bytes; objects above an arena
 * (ARENA_FRAMES frames) never reach the frame arithmetic (the bitmaps use
 * unsigned frame numbers). */
static size_t frames_of(size_t map_size) { return (map_size + HUGE_PAGE_SIZE - 1) / HUGE_PAGE_SIZE; }
#define ARENA_BYTES ((size_t)ARENA_FRAMES * HUGE_PAGE_SIZE)

static void frames_decommit(arena_t *ar, unsigned f, unsigned n);

/* Frames [f, f + n) of ar were just freed (far_lock): they turn dirty for
 * the maintenance to decommit after the purge delay, unless the reserve is
 * 0 (no large allocation has lately needed frames just decommitted): then
 * they go at once, as the object's own mapping was unmapped at free before
 * the arenas. The demo's kvserver frees a 4 MiB buffer about once a second;
 * held for a purge delay each time, it cost 1 MiB of its 25 MiB
 * time-averaged RSS. */
static void frames_freed(arena_t *ar, unsigned f, unsigned n, uint32_t now) {
  if (!reserve_frames) {
    frames_decommit(ar, f, n);
    last_purge_ms = now, purged_once = true;
    return;
  }
  bits_set(ar->dirty, f, n, true);
  for (unsigned k = f; k < f + n; k++) ar->freed_ms[k] = now;
  llama_hugepages_note_work(); /* the maintenance decommits them later */
}

/* Gives an object's memory back: its frames turn dirty (the maintenance
 * decommits them after the purge delay), or its own mapping is unmapped. */
static void large_release(llama_large_t *l) {
  if (!(l->scan_flags & LARGE_IN_ARENA)) {
    llama_os_unmap(l, l->map_size);
    return;
  }
  uint32_t now = now_ms();
  pthread_mutex_lock(&far_lock);
  arena_t *ar = arena_of(l);
  unsigned f = (unsigned)(((uint8_t *)l - ar->base) / HUGE_PAGE_SIZE), n = (unsigned)frames_of(l->map_size);
  bits_set(ar->used, f, n, false);
  ar->used_frames -= n;
  frames_freed(ar, f, n, now);
  pthread_mutex_unlock(&far_lock);
}

/* Dirty frames kept past the purge delay (the reserve), learned as the
 * huge-page warm cache learns its limit (hugepage.c): it grows on a *miss*,
 * an allocation that had to fault clean frames in within two purge delays
 * of a decommit (frames it could have reused had they been kept), by those
 * clean frames, up to 4x the largest object of the last two windows; a
 * window (RESERVE_WINDOW_DELAYS purge delays) without a miss halves it. A
 * program that does not replace large objects that fast keeps a reserve of
 * 0: its freed frames are decommitted at free (frames_freed). With a
 * reserve, frames beyond it go after one delay, the rest after the window
 * (an idle program keeps nothing). Measured on malloc-large (20 live
 * buffers of 5-25 MiB, replaced one at a time, every 5 ms): every dirty
 * frame decommitted after 50 ms faulted 16% of the bytes it wrote in
 * afresh, 2.4x glibc's page faults (25 s against glibc's 6.6); held 1 s, as
 * many faults as glibc; a fixed reserve of 2x / 4x the largest object:
 * 1.8x / 1.3x glibc's faults, peak RSS 449 / 483 MiB (glibc 534). The demo's
 * kvserver grows a buffer 1 -> 2 -> 4 MiB about once a second: counting a
 * miss after any decommit in the last second kept 4-11 MiB of dirty frames
 * resident throughout (time-averaged RSS 24.8 -> 29.7 MiB). */
#define RESERVE_WINDOW_DELAYS 20u
#define RESERVE_MISS_DELAYS 2u
static unsigned window_max, window_prev_max; /* largest objects, frames (far_lock) */
static unsigned misses;
static uint32_t window_start_ms;

/* An allocation of `frames` of which `fresh` were clean (far_lock). */
static void reserve_note(unsigned frames, unsigned fresh) {
  if (frames > window_max) window_max = frames;
  if (!fresh || !purged_once ||
      now_ms() - last_purge_ms > RESERVE_MISS_DELAYS * llama_options.purge_delay_ms)
    return;
  misses++;
  unsigned cap = 4 * (window_max > window_prev_max ? window_max : window_prev_max);
  reserve_frames = reserve_frames + fresh < cap ? reserve_frames + fresh : cap;
}

static unsigned dirty_total(void) {
  unsigned n = 0;
  for (unsigned a = 0; a < arena_count; a++)
    for (unsigned w = 0; w < ARENA_WORDS; w++) n += (unsigned)__builtin_popcountll(arenas[a]->dirty[w]);
  return n;
}

/* Decommits the dirty frames of arena ar from i freed at time t (all of
 * them, run by run) and sets them back to 4 KiB pages. Returns how many. */
static unsigned purge_frames(arena_t *ar, bool (*due)(const arena_t *, unsigned, uint32_t), uint32_t t) {
  unsigned purged = 0;
  for (unsigned i = 0; i < ARENA_FRAMES;) {
    if (!due(ar, i, t)) {
      i++;
      continue;
    }
    unsigned j = i;
    while (j < ARENA_FRAMES && due(ar, j, t)) j++;
    frames_decommit(ar, i, j - i);
    purged += j - i;
    i = j;
  }
  return purged;
}

/* Gives frames [f, f + n) back to the OS and sets them back to 4 KiB
 * pages; they are clean (far_lock). */
static void frames_decommit(arena_t *ar, unsigned f, unsigned n) {
  uint8_t *p = ar->base + (size_t)f * HUGE_PAGE_SIZE;
  llama_os_decommit(p, (size_t)n * HUGE_PAGE_SIZE);
  llama_os_hugepage_forbid(p, (size_t)n * HUGE_PAGE_SIZE);
  bits_set(ar->dirty, f, n, false);
}

/* due(): freed at or before t, or exactly at t. */
static bool due_by(const arena_t *ar, unsigned i, uint32_t t) {
  return bit(ar->dirty, i) && (int32_t)(t - ar->freed_ms[i]) >= 0;
}
static bool due_at(const arena_t *ar, unsigned i, uint32_t t) {
  return bit(ar->dirty, i) && ar->freed_ms[i] == t;
}

/* Decommits dirty frames: those idle for the window (force: all), then the
 * oldest of those idle for a purge delay, one freed object at a time, until
 * no more than the reserve remain; unmaps arenas left empty and clean but
 * the first. True while dirty frames wait. */
static bool arenas_purge(uint32_t now, bool force) {
  uint32_t delay = llama_options.purge_delay_ms, window = RESERVE_WINDOW_DELAYS * delay;
  pthread_mutex_lock(&far_lock);
  if (now - window_start_ms >= window) {
    window_prev_max = window_max;
    window_max = 0;
    if (!misses) reserve_frames /= 2;
    misses = 0;
    window_start_ms = now;
  }
  unsigned reserve = force ? 0 : reserve_frames;
  unsigned dirty = dirty_total(), before = dirty;
  for (unsigned a = 0; a < arena_count && dirty; a++)
    dirty -= purge_frames(arenas[a], due_by, force ? now : now - window);
  while (dirty > reserve) {
    /* The oldest dirty frame idle for a delay, and the frames freed with it. */
    bool found = false;
    uint32_t oldest = 0;
    for (unsigned a = 0; a < arena_count; a++)
      for (unsigned i = 0; i < ARENA_FRAMES; i++)
        if (due_by(arenas[a], i, now - delay) &&
            (!found || (int32_t)(arenas[a]->freed_ms[i] - oldest) < 0))
          found = true, oldest = arenas[a]->freed_ms[i];
    if (!found) break;
    for (unsigned a = 0; a < arena_count; a++) dirty -= purge_frames(arenas[a], due_at, oldest);
  }
  if (before != dirty) last_purge_ms = now, purged_once = true;
  /* Empty, clean arenas: all but the first go (their page tables too). */
  for (unsigned a = arena_count; a-- > 1;) {
    arena_t *ar = arenas[a];
    bool clean = ar->used_frames == 0;
    for (unsigned w = 0; w < ARENA_WORDS && clean; w++) clean = ar->dirty[w] == 0;
    if (!clean) continue;
    arenas[a] = arenas[--arena_count];
    llama_os_unmap(ar->base, (size_t)ARENA_FRAMES * HUGE_PAGE_SIZE);
    llama_os_unmap(ar, (sizeof(arena_t) + 4095) & ~(size_t)4095);
  }
  pthread_mutex_unlock(&far_lock);
  return dirty > 0;
}

/* Resident bytes of the dirty frames: the accounting's "cached" (far_lock). */
static uint64_t arenas_cached_bytes(void) {
  uint64_t r = 0;
  for (unsigned a = 0; a < arena_count; a++)
    for (unsigned i = 0; i < ARENA_FRAMES; i++)
      if (bit(arenas[a]->dirty, i))
        r += llama_resident_bytes(arenas[a]->base + (size_t)i * HUGE_PAGE_SIZE, HUGE_PAGE_SIZE);
  return r;
}

/* A large object of n bytes aligned to alignment (a power of two): from an
 * arena, else in its own mapping. zero: the memory must read as zeros
 * (calloc); fresh pages do, reused dirty frames are cleared. NULL on
 * overflow or refusal. */
void *llama_large_alloc(unsigned bin, size_t n, size_t alignment, bool zero) {
  if (alignment < MIN_ALIGN) alignment = MIN_ALIGN;
  /* Without the background thread, large allocations run the maintenance
   * themselves, at most once a millisecond (as span acquisitions do): a
   * program that allocates only large objects still decommits dirty frames
   * and lets its reserve decay. */
  if (!llama_background_running()) {
    uint64_t t = llama_now_ns();
    if (t >= atomic_load_explicit(&next_maintain_ns, memory_order_relaxed)) {
      atomic_store_explicit(&next_maintain_ns, t + 1000000, memory_order_relaxed);
      llama_memory_maintain(t, false);
    }
  }
  bool far = alignment >= HUGE_PAGE_SIZE;
  size_t offset = far ? alignment : (alignment > LARGE_HEADER_SIZE ? alignment : LARGE_HEADER_SIZE);
  if (n > LLAMA_MAX_REQUEST || offset > LLAMA_MAX_REQUEST) return NULL;
  size_t map_size = (offset + n + 4095) & ~(size_t)4095;
  bool dirty_first = false, dirty_last = false;
  uint64_t dirty[ARENA_WORDS] = {0}; /* which of its frames were dirty */
  uint8_t *base = far || map_size > ARENA_BYTES ? NULL
                                                : arena_alloc((unsigned)frames_of(map_size), dirty);
  bool in_arena = base != NULL;
  if (!base) base = llama_os_map_aligned(map_size, far ? alignment : HUGE_PAGE_SIZE, NULL);
  if (!base) return NULL;
  llama_large_t *large = (llama_large_t *)base;
  /* The header reads as zeros where the fast free looks (above); a dirty
   * frame holds an earlier object's bytes. */
  size_t frames = in_arena ? frames_of(map_size) : 0;
  if (in_arena) {
    dirty_first = bit(dirty, 0);
    dirty_last = bit(dirty, (unsigned)frames - 1);
  }
  if (dirty_first) memset(large, 0, LARGE_HEADER_SIZE);
  if (in_arena) {
    /* Nothing of the object's last frame past its end stays resident, nor
     * is it made huge behind our back (an earlier object's collapse left
     * the frame MADV_HUGEPAGE, and khugepaged needs only one page). */
    size_t tail = frames * HUGE_PAGE_SIZE - map_size;
    if (dirty_last && tail) {
      llama_os_decommit(base + map_size, tail);
      if (llama_lazy_huge()) llama_os_hugepage_forbid(base + (frames - 1) * HUGE_PAGE_SIZE, HUGE_PAGE_SIZE);
    }
    /* calloc: only the reused frames hold old bytes; fresh ones read zero. */
    for (unsigned k = 0; zero && k < frames; k++) {
      if (!bit(dirty, k)) continue;
      uint8_t *from = base + (size_t)k * HUGE_PAGE_SIZE, *to = from + HUGE_PAGE_SIZE;
      if (from < base + offset) from = base + offset;
      if (to > base + map_size) to = base + map_size;
      if (to > from) memset(from, 0, (size_t)(to - from));
    }
  }
  /* The whole 2 MiB frames the object fills (the header aside) may become
   * huge pages. Frames before the user pointer of an aligned object (a
   * header alone, or padding) and the tail frame stay on 4 KiB pages. */
  uintptr_t from, to;
  large_frames(base, offset, map_size, &from, &to);
  large->scan_flags = in_arena ? LARGE_IN_ARENA : 0;
  large->scan_shift = 0;
  large->dense_frames = 0;
  if (to > from) {
    if (llama_lazy_huge()) {
      if (!in_arena) llama_os_hugepage_forbid((void *)from, to - from);
      large->scan_at_ms = now_ms() + FIRST_SCAN_DELAYS * llama_options.purge_delay_ms;
      llama_hugepages_note_work(); /* a scan to come: keeps the maintenance awake */
    } else {
      llama_os_hugepage_advise((void *)from, to - from);
      large->scan_flags |= LARGE_SETTLED;
    }
  } else {
    large->scan_flags |= LARGE_SETTLED;
  }
  large->region_kind = REGION_LARGE;
  large->bin = bin;
  large->map_size = map_size;
  large->user = base + offset;
  large->usable = map_size - offset;
  pthread_mutex_lock(&far_lock);
  if (far) {
    large->prev_far = NULL;
    large->next_far = far_list;
    if (far_list) far_list->prev_far = large;
    far_list = large;
  }
  large->prev_all = NULL;
  large->next_all = all_list;
  if (all_list) all_list->prev_all = large;
  all_list = large;
  pthread_mutex_unlock(&far_lock);
  atomic_fetch_add_explicit(&live_bytes[bin], large->usable, memory_order_relaxed);
  atomic_fetch_add_explicit(&live_objects[bin], 1, memory_order_relaxed);
  return large->user;
}

/* realloc in place: an arena object grows into the free frames after it
 * or gives its last frames back (they turn dirty), as glibc's realloc
 * moves an mmapped chunk with mremap instead of copying it. False when it
 * cannot (its own mapping, the frames after it are taken, or the
 * maintenance is scanning it): the caller copies. */
bool llama_large_resize(llama_large_t *l, size_t n) {
  size_t offset = (size_t)((uint8_t *)l->user - (uint8_t *)l);
  if (n > ARENA_BYTES || !(l->scan_flags & LARGE_IN_ARENA)) return false;
  size_t old_map = l->map_size, map_size = (offset + n + 4095) & ~(size_t)4095;
  if (map_size > ARENA_BYTES) return false;
  unsigned cur = (unsigned)frames_of(old_map), want = (unsigned)frames_of(map_size);
  uint32_t now = now_ms();
  pthread_mutex_lock(&far_lock);
  if (l->scan_flags & LARGE_SCANNING) {
    pthread_mutex_unlock(&far_lock);
    return false;
  }
  arena_t *ar = arena_of(l);
  unsigned f = (unsigned)(((uint8_t *)l - ar->base) / HUGE_PAGE_SIZE);
  if (want > cur) {
    if (f + want > ARENA_FRAMES) goto no;
    for (unsigned k = f + cur; k < f + want; k++)
      if (bit(ar->used, k)) goto no;
    bits_set(ar->used, f + cur, want - cur, true);
    bits_set(ar->dirty, f + cur, want - cur, false);
    ar->used_frames += want - cur;
    reserve_note(want, 0);
  } else if (want < cur) {
    bits_set(ar->used, f + want, cur - want, false);
    ar->used_frames -= cur - want;
    frames_freed(ar, f + want, cur - want, now);
  }
  l->map_size = map_size;
  size_t old_usable = l->usable;
  l->usable = map_size - offset;
  if (llama_lazy_huge() && want > cur) { /* new frames: scanned again */
    l->scan_flags &= (uint8_t)~LARGE_SETTLED;
    l->scan_shift = 0;
    l->scan_at_ms = now + FIRST_SCAN_DELAYS * llama_options.purge_delay_ms;
  }
  pthread_mutex_unlock(&far_lock);
  if (l->usable > old_usable)
    atomic_fetch_add_explicit(&live_bytes[l->bin], l->usable - old_usable, memory_order_relaxed);
  else
    atomic_fetch_sub_explicit(&live_bytes[l->bin], old_usable - l->usable, memory_order_relaxed);
  uint8_t *base = (uint8_t *)l;
  if (map_size < old_map) { /* the kept last frame's bytes past the new end */
    size_t stop = (size_t)want * HUGE_PAGE_SIZE < old_map ? (size_t)want * HUGE_PAGE_SIZE : old_map;
    if (stop > map_size) llama_os_decommit(base + map_size, stop - map_size);
  }
  if (want > cur) {
    if (llama_lazy_huge()) llama_hugepages_note_work();
    else {
      uintptr_t from, to;
      large_frames(base, offset, map_size, &from, &to);
      if (to > from) llama_os_hugepage_advise((void *)from, to - from);
    }
  }
  return true;
no:
  pthread_mutex_unlock(&far_lock);
  return false;
}

/* The far object whose user pointer is p, or NULL. */
llama_large_t *llama_large_find_far(const void *p) {
  pthread_mutex_lock(&far_lock);
  llama_large_t *large = far_list;
  while (large && large->user != p) large = large->next_far;
  pthread_mutex_unlock(&far_lock);
  return large;
}

void llama_large_free(llama_large_t *large) {
  int saved_errno = errno;
  pthread_mutex_lock(&far_lock);
  /* A second free while the first waits for the scanner: reported. */
  if (large->region_kind != REGION_LARGE) {
    pthread_mutex_unlock(&far_lock);
    llama_report("free of a pointer not allocated by llamalloc (ignored)", NULL);
    errno = saved_errno;
    return;
  }
  large->region_kind = REGION_LARGE_FREED;
  unsigned bin = large->bin;
  size_t usable = large->usable;
  if ((uint8_t *)large->user - (uint8_t *)large >= (ptrdiff_t)HUGE_PAGE_SIZE) {
    if (large->prev_far) large->prev_far->next_far = large->next_far;
    else far_list = large->next_far;
    if (large->next_far) large->next_far->prev_far = large->prev_far;
  }
  if (large->prev_all) large->prev_all->next_all = large->next_all;
  else all_list = large->next_all;
  if (large->next_all) large->next_all->prev_all = large->prev_all;
  /* Being scanned (outside the lock): the scanner unmaps it when done. */
  bool defer = large->scan_flags & LARGE_SCANNING;
  if (defer) large->scan_flags |= LARGE_FREE_PENDING;
  pthread_mutex_unlock(&far_lock);
  /* Read before the unlock: a deferred free is the scanner's to release
   * from then on, the header with it. */
  atomic_fetch_sub_explicit(&live_bytes[bin], usable, memory_order_relaxed);
  atomic_fetch_sub_explicit(&live_objects[bin], 1, memory_order_relaxed);
  if (!defer) large_release(large);
  errno = saved_errno;
}

#define SCAN_FRAMES_PER_PASS 256 /* 512 MiB of mincore per maintenance pass */
#define SCAN_MAX_SHIFT 7           /* fruitless scans before an object settles */

/* Resident 4 KiB pages of the 2 MiB frame at p. */
static unsigned frame_resident_pages(const void *p) {
  return (unsigned)(llama_resident_bytes(p, HUGE_PAGE_SIZE) / 4096);
}

/* Scans one large object's whole frames (outside far_lock: the object is
 * pinned by LARGE_SCANNING) and collapses the dense ones; updates its
 * backoff and schedules the next scan. True when it needs no more scans. */
static bool scan_object(llama_large_t *l, uint32_t now, unsigned dense) {
  uintptr_t from, to;
  large_frames((const uint8_t *)l, (size_t)((uint8_t *)l->user - (uint8_t *)l), l->map_size, &from,
               &to);
  /* A dense frame is collapsed again at each scan (a no-op once huge: the
   * kernel skips a range mapped by one huge page); what counts as progress
   * is more dense frames than the last scan saw. */
  unsigned sparse = 0, dense_now = 0;
  for (uintptr_t f = from; f < to; f += HUGE_PAGE_SIZE) {
    /* A frame counts as done once collapsed; one the kernel could not
     * collapse (busy, THP off, a pause after a failure) is scanned again. */
    if (frame_resident_pages((void *)f) >= dense && llama_os_hugepage_collapse((void *)f) > 0)
      dense_now++;
    else
      sparse++;
  }
  bool settled = false;
  if (!sparse) settled = true; /* every frame dense: collapsed, or never will be */
  else if (dense_now > l->dense_frames) l->scan_shift = 0;
  else if (++l->scan_shift > SCAN_MAX_SHIFT) settled = true;
  l->dense_frames = (uint16_t)(dense_now < UINT16_MAX ? dense_now : UINT16_MAX);
  l->scan_at_ms = now + (llama_options.purge_delay_ms << l->scan_shift);
  return settled;
}

/* Collapses the dense whole frames of large objects whose scan is due
 * (force: every unsettled object now), at most SCAN_FRAMES_PER_PASS frames
 * a pass. True while some object may still be scanned: the background
 * thread keeps ticking. Each object is scanned outside far_lock, pinned:
 * large allocations and frees never wait on a collapse; a free meanwhile
 * leaves the unmap to the scanner. */
bool llama_large_maintain(uint64_t now_ns, bool force) {
  uint32_t now = (uint32_t)(now_ns / 1000000u);
  bool dirty_waits = arenas_purge(now, force);
  if (!llama_lazy_huge()) return dirty_waits;
  /* One scanner at a time (the background thread, llama_collect, slow
   * paths without the thread): scanning_now has room for one pinned
   * object. A forced pass waits for a running one; others come back. */
  if (force) pthread_mutex_lock(&scan_lock);
  else if (pthread_mutex_trylock(&scan_lock) != 0) return true;
  unsigned dense = llama_options.huge_page_units * (unsigned)(HUGE_PAGE_SIZE / 4096) /
                   UNITS_PER_HUGE_PAGE;
  unsigned budget = force ? UINT32_MAX : SCAN_FRAMES_PER_PASS;
  bool later = false;
  int saved_errno = errno;
  if (force) { /* every unsettled object is due now, and scanned once */
    pthread_mutex_lock(&far_lock);
    for (llama_large_t *l = all_list; l; l = l->next_all) l->scan_at_ms = now;
    pthread_mutex_unlock(&far_lock);
  }
  for (;;) {
    /* One due object at a time (a scan reschedules it past now). */
    llama_large_t *pick = NULL;
    pthread_mutex_lock(&far_lock);
    for (llama_large_t *l = all_list; l && !pick; l = l->next_all) {
      if (l->scan_flags & (LARGE_SETTLED | LARGE_SCANNING)) continue;
      if ((int32_t)(now - l->scan_at_ms) < 0 || budget == 0) {
        later = true;
        continue;
      }
      pick = l;
      pick->scan_flags |= LARGE_SCANNING;
      scanning_now = pick;
    }
    pthread_mutex_unlock(&far_lock);
    if (!pick) break;
    size_t frames = pick->map_size / HUGE_PAGE_SIZE;
    budget = frames < budget ? budget - (unsigned)frames : 0;
    bool settled = scan_object(pick, now, dense);
    pthread_mutex_lock(&far_lock);
    pick->scan_flags &= (uint8_t)~LARGE_SCANNING;
    scanning_now = NULL;
    if (settled) pick->scan_flags |= LARGE_SETTLED;
    bool unmap = pick->scan_flags & LARGE_FREE_PENDING;
    if (!unmap && !settled) later = true;
    pthread_mutex_unlock(&far_lock);
    if (unmap) large_release(pick);
  }
  pthread_mutex_unlock(&scan_lock);
  errno = saved_errno;
  return later || dirty_waits;
}

/* Adds large objects to the per-bin live counts and the large totals. */
void llama_large_stats(llama_stats_t *out) {
  for (unsigned b = 0; b < LLAMA_NUM_BINS; b++) {
    uint64_t bytes = atomic_load_explicit(&live_bytes[b], memory_order_relaxed);
    uint64_t objects = atomic_load_explicit(&live_objects[b], memory_order_relaxed);
    out->bins[b].live_bytes += bytes;
    out->bins[b].live_objects += objects;
    out->large_live_bytes += bytes;
    out->large_live_objects += objects;
  }
  pthread_mutex_lock(&far_lock);
  for (llama_large_t *l = all_list; l; l = l->next_all) {
    uint64_t r = llama_resident_bytes(l, l->map_size);
    out->memory_bins[l->bin < LLAMA_NUM_BINS ? l->bin : 0].large += r;
  }
  out->memory.cached += arenas_cached_bytes();
  pthread_mutex_unlock(&far_lock);
}

void llama_large_fork_prepare(void) {
  pthread_mutex_lock(&scan_lock);
  pthread_mutex_lock(&far_lock);
}
void llama_large_fork_parent(void) {
  pthread_mutex_unlock(&far_lock);
  pthread_mutex_unlock(&scan_lock);
}
/* The child has no background thread: an object it was scanning at the
 * fork is the child's to unpin, or to unmap if it was freed meanwhile. */
void llama_large_fork_child(void) {
  pthread_mutex_init(&far_lock, NULL);
  pthread_mutex_init(&scan_lock, NULL);
  llama_large_t *l = scanning_now;
  scanning_now = NULL;
  if (l) {
    l->scan_flags &= (uint8_t)~LARGE_SCANNING;
    if (l->scan_flags & LARGE_FREE_PENDING) large_release(l);
  }
}
