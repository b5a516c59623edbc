/*
 * tokenize.c - linkage names and file names into word tokens (see
 * llama_model.h for the rules). Runs inside malloc on the runtime's dynamic
 * path, so it allocates nothing and uses no locale: ASCII rules only.
 */
#include <stdint.h>
#include <string.h>

#include "llama/abi.h"
#include "llama_model.h"

uint64_t llama_token_hash(const char *s, size_t len) {
  return llama_hash_bytes(LLAMA_HASH_INIT, s, len);
}

static int is_lower(char c) { return c >= 'a' && c <= 'z'; }
static int is_upper(char c) { return c >= 'A' && c <= 'Z'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_alnum(char c) { return is_lower(c) || is_upper(c) || is_digit(c); }

/* Emits one piece s[0, n): lower-cased, cut to LLAMA_TOKEN_MAX_LEN, dropped
 * if it is one character or all digits. */
static size_t emit_piece(const char *s, size_t n, llama_token_fn fn, void *ctx) {
  if (n < 2)
    return 0;
  int digits = 1;
  for (size_t i = 0; i < n; i++)
    digits &= is_digit(s[i]);
  if (digits)
    return 0;
  char buf[LLAMA_TOKEN_MAX_LEN + 1];
  if (n > LLAMA_TOKEN_MAX_LEN)
    n = LLAMA_TOKEN_MAX_LEN;
  for (size_t i = 0; i < n; i++)
    buf[i] = is_upper(s[i]) ? (char)(s[i] - 'A' + 'a') : s[i];
  buf[n] = 0;
  fn(ctx, buf, n);
  return 1;
}

/*
 * Splits an identifier s[0, n) at non-alphanumerics, lower->upper
 * ("getUrl"), upper->Upper+lower ("HTTPServer": HTTP|Server), and
 * letter<->digit boundaries ("sqlite3Malloc": sqlite|3|Malloc).
 */
static size_t split_identifier(const char *s, size_t n, llama_token_fn fn, void *ctx) {
  size_t count = 0, start = 0;
  for (size_t i = 0; i <= n; i++) {
    int cut;
    if (i == n || !is_alnum(s[i])) {
      cut = 1;
    } else if (i == start) {
      continue;
    } else {
      char a = s[i - 1], b = s[i];
      cut = (is_lower(a) && is_upper(b)) || (is_digit(a) != is_digit(b)) ||
            (is_upper(a) && is_upper(b) && i + 1 < n && is_lower(s[i + 1]));
    }
    if (!cut)
      continue;
    count += emit_piece(s + start, i - start, fn, ctx);
    start = (i < n && is_alnum(s[i])) ? i : i + 1;
  }
  return count;
}

/* Builtin type codes of the Itanium ABI that can precede a literal's value
 * ("Li5E": int 5) or stand as parameter types. */
static int is_builtin_code(char c) { return c && strchr("vwbcahstijlmxynofdegz", c) != NULL; }

/*
 * The identifiers of an Itanium-mangled name s[0, n): every <source-name>
 * (a decimal length followed by that many identifier characters). A digit
 * run is read as a length only where a source name can start, which keeps
 * substitution indexes (S0_), template parameters (T_), literals (Li5E),
 * vector sizes (Dv4_) and ctor/dtor codes (C1, D2) out of the tokens.
 */
static size_t split_mangled(const char *s, size_t n, llama_token_fn fn, void *ctx) {
  size_t count = 0, i = 2; /* past "_Z" */
  int after_name = 0;
  while (i < n) {
    if (after_name && (s[i] == 'C' || s[i] == 'D') && i + 1 < n && is_digit(s[i + 1])) {
      fn(ctx, s[i] == 'C' ? "<ctor>" : "<dtor>", 6);
      count++;
      i += 2;
      after_name = 0;
      continue;
    }
    if (!is_digit(s[i])) {
      after_name = 0;
      i++;
      continue;
    }
    char prev = s[i - 1];
    int ok = after_name || !(prev == 'S' || prev == 'T' || prev == 'C' || prev == 'D' ||
                             prev == '_' || is_digit(prev) ||
                             (is_builtin_code(prev) && i >= 2 && (s[i - 2] == 'L' || s[i - 2] == 'D')));
    size_t j = i, len = 0;
    while (j < n && is_digit(s[j]) && len < 100000)
      len = len * 10 + (size_t)(s[j++] - '0');
    if (ok && len > 0 && len <= n - j && (s[j] == '_' || is_upper(s[j]) || is_lower(s[j]))) {
      int ident = 1;
      for (size_t k = j; k < j + len && ident; k++)
        ident = is_alnum(s[k]) || s[k] == '_' || s[k] == '$';
      if (ident) {
        count += split_identifier(s + j, len, fn, ctx);
        i = j + len;
        after_name = 1;
        continue;
      }
    }
    after_name = 0;
    i = j;
  }
  return count;
}

size_t llama_tokenize_symbol(const char *name, llama_token_fn fn, void *ctx) {
  if (!name || !*name)
    return 0;
  if (strstr(name, "+0x")) {
    fn(ctx, "<nosym>", 7);
    return 1;
  }
  size_t n = strcspn(name, ".");
  if (n == 0) /* a name starting with '.' (.omp_outlined.): keep it */
    n = strlen(name);
  if (n > 2 && name[0] == '_' && name[1] == 'Z')
    return split_mangled(name, n, fn, ctx);
  return split_identifier(name, n, fn, ctx);
}

size_t llama_tokenize_file(const char *path, llama_token_fn fn, void *ctx) {
  if (!path || !*path)
    return 0;
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  const char *dot = strrchr(base, '.');
  size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
  return split_identifier(base, n, fn, ctx);
}

const char *llama_kind_token(unsigned kind) {
  switch (kind) {
#define X(KIND, value, short, symbol, dealloc)                                                  \
  case value:                                                                                   \
    return "<" #short ">";
    LLAMA_ALLOC_FUNCTIONS(X)
#undef X
  default:
    return "<alloc>";
  }
}
