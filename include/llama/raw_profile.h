/*
 * llama/raw_profile.h - layout of the raw profile libllamaprof writes and
 * llama-profdata reads. docs/profile-format.md describes it with a drawing;
 * this header is the normative definition.
 *
 * All integers are little-endian. The file is a 64-byte header followed by
 * `section_count` sections. Each section is a 16-byte section header and a
 * payload of `size` bytes, a multiple of 8, so every section and every entry
 * starts 8-byte aligned. Readers skip sections whose kind they do not know,
 * and reject a version newer than their own.
 */
#ifndef LLAMA_RAW_PROFILE_H
#define LLAMA_RAW_PROFILE_H

#include <stdint.h>

#define LLAMA_RAW_MAGIC "LLAMARAW" /* 8 bytes, no terminator in the file */
#define LLAMA_RAW_VERSION 1

struct llama_raw_header {   /* 64 bytes */
  char magic[8];            /* LLAMA_RAW_MAGIC */
  uint32_t version;         /* LLAMA_RAW_VERSION */
  uint32_t header_size;     /* sizeof(struct llama_raw_header); readers skip extra */
  uint64_t pid;             /* process that wrote the profile */
  uint64_t start_ns;        /* CLOCK_MONOTONIC when profiling started */
  uint64_t end_ns;          /* CLOCK_MONOTONIC when the profile was written */
  uint64_t sample_period;   /* mean allocations between samples (1 = all) */
  uint32_t section_count;
  uint32_t flags;           /* LLAMA_RAW_F_* */
  uint64_t reserved;        /* zero */
};

#define LLAMA_RAW_F_DUMP 0x1u  /* written on request (llama_prof_dump), not at exit */
#define LLAMA_RAW_F_FORKED 0x2u /* written by a forked child */

struct llama_raw_section {  /* 16 bytes */
  uint32_t kind;            /* LLAMA_RAW_SEC_* */
  uint32_t count;           /* number of entries in the payload */
  uint64_t size;            /* payload bytes, a multiple of 8 */
};

enum llama_raw_section_kind {
  /* count key/value pairs: u32 key_len, u32 value_len, key bytes, value
   * bytes, zero padding to 8. Keys: "exe", "cmdline", "host", "unwinder",
   * "version". */
  LLAMA_RAW_SEC_META = 1,
  /* struct llama_raw_module, then build id bytes, then path bytes, padding. */
  LLAMA_RAW_SEC_MODULES = 2,
  /* struct llama_raw_site, then function, file, inlined_at bytes, padding. */
  LLAMA_RAW_SEC_SITES = 3,
  /* struct llama_raw_stack, then depth uint64_t return addresses. */
  LLAMA_RAW_SEC_STACKS = 4,
  /* struct llama_raw_sample entries. */
  LLAMA_RAW_SEC_SAMPLES = 5,
};

struct llama_raw_module {   /* 32 bytes + build_id_len + path_len, padded */
  uint64_t load_bias;       /* dlpi_addr: runtime address - ELF virtual address */
  uint64_t start;           /* lowest runtime address of an executable segment */
  uint64_t end;             /* one past the highest */
  uint32_t build_id_len;    /* 0 if the module has no NT_GNU_BUILD_ID note */
  uint32_t path_len;        /* bytes of path, no terminator */
};

struct llama_raw_site {     /* 56 bytes + string bytes, padded */
  uint64_t id;
  uint64_t count;           /* calls through the site (all, not just sampled) */
  uint64_t bytes;           /* bytes requested through the site */
  uint32_t line;
  uint32_t column;
  uint32_t line_offset;
  uint16_t kind;            /* enum llama_alloc_kind (llama/abi.h) */
  uint16_t flags;           /* LLAMA_SITE_* */
  uint32_t function_len;
  uint32_t file_len;
  uint32_t inlined_at_len;
  uint32_t reserved;        /* zero */
};

struct llama_raw_stack {    /* 8 bytes + 8 * depth */
  uint32_t id;              /* referenced by llama_raw_sample.stack_id */
  uint32_t depth;           /* frames; [0] is the return address into the
                               function that holds the allocation site */
};

struct llama_raw_sample {   /* 56 bytes */
  uint64_t site_id;         /* allocation site */
  uint64_t size;            /* bytes requested */
  uint64_t alloc_ns;        /* since header.start_ns */
  uint64_t free_ns;         /* since header.start_ns; UINT64_MAX if live */
  uint64_t free_site_id;    /* deallocation site, 0 if freed outside
                               instrumented code or not freed */
  uint32_t stack_id;        /* allocation context */
  uint32_t alloc_tid;
  uint32_t free_tid;        /* 0 if not freed */
  uint32_t flags;           /* LLAMA_RAW_S_* */
};

#define LLAMA_RAW_S_LIVE 0x1u         /* still live when the profile was written */
#define LLAMA_RAW_S_REALLOCATED 0x2u  /* ended by realloc (moved or resized) */
#define LLAMA_RAW_S_INHERITED 0x4u    /* allocated before fork, in the parent */
/* The free was not seen (the object was freed by code that bypassed the
 * profiler, e.g. an allocator preloaded before it): free_ns is an upper
 * bound, the time its address was sampled again; free_site_id and
 * free_tid are 0. */
#define LLAMA_RAW_S_FREE_UNSEEN 0x8u

#define LLAMA_RAW_NOT_FREED UINT64_MAX

#endif /* LLAMA_RAW_PROFILE_H */
