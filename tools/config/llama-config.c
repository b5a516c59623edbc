/*
 * llama-config - prints the flags a user's build needs for each stage of the
 * LLAMA pipeline, with absolute paths found from where this program lives
 * (bin/../lib, bin/../include). The build tree and an installed prefix
 * (`cmake --install build --prefix P`, see CMakeLists.txt) have that same
 * layout, so either works from any directory:
 *
 *   CFLAGS="$(llama-config --generate --cflags)"
 *   LDFLAGS="$(llama-config --generate --ldflags)"
 *
 * -fdebug-info-for-profiling makes -gline-tables-only keep linkage names
 * (_ZN3foo3barEv rather than "bar"): site ids and contexts need them to tell
 * C++ functions apart, and the model tokenises their namespaces.
 *
 * Why the plugin appears twice in --cflags: clang 19 registers a pass
 * plugin's command-line options only when the plugin is loaded as a clang
 * plugin too (-Xclang -load); -fpass-plugin alone makes `-mllvm
 * -llama-generate` an "Unknown command line argument" error.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "llama/version.h"

static const char *progname = "llama-config";
static char prefix[PATH_MAX];

static void usage(FILE *out) {
  fprintf(out,
          "usage: llama-config MODE FLAGS...\n"
          "       llama-config --libdir | --bindir | --includedir | --plugin | --version\n"
          "\n"
          "modes:\n"
          "  --generate        profiling build: instrument allocation sites, link libllamaprof\n"
          "  --use=PROFILE     use build: give allocation sites the lifetime classes of\n"
          "                    PROFILE (llama-profdata merge), link libllamalloc\n"
          "  --model=MODEL     with --use: the lifetime model (llama-train) for sites the\n"
          "                    profile never saw, embedded for the runtime's predictions\n"
          "flags:\n"
          "  --cflags          compiler flags (C and C++)\n"
          "  --ldflags         linker flags\n"
          "\n"
          "example:\n"
          "  make CFLAGS=\"-O2 $(llama-config --generate --cflags)\" \\\n"
          "       LDFLAGS=\"$(llama-config --generate --ldflags)\"\n"
          "  ... run, llama-profdata merge -o app.llamaprof, llama-train -o app.llamamodel ...\n"
          "  make CFLAGS=\"-O2 $(llama-config --use=app.llamaprof --model=app.llamamodel --cflags)\" \\\n"
          "       LDFLAGS=\"$(llama-config --use=app.llamaprof --ldflags)\"\n");
}

static int fail(const char *fmt, const char *arg) {
  fprintf(stderr, "%s: error: ", progname);
  fprintf(stderr, fmt, arg);
  fputc('\n', stderr);
  return 1;
}

/* prefix = directory above the one holding this executable. */
static int find_prefix(void) {
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0)
    return fail("cannot find my own path (/proc/self/exe): %s", strerror(errno));
  exe[n] = 0;
  for (int up = 0; up < 2; up++) {
    char *slash = strrchr(exe, '/');
    if (!slash)
      return fail("unexpected executable path '%s'", exe);
    *slash = 0;
  }
  snprintf(prefix, sizeof prefix, "%s", exe[0] ? exe : "/");
  return 0;
}

/* Resolves a user's input file to an absolute path (compilers run in many
 * directories) and checks that it starts with the expected magic. */
static int input_file(const char *option, const char *path, const char *magic, const char *what,
                      char *out) {
  if (!*path) return fail("%s needs a file name", option);
  if (!realpath(path, out)) {
    fprintf(stderr, "%s: error: %s%s: %s\n", progname, option, path, strerror(errno));
    return 1;
  }
  for (const char *c = out; *c; c++)
    if (*c == ' ' || *c == '\t' || *c == '\n' || *c == '\'' || *c == '"' || *c == '\\') {
      fprintf(stderr, "%s: error: %s: the path contains a space or quote, which cannot pass "
                      "through CFLAGS; move or link the file elsewhere\n", progname, out);
      return 1;
    }
  FILE *f = fopen(out, "rb");
  char head[8] = {0};
  size_t got = f ? fread(head, 1, sizeof head, f) : 0;
  if (f) fclose(f);
  if (!f || got != sizeof head || memcmp(head, magic, sizeof head) != 0) {
    fprintf(stderr, "%s: error: %s: %s\n", progname, out,
            f ? (got == 0 ? "empty file" : what) : strerror(errno));
    return 1;
  }
  return 0;
}

static int check_file(const char *path) {
  if (access(path, R_OK) != 0)
    return fail("%s is missing: is the build (make build) or installation complete?", path);
  return 0;
}

int main(int argc, char **argv) {
  enum { NONE, GENERATE, USE } mode = NONE;
  int cflags = 0, ldflags = 0;
  const char *info = NULL, *profile_arg = NULL, *model_arg = NULL;
  static char profile[PATH_MAX], model[PATH_MAX];

  if (argc < 2) {
    usage(stderr);
    return 1;
  }
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--generate")) {
      mode = GENERATE;
    } else if (!strncmp(a, "--use=", 6)) {
      mode = USE;
      profile_arg = a + 6;
    } else if (!strncmp(a, "--model=", 8)) {
      model_arg = a + 8;
    } else if (!strcmp(a, "--model")) {
      return fail("%s needs a file: --model=MODEL", a);
    } else if (!strcmp(a, "--use")) {
      return fail("%s needs a profile: --use=PROFILE", a);
    } else if (!strcmp(a, "--cflags")) {
      cflags = 1;
    } else if (!strcmp(a, "--ldflags")) {
      ldflags = 1;
    } else if (!strcmp(a, "--libdir") || !strcmp(a, "--bindir") ||
               !strcmp(a, "--includedir") || !strcmp(a, "--plugin") ||
               !strcmp(a, "--version")) {
      info = a;
    } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return 0;
    } else {
      fprintf(stderr, "%s: error: unknown option '%s'\n", progname, a);
      usage(stderr);
      return 1;
    }
  }
  if (find_prefix())
    return 1;

  char lib[PATH_MAX + 8], plugin[PATH_MAX + 32];
  snprintf(lib, sizeof lib, "%s/lib", prefix);
  snprintf(plugin, sizeof plugin, "%s/LlamaPass.so", lib);

  if (info) {
    if (!strcmp(info, "--version"))
      printf("%s\n", LLAMA_VERSION_STRING);
    else if (!strcmp(info, "--plugin"))
      printf("%s\n", plugin);
    else /* --libdir, --bindir, --includedir */
      printf("%s/%.*s\n", prefix, (int)(strlen(info) - 5), info + 2);
    return 0;
  }
  if (mode == NONE)
    return fail("%s", "choose a mode: --generate or --use=PROFILE (see --help)");
  if (!cflags && !ldflags)
    return fail("%s", "say what to print: --cflags and/or --ldflags");
  if (model_arg && mode != USE)
    return fail("%s", "--model=MODEL belongs to the use build: add --use=PROFILE");
  if (mode == USE) {
    if (input_file("--use=", profile_arg, "LLAMAIDX", "not an indexed profile (make one with "
                   "llama-profdata merge)", profile))
      return 1;
    if (model_arg && input_file("--model=", model_arg, "LLAMAMDL",
                                "not a lifetime model (make one with llama-train)", model))
      return 1;
  }

  if (check_file(plugin))
    return 1;
  char out[6 * PATH_MAX + 512];
  size_t len = 0;
  if (cflags && mode == GENERATE)
    len += (size_t)snprintf(out + len, sizeof out - len,
                            "-fpass-plugin=%s -Xclang -load -Xclang %s -mllvm -llama-generate",
                            plugin, plugin);
  if (cflags && mode == USE) {
    len += (size_t)snprintf(out + len, sizeof out - len,
                            "-fpass-plugin=%s -Xclang -load -Xclang %s -mllvm -llama-use=%s",
                            plugin, plugin, profile);
    if (model_arg)
      len += (size_t)snprintf(out + len, sizeof out - len, " -mllvm -llama-model=%s", model);
  }
  /* Both builds: the same debug information (site ids are computed from it,
   * so the use build finds the profiling build's sites) and frame pointers
   * (the profiler's and the runtime's stack walks). */
  if (cflags)
    len += (size_t)snprintf(out + len, sizeof out - len,
                            " -gline-tables-only -fdebug-info-for-profiling -fno-omit-frame-pointer "
                            "-mno-omit-leaf-frame-pointer -I%s/include",
                            prefix);
  if (ldflags && mode == GENERATE)
    len += (size_t)snprintf(out + len, sizeof out - len,
                            "%s-L%s -Wl,-rpath,%s -lllamaprof -ldl -lpthread",
                            len ? " " : "", lib, lib);
  /* --no-as-needed: libllamalloc must stay linked even where LDFLAGS comes
   * before the objects that call it; it replaces malloc for the program. */
  if (ldflags && mode == USE)
    len += (size_t)snprintf(out + len, sizeof out - len,
                            "%s-L%s -Wl,-rpath,%s -Wl,--push-state,--no-as-needed -lllamalloc "
                            "-Wl,--pop-state -lpthread",
                            len ? " " : "", lib, lib);
  printf("%s\n", out);
  return 0;
}
