/*
 * llama/classes.h - the lifetime classes, defined once for every part of
 * LLAMA: how many there are, the upper bound of each, and their names.
 *
 * Lifetime classes are order-of-magnitude buckets of expected object
 * lifetime (the LLAMA paper's, 7 by default):
 *
 *   class 0  <= 10 ms        class 4  <= 100 s
 *   class 1  <= 100 ms       class 5  <= 1000 s
 *   class 2  <= 1 s          class 6  longer, or never freed
 *   class 3  <= 10 s
 *
 * The allocator bins objects by class (plus one bin for allocations whose
 * class nobody knows), the profile tools classify measured lifetimes with the
 * same bounds, and the model predicts one of the same classes. Part of the
 * public interface: llamalloc.h includes it, so it stays self-contained C
 * (and C++) on <stdint.h> only. Everything here is a constant or a static
 * inline function: nothing to link.
 */
#ifndef LLAMA_CLASSES_H
#define LLAMA_CLASSES_H

#include <stdint.h>

/* Number of lifetime classes; valid classes are 0 .. LLAMA_NUM_CLASSES-1. */
#define LLAMA_NUM_CLASSES 7u
/* "No class known" (or any other value >= LLAMA_NUM_CLASSES). */
#define LLAMA_CLASS_UNKNOWN 0xffffffffu
/* Bins of the allocator: the lifetime classes plus one for unclassified
 * allocations. */
#define LLAMA_NUM_BINS (LLAMA_NUM_CLASSES + 1u)
#define LLAMA_BIN_UNCLASSIFIED LLAMA_NUM_CLASSES

/* Inclusive upper bound of lifetime class k in nanoseconds: 10 ms * 10^k for
 * k < LLAMA_NUM_CLASSES - 1; UINT64_MAX for the last class and for any k
 * that is not a class. (libllamalloc exports the same table as
 * llama_class_bound_ns().) */
static inline uint64_t llama_class_upper_bound_ns(unsigned k) {
  static const uint64_t bounds[LLAMA_NUM_CLASSES] = {
      UINT64_C(10000000),      UINT64_C(100000000),      UINT64_C(1000000000),
      UINT64_C(10000000000),   UINT64_C(100000000000),   UINT64_C(1000000000000),
      UINT64_MAX};
  return k < LLAMA_NUM_CLASSES ? bounds[k] : UINT64_MAX;
}

/* The class of an object that lived lifetime_ns: the smallest k whose upper
 * bound is >= lifetime_ns. */
static inline unsigned llama_class_of_lifetime_ns(uint64_t lifetime_ns) {
  unsigned k = 0;
  while (k + 1 < LLAMA_NUM_CLASSES && lifetime_ns > llama_class_upper_bound_ns(k))
    k++;
  return k;
}

/* The name of class k for reports: "<=10ms", ..., "<=1000s", "longer";
 * "?" for a value that is not a class. A static string. */
static inline const char *llama_class_name(unsigned k) {
  static const char *const names[LLAMA_NUM_CLASSES] = {
      "<=10ms", "<=100ms", "<=1s", "<=10s", "<=100s", "<=1000s", "longer"};
  return k < LLAMA_NUM_CLASSES ? names[k] : "?";
}

/* The upper bound of class k as a short label for table columns: "10ms",
 * ..., "1000s", "inf"; "-" for a value that is not a class (the unclassified
 * bin). A static string. */
static inline const char *llama_class_bound_label(unsigned k) {
  static const char *const labels[LLAMA_NUM_CLASSES] = {
      "10ms", "100ms", "1s", "10s", "100s", "1000s", "inf"};
  return k < LLAMA_NUM_CLASSES ? labels[k] : "-";
}

#endif /* LLAMA_CLASSES_H */
