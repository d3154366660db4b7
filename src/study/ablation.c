/* ablation.c -- the localized set against random sets of the same size.  Lesson 14;
 * see include/ablation.h. */
#include "ablation.h"
#include "rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int abl_random_set(int p, int k, uint64_t seed, int index, int *units, char *err) {
    if (k < 1 || k > p) return tb_fail(err, "random set of %d units out of %d", k, p);
    int *all = malloc((size_t)p * sizeof *all);
    if (!all) return tb_fail(err, "out of memory");
    for (int i = 0; i < p; i++) all[i] = i;
    tb_rng r;
    rng_seed(&r, rng_child_seed(seed, "ablation set", (uint64_t)index));
    for (int i = 0; i < k; i++) {   /* partial Fisher-Yates: the first k are the sample */
        int j = i + (int)rng_below(&r, (uint32_t)(p - i));
        int t = all[i]; all[i] = all[j]; all[j] = t;
    }
    memcpy(units, all, (size_t)k * sizeof *units);
    free(all);
    qsort(units, (size_t)k, sizeof *units, cmp_int);
    return 0;
}

double abl_quantile(const double *x, int n, double q) {
    if (n < 1) return NAN;
    double *s = malloc((size_t)n * sizeof *s);
    if (!s) return NAN;
    memcpy(s, x, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    double h = q * (n - 1);
    int lo = (int)floor(h);
    double v = lo + 1 < n ? s[lo] + (h - lo) * (s[lo + 1] - s[lo]) : s[n - 1];
    free(s);
    return v;
}

int abl_summarize(double local, const double *random, int n, int higher_is_harm, abl_summary *s, char *err) {
    if (n < 1) return tb_fail(err, "no random sets to compare with");
    int less = 0, ties = 0, at_least = 0;   /* random sets doing less harm / as much / at least as much */
    for (int i = 0; i < n; i++) {
        double harm_r = higher_is_harm ? random[i] : -random[i];
        double harm_l = higher_is_harm ? local : -local;
        less += harm_r < harm_l;
        ties += harm_r == harm_l;
        at_least += harm_r >= harm_l;
    }
    s->median = abl_quantile(random, n, 0.5);
    s->p05 = abl_quantile(random, n, 0.05);
    s->p95 = abl_quantile(random, n, 0.95);
    s->percentile = 100.0 * (less + 0.5 * ties) / n;
    s->p_value = (1.0 + at_least) / (1.0 + n);
    return 0;
}

/* ---- the whole control ------------------------------------------------------------------ */

/* Zero units[k] of the residual stream at `layer` (only those) and score the model. */
static int score_with(gpt_model *m, int layer, const int *units, int k, const lm_scorer *s, const tb_tokenizer *tok,
                      const tb_corpus *c, long max_tokens, const char *pairs, lm_eval_result *r, char *err) {
    gpt_ablate_clear(m);
    if (gpt_ablate(m, GPT_ABL_RESID, layer, units, k, err)) return -1;
    return lm_evaluate(s, tok, c, max_tokens, pairs, r, err);
}

void abl_control_free(abl_control *a) {
    free(a->random_loss);
    free(a->random_acc);
    memset(a, 0, sizeof *a);
}

int abl_control_run(gpt_model *m, int layer, const int *units, int k, int n_sets, uint64_t seed, const lm_scorer *s,
                    const tb_tokenizer *tok, const tb_corpus *c, long max_tokens, const char *pairs,
                    void (*progress)(void *ctx, int done, int total), void *ctx, abl_control *out, char *err) {
    memset(out, 0, sizeof *out);
    int C = m->cfg.d_model, *ru = malloc((size_t)(k > 0 ? k : 1) * sizeof *ru);
    out->random_loss = malloc((size_t)(n_sets > 0 ? n_sets : 1) * sizeof(double));
    out->random_acc = malloc((size_t)(n_sets > 0 ? n_sets : 1) * sizeof(double));
    int rc = ru && out->random_loss && out->random_acc ? 0 : tb_fail(err, "out of memory");
    out->n_sets = n_sets;
    out->k = k;
    if (!rc) rc = score_with(m, layer, units, k, s, tok, c, max_tokens, pairs, &out->local, err);
    for (int i = 0; !rc && i < n_sets; i++) {
        lm_eval_result r;
        rc = abl_random_set(C, k, seed, i, ru, err) || score_with(m, layer, ru, k, s, tok, c, max_tokens, pairs, &r, err);
        if (rc) break;
        out->random_loss[i] = r.val_loss;
        out->random_acc[i] = r.pair_acc[0];
        if (progress) progress(ctx, i + 1, n_sets);
    }
    gpt_ablate_clear(m);
    free(ru);
    if (!rc && n_sets > 0) {
        rc = abl_summarize(out->local.val_loss, out->random_loss, n_sets, 1, &out->loss, err);
        if (!rc && !isnan(out->local.pair_acc[0]))
            rc = abl_summarize(out->local.pair_acc[0], out->random_acc, n_sets, 0, &out->acc, err);
        else if (!rc)
            out->acc = (abl_summary){NAN, NAN, NAN, NAN, NAN};
    }
    if (rc) abl_control_free(out);
    return rc;
}
