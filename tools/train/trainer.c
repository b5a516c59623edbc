/*
 * trainer.c - the training loop (see trainer.h).
 */
#include "trainer.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "llama_model.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double unit(uint64_t *s) {
  return (double)(llama_rand64(s) >> 11) * 0x1p-53;
}

static void format_duration(char *buf, size_t len, double s) {
  if (s < 60)
    snprintf(buf, len, "%.0fs", s);
  else if (s < 3600)
    snprintf(buf, len, "%dm%02ds", (int)s / 60, (int)s % 60);
  else
    snprintf(buf, len, "%dh%02dm", (int)s / 3600, (int)s % 3600 / 60);
}

/* ---- one batch, in parallel ---- */

struct shard {
  float *grad;
  struct llama_lstm_work *work;
  uint32_t *ids; /* the example's tokens after dropout */
  double loss, correct;
};

struct batch {
  const struct dataset *ds;
  const struct train_options *opt;
  const struct llama_lstm_dims *dims;
  const float *params;
  const uint32_t *slots; /* example index per slot */
  uint32_t nslots;
  uint64_t step;
  struct shard *shards;
  unsigned threads;
};

struct worker {
  struct batch *b;
  unsigned tid;
};

static void run_shard(struct batch *b, unsigned s) {
  struct shard *sh = &b->shards[s];
  for (uint32_t j = s; j < b->nslots; j += TRAIN_SHARDS) {
    const struct example *e = &b->ds->train[b->slots[j]];
    const uint32_t *src = b->ds->pool + e->off;
    uint64_t rng = llama_mix64(b->opt->seed ^ llama_mix64(b->step * 1000003u + j));
    for (uint32_t t = 0; t < e->len; t++)
      sh->ids[t] = (b->opt->token_dropout > 0 && src[t] >= LLAMA_TOKEN_FIRST &&
                    unit(&rng) < b->opt->token_dropout)
                       ? LLAMA_TOKEN_OOV
                       : src[t];
    float probs[LLAMA_NUM_CLASSES];
    sh->loss += llama_lstm_example(b->dims, b->params, sh->ids, e->len, e->label,
                                   1.0 / b->nslots, sh->grad, sh->work, probs);
    unsigned best = 0;
    for (unsigned k = 1; k < LLAMA_NUM_CLASSES; k++)
      if (probs[k] > probs[best])
        best = k;
    sh->correct += best == e->label;
  }
}

static void *worker_main(void *arg) {
  struct worker *w = arg;
  for (unsigned s = w->tid; s < TRAIN_SHARDS; s += w->b->threads)
    run_shard(w->b, s);
  return NULL;
}

static void run_batch(struct batch *b) {
  pthread_t th[TRAIN_SHARDS];
  struct worker w[TRAIN_SHARDS];
  int started[TRAIN_SHARDS] = {0};
  for (unsigned t = 0; t < b->threads; t++) {
    w[t] = (struct worker){b, t};
    if (t > 0)
      started[t] = pthread_create(&th[t], NULL, worker_main, &w[t]) == 0;
  }
  worker_main(&w[0]);
  for (unsigned t = 1; t < b->threads; t++) {
    if (started[t])
      pthread_join(th[t], NULL);
    else
      worker_main(&w[t]); /* could not start it: its shards run here */
  }
}

/* ---- held-out predictions ---- */

struct predict_job {
  const struct llama_model *m;
  const uint32_t *pool;
  const struct example *ex;
  size_t lo, hi;
  unsigned *pred;
};

static void *predict_main(void *arg) {
  struct predict_job *j = arg;
  for (size_t i = j->lo; i < j->hi; i++)
    j->pred[i] = llama_model_predict(j->m, j->pool + j->ex[i].off, j->ex[i].len, NULL);
  return NULL;
}

void predict_examples(const struct llama_model *m, const uint32_t *pool,
                      const struct example *examples, size_t n, unsigned threads, unsigned *pred) {
  enum { MAXT = 16 };
  struct predict_job jobs[MAXT];
  pthread_t th[MAXT];
  int started[MAXT] = {0};
  if (threads < 1)
    threads = 1;
  if (threads > MAXT)
    threads = MAXT;
  for (unsigned t = 0; t < threads; t++) {
    jobs[t] = (struct predict_job){m, pool, examples, n * t / threads, n * (t + 1) / threads, pred};
    if (t > 0)
      started[t] = pthread_create(&th[t], NULL, predict_main, &jobs[t]) == 0;
  }
  predict_main(&jobs[0]);
  for (unsigned t = 1; t < threads; t++) {
    if (started[t])
      pthread_join(th[t], NULL);
    else
      predict_main(&jobs[t]);
  }
}

/* ---- the loop ---- */

int train_model(const struct dataset *ds, const struct train_options *opt,
                struct train_result *res, char *err, size_t errlen) {
  memset(res, 0, sizeof *res);
  struct llama_lstm_dims d = {ds->vocab_size, opt->embed, opt->hidden, opt->layers,
                              LLAMA_NUM_CLASSES};
  struct llama_lstm_layout l;
  llama_lstm_layout(&d, &l);
  uint64_t P = l.total, emb_end = l.emb + (uint64_t)d.vocab * d.embed;
  uint32_t max_len = 1;
  for (size_t i = 0; i < ds->ntrain; i++)
    if (ds->train[i].len > max_len)
      max_len = ds->train[i].len;

  float *params = malloc(P * sizeof *params), *m = calloc(P, sizeof *m), *v = calloc(P, sizeof *v);
  double *cdf = malloc(ds->ntrain * sizeof *cdf);
  uint32_t *slots = malloc(opt->batch * sizeof *slots);
  uint32_t *touched = malloc((size_t)opt->batch * max_len * sizeof *touched);
  uint32_t *stamp = calloc(d.vocab, sizeof *stamp);
  struct shard shards[TRAIN_SHARDS] = {{0}};
  int ok = params && m && v && cdf && slots && touched && stamp;
  for (unsigned s = 0; s < TRAIN_SHARDS && ok; s++) {
    shards[s].grad = calloc(P, sizeof(float));
    shards[s].work = llama_lstm_work_new(&d, max_len);
    shards[s].ids = malloc(max_len * sizeof(uint32_t));
    ok = shards[s].grad && shards[s].work && shards[s].ids;
  }
  if (!ok) {
    snprintf(err, errlen, "out of memory for a model of %llu parameters",
             (unsigned long long)P);
    goto fail;
  }
  llama_lstm_init(&d, params, opt->seed);

  /* Sampling distribution: weight^power, as a cumulative sum. */
  double total = 0;
  for (size_t i = 0; i < ds->ntrain; i++)
    cdf[i] = total += pow(ds->train[i].weight, opt->sample_power);

  uint64_t draws = ds->ntrain > opt->min_epoch_draws ? ds->ntrain : opt->min_epoch_draws;
  uint64_t steps_per_epoch = (draws + opt->batch - 1) / opt->batch;
  uint64_t total_steps = steps_per_epoch * opt->epochs, step = 0;
  uint64_t rng = llama_mix64(opt->seed ^ 0x747261696eull);
  struct llama_adam adam = {opt->lr, 0.9, 0.999, 1e-8};
  double start = now_s(), last_print = 0;
  unsigned threads = opt->threads < 1 ? 1 : opt->threads > TRAIN_SHARDS ? TRAIN_SHARDS : opt->threads;
  unsigned print_every = opt->epochs > 20 ? (opt->epochs + 19) / 20 : 1;

  for (uint32_t epoch = 0; epoch < opt->epochs; epoch++) {
    double eloss = 0, ecorrect = 0, eslots = 0;
    for (uint64_t es = 0; es < steps_per_epoch; es++, step++) {
      /* Draw the batch. */
      for (uint32_t j = 0; j < opt->batch; j++) {
        double u = unit(&rng) * total;
        size_t lo = 0, hi = ds->ntrain - 1;
        while (lo < hi) {
          size_t mid = (lo + hi) / 2;
          if (cdf[mid] <= u)
            lo = mid + 1;
          else
            hi = mid;
        }
        slots[j] = (uint32_t)lo;
      }
      for (unsigned s = 0; s < TRAIN_SHARDS; s++)
        shards[s].loss = shards[s].correct = 0;
      struct batch b = {ds, opt, &d, params, slots, opt->batch, step, shards, threads};
      run_batch(&b);

      /* Embedding rows the batch used. */
      size_t ntouched = 0;
      for (uint32_t j = 0; j < opt->batch; j++) {
        const struct example *e = &ds->train[slots[j]];
        for (uint32_t t = 0; t < e->len; t++) {
          uint32_t id = ds->pool[e->off + t];
          if (stamp[id] != step + 1) {
            stamp[id] = (uint32_t)(step + 1);
            touched[ntouched++] = id;
          }
        }
        if (stamp[LLAMA_TOKEN_OOV] != step + 1 && opt->token_dropout > 0) {
          stamp[LLAMA_TOKEN_OOV] = (uint32_t)(step + 1);
          touched[ntouched++] = LLAMA_TOKEN_OOV;
        }
      }
      /* Sum the shards in order into shard 0, over the dense part and the
       * touched rows; then clip by the global norm. */
      float *g = shards[0].grad;
      double norm2 = 0;
      for (unsigned s = 1; s < TRAIN_SHARDS; s++)
        for (uint64_t i = emb_end; i < P; i++)
          g[i] += shards[s].grad[i];
      for (uint64_t i = emb_end; i < P; i++)
        norm2 += (double)g[i] * g[i];
      for (size_t r = 0; r < ntouched; r++) {
        uint64_t row = l.emb + (uint64_t)touched[r] * d.embed;
        for (unsigned s = 1; s < TRAIN_SHARDS; s++)
          for (uint64_t i = row; i < row + d.embed; i++)
            g[i] += shards[s].grad[i];
        for (uint64_t i = row; i < row + d.embed; i++)
          norm2 += (double)g[i] * g[i];
      }
      double norm = sqrt(norm2);
      float scale = norm > opt->clip ? (float)(opt->clip / norm) : 1.0f;
      if (scale != 1.0f) {
        for (uint64_t i = emb_end; i < P; i++)
          g[i] *= scale;
        for (size_t r = 0; r < ntouched; r++)
          for (uint64_t i = 0; i < d.embed; i++)
            g[l.emb + (uint64_t)touched[r] * d.embed + i] *= scale;
      }
      /* Adam: dense part fully, embeddings lazily (touched rows only). */
      adam.lr = opt->lr * (1.0 - 0.9 * (double)step / (double)total_steps);
      llama_adam_update(&adam, step + 1, params, g, m, v, emb_end, P);
      for (size_t r = 0; r < ntouched; r++) {
        uint64_t row = l.emb + (uint64_t)touched[r] * d.embed;
        llama_adam_update(&adam, step + 1, params, g, m, v, row, row + d.embed);
      }
      for (unsigned s = 0; s < TRAIN_SHARDS; s++) {
        memset(shards[s].grad + emb_end, 0, (P - emb_end) * sizeof(float));
        for (size_t r = 0; r < ntouched; r++)
          memset(shards[s].grad + l.emb + (uint64_t)touched[r] * d.embed, 0,
                 d.embed * sizeof(float));
        eloss += shards[s].loss;
        ecorrect += shards[s].correct;
      }
      eslots += opt->batch;

      if (opt->progress == 2) {
        double t = now_s();
        if (t - last_print > 0.25 || step + 1 == total_steps) {
          last_print = t;
          double done = (double)(step + 1) / (double)total_steps, el = t - start;
          char eta[32];
          format_duration(eta, sizeof eta, el / done - el);
          fprintf(stderr, "\r\033[Kllama-train: epoch %u/%u %3.0f%%  loss %.4f  accuracy %.1f%%  %s left",
                  epoch + 1, opt->epochs, 100.0 * done, eloss / (es + 1),
                  100.0 * ecorrect / eslots, eta);
        }
      }
    }
    res->final_loss = eloss / (double)steps_per_epoch;
    res->final_accuracy = ecorrect / eslots;
    if (opt->progress == 1 && ((epoch + 1) % print_every == 0 || epoch + 1 == opt->epochs)) {
      double el = now_s() - start;
      char eta[32];
      format_duration(eta, sizeof eta, el / (epoch + 1) * (opt->epochs - epoch - 1));
      fprintf(stderr, "llama-train: epoch %u/%u: loss %.4f, accuracy %.1f%% (%.1fs, %s left)\n",
              epoch + 1, opt->epochs, res->final_loss, 100.0 * res->final_accuracy, el, eta);
    }
  }
  if (opt->progress == 2)
    fprintf(stderr, "\n");
  res->seconds = now_s() - start;
  res->steps = step;
  res->params = params;
  res->nparams = P;
  params = NULL;
  ok = 1;
  goto out;
fail:
  ok = 0;
out:
  for (unsigned s = 0; s < TRAIN_SHARDS; s++) {
    free(shards[s].grad);
    llama_lstm_work_free(shards[s].work);
    free(shards[s].ids);
  }
  free(params);
  free(m);
  free(v);
  free(cdf);
  free(slots);
  free(touched);
  free(stamp);
  return ok ? 0 : -1;
}
