/* lm_eval.c -- validation loss against the floor, loss by position, minimal pairs by
 * phenomenon, fact recall, and the units of an ablation (see include/lm_eval.h).  Lessons
 * 08 and 14. */
#include "lm_eval.h"
#include "rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The true floor over the first n validation tokens (the corpus's own over all of them). */
static double floor_over(const tb_corpus *c, long n) {
    if (!c->val_nll_true || n >= c->n_val) return c->floor_nats;
    double s = 0;
    for (long i = 0; i < n; i++) s += c->val_nll_true[i];
    return s / n;
}

/* Mean model and floor NLL by position in the sentence (position 0 follows an eos). */
static void by_position(const tb_corpus *c, const float *nll, long n, lm_eval_result *r) {
    double sum[LM_EVAL_POSITIONS] = {0}, fsum[LM_EVAL_POSITIONS] = {0};
    memset(r->pos_tokens, 0, sizeof r->pos_tokens);
    r->n_pos = 0;
    int p = 0;
    for (long i = 0; c->eos >= 0 && i < n; i++) {
        int k = p < LM_EVAL_POSITIONS - 1 ? p : LM_EVAL_POSITIONS - 1;
        sum[k] += nll[i];
        if (c->val_nll_true) fsum[k] += c->val_nll_true[i];
        r->pos_tokens[k]++;
        p = c->val[i] == c->eos ? 0 : p + 1;
    }
    for (int k = 0; k < LM_EVAL_POSITIONS; k++) {
        long t = r->pos_tokens[k];
        if (t) r->n_pos = k + 1;
        r->pos_loss[k] = t ? sum[k] / t : NAN;
        r->pos_floor[k] = t && c->val_nll_true ? fsum[k] / t : NAN;
    }
}

/* ---- minimal pairs by phenomenon, fact recall ------------------------------------------- */

/* The entry of kind `name` in kinds[*n] (added when new); NULL when there are too many. */
static lm_pair_kind *kind_of(lm_pair_kind *kinds, int *n, const char *name) {
    for (int i = 0; i < *n; i++)
        if (!strcmp(kinds[i].name, name)) return &kinds[i];
    if (*n == LM_EVAL_KINDS || strlen(name) >= sizeof kinds[0].name) return NULL;
    lm_pair_kind *k = &kinds[(*n)++];
    snprintf(k->name, sizeof k->name, "%s", name);
    k->pairs = 0;
    k->acc = 0;
    return k;
}

/* Every pair of path scored (right: -ln P(good) < -ln P(bad); a tie counts 1/2, so chance
 * is 0.5), counted by kind into kinds[*n_kinds] and into all / with attractor / without
 * (n[3], right[3]). */
static int score_pairs(const lm_scorer *s, const tb_tokenizer *tok, const char *path, lm_pair_kind *kinds,
                       int *n_kinds, int n[3], double right[3], char *err) {
    int eos = tok_id(tok, ".");
    if (tok->kind != TOK_WORD || eos < 0)
        return tb_fail(err, "minimal pairs need a word-level model with the token '.' (toyworld)");
    tb_minpair *p;
    int np, rc = 0;
    if (corpus_read_minimal_pairs(path, &p, &np, err)) return -1;
    *n_kinds = 0;
    for (int k = 0; k < 3; k++) n[k] = right[k] = 0;
    for (int i = 0; i < np && !rc; i++) {
        double g, b;
        lm_pair_kind *k = kind_of(kinds, n_kinds, p[i].phenomenon);
        if (!k) rc = tb_fail(err, "%s: phenomenon '%s': more than %d kinds, or a name over %d characters", path,
                             p[i].phenomenon, LM_EVAL_KINDS, (int)sizeof k->name - 1);
        else if (!lm_sentence_nll(s, tok, eos, p[i].good, &g, err) && !lm_sentence_nll(s, tok, eos, p[i].bad, &b, err)) {
            double ok = g < b ? 1.0 : g == b ? 0.5 : 0.0;
            int a = p[i].attractor ? 1 : 2;
            k->pairs++;
            k->acc += ok;   /* a count until the end */
            n[0]++, n[a]++;
            right[0] += ok, right[a] += ok;
        } else rc = -1;
    }
    corpus_free_minimal_pairs(p, np);
    for (int i = 0; i < *n_kinds; i++) kinds[i].acc /= kinds[i].pairs;
    return rc;
}

/* The syntax pairs: all, with attractor, without, and by phenomenon. */
int lm_pairs_by_kind(const lm_scorer *s, const tb_tokenizer *tok, const char *path, lm_eval_result *r, char *err) {
    double right[3];
    if (score_pairs(s, tok, path, r->kind, &r->n_kinds, r->pairs, right, err)) return -1;
    for (int k = 0; k < 3; k++) r->pair_acc[k] = r->pairs[k] ? right[k] / r->pairs[k] : NAN;
    return 0;
}

int lm_fact_recall(const lm_scorer *s, const tb_tokenizer *tok, const char *facts_tsv, lm_eval_result *r, char *err) {
    int n[3];
    double right[3];
    r->facts = 0;
    r->fact_acc = NAN;
    if (score_pairs(s, tok, facts_tsv, r->fact_kind, &r->n_fact_kinds, n, right, err)) return -1;
    r->facts = n[0];
    r->fact_acc = n[0] ? right[0] / n[0] : NAN;
    return 0;
}

int lm_evaluate(const lm_scorer *s, const tb_tokenizer *tok, const tb_corpus *c, long max_tokens,
                const char *pairs_tsv, lm_eval_result *r, char *err) {
    memset(r, 0, sizeof *r);
    for (int k = 0; k < 3; k++) r->pair_acc[k] = NAN;
    r->fact_acc = NAN;
    float *nll = malloc((size_t)(c->n_val > 0 ? c->n_val : 1) * sizeof(float));
    if (!nll) return tb_fail(err, "out of memory for %ld validation tokens", c->n_val);
    if (lm_val_loss(s, c, max_tokens, nll, &r->val_loss, err)) { free(nll); return -1; }
    if (!isfinite(r->val_loss)) {
        free(nll);
        return tb_fail(err, "validation loss is %s: the model's weights are not usable (saved after training "
                            "diverged?)", isnan(r->val_loss) ? "NaN" : "infinite");
    }
    r->n_scored = lm_val_tokens(c, max_tokens);
    r->floor_nats = floor_over(c, r->n_scored);
    by_position(c, nll, r->n_scored, r);
    free(nll);
    if (pairs_tsv && lm_pairs_by_kind(s, tok, pairs_tsv, r, err)) return -1;
    return 0;
}

/* ---- ablations --------------------------------------------------------------------- */

int lm_read_units(const char *path, int n_units, int **units, int *n, char *err) {
    char *text;
    size_t len;
    *units = NULL;
    *n = 0;
    if (read_file(path, &text, &len, err)) return -1;
    int *u = malloc((size_t)(n_units > 0 ? n_units : 1) * sizeof(int)), rc = 0;
    if (!u) { free(text); return tb_fail(err, "out of memory"); }
    char *save = NULL;
    for (char *ln = strtok_r(text, "\n", &save); ln && !rc; ln = strtok_r(NULL, "\n", &save)) {
        if (ln[0] == '#' || !ln[strspn(ln, " \t\r")]) continue;
        char *end;
        long x = strtol(ln, &end, 10);
        if (end == ln || x < 0 || x >= n_units)
            rc = tb_fail(err, "%s: '%s' is not a unit index in 0..%d", path, ln, n_units - 1);
        else if (*n < n_units) u[(*n)++] = (int)x;
    }
    free(text);
    if (!rc && *n == 0) rc = tb_fail(err, "%s: no unit indices", path);
    if (rc) { free(u); *n = 0; return -1; }
    *units = u;
    return 0;
}

int lm_random_units(int n_units, int k, uint64_t seed, int **units, char *err) {
    *units = NULL;
    if (k < 1 || k > n_units) return tb_fail(err, "%d random units asked, the layer has %d", k, n_units);
    int *all = malloc((size_t)n_units * sizeof(int)), *u = malloc((size_t)k * sizeof(int));
    if (!all || !u) { free(all); free(u); return tb_fail(err, "out of memory"); }
    for (int i = 0; i < n_units; i++) all[i] = i;
    tb_rng g;
    rng_seed(&g, seed);
    for (int i = 0; i < k; i++) {
        int j = i + (int)rng_below(&g, (uint32_t)(n_units - i));
        int t = all[i];
        all[i] = all[j];
        all[j] = t;
        u[i] = all[i];
    }
    free(all);
    *units = u;
    return 0;
}

/* ---- the tinkerer's readings: logit lens, expert usage, active units (lesson 18) --- */

int lm_lens(gpt_model *m, const lm_scorer *s, const tb_tokenizer *tok, const tb_corpus *c, long max_tokens,
            const char *pairs_tsv, const int *skip, int n_skip, lm_eval_result *rows, char *err) {
    int L = m->cfg.n_layer, rc = 0;
    int *sk = malloc((size_t)(L + n_skip) * sizeof(int));
    if (!sk) return tb_fail(err, "out of memory");
    for (int e = 0; e <= L && !rc; e++) {
        /* exit after block e: blocks e..L-1 bypassed, on top of the caller's own */
        int n = n_skip;
        memcpy(sk, skip, (size_t)n_skip * sizeof(int));
        for (int l = e; l < L; l++) sk[n++] = l;
        rc = gpt_skip(m, sk, n, err) || lm_evaluate(s, tok, c, max_tokens, pairs_tsv, &rows[e], err);
    }
    free(sk);
    if (gpt_skip(m, skip, n_skip, rc ? NULL : err)) return -1;
    return rc ? -1 : 0;
}

void lm_usage_free(lm_usage *u) {
    free(u->cat);
    free(u->tokens);
    free(u->active);
    free(u->expert);
    free(u->blocks);
    memset(u, 0, sizeof *u);
}

/* The category of each token id: its part of speech (toyworld), or one "all". */
static int usage_categories(const tb_corpus *c, lm_usage *u, int *cat_of, char *err) {
    int V = c->tok.vocab_size;
    u->cat = malloc((size_t)V * sizeof *u->cat);
    if (!u->cat) return tb_fail(err, "out of memory");
    for (int v = 0; v < V; v++) {
        const char *name = c->pos ? c->pos[v] : "all";
        int k = 0;
        while (k < u->n_cat && strcmp(u->cat[k], name)) k++;
        if (k == u->n_cat) u->cat[u->n_cat++] = name;
        cat_of[v] = k;
    }
    return 0;
}

/* Sum the model's counters (gpt_usage) into categories, then into shares. */
static void usage_fold(const gpt_model *m, const int *cat_of, lm_usage *u) {
    const gpt_usage *g = &m->usage;
    int V = m->cfg.vocab_size, L = u->L, E = u->E, K = u->n_cat;
    double width = (double)gpt_slots(&m->cfg) * m->cfg.mlp_ratio * m->cfg.d_model, ran = 0, act = 0, total = 0;
    for (int v = 0; v < V; v++) {
        u->tokens[cat_of[v]] += g->count[v];
        total += g->count[v];
        for (int l = 0; l < L; l++) {
            size_t i = (size_t)l * V + v, o = (size_t)l * K + cat_of[v];
            u->active[o] += g->active[i];
            u->blocks[l] += g->blocks[i];
            ran += g->blocks[i];
            act += g->active[i];
            for (int e = 0; e < E; e++) u->expert[o * E + e] += g->expert[i * E + e];
        }
    }
    /* active units over the block's hidden units at the positions where it ran; expert
     * choices over the category's positions */
    for (int l = 0; l < L; l++)
        for (int k = 0; k < K; k++) {
            size_t o = (size_t)l * K + k;
            double n = u->tokens[k] * (u->blocks[l] / (total > 0 ? total : 1));
            u->active[o] = n > 0 ? u->active[o] / (n * width) : NAN;
            for (int e = 0; e < E; e++) u->expert[o * E + e] = u->tokens[k] > 0 ? u->expert[o * E + e] / u->tokens[k] : NAN;
        }
    for (int l = 0; l < L; l++) u->blocks[l] = total > 0 ? u->blocks[l] / total : NAN;
    u->mean_active = ran > 0 ? act / (ran * width) : NAN;
    u->positions = total;
}

int lm_usage_measure(gpt_model *m, const lm_scorer *s, const tb_corpus *c, long max_tokens, lm_usage *u, char *err) {
    memset(u, 0, sizeof *u);
    int V = m->cfg.vocab_size, L = m->cfg.n_layer, E = m->cfg.moe_experts;
    u->L = L;
    u->E = E;
    int *cat_of = malloc((size_t)V * sizeof(int));
    if (!cat_of || usage_categories(c, u, cat_of, err)) { free(cat_of); lm_usage_free(u); return cat_of ? -1 : tb_fail(err, "out of memory"); }
    size_t K = (size_t)u->n_cat;
    u->tokens = calloc(K, sizeof(double));
    u->active = calloc((size_t)L * K, sizeof(double));
    u->expert = calloc((size_t)L * K * (E ? E : 1), sizeof(double));
    u->blocks = calloc((size_t)L, sizeof(double));
    double loss;
    int rc = u->tokens && u->active && u->expert && u->blocks ? 0 : tb_fail(err, "out of memory");
    if (!rc) rc = gpt_usage_enable(m, err) || lm_val_loss(s, c, max_tokens, NULL, &loss, err);
    if (!rc) usage_fold(m, cat_of, u);
    gpt_usage_off(m);
    free(cat_of);
    if (rc) lm_usage_free(u);
    return rc ? -1 : 0;
}
