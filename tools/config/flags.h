/*
 * flags.h - the one definition of what each stage of the LLAMA pipeline adds
 * to a clang command: the plugin and debug flags for compiling, the runtime
 * library for linking, found from the calling program's own location
 * (PREFIX/bin/.. holds lib/LlamaPass.so), and the checks of the profile and
 * model the use build reads. llama-config prints these flags;
 * llama-clang and llama-clang++ add them to the commands they run.
 *
 * Every function that can fail reports one line "PROGNAME: error: ..." on
 * stderr itself and returns -1; callers exit with status 1.
 */
#ifndef LLAMA_TOOLS_FLAGS_H
#define LLAMA_TOOLS_FLAGS_H

#include <limits.h>
#include <stdio.h>

enum llama_stage {
  LLAMA_STAGE_PLAIN,    /* nothing added */
  LLAMA_STAGE_GENERATE, /* profiling build: instrument, link libllamaprof */
  LLAMA_STAGE_USE       /* use build: classes from a profile, link libllamalloc */
};

/* Where the pieces are; absolute paths. */
struct llama_paths {
  char prefix[PATH_MAX];       /* the directory above bin/ */
  char lib[PATH_MAX];          /* PREFIX/lib (or the configured install libdir) */
  char include[PATH_MAX];      /* PREFIX/include */
  char plugin[PATH_MAX + 16];  /* LIB/LlamaPass.so */
};

/* A stage with its inputs, absolute. profile and model are "" when unused. */
struct llama_setup {
  enum llama_stage stage;
  char profile[PATH_MAX];
  char model[PATH_MAX];
};

/* Flags as an argument vector; the strings live in the list's own storage. */
#define LLAMA_FLAGS_MAX 24
struct llama_flag_list {
  const char *argv[LLAMA_FLAGS_MAX];
  int count;
  char storage[8 * PATH_MAX];
  size_t used;
};

/*
 * Fills *paths from /proc/self/exe: PREFIX is the directory above the one
 * holding the executable; the library directory is the first of PREFIX/lib
 * and PREFIX/LLAMA_INSTALL_LIBDIR (when configured) holding LlamaPass.so.
 * Returns 0, or -1 after reporting.
 */
int llama_find_paths(struct llama_paths *paths, const char *progname);

/* 0 if the plugin and the runtime library the stage links are present;
 * otherwise reports "... is missing: is the build complete?" and returns -1. */
int llama_check_installed(const struct llama_paths *paths, enum llama_stage stage,
                          const char *progname);

/*
 * Checks a profile (is_model 0: an indexed profile, read in full, so a
 * truncated or corrupt one is caught here) or a model (is_model 1: the magic
 * only; the plugin checks the rest) and stores its absolute path in out.
 * `origin` says where the name came from, for the message ("--use=",
 * "LLAMA_USE="): "PROG: error: LLAMA_USE=app.llamaprof: /abs/app.llamaprof:
 * truncated ...". With for_cflags, a path holding a space or quote (which
 * cannot pass through CFLAGS) is an error too. Returns 0 or -1.
 */
int llama_check_input(const char *progname, const char *origin, const char *path, int is_model,
                      int for_cflags, char out[PATH_MAX]);

/* Flags of each kind of command, appended to *list (which starts empty:
 * `struct llama_flag_list list = {0}`). Nothing for LLAMA_STAGE_PLAIN.
 *   compile:    plugin loaded twice (the -mllvm pitfall), -llama-generate or
 *               -llama-use=PROFILE [-llama-model=MODEL], line tables with
 *               linkage names, frame pointers, -IPREFIX/include
 *   preprocess: -IPREFIX/include only (for -E and -M)
 *   link:       the runtime (libllamaprof or libllamalloc), its rpath and
 *               the libraries it needs */
void llama_compile_flags(const struct llama_paths *paths, const struct llama_setup *setup,
                         struct llama_flag_list *list);
void llama_preprocess_flags(const struct llama_paths *paths, const struct llama_setup *setup,
                            struct llama_flag_list *list);
void llama_link_flags(const struct llama_paths *paths, const struct llama_setup *setup,
                      struct llama_flag_list *list);

/* Prints the list's flags separated by single spaces (no newline). */
void llama_print_flags(FILE *out, const struct llama_flag_list *list);

#endif /* LLAMA_TOOLS_FLAGS_H */
