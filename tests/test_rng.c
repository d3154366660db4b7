/* test_rng.c -- the generator every random draw in tinybrain comes from.
 * The first outputs are checked against an independent transcription of the published
 * algorithms (splitmix64 seeding, xoshiro256** step), including splitmix64's well-known
 * first output for state 0 (0xe220a8397b1dcdaf); the distributions are checked by their
 * moments with tolerances of about 5 standard errors. */
#include "rng.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static uint64_t ref_splitmix(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static uint64_t ref_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static void known_outputs(void **state) {
    (void)state;
    uint64_t x = 0;
    assert_true(ref_splitmix(&x) == 0xe220a8397b1dcdafULL);
    for (uint64_t seed = 0; seed < 3; seed++) {
        uint64_t s[4], z = seed;
        for (int i = 0; i < 4; i++) s[i] = ref_splitmix(&z);
        tb_rng r;
        rng_seed(&r, seed);
        for (int k = 0; k < 100; k++) {
            uint64_t want = ref_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
            s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = ref_rotl(s[3], 45);
            assert_true(rng_u64(&r) == want);
        }
    }
}

static void uniform_and_below(void **state) {
    (void)state;
    tb_rng r;
    rng_seed(&r, 42);
    int n = 200000;
    double s = 0, s2 = 0;
    for (int i = 0; i < n; i++) {
        double u = rng_uniform(&r);
        assert_true(u >= 0 && u < 1);
        s += u; s2 += u * u;
    }
    double m = s / n, v = s2 / n - m * m;
    assert_true(fabs(m - 0.5) < 5 * sqrt(1.0 / 12 / n));
    assert_true(fabs(v - 1.0 / 12) < 0.002);
    int cnt[7] = {0};
    for (int i = 0; i < 70000; i++) {
        uint32_t k = rng_below(&r, 7);
        assert_true(k < 7);
        cnt[k]++;
    }
    for (int k = 0; k < 7; k++) assert_true(abs(cnt[k] - 10000) < 5 * 93); /* sd = sqrt(70000 * 1/7 * 6/7) ~ 93 */
    for (int i = 0; i < 1000; i++) { float f = rng_uniformf(&r); assert_true(f >= 0 && f < 1); }
}

static void normal_moments(void **state) {
    (void)state;
    tb_rng r;
    rng_seed(&r, 7);
    int n = 200000;
    double s = 0, s2 = 0, s4 = 0;
    for (int i = 0; i < n; i++) { double z = rng_normal(&r); s += z; s2 += z * z; s4 += z * z * z * z; }
    assert_true(fabs(s / n) < 5 / sqrt(n));
    assert_true(fabs(s2 / n - 1) < 5 * sqrt(2.0 / n));
    assert_true(fabs(s4 / n - 3) < 5 * sqrt(96.0 / n)); /* kurtosis 3; var(z^4) = 105 - 9 = 96 */
}

static void poisson_moments(void **state) {
    (void)state;
    tb_rng r;
    rng_seed(&r, 9);
    double lams[4] = {0.05, 3.0, 25.0, 400.0};
    for (int l = 0; l < 4; l++) {
        int n = 100000;
        double s = 0, s2 = 0;
        for (int i = 0; i < n; i++) { int k = rng_poisson(&r, lams[l]); assert_true(k >= 0); s += k; s2 += (double)k * k; }
        double m = s / n, v = s2 / n - m * m, lam = lams[l];
        assert_true(fabs(m - lam) < 5 * sqrt(lam / n));
        assert_true(fabs(v - lam) < 0.05 * lam + 0.01); /* var of the sample variance ~ 2 lam^2 / n */
    }
    assert_int_equal(rng_poisson(&r, 0.0), 0);
}

static void shuffle_and_streams(void **state) {
    (void)state;
    tb_rng r, a, b, a2;
    rng_seed(&r, 3);
    int v[50], seen[50] = {0};
    for (int i = 0; i < 50; i++) v[i] = i;
    rng_shuffle_int(&r, v, 50);
    int moved = 0;
    for (int i = 0; i < 50; i++) { seen[v[i]]++; moved += v[i] != i; }
    for (int i = 0; i < 50; i++) assert_int_equal(seen[i], 1);
    assert_true(moved > 40);
    rng_stream(&a, 5, 0);
    rng_stream(&b, 5, 1);
    rng_stream(&a2, 5, 0);
    int same = 0;
    for (int i = 0; i < 100; i++) { uint64_t x = rng_u64(&a); same += x == rng_u64(&b); assert_true(x == rng_u64(&a2)); }
    assert_int_equal(same, 0);
}

/* Named child seeds: deterministic, different for different names, indices and parents,
 * and the bits of nearby children look unrelated (about half differ). */
static void child_seeds(void **state) {
    (void)state;
    uint64_t a = rng_child_seed(1, "trial", 0);
    assert_true(a == rng_child_seed(1, "trial", 0));
    assert_true(a != rng_child_seed(1, "trial", 1));
    assert_true(a != rng_child_seed(2, "trial", 0));
    assert_true(a != rng_child_seed(1, "noise", 0));
    assert_true(rng_child_seed(1, "ab", 0) != rng_child_seed(1, "ba", 0));
    double bits = 0;
    for (uint64_t i = 0; i < 256; i++) {
        uint64_t d = rng_child_seed(7, "trial", i) ^ rng_child_seed(7, "trial", i + 1);
        bits += __builtin_popcountll(d);
    }
    bits /= 256.0;
    assert_true(bits > 28 && bits < 36);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(known_outputs),
        cmocka_unit_test(uniform_and_below),
        cmocka_unit_test(normal_moments),
        cmocka_unit_test(poisson_moments),
        cmocka_unit_test(shuffle_and_streams),
        cmocka_unit_test(child_seeds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
