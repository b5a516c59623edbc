/*
 * llama-profdata - the offline profile tool of LLAMA, after llvm-profdata:
 *
 *   llama-profdata merge -o app.llamaprof llama-*.profraw   raw -> indexed
 *   llama-profdata show app.llamaprof                        explain a profile
 *
 * This file owns the command line: it parses options for each command and
 * hands over to merge.c and show.c. Every failure is one line
 * "llama-profdata: error: ..." on stderr and exit status 1.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "llama/profdata/indexed.h"
#include "tool.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: llama-profdata merge -o OUTPUT [options] PROFILE...\n"
          "       llama-profdata show [options] PROFILE\n"
          "       llama-profdata --help | --version\n"
          "\n"
          "merge: read raw profiles (llama-<pid>.profraw, written by libllamaprof) and indexed\n"
          "profiles, symbolise their call stacks, and write one indexed profile that maps every\n"
          "allocation site and calling context to a lifetime class.\n"
          "  -o, --output=OUTPUT   indexed profile to write (written atomically)\n"
          "  --binary=PATH         executable or shared library to symbolise with, instead of\n"
          "                        the path recorded in the profile; matched to the profile's\n"
          "                        modules by build id, else by file name (repeatable)\n"
          "  --symbolizer=PATH     llvm-symbolizer to run (default: %s,\n"
          "                        else llvm-symbolizer-19 on PATH)\n"
          "  --quantile=Q          class rule: the smallest class k such that a fraction >= Q\n"
          "                        of the samples lived no longer than class k allows;\n"
          "                        0 < Q <= 1 (default 0.9)\n"
          "  -v, --verbose         print symbolisation statistics\n"
          "  -q, --quiet           no progress messages\n"
          "\n"
          "show: print an indexed profile (sites by calls, lifetime distribution, class and\n"
          "contexts) or a raw profile (header, modules, sites, samples).\n"
          "  --json                print one JSON document instead of tables\n"
          "  --html                write one self-contained HTML page (indexed profiles):\n"
          "                        sortable sites and contexts, lifetime histograms, the\n"
          "                        reason for each class, bytes by class; no network\n"
          "  -o, --output=FILE     write to FILE instead of standard output\n"
          "  --top=N               only the N sites with the most calls (default: all;\n"
          "                        with --html %d)\n"
          "  --contexts=N          only each site's N most-sampled contexts (default: all;\n"
          "                        with --html %d)\n"
          "  --all                 every site and context (lifts the --html limits)\n"
          "  --depth=N             only the N innermost frames of each context (default: all)\n"
          "\n"
          "lifetime classes: 0 <=10ms, 1 <=100ms, 2 <=1s, 3 <=10s, 4 <=100s, 5 <=1000s,\n"
          "6 longer or still live at exit. See docs/profile-format-indexed.md.\n",
          "/usr/lib/llvm-19/bin/llvm-symbolizer", SHOW_HTML_TOP, SHOW_HTML_CONTEXTS);
}

static int usage_error(const char *fmt, const char *arg) {
  fprintf(stderr, "%s: error: ", llama_progname);
  fprintf(stderr, fmt, arg);
  fputs(" (see --help)\n", stderr);
  return 1;
}

/*
 * Matches argv[*i] against a long option `--name` taking a value (as
 * `--name=V` or `--name V`) or, if short is nonzero, `-s V` / `-sV`.
 * Returns 1 and the value in *value, 0 if it is another option, -1 if the
 * value is missing (after reporting).
 */
static int option_value(int argc, char **argv, int *i, const char *name, char short_name,
                        const char **value) {
  const char *arg = argv[*i];
  size_t n = strlen(name);
  if (strncmp(arg, "--", 2) == 0 && strncmp(arg + 2, name, n) == 0) {
    if (arg[2 + n] == '=') {
      *value = arg + 3 + n;
      return 1;
    }
    if (arg[2 + n] != 0)
      return 0;
  } else if (!(short_name && arg[0] == '-' && arg[1] == short_name)) {
    return 0;
  } else if (arg[2]) {
    *value = arg + 2;
    return 1;
  }
  if (*i + 1 >= argc) {
    usage_error("option %s needs a value", arg);
    return -1;
  }
  *value = argv[++*i];
  return 1;
}

/* A positive count for --NAME; reports and returns 1 if VALUE is not one. */
static int parse_count(const char *name, const char *value, size_t *out) {
  char *end;
  errno = 0;
  unsigned long long n = strtoull(value, &end, 10);
  if (errno || end == value || *end || value[0] == '-' || n == 0) {
    fprintf(stderr, "%s: error: bad --%s '%s': expected a positive integer (see --help)\n",
            llama_progname, name, value);
    return 1;
  }
  *out = (size_t)n;
  return 0;
}

static int parse_quantile(const char *text, uint32_t *ppm) {
  char *end;
  errno = 0;
  double q = strtod(text, &end);
  if (errno || end == text || *end || !(q > 0 && q <= 1))
    return usage_error("bad --quantile '%s': expected a number in (0, 1]", text);
  *ppm = (uint32_t)llround(q * 1e6);
  if (*ppm == 0)
    *ppm = 1;
  return 0;
}

static int merge_main(int argc, char **argv) {
  struct merge_options opt = {0};
  opt.quantile_ppm = LLAMA_DEFAULT_QUANTILE_PPM;
  const char **inputs = xcalloc((size_t)argc, sizeof *inputs);
  opt.binaries = xcalloc((size_t)argc, sizeof *opt.binaries);
  size_t input_count = 0;
  int rc = 1, options_done = 0;
  for (int i = 0; i < argc; i++) {
    const char *arg = argv[i], *value;
    if (options_done || arg[0] != '-' || strcmp(arg, "-") == 0) {
      inputs[input_count++] = arg;
      continue;
    }
    int r;
    if (strcmp(arg, "--") == 0) {
      options_done = 1;
    } else if ((r = option_value(argc, argv, &i, "output", 'o', &value)) != 0) {
      if (r < 0)
        goto out;
      opt.output = value;
    } else if ((r = option_value(argc, argv, &i, "binary", 0, &value)) != 0) {
      if (r < 0)
        goto out;
      opt.binaries[opt.binary_count++] = value;
    } else if ((r = option_value(argc, argv, &i, "symbolizer", 0, &value)) != 0) {
      if (r < 0)
        goto out;
      opt.symbolizer = value;
    } else if ((r = option_value(argc, argv, &i, "quantile", 0, &value)) != 0) {
      if (r < 0 || parse_quantile(value, &opt.quantile_ppm))
        goto out;
    } else if (strcmp(arg, "-v") == 0 || strcmp(arg, "--verbose") == 0) {
      opt.verbose = 1;
    } else if (strcmp(arg, "-q") == 0 || strcmp(arg, "--quiet") == 0) {
      tool_quiet = 1;
    } else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
      usage(stdout);
      rc = 0;
      goto out;
    } else {
      usage_error("unknown merge option '%s'", arg);
      goto out;
    }
  }
  if (!opt.output) {
    usage_error("%s: no output file (-o OUTPUT)", "merge");
    goto out;
  }
  if (!input_count) {
    usage_error("%s: no input profiles", "merge");
    goto out;
  }
  rc = merge_command(&opt, inputs, input_count);
out:
  free(inputs);
  free(opt.binaries);
  return rc;
}

static int show_main(int argc, char **argv) {
  struct show_options opt = {0};
  const char *path = NULL;
  int options_done = 0;
  for (int i = 0; i < argc; i++) {
    const char *arg = argv[i], *value;
    if (options_done || arg[0] != '-' || strcmp(arg, "-") == 0) {
      if (path)
        return usage_error("show: one profile at a time (got '%s' too)", arg);
      path = arg;
      continue;
    }
    int r;
    if (strcmp(arg, "--") == 0) {
      options_done = 1;
    } else if (strcmp(arg, "--json") == 0) {
      opt.json = 1;
    } else if (strcmp(arg, "--html") == 0) {
      opt.html = 1;
    } else if (strcmp(arg, "--all") == 0) {
      opt.all = 1;
    } else if ((r = option_value(argc, argv, &i, "output", 'o', &value)) != 0) {
      if (r < 0)
        return 1;
      opt.output = value;
    } else if ((r = option_value(argc, argv, &i, "top", 0, &value)) != 0) {
      if (r < 0 || parse_count("top", value, &opt.top))
        return 1;
    } else if ((r = option_value(argc, argv, &i, "contexts", 0, &value)) != 0) {
      if (r < 0 || parse_count("contexts", value, &opt.contexts))
        return 1;
    } else if ((r = option_value(argc, argv, &i, "depth", 0, &value)) != 0) {
      if (r < 0 || parse_count("depth", value, &opt.depth))
        return 1;
    } else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
      usage(stdout);
      return 0;
    } else {
      return usage_error("unknown show option '%s'", arg);
    }
  }
  if (!path)
    return usage_error("%s: no profile to show", "show");
  if (opt.json && opt.html)
    return usage_error("%s: --json or --html, not both", "show");
  if (opt.all && (opt.top || opt.contexts))
    return usage_error("%s: --all shows every site and context; drop --top and --contexts",
                       "show");
  return show_command(&opt, path);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 1;
  }
  const char *command = argv[1];
  if (strcmp(command, "-h") == 0 || strcmp(command, "--help") == 0 ||
      strcmp(command, "help") == 0) {
    usage(stdout);
    return 0;
  }
  if (strcmp(command, "--version") == 0) {
    printf("llama-profdata %s (indexed profile format version %d)\n", LLAMA_VERSION_STRING,
           LLAMA_IDX_VERSION);
    return 0;
  }
  if (strcmp(command, "merge") == 0)
    return merge_main(argc - 2, argv + 2);
  if (strcmp(command, "show") == 0)
    return show_main(argc - 2, argv + 2);
  return usage_error("unknown command '%s': expected merge or show", command);
}
