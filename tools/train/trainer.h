/*
 * trainer.h - minibatch training of the lifetime LSTM.
 *
 * Each step draws `batch` examples with probability proportional to
 * weight^sample_power (1: exactly allocation-weighted; smaller values let
 * rare contexts be seen more often), replaces tokens with <oov> at rate
 * token_dropout (so the <oov> embedding learns something), runs forward and
 * backward passes in parallel, clips the gradient's global norm, and takes
 * one Adam step with a linearly decaying learning rate.
 *
 * Deterministic for a seed and independent of the thread count: a batch is
 * cut into TRAIN_SHARDS fixed shards, each accumulating its own gradient,
 * summed in shard order; threads only decide who computes which shard.
 */
#ifndef LLAMA_TRAIN_TRAINER_H
#define LLAMA_TRAIN_TRAINER_H

#include <stdint.h>

#include "dataset.h"
#include "lstm.h"

#define TRAIN_SHARDS 4

struct train_options {
  uint32_t embed, hidden, layers;
  uint32_t epochs, batch, threads;
  uint32_t min_epoch_draws; /* an epoch draws max(examples, this) */
  double lr, sample_power, token_dropout, clip;
  uint64_t seed;
  int progress; /* 0: quiet, 1: a line per few epochs, 2: live terminal line */
};

struct train_result {
  float *params; /* malloc'ed, llama_model_param_count() floats */
  uint64_t nparams, steps;
  double seconds, final_loss, final_accuracy; /* last epoch, on drawn examples */
};

int train_model(const struct dataset *ds, const struct train_options *opt,
                struct train_result *res, char *err, size_t errlen);

/* pred[i] = the class model m predicts for examples[i] (the same
 * llama_model_predict the runtime calls), using `threads` threads. */
struct llama_model;
void predict_examples(const struct llama_model *m, const uint32_t *pool,
                      const struct example *examples, size_t n, unsigned threads, unsigned *pred);

#endif
