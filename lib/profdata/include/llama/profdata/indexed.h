/*
 * indexed.h - the indexed profile: what `llama-profdata merge` writes and
 * the use build (LlamaPass) and llama-train read. It maps every allocation
 * site and every calling context seen in the raw profiles to a lifetime
 * histogram and a lifetime class. docs/profile-format-indexed.md describes the
 * file layout with a drawing and the compatibility rule; indexed.c holds the
 * reader and the writer.
 *
 * This header and indexed.c depend on libc only. The header is usable from
 * C++ (extern "C"); indexed.c is C11, built into the static library
 * llama_profdata (position-independent, so it links into LlamaPass.so), or
 * compiled as C directly into another target.
 *
 * Reading, from C or C++:
 *
 *   char err[256];
 *   struct llama_idx *idx = llama_idx_read_file("app.llamaprof", err, sizeof err);
 *   if (!idx) { report(err); return; }   // err: "app.llamaprof: truncated ..."
 *   const struct llama_idx_site *s = llama_idx_find_site(idx, site_id);
 *   if (s && s->lifetime_class != LLAMA_IDX_NO_CLASS && !(s->flags &
 * LLAMA_IDX_SITE_CONTEXT_DEPENDENT)) use(s->lifetime_class); llama_idx_free(idx);
 */
#ifndef LLAMA_INDEXED_H
#define LLAMA_INDEXED_H

#include <stddef.h>
#include <stdint.h>

#include "llama/classes.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LLAMA_IDX_MAGIC "LLAMAIDX" /* 8 bytes, no terminator in the file */
#define LLAMA_IDX_VERSION 1        /* the newest layout this code reads and writes */

/* ---- lifetime classes ---- */

/* The classes, their count and bounds: llama/classes.h (LLAMA_NUM_CLASSES,
 * llama_class_upper_bound_ns, llama_class_of_lifetime_ns). Histograms:
 * [0..6] freed objects by class, [7] objects still live at exit (they count
 * as class 6 when a class is assigned). */
#define LLAMA_HIST_SIZE (LLAMA_NUM_CLASSES + 1u)
#define LLAMA_HIST_LIVE LLAMA_NUM_CLASSES
/* lifetime_class of a site or context without samples. */
#define LLAMA_IDX_NO_CLASS 0xffu
/* Default quantile of the class rule, in parts per million. */
#define LLAMA_DEFAULT_QUANTILE_PPM 900000u

/*
 * The class rule: the smallest k such that at least quantile_ppm / 10^6 of
 * the histogram's samples have class <= k (live samples count as class 6).
 * Returns LLAMA_IDX_NO_CLASS for an empty histogram.
 */
unsigned llama_class_of_histogram(const uint64_t histogram[LLAMA_HIST_SIZE], uint32_t quantile_ppm);

/* Short name of an allocation kind (enum llama_alloc_kind): "malloc",
 * "new_array", ...; NULL for a value the ABI does not define. */
const char *llama_alloc_kind_name(unsigned kind);
/* 1 if kind is a deallocation function (free, delete...). */
int llama_alloc_kind_is_dealloc(unsigned kind);

/* ---- the profile in memory ---- */

/* One frame of a calling context. Frames are innermost first. */
struct llama_idx_frame {
  const char *function; /* linkage name; "module+0xOFFSET" if unsymbolised */
  const char *file;     /* source file, "" if unknown */
  uint32_t line;
  uint32_t column;
  uint32_t line_offset; /* line - first line of `function` (as in site ids) */
  uint32_t flags;       /* LLAMA_IDX_FRAME_* */
};

/* The frame was inlined into the next frame (same return address). */
#define LLAMA_IDX_FRAME_INLINED 0x1u
/* No symbol for the address: function is "module+0xOFFSET". */
#define LLAMA_IDX_FRAME_UNSYMBOLIZED 0x2u
/* Not from the stack but from the site's description: the allocation call
 * was a tail call, so the stack began in the caller of the function holding
 * the site; merge put the site's frames (function, then inlined_at) first.
 * Frames from inlined_at have no file and line. */
#define LLAMA_IDX_FRAME_FROM_SITE 0x4u

/* One calling context of a site: a distinct symbolised stack. */
struct llama_idx_context {
  uint64_t context_id;    /* llama_hash_frame over all frames, innermost first */
  uint64_t site_id;       /* the allocation site at its innermost end */
  uint64_t samples;       /* sampled allocations (sum of histogram) */
  uint64_t calls;         /* estimated: site calls x this context's share of samples */
  uint64_t bytes;         /* estimated: site bytes x this context's share of sampled bytes */
  uint64_t sampled_bytes; /* bytes of the sampled allocations */
  uint64_t histogram[LLAMA_HIST_SIZE];
  uint32_t lifetime_class; /* 0..6, or LLAMA_IDX_NO_CLASS */
  uint32_t flags;          /* reserved, 0 */
  const struct llama_idx_frame *frames;
  uint32_t frame_count;
};

/* One allocation (or deallocation) site, as the pass described it. */
struct llama_idx_site {
  uint64_t site_id;
  uint64_t calls;   /* exact: every call through the site, from the raw SITES */
  uint64_t bytes;   /* exact: bytes requested through the site */
  uint64_t samples; /* sampled allocations (sum of histogram) */
  uint64_t sampled_bytes;
  uint64_t histogram[LLAMA_HIST_SIZE];
  const char *function; /* linkage name of the function holding the call */
  const char *file;
  const char *inlined_at; /* "f:off:col;g:off:col", innermost first; "" if none */
  uint32_t line;
  uint32_t column;
  uint32_t line_offset;
  uint16_t kind;           /* enum llama_alloc_kind */
  uint16_t site_flags;     /* LLAMA_SITE_* from the pass */
  uint32_t lifetime_class; /* 0..6 over all the site's samples, or LLAMA_IDX_NO_CLASS */
  uint32_t flags;          /* LLAMA_IDX_SITE_* */
  const struct llama_idx_context *contexts; /* sorted by context_id */
  uint32_t context_count;
};

/* The site's contexts do not all have the same class: the pass should take
 * the dynamic (context-capturing) path, or disambiguate statically. */
#define LLAMA_IDX_SITE_CONTEXT_DEPENDENT 0x1u
/* Samples named this site but no raw profile's SITES described it. */
#define LLAMA_IDX_SITE_UNREGISTERED 0x2u

struct llama_idx_meta {
  uint32_t version;       /* format version of the file (reader: as read) */
  uint64_t sample_period; /* mean allocations per sample (0 if inputs differed) */
  uint64_t profile_count; /* raw profiles merged */
  uint64_t total_samples;
  uint64_t total_calls;
  uint64_t total_bytes;
  uint32_t quantile_ppm;    /* quantile of the class rule, parts per million */
  uint32_t class_count;     /* LLAMA_NUM_CLASSES */
  const char *tool_version; /* llama-profdata version that wrote the file */
};

/* ---- reading ---- */

struct llama_idx;

/*
 * Parses an indexed profile from buf[0, len). `name` (the file name)
 * prefixes error messages. The result owns a copy of everything it needs:
 * buf may be freed afterwards. Returns NULL with "NAME: problem" in err
 * (errlen bytes, NUL-terminated when errlen > 0) if the input is not a valid
 * indexed profile of a version this reader supports, or on out of memory.
 * Never reads outside buf.
 */
struct llama_idx *llama_idx_parse(const void *buf, size_t len, const char *name, char *err,
                                  size_t errlen);

/* Reads the file at path and parses it (errors name the path). */
struct llama_idx *llama_idx_read_file(const char *path, char *err, size_t errlen);

/* Releases a profile. Every pointer obtained from it becomes invalid. */
void llama_idx_free(struct llama_idx *idx);

const struct llama_idx_meta *llama_idx_get_meta(const struct llama_idx *idx);

/* Sites, sorted by site_id ascending; i < llama_idx_site_count(idx). */
size_t llama_idx_site_count(const struct llama_idx *idx);
const struct llama_idx_site *llama_idx_site_at(const struct llama_idx *idx, size_t i);

/* The site with this id, or NULL. O(log n). */
const struct llama_idx_site *llama_idx_find_site(const struct llama_idx *idx, uint64_t site_id);

/* The context with this id under site_id, or NULL. O(log n). */
const struct llama_idx_context *llama_idx_find_context(const struct llama_idx *idx,
                                                       uint64_t site_id, uint64_t context_id);

/* Total number of contexts over all sites. */
size_t llama_idx_context_count(const struct llama_idx *idx);

/* 1 if buf starts with the indexed profile magic. */
int llama_idx_has_magic(const void *buf, size_t len);

/* ---- writing ---- */

/*
 * Serialises a profile: meta (version is ignored: the writer writes
 * LLAMA_IDX_VERSION), and `site_count` sites with their contexts and frames.
 * Sites may come in any order (they are written sorted by site_id) but ids
 * must be unique, and so must context ids within a site. On success stores a
 * malloc'ed buffer the caller frees in *out, its size in *out_len, and
 * returns 0; on error returns -1 with a message in err.
 */
int llama_idx_serialize(const struct llama_idx_meta *meta, const struct llama_idx_site *sites,
                        size_t site_count, void **out, size_t *out_len, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* LLAMA_INDEXED_H */
