/* rng.c -- xoshiro256** (Blackman & Vigna 2018) seeded through splitmix64.
 * Lesson 00 explains why every run is seeded.  See include/rng.h. */
#include "rng.h"
#include <math.h>

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void rng_seed(tb_rng *r, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

uint64_t rng_child_seed(uint64_t seed, const char *name, uint64_t index) {
    /* The name is folded into the parent (FNV-1a; "" folds nothing), then parent and
     * index go through splitmix64 apart so that nearby indices give unrelated seeds. */
    uint64_t h = 0;
    if (name && *name) {
        h = 0xCBF29CE484222325ull;
        for (const unsigned char *p = (const unsigned char *)name; *p; p++) h = (h ^ *p) * 0x100000001B3ull;
    }
    uint64_t x = (seed ^ h) ^ 0x5851F42D4C957F2Dull;
    uint64_t a = splitmix64(&x);
    x = index + 0x14057B7EF767814Full;
    uint64_t b = splitmix64(&x);
    return a ^ rotl(b, 17);
}

void rng_stream(tb_rng *r, uint64_t seed, uint64_t stream) { rng_seed(r, rng_child_seed(seed, "", stream)); }

uint64_t rng_u64(tb_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint32_t rng_u32(tb_rng *r) { return (uint32_t)(rng_u64(r) >> 32); }

uint32_t rng_below(tb_rng *r, uint32_t n) {
    /* Lemire's multiply-and-reject: unbiased without a division in the common case. */
    if (n == 0) return 0;
    uint64_t m = (uint64_t)rng_u32(r) * n;
    uint32_t lo = (uint32_t)m;
    if (lo < n) {
        uint32_t threshold = (uint32_t)(-n) % n;
        while (lo < threshold) { m = (uint64_t)rng_u32(r) * n; lo = (uint32_t)m; }
    }
    return (uint32_t)(m >> 32);
}

double rng_uniform(tb_rng *r) { return (double)(rng_u64(r) >> 11) * 0x1.0p-53; }
float rng_uniformf(tb_rng *r) { return (float)(rng_u64(r) >> 40) * 0x1.0p-24f; }

double rng_normal(tb_rng *r) {
    /* Marsaglia polar method; draws pairs and keeps one so the stream has no cache. */
    double u, v, s;
    do {
        u = 2.0 * rng_uniform(r) - 1.0;
        v = 2.0 * rng_uniform(r) - 1.0;
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    return u * sqrt(-2.0 * log(s) / s);
}

int rng_poisson(tb_rng *r, double lambda) {
    if (!(lambda > 0)) return 0;
    if (lambda < 30.0) {
        /* Knuth: multiply uniforms until the product drops below e^-lambda. */
        double L = exp(-lambda), p = 1.0;
        int k = 0;
        do { k++; p *= rng_uniform(r); } while (p > L);
        return k - 1;
    }
    /* Large means: PTRS transformed rejection (Hormann 1993). */
    double slam = sqrt(lambda), loglam = log(lambda);
    double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
    double invalpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
        double U = rng_uniform(r) - 0.5, V = rng_uniform(r);
        double us = 0.5 - fabs(U);
        double k = floor((2 * a / us + b) * U + lambda + 0.43);
        if (us >= 0.07 && V <= vr) return (int)k;
        if (k < 0 || (us < 0.013 && V > us)) continue;
        if (log(V) + log(invalpha) - log(a / (us * us) + b) <=
            -lambda + k * loglam - lgamma(k + 1))
            return (int)k;
    }
}

void rng_shuffle_int(tb_rng *r, int *a, int n) {
    for (int i = n - 1; i > 0; i--) {
        int j = (int)rng_below(r, (uint32_t)i + 1);
        int t = a[i]; a[i] = a[j]; a[j] = t;
    }
}
