/* large.c - objects above 1 MiB, each in its own mapping.
 *
 * The mapping starts 2 MiB-aligned with an llama_large_t header, so that
 * `p & ~(2 MiB - 1)` finds it like a huge page header. Objects aligned to
 * 2 MiB or more cannot have the header in their own 2 MiB frame; those few
 * ("far" objects) are found through a small locked registry. Freeing unmaps
 * at once: large objects go straight back to the OS. The object's whole
 * 2 MiB frames are advised huge (a 3 MiB object: its first 2 MiB). */
#include "internal.h"

#include <errno.h>
#include <stddef.h>

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
static _Atomic uint64_t live_bytes[LLAMA_NUM_BINS], live_objects[LLAMA_NUM_BINS];

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
  /* Every 2 MiB frame the object fills (the header aside) may be a huge
   * page: it costs no memory unless the program leaves most of it
   * untouched. Frames before the user pointer of an aligned object (a
   * header alone, or padding) and the tail frame stay on 4 KiB pages. */
  uintptr_t from = ((uintptr_t)base + offset - LARGE_HEADER_SIZE + HUGE_PAGE_MASK) & ~(uintptr_t)HUGE_PAGE_MASK;
  uintptr_t to = ((uintptr_t)base + map_size) & ~(uintptr_t)HUGE_PAGE_MASK;
  if (to > from) llama_os_hugepage_advise((void *)from, to - from);
  llama_large_t *large = (llama_large_t *)base;
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
  pthread_mutex_unlock(&far_lock);
  atomic_fetch_sub_explicit(&live_bytes[large->bin], large->usable, memory_order_relaxed);
  atomic_fetch_sub_explicit(&live_objects[large->bin], 1, memory_order_relaxed);
  llama_os_unmap(large, large->map_size);
  errno = saved_errno;
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
void llama_large_fork_child(void) { pthread_mutex_init(&far_lock, NULL); }
