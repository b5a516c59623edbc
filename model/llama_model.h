/*
 * llama_model.h - the lifetime model: tokeniser, model file and inference.
 *
 * A calling context (frames, innermost first, each a linkage name, plus the
 * allocation function) becomes a sequence of token ids; an LSTM reads it from
 * the outermost frame to the allocation and a softmax gives the probability
 * of each of the 7 lifetime classes. docs/design.md §6 explains the choices,
 * docs/model-format.md the file layout.
 *
 * Everything here is C11 on libc and libm, allocates nothing after a model is
 * opened, and is thread-safe: a model is read-only once opened and every
 * call keeps its state on the caller's stack (about 6 KiB at the largest
 * dimensions). That is what lets libllamalloc run a prediction inside malloc.
 *
 *   char err[256];
 *   struct llama_model m;
 *   if (llama_model_open(buf, len, "app.llamamodel", &m, err, sizeof err)) fail(err);
 *   uint32_t ids[LLAMA_MODEL_MAX_TOKENS];
 *   size_t n = llama_model_encode(&m, frames, nframes, kind, ids, LLAMA_MODEL_MAX_TOKENS);
 *   float p[LLAMA_NUM_CLASSES];
 *   unsigned k = llama_model_predict(&m, ids, n, p);
 *
 * The file is little-endian; buf must stay valid (and unmodified) while the
 * model is in use: weights are read in place, never copied.
 */
#ifndef LLAMA_MODEL_H
#define LLAMA_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "llama/classes.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LLAMA_MODEL_MAGIC "LLAMAMDL" /* 8 bytes, no terminator in the file */
#define LLAMA_MODEL_VERSION 1

/* The classes the model predicts: LLAMA_NUM_CLASSES (llama/classes.h). */

/* Limits the reader enforces; they bound the stack a prediction uses. */
#define LLAMA_MODEL_MAX_HIDDEN 256
#define LLAMA_MODEL_MAX_EMBED 256
#define LLAMA_MODEL_MAX_LAYERS 2
#define LLAMA_MODEL_MAX_VOCAB (1u << 22)
/* Longest token sequence a model may be trained for (its max_tokens). */
#define LLAMA_MODEL_MAX_TOKENS 512

/* ---- tokens ---- */

/* Reserved token ids. Every other id names a token string. */
#define LLAMA_TOKEN_OOV 0u   /* a token the vocabulary does not have */
#define LLAMA_TOKEN_FRAME 1u /* starts every frame (when LLAMA_FEAT_FRAME_MARK) */
#define LLAMA_TOKEN_FIRST 2u

/* Longest token the tokeniser produces; longer pieces are cut. */
#define LLAMA_TOKEN_MAX_LEN 48

/* Hash of a token string: FNV-1a 64. The vocabulary is keyed by it. */
uint64_t llama_token_hash(const char *s, size_t len);

/* Called once per token, in order; tok is NUL-terminated, lower case. */
typedef void (*llama_token_fn)(void *ctx, const char *tok, size_t len);

/*
 * Splits one linkage name into word tokens and returns how many it produced:
 *  - Itanium-mangled C++ names (_Z...) are not demangled: their source names
 *    (namespaces, classes, functions, and the class names in parameter types)
 *    are read from the length-prefixed identifiers; constructors and
 *    destructors add "<ctor>" and "<dtor>". No allocation, no libstdc++.
 *  - Everything after the first '.' (clang's .llvm.N, gcc's .isra.0, .cold)
 *    is dropped.
 *  - Each identifier splits at '_' and at camelCase and letter/digit
 *    boundaries ("HTTPServer_getURL2" -> http, server, get, url); pieces are
 *    lower-cased; pieces of one character and pure numbers are dropped.
 *  - An unsymbolised frame ("module+0x1f0") is the single token "<nosym>".
 */
size_t llama_tokenize_symbol(const char *name, llama_token_fn fn, void *ctx);

/* The words of a source file name: basename without extension, split like
 * an identifier ("src/btree_util.c" -> btree, util). */
size_t llama_tokenize_file(const char *path, llama_token_fn fn, void *ctx);

/* The token naming an allocation kind (enum llama_alloc_kind from
 * llama/abi.h), e.g. "<malloc>", "<new_array>"; "<alloc>" if unknown. */
const char *llama_kind_token(unsigned kind);

/* ---- the model file ---- */

/* The frame mark as a string: llama_context_tokens passes it to fn. */
#define LLAMA_FRAME_TOKEN "<frame>"

/* Feature flags: what the tokens of a context were made of. The trainer
 * records them; encoders (llama-train, the pass, the runtime) must follow. */
#define LLAMA_FEAT_FRAME_MARK 0x1u /* LLAMA_TOKEN_FRAME before each frame */
#define LLAMA_FEAT_KIND 0x2u       /* the allocation kind's token at the end */
#define LLAMA_FEAT_FILE 0x4u       /* file-name tokens after a frame's function */
#define LLAMA_FEAT_INLINED 0x8u    /* frames inlined into their caller are kept */
#define LLAMA_FEAT_LINE 0x10u      /* "<+N>": the call's line offset in its function */
#define LLAMA_FEAT_ALL 0x1fu

/* One frame of a context for encoding (innermost first, as in profiles). */
struct llama_model_frame {
  const char *function; /* linkage name, or "module+0xOFF" */
  const char *file;     /* may be NULL or "" */
  int inlined;          /* inlined into the next (outer) frame */
  uint32_t line_offset; /* line - first line of function; for LLAMA_FEAT_LINE */
};

/* An open model: views into the caller's buffer. All fields are read-only. */
struct llama_model {
  uint32_t features;   /* LLAMA_FEAT_* */
  uint32_t vocab_size; /* including the reserved ids */
  uint32_t embed;      /* embedding width E */
  uint32_t hidden;     /* LSTM width H */
  uint32_t layers;     /* 1 or 2 */
  uint32_t max_tokens; /* contexts longer than this keep their innermost tokens */
  uint32_t default_class;  /* the trainer's fallback: most allocations' class */
  uint32_t longest_class;  /* longest class seen in training */
  const float *params;     /* llama_model_param_count() floats, see lstm.h */
  uint64_t param_count;
  /* vocabulary: open-addressing table of (hash, id), capacity a power of 2 */
  const uint64_t *vocab_hash;
  const uint32_t *vocab_id;
  uint32_t vocab_capacity;
  const char *token_strings; /* vocab_size NUL-terminated strings, id order */
  uint64_t token_strings_size;
  /* exact-context table: sorted context ids and their training class */
  const uint64_t *ctx_id;
  const uint8_t *ctx_class;
  uint64_t ctx_count;
  const char *meta; /* "key=value\n" lines about training; NUL-terminated */
  uint64_t meta_size;
};

/*
 * Validates buf[0, len) as a model file and fills *m with views into it.
 * buf must be 8-byte aligned. Checks the magic, the version, the checksum,
 * every offset and size, the dimensions against the limits above, and that
 * every weight is finite. Returns 0, or -1 with "NAME: problem" in err.
 * Never reads outside buf; allocates nothing.
 */
int llama_model_open(const void *buf, size_t len, const char *name, struct llama_model *m,
                     char *err, size_t errlen);

/* Reads a whole file into a malloc'ed, aligned buffer (*out, *out_len) for
 * llama_model_open; errors name the path. Returns 0 or -1. */
int llama_model_read_file(const char *path, void **out, size_t *out_len, char *err,
                          size_t errlen);

/* Id of a token string, or LLAMA_TOKEN_OOV. */
uint32_t llama_model_token_id(const struct llama_model *m, const char *tok, size_t len);

/* String of token id (reserved ids: "<oov>", "<frame>"), or NULL. O(id). */
const char *llama_model_token_string(const struct llama_model *m, uint32_t id);

/*
 * Encodes a context the way the model was trained: frames outermost first
 * (the input order is innermost first, as in profiles), each frame's tokens
 * as the features say, then the kind token. Keeps the innermost `cap` (and at
 * most max_tokens) tokens; returns their number.
 */
size_t llama_model_encode(const struct llama_model *m, const struct llama_model_frame *frames,
                          size_t frame_count, unsigned kind, uint32_t *ids, size_t cap);

/* Calls fn for every token of a context in the model's order, as `features`
 * say: for each frame from the outermost (frames are innermost first),
 * LLAMA_FRAME_TOKEN, the function's tokens, the line token, the file's tokens; then the
 * kind's token. No truncation. Returns the number of tokens. llama-train
 * builds its vocabulary with it and llama_model_encode maps it to ids, so
 * training and prediction cannot disagree on what a context is. */
size_t llama_context_tokens(uint32_t features, const struct llama_model_frame *frames,
                            size_t frame_count, unsigned kind, llama_token_fn fn, void *ctx);

/* Runs the LSTM on ids[0, n) and returns the most likely class. probs, if
 * not NULL, receives the softmax. n == 0 returns default_class. */
unsigned llama_model_predict(const struct llama_model *m, const uint32_t *ids, size_t n,
                             float probs[LLAMA_NUM_CLASSES]);

/* The class the exact-context table holds for context_id, or -1. */
int llama_model_lookup_context(const struct llama_model *m, uint64_t context_id);

/* ---- writing (llama-train) ---- */

struct llama_model_desc {
  uint32_t features, embed, hidden, layers, max_tokens, default_class, longest_class;
  uint32_t vocab_size;
  const char *const *tokens; /* vocab_size strings; [0] and [1] are ignored */
  const float *params;       /* llama_model_param_count() floats */
  const uint64_t *ctx_id;    /* sorted ascending, unique */
  const uint8_t *ctx_class;
  uint64_t ctx_count;
  const char *meta; /* may be NULL */
};

/* Serialises a model; *out is malloc'ed. Returns 0, or -1 with err. */
int llama_model_serialize(const struct llama_model_desc *d, void **out, size_t *out_len,
                          char *err, size_t errlen);

/* Serialises what a program needs to predict with m: the weights and the
 * vocabulary, without the exact-context table and the training notes (meta
 * replaces them; may be NULL). The use build embeds this copy: for
 * libxml2's model, 116 of 237 KB, all of which the runtime's validation
 * used to page in. *out is malloc'ed. Returns 0, or -1 with err. */
int llama_model_serialize_runtime(const struct llama_model *m, const char *meta, void **out,
                                  size_t *out_len, char *err, size_t errlen);

/* Number of parameters of an LSTM of these dimensions (see lstm.h). */
uint64_t llama_model_param_count(uint32_t vocab, uint32_t embed, uint32_t hidden,
                                 uint32_t layers);

/* CRC-32 (IEEE, as zlib) of buf: the model file's checksum. */
uint32_t llama_crc32(const void *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* LLAMA_MODEL_H */
