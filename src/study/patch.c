/* patch.c -- activation patching on the agreement minimal pairs, for the GPT and the
 * spiking network, and what patching finds against the localizer's units.  Lesson 18;
 * the method is at the top of include/patch.h. */
#include "patch.h"
#include "lm_eval.h"
#include "threads.h"
#include "toyworld.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const patch_role_names[PATCH_NROLES] = {".", "det", "adj", "subject", "prep", "det2", "adj2", "last"};

/* ---- the pairs --------------------------------------------------------------------- */

void patch_pairs_free(patch_pairs *p) {
    free(p->clean); free(p->corrupt); free(p->len); free(p->role);
    free(p->right); free(p->wrong); free(p->attractor);
    memset(p, 0, sizeof *p);
}

/* Roles of the prefix ids[len] from the parts of speech of the corpus's vocabulary; 1
 * when some word has no role (a relative clause's "that", a verb before the verb). */
static int prefix_roles(const tb_corpus *c, const int *ids, int len, int *role) {
    int prep = 0;
    role[0] = PATCH_CTX;
    for (int t = 1; t < len; t++) {
        const char *pos = c->pos[ids[t]];
        if (!strcmp(pos, "DET")) role[t] = prep ? PATCH_DET2 : PATCH_DET;
        else if (!strcmp(pos, "ADJ")) role[t] = prep ? PATCH_ADJ2 : PATCH_ADJ;
        else if (!strcmp(pos, "PREP")) { role[t] = PATCH_PREP; prep = 1; }
        else if (!strcmp(pos, "NOUN")) role[t] = t == len - 1 ? PATCH_LAST : PATCH_SUBJ;
        else return 1;
    }
    return 0;
}

/* The corrupted prefix: the subject noun (the first noun) in the other number, and its
 * determiner replaced when it marks the old number only ("a" <-> "some"). */
static int swap_subject(const tb_corpus *c, const tw_grammar *g, int *ids, int len, char *err) {
    int s = 1;
    while (s < len && strcmp(c->pos[ids[s]], "NOUN")) s++;
    const char *w = s < len ? c->tok.tokens[ids[s]] : "";
    int to = -1;
    for (int i = 0; i < g->n_nouns && to < 0; i++) {
        if (!strcmp(g->nouns[i].sg, w)) to = tok_id(&c->tok, g->nouns[i].pl);
        else if (!strcmp(g->nouns[i].pl, w)) to = tok_id(&c->tok, g->nouns[i].sg);
    }
    if (to < 0) return tb_fail(err, "minimal pair: no subject noun with two numbers in the prefix");
    int plural = !strcmp(c->number[to], "pl");
    ids[s] = to;
    for (int d = 1; d < s; d++) {   /* the subject's determiner */
        if (strcmp(c->pos[ids[d]], "DET")) continue;
        const char *dw = c->tok.tokens[ids[d]];
        for (int i = 0; i < g->n_dets; i++) {
            const tw_det *det = &g->dets[i];
            if (strcmp(det->word, dw) || (plural ? det->w_pl : det->w_sg) > 0) continue;
            for (int j = 0; j < g->n_dets; j++)   /* one that marks the new number */
                if ((plural ? g->dets[j].w_pl : g->dets[j].w_sg) > 0 && (plural ? g->dets[j].w_sg : g->dets[j].w_pl) == 0)
                    ids[d] = tok_id(&c->tok, g->dets[j].word);
        }
    }
    return 0;
}

static int patch_pairs_alloc(patch_pairs *p, int n, int T, char *err) {
    p->n = n;
    p->T = T;
    p->clean = calloc((size_t)n * T, sizeof(int));
    p->corrupt = calloc((size_t)n * T, sizeof(int));
    p->role = malloc((size_t)n * T * sizeof(int));
    p->len = calloc((size_t)n, sizeof(int));
    p->right = calloc((size_t)n, sizeof(int));
    p->wrong = calloc((size_t)n, sizeof(int));
    p->attractor = calloc((size_t)n, sizeof(int));
    if (!p->clean || !p->corrupt || !p->role || !p->len || !p->right || !p->wrong || !p->attractor)
        return tb_fail(err, "out of memory");
    for (size_t i = 0; i < (size_t)n * T; i++) p->role[i] = -1;
    return 0;
}

/* One pair into row i: ". good[0..v-1]" and its corrupted twin, v the verb; 1 when its
 * prefix cannot be placed in the roles (the row is then free again). */
static int one_pair(const tb_corpus *c, const tb_minpair *mp, patch_pairs *p, int i, char *err) {
    int *good, *bad, ng, nb, rc = 0;
    if (tok_encode(&c->tok, mp->good, &good, &ng, err)) return -1;
    if (tok_encode(&c->tok, mp->bad, &bad, &nb, err)) { free(good); return -1; }
    int v = 0;
    while (v < ng && v < nb && good[v] == bad[v]) v++;
    if (v == ng || v == nb || v + 1 > p->T) rc = tb_fail(err, "minimal pair '%s': no verb to predict within %d tokens", mp->good, p->T);
    int *cl = p->clean + (size_t)i * p->T, *co = p->corrupt + (size_t)i * p->T;
    if (!rc) {
        cl[0] = c->eos;
        memcpy(cl + 1, good, (size_t)v * sizeof(int));
        memcpy(co, cl, (size_t)(v + 1) * sizeof(int));
        p->len[i] = v + 1;
        p->right[i] = good[v];
        p->wrong[i] = bad[v];
        p->attractor[i] = mp->attractor;
        rc = prefix_roles(c, cl, v + 1, p->role + (size_t)i * p->T);
        if (!rc && swap_subject(c, &toyworld_grammar, co, v + 1, err)) rc = -1;
        if (rc == 1)
            for (int t = 0; t < p->T; t++) { cl[t] = co[t] = 0; p->role[(size_t)i * p->T + t] = -1; }
    }
    free(good);
    free(bad);
    return rc;
}

/* "relative_object" into the list of skipped phenomena, once. */
static void note_skipped(patch_pairs *p, const char *phenomenon) {
    size_t len = strlen(p->skipped_kinds);
    const char *at = strstr(p->skipped_kinds, phenomenon);
    if (at && (at[strlen(phenomenon)] == 0 || at[strlen(phenomenon)] == ',')) return;
    snprintf(p->skipped_kinds + len, sizeof p->skipped_kinds - len, "%s%s", len ? ", " : "", phenomenon);
}

int patch_pairs_load(const char *path, const tb_corpus *c, int max_pairs, patch_pairs *p, char *err) {
    memset(p, 0, sizeof *p);
    if (c->eos < 0 || !c->pos) return tb_fail(err, "%s: patching needs the toyworld corpus (parts of speech)", c->name);
    tb_minpair *mp;
    int n_read;
    if (corpus_read_minimal_pairs(path, &mp, &n_read, err)) return -1;
    int want = max_pairs > 0 && max_pairs < n_read ? max_pairs : n_read, n = 0;
    int rc = patch_pairs_alloc(p, want, TW_MAX_LEN, err);
    for (int i = 0; i < n_read && n < want && !rc; i++) {
        rc = one_pair(c, &mp[i], p, n, err);
        if (rc == 1) { p->skipped++; note_skipped(p, mp[i].phenomenon); rc = 0; }
        else if (!rc) n++;
    }
    corpus_free_minimal_pairs(mp, n_read);
    if (!rc && n == 0) rc = tb_fail(err, "%s: no pair whose prefix patching can place in its roles (det, adj, subject, "
                                         "prep, noun)", path);
    if (rc) { patch_pairs_free(p); return -1; }
    p->n = n;
    /* the longest prefix is the batch's width */
    int T = 1;
    for (int i = 0; i < n; i++) T = p->len[i] > T ? p->len[i] : T;
    for (int i = 0; i < n; i++) {
        memmove(p->clean + (size_t)i * T, p->clean + (size_t)i * TW_MAX_LEN, (size_t)T * sizeof(int));
        memmove(p->corrupt + (size_t)i * T, p->corrupt + (size_t)i * TW_MAX_LEN, (size_t)T * sizeof(int));
        memmove(p->role + (size_t)i * T, p->role + (size_t)i * TW_MAX_LEN, (size_t)T * sizeof(int));
    }
    p->T = T;
    return 0;
}

/* Where role r sits in pair i (-1: the pair has none). */
static int role_pos(const patch_pairs *p, int i, int r) {
    for (int t = 0; t < p->len[i]; t++) if (p->role[(size_t)i * p->T + t] == r) return t;
    return -1;
}

/* sum (ld - x) / sum (c - x) over the pairs in use[i] (NULL: all); NaN when none. */
static double restored_share(const double *ld, const double *c, const double *x, const unsigned char *use, int n) {
    double num = 0, den = 0;
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (use && !use[i]) continue;
        num += ld[i] - x[i];
        den += c[i] - x[i];
        k++;
    }
    return k ? num / den : NAN;
}

/* ---- the GPT ------------------------------------------------------------------------- */

typedef struct {
    gpt_model *m;
    const patch_pairs *p;
    float *resid, *atty, *hid;       /* the clean run: [(L+1) | L | L][n, T, C | C | H] */
    double *ld_clean, *ld_corrupt, *ld;   /* [n] */
    unsigned char *use;              /* [n] */
    gpt_patch site;
    int *pos;                        /* [n] */
    unsigned char *units;            /* [max(C, H)] */
} gpt_lab;

/* One batch over every pair; ld[i] = logit(right) - logit(wrong) at the last position. */
static int run_ld(gpt_lab *g, const int *ids, double *ld, char *err) {
    const patch_pairs *p = g->p;
    if (gpt_forward(g->m, ids, NULL, p->n, p->T, NULL, err)) return -1;
    int V = g->m->cfg.vocab_size;
    for (int i = 0; i < p->n; i++) {
        const float *l = g->m->acts.logits + ((size_t)i * p->T + p->len[i] - 1) * V;
        ld[i] = (double)l[p->right[i]] - l[p->wrong[i]];
    }
    return 0;
}

static void gpt_lab_free(gpt_lab *g) {
    free(g->resid); free(g->atty); free(g->hid);
    free(g->ld_clean); free(g->ld_corrupt); free(g->ld);
    free(g->use); free(g->pos); free(g->units);
    g->m->patch = NULL;
}

/* The clean run's activations and both runs' logit differences. */
static int gpt_lab_open(gpt_lab *g, gpt_model *m, const patch_pairs *p, char *err) {
    memset(g, 0, sizeof *g);
    g->m = m;
    g->p = p;
    const gpt_config *c = &m->cfg;
    int L = c->n_layer, C = c->d_model, H = c->mlp_ratio * C, W = C > H ? C : H;
    size_t nT = (size_t)p->n * p->T;
    if (p->T > c->ctx) return tb_fail(err, "prefixes of %d tokens are longer than the model's context %d", p->T, c->ctx);
    g->resid = malloc((size_t)(L + 1) * nT * C * sizeof(float));
    g->atty = malloc((size_t)L * nT * C * sizeof(float));
    g->hid = c->moe_experts ? NULL : malloc((size_t)L * nT * H * sizeof(float));
    g->ld_clean = malloc((size_t)p->n * sizeof(double));
    g->ld_corrupt = malloc((size_t)p->n * sizeof(double));
    g->ld = malloc((size_t)p->n * sizeof(double));
    g->use = malloc((size_t)p->n);
    g->pos = malloc((size_t)p->n * sizeof(int));
    g->units = malloc((size_t)W);
    if (!g->resid || !g->atty || (!c->moe_experts && !g->hid) || !g->ld_clean || !g->ld_corrupt || !g->ld || !g->use ||
        !g->pos || !g->units)
        return tb_fail(err, "out of memory for the patching runs");
    m->patch = NULL;
    if (run_ld(g, p->clean, g->ld_clean, err)) return -1;
    for (int l = 0; l <= L; l++) memcpy(g->resid + l * nT * C, gpt_tap(m, GPT_TAP_RESID, l, NULL), nT * C * sizeof(float));
    for (int l = 0; l < L; l++) {
        memcpy(g->atty + l * nT * C, m->acts.atty + l * nT * C, nT * C * sizeof(float));
        if (g->hid) memcpy(g->hid + l * nT * H, gpt_tap(m, GPT_TAP_MLP_HIDDEN, l, NULL), nT * H * sizeof(float));
    }
    return run_ld(g, p->corrupt, g->ld_corrupt, err);
}

/* The corrupted batch with g->site patched in; the share restored over g->use (NULL: all). */
static int gpt_restore(gpt_lab *g, const unsigned char *use, double *out, char *err) {
    g->m->patch = &g->site;
    int rc = run_ld(g, g->p->corrupt, g->ld, err);
    g->m->patch = NULL;
    if (!rc) *out = restored_share(g->ld, g->ld_clean, g->ld_corrupt, use, g->p->n);
    return rc;
}

/* Residual stream at layer l, role r: over all pairs (out[0]) and attractor pairs (out[1]). */
static int gpt_resid_role(gpt_lab *g, int l, int r, double out[2], char *err) {
    const patch_pairs *p = g->p;
    int any = 0, C = g->m->cfg.d_model;
    for (int i = 0; i < p->n; i++) { g->pos[i] = role_pos(p, i, r); any |= g->pos[i] >= 0; }
    out[0] = out[1] = NAN;
    if (!any) return 0;
    g->site = (gpt_patch){GPT_PATCH_RESID, l, g->pos, NULL, g->resid + (size_t)l * p->n * p->T * C};
    for (int i = 0; i < p->n; i++) g->use[i] = g->pos[i] >= 0;
    if (gpt_restore(g, g->use, &out[0], err)) return -1;
    /* same run, attractor pairs only */
    for (int i = 0; i < p->n; i++) g->use[i] = g->pos[i] >= 0 && p->attractor[i];
    out[1] = restored_share(g->ld, g->ld_clean, g->ld_corrupt, g->use, p->n);
    return 0;
}

/* Units [u0, u1) of a site of width w patched at every position. */
static int gpt_unit_range(gpt_lab *g, gpt_patch_site site, int l, const float *src, int w, int u0, int u1, double *out,
                          char *err) {
    memset(g->units, 0, (size_t)w);
    memset(g->units + u0, 1, (size_t)(u1 - u0));
    g->site = (gpt_patch){site, l, NULL, g->units, src};
    return gpt_restore(g, NULL, out, err);
}

static int gpt_alloc_result(const gpt_model *m, const patch_pairs *p, int mlp, int units_layer, patch_gpt_result *r, char *err) {
    const gpt_config *c = &m->cfg;
    memset(r, 0, sizeof *r);
    r->L = c->n_layer;
    r->NH = c->n_head;
    r->C = c->d_model;
    r->H = c->mlp_ratio * c->d_model;
    r->n_pairs = p->n;
    for (int i = 0; i < p->n; i++) r->n_attractor += p->attractor[i];
    r->units_layer = units_layer;
    r->residual = malloc((size_t)(r->L + 1) * PATCH_NROLES * sizeof(double));
    r->residual_attr = malloc((size_t)(r->L + 1) * PATCH_NROLES * sizeof(double));
    r->heads = malloc((size_t)r->L * r->NH * sizeof(double));
    r->mlp = mlp && !c->moe_experts ? malloc((size_t)r->L * r->H * sizeof(double)) : NULL;
    r->units = units_layer >= 0 ? malloc((size_t)r->C * sizeof(double)) : NULL;
    if (!r->residual || !r->residual_attr || !r->heads || (mlp && !c->moe_experts && !r->mlp) || (units_layer >= 0 && !r->units))
        return tb_fail(err, "out of memory");
    return 0;
}

void patch_gpt_free(patch_gpt_result *r) {
    free(r->residual); free(r->residual_attr); free(r->heads); free(r->mlp); free(r->units);
    memset(r, 0, sizeof *r);
}

static double mean_of(const double *x, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) s += x[i];
    return n ? s / n : NAN;
}

int patch_gpt(gpt_model *m, const patch_pairs *p, int mlp, int units_layer, patch_gpt_result *r, char *err) {
    gpt_lab g = {0};
    int L = m->cfg.n_layer, C = m->cfg.d_model, H = m->cfg.mlp_ratio * C, hs = C / m->cfg.n_head;
    size_t nT = (size_t)p->n * p->T;
    if (units_layer > L) return tb_fail(err, "units layer %d out of range 0..%d", units_layer, L);
    int rc = gpt_alloc_result(m, p, mlp, units_layer, r, err) || gpt_lab_open(&g, m, p, err);
    if (!rc) {
        r->ld_clean = mean_of(g.ld_clean, p->n);
        r->ld_corrupt = mean_of(g.ld_corrupt, p->n);
    }
    for (int l = 0; l <= L && !rc; l++)
        for (int k = 0; k < PATCH_NROLES && !rc; k++) {
            double o[2];
            rc = gpt_resid_role(&g, l, k, o, err);
            r->residual[l * PATCH_NROLES + k] = o[0];
            r->residual_attr[l * PATCH_NROLES + k] = o[1];
        }
    for (int l = 0; l < L && !rc; l++)
        for (int h = 0; h < r->NH && !rc; h++)
            rc = gpt_unit_range(&g, GPT_PATCH_ATTN_Y, l, g.atty + l * nT * C, C, h * hs, (h + 1) * hs, &r->heads[l * r->NH + h], err);
    for (int l = 0; r->mlp && l < L && !rc; l++)
        for (int u = 0; u < H && !rc; u++)
            rc = gpt_unit_range(&g, GPT_PATCH_MLP, l, g.hid + l * nT * H, H, u, u + 1, &r->mlp[(size_t)l * H + u], err);
    for (int u = 0; r->units && u < C && !rc; u++)
        rc = gpt_unit_range(&g, GPT_PATCH_RESID, units_layer, g.resid + units_layer * nT * C, C, u, u + 1, &r->units[u], err);
    if (g.m) gpt_lab_free(&g);
    if (rc) patch_gpt_free(r);
    return rc ? -1 : 0;
}

int patch_gpt_unit_set(gpt_model *m, const patch_pairs *p, int layer, const int *units, int k, double *restored,
                       char *err) {
    gpt_lab g;
    int C = m->cfg.d_model, rc = gpt_lab_open(&g, m, p, err);
    for (int i = 0; !rc && i < k; i++)
        if (units[i] < 0 || units[i] >= C) rc = tb_fail(err, "unit %d out of range 0..%d", units[i], C - 1);
    if (layer < 0 || layer > m->cfg.n_layer) rc = tb_fail(err, "layer %d out of range 0..%d", layer, m->cfg.n_layer);
    if (!rc) {
        memset(g.units, 0, (size_t)C);
        for (int i = 0; i < k; i++) g.units[units[i]] = 1;
        g.site = (gpt_patch){GPT_PATCH_RESID, layer, NULL, g.units, g.resid + (size_t)layer * p->n * p->T * C};
        rc = gpt_restore(&g, NULL, restored, err);
    }
    if (g.m) gpt_lab_free(&g);
    return rc;
}

/* ---- the spiking network ------------------------------------------------------------- */

/* Per pair: the clean run's states, both logit differences, and one patched run per site.
 * A site is (mask, position): sites_mask[s][N], sites_role[s] (-1: every position). */
typedef struct {
    const srnn_model *m;
    const patch_pairs *p;
    int n_sites;
    unsigned char *mask;      /* [n_sites, N] */
    int *role;                /* [n_sites] */
    double *ld;               /* [n_sites, n] */
    double *ld_clean, *ld_corrupt;   /* [n] */
    int *fail;                /* [ntasks] */
    char (*err)[TB_ERRLEN];   /* [ntasks] */
} snn_lab;

/* logit(right) - logit(wrong) after a (patched) run of the prefix ids. */
static int snn_ld(const snn_lab *s, int i, const int *ids, const float *src, const unsigned char *mask, int pos,
                  float *states, float *logits, double *out, char *err) {
    const patch_pairs *p = s->p;
    if (srnn_patch_run(s->m, ids, p->len[i], src, mask, pos, states, logits, err)) return -1;
    *out = (double)logits[p->right[i]] - logits[p->wrong[i]];
    return 0;
}

static int snn_pair(const snn_lab *s, int i, float *states, float *logits, char *err) {
    const patch_pairs *p = s->p;
    const int *cl = p->clean + (size_t)i * p->T, *co = p->corrupt + (size_t)i * p->T;
    int N = s->m->N;
    if (snn_ld(s, i, cl, NULL, NULL, -1, states, logits, &s->ld_clean[i], err) ||
        snn_ld(s, i, co, NULL, NULL, -1, NULL, logits, &s->ld_corrupt[i], err))
        return -1;
    for (int k = 0; k < s->n_sites; k++) {
        double *out = &s->ld[(size_t)k * p->n + i];
        int pos = s->role[k] < 0 ? -1 : role_pos(p, i, s->role[k]);
        if (s->role[k] >= 0 && pos < 0) { *out = NAN; continue; }   /* the pair has no such position */
        if (snn_ld(s, i, co, states, s->mask + (size_t)k * N, pos, NULL, logits, out, err)) return -1;
    }
    return 0;
}

static void snn_task(void *ctx, int task, int ntasks) {
    snn_lab *s = ctx;
    const srnn_model *m = s->m;
    float *states = malloc((size_t)s->p->T * srnn_state_size(m) * sizeof(float));
    float *logits = malloc((size_t)m->V * sizeof(float));
    if (!states || !logits) s->fail[task] = tb_fail(s->err[task], "out of memory");
    for (int i = task; i < s->p->n && !s->fail[task]; i += ntasks) s->fail[task] = snn_pair(s, i, states, logits, s->err[task]);
    free(states);
    free(logits);
}

/* Run every pair through every site, pairs spread over the thread pool. */
static int snn_run_sites(snn_lab *s, char *err) {
    int nt = tb_threads() < s->p->n ? tb_threads() : s->p->n, rc = 0;
    s->ld = malloc((size_t)s->n_sites * s->p->n * sizeof(double));
    s->ld_clean = malloc((size_t)s->p->n * sizeof(double));
    s->ld_corrupt = malloc((size_t)s->p->n * sizeof(double));
    s->fail = calloc((size_t)nt, sizeof(int));
    s->err = calloc((size_t)nt, sizeof *s->err);
    if (!s->ld || !s->ld_clean || !s->ld_corrupt || !s->fail || !s->err) return tb_fail(err, "out of memory");
    tb_parallel(nt, snn_task, s);
    for (int t = 0; t < nt && !rc; t++) if (s->fail[t]) rc = tb_fail(err, "%s", s->err[t]);
    return rc;
}

static void snn_lab_free(snn_lab *s) {
    free(s->mask); free(s->role); free(s->ld); free(s->ld_clean); free(s->ld_corrupt); free(s->fail); free(s->err);
}

/* The share site k restores, over the pairs where it exists. */
static double snn_site_share(const snn_lab *s, int k) {
    const patch_pairs *p = s->p;
    double num = 0, den = 0;
    int used = 0;
    for (int i = 0; i < p->n; i++) {
        double ld = s->ld[(size_t)k * p->n + i];
        if (isnan(ld)) continue;
        num += ld - s->ld_corrupt[i];
        den += s->ld_clean[i] - s->ld_corrupt[i];
        used++;
    }
    return used ? num / den : NAN;
}

static int snn_lab_open(snn_lab *s, const srnn_model *m, const patch_pairs *p, int n_sites, char *err) {
    memset(s, 0, sizeof *s);
    s->m = m;
    s->p = p;
    s->n_sites = n_sites;
    s->mask = calloc((size_t)n_sites * m->N, 1);
    s->role = malloc((size_t)n_sites * sizeof(int));
    return s->mask && s->role ? 0 : tb_fail(err, "out of memory");
}

void patch_snn_free(patch_snn_result *r) {
    free(r->group_role);
    free(r->neurons);
    memset(r, 0, sizeof *r);
}

int patch_snn(const srnn_model *m, const patch_pairs *p, int groups, int per_neuron, patch_snn_result *r, char *err) {
    int N = m->N, G = groups < 1 ? 1 : groups > N ? N : groups, R = PATCH_NROLES;
    int n_sites = (G + 1) * R + (per_neuron ? N : 0);
    memset(r, 0, sizeof *r);
    r->groups = G;
    r->N = N;
    r->n_pairs = p->n;
    snn_lab s;
    int rc = snn_lab_open(&s, m, p, n_sites, err);
    for (int g = 0; !rc && g <= G; g++)   /* group g (G: every neuron) at each role */
        for (int k = 0; k < R; k++) {
            int site = g * R + k, lo = g < G ? (int)((long)g * N / G) : 0, hi = g < G ? (int)((long)(g + 1) * N / G) : N;
            memset(s.mask + (size_t)site * N + lo, 1, (size_t)(hi - lo));
            s.role[site] = k;
        }
    for (int u = 0; !rc && per_neuron && u < N; u++) {   /* each neuron at every position */
        int site = (G + 1) * R + u;
        s.mask[(size_t)site * N + u] = 1;
        s.role[site] = -1;
    }
    if (!rc) rc = snn_run_sites(&s, err);
    r->group_role = rc ? NULL : malloc((size_t)(G + 1) * R * sizeof(double));
    r->neurons = rc || !per_neuron ? NULL : malloc((size_t)N * sizeof(double));
    if (!rc && (!r->group_role || (per_neuron && !r->neurons))) rc = tb_fail(err, "out of memory");
    for (int k = 0; !rc && k < (G + 1) * R; k++) r->group_role[k] = snn_site_share(&s, k);
    for (int u = 0; !rc && per_neuron && u < N; u++) r->neurons[u] = snn_site_share(&s, (G + 1) * R + u);
    if (!rc) {
        r->ld_clean = mean_of(s.ld_clean, p->n);
        r->ld_corrupt = mean_of(s.ld_corrupt, p->n);
    }
    snn_lab_free(&s);
    if (rc) patch_snn_free(r);
    return rc ? -1 : 0;
}

int patch_snn_unit_set(const srnn_model *m, const patch_pairs *p, const int *units, int k, double *restored,
                       char *err) {
    snn_lab s;
    int rc = snn_lab_open(&s, m, p, 1, err);
    for (int i = 0; !rc && i < k; i++) {
        if (units[i] < 0 || units[i] >= m->N) rc = tb_fail(err, "neuron %d out of range 0..%d", units[i], m->N - 1);
        else s.mask[units[i]] = 1;
    }
    if (!rc) {
        s.role[0] = -1;
        rc = snn_run_sites(&s, err);
    }
    if (!rc) *restored = snn_site_share(&s, 0);
    snn_lab_free(&s);
    return rc;
}

/* ---- patching against the localizer -------------------------------------------------- */

void patch_vs_localizer_free(patch_vs_localizer *v) {
    free(v->top);
    memset(v, 0, sizeof *v);
}

int patch_compare_units(const double *score, int n_units, const int *units, int k, patch_vs_localizer *v, char *err) {
    memset(v, 0, sizeof *v);
    if (k < 1 || k > n_units) return tb_fail(err, "%d units to compare, of %d", k, n_units);
    v->k = k;
    v->n_units = n_units;
    v->top = malloc((size_t)k * sizeof(int));
    unsigned char *taken = calloc((size_t)n_units, 1);
    if (!v->top || !taken) { free(taken); patch_vs_localizer_free(v); return tb_fail(err, "out of memory"); }
    for (int r = 0; r < k; r++) {   /* the k largest scores, ties to the lower index; NaN last */
        int best = -1;
        for (int u = 0; u < n_units; u++)
            if (!taken[u] && (best < 0 || (!isnan(score[u]) && (isnan(score[best]) || score[u] > score[best])))) best = u;
        taken[best] = 1;
        v->top[r] = best;
    }
    memset(taken, 0, (size_t)n_units);
    for (int r = 0; r < k; r++) taken[v->top[r]] = 1;
    for (int i = 0; i < k; i++) v->overlap += units[i] >= 0 && units[i] < n_units && taken[units[i]];
    v->overlap_chance = (double)k * k / n_units;
    free(taken);
    return 0;
}

/* Patch a unit set of either model (ctx: the model and where). */
typedef int (*unit_set_fn)(void *ctx, const patch_pairs *p, const int *units, int k, double *restored, char *err);
typedef struct { gpt_model *g; const srnn_model *s; int layer; } unit_site;

static int gpt_set(void *ctx, const patch_pairs *p, const int *units, int k, double *restored, char *err) {
    unit_site *u = ctx;
    return patch_gpt_unit_set(u->g, p, u->layer, units, k, restored, err);
}
static int snn_set(void *ctx, const patch_pairs *p, const int *units, int k, double *restored, char *err) {
    unit_site *u = ctx;
    return patch_snn_unit_set(u->s, p, units, k, restored, err);
}

/* The localizer's set and n_random random sets of the same size, patched whole. */
static int against_random(unit_set_fn f, void *ctx, const patch_pairs *p, const double *score, int n_units,
                          const int *units, int k, int n_random, uint64_t seed, patch_vs_localizer *v, char *err) {
    if (patch_compare_units(score, n_units, units, k, v, err) || f(ctx, p, units, k, &v->restored, err)) return -1;
    double s = 0, s2 = 0;
    for (int i = 0; i < n_random; i++) {
        int *r;
        double x;
        if (lm_random_units(n_units, k, rng_child_seed(seed, "patch random units", (uint64_t)i), &r, err)) return -1;
        int rc = f(ctx, p, r, k, &x, err);
        free(r);
        if (rc) return -1;
        s += x;
        s2 += x * x;
    }
    v->n_random = n_random;
    v->random_mean = n_random ? s / n_random : NAN;
    v->random_sd = n_random > 1 ? sqrt(fmax(0, (s2 - s * s / n_random) / (n_random - 1))) : NAN;
    return 0;
}

int patch_localizer_gpt(gpt_model *m, const patch_pairs *p, int layer, const double *score, const int *units, int k,
                        int n_random, uint64_t seed, patch_vs_localizer *v, char *err) {
    unit_site u = {m, NULL, layer};
    int rc = against_random(gpt_set, &u, p, score, m->cfg.d_model, units, k, n_random, seed, v, err);
    if (rc) patch_vs_localizer_free(v);
    return rc;
}

int patch_localizer_snn(const srnn_model *m, const patch_pairs *p, const double *score, const int *units, int k,
                        int n_random, uint64_t seed, patch_vs_localizer *v, char *err) {
    unit_site u = {NULL, m, 0};
    int rc = against_random(snn_set, &u, p, score, m->N, units, k, n_random, seed, v, err);
    if (rc) patch_vs_localizer_free(v);
    return rc;
}
