/* large.c - objects above 1 MiB, each in its own mapping.
 *
 * The mapping starts 2 MiB-aligned with an llama_large_t header, so that
 * `p & ~(2 MiB - 1)` finds it like a huge page header. Objects aligned to
 * 2 MiB or more cannot have the header in their own 2 MiB frame; those few
 * ("far" objects) are found through a small locked registry. Freeing unmaps
 * at once: large objects go straight back to the OS.
 *
 * Huge frames are lazy, as small-object pages are (hugepage.c): an object
 * starts on 4 KiB pages (MADV_NOHUGEPAGE, also under THP "always"), and the
 * maintenance collapses each whole 2 MiB frame that a mincore scan finds
 * dense (LLAMA_HUGE_PAGE_UNITS/64 of its 4 KiB pages resident), one purge
 * delay after the allocation and then at doubling intervals while scans
 * find new dense frames, up to 7 fruitless ones. Advised huge from the
 * start, every frame the program touched at all cost 2 MiB: a vector's
 * spare capacity, an array touched in part (mimalloc-bench's barnes held
 * 1.17x glibc's time-averaged RSS, 1.00x without huge pages). */
#include "internal.h"

#include <errno.h>
#include <stddef.h>
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

static pthread_mutex_t far_lock = PTHREAD_MUTEX_INITIALIZER;
static llama_large_t *far_list;
static llama_large_t *all_list; /* every large object, for the accounting (far_lock) */
static llama_large_t *scanning_now; /* the object being scanned, if any (far_lock) */
static _Atomic uint64_t live_bytes[LLAMA_NUM_BINS], live_objects[LLAMA_NUM_BINS];

/* A large object is first scanned after 20 purge delays (1 s): collapsing
 * copies each frame, which pays for an object that lives on, not for the
 * buffers a program churns (mimalloc-bench's malloc-large keeps 20 of 5-25
 * MiB for ~90 ms each: scanned after one delay it ran 11x slower). */
#define FIRST_SCAN_DELAYS 20u

/* Lazy huge frames: as huge pages are lazy (LLAMA_HUGE_PAGE_UNITS != 0). */
static bool lazy_frames(void) {
  return llama_options.huge_pages && llama_options.huge_page_units != 0;
}

static uint32_t now_ms(void) { return (uint32_t)(llama_now_ns() / 1000000u); }

/* [*from, *to): the whole 2 MiB frames of the object at base (user data at
 * base + offset), the frame holding only the header aside. */
static void large_frames(const uint8_t *base, size_t offset, size_t map_size, uintptr_t *from,
                         uintptr_t *to) {
  *from = ((uintptr_t)base + offset - LARGE_HEADER_SIZE + HUGE_PAGE_MASK) & ~(uintptr_t)HUGE_PAGE_MASK;
  *to = ((uintptr_t)base + map_size) & ~(uintptr_t)HUGE_PAGE_MASK;
}

/* Maps a large object of n bytes aligned to alignment (a power of two).
 * Memory is fresh from the OS, hence zeroed. NULL on overflow or refusal. */
void *llama_large_alloc(unsigned bin, size_t n, size_t alignment) {
  if (alignment < MIN_ALIGN) alignment = MIN_ALIGN;
  bool far = alignment >= HUGE_PAGE_SIZE;
  size_t offset = far ? alignment : (alignment > LARGE_HEADER_SIZE ? alignment : LARGE_HEADER_SIZE);
  if (n > LLAMA_MAX_REQUEST || offset > LLAMA_MAX_REQUEST) return NULL;
  size_t map_size = (offset + n + 4095) & ~(size_t)4095;
  uint8_t *base = llama_os_map_aligned(map_size, far ? alignment : HUGE_PAGE_SIZE, NULL);
  if (!base) return NULL;
  llama_large_t *large = (llama_large_t *)base;
  /* The whole 2 MiB frames the object fills (the header aside) may become
   * huge pages. Frames before the user pointer of an aligned object (a
   * header alone, or padding) and the tail frame stay on 4 KiB pages. */
  uintptr_t from, to;
  large_frames(base, offset, map_size, &from, &to);
  if (to > from) {
    if (lazy_frames()) {
      llama_os_hugepage_forbid((void *)from, to - from);
      large->scan_at_ms = now_ms() + FIRST_SCAN_DELAYS * llama_options.purge_delay_ms;
      llama_background_wake();
    } else {
      llama_os_hugepage_advise((void *)from, to - from);
      large->scan_flags = LARGE_SETTLED;
    }
  } else {
    large->scan_flags = LARGE_SETTLED;
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
  atomic_fetch_sub_explicit(&live_bytes[large->bin], large->usable, memory_order_relaxed);
  atomic_fetch_sub_explicit(&live_objects[large->bin], 1, memory_order_relaxed);
  if (!defer) llama_os_unmap(large, large->map_size);
  errno = saved_errno;
}

#define SCAN_FRAMES_PER_PASS 256 /* 512 MiB of mincore per maintenance pass */
#define SCAN_MAX_SHIFT 7           /* fruitless scans before an object settles */

/* Resident 4 KiB pages of the 2 MiB frame at p. */
static unsigned frame_resident_pages(const void *p) {
  unsigned char vec[HUGE_PAGE_SIZE / 4096];
  if (mincore((void *)p, HUGE_PAGE_SIZE, vec) != 0) return 0;
  unsigned n = 0;
  for (size_t i = 0; i < sizeof vec; i++) n += vec[i] & 1;
  return n;
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
    if (frame_resident_pages((void *)f) < dense) {
      sparse++;
    } else {
      dense_now++;
      llama_os_hugepage_collapse((void *)f);
    }
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
  if (!lazy_frames()) return false;
  uint32_t now = (uint32_t)(now_ns / 1000000u);
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
    if (unmap) llama_os_unmap(pick, pick->map_size);
  }
  errno = saved_errno;
  return later;
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
  pthread_mutex_unlock(&far_lock);
}

void llama_large_fork_prepare(void) { pthread_mutex_lock(&far_lock); }
void llama_large_fork_parent(void) { pthread_mutex_unlock(&far_lock); }
/* The child has no background thread: an object it was scanning at the
 * fork is the child's to unpin, or to unmap if it was freed meanwhile. */
void llama_large_fork_child(void) {
  pthread_mutex_init(&far_lock, NULL);
  llama_large_t *l = scanning_now;
  scanning_now = NULL;
  if (l) {
    l->scan_flags &= (uint8_t)~LARGE_SCANNING;
    if (l->scan_flags & LARGE_FREE_PENDING) llama_os_unmap(l, l->map_size);
  }
}
