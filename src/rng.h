/*
 * rng.h -- the random stream shared by splits and the generator (internal).
 *
 * xoshiro256** seeded through splitmix64: fast, 256 bits of state, and a
 * seed fixes every draw, so splits and generated data are reproducible.
 */
#ifndef CLEARN_RNG_H
#define CLEARN_RNG_H

#include <math.h>
#include <stdint.h>

typedef struct clearn__rng {
  uint64_t s[4];
  double spare; /* second Box-Muller value, or NAN (generator only) */
} clearn__rng;

static inline uint64_t clearn__splitmix64(uint64_t *x) {
  uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

/* The stateless form: splitmix64's step and finalizer applied to z, a
 * bijective 64-bit mix for counter-based hashes (ALS's initial factors,
 * the hash split). */
static inline uint64_t clearn__mix64(uint64_t z) {
  return clearn__splitmix64(&z);
}

static inline void clearn__rng_seed(clearn__rng *r, uint64_t seed) {
  for (int k = 0; k < 4; k++) r->s[k] = clearn__splitmix64(&seed);
  r->spare = NAN;
}

static inline uint64_t clearn__rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

static inline uint64_t clearn__rng_next(clearn__rng *r) {
  uint64_t *s = r->s, out = clearn__rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = clearn__rotl(s[3], 45);
  return out;
}

#endif /* CLEARN_RNG_H */
