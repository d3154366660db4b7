/* rng.h -- explicit, seeded random numbers (xoshiro256** seeded by splitmix64).
 *
 * Every random draw in tinybrain comes from a tb_rng that the caller owns and seeds;
 * there is no hidden global state, and the streams are the same on every platform,
 * so a lesson can print the numbers a student should see.  Independent streams for
 * threads or trials: rng_stream(&child, seed, stream_id).
 */
#ifndef TB_RNG_H
#define TB_RNG_H

#include <stdint.h>

typedef struct { uint64_t s[4]; } tb_rng;

void     rng_seed(tb_rng *r, uint64_t seed);
/* A generator for numbered sub-stream `stream` of `seed` (one per thread, file, block):
 * rng_seed(r, rng_child_seed(seed, "", stream)). */
void     rng_stream(tb_rng *r, uint64_t seed, uint64_t stream);
uint64_t rng_u64(tb_rng *r);
uint32_t rng_u32(tb_rng *r);
uint32_t rng_below(tb_rng *r, uint32_t n);   /* uniform integer in [0, n), unbiased */
double   rng_uniform(tb_rng *r);             /* uniform in [0, 1), 53 bits */
float    rng_uniformf(tb_rng *r);            /* uniform in [0, 1), 24 bits */
double   rng_normal(tb_rng *r);              /* standard normal (polar Box-Muller, no cache) */
int      rng_poisson(tb_rng *r, double lambda); /* Poisson count with mean lambda >= 0 */
void     rng_shuffle_int(tb_rng *r, int *a, int n); /* Fisher-Yates */

/* The seed of a child of `seed`: the `index`-th seed for purpose `name` ("trial",
 * "train noise", "scramble", ...; "" for a plain numbered stream, as rng_stream).  Every
 * seed tinybrain derives from a user's --seed comes from here (directly or through
 * rng_stream), so two purposes never share a stream by accident and a reader finds
 * every derivation by searching for these two names. */
uint64_t rng_child_seed(uint64_t seed, const char *name, uint64_t index);

#endif
