// C++ operator new/delete served by libllamalloc: plain, array, nothrow, sized
// and aligned forms, as new-expressions and as explicit function calls; huge
// requests throw std::bad_alloc (after calling the new_handler) or return
// nullptr for nothrow; llama_new_class / llama_new_nothrow_class /
// llama_new_aligned_class; STL container churn. llama_stats_get proves that
// llamalloc served them and that everything was released.
//
// RUN: %cxx -fno-builtin -fsized-deallocation -faligned-allocation %s -o %t %link_llamalloc
// Exact bins (LLAMA_SMALL_BINS=0): this test checks that class k's small
// objects land in bin k; by default classes share bins for small objects.
// RUN: env LLAMA_SMALL_BINS=0 %t 2>&1 | FileCheck %s
// CHECK-NOT: FAIL
// CHECK: cxx_new_delete: PASSED (0 failures)

#include <malloc.h>
#include <stdint.h>
#include <string.h>

#include <algorithm>
#include <map>
#include <new>
#include <string>
#include <unordered_map>
#include <vector>

#include "llamalloc.h"
#include "../Inputs/llama_test.h"

static volatile size_t v_size_max = SIZE_MAX;
static volatile size_t v_ptrdiff_max = PTRDIFF_MAX;
static void *volatile sink;

/* Every live object, large ones included (large_live_objects is the subset
 * with its own mapping). */
static uint64_t live_sum(const llama_stats_t &s) { return LT_SUM(&s, live_objects); }
static uint64_t alloc_sum(const llama_stats_t &s) { return LT_SUM(&s, allocations); }

struct alignas(64) A64 { char c[100]; };
struct alignas(256) A256 { char c[300]; };
struct alignas(4096) A4096 { char c[10]; };

static void test_explicit_calls() {
  llama_stats_t s0, s1, s2;
  llama_stats_get(&s0);
  const size_t sizes[] = {1, 24, 100, 1000, 5000, 70000, 3u << 20};
  const size_t aligns[] = {64, 256, 4096};
  enum { NS = sizeof sizes / sizeof sizes[0] };
  void *p[NS][10];
  int count = 0;
  for (int i = 0; i < NS; i++) {
    size_t n = sizes[i];
    p[i][0] = ::operator new(n);
    p[i][1] = ::operator new[](n);
    p[i][2] = ::operator new(n, std::nothrow);
    p[i][3] = ::operator new[](n, std::nothrow);
    for (int a = 0; a < 3; a++) {
      std::align_val_t al = std::align_val_t(aligns[a]);
      p[i][4 + a] = a == 1 ? ::operator new[](n, al) : ::operator new(n, al);
    }
    p[i][7] = ::operator new(n, std::align_val_t(64), std::nothrow);
    p[i][8] = ::operator new[](n, std::align_val_t(256), std::nothrow);
    p[i][9] = ::operator new(n, std::align_val_t(16));
    for (int j = 0; j < 10; j++) {
      REQUIRE(p[i][j], "operator new variant %d of %zu returned NULL", j, n);
      // Plain new: aligned for any object of n bytes ([new.delete.single]):
      // 16 (__STDCPP_DEFAULT_NEW_ALIGNMENT__) from 16 bytes, the largest
      // power of two <= n below (1 byte: 1; llamalloc gives 8).
      size_t plain = 16;
      while (plain > n) plain >>= 1;
      size_t want = j == 4 ? 64 : j == 5 ? 256 : j == 6 ? 4096 : j == 7 ? 64 : j == 8 ? 256
                  : j == 9 ? 16 : plain;
      EXPECT(lt_aligned(p[i][j], want), "operator new variant %d (%zu bytes) = %p not %zu-aligned",
             j, n, p[i][j], want);
      EXPECT(malloc_usable_size(p[i][j]) >= n, "operator new variant %d: usable %zu < %zu", j,
             malloc_usable_size(p[i][j]), n);
      lt_fill(p[i][j], n, i * 10 + j);
      count++;
    }
  }
  llama_stats_get(&s1);
  EXPECT(live_sum(s1) - live_sum(s0) == (uint64_t)count,
         "operator new: live objects moved by %lld, want %d (not served by llamalloc?)",
         (long long)(live_sum(s1) - live_sum(s0)), count);
  EXPECT(s1.allocations_default - s0.allocations_default >= (uint64_t)count,
         "operator new: allocations_default moved by %llu, want >= %d",
         (unsigned long long)(s1.allocations_default - s0.allocations_default), count);
  for (int i = 0; i < NS; i++) {
    size_t n = sizes[i];
    for (int j = 0; j < 10; j++) LT_VERIFY(p[i][j], n, i * 10 + j, "operator new block");
    /* Release each with a matching, and for some a sized, delete. */
    if (i & 1) {
      ::operator delete(p[i][0], n);
      ::operator delete[](p[i][1], n);
    } else {
      ::operator delete(p[i][0]);
      ::operator delete[](p[i][1]);
    }
    ::operator delete(p[i][2], std::nothrow);
    ::operator delete[](p[i][3], std::nothrow);
    if (i & 1) {
      ::operator delete(p[i][4], n, std::align_val_t(64));
      ::operator delete[](p[i][5], n, std::align_val_t(256));
      ::operator delete(p[i][6], n, std::align_val_t(4096));
    } else {
      ::operator delete(p[i][4], std::align_val_t(64));
      ::operator delete[](p[i][5], std::align_val_t(256));
      ::operator delete(p[i][6], std::align_val_t(4096));
    }
    ::operator delete(p[i][7], std::align_val_t(64), std::nothrow);
    ::operator delete[](p[i][8], std::align_val_t(256), std::nothrow);
    ::operator delete(p[i][9], std::align_val_t(16));
  }
  llama_stats_get(&s2);
  EXPECT(live_sum(s2) == live_sum(s0), "operator delete: live objects %llu, before %llu",
         (unsigned long long)live_sum(s2), (unsigned long long)live_sum(s0));
}

static void test_expressions() {
  llama_stats_t s0, s1, s2;
  llama_stats_get(&s0);
  int *i1 = new int(42);
  int *ia = new int[1000]();
  std::string *str = new std::string(200, 'x');
  A64 *a64 = new A64;
  A256 *a256 = new A256[7];
  A4096 *a4096 = new A4096;
  A4096 *a4096n = new (std::nothrow) A4096[3];
  double *dn = new (std::nothrow) double[17];
  REQUIRE(a4096n && dn, "nothrow new-expression returned nullptr");
  EXPECT(lt_aligned(a64, 64), "new A64 = %p", (void *)a64);
  EXPECT(lt_aligned(a256, 256), "new A256[7] = %p", (void *)a256);
  EXPECT(lt_aligned(a4096, 4096), "new A4096 = %p", (void *)a4096);
  EXPECT(lt_aligned(a4096n, 4096), "new (nothrow) A4096[3] = %p", (void *)a4096n);
  for (int i = 0; i < 1000; i++) EXPECT(ia[i] == 0, "new int[1000]() not zero at %d", i);
  memset(a64->c, 1, sizeof a64->c);
  for (int i = 0; i < 7; i++) memset(a256[i].c, 2, sizeof a256[i].c);
  memset(a4096->c, 3, sizeof a4096->c);
  llama_stats_get(&s1);
  EXPECT(live_sum(s1) - live_sum(s0) >= 9, "new-expressions: live objects moved by %lld, want >= 9",
         (long long)(live_sum(s1) - live_sum(s0)));
  EXPECT(*i1 == 42 && str->size() == 200 && (*str)[199] == 'x', "new-expression objects damaged");
  delete i1;
  delete[] ia;
  delete str;
  delete a64;
  delete[] a256;
  delete a4096;
  delete[] a4096n;
  delete[] dn;
  llama_stats_get(&s2);
  EXPECT(live_sum(s2) == live_sum(s0), "delete-expressions: live objects %llu, before %llu",
         (unsigned long long)live_sum(s2), (unsigned long long)live_sum(s0));
}

static int handler_calls;
static void handler() {
  handler_calls++;
  std::set_new_handler(nullptr); /* next failure throws */
}

static void test_huge() {
  const size_t huge[] = {v_size_max, v_size_max - 4096, v_ptrdiff_max + 1};
  for (size_t n : huge) {
    bool threw = false;
    try {
      sink = ::operator new(n);
    } catch (const std::bad_alloc &) {
      threw = true;
    }
    EXPECT(threw, "operator new(%zu) did not throw std::bad_alloc", n);
    threw = false;
    try {
      sink = ::operator new[](n);
    } catch (const std::bad_alloc &) {
      threw = true;
    }
    EXPECT(threw, "operator new[](%zu) did not throw", n);
    threw = false;
    try {
      sink = ::operator new(n, std::align_val_t(256));
    } catch (const std::bad_alloc &) {
      threw = true;
    }
    EXPECT(threw, "operator new(%zu, align 256) did not throw", n);
    EXPECT(::operator new(n, std::nothrow) == nullptr, "nothrow new(%zu) != nullptr", n);
    EXPECT(::operator new[](n, std::nothrow) == nullptr, "nothrow new[](%zu) != nullptr", n);
    EXPECT(::operator new(n, std::align_val_t(4096), std::nothrow) == nullptr,
           "nothrow aligned new(%zu) != nullptr", n);
    /* The new_handler is called before giving up. */
    handler_calls = 0;
    std::set_new_handler(handler);
    threw = false;
    try {
      sink = ::operator new(n);
    } catch (const std::bad_alloc &) {
      threw = true;
    }
    std::set_new_handler(nullptr);
    EXPECT(threw && handler_calls == 1,
           "operator new(%zu) with new_handler: threw %d, handler called %d times (want 1)", n,
           threw, handler_calls);
  }
  /* new T[count] with an overflowing count throws (bad_array_new_length). */
  bool threw = false;
  try {
    volatile size_t cnt = v_size_max / 4;
    A256 *x = new A256[cnt];
    sink = x;
  } catch (const std::bad_alloc &) {
    threw = true;
  }
  EXPECT(threw, "new A256[SIZE_MAX/4] did not throw");
}

static void test_class_new() {
  for (unsigned k = 0; k <= LLAMA_NUM_CLASSES; k++) {
    unsigned kk = k == LLAMA_NUM_CLASSES ? LLAMA_CLASS_UNKNOWN : k;
    unsigned bin = k; /* UNKNOWN: the default bin, 7 unless configured */
    llama_stats_t s0, s1, s2;
    llama_stats_get(&s0);
    void *p[30];
    for (int i = 0; i < 10; i++) {
      p[i] = llama_new_class(24 + i * 8, kk);
      p[10 + i] = llama_new_nothrow_class(100, kk);
      p[20 + i] = llama_new_aligned_class(200, i < 5 ? 64 : 4096, kk);
      REQUIRE(p[i] && p[10 + i] && p[20 + i], "llama_new_*_class(%#x) returned NULL", kk);
      EXPECT(lt_aligned(p[i], 16), "llama_new_class = %p", p[i]);
      EXPECT(lt_aligned(p[20 + i], i < 5 ? 64 : 4096), "llama_new_aligned_class(%d) = %p",
             i < 5 ? 64 : 4096, p[20 + i]);
      memset(p[i], 1, 24 + i * 8);
      memset(p[10 + i], 2, 100);
      memset(p[20 + i], 3, 200);
    }
    llama_stats_get(&s1);
    EXPECT(s1.bins[bin].allocations - s0.bins[bin].allocations == 30,
           "llama_new_*_class(%#x): bin %u allocations moved by %llu, want 30", kk, bin,
           (unsigned long long)(s1.bins[bin].allocations - s0.bins[bin].allocations));
    EXPECT(s1.bins[bin].live_objects - s0.bins[bin].live_objects == 30,
           "llama_new_*_class(%#x): bin %u live_objects moved by %llu, want 30", kk, bin,
           (unsigned long long)(s1.bins[bin].live_objects - s0.bins[bin].live_objects));
    if (kk < LLAMA_NUM_CLASSES)
      EXPECT(s1.allocations_static - s0.allocations_static == 30,
             "llama_new_*_class(%u): allocations_static moved by %llu, want 30", kk,
             (unsigned long long)(s1.allocations_static - s0.allocations_static));
    for (int i = 0; i < 10; i++) {
      ::operator delete(p[i]);
      free(p[10 + i]);
      ::operator delete(p[20 + i], std::align_val_t(i < 5 ? 64 : 4096));
    }
    llama_stats_get(&s2);
    EXPECT(live_sum(s2) == live_sum(s0), "llama_new_*_class(%#x): live %llu after delete, %llu before",
           kk, (unsigned long long)live_sum(s2), (unsigned long long)live_sum(s0));

    /* Exhaustion. */
    for (size_t n : {(size_t)v_size_max, (size_t)(v_ptrdiff_max + 1)}) {
      EXPECT(llama_new_nothrow_class(n, kk) == nullptr, "llama_new_nothrow_class(%zu, %#x) != nullptr",
             n, kk);
      bool threw = false;
      try {
        sink = llama_new_class(n, kk);
      } catch (const std::bad_alloc &) {
        threw = true;
      }
      EXPECT(threw, "llama_new_class(%zu, %#x) did not throw std::bad_alloc", n, kk);
      threw = false;
      try {
        sink = llama_new_aligned_class(n, 256, kk);
      } catch (const std::bad_alloc &) {
        threw = true;
      }
      EXPECT(threw, "llama_new_aligned_class(%zu, 256, %#x) did not throw", n, kk);
      handler_calls = 0;
      std::set_new_handler(handler);
      threw = false;
      try {
        sink = llama_new_class(n, kk);
      } catch (const std::bad_alloc &) {
        threw = true;
      }
      std::set_new_handler(nullptr);
      EXPECT(threw && handler_calls == 1,
             "llama_new_class(%zu, %#x) with new_handler: threw %d, handler calls %d (want 1)", n,
             kk, threw, handler_calls);
    }
  }
}

static void test_stl_churn() {
  llama_stats_t s0, s1, s2;
  llama_stats_get(&s0);
  uint64_t rng = 99, check = 0, want = 0;
  {
    std::vector<std::string> v;
    std::map<int, std::string> m;
    std::unordered_map<std::string, std::vector<int>> um;
    for (int round = 0; round < 20; round++) {
      for (int i = 0; i < 2000; i++) {
        uint64_t r = lt_rand(&rng);
        std::string s(r % 300 + 1, (char)('a' + r % 26));
        v.push_back(s);
        m[(int)(r % 5000)] = s;
        um[s.substr(0, 20) + std::to_string(r % 1000)].push_back((int)(r % 977));
      }
      std::sort(v.begin(), v.end());
      v.erase(v.begin() + v.size() / 2, v.end());
      for (auto it = m.begin(); it != m.end();) it = (it->first % 3 == round % 3) ? m.erase(it) : ++it;
      if (round % 5 == 4) um.clear();
      v.shrink_to_fit();
    }
    for (auto &s : v) check += s.size() * (unsigned char)s[0];
    for (auto &kv : m) check += kv.first + kv.second.size();
    for (auto &kv : um) for (int x : kv.second) check += (uint64_t)x;
    llama_stats_get(&s1);
    /* Recompute from scratch as a cross-check of the containers' contents. */
    for (auto &s : v) {
      EXPECT(s.find_first_not_of(s[0]) == std::string::npos, "vector string damaged");
      want += s.size() * (unsigned char)s[0];
    }
    for (auto &kv : m) want += kv.first + kv.second.size();
    for (auto &kv : um) for (int x : kv.second) want += (uint64_t)x;
    EXPECT(check == want, "STL checksum %llu != %llu", (unsigned long long)check,
           (unsigned long long)want);
  }
  llama_stats_get(&s2);
  EXPECT(alloc_sum(s1) - alloc_sum(s0) > 40000, "STL churn: only %llu allocations reached llamalloc",
         (unsigned long long)(alloc_sum(s1) - alloc_sum(s0)));
  EXPECT(live_sum(s2) == live_sum(s0), "STL churn: live objects %llu after, %llu before",
         (unsigned long long)live_sum(s2), (unsigned long long)live_sum(s0));
}

int main() {
  lt_watchdog(60);
  /* Warm up: the first exception allocates libstdc++ state. */
  try {
    sink = ::operator new(v_size_max);
  } catch (const std::bad_alloc &) {
  }
  free(malloc(1));
  test_explicit_calls();
  test_expressions();
  test_huge();
  test_class_new();
  test_stl_churn();
  return lt_summary("cxx_new_delete");
}
