/* figures.c -- the study's pictures (see include/figures.h). */
#include "figures.h"
#include "plot.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- line plots ---------------------------------------------------------------------- */

/* The positions with tokens: x[n] (position), model loss, floor; returns n; *floor = 1
 * when the floor is known somewhere. */
static int position_rows(const lm_eval_result *r, double *x, double *ym, double *yf, int *floor) {
    int n = 0;
    *floor = 0;
    for (int k = 0; k < r->n_pos; k++)
        if (r->pos_tokens[k]) {
            x[n] = k;
            ym[n] = r->pos_loss[k];
            yf[n] = r->pos_floor[k];
            *floor |= !isnan(yf[n]);
            n++;
        }
    return n;
}

int fig_position_loss(const char *dir, const char *name, const char *what, const lm_eval_result *r, int *rendered,
                      char *err) {
    double x[LM_EVAL_POSITIONS], ym[LM_EVAL_POSITIONS], yf[LM_EVAL_POSITIONS];
    int floor, n = position_rows(r, x, ym, yf, &floor);
    tb_series s[2] = {{"model", x, ym, n, "linespoints"}, {"true floor", x, yf, n, "linespoints"}};
    char *title = tb_strf("Loss by position in the sentence: %s", what);
    tb_lineplot lp = {title ? title : "Loss by position in the sentence", "position (0 = first word after '.')",
                      "nats per token", 0, 0, 0, NAN, 0, 0};
    int rc = plot_lines(dir, name, &lp, s, floor ? 2 : 1, rendered, err);
    free(title);
    return rc;
}

int fig_position_excess(const char *dir, const char *name, const char *what, const lm_eval_result *r, int *drawn,
                        int *rendered, char *err) {
    double x[LM_EVAL_POSITIONS], ym[LM_EVAL_POSITIONS], yf[LM_EVAL_POSITIONS], ex[LM_EVAL_POSITIONS];
    int floor, n = position_rows(r, x, ym, yf, &floor), m = 0;
    *drawn = *rendered = 0;
    if (!floor) return 0;
    for (int i = 0; i < n; i++)
        if (!isnan(yf[i])) { x[m] = x[i]; ex[m++] = ym[i] - yf[i]; }
    double zx[2] = {0, m ? x[m - 1] : 1}, zy[2] = {0, 0};
    tb_series s[2] = {{"model - floor (what is left to learn)", x, ex, m, "linespoints"}, {"floor", zx, zy, 2, "dashed"}};
    char *title = tb_strf("Excess over the true floor by position: %s", what);
    tb_lineplot lp = {title ? title : "Excess over the true floor by position", "position (0 = first word after '.')",
                      "nats per token above the floor", 0, 0, NAN, NAN, 0, 0};
    int rc = plot_lines(dir, name, &lp, s, 2, rendered, err);
    free(title);
    *drawn = rc == 0;
    return rc;
}

int fig_localizer_t(const char *dir, const char *name, const char *contrast, const double *t, int p, const int *idx, int k,
                    int *rendered, char *err) {
    double *x = malloc((size_t)p * sizeof(double)), *y = malloc((size_t)p * sizeof(double));
    double *xs = malloc((size_t)k * sizeof(double)), *ys = malloc((size_t)k * sizeof(double));
    double lo = INFINITY, hi = -INFINITY;
    int rc = x && y && xs && ys && k >= 1 ? 0 : tb_fail(err, "out of memory");
    for (int u = 0; !rc && u < p; u++) {
        x[u] = u;
        y[u] = t[u];
        if (isfinite(t[u])) { lo = t[u] < lo ? t[u] : lo; hi = t[u] > hi ? t[u] : hi; }
    }
    if (!isfinite(lo)) { lo = -1; hi = 1; }
    /* infinite t (zero variance) drawn at the edge of the finite range */
    for (int u = 0; !rc && u < p; u++) if (!isfinite(y[u])) y[u] = y[u] > 0 ? hi : lo;
    for (int i = 0; !rc && i < k; i++) { xs[i] = idx[i]; ys[i] = y[idx[i]]; }
    if (!rc) {
        double thr = ys[k - 1], tx[2] = {0, p - 1}, ty[2] = {thr, thr};
        tb_series s[3] = {{"all units", x, y, p, "points"},
                          {"selected language units", xs, ys, k, "points"},
                          {"selection threshold", tx, ty, 2, "dashed"}};
        char *title = tb_strf("Language localizer, Welch t per unit: %s", contrast ? contrast : "sentences vs control");
        tb_lineplot lp = {title ? title : "Language localizer", "unit index", "Welch t (sentences - control)", 0, 0, NAN,
                          NAN, 1000, 500};
        rc = plot_lines(dir, name, &lp, s, 3, rendered, err);
        free(title);
    }
    free(x); free(y); free(xs); free(ys);
    return rc;
}

/* One series per listed metric that has a value somewhere, x = 0..n-1. */
static int metric_lines(const char *dir, const char *name, const align_result *res, int n, const int *metrics, int nm,
                        const tb_lineplot *lp, int *rendered, char *err) {
    double *x = malloc((size_t)(n > 0 ? n : 1) * sizeof(double));
    double *y = malloc((size_t)(n > 0 ? n : 1) * (nm > 0 ? nm : 1) * sizeof(double));
    tb_series *s = malloc((size_t)(nm > 0 ? nm : 1) * sizeof *s);
    int ns = 0, rc = x && y && s ? 0 : tb_fail(err, "out of memory");
    for (int i = 0; !rc && i < n; i++) x[i] = i;
    for (int q = 0; !rc && q < nm; q++) {
        double *yq = y + (size_t)ns * n;
        int any = 0;
        for (int i = 0; i < n; i++) { yq[i] = cmp_value(&res[i], metrics[q]); any |= !isnan(yq[i]); }
        if (any) s[ns++] = (tb_series){cmp_metrics[metrics[q]].key, x, yq, n, "linespoints"};
    }
    if (!rc) rc = plot_lines(dir, name, lp, s, ns, rendered, err);
    free(x); free(y); free(s);
    return rc;
}

int fig_metrics_by_layer(const char *dir, const char *name, const align_result *res, int n, int families,
                         const char *xlabel, int *rendered, char *err) {
    int any_sim = 0, nm = 0, m[CMP_N_METRICS];
    for (int i = 0; i < cmp_n_metrics; i++)
        if (!strcmp(cmp_metrics[i].kind, "similarity") && (cmp_metrics[i].family & families)) any_sim = 1;
    const char *kind = any_sim ? "similarity" : "distance";
    for (int i = 0; i < cmp_n_metrics; i++)
        if (!strcmp(cmp_metrics[i].kind, kind) && !(cmp_metrics[i].family & CMP_STAT)) m[nm++] = i;
    tb_lineplot lp = {any_sim ? "Alignment by layer (similarities: higher = more alike)"
                              : "Alignment by layer (distances: lower = more alike)",
                      xlabel, any_sim ? "similarity" : "distance (0 = same shape)", 0, 0, NAN, NAN, 0, 0};
    return metric_lines(dir, name, res, n, m, nm, &lp, rendered, err);
}

/* Without references: the main similarities by layer, as lines. */
static int by_layer_plain(const char *dir, const char *name, const cmp_result *r, int *rendered, char *err) {
    static const char *const keys[6] = {"rsa_spearman", "cka_linear", "cka_linear_debiased", "svcca",
                                        "encoding_r_median", "encoding_r_ceiled"};
    int m[6];
    for (int q = 0; q < 6; q++) m[q] = cmp_metric_index(keys[q]);
    char *title = tb_strf("GPT layer vs spiking network (%d probe sentences; 0 = embedding)", r->n_stimuli);
    if (!title) return tb_fail(err, "out of memory");
    tb_lineplot lp = {title, "GPT layer", "similarity (higher = more alike)", 0, 0, NAN, NAN, 0, 0};
    int rc = metric_lines(dir, name, r->layer, r->n_layers, m, 6, &lp, rendered, err);
    free(title);
    return rc;
}

/* With references: the rank metric by layer with its 95% interval (a band), and each
 * baseline's interval as a band across the layers, so a layer's line inside a baseline's
 * band is not above that baseline. */
int fig_compare_by_layer(const char *dir, const char *name, const cmp_result *r, int *rendered, char *err) {
    if (!r->have_refs) return by_layer_plain(dir, name, r, rendered, err);
    int L = r->n_layers, m = cmp_metric_index(boot_metric_name(r->rank)), k = r->rank == BOOT_CKA_LINEAR;
    double *v = malloc(((size_t)4 * L + 2 + 6 * CMP_N_BASE) * sizeof(double));
    if (!v) return tb_fail(err, "out of memory");
    double *x = v, *y = v + L, *lo = v + 2 * L, *hi = v + 3 * L, *bx = v + 4 * L, *bv = bx + 2;
    for (int l = 0; l < L; l++) {
        x[l] = l;
        y[l] = cmp_value(&r->layer[l], m);
        lo[l] = k ? r->layer[l].cka_linear_ci_low : r->layer[l].rsa_spearman_ci_low;
        hi[l] = k ? r->layer[l].cka_linear_ci_high : r->layer[l].rsa_spearman_ci_high;
    }
    bx[0] = 0;
    bx[1] = L > 1 ? L - 1 : 1;
    tb_band band[1 + CMP_N_BASE];
    tb_series s[1] = {{"trained GPT, by layer", x, y, L, "linespoints"}};
    int nb = 0;
    if (r->rank == BOOT_RSA_SPEARMAN || r->rank == BOOT_CKA_LINEAR)
        band[nb++] = (tb_band){"GPT layer: 95% interval", x, lo, hi, L, NULL};
    for (int b = 0; b < CMP_N_BASE; b++) {
        const cmp_baseline *base = &r->base[b];
        if (!base->available || (r->rank != BOOT_RSA_SPEARMAN && r->rank != BOOT_CKA_LINEAR)) continue;
        double *bl = bv + 6 * b, *bh = bl + 2, *bm = bl + 4;
        bl[0] = bl[1] = k ? base->res.cka_linear_ci_low : base->res.rsa_spearman_ci_low;
        bh[0] = bh[1] = k ? base->res.cka_linear_ci_high : base->res.rsa_spearman_ci_high;
        bm[0] = bm[1] = cmp_value(&base->res, m);
        band[nb++] = (tb_band){cmp_base_name[b], bx, bl, bh, 2, bm};
    }
    char *title = tb_strf("GPT layer vs spiking network: %s, 95%% intervals; bands: baselines (%d stimuli, %d resamples)",
                          boot_metric_name(r->rank), r->n_stimuli, r->boot);
    int rc = title ? 0 : tb_fail(err, "out of memory");
    tb_lineplot lp = {title, "GPT layer (0 = embedding)", boot_metric_name(r->rank), 0, 0, NAN, NAN, 1000, 560};
    if (!rc) rc = plot_lines_bands(dir, name, &lp, s, 1, band, nb, rendered, err);
    free(title);
    free(v);
    return rc;
}

/* Every GPT layer's RSA with the other side over training, for both runs, and each run's
 * minimal-pair accuracy (dashed). */
int fig_over_training(const char *dir, const char *name, const cmp_training *t, int *rendered, char *err) {
    int L = t->n_layers, ns = 2 * L + 2, n = t->n[0] + t->n[1];
    double *v = malloc((size_t)(n > 0 ? n : 1) * (L + 2) * sizeof(double));
    tb_series *s = malloc((size_t)ns * sizeof *s);
    char (*label)[300] = malloc((size_t)ns * sizeof *label);
    if (!v || !s || !label) { free(v); free(s); free(label); return tb_fail(err, "out of memory"); }
    double *p = v;
    int k = 0;
    for (int side = 0; side < 2; side++) {
        int m = t->n[side];
        double *x = p, *acc = p + m;
        p += 2 * m;
        for (int i = 0; i < m; i++) { x[i] = (double)t->snap[side][i].step; acc[i] = t->snap[side][i].pair_acc; }
        for (int l = 0; l < L; l++) {
            double *y = p;
            p += m;
            for (int i = 0; i < m; i++) y[i] = t->snap[side][i].score[l * CMP_T_METRICS + CMP_T_RSA];
            snprintf(label[k], sizeof label[k], side ? "SNN snapshot vs final GPT %s: RSA" : "GPT %s snapshot vs final SNN: RSA",
                     t->layer_name[l]);
            s[k] = (tb_series){label[k], x, y, m, "linespoints"};
            k++;
        }
        snprintf(label[k], sizeof label[k], "%s: minimal-pair accuracy", side ? "SNN" : "GPT");
        s[k] = (tb_series){label[k], x, acc, m, "dashed"};
        k++;
    }
    tb_lineplot lp = {"Alignment (Spearman RSA) by layer, and minimal-pair accuracy, over training", "training step",
                      "similarity / accuracy", 0, 0, NAN, 1.0, 1200, 560};
    int rc = plot_lines(dir, name, &lp, s, k, rendered, err);
    free(v); free(s); free(label);
    return rc;
}

int fig_energy(const char *dir, const char *name, const work_row *rows, int n, int *rendered, char *err) {
    double *v = malloc((size_t)(n > 0 ? n : 1) * 4 * sizeof(double));
    if (!v) return tb_fail(err, "out of memory");
    double *x[2] = {v, v + n}, *y[2] = {v + 2 * n, v + 3 * n};
    int cnt[2] = {0, 0}, ns = 0;
    for (int i = 0; i < n; i++) { /* one series per kind */
        int k = strcmp(rows[i].kind, "gpt") != 0;
        x[k][cnt[k]] = rows[i].e_memory / 1000;
        y[k][cnt[k]++] = rows[i].val_loss;
    }
    tb_series s[2];
    if (cnt[0]) s[ns++] = (tb_series){"GPT (multiply-accumulates)", x[0], y[0], cnt[0], "linespoints"};
    if (cnt[1]) s[ns++] = (tb_series){"spiking network (events)", x[1], y[1], cnt[1], "linespoints"};
    tb_lineplot lp = {"Energy per token vs validation loss (45 nm estimate, with weight reads)",
                      "energy per token (nJ, log scale)", "validation loss (nats/token)", 1, 0, NAN, NAN, 0, 0};
    int rc = plot_lines(dir, name, &lp, s, ns, rendered, err);
    free(v);
    return rc;
}

/* ---- RDM heatmaps --------------------------------------------------------------------- */

/* RDM of L scaled by its maximum, rows and columns in the order ord (NULL: as they are). */
static int scaled_rdm(const rep_layer *L, rdm_kind kind, const int *ord, float *out, char *err) {
    int n = L->n;
    double *D = malloc((size_t)n * n * sizeof(double));
    if (!D) return tb_fail(err, "out of memory");
    char e[TB_ERRLEN];
    if (align_rdm(L->mean, n, L->p, kind, D, e)) { free(D); return tb_fail(err, "%s: %s", L->path, e); }
    double mx = 0;
    for (size_t i = 0; i < (size_t)n * n; i++) mx = D[i] > mx ? D[i] : mx;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            size_t src = ord ? (size_t)ord[i] * n + ord[j] : (size_t)i * n + j;
            out[(size_t)i * n + j] = (float)(mx > 0 ? D[src] / mx : 0);
        }
    free(D);
    return 0;
}

static const char *rdm_unit(rdm_kind k) {
    return k == RDM_CORRELATION ? "1 - Pearson r" : k == RDM_COSINE ? "1 - cosine" : "euclidean distance";
}

int fig_rdm_pair(const char *path, const rep_layer *A, const rep_layer *B, rdm_kind kind, const char *const *labels,
                 char *err) {
    size_t nn = (size_t)A->n * A->n;
    float *fa = malloc(nn * sizeof(float)), *fb = malloc(nn * sizeof(float));
    char *ta = tb_strf("A: %s (%d units)", A->name, A->p), *tb = tb_strf("B: %s (%d units)", B->name, B->p);
    char *title = tb_strf("RDMs, %s", rdm_unit(kind)), *unit = tb_strf("%s / its max", rdm_unit(kind));
    int rc = fa && fb && ta && tb && title && unit ? 0 : tb_fail(err, "out of memory");
    if (!rc) rc = scaled_rdm(A, kind, NULL, fa, err);
    if (!rc) rc = scaled_rdm(B, kind, NULL, fb, err);
    if (!rc) {
        const float *mats[2] = {fa, fb};
        const char *titles[2] = {ta, tb};
        tb_heatmap h = {title, "stimulus", "stimulus", labels, labels, 0.0, 1.0, CMAP_VIRIDIS, unit, 0};
        rc = plot_heatmap_grid_png(path, mats, 2, 2, A->n, A->n, titles, &h, err);
    }
    free(fa); free(fb); free(ta); free(tb); free(title); free(unit);
    return rc;
}

int fig_compare_rdms(const char *path, const cmp_result *r, char *err) {
    const rep_layer *G = &r->gpt.rep.layer[r->best], *S = &r->snn.rep.layer[0];
    int n = G->n, np = r->have_meta && r->meta.label[STIM_SUBJ_CAT] ? 3 : 2;
    size_t nn = (size_t)n * n;
    int *ord = malloc((size_t)n * sizeof(int));
    float *M = malloc(3 * nn * sizeof(float)), *model = np == 3 ? malloc(nn * sizeof(float)) : NULL;
    char *t0 = tb_strf("GPT %s (%d units)", G->name, G->p), *t1 = tb_strf("spiking network (%d neurons)", S->p);
    int rc = ord && M && t0 && t1 && (np == 2 || model) ? 0 : tb_fail(err, "out of memory");
    if (!rc) {
        for (int i = 0; i < n; i++) ord[i] = i;
        if (r->have_meta) stim_order(&r->meta, ord);
        rc = scaled_rdm(G, RDM_CORRELATION, ord, M, err);
    }
    if (!rc) rc = scaled_rdm(S, RDM_CORRELATION, ord, M + nn, err);
    if (!rc && np == 3) { /* the model RDM: 0 = same subject category */
        stim_model_rdm(&r->meta, STIM_SUBJ_CAT, model);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) M[2 * nn + (size_t)i * n + j] = model[(size_t)ord[i] * n + ord[j]];
    }
    if (!rc) {
        const float *mats[3] = {M, M + nn, M + 2 * nn};
        const char *titles[3] = {t0, t1, "model: subject category"};
        tb_heatmap h = {"RDMs of the probe sentences (sorted by subject category)", "sentence", "sentence", NULL, NULL,
                        0.0, 1.0, CMAP_VIRIDIS, "dissimilarity / its max (model: 1 = different)", 0};
        rc = plot_heatmap_grid_png(path, mats, np, np, n, n, titles, &h, err);
    }
    free(ord); free(M); free(model); free(t0); free(t1);
    return rc;
}

/* eval --lens: the loss read out after each block, against the floor and the bigram. */
int fig_lens(const char *dir, const char *name, const lm_eval_result *rows, int n, double bigram, int *rendered,
             char *err) {
    double x[GPT_MAX_LAYERS + 1], y[GPT_MAX_LAYERS + 1], fx[2] = {0, n - 1}, fy[2], by[2] = {bigram, bigram};
    if (n < 1 || n > GPT_MAX_LAYERS + 1) return tb_fail(err, "lens plot: %d exit layers", n);
    for (int e = 0; e < n; e++) { x[e] = e; y[e] = rows[e].val_loss; }
    fy[0] = fy[1] = rows[n - 1].floor_nats;
    tb_series s[3] = {{"model read out after block e", x, y, n, "linespoints"},
                      {"true floor", fx, fy, 2, "dashed"},
                      {"bigram", fx, by, 2, "dashed"}};
    int ns = isnan(fy[0]) ? 1 : 3;
    if (ns == 1 && !isnan(bigram)) { s[1] = s[2]; ns = 2; }
    tb_lineplot lp = {"Logit lens: validation loss by exit layer", "exit layer e (0 = embedding; L = the whole model)",
                      "nats per token", 0, 0, NAN, NAN, 0, 0};
    return plot_lines(dir, name, &lp, s, ns, rendered, err);
}

/* patch: one heatmap of restored shares M[rows, cols] (doubles), on the diverging map
 * from -1 to 1 (0 = nothing restored, white). */
static int patch_map(const char *path, const char *title, const char *xlabel, const char *ylabel, const double *M,
                     int rows, int cols, const char *const *rl, const char *const *cl, char *err) {
    float *f = malloc((size_t)rows * cols * sizeof(float));
    if (!f) return tb_fail(err, "out of memory");
    for (int i = 0; i < rows * cols; i++) f[i] = (float)M[i];
    tb_heatmap o = {title, xlabel, ylabel, rl, cl, -1, 1, CMAP_DIVERGING, "share restored", 0};
    int rc = plot_heatmap_png(path, f, rows, cols, &o, err);
    free(f);
    return rc;
}

int fig_patch_gpt(const char *dir, const char *name, const patch_gpt_result *r, char *err) {
    char path[1200], lab[GPT_MAX_LAYERS + 1][24], hlab[256][sizeof "head -2147483648"];
    const char *rl[GPT_MAX_LAYERS + 1], *hl[256];
    int L = r->L;
    for (int l = 0; l <= L; l++) {
        snprintf(lab[l], sizeof lab[l], l ? "block %d" : "embed", l);
        rl[l] = lab[l];
    }
    for (int h = 0; h < r->NH && h < 256; h++) {
        snprintf(hlab[h], sizeof hlab[h], "head %d", h);
        hl[h] = hlab[h];
    }
    snprintf(path, sizeof path, "%s/%s_residual.png", dir, name);
    if (patch_map(path, "Residual stream patched", "position (role in the prefix)",
                  "layer", r->residual, L + 1, PATCH_NROLES, rl, patch_role_names, err))
        return -1;
    snprintf(path, sizeof path, "%s/%s_heads.png", dir, name);
    return patch_map(path, "Head outputs patched", "head", "block", r->heads, L, r->NH, rl + 1,
                     r->NH <= 256 ? hl : NULL, err);
}

int fig_patch_snn(const char *dir, const char *name, const patch_snn_result *r, char *err) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s_groups.png", dir, name);
    return patch_map(path, "Neuron groups patched", "position (role in the prefix)",
                     "neuron group", r->group_role, r->groups + 1, PATCH_NROLES, NULL, patch_role_names, err);
}
