/*
 * lstm.h - the network itself: parameter layout, inference, and one
 * example's forward and backward pass for training.
 *
 *   token ids --embedding (V x E)--> LSTM layer 0 (E -> H) [--> layer 1 (H -> H)]
 *   --last hidden state--> dense (H -> C) --> softmax over C lifetime classes
 *
 * Gates are ordered i, f, g, o; c' = f*c + i*g, h' = o*tanh(c'). Every weight
 * matrix is stored input-major (row j holds the weights from input j to all
 * outputs), so both the forward product and the weight gradient are axpy
 * loops over contiguous memory that the compiler vectorises without
 * reassociating floating point: results do not depend on the optimiser.
 *
 * The element type is llama_real: float normally. The gradient check compiles
 * lstm.c a second time with -DLLAMA_REAL=double (never in the same binary).
 */
#ifndef LLAMA_LSTM_H
#define LLAMA_LSTM_H

#include <stddef.h>
#include <stdint.h>

#ifndef LLAMA_REAL
#define LLAMA_REAL float
#endif
typedef LLAMA_REAL llama_real;

/* The splitmix64 finaliser: a bijection on 64-bit values. Every seeded
 * random number of the model code (initialisation, the trainer's sampling
 * and dropout, the held-out split) comes from it, through llama_rand64. */
static inline uint64_t llama_mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* One step of splitmix64 over the state *s. */
static inline uint64_t llama_rand64(uint64_t *s) {
  return llama_mix64(*s += 0x9e3779b97f4a7c15ull);
}

/* classes is at most LLAMA_NUM_CLASSES (buffers on the stack are sized by it). */
struct llama_lstm_dims {
  uint32_t vocab, embed, hidden, layers, classes;
};

/* Offsets (in elements) of each tensor in the flat parameter array. */
struct llama_lstm_layout {
  uint64_t emb;  /* vocab x E */
  uint64_t W[2]; /* layer l: (in_l + H) x 4H, in_0 = E, in_1 = H */
  uint64_t b[2]; /* layer l: 4H */
  uint64_t Wo;   /* H x C */
  uint64_t bo;   /* C */
  uint64_t total;
};

void llama_lstm_layout(const struct llama_lstm_dims *d, struct llama_lstm_layout *l);

/* Deterministic initialisation from seed: embeddings N(0, 0.1^2)-ish,
 * matrices uniform in +-1/sqrt(H), forget-gate biases 1, others 0. */
void llama_lstm_init(const struct llama_lstm_dims *d, llama_real *params, uint64_t seed);

/* Logits of ids[0, n) (n >= 1) into logits[C]. No allocation: state lives on
 * the stack; dimensions must be within the LLAMA_MODEL_MAX_* limits. */
void llama_lstm_infer(const struct llama_lstm_dims *d, const llama_real *params,
                      const uint32_t *ids, size_t n, llama_real *logits);

/* Softmax of logits[C] into probs[C] (may alias). */
void llama_lstm_softmax(const llama_real *logits, llama_real *probs, uint32_t classes);

/* Caches for one training sequence of at most max_len tokens. */
struct llama_lstm_work;
struct llama_lstm_work *llama_lstm_work_new(const struct llama_lstm_dims *d, size_t max_len);
void llama_lstm_work_free(struct llama_lstm_work *w);

/*
 * One training example: forward through ids[0, n) (1 <= n <= max_len), loss
 * = -weight * log p(label), then backpropagation through time, *adding*
 * dloss/dparams into grad (same layout as params; only the embedding rows of
 * ids are touched). probs, if not NULL, receives the softmax. Returns the
 * loss.
 */
double llama_lstm_example(const struct llama_lstm_dims *d, const llama_real *params,
                          const uint32_t *ids, size_t n, unsigned label, double weight,
                          llama_real *grad, struct llama_lstm_work *w, llama_real *probs);

/* Adam over params[lo, hi) with gradient g, moments m and v, step t >= 1. */
struct llama_adam {
  double lr, beta1, beta2, eps;
};
void llama_adam_update(const struct llama_adam *a, uint64_t t, llama_real *params,
                       const llama_real *g, llama_real *m, llama_real *v, uint64_t lo,
                       uint64_t hi);

#endif /* LLAMA_LSTM_H */
