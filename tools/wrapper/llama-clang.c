/*
 * llama-clang, llama-clang++ - clang-19 and clang++-19 with the LLAMA stage
 * the environment asks for, for build systems that take a compiler but drop
 * or reorder flags (libtool drops -fpass-plugin; CMake and Meson cache their
 * flags at configure time):
 *
 *   LLAMA_GENERATE=1 make CC=llama-clang CXX=llama-clang++     profiling build
 *   LLAMA_USE=/abs/app.llamaprof [LLAMA_USE_MODEL=/abs/app.llamamodel] \
 *       make CC=llama-clang CXX=llama-clang++                  use build
 *   neither set                                                 plain clang
 *
 * The command is clang's with only what applies added: the compile flags of
 * llama-config (flags.c, shared) in front of the arguments when the command
 * compiles C, C++ or Objective-C (not for -E, -M, -MM, -fsyntax-only, or
 * inputs that are all assembly, headers or objects), only -IPREFIX/include
 * when it preprocesses, and the runtime library after them when it links.
 * Everything else (arguments, output, exit status) is clang's: the wrapper
 * execs it. A bad mode (both variables set, a missing or corrupt profile)
 * is one error naming the variable and the file, and exit status 1, before
 * clang runs. -v and --version also say what the wrapper adds.
 *
 * Written in C, like AFL++'s afl-clang-fast, not sh: it runs once per
 * compiler command of a build, so it must cost nothing next to clang's start;
 * it must classify arguments exactly (quoting, response files) where a shell
 * script would split words; and it shares flags.c with llama-config instead
 * of parsing its output.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "flags.h"
#include "llama/version.h"

/* The compiler runs as clang-19 would (its messages say "clang-19: error"),
 * from LLVM's bin directory. */
#ifdef LLAMA_WRAPPER_CXX
static const char progname[] = "llama-clang++";
static const char real_compiler[] = LLAMA_LLVM_BINDIR "/clang++";
static const char real_name[] = LLAMA_CLANG_NAME "++-" LLAMA_LLVM_MAJOR;
#else
static const char progname[] = "llama-clang";
static const char real_compiler[] = LLAMA_LLVM_BINDIR "/clang";
static const char real_name[] = LLAMA_CLANG_NAME "-" LLAMA_LLVM_MAJOR;
#endif

/* ---- the mode, from the environment ---- */

/* 1 for 1/yes/true/on, 0 for unset, empty, 0/no/false/off, -1 otherwise. */
static int parse_switch(const char *value) {
  static const char *const on[] = {"1", "yes", "true", "on"};
  static const char *const off[] = {"", "0", "no", "false", "off"};
  if (!value)
    return 0;
  for (size_t i = 0; i < sizeof on / sizeof *on; i++)
    if (!strcasecmp(value, on[i]))
      return 1;
  for (size_t i = 0; i < sizeof off / sizeof *off; i++)
    if (!strcasecmp(value, off[i]))
      return 0;
  return -1;
}

static int mode_error(const char *message, const char *a, const char *b) {
  fprintf(stderr, "%s: error: ", progname);
  fprintf(stderr, message, a, b);
  fputc('\n', stderr);
  return -1;
}

/* Reads LLAMA_GENERATE, LLAMA_USE and LLAMA_USE_MODEL into *setup, checking
 * the files. Returns 0 or -1 after reporting. */
static int read_mode(struct llama_setup *setup) {
  const char *generate = getenv("LLAMA_GENERATE");
  const char *use = getenv("LLAMA_USE");
  const char *model = getenv("LLAMA_USE_MODEL");
  int generating = parse_switch(generate);
  if (generating < 0)
    return mode_error("LLAMA_GENERATE=%s: expected 1 (profiling build) or 0%s", generate, "");
  if (use && !*use)
    use = NULL;
  if (model && !*model)
    model = NULL;
  if (generating && use)
    return mode_error("LLAMA_GENERATE=1 and LLAMA_USE=%s are both set: the profiling build "
                      "and the use build exclude each other; unset one%s", use, "");
  if (model && !use)
    return mode_error("LLAMA_USE_MODEL=%s needs LLAMA_USE=PROFILE: the model belongs to the "
                      "use build%s", model, "");
  setup->stage = generating ? LLAMA_STAGE_GENERATE : use ? LLAMA_STAGE_USE : LLAMA_STAGE_PLAIN;
  if (use && llama_check_input(progname, "LLAMA_USE=", use, 0, 0, setup->profile))
    return -1;
  if (model && llama_check_input(progname, "LLAMA_USE_MODEL=", model, 1, 0, setup->model))
    return -1;
  return 0;
}

/* ---- what the command does ---- */

struct command {
  int sources;      /* inputs clang compiles as C, C++ or Objective-C */
  int inputs;       /* all inputs, objects and libraries included */
  int stop_early;   /* -c, -S: no link */
  int no_codegen;   /* -E, -M, -MM, -fsyntax-only: no code, no link */
  int partial_link; /* -r: a relocatable object, not a program */
  int verbose;      /* -v */
  int version;      /* --version */
};

/* Options whose value is the next argument (clang's Separate and
 * JoinedOrSeparate options that build systems use). */
static const char *const takes_value[] = {
    "-o", "-x", "-I", "-L", "-l", "-D", "-U", "-include", "-imacros", "-idirafter",
    "-iprefix", "-iwithprefix", "-iwithprefixbefore", "-isystem", "-isystem-after",
    "-isysroot", "-iquote", "-cxx-isystem", "-iframework", "-ivfsoverlay", "-MF", "-MT",
    "-MQ", "-MJ", "-Xclang", "-Xlinker", "-Xassembler", "-Xpreprocessor", "-Xanalyzer",
    "-mllvm", "-arch", "-target", "-T", "-u", "-z", "-e", "-F", "-B", "-G", "--param",
    "--sysroot", "--config", "-gcc-toolchain", "-working-directory", "-dependency-file",
    "-dependency-dot", "-serialize-diagnostics", "-include-pch", "-rpath", "-Xopenmp-target",
};

/* Languages (-x) and suffixes clang compiles to code with the pass. */
static const char *const source_languages[] = {
    "c", "c++", "objective-c", "objective-c++", "cpp-output", "c++-cpp-output",
    "objective-c-cpp-output", "objc-cpp-output", "objective-c++-cpp-output",
};
static const char *const source_suffixes[] = {
    "c", "i", "cc", "cp", "cxx", "cpp", "CPP", "c++", "C", "ii", "m", "mi", "mm", "M", "mii",
};

static int in_list(const char *s, const char *const *list, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!strcmp(s, list[i]))
      return 1;
  return 0;
}
#define IN(s, list) in_list(s, list, sizeof list / sizeof *list)

static int is_source(const char *input, const char *language) {
  if (language)
    return IN(language, source_languages);
  if (!strcmp(input, "-"))
    return 0; /* stdin without -x: clang wants -x for anything but -E */
  const char *dot = strrchr(input, '.'), *slash = strrchr(input, '/');
  return dot && (!slash || dot > slash) && IN(dot + 1, source_suffixes);
}

static void classify(struct command *cmd, int argc, char **argv, int depth);

/* Classifies the arguments in a response file (@FILE, GNU quoting: blanks
 * separate, '...' and "..." quote, backslash escapes), as clang expands it. */
static void classify_response_file(struct command *cmd, const char *path, int depth) {
  FILE *f = depth < 8 ? fopen(path, "r") : NULL;
  if (!f)
    return; /* clang reports it, or takes @FILE as a file name */
  size_t cap = 4096, len = 0, count = 0, arg_cap = 64;
  char *text = malloc(cap), **args = malloc(arg_cap * sizeof *args);
  int c, quote = 0, in_word = 0;
  if (!text || !args)
    abort();
  while ((c = getc(f)) != EOF) {
    if (len + 2 >= cap && !(text = realloc(text, cap *= 2)))
      abort();
    if (!quote && (c == ' ' || c == '\t' || c == '\n' || c == '\r')) {
      if (in_word)
        text[len++] = 0;
      in_word = 0;
      continue;
    }
    if (!in_word) { /* remember the offset; pointers after all the reallocs */
      if (count == arg_cap && !(args = realloc(args, (arg_cap *= 2) * sizeof *args)))
        abort();
      args[count++] = (char *)(uintptr_t)len;
      in_word = 1;
    }
    if (quote && c == quote) {
      quote = 0;
    } else if (!quote && (c == '\'' || c == '"')) {
      quote = c;
    } else if (c == '\\' && quote != '\'') {
      int next = getc(f);
      if (next != EOF)
        text[len++] = (char)next;
    } else {
      text[len++] = (char)c;
    }
  }
  fclose(f);
  text[len] = 0;
  for (size_t i = 0; i < count; i++)
    args[i] = text + (uintptr_t)args[i];
  classify(cmd, (int)count, args, depth + 1);
  free(args);
  free(text);
}

static void classify(struct command *cmd, int argc, char **argv, int depth) {
  const char *language = NULL; /* -x, until -x none */
  int options_done = 0;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (options_done || a[0] != '-' || !strcmp(a, "-")) {
      if (!options_done && a[0] == '@') {
        classify_response_file(cmd, a + 1, depth);
        continue;
      }
      cmd->inputs++;
      cmd->sources += is_source(a, language);
    } else if (!strcmp(a, "--")) {
      options_done = 1;
    } else if (!strcmp(a, "-c") || !strcmp(a, "-S")) {
      cmd->stop_early = 1;
    } else if (!strcmp(a, "-E") || !strcmp(a, "-M") || !strcmp(a, "-MM") ||
               !strcmp(a, "-fsyntax-only")) {
      cmd->no_codegen = 1;
    } else if (!strcmp(a, "-r")) {
      cmd->partial_link = 1;
    } else if (!strcmp(a, "-v")) {
      cmd->verbose = 1;
    } else if (!strcmp(a, "--version")) {
      cmd->version = 1;
    } else if (!strncmp(a, "-x", 2)) {
      const char *lang = a[2] ? a + 2 : i + 1 < argc ? argv[++i] : "none";
      language = strcmp(lang, "none") ? lang : NULL;
    } else if (IN(a, takes_value)) {
      i++;
    }
  }
}

/* ---- running clang ---- */

/* "MODE: what is added": for --version, what compiling and linking add;
 * for -v, what this command gets. */
static void describe(FILE *out, const struct llama_setup *setup, const char *first,
                     const struct llama_flag_list *compile, const char *second,
                     const struct llama_flag_list *link) {
  switch (setup->stage) {
  case LLAMA_STAGE_PLAIN:
    fputs("neither LLAMA_GENERATE nor LLAMA_USE is set: plain clang, nothing added\n", out);
    return;
  case LLAMA_STAGE_GENERATE:
    fputs("LLAMA_GENERATE=1: profiling build", out);
    break;
  case LLAMA_STAGE_USE:
    fprintf(out, "LLAMA_USE=%s", setup->profile);
    if (setup->model[0])
      fprintf(out, " LLAMA_USE_MODEL=%s", setup->model);
    fputs(": use build", out);
    break;
  }
  fprintf(out, "; %s: ", first);
  compile->count ? llama_print_flags(out, compile) : (void)fputs("nothing", out);
  fprintf(out, "; %s: ", second);
  link->count ? llama_print_flags(out, link) : (void)fputs("nothing", out);
  fputc('\n', out);
}

int main(int argc, char **argv) {
  struct llama_setup setup = {0};
  struct llama_paths paths = {0};
  if (read_mode(&setup))
    return 1;
  if (setup.stage != LLAMA_STAGE_PLAIN &&
      (llama_find_paths(&paths, progname) || llama_check_installed(&paths, setup.stage, progname)))
    return 1;

  struct command cmd = {0};
  classify(&cmd, argc - 1, argv + 1, 0);
  int compiling = cmd.sources > 0 && !cmd.no_codegen;
  int preprocessing = cmd.sources > 0 && cmd.no_codegen;
  int linking = cmd.inputs > 0 && !cmd.stop_early && !cmd.no_codegen && !cmd.partial_link;

  static struct llama_flag_list all_compile, all_link, before, after;
  llama_compile_flags(&paths, &setup, &all_compile);
  llama_link_flags(&paths, &setup, &all_link);
  if (compiling)
    llama_compile_flags(&paths, &setup, &before);
  else if (preprocessing)
    llama_preprocess_flags(&paths, &setup, &before);
  if (linking)
    llama_link_flags(&paths, &setup, &after);

  /* clang, our compile flags first (the user's own -g or -O wins), the
   * user's arguments, then the runtime after the objects that need it. */
  char **args = malloc(((size_t)argc + before.count + after.count + 1) * sizeof *args);
  if (!args)
    abort();
  int n = 0;
  args[n++] = (char *)real_name;
  for (int i = 0; i < before.count; i++)
    args[n++] = (char *)before.argv[i];
  for (int i = 1; i < argc; i++)
    args[n++] = argv[i];
  for (int i = 0; i < after.count; i++)
    args[n++] = (char *)after.argv[i];
  args[n] = NULL;

  if (cmd.verbose && !cmd.version) {
    fprintf(stderr, "%s %s: ", progname, LLAMA_VERSION_STRING);
    describe(stderr, &setup, "added before the arguments", &before, "after them", &after);
  }
  if (!cmd.version) {
    execv(real_compiler, args);
    fprintf(stderr, "%s: error: cannot run %s: %s\n", progname, real_compiler, strerror(errno));
    return 1;
  }
  /* --version: clang's lines first (build systems read the compiler and its
   * version from the first line), then ours. */
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) {
    fprintf(stderr, "%s: error: fork: %s\n", progname, strerror(errno));
    return 1;
  }
  if (pid == 0) {
    execv(real_compiler, args);
    fprintf(stderr, "%s: error: cannot run %s: %s\n", progname, real_compiler, strerror(errno));
    _exit(127);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return 1;
  printf("%s %s (LLAMA for LLVM): ", progname, LLAMA_VERSION_STRING);
  describe(stdout, &setup, "compiling adds", &all_compile, "linking adds", &all_link);
  fflush(stdout);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
