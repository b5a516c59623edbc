/*
 * flags.c - the flags of the profiling and use builds, and the checks of
 * their inputs, for llama-config and the compiler wrappers (flags.h).
 *
 * -fdebug-info-for-profiling makes -gline-tables-only keep linkage names
 * (_ZN3foo3barEv rather than "bar"): site ids and contexts need them to tell
 * C++ functions apart, and the model tokenises their namespaces.
 *
 * Why the plugin appears twice: clang 19 registers a pass plugin's
 * command-line options only when the plugin is loaded as a clang plugin too
 * (-Xclang -load); -fpass-plugin alone makes `-mllvm -llama-generate` an
 * "Unknown command line argument" error.
 */
#include "flags.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "llama/profdata/indexed.h"
#include "llama_model.h" /* LLAMA_MODEL_MAGIC */

__attribute__((format(printf, 2, 3))) static int report(const char *progname, const char *fmt,
                                                        ...) {
  va_list ap;
  fprintf(stderr, "%s: error: ", progname);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  return -1;
}

static int is_file(const char *path) { return access(path, R_OK) == 0; }

int llama_find_paths(struct llama_paths *paths, const char *progname) {
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0)
    return report(progname, "cannot find my own path (/proc/self/exe): %s", strerror(errno));
  exe[n] = 0;
  for (int up = 0; up < 2; up++) {
    char *slash = strrchr(exe, '/');
    if (!slash)
      return report(progname, "unexpected executable path '%s'", exe);
    *slash = 0;
  }
  snprintf(paths->prefix, sizeof paths->prefix, "%s", exe[0] ? exe : "/");
  snprintf(paths->include, sizeof paths->include, "%s/include", exe);
  snprintf(paths->lib, sizeof paths->lib, "%s/lib", exe);
#ifdef LLAMA_INSTALL_LIBDIR
  /* An installed tree may keep the libraries in lib/<multiarch>. */
  char plugin[PATH_MAX + 16];
  snprintf(plugin, sizeof plugin, "%s/LlamaPass.so", paths->lib);
  if (!is_file(plugin) && LLAMA_INSTALL_LIBDIR[0] != '/')
    snprintf(paths->lib, sizeof paths->lib, "%s/%s", exe, LLAMA_INSTALL_LIBDIR);
#endif
  snprintf(paths->plugin, sizeof paths->plugin, "%s/LlamaPass.so", paths->lib);
  return 0;
}

int llama_check_installed(const struct llama_paths *paths, enum llama_stage stage,
                          const char *progname) {
  char runtime[PATH_MAX + 32];
  if (stage == LLAMA_STAGE_PLAIN)
    return 0;
  if (!is_file(paths->plugin))
    return report(progname, "%s is missing: is the build (make build) or installation complete?", paths->plugin);
  snprintf(runtime, sizeof runtime, "%s/%s", paths->lib,
           stage == LLAMA_STAGE_GENERATE ? "libllamaprof.so" : "libllamalloc.so");
  if (!is_file(runtime))
    return report(progname, "%s is missing: is the build (make build) or installation complete?", runtime);
  return 0;
}

int llama_check_input(const char *progname, const char *origin, const char *path, int is_model,
                      int for_cflags, char out[PATH_MAX]) {
  if (!*path)
    return report(progname, "%s needs a file name", origin);
  if (!realpath(path, out)) {
    int err = errno;
    char cwd[PATH_MAX];
    if (path[0] != '/' && getcwd(cwd, sizeof cwd))
      return report(progname, "%s%s: %s (looked up from %s)", origin, path, strerror(err), cwd);
    return report(progname, "%s%s: %s", origin, path, strerror(err));
  }
  if (for_cflags && strpbrk(out, " \t\n'\"\\"))
    return report(progname, "%s%s: %s: the path contains a space or quote, which cannot pass "
                  "through CFLAGS; move or link the file elsewhere", origin, path, out);

  const char *magic = is_model ? LLAMA_MODEL_MAGIC : "LLAMAIDX";
  const char *what = is_model ? "not a lifetime model (make one with llama-train)"
                              : "not an indexed profile (make one with llama-profdata merge)";
  FILE *f = fopen(out, "rb");
  if (!f)
    return report(progname, "%s%s: %s: %s", origin, path, out, strerror(errno));
  char head[8] = {0};
  size_t got = fread(head, 1, sizeof head, f);
  fclose(f);
  if (got != sizeof head || memcmp(head, magic, sizeof head) != 0)
    return report(progname, "%s%s: %s: %s", origin, path, out, got == 0 ? "empty file" : what);
  if (!is_model) {
    char err[PATH_MAX + 256];
    struct llama_idx *idx = llama_idx_read_file(out, err, sizeof err);
    if (!idx)
      return report(progname, "%s%s: %s", origin, path, err);
    llama_idx_free(idx);
  }
  return 0;
}

__attribute__((format(printf, 2, 3))) static void add(struct llama_flag_list *list,
                                                     const char *fmt, ...) {
  size_t room = sizeof list->storage - list->used;
  if (list->count == LLAMA_FLAGS_MAX || room == 0)
    abort(); /* the lists below are fixed and fit */
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(list->storage + list->used, room, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= room)
    abort();
  list->argv[list->count++] = list->storage + list->used;
  list->used += (size_t)n + 1;
}

void llama_compile_flags(const struct llama_paths *paths, const struct llama_setup *setup,
                         struct llama_flag_list *list) {
  if (setup->stage == LLAMA_STAGE_PLAIN)
    return;
  add(list, "-fpass-plugin=%s", paths->plugin);
  add(list, "-Xclang");
  add(list, "-load");
  add(list, "-Xclang");
  add(list, "%s", paths->plugin);
  add(list, "-mllvm");
  if (setup->stage == LLAMA_STAGE_GENERATE) {
    add(list, "-llama-generate");
  } else {
    add(list, "-llama-use=%s", setup->profile);
    if (setup->model[0]) {
      add(list, "-mllvm");
      add(list, "-llama-model=%s", setup->model);
    }
  }
  /* Both builds: the same debug information (site ids are computed from it,
   * so the use build finds the profiling build's sites) and frame pointers
   * (the profiler's and the runtime's stack walks). */
  add(list, "-gline-tables-only");
  add(list, "-fdebug-info-for-profiling");
  add(list, "-fno-omit-frame-pointer");
  add(list, "-mno-omit-leaf-frame-pointer");
  llama_preprocess_flags(paths, setup, list);
}

void llama_preprocess_flags(const struct llama_paths *paths, const struct llama_setup *setup,
                            struct llama_flag_list *list) {
  if (setup->stage != LLAMA_STAGE_PLAIN)
    add(list, "-I%s", paths->include);
}

void llama_link_flags(const struct llama_paths *paths, const struct llama_setup *setup,
                      struct llama_flag_list *list) {
  if (setup->stage == LLAMA_STAGE_PLAIN)
    return;
  add(list, "-L%s", paths->lib);
  add(list, "-Wl,-rpath,%s", paths->lib);
  if (setup->stage == LLAMA_STAGE_GENERATE) {
    add(list, "-lllamaprof");
    add(list, "-ldl");
  } else {
    /* --no-as-needed: libllamalloc must stay linked even where LDFLAGS comes
     * before the objects that call it; it replaces malloc for the program. */
    add(list, "-Wl,--push-state,--no-as-needed");
    add(list, "-lllamalloc");
    add(list, "-Wl,--pop-state");
  }
  add(list, "-lpthread");
}

void llama_print_flags(FILE *out, const struct llama_flag_list *list) {
  for (int i = 0; i < list->count; i++)
    fprintf(out, "%s%s", i ? " " : "", list->argv[i]);
}
