/* test_compare.c -- layer-by-layer comparisons and brain meets model (src/study/compare.c):
 * the metric catalogue, the best layer, cmp_layers on hand-made representations (a layer
 * that is an affine copy of the brain scores 1), cmp_models on recording folders (best
 * layer, left-out silent neurons, model-RDM tau, the TSV tables), and alignment over
 * training on two tiny runs of real checkpoints. */
#include "compare.h"
#include "gpt.h"
#include "io.h"
#include "rng.h"
#include "srnn.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static char dir[256];

/* DIR/NAME in one of four buffers that later calls reuse: copy what must last. */
static char *file(const char *name) {
    static char path[4][400];
    static int k;
    k = (k + 1) % 4;
    snprintf(path[k], sizeof path[k], "%s/%s", dir, name);
    return path[k];
}

static int setup(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    snprintf(dir, sizeof dir, "/tmp/tb_test_compare_%d", (int)getpid());
    return make_dirs(dir, err) ? -1 : 0;
}

static void catalogue_and_best(void **state) {
    (void)state;
    align_result r;
    memset(&r, 0, sizeof r);
    r.rsa_spearman = 0.25;
    r.procrustes_angular = 0.75;
    r.cka_perm_p = 0.02;
    assert_int_equal(cmp_n_metrics, CMP_N_METRICS);
    assert_true(cmp_value(&r, cmp_metric_index("rsa_spearman")) == 0.25);
    assert_true(cmp_value(&r, cmp_metric_index("procrustes_angular")) == 0.75);
    assert_true(cmp_value(&r, cmp_metric_index("cka_perm_p")) == 0.02);
    assert_int_equal(cmp_metric_index("nosuch"), -1);
    for (int k = 0; k < cmp_n_shown; k++) assert_true(cmp_metric_index(cmp_shown[k]) >= 0);
    for (int m = 0; m < cmp_n_metrics; m++) /* every field once */
        for (int q = m + 1; q < cmp_n_metrics; q++) assert_true(cmp_metrics[m].off != cmp_metrics[q].off);
    assert_string_equal(cmp_metrics[cmp_metric_index("cka_linear")].head, "cka");
    align_opts o;
    align_opts_default(&o);
    assert_int_equal(cmp_families(&o), CMP_RSA | CMP_CKA | CMP_CCA | CMP_PROC);
    /* best: the largest similarity, the smallest distance (first of equals) */
    align_result res[3];
    memset(res, 0, sizeof res);
    res[0].cka_linear = 0.2; res[1].cka_linear = 0.9; res[2].cka_linear = 0.9;
    res[0].procrustes_euclidean = 0.5; res[1].procrustes_euclidean = 0.7; res[2].procrustes_euclidean = 0.1;
    assert_int_equal(cmp_best(res, 3, cmp_metric_index("cka_linear")), 1);
    assert_int_equal(cmp_best(res, 3, cmp_metric_index("procrustes_euclidean")), 2);
}

/* n stimuli x p units of normal noise, or an affine copy a x + b of src. */
static void fill(rep_layer *L, const char *name, int n, int p, tb_rng *g, const rep_layer *src) {
    assert_int_equal(rep_layer_alloc(L, name, name, 1, n, p), 0);
    for (int i = 0; i < n * p; i++) L->mean[i] = src ? 3 * src->mean[i] + 1 : rng_normal(g);
}

/* Twins: a layer whose pair differences are float rounding (the mean-pooled embedding of
 * the same words) is left out and named; a layer with real differences is kept. */
static void twins_leave_out_vanishing_layers(void **state) {
    (void)state;
    tb_rng g;
    rng_seed(&g, 11);
    rep_set S = {3, calloc(3, sizeof(rep_layer)), 1};
    fill(&S.layer[0], "00_embed", 8, 5, &g, NULL);
    fill(&S.layer[1], "01_block1", 8, 5, &g, NULL);
    fill(&S.layer[2], "02_block2", 8, 5, &g, NULL);
    for (int k = 0; k < 4; k++)   /* twin 2k+1 = twin 2k up to float32 rounding */
        for (int j = 0; j < 5; j++)
            S.layer[0].mean[(2 * k + 1) * 5 + j] = (float)S.layer[0].mean[2 * k * 5 + j] * (1 + 1e-7 * (j - 2));
    cmp_opts o;
    cmp_opts_default(&o);
    o.twins = 1;
    char note[TB_ERRLEN], err[TB_ERRLEN];
    assert_int_equal(cmp_prepare_set(&S, 1, &o, note, sizeof note, err), 0);
    assert_int_equal(S.n_layers, 2);
    assert_string_equal(S.layer[0].name, "01_block1");
    assert_int_equal(S.layer[0].n, 4);                 /* 4 pair differences */
    assert_non_null(strstr(note, "00_embed"));
    assert_null(strstr(note, "block"));
    /* without --twins nothing is left out */
    rep_set T = {1, calloc(1, sizeof(rep_layer)), 1};
    fill(&T.layer[0], "00_embed", 8, 5, &g, NULL);
    for (int j = 0; j < 5; j++) T.layer[0].mean[5 + j] = T.layer[0].mean[j];
    o.twins = 0;
    assert_int_equal(cmp_prepare_set(&T, 1, &o, note, sizeof note, err), 0);
    assert_int_equal(T.n_layers, 1);
    assert_string_equal(note, "");
    /* a set keeps at least its last layer, even when it vanishes */
    o.twins = 1;
    for (int i = 0; i < 8; i += 2)
        for (int j = 0; j < 5; j++) T.layer[0].mean[(i + 1) * 5 + j] = T.layer[0].mean[i * 5 + j];
    assert_int_equal(cmp_prepare_set(&T, 1, &o, note, sizeof note, err), 0);
    assert_int_equal(T.n_layers, 1);
    rep_free(&S);
    rep_free(&T);
}

static void layers_against_a_file(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tb_rng g;
    rng_seed(&g, 3);
    rep_set A = {2, calloc(2, sizeof(rep_layer)), 1}, B = {1, calloc(1, sizeof(rep_layer)), 0};
    assert_non_null(A.layer);
    assert_non_null(B.layer);
    fill(&B.layer[0], "brain", 12, 4, &g, NULL);
    fill(&A.layer[0], "noise", 12, 5, &g, NULL);
    fill(&A.layer[1], "copy", 12, 4, &g, &B.layer[0]);
    align_opts o;
    align_opts_default(&o);
    cmp_pairs p;
    assert_int_equal(cmp_layers(&A, &B, &o, &p, err), 0);
    assert_int_equal(p.n, 2);
    assert_true(p.a[1] == &A.layer[1] && p.b[0] == &B.layer[0] && p.b[1] == &B.layer[0]);
    assert_true(fabs(p.res[1].cka_linear - 1) < 1e-9 && fabs(p.res[1].rsa_spearman - 1) < 1e-9);
    assert_true(p.res[0].cka_linear < 0.9);
    assert_int_equal(cmp_best(p.res, p.n, cmp_metric_index("rsa_spearman")), 1);
    cmp_pairs_free(&p);
    /* two folders need as many layers; both sides the same stimuli */
    assert_int_equal(cmp_layers(&A, &A, &o, &p, err), 0);
    assert_int_equal(p.n, 2);
    assert_true(p.a[1] == &A.layer[1] && p.b[1] == &A.layer[1]);
    cmp_pairs_free(&p);
    rep_set C = {3, calloc(3, sizeof(rep_layer)), 1};
    assert_non_null(C.layer);
    for (int l = 0; l < 3; l++) fill(&C.layer[l], "c", 10, 2, &g, NULL);
    assert_int_equal(cmp_layers(&A, &C, &o, &p, err), -1);
    assert_non_null(strstr(err, "2 layers"));
    assert_int_equal(cmp_layers(&C, &B, &o, &p, err), -1);
    assert_non_null(strstr(err, "10 stimuli"));
    rep_free(&A);
    rep_free(&B);
    rep_free(&C);
}

static void write_npy(const char *path, const double *x, int ndim, int64_t *shape) {
    char err[TB_ERRLEN];
    long n = 1;
    for (int d = 0; d < ndim; d++) n *= (long)shape[d];
    float *f = malloc((size_t)n * sizeof(float));
    assert_non_null(f);
    for (long i = 0; i < n; i++) f[i] = (float)x[i];
    assert_int_equal(npy_write_f32(path, f, ndim, shape, err), 0);
    free(f);
}

/* Folders as `record` writes them: the GPT's 2 layers, the network's rates over 3 trials
 * with one neuron that never fires.  Layer 01 is the network's trial mean (x 2). */
static void models_from_recording_folders(void **state) {
    (void)state;
    enum { N = 12, P = 5, T = 3 };
    char err[TB_ERRLEN];
    tb_rng g;
    rng_seed(&g, 9);
    double rates[T * N * P], mean[N * P] = {0}, emb[N * 6], copy[N * P];
    for (int i = 0; i < T * N * P; i++) rates[i] = i % P == 4 ? 0 : 20 + 5 * rng_normal(&g);
    for (int i = 0; i < T * N * P; i++) mean[i % (N * P)] += rates[i] / T;
    for (int i = 0; i < N * 6; i++) emb[i] = rng_normal(&g);
    for (int i = 0; i < N * P; i++) copy[i] = 2 * mean[i];
    int64_t s3[3] = {T, N, P}, s2[2] = {N, 6}, s2c[2] = {N, P};
    write_npy(file("snn/rates.npy"), rates, 3, s3);
    write_npy(file("gpt/00_embed.npy"), emb, 2, s2);
    write_npy(file("gpt/01_block1.npy"), copy, 2, s2c);
    char meta[512] = "subj_cat\tverb\n";
    for (int i = 0; i < N; i++) snprintf(meta + strlen(meta), sizeof meta - strlen(meta), "%s\tv%d\n", i < N / 2 ? "a" : "b", i % 3);
    assert_int_equal(write_text_file(file("meta.tsv"), meta, err), 0);
    char stimuli[400], metadata[400], vocab[400];
    snprintf(stimuli, sizeof stimuli, "%s", file("none.txt")); /* no part-of-speech patterns */
    snprintf(metadata, sizeof metadata, "%s", file("meta.tsv"));
    snprintf(vocab, sizeof vocab, "%s", file("none.tsv"));
    cmp_opts o;
    cmp_opts_default(&o);
    o.stimuli = stimuli;
    o.meta = metadata;
    o.vocab = vocab;
    o.pairs = NULL;
    o.trials = T;
    o.perm = 20;
    o.baselines = 0;
    cmp_result r;
    assert_int_equal(cmp_models(file("gpt"), file("snn"), &o, &r, err), 0);
    assert_int_equal(r.n_layers, 2);
    assert_int_equal(r.n_stimuli, N);
    assert_int_equal(r.snn.rep.layer[0].p, P - 1); /* the silent neuron is left out */
    assert_int_equal(r.snn.rep.layer[0].trials, T);
    assert_true(r.gpt.step == -1 && !strcmp(r.snn.kind, "srnn"));
    assert_int_equal(r.best, 1);
    assert_true(r.layer[1].rsa_spearman > 0.99 && r.layer[1].rsa_perm_p < 0.1);
    assert_true(r.have_meta && !isnan(r.layer[0].noise_ceiling));
    double t;
    const rep_layer *L = &r.gpt.rep.layer[0];
    assert_int_equal(stim_tau_a(L->mean, N, L->p, &r.meta, STIM_SUBJ_CAT, &t, err), 0);
    assert_true(cmp_tau(&r, STIM_SUBJ_CAT, 0) == t);
    assert_true(isnan(cmp_tau(&r, STIM_SUBJ_NUM, 2)) && !isnan(cmp_tau(&r, STIM_VERB, 2)));
    /* the tables */
    char *text;
    size_t len;
    assert_int_equal(cmp_write_layers_tsv(&r, file("t.tsv"), err), 0);
    assert_int_equal(read_file(file("t.tsv"), &text, &len, err), 0);
    assert_int_equal(strncmp(text, "layer\trsa_spearman\trsa_kendall_a\tcka_linear\t", 44), 0);
    assert_non_null(strstr(text, "\n01_block1\t"));
    free(text);
    assert_int_equal(cmp_write_tau_tsv(&r, file("t.tsv"), err), 0);
    assert_int_equal(read_file(file("t.tsv"), &text, &len, err), 0);
    assert_int_equal(strncmp(text, "model_rdm\t00_embed\t01_block1\tsnn\nsubj_cat\t", 42), 0);
    assert_non_null(strstr(text, "\nsubj_num\tnan\tnan\tnan\n"));
    free(text);
    cmp_result_free(&r);
    /* the metadata must describe as many stimuli */
    assert_int_equal(write_text_file(file("meta.tsv"), "subj_cat\na\nb\n", err), 0);
    assert_int_equal(cmp_models(file("gpt"), file("snn"), &o, &r, err), -1);
    assert_non_null(strstr(err, "2 rows of metadata for 12 stimuli"));
}

/* ---- the references: verdicts computed from synthetic data with a known answer ---- */

/* N random sentences of 5 words out of 12 (and "."), their bag of words in X[N, 12]. */
enum { RN = 80, RV = 12, RP = 10, RT = 4 };
static void random_sentences(tb_rng *g, double *X) {
    char text[RN * 40] = "";
    memset(X, 0, sizeof(double) * RN * RV);
    for (int i = 0; i < RN; i++) {
        for (int k = 0; k < 5; k++) {
            int w = (int)rng_below(g, RV);
            X[i * RV + w] += 1;
            snprintf(text + strlen(text), sizeof text - strlen(text), "w%02d ", w);
        }
        snprintf(text + strlen(text), sizeof text - strlen(text), ".\n");
    }
    char err[TB_ERRLEN];
    assert_int_equal(write_text_file(file("ref_stimuli.txt"), text, err), 0);
}

/* brain[t, i, j] = 20 + 5 S[i] W[:, j] + noise; model[i, j] = gain S[i] W[:, j] + noise. */
static void synthetic_pair(tb_rng *g, const double *S, int q, double gain, double model_noise, const char *gdir,
                           const char *sdir) {
    double W[RV * RP], rates[RT * RN * RP], model[RN * RP];
    for (int i = 0; i < q * RP; i++) W[i] = rng_normal(g);
    for (int t = 0; t < RT; t++)
        for (int i = 0; i < RN; i++)
            for (int j = 0; j < RP; j++) {
                double s = 0;
                for (int k = 0; k < q; k++) s += S[i * q + k] * W[k * RP + j];
                rates[(t * RN + i) * RP + j] = 20 + 5 * s + 2 * rng_normal(g);
            }
    for (int i = 0; i < RN; i++)
        for (int j = 0; j < RP; j++) {
            double s = 0;
            for (int k = 0; k < q; k++) s += S[i * q + k] * W[k * RP + j];   /* the brain's own code */
            model[i * RP + j] = gain * s + model_noise * rng_normal(g);
        }
    int64_t s3[3] = {RT, RN, RP}, s2[2] = {RN, RP};
    char path[500];
    snprintf(path, sizeof path, "%s/rates.npy", sdir);
    write_npy(path, rates, 3, s3);
    snprintf(path, sizeof path, "%s/00_layer.npy", gdir);
    write_npy(path, model, 2, s2);
}

static const cmp_finding *finding(const cmp_result *r, const char *id) {
    for (int i = 0; i < r->n_findings; i++)
        if (!strcmp(r->finding[i].id, id)) return &r->finding[i];
    fail_msg("no finding %s", id);
    return NULL;
}

static void references_and_verdicts(void **state) {
    (void)state;
    char err[TB_ERRLEN], g1[400], s1[400], g2[400], s2[400], stim[400];
    tb_rng g;
    rng_seed(&g, 31);
    double X[RN * RV], Z[RN * 4];
    random_sentences(&g, X);
    for (int i = 0; i < RN * 4; i++) Z[i] = rng_normal(&g);   /* a code unrelated to the words */
    snprintf(g1, sizeof g1, "%s", file("struct/gpt"));
    snprintf(s1, sizeof s1, "%s", file("struct/snn"));
    snprintf(g2, sizeof g2, "%s", file("words/gpt"));
    snprintf(s2, sizeof s2, "%s", file("words/snn"));
    snprintf(stim, sizeof stim, "%s", file("ref_stimuli.txt"));
    synthetic_pair(&g, Z, 4, 1.0, 0.3, g1, s1);   /* the model shares the brain's non-lexical code */
    synthetic_pair(&g, X, RV, 0.2, 3.0, g2, s2);  /* the brain codes words; the model, faintly */
    cmp_opts o;
    cmp_opts_default(&o);
    o.stimuli = stim;
    o.meta = NULL;
    o.trials = RT;
    o.perm = 0;
    o.boot = 100;
    o.untrained_gpt = o.untrained_snn = "";
    cmp_result r;
    assert_int_equal(cmp_models(g1, s1, &o, &r, err), 0);
    assert_true(r.have_refs && r.base[CMP_LEXICAL].available && r.base[CMP_NOISE].available);
    assert_false(r.base[CMP_UNTRAINED_GPT].available || r.base[CMP_SCRAMBLED_GPT].available);
    assert_string_equal(finding(&r, "beyond_words")->verdict, "supported");
    assert_string_equal(finding(&r, "above_noise")->verdict, "supported");
    assert_string_equal(finding(&r, "unique_variance")->verdict, "supported");
    assert_string_equal(finding(&r, "grammar")->verdict, "not available");
    /* the intervals hold their estimates, and the bootstrap p_best of the only layer is 1 */
    const align_result *a = &r.layer[0];
    assert_true(a->rsa_spearman_ci_low <= a->rsa_spearman && a->rsa_spearman <= a->rsa_spearman_ci_high);
    assert_true(r.p_best[0] == 1.0);
    cmp_result_free(&r);
    assert_int_equal(cmp_models(g2, s2, &o, &r, err), 0);
    assert_string_equal(finding(&r, "beyond_words")->verdict, "contrary");
    assert_non_null(strstr(finding(&r, "beyond_words")->text, "explained by shared words"));
    const cmp_baseline *lex = &r.base[CMP_LEXICAL];
    assert_true(lex->res.rsa_spearman > 0.3 && lex->res.rsa_spearman > r.layer[0].rsa_spearman);
    /* noise of the model's shape scores about 0 on RSA */
    assert_true(fabs(r.base[CMP_NOISE].res.rsa_spearman) < 0.1);
    cmp_result_free(&r);
}

/* A scan with two subjects: the fROI carries the GPT layer's code, the control region
 * noise, so fROI - control is above 0 in both; the ceilings come from the manifests. */
static void regions_of_a_scan(void **state) {
    (void)state;
    enum { N = 60, P = 6, T = 4 };
    char err[TB_ERRLEN];
    tb_rng g;
    rng_seed(&g, 17);
    double layer[N * P], froi[T * N * P], ctrl[T * N * P];
    for (int i = 0; i < N * P; i++) layer[i] = rng_normal(&g);
    for (int t = 0; t < T; t++)
        for (int i = 0; i < N * P; i++) {
            froi[t * N * P + i] = layer[i] + 0.3 * rng_normal(&g);
            ctrl[t * N * P + i] = rng_normal(&g);
        }
    int64_t s2[2] = {N, P}, s3[3] = {T, N, P};
    write_npy(file("rg/gpt/00_embed.npy"), layer, 2, s2);
    const char *subs[2] = {"sub-01", "sub-02"};
    for (int k = 0; k < 2; k++) {
        char a[100];
        snprintf(a, sizeof a, "rg/scan/%s/froi/fmri_betas.npy", subs[k]);
        write_npy(file(a), froi, 3, s3);
        snprintf(a, sizeof a, "rg/scan/%s/control/fmri_betas.npy", subs[k]);
        write_npy(file(a), ctrl, 3, s3);
        snprintf(a, sizeof a, "rg/scan/%s/froi/manifest.json", subs[k]);
        assert_int_equal(write_text_file(file(a), "{\"ceiling_within\": 0.9}\n", err), 0);
    }
    char scan[400];
    snprintf(scan, sizeof scan, "%s", file("rg/scan"));
    assert_true(cmp_is_scan(scan));
    assert_false(cmp_is_scan(file("rg/gpt")));
    cmp_opts o;
    cmp_opts_default(&o);
    o.perm = 0;
    o.boot = 100;
    cmp_regions r;
    if (cmp_regions_run(file("rg/gpt"), scan, &o, &r, err)) fail_msg("%s", err);
    assert_int_equal(r.n_subjects, 2);
    assert_string_equal(r.subject[0].name, "sub-01");
    for (int k = 0; k < 2; k++) {
        const cmp_region_subject *s = &r.subject[k];
        assert_true(s->rsa[0][0] > 0.5 && fabs(s->rsa[1][0]) < 0.2);
        assert_true(s->lo[0] > 0 && s->lo[0] <= s->diff[0] && s->diff[0] <= s->hi[0]);
        assert_true(s->ceiling[0] == 0.9 && isnan(s->ceiling[1]));
    }
    cmp_regions_free(&r);
}

/* Means and intervals across seeds from hand-set numbers: 3 seeds, 2 layers. */
static void seed_aggregates(void **state) {
    (void)state;
    cmp_seeds s;
    memset(&s, 0, sizeof s);
    double layer[3 * 2 * CMP_S_METRICS], base[3 * CMP_N_BASE * CMP_S_METRICS], gp[3 * 2 * 2 * 2], sp[3 * 2];
    for (int k = 0; k < 3; k++)
        for (int l = 0; l < 2; l++)
            for (int m = 0; m < CMP_S_METRICS; m++) layer[(k * 2 + l) * CMP_S_METRICS + m] = l + 0.1 * m + k;   /* 0,1,2 + ... */
    for (int i = 0; i < 3 * CMP_N_BASE * CMP_S_METRICS; i++) base[i] = NAN;
    for (int k = 0; k < 3; k++) base[(k * CMP_N_BASE + CMP_LEXICAL) * CMP_S_METRICS + CMP_S_RSA] = 0.5;
    for (int i = 0; i < 3 * 8; i++) gp[i] = 0.25 * (i % 2) + 0.5;
    for (int i = 0; i < 6; i++) sp[i] = i % 2 ? 0.8 : 0.7;
    s.n = 3; s.n_layers = 2; s.n_pairs = 3;
    s.layer_score = layer; s.base_score = base; s.gpt_pair = gp; s.snn_pair = sp;
    double m, lo, hi;
    cmp_seeds_layer(&s, 1, CMP_S_CKA, &m, &lo, &hi);   /* 1.1, 2.1, 3.1: mean 2.1, sd 1 */
    assert_true(fabs(m - 2.1) < 1e-12 && fabs(hi - m - 4.303 / sqrt(3.0)) < 1e-9);
    cmp_seeds_base(&s, CMP_LEXICAL, CMP_S_RSA, &m, &lo, &hi);
    assert_true(m == 0.5 && lo == 0.5 && hi == 0.5);
    cmp_seeds_base(&s, CMP_NOISE, CMP_S_RSA, &m, &lo, &hi);
    assert_true(isnan(m));
    cmp_seeds_gpt_pair(&s, 0, 1, 1, &m, &lo, &hi);
    assert_true(fabs(m - 0.75) < 1e-12);
    cmp_seeds_snn_pair(&s, 0, &m, &lo, &hi);
    assert_true(fabs(m - 0.7) < 1e-12);
}

/* ---- two tiny training runs ---------------------------------------------------------- */

static const char *words[] = {".", "the", "a", "cat", "dog", "cats", "dogs", "sees", "see", "sleeps"};

static void save_runs(void) {
    char err[TB_ERRLEN];
    tb_tokenizer tok;
    assert_int_equal(tok_from_list(&tok, TOK_WORD, words, 10, err), 0);
    for (int step = 0; step <= 10; step += 10) {
        gpt_config c;
        gpt_model m;
        tb_ckpt ck;
        gpt_default_config(&c);
        c.vocab_size = 10; c.ctx = 16; c.n_layer = 2; c.n_head = 2; c.d_model = 8; c.seed = (uint64_t)step + 1;
        assert_int_equal(gpt_init(&m, &c, err), 0);
        ckpt_init(&ck, "gpt");
        char *p = file(step ? "g/step_000010.ckpt" : "g/step_000000.ckpt");
        assert_int_equal(gpt_to_ckpt(&m, &ck, err) || tok_save(&tok, &ck, err) || ckpt_set_int(&ck, "step", step) ||
                             ckpt_save(&ck, p, err), 0);
        ckpt_free(&ck);
        gpt_free(&m);
        srnn_config s;
        srnn_model n;
        srnn_default_config(&s);
        s.vocab_size = 10; s.n_neurons = 24; s.noise_hz = 200; s.w_in_std = 2.0; s.seed = (uint64_t)step + 5;
        assert_int_equal(srnn_init(&n, &s, err), 0);
        assert_int_equal(srnn_save_file(&n, &tok, file(step ? "s/step_000010.ckpt" : "s/step_000000.ckpt"), err), 0);
        srnn_free(&n);
    }
    tok_free(&tok);
    assert_int_equal(write_text_file(file("stim.txt"), "the cat sees a dog .\nthe dogs see a cat .\na cat sleeps .\n"
                                                       "the cats see the dog .\na dog sleeps .\n", err), 0);
    assert_int_equal(write_text_file(file("pairs.tsv"), "good\tbad\tattractor\nthe cat sleeps .\tthe cat see .\t0\n"
                                                        "the cats see a dog .\tthe cats sees a dog .\t1\n", err), 0);
}

static void alignment_over_training(void **state) {
    (void)state;
    char err[TB_ERRLEN], *text;
    size_t len;
    save_runs();
    char stimuli[400], pairs[400];
    snprintf(stimuli, sizeof stimuli, "%s", file("stim.txt"));
    snprintf(pairs, sizeof pairs, "%s", file("pairs.tsv"));
    cmp_opts o;
    cmp_opts_default(&o);
    o.stimuli = stimuli;
    o.meta = o.vocab = NULL;
    o.pairs = pairs;
    o.trials = 2;
    o.perm = 0;
    o.baselines = 0;
    cmp_training t;
    assert_int_equal(cmp_training_open(file("g"), file("s"), &o, &t, err), 0);
    assert_true(t.n[0] == 2 && t.n[1] == 2);
    assert_non_null(strstr(t.path[1][1], "step_000010"));
    assert_int_equal(t.final[0].n_layers, 3);     /* embedding + 2 blocks */
    assert_int_equal(t.final[1].n_layers, 1);     /* rates only */
    for (int side = 0; side < 2; side++)
        for (int i = 0; i < 2; i++) {
            if (cmp_training_score(&t, side, i, &o, err)) fail_msg("%s", err);
            const cmp_snapshot *s = &t.snap[side][i];
            assert_true(s->step == (side ? -1 : 10 * i)); /* srnn_save_file stores no step */
            assert_true(s->pair_acc == 0 || s->pair_acc == 0.5 || s->pair_acc == 1);
            assert_int_equal(s->n_layers, 3);
            for (int l = 0; l < 3; l++) {   /* every layer, not the best of them */
                double rsa = s->score[l * CMP_T_METRICS + CMP_T_RSA], cka = s->score[l * CMP_T_METRICS + CMP_T_CKA];
                assert_true(rsa >= -1 && rsa <= 1 && cka >= 0 && cka <= 1 + 1e-9);
                assert_true(isnan(s->score[l * CMP_T_METRICS + CMP_T_ENC]));   /* 5 stimuli: too few for 5 folds */
            }
        }
    /* two snapshots are too few for a correlation: NaN, not a number that means nothing */
    double r, lo, hi;
    cmp_training_corr(&t, 0, 0, CMP_T_RSA, 50, 1, &r, &lo, &hi);
    assert_true(isnan(r) && isnan(lo) && isnan(hi));
    /* with made-up snapshots: alignment = 2 x accuracy + 0.1 correlates perfectly */
    cmp_training u = t;
    cmp_snapshot fake[8];
    double sc[8 * 3 * CMP_T_METRICS];
    for (int i = 0; i < 8; i++) {
        fake[i] = (cmp_snapshot){i * 10, 3, sc + i * 3 * CMP_T_METRICS, 0.5 + 0.1 * i};
        for (int k = 0; k < 3 * CMP_T_METRICS; k++) sc[i * 3 * CMP_T_METRICS + k] = 2 * fake[i].pair_acc + 0.1 + 0.01 * (k == 5 && i == 2);
    }
    u.n[0] = 8;
    u.snap[0] = fake;
    cmp_training_corr(&u, 0, 0, CMP_T_RSA, 100, 1, &r, &lo, &hi);
    assert_true(fabs(r - 1) < 1e-12 && fabs(lo - 1) < 1e-12 && hi <= 1 + 1e-12);
    u.n[0] = 4;   /* too few for an interval: r, but no interval */
    cmp_training_corr(&u, 0, 0, CMP_T_RSA, 100, 1, &r, &lo, &hi);
    assert_true(fabs(r - 1) < 1e-12 && isnan(lo) && isnan(hi));
    assert_int_equal(cmp_training_write_tsv(&t, file("ot.tsv"), err), 0);
    assert_int_equal(read_file(file("ot.tsv"), &text, &len, err), 0);
    assert_int_equal(strncmp(text, "model\tstep\tgpt_layer\tminimal_pair_acc\trsa_spearman\tcka_linear\tencoding_r_median\n"
                                   "gpt\t0\t", 80), 0);
    assert_non_null(strstr(text, "\ngpt\t10\t"));
    assert_non_null(strstr(text, "\nsnn\t-1\t"));
    free(text);
    cmp_training_free(&t);
    assert_int_equal(cmp_training_open(file("g"), file("nonexistent"), &o, &t, err), -1);
    if (!strstr(err, "train-snn with --save-at")) fail_msg("%s", err);
}

static int teardown(void **state) {
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) ? -1 : 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(catalogue_and_best),
        cmocka_unit_test(twins_leave_out_vanishing_layers),
        cmocka_unit_test(layers_against_a_file),
        cmocka_unit_test(models_from_recording_folders),
        cmocka_unit_test(references_and_verdicts),
        cmocka_unit_test(seed_aggregates),
        cmocka_unit_test(regions_of_a_scan),
        cmocka_unit_test(alignment_over_training),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
