/*
 * dataset.h - training examples from indexed profiles.
 *
 * Every context of every profile becomes a token sequence (through
 * llama_context_tokens, the same walk the model's encoder uses). Its sampled
 * allocations are split at random, class by class, into a training part and
 * a held-out part (a stand-in for a second run of the same program). The
 * training parts of contexts with the same token sequence are pooled into
 * one example whose label is the class rule over the pooled histogram and
 * whose weight is their estimated allocation count.
 */
#ifndef LLAMA_TRAIN_DATASET_H
#define LLAMA_TRAIN_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "llama/profdata/indexed.h"

struct example {
  uint32_t off, len;  /* token ids: pool[off, off + len) */
  uint32_t label;     /* lifetime class */
  double weight;      /* estimated allocations */
  uint64_t context_id; /* held-out examples: the context; training: 0 */
  uint32_t group;      /* held-out examples: index of the token sequence's group */
};

struct dataset_options {
  uint32_t features;       /* LLAMA_FEAT_* */
  uint32_t max_tokens;     /* keep the innermost tokens */
  double holdout;          /* share of samples held out, 0..0.9 */
  uint32_t min_count;      /* vocabulary: tokens in at least this many examples */
  uint32_t max_vocab;      /* vocabulary cap, reserved ids included */
  uint32_t quantile_ppm;   /* 0: the profiles' own */
  uint64_t seed;
};

struct dataset {
  uint32_t *pool; /* token ids of every example */
  size_t pool_len, pool_cap;
  struct example *train, *heldout;
  size_t ntrain, nheldout;
  /* vocabulary: tokens[id] for id >= LLAMA_TOKEN_FIRST */
  char **tokens;
  uint32_t vocab_size;
  /* exact-context table from the training part: sorted ids, classes */
  uint64_t *ctx_id;
  uint8_t *ctx_class;
  size_t nctx;
  uint32_t default_class, longest_class; /* by training allocations */
  /* Training label of each token-sequence group (LLAMA_IDX_NO_CLASS if it
   * has no training samples): what a perfect model over these tokens would
   * predict for a held-out example (example.group). */
  uint32_t *group_label;
  size_t ngroups;
  uint32_t quantile_ppm;
  /* what went in */
  size_t profiles, contexts;
  uint64_t samples, allocations;
  size_t dropped_tokens; /* token occurrences mapped to <oov> by the cutoffs */
};

/* Loads the profiles and builds the dataset. Returns 0, or -1 with err. */
int dataset_build(struct dataset *ds, const char *const *paths, size_t npaths,
                  const struct dataset_options *opt, char *err, size_t errlen);
void dataset_free(struct dataset *ds);

/* Frames of an indexed-profile context as the encoder wants them. */
struct llama_model_frame;
void dataset_frames(const struct llama_idx_context *c, struct llama_model_frame *out);

/* Weighted accuracy helpers shared with --evaluate. */
struct confusion {
  double w[LLAMA_NUM_CLASSES][LLAMA_NUM_CLASSES]; /* [true][predicted] allocations */
};
void confusion_add(struct confusion *c, unsigned truth, unsigned predicted, double w);
double confusion_accuracy(const struct confusion *c);

#endif
