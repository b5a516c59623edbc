/*
 * llama-train - trains the lifetime LSTM on indexed profiles and evaluates
 * models. docs/model.md is the user guide; docs/design.md §6 the design.
 *
 *   llama-train -o app.llamamodel [options] app.llamaprof...
 *   llama-train --evaluate app.llamamodel run2.llamaprof...
 *   llama-train --info app.llamamodel
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dataset.h"
#include "llama/profdata/indexed.h"
#include "llama/version.h"
#include "llama_model.h"
#include "lstm.h"
#include "trainer.h"

#define TOOL "llama-train"

static int verbose = 1; /* 0: -q, 1: default, 2: -v */

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, TOOL ": error: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(1);
}

static void note(const char *fmt, ...) {
  if (verbose < 1)
    return;
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, TOOL ": ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: " TOOL " -o MODEL [options] PROFILE...\n"
          "       " TOOL " --evaluate MODEL PROFILE...\n"
          "       " TOOL " --info MODEL\n"
          "\n"
          "Trains the lifetime model (an LSTM over the tokens of calling contexts) on\n"
          "indexed profiles from `llama-profdata merge`, and reports its allocation-\n"
          "weighted accuracy on held-out samples next to two baselines.\n"
          "\n"
          "  -o FILE               write the model here (required for training)\n"
          "  --evaluate MODEL      evaluate MODEL on the profiles instead of training\n"
          "  --info MODEL          print a model's dimensions and training notes\n"
          "  --epochs=N            passes over the examples (default 12)\n"
          "  --embed=N             token embedding width (default 32)\n"
          "  --hidden=N            LSTM width (default 32, at most %d)\n"
          "  --layers=N            LSTM layers, 1 or 2 (default 1)\n"
          "  --batch=N             examples per step (default 32)\n"
          "  --lr=X                Adam learning rate, decays to a tenth (default 0.005)\n"
          "  --seed=N              random seed; same seed, same model (default 1)\n"
          "  --threads=N           training threads (default: online CPUs, at most %d)\n"
          "  --holdout=X           share of samples held out for the report (default 0.1)\n"
          "  --max-tokens=N        tokens kept per context, innermost (default 96)\n"
          "  --min-count=N         vocabulary: tokens seen in at least N contexts (default 1)\n"
          "  --max-vocab=N         vocabulary size cap (default 65536)\n"
          "  --features=LIST       context tokens: frame,kind,inlined,line,file or none\n"
          "                        (default frame,kind,inlined)\n"
          "  --sample-power=X      draw examples by allocations^X (default 1)\n"
          "  --token-dropout=X     replace tokens by <oov> at this rate (default 0.05)\n"
          "  --quantile=Q          class rule quantile (default: the profile's)\n"
          "  --progress=WHEN       auto, tty, log or none (default auto)\n"
          "  -q, --quiet           only errors and the evaluation result\n"
          "  -v, --verbose         more detail\n"
          "  --version, --help\n",
          LLAMA_MODEL_MAX_HIDDEN, TRAIN_SHARDS);
}

static unsigned long parse_uint(const char *opt, const char *s, unsigned long lo,
                                unsigned long hi) {
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi)
    die("%s: expected an integer in [%lu, %lu], got '%s'", opt, lo, hi, s);
  return v;
}

static double parse_real(const char *opt, const char *s, double lo, double hi) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || !(v >= lo && v <= hi))
    die("%s: expected a number in [%g, %g], got '%s'", opt, lo, hi, s);
  return v;
}

static uint32_t parse_features(const char *s) {
  if (strcmp(s, "none") == 0)
    return 0;
  uint32_t f = 0;
  char buf[256];
  snprintf(buf, sizeof buf, "%s", s);
  for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    if (strcmp(tok, "frame") == 0)
      f |= LLAMA_FEAT_FRAME_MARK;
    else if (strcmp(tok, "kind") == 0)
      f |= LLAMA_FEAT_KIND;
    else if (strcmp(tok, "file") == 0)
      f |= LLAMA_FEAT_FILE;
    else if (strcmp(tok, "inlined") == 0)
      f |= LLAMA_FEAT_INLINED;
    else if (strcmp(tok, "line") == 0)
      f |= LLAMA_FEAT_LINE;
    else
      die("--features: unknown feature '%s' (frame, kind, inlined, line, file, none)", tok);
  }
  return f;
}

static void features_string(uint32_t f, char *buf, size_t len) {
  snprintf(buf, len, "%s%s%s%s%s", f & LLAMA_FEAT_FRAME_MARK ? "frame," : "",
           f & LLAMA_FEAT_KIND ? "kind," : "", f & LLAMA_FEAT_INLINED ? "inlined," : "",
           f & LLAMA_FEAT_LINE ? "line," : "", f & LLAMA_FEAT_FILE ? "file," : "");
  size_t n = strlen(buf);
  if (n)
    buf[n - 1] = 0;
  else
    snprintf(buf, len, "none");
}

static void human(char *buf, size_t len, double v) {
  if (v >= 1e9)
    snprintf(buf, len, "%.2fG", v / 1e9);
  else if (v >= 1e6)
    snprintf(buf, len, "%.2fM", v / 1e6);
  else if (v >= 1e4)
    snprintf(buf, len, "%.1fk", v / 1e3);
  else
    snprintf(buf, len, "%.0f", v);
}

/* Writes buf to path through a temporary file and rename. */
static void write_atomic(const char *path, const void *buf, size_t len) {
  char tmp[PATH_MAX];
  if (snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof tmp)
    die("%s: path too long", path);
  FILE *f = fopen(tmp, "wb");
  if (!f)
    die("%s: %s", tmp, strerror(errno));
  if (fwrite(buf, 1, len, f) != len || fflush(f) || fsync(fileno(f))) {
    int e = errno;
    fclose(f);
    unlink(tmp);
    die("%s: write failed: %s", path, strerror(e));
  }
  if (fclose(f) || rename(tmp, path)) {
    int e = errno;
    unlink(tmp);
    die("%s: %s", path, strerror(e));
  }
}

/* Per-class table and the accuracy line. */
static void print_report(const struct confusion *c) {
  double total = 0;
  for (unsigned t = 0; t < LLAMA_NUM_CLASSES; t++)
    for (unsigned p = 0; p < LLAMA_NUM_CLASSES; p++)
      total += c->w[t][p];
  printf("class          allocations  precision  recall\n");
  for (unsigned k = 0; k < LLAMA_NUM_CLASSES; k++) {
    double truth = 0, predicted = 0;
    for (unsigned j = 0; j < LLAMA_NUM_CLASSES; j++) {
      truth += c->w[k][j];
      predicted += c->w[j][k];
    }
    if (truth == 0 && predicted == 0)
      continue;
    char prec[16] = "-", rec[16] = "-";
    if (predicted > 0)
      snprintf(prec, sizeof prec, "%.1f%%", 100.0 * c->w[k][k] / predicted);
    if (truth > 0)
      snprintf(rec, sizeof rec, "%.1f%%", 100.0 * c->w[k][k] / truth);
    printf("%d %-9s %14.1f%% %10s %7s\n", k, llama_class_name(k), total > 0 ? 100.0 * truth / total : 0,
           prec, rec);
  }
}

/* ---- scoring: the model and the two baselines, side by side ---- */

struct scores {
  struct confusion model, table, longest;
  double allocations, known_allocations;
  size_t contexts, known;
};

/* One context of true class `truth` and `w` allocations, which the model
 * predicted as `predicted`. The exact-context table answers from m's table
 * (the commonest training class when it does not know the context). */
static void score(struct scores *s, const struct llama_model *m, uint64_t context_id,
                  unsigned truth, unsigned predicted, double w) {
  int looked = llama_model_lookup_context(m, context_id);
  s->contexts++;
  s->allocations += w;
  if (looked >= 0) {
    s->known++;
    s->known_allocations += w;
  }
  confusion_add(&s->model, truth, predicted, w);
  confusion_add(&s->table, truth, looked >= 0 ? (unsigned)looked : m->default_class, w);
  confusion_add(&s->longest, truth, m->longest_class, w);
}

/* ---- --info ---- */

static int cmd_info(const char *path) {
  void *buf;
  size_t len;
  char err[512];
  struct llama_model m;
  if (llama_model_read_file(path, &buf, &len, err, sizeof err) ||
      llama_model_open(buf, len, path, &m, err, sizeof err))
    die("%s", err);
  char feat[64];
  features_string(m.features, feat, sizeof feat);
  printf("model: %s (%zu bytes)\n", path, len);
  printf("dimensions: vocabulary %u, embed %u, hidden %u, layers %u, parameters %llu\n",
         m.vocab_size, m.embed, m.hidden, m.layers, (unsigned long long)m.param_count);
  printf("features: %s; max tokens %u\n", feat, m.max_tokens);
  printf("default class %u, longest class %u, exact contexts %llu\n", m.default_class,
         m.longest_class, (unsigned long long)m.ctx_count);
  fputs(m.meta, stdout);
  free(buf);
  return 0;
}

/* ---- --evaluate ---- */

static int cmd_evaluate(const char *model_path, char **profiles, int nprofiles) {
  void *buf;
  size_t len;
  char err[512];
  struct llama_model m;
  if (llama_model_read_file(model_path, &buf, &len, err, sizeof err) ||
      llama_model_open(buf, len, model_path, &m, err, sizeof err))
    die("%s", err);
  struct scores sc = {0};
  struct llama_model_frame *frames = NULL;
  size_t frame_cap = 0;
  uint32_t ids[LLAMA_MODEL_MAX_TOKENS];
  for (int i = 0; i < nprofiles; i++) {
    struct llama_idx *idx = llama_idx_read_file(profiles[i], err, sizeof err);
    if (!idx)
      die("%s", err);
    for (size_t si = 0; si < llama_idx_site_count(idx); si++) {
      const struct llama_idx_site *s = llama_idx_site_at(idx, si);
      for (uint32_t ci = 0; ci < s->context_count; ci++) {
        const struct llama_idx_context *c = &s->contexts[ci];
        if (c->samples == 0 || c->lifetime_class >= LLAMA_NUM_CLASSES)
          continue;
        if (c->frame_count + 1 > frame_cap) {
          frame_cap = c->frame_count + 64;
          frames = realloc(frames, frame_cap * sizeof *frames);
          if (!frames)
            die("out of memory");
        }
        dataset_frames(c, frames);
        size_t n = llama_model_encode(&m, frames, c->frame_count, s->kind, ids,
                                      LLAMA_MODEL_MAX_TOKENS);
        unsigned predicted = llama_model_predict(&m, ids, n, NULL);
        score(&sc, &m, c->context_id, c->lifetime_class, predicted, (double)c->calls);
        if (verbose >= 2 && predicted != c->lifetime_class) {
          fprintf(stderr, TOOL ": miss: context 0x%016llx class %u predicted %u (%s):",
                  (unsigned long long)c->context_id, c->lifetime_class, predicted, s->function);
          for (size_t t = 0; t < n; t++)
            fprintf(stderr, " %s", llama_model_token_string(&m, ids[t]));
          fprintf(stderr, "\n");
        }
      }
    }
    llama_idx_free(idx);
  }
  free(frames);
  if (sc.contexts == 0)
    die("no sampled contexts with a class in the profiles");
  char a[32];
  human(a, sizeof a, sc.allocations);
  if (verbose >= 1)
    printf("evaluated %s on %zu contexts, %s allocations, from %d profile%s\n", model_path,
           sc.contexts, a, nprofiles, nprofiles == 1 ? "" : "s");
  print_report(&sc.model);
  printf("baseline exact-context table: %.1f%% (knows %zu of %zu contexts, %.1f%% of allocations)\n",
         100.0 * confusion_accuracy(&sc.table), sc.known, sc.contexts,
         sc.allocations > 0 ? 100.0 * sc.known_allocations / sc.allocations : 0);
  printf("baseline always-longest (class %u): %.1f%%\n", m.longest_class,
         100.0 * confusion_accuracy(&sc.longest));
  printf("weighted accuracy: %.1f%%\n", 100.0 * confusion_accuracy(&sc.model));
  free(buf);
  return 0;
}

/* ---- training ---- */

int main(int argc, char **argv) {
  struct dataset_options dopt = {
      .features = LLAMA_FEAT_FRAME_MARK | LLAMA_FEAT_KIND | LLAMA_FEAT_INLINED,
      .max_tokens = 96,
      .holdout = 0.1,
      .min_count = 1,
      .max_vocab = 65536,
      .seed = 1,
  };
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  struct train_options topt = {
      .embed = 32,
      .hidden = 32,
      .layers = 1,
      .epochs = 12,
      .batch = 32,
      .threads = ncpu < 1 ? 1 : ncpu > TRAIN_SHARDS ? TRAIN_SHARDS : (uint32_t)ncpu,
      .min_epoch_draws = 4096,
      .lr = 0.005,
      .sample_power = 1.0,
      .token_dropout = 0.05,
      .clip = 5.0,
      .seed = 1,
  };
  const char *out = NULL, *evaluate = NULL, *info = NULL, *progress = "auto";
  enum {
    O_EPOCHS = 256, O_EMBED, O_HIDDEN, O_LAYERS, O_BATCH, O_LR, O_SEED, O_THREADS, O_HOLDOUT,
    O_MAXTOK, O_MINCOUNT, O_MAXVOCAB, O_FEATURES, O_POWER, O_DROPOUT, O_QUANTILE, O_PROGRESS,
    O_EVALUATE, O_INFO, O_VERSION, O_HELP
  };
  static const struct option longopts[] = {
      {"epochs", required_argument, 0, O_EPOCHS},
      {"embed", required_argument, 0, O_EMBED},
      {"hidden", required_argument, 0, O_HIDDEN},
      {"layers", required_argument, 0, O_LAYERS},
      {"batch", required_argument, 0, O_BATCH},
      {"lr", required_argument, 0, O_LR},
      {"seed", required_argument, 0, O_SEED},
      {"threads", required_argument, 0, O_THREADS},
      {"holdout", required_argument, 0, O_HOLDOUT},
      {"max-tokens", required_argument, 0, O_MAXTOK},
      {"min-count", required_argument, 0, O_MINCOUNT},
      {"max-vocab", required_argument, 0, O_MAXVOCAB},
      {"features", required_argument, 0, O_FEATURES},
      {"sample-power", required_argument, 0, O_POWER},
      {"token-dropout", required_argument, 0, O_DROPOUT},
      {"quantile", required_argument, 0, O_QUANTILE},
      {"progress", required_argument, 0, O_PROGRESS},
      {"evaluate", required_argument, 0, O_EVALUATE},
      {"info", required_argument, 0, O_INFO},
      {"quiet", no_argument, 0, 'q'},
      {"verbose", no_argument, 0, 'v'},
      {"version", no_argument, 0, O_VERSION},
      {"help", no_argument, 0, O_HELP},
      {0, 0, 0, 0},
  };
  int c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "o:qvh", longopts, NULL)) != -1) {
    switch (c) {
    case 'o': out = optarg; break;
    case 'q': verbose = 0; break;
    case 'v': verbose = 2; break;
    case O_EPOCHS: topt.epochs = (uint32_t)parse_uint("--epochs", optarg, 1, 100000); break;
    case O_EMBED: topt.embed = (uint32_t)parse_uint("--embed", optarg, 1, LLAMA_MODEL_MAX_EMBED); break;
    case O_HIDDEN: topt.hidden = (uint32_t)parse_uint("--hidden", optarg, 1, LLAMA_MODEL_MAX_HIDDEN); break;
    case O_LAYERS: topt.layers = (uint32_t)parse_uint("--layers", optarg, 1, LLAMA_MODEL_MAX_LAYERS); break;
    case O_BATCH: topt.batch = (uint32_t)parse_uint("--batch", optarg, 1, 4096); break;
    case O_LR: topt.lr = parse_real("--lr", optarg, 1e-6, 1.0); break;
    case O_SEED: topt.seed = dopt.seed = parse_uint("--seed", optarg, 0, ULONG_MAX); break;
    case O_THREADS: topt.threads = (uint32_t)parse_uint("--threads", optarg, 1, TRAIN_SHARDS); break;
    case O_HOLDOUT: dopt.holdout = parse_real("--holdout", optarg, 0, 0.9); break;
    case O_MAXTOK: dopt.max_tokens = (uint32_t)parse_uint("--max-tokens", optarg, 1, LLAMA_MODEL_MAX_TOKENS); break;
    case O_MINCOUNT: dopt.min_count = (uint32_t)parse_uint("--min-count", optarg, 1, UINT32_MAX); break;
    case O_MAXVOCAB: dopt.max_vocab = (uint32_t)parse_uint("--max-vocab", optarg, LLAMA_TOKEN_FIRST, LLAMA_MODEL_MAX_VOCAB); break;
    case O_FEATURES: dopt.features = parse_features(optarg); break;
    case O_POWER: topt.sample_power = parse_real("--sample-power", optarg, 0, 1); break;
    case O_DROPOUT: topt.token_dropout = parse_real("--token-dropout", optarg, 0, 0.5); break;
    case O_QUANTILE: dopt.quantile_ppm = (uint32_t)(parse_real("--quantile", optarg, 0.01, 1) * 1e6 + 0.5); break;
    case O_PROGRESS:
      if (strcmp(optarg, "auto") && strcmp(optarg, "tty") && strcmp(optarg, "log") && strcmp(optarg, "none"))
        die("--progress: expected auto, tty, log or none, got '%s'", optarg);
      progress = optarg;
      break;
    case O_EVALUATE: evaluate = optarg; break;
    case O_INFO: info = optarg; break;
    case O_VERSION: printf(TOOL " " LLAMA_VERSION_STRING " (model format %d)\n", LLAMA_MODEL_VERSION); return 0;
    case 'h':
    case O_HELP: usage(stdout); return 0;
    default:
      if (optopt)
        die("unknown or incomplete option '-%c' (see --help)", optopt);
      die("unknown or incomplete option '%s' (see --help)", argv[optind - 1]);
    }
  }
  if (info)
    return cmd_info(info);
  if (optind >= argc) {
    usage(stderr);
    die("no profiles given");
  }
  if (evaluate)
    return cmd_evaluate(evaluate, argv + optind, argc - optind);
  if (!out)
    die("no output file: use -o MODEL (or --evaluate MODEL)");

  char err[512];
  struct dataset ds;
  if (dataset_build(&ds, (const char *const *)(argv + optind), (size_t)(argc - optind), &dopt, err,
                    sizeof err))
    die("%s", err);
  char a[32], feat[64];
  human(a, sizeof a, (double)ds.allocations);
  features_string(dopt.features, feat, sizeof feat);
  note("%zu profile%s: %zu contexts, %llu samples, %s allocations; %zu training sequences, "
       "vocabulary %u tokens (features %s)",
       ds.profiles, ds.profiles == 1 ? "" : "s", ds.contexts, (unsigned long long)ds.samples, a,
       ds.ntrain, ds.vocab_size, feat);

  if (strcmp(progress, "auto") == 0)
    topt.progress = verbose < 1 ? 0 : isatty(2) ? 2 : 1;
  else
    topt.progress = strcmp(progress, "tty") == 0 ? 2 : strcmp(progress, "log") == 0 ? 1 : 0;
  struct train_result res;
  if (train_model(&ds, &topt, &res, err, sizeof err))
    die("%s", err);
  note("trained %u epochs (%llu steps) in %.1f s: loss %.4f", topt.epochs,
       (unsigned long long)res.steps, res.seconds, res.final_loss);

  /* The model file. Nothing in it depends on the clock or the thread count:
   * the same profiles, options and seed give the same bytes. Its notes end
   * with the held-out report, which is made with the model as written
   * (llama_model_open, llama_model_predict, its context table): it is
   * serialised once without the report, then again with it. */
  char meta[2048];
  int mn = snprintf(meta, sizeof meta,
                    "tool=" TOOL " " LLAMA_VERSION_STRING "\nseed=%llu\nepochs=%u\nbatch=%u\nlr=%g\n"
                    "sample_power=%g\ntoken_dropout=%g\nquantile_ppm=%u\ncontexts=%zu\n"
                    "training_sequences=%zu\nsamples=%llu\n",
                    (unsigned long long)topt.seed, topt.epochs, topt.batch, topt.lr,
                    topt.sample_power, topt.token_dropout, ds.quantile_ppm, ds.contexts, ds.ntrain,
                    (unsigned long long)ds.samples);
  struct llama_model_desc desc = {
      .features = dopt.features,
      .embed = topt.embed,
      .hidden = topt.hidden,
      .layers = topt.layers,
      .max_tokens = dopt.max_tokens,
      .default_class = ds.default_class,
      .longest_class = ds.longest_class,
      .vocab_size = ds.vocab_size,
      .tokens = (const char *const *)ds.tokens,
      .params = res.params,
      .ctx_id = ds.ctx_id,
      .ctx_class = ds.ctx_class,
      .ctx_count = ds.nctx,
      .meta = meta,
  };
  void *file;
  size_t file_len;
  if (llama_model_serialize(&desc, &file, &file_len, err, sizeof err))
    die("%s: %s", out, err);

  /* Held-out report: the model and the two baselines, and the ceiling that
   * token-identical contexts impose. */
  if (ds.nheldout > 0) {
    struct llama_model m;
    unsigned *pred = malloc(ds.nheldout * sizeof *pred);
    if (!pred)
      die("out of memory");
    if (llama_model_open(file, file_len, out, &m, err, sizeof err))
      die("%s", err);
    predict_examples(&m, ds.pool, ds.heldout, ds.nheldout, topt.threads, pred);
    struct scores sc = {0};
    struct confusion ceiling = {{{0}}};
    for (size_t i = 0; i < ds.nheldout; i++) {
      const struct example *e = &ds.heldout[i];
      score(&sc, &m, e->context_id, e->label, pred[i], e->weight);
      unsigned g = ds.group_label[e->group];
      confusion_add(&ceiling, e->label, g < LLAMA_NUM_CLASSES ? g : ds.default_class, e->weight);
    }
    free(pred);
    char report[512];
    snprintf(report, sizeof report,
             "held-out %.0f%% of samples (%zu contexts): model %.1f%%, exact-context table %.1f%%, "
             "always-longest (class %u) %.1f%%",
             100 * dopt.holdout, ds.nheldout, 100 * confusion_accuracy(&sc.model),
             100 * confusion_accuracy(&sc.table), ds.longest_class,
             100 * confusion_accuracy(&sc.longest));
    note("%s", report);
    note("contexts the tokens cannot tell apart limit any model to %.1f%% here "
         "(--features=...,line may separate them)",
         100 * confusion_accuracy(&ceiling));
    if (verbose >= 2)
      print_report(&sc.model);
    if (mn > 0 && (size_t)mn < sizeof meta)
      snprintf(meta + mn, sizeof meta - (size_t)mn, "%s\n", report);
    free(file);
    if (llama_model_serialize(&desc, &file, &file_len, err, sizeof err))
      die("%s: %s", out, err);
  } else {
    note("no held-out samples (--holdout=0 or too few samples): no accuracy report");
  }
  write_atomic(out, file, file_len);
  human(a, sizeof a, (double)file_len);
  note("wrote %s (%sB, %llu parameters)", out, a, (unsigned long long)res.nparams);
  free(file);
  free(res.params);
  dataset_free(&ds);
  return 0;
}
