/*
 * tool.h - declarations shared by the files of the llama-profdata program
 * (not the llama_profdata library): allocation that exits on failure, file
 * loading, a hash map with 128-bit keys, string interning, the symbolizer
 * client, ELF build ids, and the merge and show commands.
 */
#ifndef LLAMA_PROFDATA_TOOL_H
#define LLAMA_PROFDATA_TOOL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "llama/version.h" /* LLAMA_VERSION_STRING */

/* ---- util.c ---- */

extern const char *llama_progname; /* "llama-profdata" */

/* "llama-profdata: error: ..." on stderr. Returns 1 (the exit status). */
__attribute__((format(printf, 1, 2))) int tool_error(const char *fmt, ...);
/* "llama-profdata: warning: ..." on stderr. */
__attribute__((format(printf, 1, 2))) void tool_warning(const char *fmt, ...);
/* "llama-profdata: ..." on stderr (progress), unless quiet. */
__attribute__((format(printf, 1, 2))) void tool_note(const char *fmt, ...);
extern int tool_quiet;

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* Grows *array (elem bytes each) so that index `need - 1` is valid. */
void xreserve(void **array, size_t *cap, size_t need, size_t elem);

/*
 * Reads a whole file. Returns 0 and a malloc'ed buffer (free it) in *buf, or
 * -1 with "PATH: problem" in err.
 */
int read_whole_file(const char *path, unsigned char **buf, size_t *len, char *err, size_t errlen);

/* 0 if buf could be a raw or an indexed profile (it starts with either
 * magic, or with a prefix of one: the parser then reports the truncation);
 * otherwise reports "NAME: empty file" or "NAME: not a LLAMA profile" and
 * returns 1. */
int check_magic(const char *name, const unsigned char *buf, size_t len);

/* Open-addressing map from (k1, k2) to a uint32_t value. */
struct map {
  struct map_slot *slots;
  size_t cap, count;
};
/* The value stored for (k1, k2), or UINT32_MAX. */
uint32_t map_get(const struct map *m, uint64_t k1, uint64_t k2);
/* Stores value for (k1, k2) (replacing any). */
void map_put(struct map *m, uint64_t k1, uint64_t k2, uint32_t value);
void map_free(struct map *m);

/* Interned strings: equal strings get the same pointer, valid until
 * intern_free. */
struct intern {
  char **slots;
  size_t cap, count;
};
const char *intern(struct intern *t, const char *s);
const char *intern_n(struct intern *t, const char *s, size_t n);
void intern_free(struct intern *t);

/* ---- elf.c ---- */

/* Reads the NT_GNU_BUILD_ID of an ELF file into id (up to cap bytes).
 * Returns its length, 0 if the file has none, -1 if it is not a readable
 * ELF file. */
int elf_build_id(const char *path, unsigned char *id, size_t cap);

/* ---- symbolize.c ---- */

/* One symbolised (possibly inlined) frame, innermost first. Strings are
 * interned in the intern table given to the symbolizer. */
struct sym_frame {
  const char *function; /* NULL if the symbolizer had no name */
  const char *file;     /* "" if unknown */
  uint32_t line, column, start_line;
};

struct symbolizer;

/* Starts nothing yet: the subprocess is spawned on the first query. path
 * NULL picks the default (llvm-symbolizer of LLVM 19). */
struct symbolizer *symbolizer_new(const char *path, struct intern *strings);
void symbolizer_free(struct symbolizer *sym);

/*
 * Symbolises `count` addresses (ELF virtual addresses, already adjusted to
 * point into the call instruction) of the binary `module`. For address i
 * calls emit(ctx, i, frames, n) with its frames (n may be 0). Returns -1 if
 * the symbolizer cannot run (after warning once); emit is then not called.
 */
int symbolizer_run(struct symbolizer *sym, const char *module, const uint64_t *addrs, size_t count,
                   void (*emit)(void *ctx, size_t i, const struct sym_frame *frames, size_t n),
                   void *ctx);

/* ---- merge.c, show.c ---- */

struct merge_options {
  const char *output;
  const char **binaries;
  size_t binary_count;
  const char *symbolizer;
  uint32_t quantile_ppm;
  int verbose;
};

/* Both return the process exit status (0 or 1) after reporting errors. */
int merge_command(const struct merge_options *opt, const char **inputs, size_t input_count);

struct show_options {
  int json;
  int html;           /* one self-contained HTML page (html.c) */
  int all;            /* --all: every site and context (lifts the HTML defaults) */
  size_t top;         /* 0 = all (HTML: SHOW_HTML_TOP unless --all) */
  size_t contexts;    /* contexts listed per site, 0 = all (HTML: SHOW_HTML_CONTEXTS) */
  size_t depth;       /* frames printed per context, 0 = all */
  const char *output; /* -o FILE, NULL = standard output */
};
#define SHOW_HTML_TOP 50
#define SHOW_HTML_CONTEXTS 10
int show_command(const struct show_options *opt, const char *path);

/* show.c's helpers, shared with html.c */
struct llama_idx;
struct llama_idx_site;
/* Column k of a histogram: "10ms" ... ">1000s", "live". */
const char *show_histogram_header(unsigned k);
/* "malloc", "new_array", ...; "?" or "kindN" for unknown kinds (in buf). */
const char *show_kind_name(unsigned kind, char *buf, size_t cap);
/* qsort comparator of context pointers: most samples first, then by id. */
int show_compare_contexts(const void *a, const void *b);

/* ---- html.c ---- */

/* Writes the sites order[0, shown) of idx (sorted by calls) as one HTML page
 * to out; the summary covers every site. */
void show_indexed_html(FILE *out, const char *path, const struct llama_idx *idx,
                       const struct llama_idx_site **order, size_t shown,
                       const struct show_options *opt);

#endif /* LLAMA_PROFDATA_TOOL_H */
