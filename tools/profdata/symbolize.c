/*
 * symbolize.c - client of one long-running llvm-symbolizer subprocess per
 * merge. Queries go in as lines `"/path/to/module" 0xADDR` and come back as
 * one JSON object per line (--output-style=JSON), with every inlined frame
 * (--inlining), linkage names (--functions=linkage --no-demangle, as the pass
 * hashes them) and each frame's function start line (StartLine), from which
 * line offsets are computed:
 *
 *   {"Address":"0x1165","ModuleName":"/bin/app","Symbol":[{"Column":10,
 *    "FileName":"/src/a.c","FunctionName":"helper","Line":4,"StartLine":3,...},
 *    {... "FunctionName":"outer" ...}]}
 *
 * Queries are written in batches smaller than a pipe buffer, then all answers
 * are read, so neither side can block the other. The JSON reader handles the
 * whole grammar (it skips what it does not need) with a nesting limit.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tool.h"

extern char **environ;

#define DEFAULT_SYMBOLIZER "/usr/lib/llvm-19/bin/llvm-symbolizer"
#define BATCH_BYTES 32768

struct symbolizer {
  char *requested; /* --symbolizer, or NULL */
  struct intern *strings;
  int state; /* 0 not started, 1 running, -1 unusable */
  pid_t pid;
  int to_child;
  FILE *from_child;
  char *line;
  size_t line_cap;
  char *query;
  size_t query_cap;
  struct sym_frame *frames;
  size_t frame_cap;
};

struct symbolizer *symbolizer_new(const char *path, struct intern *strings) {
  struct symbolizer *sym = xcalloc(1, sizeof *sym);
  sym->requested = path ? xstrdup(path) : NULL;
  sym->strings = strings;
  sym->to_child = -1;
  return sym;
}

/* Finds an executable: a path with a slash as is, otherwise on PATH. */
static char *find_program(const char *name) {
  if (strchr(name, '/'))
    return access(name, X_OK) == 0 ? xstrdup(name) : NULL;
  const char *path = getenv("PATH");
  if (!path)
    return NULL;
  while (*path) {
    const char *colon = strchr(path, ':');
    size_t n = colon ? (size_t)(colon - path) : strlen(path);
    char *candidate = xmalloc(n + strlen(name) + 2);
    snprintf(candidate, n + strlen(name) + 2, "%.*s/%s", (int)n, path, name);
    if (n && access(candidate, X_OK) == 0)
      return candidate;
    free(candidate);
    path += n + (colon != NULL);
  }
  return NULL;
}

static int start(struct symbolizer *sym) {
  char *program = NULL;
  if (sym->requested) {
    program = find_program(sym->requested);
    if (!program) {
      tool_warning("symbolizer '%s' not found; frames stay unsymbolised", sym->requested);
      return -1;
    }
  } else {
    program = find_program(DEFAULT_SYMBOLIZER);
    if (!program)
      program = find_program("llvm-symbolizer-19");
    if (!program)
      program = find_program("llvm-symbolizer");
    if (!program) {
      tool_warning("llvm-symbolizer not found (looked for %s and llvm-symbolizer-19 on PATH; "
                   "use --symbolizer=PATH); frames stay unsymbolised",
                   DEFAULT_SYMBOLIZER);
      return -1;
    }
  }
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC)) {
    free(program);
    tool_warning("cannot create a pipe for the symbolizer: %s", strerror(errno));
    return -1;
  }
  if (pipe2(out, O_CLOEXEC)) {
    close(in[0]);
    close(in[1]);
    free(program);
    tool_warning("cannot create a pipe for the symbolizer: %s", strerror(errno));
    return -1;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  char *argv[] = {program,         "--inlining",          "--functions=linkage",
                  "--no-demangle", "--output-style=JSON", NULL};
  int rc = posix_spawn(&sym->pid, program, &actions, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  close(in[0]);
  close(out[1]);
  if (rc != 0) {
    close(in[1]);
    close(out[0]);
    tool_warning("cannot run the symbolizer %s: %s; frames stay unsymbolised", program,
                 strerror(rc));
    free(program);
    return -1;
  }
  free(program);
  sym->to_child = in[1];
  sym->from_child = fdopen(out[0], "r");
  if (!sym->from_child) {
    close(out[0]);
    return -1;
  }
  /* A symbolizer that dies must not kill us with SIGPIPE. */
  signal(SIGPIPE, SIG_IGN);
  return 0;
}

static void stop(struct symbolizer *sym) {
  if (sym->to_child >= 0)
    close(sym->to_child);
  sym->to_child = -1;
  if (sym->from_child)
    fclose(sym->from_child);
  sym->from_child = NULL;
  if (sym->pid > 0) {
    int status;
    while (waitpid(sym->pid, &status, 0) < 0 && errno == EINTR)
      ;
  }
  sym->pid = 0;
}

void symbolizer_free(struct symbolizer *sym) {
  if (!sym)
    return;
  stop(sym);
  free(sym->requested);
  free(sym->line);
  free(sym->query);
  free(sym->frames);
  free(sym);
}

/* ---- JSON ---- */

struct json {
  const char *p, *end;
  int depth;
  char *str; /* last string read */
  size_t str_len, str_cap;
};

static void json_ws(struct json *j) {
  while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
    j->p++;
}

static int json_expect(struct json *j, char c) {
  json_ws(j);
  if (j->p >= j->end || *j->p != c)
    return -1;
  j->p++;
  return 0;
}

static void json_putc(struct json *j, unsigned c) {
  xreserve((void **)&j->str, &j->str_cap, j->str_len + 2, 1);
  j->str[j->str_len++] = (char)c;
  j->str[j->str_len] = 0;
}

static int json_hex4(struct json *j, unsigned *out) {
  if (j->end - j->p < 4)
    return -1;
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char c = *j->p++;
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f')
      v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      v |= (unsigned)(c - 'A' + 10);
    else
      return -1;
  }
  *out = v;
  return 0;
}

/* Reads a string into j->str (UTF-8, escapes decoded). */
static int json_string(struct json *j) {
  if (json_expect(j, '"'))
    return -1;
  j->str_len = 0;
  json_putc(j, 0);
  j->str_len = 0;
  while (j->p < j->end) {
    unsigned char c = (unsigned char)*j->p++;
    if (c == '"')
      return 0;
    if (c != '\\') {
      json_putc(j, c);
      continue;
    }
    if (j->p >= j->end)
      return -1;
    char e = *j->p++;
    unsigned cp;
    switch (e) {
    case '"':
    case '\\':
    case '/':
      json_putc(j, (unsigned char)e);
      break;
    case 'b':
      json_putc(j, '\b');
      break;
    case 'f':
      json_putc(j, '\f');
      break;
    case 'n':
      json_putc(j, '\n');
      break;
    case 'r':
      json_putc(j, '\r');
      break;
    case 't':
      json_putc(j, '\t');
      break;
    case 'u':
      if (json_hex4(j, &cp))
        return -1;
      if (cp >= 0xd800 && cp < 0xdc00 && j->end - j->p >= 6 && j->p[0] == '\\' && j->p[1] == 'u') {
        unsigned lo;
        j->p += 2;
        if (json_hex4(j, &lo) || lo < 0xdc00 || lo >= 0xe000)
          return -1;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
      }
      if (cp < 0x80) {
        json_putc(j, cp);
      } else if (cp < 0x800) {
        json_putc(j, 0xc0 | cp >> 6);
        json_putc(j, 0x80 | (cp & 0x3f));
      } else if (cp < 0x10000) {
        json_putc(j, 0xe0 | cp >> 12);
        json_putc(j, 0x80 | ((cp >> 6) & 0x3f));
        json_putc(j, 0x80 | (cp & 0x3f));
      } else {
        json_putc(j, 0xf0 | cp >> 18);
        json_putc(j, 0x80 | ((cp >> 12) & 0x3f));
        json_putc(j, 0x80 | ((cp >> 6) & 0x3f));
        json_putc(j, 0x80 | (cp & 0x3f));
      }
      break;
    default:
      return -1;
    }
  }
  return -1;
}

/* Reads a non-negative integer (other numbers are read and clamped). */
static int json_uint(struct json *j, uint64_t *out) {
  json_ws(j);
  uint64_t v = 0;
  int digits = 0, negative = 0;
  if (j->p < j->end && *j->p == '-') {
    negative = 1;
    j->p++;
  }
  while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
    unsigned d = (unsigned)(*j->p++ - '0');
    v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
    digits++;
  }
  while (j->p < j->end && (*j->p == '.' || *j->p == 'e' || *j->p == 'E' || *j->p == '+' ||
                           *j->p == '-' || (*j->p >= '0' && *j->p <= '9')))
    j->p++;
  *out = negative ? 0 : v;
  return digits ? 0 : -1;
}

static int json_skip(struct json *j) {
  json_ws(j);
  if (j->p >= j->end || ++j->depth > 64)
    return -1;
  int rc = 0;
  char c = *j->p;
  if (c == '"') {
    rc = json_string(j);
  } else if (c == '{' || c == '[') {
    char close = c == '{' ? '}' : ']';
    j->p++;
    json_ws(j);
    if (j->p < j->end && *j->p == close) {
      j->p++;
    } else {
      for (;;) {
        if (c == '{' && (json_string(j) || json_expect(j, ':'))) {
          rc = -1;
          break;
        }
        if (json_skip(j)) {
          rc = -1;
          break;
        }
        json_ws(j);
        if (j->p < j->end && *j->p == ',') {
          j->p++;
          continue;
        }
        rc = json_expect(j, close);
        break;
      }
    }
  } else if (c == '-' || (c >= '0' && c <= '9')) {
    uint64_t ignored;
    rc = json_uint(j, &ignored);
  } else {
    static const char *const words[] = {"true", "false", "null"};
    rc = -1;
    for (int i = 0; i < 3; i++) {
      size_t n = strlen(words[i]);
      if ((size_t)(j->end - j->p) >= n && memcmp(j->p, words[i], n) == 0) {
        j->p += n;
        rc = 0;
        break;
      }
    }
  }
  j->depth--;
  return rc;
}

/* Reads one element of "Symbol" into *f. */
static int json_frame(struct json *j, struct symbolizer *sym, struct sym_frame *f) {
  *f = (struct sym_frame){NULL, "", 0, 0, 0};
  if (json_expect(j, '{'))
    return -1;
  json_ws(j);
  if (j->p < j->end && *j->p == '}') {
    j->p++;
    return 0;
  }
  for (;;) {
    if (json_string(j) || json_expect(j, ':'))
      return -1;
    uint64_t v;
    if (strcmp(j->str, "FunctionName") == 0) {
      if (json_string(j))
        return -1;
      if (j->str_len && strcmp(j->str, "??") != 0)
        f->function = intern(sym->strings, j->str);
    } else if (strcmp(j->str, "FileName") == 0) {
      if (json_string(j))
        return -1;
      f->file = strcmp(j->str, "??") == 0 ? "" : intern(sym->strings, j->str);
    } else if (strcmp(j->str, "Line") == 0 || strcmp(j->str, "Column") == 0 ||
               strcmp(j->str, "StartLine") == 0) {
      char key = j->str[0] == 'L' ? 'L' : j->str[0] == 'C' ? 'C' : 'S';
      if (json_uint(j, &v))
        return -1;
      uint32_t v32 = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
      if (key == 'L')
        f->line = v32;
      else if (key == 'C')
        f->column = v32;
      else
        f->start_line = v32;
    } else if (json_skip(j)) {
      return -1;
    }
    json_ws(j);
    if (j->p < j->end && *j->p == ',') {
      j->p++;
      continue;
    }
    return json_expect(j, '}');
  }
}

/* Parses one answer line; stores frames in sym->frames. Returns the frame
 * count, or -1 if the line is not a well-formed answer for `addr`. */
static long parse_answer(struct symbolizer *sym, const char *line, size_t len, uint64_t addr) {
  struct json j = {line, line + len, 0, NULL, 0, 0};
  long n = 0;
  int address_ok = 0;
  if (json_expect(&j, '{'))
    goto bad;
  for (;;) {
    if (json_string(&j) || json_expect(&j, ':'))
      goto bad;
    if (strcmp(j.str, "Address") == 0) {
      if (json_string(&j))
        goto bad;
      address_ok = strtoull(j.str, NULL, 16) == addr;
    } else if (strcmp(j.str, "Symbol") == 0) {
      if (json_expect(&j, '['))
        goto bad;
      json_ws(&j);
      if (j.p < j.end && *j.p == ']') {
        j.p++;
      } else {
        for (;;) {
          xreserve((void **)&sym->frames, &sym->frame_cap, (size_t)n + 1, sizeof *sym->frames);
          if (json_frame(&j, sym, &sym->frames[n]))
            goto bad;
          n++;
          json_ws(&j);
          if (j.p < j.end && *j.p == ',') {
            j.p++;
            continue;
          }
          if (json_expect(&j, ']'))
            goto bad;
          break;
        }
      }
    } else if (json_skip(&j)) {
      goto bad;
    }
    json_ws(&j);
    if (j.p < j.end && *j.p == ',') {
      j.p++;
      continue;
    }
    if (json_expect(&j, '}'))
      goto bad;
    break;
  }
  free(j.str);
  if (!address_ok)
    return -1;
  /* An empty answer is one frame with no function and no line. */
  if (n == 1 && !sym->frames[0].function && sym->frames[0].line == 0)
    n = 0;
  return n;
bad:
  free(j.str);
  return -1;
}

static int write_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static void fail(struct symbolizer *sym, const char *why) {
  tool_warning("the symbolizer %s; remaining frames stay unsymbolised", why);
  stop(sym);
  sym->state = -1;
}

int symbolizer_run(struct symbolizer *sym, const char *module, const uint64_t *addrs, size_t count,
                   void (*emit)(void *ctx, size_t i, const struct sym_frame *frames, size_t n),
                   void *ctx) {
  if (sym->state == 0)
    sym->state = start(sym) == 0 ? 1 : -1;
  if (sym->state < 0)
    return -1;
  char quote = strchr(module, '"') ? '\'' : '"';
  if ((quote == '\'' && strchr(module, '\'')) || strchr(module, '\n'))
    return -1; /* cannot be written as a query */
  size_t done = 0;
  while (done < count) {
    /* One batch: queries up to BATCH_BYTES, written at once. */
    size_t len = 0, first = done;
    while (done < count) {
      size_t need = strlen(module) + 32;
      if (len && len + need > BATCH_BYTES)
        break;
      xreserve((void **)&sym->query, &sym->query_cap, len + need + 1, 1);
      len += (size_t)snprintf(sym->query + len, need + 1, "%c%s%c 0x%llx\n", quote, module, quote,
                              (unsigned long long)addrs[done]);
      done++;
    }
    if (write_all(sym->to_child, sym->query, len)) {
      fail(sym, "stopped accepting queries");
      return -1;
    }
    for (size_t i = first; i < done; i++) {
      ssize_t n = getline(&sym->line, &sym->line_cap, sym->from_child);
      if (n <= 0) {
        fail(sym, "exited early");
        return -1;
      }
      long frames = parse_answer(sym, sym->line, (size_t)n, addrs[i]);
      if (frames < 0) {
        fail(sym, "gave an answer this tool cannot read");
        return -1;
      }
      emit(ctx, i, sym->frames, (size_t)frames);
    }
  }
  return 0;
}
