/*
 * llama/abi.h - the contract between LlamaPass and the LLAMA runtimes.
 *
 * This is the one place where the symbols the compiler plugin emits calls to
 * are named. The pass (C++) and the runtimes (C) both include it, so a name or
 * a layout cannot drift on one side only. Users never include it.
 *
 * Versioning: every instrumented module calls LLAMA_PROF_REGISTER_SYMBOL from
 * a constructor, and that symbol carries LLAMA_PROF_ABI_VERSION in its name.
 * Any change to an entry point's signature or to struct llama_site bumps the
 * version, so an object compiled by one plugin and linked against a profiler
 * runtime of another fails to link ("undefined reference to
 * __llama_prof_register_v2") instead of misbehaving at run time.
 */
#ifndef LLAMA_ABI_H
#define LLAMA_ABI_H

#include <stddef.h>
#include <stdint.h>

#include "llama/hash.h"

#define LLAMA_PROF_ABI_VERSION 1
#define LLAMA_PROF_REGISTER_SYMBOL "__llama_prof_register_v1"
/* Entry points are LLAMA_PROF_ENTRY_PREFIX + the kind's short name. */
#define LLAMA_PROF_ENTRY_PREFIX "__llama_prof_"

/*
 * Every allocation and deallocation function the pass rewrites.
 *   X(KIND, value, short name, original symbol, is_deallocation)
 * The profiling build rewrites a call `orig(args...)` into
 * `__llama_prof_<short>(args..., const struct llama_site *site)`: the same
 * arguments and return type, plus the site descriptor as the last argument.
 * The numeric values are stored in profiles: never renumber, only append.
 */
#define LLAMA_ALLOC_FUNCTIONS(X)                                                   \
  X(MALLOC, 0, malloc, "malloc", 0)                                                \
  X(CALLOC, 1, calloc, "calloc", 0)                                                \
  X(REALLOC, 2, realloc, "realloc", 0)                                             \
  X(REALLOCARRAY, 3, reallocarray, "reallocarray", 0)                              \
  X(ALIGNED_ALLOC, 4, aligned_alloc, "aligned_alloc", 0)                           \
  X(POSIX_MEMALIGN, 5, posix_memalign, "posix_memalign", 0)                        \
  X(MEMALIGN, 6, memalign, "memalign", 0)                                          \
  X(VALLOC, 7, valloc, "valloc", 0)                                                \
  X(PVALLOC, 8, pvalloc, "pvalloc", 0)                                             \
  X(STRDUP, 9, strdup, "strdup", 0)                                                \
  X(STRNDUP, 10, strndup, "strndup", 0)                                            \
  X(NEW, 11, new, "_Znwm", 0)                                                      \
  X(NEW_ARRAY, 12, new_array, "_Znam", 0)                                          \
  X(NEW_NOTHROW, 13, new_nothrow, "_ZnwmRKSt9nothrow_t", 0)                        \
  X(NEW_ARRAY_NOTHROW, 14, new_array_nothrow, "_ZnamRKSt9nothrow_t", 0)            \
  X(NEW_ALIGNED, 15, new_aligned, "_ZnwmSt11align_val_t", 0)                       \
  X(NEW_ARRAY_ALIGNED, 16, new_array_aligned, "_ZnamSt11align_val_t", 0)           \
  X(NEW_ALIGNED_NOTHROW, 17, new_aligned_nothrow,                                  \
    "_ZnwmSt11align_val_tRKSt9nothrow_t", 0)                                       \
  X(NEW_ARRAY_ALIGNED_NOTHROW, 18, new_array_aligned_nothrow,                      \
    "_ZnamSt11align_val_tRKSt9nothrow_t", 0)                                       \
  X(FREE, 32, free, "free", 1)                                                     \
  X(DELETE, 33, delete, "_ZdlPv", 1)                                               \
  X(DELETE_ARRAY, 34, delete_array, "_ZdaPv", 1)                                   \
  X(DELETE_SIZED, 35, delete_sized, "_ZdlPvm", 1)                                  \
  X(DELETE_ARRAY_SIZED, 36, delete_array_sized, "_ZdaPvm", 1)                      \
  X(DELETE_ALIGNED, 37, delete_aligned, "_ZdlPvSt11align_val_t", 1)                \
  X(DELETE_ARRAY_ALIGNED, 38, delete_array_aligned, "_ZdaPvSt11align_val_t", 1)    \
  X(DELETE_SIZED_ALIGNED, 39, delete_sized_aligned, "_ZdlPvmSt11align_val_t", 1)   \
  X(DELETE_ARRAY_SIZED_ALIGNED, 40, delete_array_sized_aligned,                    \
    "_ZdaPvmSt11align_val_t", 1)                                                   \
  X(DELETE_NOTHROW, 41, delete_nothrow, "_ZdlPvRKSt9nothrow_t", 1)                 \
  X(DELETE_ARRAY_NOTHROW, 42, delete_array_nothrow, "_ZdaPvRKSt9nothrow_t", 1)     \
  X(DELETE_ALIGNED_NOTHROW, 43, delete_aligned_nothrow,                            \
    "_ZdlPvSt11align_val_tRKSt9nothrow_t", 1)                                      \
  X(DELETE_ARRAY_ALIGNED_NOTHROW, 44, delete_array_aligned_nothrow,                \
    "_ZdaPvSt11align_val_tRKSt9nothrow_t", 1)

enum llama_alloc_kind {
#define LLAMA_X(kind, value, short_name, symbol, dealloc) LLAMA_KIND_##kind = value,
  LLAMA_ALLOC_FUNCTIONS(LLAMA_X)
#undef LLAMA_X
};

/* Site flags (struct llama_site.flags). */
#define LLAMA_SITE_NO_DEBUG_INFO 0x1u /* id from call order, not source position */
#define LLAMA_SITE_INLINED 0x2u       /* the call was inlined into another function */
#define LLAMA_SITE_INVOKE 0x4u        /* the call was an invoke (may throw) */

/*
 * One per allocation or deallocation call the pass rewrote, in a per-module
 * array handed to LLAMA_PROF_REGISTER_SYMBOL by a module constructor. The
 * runtime updates `count` and `bytes` (relaxed atomics); the rest is constant.
 * The pass builds the same layout as an IR struct: field order, types and the
 * 64-byte size are part of the ABI version.
 */
struct llama_site {
  uint64_t id;            /* stable site id, see llama_site_hash_* below */
  uint64_t count;         /* runtime: calls through this site */
  uint64_t bytes;         /* runtime: bytes requested through this site */
  const char *function;   /* linkage name of the function holding the call */
  const char *file;       /* source file ("" without debug info) */
  uint32_t line;          /* source line (0 without debug info) */
  uint32_t column;        /* source column, or LLAMA_SITE_ORDINAL_COLUMN */
  uint32_t line_offset;   /* line - first line of `function`, or call ordinal */
  uint16_t kind;          /* enum llama_alloc_kind */
  uint16_t flags;         /* LLAMA_SITE_* */
  const char *inlined_at; /* "f:off:col;g:off:col" callers the call was
                             inlined into, innermost first; "" if none */
};

/*
 * External allocations: calls of malloc & co. and operator new from code the
 * pass did not rewrite (libstdc++'s std::string, libc's strdup, other
 * libraries). libllamaprof interposes the allocation functions and records
 * such allocations under one pseudo-site per kind: id
 * llama_external_site_id(kind), function LLAMA_EXTERNAL_FUNCTION, flags
 * LLAMA_SITE_EXTERNAL, no file or line. Its contexts start at the function
 * that called the allocation function (often in a library), so the use build
 * can still make them static through hints set by the program's own calls
 * further up, and libllamalloc's plain malloc/new check the hint for the
 * pseudo-site's tag before taking the dynamic path.
 */
#define LLAMA_SITE_EXTERNAL 0x8u
#define LLAMA_EXTERNAL_FUNCTION "<external>"

/* Column recorded for sites identified by call order (no debug info). */
#define LLAMA_SITE_ORDINAL_COLUMN 0xffffffffu

/* void __llama_prof_register_v1(struct llama_site *sites, uint64_t count) */
typedef void llama_prof_register_fn(struct llama_site *sites, uint64_t count);

/*
 * Site and context ids: FNV-1a (64 bit) over a sequence of frames, innermost
 * first, each frame serialised as its function's linkage name, one zero byte,
 * then line_offset and column as 4 little-endian bytes each. The pass hashes a
 * call's inline chain (its DILocation and inlinedAt parents); the offline
 * tools hash symbolised frames the same way, so ids computed on both sides
 * agree. Line offsets make ids survive edits above the function; hashing the
 * linkage name rather than an address makes them survive recompiles.
 * (LLAMA_HASH_INIT and llama_hash_bytes are in llama/hash.h.)
 */
static inline uint64_t llama_hash_frame(uint64_t h, const char *name, size_t name_len,
                                        uint32_t line_offset, uint32_t column) {
  unsigned char tail[9] = {0};
  for (int i = 0; i < 4; i++) {
    tail[1 + i] = (unsigned char)(line_offset >> (8 * i));
    tail[5 + i] = (unsigned char)(column >> (8 * i));
  }
  h = llama_hash_bytes(h, name, name_len);
  return llama_hash_bytes(h, tail, sizeof tail);
}

/* ---- The use build (issue 5) ---------------------------------------------
 *
 * The use build rewrites an allocation call whose lifetime class the profile
 * (or the model, at compile time) settles into the class-annotated entry
 * point of libllamalloc (runtime/llamalloc.h): malloc -> llama_malloc_class(n, k),
 * calloc -> llama_calloc_class, realloc -> llama_realloc_class,
 * aligned_alloc -> llama_aligned_alloc_class, posix_memalign ->
 * llama_posix_memalign_class, strdup/strndup -> llama_strdup_class /
 * llama_strndup_class, new/new[] -> llama_new_class, nothrow ->
 * llama_new_nothrow_class, aligned -> llama_new_aligned_class. The last
 * argument k encodes what the compiler knows:
 *
 *   k < 7                      static: the class itself
 *   LLAMA_CLASS_HINTED | fallback << 28 | tag
 *                              a wrapper's allocation whose class depends on
 *                              the wrapper's caller: the class is in the
 *                              calling thread's hint (below) when that holds
 *                              the same tag; else the fallback class when it
 *                              is < 7 (the compiler's static choice for the
 *                              callers no hint covers), else the dynamic path
 *   anything else (LLAMA_CLASS_UNKNOWN)  the dynamic path
 *
 * The dynamic path (also taken by plain malloc & co. from code that was not
 * rebuilt) captures the stack, looks it up in the runtime's cache and on a
 * miss asks the model; without a model, the default bin.
 */
#define LLAMA_CLASS_HINTED 0x80000000u

/*
 * The runtime ABI symbol: libllamalloc defines `const int
 * __llama_runtime_abi_v1` (llamalloc.h, LLAMA_RUNTIME_ABI_VERSION), and every
 * module whose allocation calls the use build rewrote refers to it (a hidden
 * COMDAT pointer, __llama_runtime_abi_ref, kept by llvm.used). An object
 * built by this plugin and linked against a libllamalloc of another ABI
 * therefore fails to link ("undefined reference to __llama_runtime_abi_v1")
 * instead of passing class arguments the runtime reads differently. Any
 * change to the llama_*_class entry points, the class encoding below or the
 * hint word bumps the version in this name and in the runtime's.
 */
#define LLAMA_RUNTIME_ABI_SYMBOL "__llama_runtime_abi_v1"
#define LLAMA_RUNTIME_ABI_REF "__llama_runtime_abi_ref"
#define LLAMA_HINT_TAG_MASK 0x0fffffffu
#define LLAMA_HINT_FALLBACK_SHIFT 28
#define LLAMA_HINT_NO_FALLBACK 7u
/* The tag of a site: its id folded to 28 bits, never 0 and never all ones
 * (so that no hinted k equals LLAMA_CLASS_UNKNOWN). */
static inline uint32_t llama_hint_tag(uint64_t site_id) {
  uint32_t t = (uint32_t)(site_id ^ (site_id >> 28) ^ (site_id >> 56)) & LLAMA_HINT_TAG_MASK;
  return t == 0 || t == LLAMA_HINT_TAG_MASK ? 1u : t;
}
/* The class argument of a hinted site. */
static inline uint32_t llama_hinted_class(uint32_t tag, unsigned fallback) {
  return LLAMA_CLASS_HINTED | ((uint32_t)(fallback & 7u) << LLAMA_HINT_FALLBACK_SHIFT) | tag;
}
/* The fallback class of a hinted k, or LLAMA_HINT_NO_FALLBACK. */
static inline unsigned llama_hint_fallback(uint32_t k) {
  return (k >> LLAMA_HINT_FALLBACK_SHIFT) & 7u;
}

/*
 * The hint: one thread-local 64-bit word exported by libllamalloc with the
 * initial-exec TLS model. A caller whose call leads to a hinted wrapper site
 * saves the word, stores LLAMA_HINT_VALUE(tag, k) just before the call and
 * restores the saved value just after it. The hinted site takes the class
 * when the tags match and leaves the word alone (a wrapper may allocate
 * several times under one hint).
 */
#define LLAMA_HINT_SYMBOL "__llama_hint_v1"
#define LLAMA_HINT_VALUE(tag, k) (((uint64_t)(tag) << 32) | ((uint64_t)(k) + 1u))

/*
 * The embedded model: every module the use build rewrote with a model holds
 * one COMDAT copy of the model file's bytes (16-byte aligned) and a COMDAT
 * constructor that calls
 *   void __llama_model_register_v1(const void *bytes, uint64_t size);
 * once per program. libllamalloc validates the bytes in place and uses them
 * for the dynamic path unless LLAMA_MODEL names a file.
 */
#define LLAMA_MODEL_REGISTER_SYMBOL "__llama_model_register_v1"
#define LLAMA_MODEL_DATA_SYMBOL "__llama_model_data_v1"
typedef void llama_model_register_fn(const void *bytes, uint64_t size);

/* The id of the external pseudo-site of an allocation kind. */
static inline uint64_t llama_external_site_id(unsigned kind) {
  return llama_hash_frame(LLAMA_HASH_INIT, LLAMA_EXTERNAL_FUNCTION,
                          sizeof LLAMA_EXTERNAL_FUNCTION - 1, kind, 0);
}

#endif /* LLAMA_ABI_H */
