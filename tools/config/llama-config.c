/*
 * llama-config - prints the flags a user's build needs for each stage of the
 * LLAMA pipeline, with absolute paths found from where this program lives
 * (bin/../lib, bin/../include), so the build tree can be used from anywhere:
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

#define LLAMA_VERSION_STRING "0.1.0"

static const char *progname = "llama-config";
static char prefix[PATH_MAX];

static void usage(FILE *out) {
  fprintf(out,
          "usage: llama-config MODE FLAGS...\n"
          "       llama-config --libdir | --bindir | --includedir | --plugin | --version\n"
          "\n"
          "modes:\n"
          "  --generate        profiling build: instrument allocation sites, link libllamaprof\n"
          "  --use=PROFILE     use build: rewrite sites with their lifetime class, link\n"
          "                    libllamalloc (not available yet: see docs/design.md)\n"
          "flags:\n"
          "  --cflags          compiler flags (C and C++)\n"
          "  --ldflags         linker flags\n"
          "\n"
          "example:\n"
          "  make CFLAGS=\"-O2 $(llama-config --generate --cflags)\" \\\n"
          "       LDFLAGS=\"$(llama-config --generate --ldflags)\"\n");
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

static int check_file(const char *path) {
  if (access(path, R_OK) != 0)
    return fail("%s is missing: is the build complete (make build)?", path);
  return 0;
}

int main(int argc, char **argv) {
  enum { NONE, GENERATE, USE } mode = NONE;
  int cflags = 0, ldflags = 0;
  const char *info = NULL;

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
  if (mode == USE)
    return fail("%s", "--use is not available yet: the use build (rewriting sites "
                      "into llama_malloc_class) is still being built");

  if (check_file(plugin))
    return 1;
  char out[4 * PATH_MAX + 512];
  size_t len = 0;
  if (cflags)
    len += (size_t)snprintf(out + len, sizeof out - len,
                            "-fpass-plugin=%s -Xclang -load -Xclang %s -mllvm -llama-generate "
                            "-gline-tables-only -fdebug-info-for-profiling -fno-omit-frame-pointer "
                            "-mno-omit-leaf-frame-pointer -I%s/include",
                            plugin, plugin, prefix);
  if (ldflags)
    len += (size_t)snprintf(out + len, sizeof out - len,
                            "%s-L%s -Wl,-rpath,%s -lllamaprof -ldl -lpthread",
                            len ? " " : "", lib, lib);
  printf("%s\n", out);
  return 0;
}
