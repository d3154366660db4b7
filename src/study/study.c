/* study.c -- `tinybrain study`: the seed paper's experiment at toy scale, from training to
 * the report.  Lesson 17; see include/study.h for what each step does.
 *
 *   1. train     study_train (study_train.c): every model, cached under DIR/runs
 *   2. measure   study_measure_* (study_measure.c, study_probe.c, study_refs.c)
 *   3. decide    study_decide (study_verdict.c): the seven findings from the numbers
 *   4. report    study_write_report (study_report.c): report.md, report.html, findings.tsv
 */
#include "rng.h"
#include "study_priv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *const study_ref_name[STUDY_N_REFS] = {
    "trained GPT (best layer)", "untrained GPT (step 0)", "scrambled-words GPT", "bag of words (lexical)",
    "noise of the layer's shape", "no-language population", "ideal observer",
    "GPT seed vs GPT seed (best layers)", "network seed vs network seed",
};
const char *const study_scan_name[4] = {"fMRI scan: trained GPT", "fMRI scan: untrained GPT",
                                        "fMRI scan: scrambled-words GPT", "fMRI scan: trained - better control"};

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int paths_init(study_paths *p, const char *data_dir, char *err) {
    struct { char *dst; const char *file; } f[] = {
        {p->stimuli, "probes_sentences.txt"}, {p->meta, "probes_sentences.tsv"}, {p->vocab, "vocab.tsv"},
        {p->pairs, "minimal_pairs.tsv"},      {p->facts, "fact_pairs.tsv"},      {p->control, "probes_scrambled.txt"},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if ((size_t)snprintf(f[i].dst, sizeof p->stimuli, "%s/%s", data_dir, f[i].file) >= sizeof p->stimuli)
            return tb_fail(err, "%s: the data folder's name is too long", data_dir);
    return 0;
}

static int ctx_init(study_ctx *c, const study_opts *o, const study_result *r, char *err) {
    memset(c, 0, sizeof *c);
    c->o = o;
    c->d = &r->design;
    if (paths_init(&c->path, o->data_dir, err)) return -1;
    cmp_opts_default(&c->co);
    c->co.stimuli = c->path.stimuli;
    c->co.meta = c->path.meta;
    c->co.vocab = c->path.vocab;
    c->co.pairs = c->path.pairs;
    c->co.trials = c->d->trials;
    c->co.perm = 0;               /* the findings use bootstrap intervals, not permutation p-values */
    c->co.boot = c->d->boot;
    c->co.seed = o->seed;
    c->gpt = calloc((size_t)r->n_gpt, sizeof *c->gpt);
    c->best = malloc((size_t)r->n_gpt * sizeof *c->best);
    c->snn = calloc((size_t)c->d->seeds, sizeof *c->snn);
    c->ref_est = malloc((size_t)STUDY_N_REFS * c->d->seeds * sizeof *c->ref_est);
    c->ref_b = malloc((size_t)STUDY_N_REFS * c->d->seeds * c->d->boot * sizeof *c->ref_b);
    if (!c->gpt || !c->best || !c->snn || !c->ref_est || !c->ref_b) return tb_fail(err, "out of memory");
    for (int k = 0; k < STUDY_N_REFS * c->d->seeds; k++) c->ref_est[k] = NAN;
    for (size_t k = 0; k < (size_t)STUDY_N_REFS * c->d->seeds * c->d->boot; k++) c->ref_b[k] = NAN;
    for (int i = 0; i < r->n_gpt; i++) c->best[i] = -1;
    if (corpus_load(&c->corpus, "toyworld", o->data_dir, "word", err)) return -1;
    c->have_corpus = 1;
    return 0;
}

static void ctx_free(study_ctx *c, int n_gpt) {
    for (int i = 0; c->gpt && i < n_gpt; i++) rep_free(&c->gpt[i]);
    for (int s = 0; c->snn && s < c->d->seeds; s++) rep_free(&c->snn[s]);
    free(c->gpt);
    free(c->best);
    free(c->snn);
    free(c->ref_est);
    free(c->ref_b);
    if (c->have_corpus) corpus_free(&c->corpus);
}

int study_measure(const study_opts *o, study_result *r, char *err) {
    study_ctx c;
    int rc = ctx_init(&c, o, r, err);
    if (!rc) rc = study_measure_finals(&c, r, err);
    if (!rc) rc = study_measure_seed_pairs(&c, r, err);
    if (!rc) rc = study_measure_training(&c, r, err);
    if (!rc) rc = study_measure_ablation(&c, r, err);
    if (!rc) rc = study_measure_references(&c, r, err);
    for (int k = 0; !rc && k < STUDY_N_REFS; k++) {   /* the seed-to-seed rows are set already */
        int S = r->design.seeds, B = r->design.boot;
        if (k != STUDY_REF_SEED_GPT && k != STUDY_REF_SEED_SNN)
            study_hboot(c.ref_est + k * S, c.ref_b + (size_t)k * S * B, S, B, 2000,
                        rng_child_seed(o->seed, "study reference", (uint64_t)k), &r->ref[k], &r->ref_lo[k], &r->ref_hi[k]);
    }
    ctx_free(&c, r->n_gpt);
    return rc;
}

int study_run(const study_design *d, const study_opts *o, study_result *r, char *err) {
    memset(r, 0, sizeof *r);
    r->design = *d;
    for (int k = 0; k < 4; k++) r->scan_rsa[k] = r->scan_lo[k] = r->scan_hi[k] = NAN;
    for (int k = 0; k < STUDY_N_REFS; k++) r->ref[k] = r->ref_lo[k] = r->ref_hi[k] = NAN;
    r->scan_ceiling = NAN;
    double t0 = now_s();
    if (study_train(d, o, r, err)) return -1;
    double t1 = now_s();
    if (study_measure(o, r, err)) return -1;
    study_decide(&r->data, o->seed, r->finding);
    double t2 = now_s();
    r->train_s = t1 - t0;
    r->measure_s = t2 - t1;
    r->total_s = t2 - t0;   /* the report's own few seconds are not counted */
    return study_write_report(o, r, err);
}

void study_result_free(study_result *r) {
    for (int i = 0; i < r->n_final; i++) {
        study_final *F = &r->final[i];
        free(F->layer);
        double *v[] = {F->rsa, F->rsa_lo, F->rsa_hi, F->cka, F->enc, F->enc_units, F->enc_pca, F->rsa_units};
        for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) free(v[k]);
    }
    free(r->final);
    free(r->gpt);
    free(r->snn);
    free(r->pair_gpt);
    study_data_free(&r->data);
    memset(r, 0, sizeof *r);
}
