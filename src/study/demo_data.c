/* demo_data.c -- the synthetic data of `align --demo` (see include/demo_data.h). */
#include "demo_data.h"
#include "io.h"
#include "linalg.h"
#include "rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

enum { N = 96, D = 6, P = 24, H = 32, T = 8, C = 4, E = 16 };

/* X[n, p] as a float32 .npy at DIR/NAME. */
static int save2(const char *dir, const char *name, const double *X, int n, int p, char *err) {
    char *path = tb_strf("%s/%s", dir, name);
    float *f = malloc((size_t)n * p * sizeof(float));
    int rc = path && f ? 0 : tb_fail(err, "out of memory");
    for (size_t i = 0; !rc && i < (size_t)n * p; i++) f[i] = (float)X[i];
    int64_t shape[2] = {n, p};
    if (!rc) rc = npy_write_f32(path, f, 2, shape, err);
    free(path);
    free(f);
    return rc;
}

static double *zeros(size_t n) { return calloc(n, sizeof(double)); }

/* The latent meaning z[N, D]: category centre + item detail. */
static void meaning(tb_rng *g, double *z) {
    double centre[C][D];
    for (int k = 0; k < C; k++)
        for (int d = 0; d < D; d++) centre[k][d] = 1.5 * rng_normal(g);
    for (int i = 0; i < N; i++)
        for (int d = 0; d < D; d++) z[i * D + d] = centre[i / (N / C)][d] + 0.6 * rng_normal(g);
}

/* brain: tanh(z Wb) + trial noise, written as trials x stimuli x units; bm[N, P] its mean. */
static int brain(const char *dir, tb_rng *g, const double *z, double *bm, char *err) {
    double *Wb = zeros(D * P), *clean = zeros(N * P), *trials = zeros((size_t)T * N * P);
    float *f = malloc((size_t)T * N * P * sizeof(float));
    char *path = tb_strf("%s/brain.npy", dir);
    int rc = Wb && clean && trials && f && path ? 0 : tb_fail(err, "out of memory");
    if (!rc) {
        for (int i = 0; i < D * P; i++) Wb[i] = rng_normal(g) / sqrt(D);
        for (int i = 0; i < N; i++)
            for (int j = 0; j < P; j++) {
                double s = 0;
                for (int d = 0; d < D; d++) s += z[i * D + d] * Wb[d * P + j];
                clean[i * P + j] = tanh(s);
            }
        for (int t = 0; t < T; t++)
            for (int i = 0; i < N * P; i++) trials[(size_t)t * N * P + i] = clean[i] + 1.2 * rng_normal(g);
        for (int i = 0; i < T * N * P; i++) f[i] = (float)trials[i];
        int64_t sh3[3] = {T, N, P};
        rc = npy_write_f32(path, f, 3, sh3, err);
        for (int t = 0; t < T; t++)
            for (int i = 0; i < N * P; i++) bm[i] += trials[(size_t)t * N * P + i] / T;
    }
    free(Wb); free(clean); free(trials); free(f); free(path);
    return rc;
}

/* model layers: a_l lrelu(z W_l) + (1 - a_l) lrelu(e W'_l), e = item identity. */
static int model(const char *dir, tb_rng *g, const double *z, char *err) {
    static const double a_l[6] = {0.05, 0.3, 0.7, 0.9, 0.6, 0.35};
    double *e = zeros(N * E), *L = zeros(N * H), *W1 = zeros(D * H), *W2 = zeros(E * H);
    int rc = e && L && W1 && W2 ? 0 : tb_fail(err, "out of memory");
    for (int i = 0; !rc && i < N * E; i++) e[i] = rng_normal(g);
    for (int l = 0; l < 6 && !rc; l++) {
        for (int i = 0; i < D * H; i++) W1[i] = rng_normal(g) / sqrt(D);
        for (int i = 0; i < E * H; i++) W2[i] = rng_normal(g) / 4.0;
        for (int i = 0; i < N; i++)
            for (int j = 0; j < H; j++) {
                double s1 = 0, s2 = 0;
                for (int d = 0; d < D; d++) s1 += z[i * D + d] * W1[d * H + j];
                for (int d = 0; d < E; d++) s2 += e[i * E + d] * W2[d * H + j];
                L[i * H + j] = a_l[l] * (s1 > 0 ? s1 : 0.05 * s1) + (1 - a_l[l]) * (s2 > 0 ? s2 : 0.05 * s2);
            }
        char name[32];
        snprintf(name, sizeof name, "model/layer%d.npy", l);
        rc = save2(dir, name, L, N, H, err);
    }
    free(e); free(L); free(W1); free(W2);
    return rc;
}

/* rotated: bm x orthogonal Q x 5 (+ an offset); stretched: bm x a general matrix; noise. */
static int transforms(const char *dir, tb_rng *g, const double *bm, char *err) {
    double *G = zeros(P * P), *U = zeros(P * P), *S = zeros(P), *Vt = zeros(P * P), *Q = zeros(P * P);
    double *R = zeros(N * P), *Wd = zeros((size_t)N * 200);
    int rc = G && U && S && Vt && Q && R && Wd ? 0 : tb_fail(err, "out of memory");
    for (int i = 0; !rc && i < P * P; i++) G[i] = rng_normal(g);
    if (!rc) rc = la_svd(P, P, G, U, S, Vt, err);
    if (!rc) {
        la_gemm_nn(P, P, P, U, Vt, Q);
        la_gemm_nn(N, P, P, bm, Q, R);
        for (int i = 0; i < N * P; i++) R[i] = 5 * R[i] + 1;
        rc = save2(dir, "rotated.npy", R, N, P, err);
    }
    if (!rc) {
        for (int i = 0; i < P * P; i++) G[i] = (i % (P + 1) == 0 ? 1.0 : 0.0) + 0.8 * rng_normal(g);
        for (int i = 0; i < P; i++) G[i * P + i] *= i < 3 ? 6 : 1; /* stretch three directions */
        la_gemm_nn(N, P, P, bm, G, R);
        rc = save2(dir, "stretched.npy", R, N, P, err);
    }
    for (int i = 0; !rc && i < N * P; i++) R[i] = rng_normal(g);
    if (!rc) rc = save2(dir, "noise.npy", R, N, P, err);
    for (int i = 0; !rc && i < N * 200; i++) Wd[i] = rng_normal(g);
    if (!rc) rc = save2(dir, "noise_wide.npy", Wd, N, 200, err);
    free(G); free(U); free(S); free(Vt); free(Q); free(R); free(Wd);
    return rc;
}

/* localizer: 80 sentences and 80 nonword strings x 64 units; six planted units respond
 * more (in magnitude) to sentences. */
static int localizer(const char *dir, tb_rng *g, char *err) {
    static const int lang[6] = {5, 12, 20, 33, 41, 58};
    double *Ls = zeros(80 * 64), *Ln = zeros(80 * 64);
    int rc = Ls && Ln ? 0 : tb_fail(err, "out of memory");
    for (int i = 0; !rc && i < 80 * 64; i++) { Ls[i] = rng_normal(g); Ln[i] = rng_normal(g); }
    for (int k = 0; !rc && k < 6; k++)
        for (int i = 0; i < 80; i++) Ls[i * 64 + lang[k]] += (k % 2 ? -1 : 1) * (1.0 + 0.3 * k);
    if (!rc) rc = save2(dir, "loc_sentences.npy", Ls, 80, 64, err);
    if (!rc) rc = save2(dir, "loc_nonwords.npy", Ln, 80, 64, err);
    free(Ls); free(Ln);
    return rc;
}

static int labels(const char *dir, char *err) {
    static const char *cats[C] = {"animal", "food", "tool", "place"};
    char *lab = malloc(N * 16), *q = lab, *path = tb_strf("%s/labels.txt", dir);
    int rc = lab && path ? 0 : tb_fail(err, "out of memory");
    for (int i = 0; !rc && i < N; i++) q += sprintf(q, "%s%d\n", cats[i / (N / C)], i % (N / C) + 1);
    if (!rc) rc = write_text_file(path, lab, err);
    free(lab);
    free(path);
    return rc;
}

int demo_write(const char *dir, uint64_t seed, char *err) {
    tb_rng g;
    rng_seed(&g, seed);
    double *z = zeros(N * D), *bm = zeros(N * P);
    int rc = z && bm ? 0 : tb_fail(err, "out of memory");
    if (!rc) meaning(&g, z);
    if (!rc) rc = brain(dir, &g, z, bm, err);
    if (!rc) rc = model(dir, &g, z, err);
    if (!rc) rc = transforms(dir, &g, bm, err);
    if (!rc) rc = localizer(dir, &g, err);
    if (!rc) rc = labels(dir, err);
    free(z);
    free(bm);
    return rc;
}
