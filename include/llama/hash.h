/*
 * llama/hash.h - the one hash function of LLAMA: FNV-1a, 64 bit. Site and
 * context ids (llama/abi.h, llama_hash_frame), the model's token vocabulary
 * (model/) and the offline tools' tables all use it, so ids computed by the
 * pass, the runtimes and the tools agree. Header-only C (and C++) on
 * <stddef.h> and <stdint.h>.
 */
#ifndef LLAMA_HASH_H
#define LLAMA_HASH_H

#include <stddef.h>
#include <stdint.h>

/* FNV-1a 64: the offset basis (the hash of nothing) and the prime. */
#define LLAMA_HASH_INIT UINT64_C(0xcbf29ce484222325)
#define LLAMA_HASH_PRIME UINT64_C(0x100000001b3)

/* Continues hash h over n bytes at data and returns the new hash. Start
 * with h = LLAMA_HASH_INIT. */
static inline uint64_t llama_hash_bytes(uint64_t h, const void *data, size_t n) {
  const unsigned char *p = (const unsigned char *)data;
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= LLAMA_HASH_PRIME;
  }
  return h;
}

#endif /* LLAMA_HASH_H */
