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
 * This file owns the command line; the flags themselves, and the checks of
 * the profile and model, are flags.c's, shared with llama-clang.
 */
#include <stdio.h>
#include <string.h>

#include "flags.h"
#include "llama/version.h"

static const char *progname = "llama-config";

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

int main(int argc, char **argv) {
  enum { NONE, GENERATE, USE } mode = NONE;
  int cflags = 0, ldflags = 0;
  const char *info = NULL, *profile_arg = NULL, *model_arg = NULL;

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
  struct llama_paths paths;
  if (llama_find_paths(&paths, progname))
    return 1;

  if (info) {
    if (!strcmp(info, "--version"))
      printf("%s\n", LLAMA_VERSION_STRING);
    else if (!strcmp(info, "--plugin"))
      printf("%s\n", paths.plugin);
    else if (!strcmp(info, "--libdir"))
      printf("%s\n", paths.lib);
    else if (!strcmp(info, "--includedir"))
      printf("%s\n", paths.include);
    else /* --bindir */
      printf("%s/bin\n", paths.prefix);
    return 0;
  }
  if (mode == NONE)
    return fail("%s", "choose a mode: --generate or --use=PROFILE (see --help)");
  if (!cflags && !ldflags)
    return fail("%s", "say what to print: --cflags and/or --ldflags");
  if (model_arg && mode != USE)
    return fail("%s", "--model=MODEL belongs to the use build: add --use=PROFILE");
  struct llama_setup setup = {.stage = mode == USE ? LLAMA_STAGE_USE : LLAMA_STAGE_GENERATE};
  if (mode == USE) {
    if (llama_check_input(progname, "--use=", profile_arg, 0, 1, setup.profile))
      return 1;
    if (model_arg && llama_check_input(progname, "--model=", model_arg, 1, 1, setup.model))
      return 1;
  }
  if (llama_check_installed(&paths, setup.stage, progname))
    return 1;

  static struct llama_flag_list flags;
  if (cflags)
    llama_compile_flags(&paths, &setup, &flags);
  if (ldflags)
    llama_link_flags(&paths, &setup, &flags);
  llama_print_flags(stdout, &flags);
  putchar('\n');
  return 0;
}
