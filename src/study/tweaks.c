/* tweaks.c -- the tinkerer's table: each model measured on loss above the floor, minimal
 * pairs, alignment with the spiking network and energy per token (see include/tweaks.h).
 * Lesson 18. */
#include "tweaks.h"
#include "align.h"
#include "lm_eval.h"
#include "sweep.h"
#include "work.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const tk_variant tk_variants[TK_N_VARIANTS] = {
    {"dense", "the default GPT (GELU MLP of 256 units)", {NULL}, 0},
    {"moe-top1", "4 experts, each token to 1 (Switch)", {"--moe-experts", "4", "--moe-top-k", "1", NULL}, 0},
    {"moe-top2", "4 experts, each token to 2", {"--moe-experts", "4", "--moe-top-k", "2", NULL}, 0},
    {"sparse", "ReLU MLP keeping its 32 largest units per token", {"--act", "relu", "--mlp-topk", "32", NULL}, 0},
    {"skip-last", "the dense runs with their last block bypassed", {NULL}, 1},
};

const char *const tk_score_names[TK_NSCORES] = {"excess_nats", "minimal_pair_acc", "rsa_snn", "energy_nj_per_token"};

void tk_bench_free(tk_bench *b) {
    corpus_free(&b->corp);
    free(b->pairs);
    rec_stimuli_free(&b->stim);
    free(b->snn_rdm);
    memset(b, 0, sizeof *b);
}

/* The upper triangle of the correlation-distance RDM of X[n, p]; v malloc'd [n(n-1)/2]. */
static int rdm_of(const double *X, int n, int p, double **v, char *err) {
    double *D = malloc((size_t)n * n * sizeof(double));
    *v = malloc((size_t)n * (n - 1) / 2 * sizeof(double));
    int rc = D && *v ? align_rdm(X, n, p, RDM_CORRELATION, D, err) : tb_fail(err, "out of memory");
    if (!rc) rdm_upper(D, n, *v);
    free(D);
    if (rc) { free(*v); *v = NULL; }
    return rc;
}

int tk_bench_open(tk_bench *b, const char *brain, const char *data_dir, int trials, long val_tokens, uint64_t seed,
                  char *err) {
    memset(b, 0, sizeof *b);
    b->val_tokens = val_tokens;
    b->seed = seed;
    b->trials = trials;
    b->pairs = malloc(strlen(data_dir) + 32);
    char *probes = malloc(strlen(data_dir) + 32);
    if (!b->pairs || !probes) { free(probes); return tb_fail(err, "out of memory"); }
    sprintf(b->pairs, "%s/minimal_pairs.tsv", data_dir);
    sprintf(probes, "%s/probes_sentences.txt", data_dir);
    lm_model ref;
    int rc = corpus_load(&b->corp, "toyworld", data_dir, "word", err) || lm_open(brain, &ref, err);
    if (rc) { free(probes); return -1; }
    rep_set rec = {0};
    rec_opts o = {0, trials, 0, seed, -1, {NULL, NULL}};
    rc = rec_stimuli_load(probes, &ref.tok, &b->stim, err) || rec_record(&ref, &b->stim, &o, &rec, err);
    if (!rc) {   /* a spiking network's rates; a GPT's last residual layer */
        const rep_layer *R = &rec.layer[strcmp(ref.kind, "srnn") ? rec_n_resid(&ref) - 1 : 0];
        b->m = (long)R->n * (R->n - 1) / 2;
        rc = rdm_of(R->mean, R->n, R->p, &b->snn_rdm, err);
    }
    rep_free(&rec);
    lm_close(&ref);
    free(probes);
    return rc ? -1 : 0;
}

/* The best layer's Spearman RSA with the reference's RDM (a spiking network: its rates). */
static int best_rsa(const tk_bench *b, lm_model *m, tk_score *s, char *err) {
    rep_set rec = {0};
    int snn = !strcmp(m->kind, "srnn");
    rec_opts o = {0, snn ? b->trials : 1, 0, b->seed, -1, {NULL, NULL}};
    if (rec_record(m, &b->stim, &o, &rec, err)) return -1;
    int rc = 0, n = snn ? 1 : rec_n_resid(m);
    s->v[TK_RSA] = -INFINITY;
    for (int l = 0; l < n && !rc; l++) {
        double *v;
        const rep_layer *L = &rec.layer[l];
        if ((rc = rdm_of(L->mean, L->n, L->p, &v, err))) break;
        double r = rsa_spearman(v, b->snn_rdm, b->m);
        if (r > s->v[TK_RSA]) { s->v[TK_RSA] = r; s->best_layer = l; }
        free(v);
    }
    rep_free(&rec);
    return rc;
}

int tk_score_model(const tk_bench *b, const char *ckpt, int skip_last, tk_score *s, char *err) {
    lm_model m;
    memset(s, 0, sizeof *s);
    if (lm_open(ckpt, &m, err)) return -1;
    int rc = skip_last && strcmp(m.kind, "gpt") ? tb_fail(err, "%s: only a GPT has blocks to skip", ckpt) : 0;
    int last = m.gpt.cfg.n_layer - 1;
    if (!rc && skip_last) rc = gpt_skip(&m.gpt, &last, 1, err);
    if (!rc) rc = tok_check_same(&m.tok, &b->corp.tok, ckpt, err);
    lm_eval_result r;
    work_row w;
    if (!rc) rc = lm_evaluate(&m.scorer, &m.tok, &b->corp, b->val_tokens, b->pairs, &r, err);
    if (!rc) rc = work_measure_model(&m, &b->corp, b->val_tokens, &w, err) || best_rsa(b, &m, s, err);
    if (!rc) {
        s->v[TK_EXCESS] = r.val_loss - r.floor_nats;
        s->v[TK_PAIRS] = r.pair_acc[0];
        s->v[TK_ENERGY] = w.e_compute / 1000.0;
    }
    lm_close(&m);
    return rc ? -1 : 0;
}

int tk_summarise(const tk_score *s, int n, tk_row *row, char *err) {
    double *x = malloc((size_t)(n > 0 ? n : 1) * sizeof(double));
    if (!x) return tb_fail(err, "out of memory");
    row->n = n;
    for (int k = 0; k < TK_NSCORES; k++) {
        for (int i = 0; i < n; i++) x[i] = s[i].v[k];
        sweep_mean_ci(x, n, &row->mean[k], &row->lo[k], &row->hi[k]);
    }
    free(x);
    return 0;
}
