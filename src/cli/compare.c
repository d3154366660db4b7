/* compare.c -- `tinybrain compare GPT SNN`: brain meets model.  Lessons 13 and 15.
 *
 * Both models hear the same probe sentences (data/toyworld/probes_sentences.txt).  Every
 * GPT layer is compared with the spiking network by every metric of `align` (the GPT is
 * the "model" side A, the spiking network the "brain" side B: the encoding model
 * predicts spike rates from GPT features, and the network's noisy trials give the noise
 * ceiling), with permutation p-values.  Both are also compared with *model RDMs* built
 * from what the sentences mean (subject category, subject number, verb, object
 * category): which layer, and does the spiking network, carry which kind of
 * information?  Kendall tau-a, since categorical RDMs are mostly ties.
 *
 * --over-training GPT_DIR SNN_DIR takes every step_*.ckpt of each run: alignment of each
 * snapshot with the other model's final snapshot, and minimal-pair accuracy, by step.
 */
#include "align.h"
#include "cli.h"
#include "commands.h"
#include "lm.h"
#include "plot.h"
#include "recording.h"
#include "rep.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define N_FEAT 5
static const char *feat_col[N_FEAT] = {"subj_cat", "subj_num", "verb", "obj_cat", "pos_pattern"};
static const char *feat_name[N_FEAT] = {"subject category", "subject number", "verb", "object category",
                                        "part-of-speech pattern"};

typedef struct {
    const char *stimuli, *meta, *vocab, *out, *plots, *name;
    int trials, perm, json, pool_last;
    uint64_t seed;
} cmp_cfg;

/* ---- inputs: a checkpoint (recorded here) or a folder of recordings ---------------- */

/* Record (or load) one side; the spiking side keeps only its "rates" layer, without
 * silent neurons (a neuron that never fires has no geometry to compare). */
static void get_side(const char *path, const cmp_cfg *c, int want_snn, rep_set *out, char *kind, long long *step) {
    char err[TB_ERRLEN];
    if (rep_is_dir(path)) {
        if (rep_load(path, 1, out, err)) cli_die(1, "%s", err);
        strcpy(kind, want_snn ? "srnn" : "gpt");
        *step = -1;
    } else {
        rec_model m;
        if (rec_open(path, &m, err)) cli_die(1, "%s", err);
        if (want_snn != !strcmp(m.kind, "srnn"))
            cli_die(1, "%s: is a '%s' checkpoint; compare takes the GPT first and the spiking network ('srnn') second",
                    path, m.kind);
        rec_stimuli s;
        if (rec_stimuli_load(c->stimuli, &m.tok, &s, err)) cli_die(1, "%s", err);
        rec_opts o = {c->pool_last, want_snn ? c->trials : 1, 0, c->seed, -1};
        if (rec_record(&m, &s, &o, out, err)) cli_die(1, "%s: %s", path, err);
        strcpy(kind, m.kind);
        *step = m.step;
        rec_stimuli_free(&s);
        rec_close(&m);
    }
    if (want_snn) {
        for (int l = 1; l < out->n_layers; l++) rep_layer_free(&out->layer[l]);
        out->n_layers = 1;
        int d = rep_drop_constant(&out->layer[0]);
        if (d && !c->json) cli_note("%s: left out %d neurons that fire the same on every stimulus (mostly silent)", path, d);
    }
}

/* ---- model RDMs from the stimulus metadata ------------------------------------------ */

typedef struct { int n; char *labels[N_FEAT][4096]; int have[N_FEAT]; } meta_t;

static int load_meta(const char *path, int n, meta_t *mt, char *err) {
    memset(mt, 0, sizeof *mt);
    char *text;
    size_t len;
    if (read_file(path, &text, &len, err)) return -1;
    int col[N_FEAT], row = -1;
    for (int f = 0; f < N_FEAT; f++) col[f] = -1;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#') continue;
        char *cells[32];
        int nc = rep_split_tabs(line, cells, 32);
        if (row < 0) {
            for (int i = 0; i < nc; i++)
                for (int f = 0; f < N_FEAT; f++)
                    if (!strcmp(cells[i], feat_col[f])) col[f] = i;
            row = 0;
            continue;
        }
        if (row >= 4096) break;
        for (int f = 0; f < N_FEAT; f++)
            if (col[f] >= 0 && col[f] < nc) mt->labels[f][row] = strdup(cells[col[f]]);
        row++;
    }
    free(text);
    if (row != n) {
        for (int f = 0; f < N_FEAT; f++)
            for (int i = 0; i < row && i < 4096; i++) free(mt->labels[f][i]);
        return tb_fail(err, "%s: %d rows of metadata for %d stimuli", path, row, n);
    }
    mt->n = n;
    for (int f = 0; f < N_FEAT; f++) mt->have[f] = col[f] >= 0;
    return 0;
}

/* The part-of-speech pattern of each stimulus ("DET NOUN VERB DET NOUN PUNCT"), from the
 * word metadata in vocab.tsv (columns word, pos): sentences with the same syntactic frame
 * share it.  Skipped (have = 0) when the vocabulary file or a word is missing. */
static void pos_patterns(const char *stimuli, const char *vocab, meta_t *mt) {
    char *vt, *st, err[TB_ERRLEN];
    size_t len;
    if (read_file(vocab, &vt, &len, err)) return;
    if (read_file(stimuli, &st, &len, err)) { free(vt); return; }
    char *words[512], *pos[512];
    int nv = 0, wc = -1, pc = -1, row = 0;
    for (char *line = strtok(vt, "\n"); line && nv < 512; line = strtok(NULL, "\n")) {
        char *cells[16];
        int nc = rep_split_tabs(line, cells, 16);
        if (row++ == 0) {
            for (int i = 0; i < nc; i++) {
                if (!strcmp(cells[i], "word")) wc = i;
                if (!strcmp(cells[i], "pos")) pc = i;
            }
            if (wc < 0 || pc < 0) break;
            continue;
        }
        if (wc < nc && pc < nc) { words[nv] = cells[wc]; pos[nv] = cells[pc]; nv++; }
    }
    int i = 0, ok = nv > 0;
    char *save = NULL;
    for (char *line = strtok_r(st, "\n", &save); line && ok; line = strtok_r(NULL, "\n", &save)) {
        if (!line[0] || line[0] == '#') continue;
        if (i >= mt->n) { ok = 0; break; }
        char pat[1024] = "", *ws = NULL;
        for (char *w = strtok_r(line, " \r", &ws); w; w = strtok_r(NULL, " \r", &ws)) {
            int k = 0;
            while (k < nv && strcmp(words[k], w)) k++;
            if (k == nv) { ok = 0; break; }
            snprintf(pat + strlen(pat), sizeof pat - strlen(pat), "%s%s", pat[0] ? " " : "", pos[k]);
        }
        if (ok) mt->labels[4][i++] = strdup(pat);
    }
    if (!ok || i != mt->n) {
        for (int j = 0; j < i; j++) { free(mt->labels[4][j]); mt->labels[4][j] = NULL; }
    } else mt->have[4] = 1;
    free(vt);
    free(st);
}

static void free_meta(meta_t *mt) {
    for (int f = 0; f < N_FEAT; f++)
        for (int i = 0; i < mt->n; i++) free(mt->labels[f][i]);
}

/* Kendall tau-a between a representation's RDM (correlation distance) and the
 * categorical RDM of feature f (0 = same label, 1 = different). */
static double tau_vs_feature(const rep_layer *L, const meta_t *mt, int f) {
    int n = L->n;
    long m = (long)n * (n - 1) / 2, k = 0;
    double *D = malloc((size_t)n * n * 8), *a = malloc((size_t)m * 8), *b = malloc((size_t)m * 8);
    char err[TB_ERRLEN];
    double r = NAN;
    if (D && a && b && !align_rdm(L->mean, n, L->p, RDM_CORRELATION, D, err)) {
        rdm_upper(D, n, a);
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++) b[k++] = strcmp(mt->labels[f][i], mt->labels[f][j]) ? 1.0 : 0.0;
        r = rsa_kendall_a(a, b, m);
    }
    free(D); free(a); free(b);
    return r;
}

/* ---- the table, TSV, plots ------------------------------------------------------------ */

static const struct { const char *key, *head; size_t off; } shown[] = {
    {"rsa_spearman", "rsa_sp", offsetof(align_result, rsa_spearman)},
    {"rsa_kendall_a", "tau_a", offsetof(align_result, rsa_kendall_a)},
    {"cka_linear", "cka", offsetof(align_result, cka_linear)},
    {"cka_linear_debiased", "cka_deb", offsetof(align_result, cka_linear_debiased)},
    {"svcca", "svcca", offsetof(align_result, svcca)},
    {"pwcca", "pwcca", offsetof(align_result, pwcca)},
    {"procrustes_angular", "proc_ang", offsetof(align_result, procrustes_angular)},
    {"encoding_r_median", "enc_r", offsetof(align_result, encoding_r_median)},
    {"encoding_r_ceiled", "enc_ceil", offsetof(align_result, encoding_r_ceiled)},
    {"noise_ceiling", "ceiling", offsetof(align_result, noise_ceiling)},
    {"rsa_perm_p", "rsa_p", offsetof(align_result, rsa_perm_p)},
    {"cka_perm_p", "cka_p", offsetof(align_result, cka_perm_p)},
};
#define N_SHOWN ((int)(sizeof shown / sizeof shown[0]))
static double getf(const align_result *r, int k) { return *(const double *)((const char *)r + shown[k].off); }

static void write_tsv(const char *path, int rows, int cols, const char *const *head, const char *const *cells) {
    char err[TB_ERRLEN];
    if (tsv_write(path, cols, head, rows, cells, err)) cli_die(1, "%s", err);
}

/* RDM heatmaps: best GPT layer, the spiking network, and the subject-category model RDM,
 * stimuli sorted by subject category (then object category) so blocks are visible. */
static void plot_rdms(const rep_layer *G, const rep_layer *S, const meta_t *mt, const cmp_cfg *c) {
    int n = G->n;
    int *ord = malloc((size_t)n * sizeof(int));
    for (int i = 0; i < n; i++) ord[i] = i;
    if (mt && mt->have[0])
        for (int i = 1; i < n; i++) /* insertion sort by (subj_cat, obj_cat) */
            for (int j = i; j > 0; j--) {
                int a = ord[j - 1], b = ord[j];
                int cmp = strcmp(mt->labels[0][a], mt->labels[0][b]);
                if (!cmp && mt->have[3]) cmp = strcmp(mt->labels[3][a], mt->labels[3][b]);
                if (cmp <= 0) break;
                ord[j - 1] = b;
                ord[j] = a;
            }
    double *D = malloc((size_t)n * n * 8);
    float *M[3];
    char err[TB_ERRLEN];
    const rep_layer *src[2] = {G, S};
    for (int q = 0; q < 2; q++) {
        M[q] = malloc((size_t)n * n * sizeof(float));
        if (align_rdm(src[q]->mean, n, src[q]->p, RDM_CORRELATION, D, err)) cli_die(1, "%s", err);
        double mx = 0;
        for (int i = 0; i < n * n; i++) mx = D[i] > mx ? D[i] : mx;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) M[q][i * n + j] = (float)(D[(size_t)ord[i] * n + ord[j]] / (mx > 0 ? mx : 1));
    }
    int np = 2;
    if (mt && mt->have[0]) {
        M[2] = malloc((size_t)n * n * sizeof(float));
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) M[2][i * n + j] = strcmp(mt->labels[0][ord[i]], mt->labels[0][ord[j]]) ? 1.0f : 0.0f;
        np = 3;
    }
    char t0[300], t1[300], path[1400];
    snprintf(t0, sizeof t0, "GPT %s (%d units)", G->name, G->p);
    snprintf(t1, sizeof t1, "spiking network (%d neurons)", S->p);
    const char *titles[3] = {t0, t1, "model: subject category"};
    tb_heatmap h = {"RDMs of the probe sentences (sorted by subject category)", "sentence", "sentence", NULL, NULL,
                    0.0, 1.0, CMAP_VIRIDIS, "dissimilarity / its max (model: 1 = different)", 0};
    snprintf(path, sizeof path, "%s/%s_rdms.png", c->plots, c->name);
    if (make_dirs(c->plots, err) || plot_heatmap_grid_png(path, (const float *const *)M, np, np, n, n, titles, &h, err))
        cli_die(1, "%s", err);
    if (!c->json) cli_note("wrote %s", path);
    for (int q = 0; q < np; q++) free(M[q]);
    free(D);
    free(ord);
}

static void plot_by_layer(int nl, const rep_set *G, const align_result *res, const cmp_cfg *c) {
    double *x = malloc((size_t)nl * 8), *y = malloc((size_t)nl * 6 * 8);
    tb_series s[6];
    int keys[6] = {0, 2, 3, 4, 7, 8}, ns = 0;
    for (int i = 0; i < nl; i++) x[i] = i;
    for (int q = 0; q < 6; q++) {
        double *yy = y + (size_t)ns * nl;
        int any = 0;
        for (int i = 0; i < nl; i++) { yy[i] = getf(&res[i], keys[q]); any |= !isnan(yy[i]); }
        if (any) s[ns++] = (tb_series){shown[keys[q]].key, x, yy, nl, "linespoints"};
    }
    char title[300];
    snprintf(title, sizeof title, "GPT layer vs spiking network (%d probe sentences; 0 = embedding)", G->layer[0].n);
    tb_lineplot lp = {title, "GPT layer", "similarity (higher = more alike)", 0, 0, NAN, NAN, 0, 0};
    char err[TB_ERRLEN], name[300];
    int rendered = 0;
    snprintf(name, sizeof name, "%s_by_layer", c->name);
    if (plot_lines(c->plots, name, &lp, s, ns, &rendered, err)) cli_note("plot: %s", err);
    else if (!c->json) {
        if (rendered) cli_note("wrote %s/%s.png", c->plots, name);
        else cli_note("gnuplot not found: render with gnuplot %s/%s.gp", c->plots, name);
    }
    free(x);
    free(y);
}

/* ---- one comparison of two final models --------------------------------------------------- */

static int compare_models(const char *gpt_path, const char *snn_path, const cmp_cfg *c) {
    rep_set G, S;
    char gk[16], sk[16], err[TB_ERRLEN];
    long long gstep, sstep;
    get_side(gpt_path, c, 0, &G, gk, &gstep);
    get_side(snn_path, c, 1, &S, sk, &sstep);
    const rep_layer *B = &S.layer[0];
    if (G.layer[0].n != B->n)
        cli_die(1, "%s has %d stimuli but %s has %d: record both on the same stimuli", gpt_path, G.layer[0].n, snn_path, B->n);
    int nl = G.n_layers, n = B->n;
    align_opts o;
    align_opts_default(&o);
    o.encoding = 1;
    o.perm = c->perm;
    o.seed = c->seed;
    o.enc.seed = c->seed;
    align_result *res = calloc((size_t)nl, sizeof *res);
    for (int l = 0; l < nl; l++)
        if (align_all(G.layer[l].mean, n, G.layer[l].p, B->mean, B->p, B->trial, B->trials, &o, &res[l], err))
            cli_die(1, "%s vs %s: %s", G.layer[l].name, snn_path, err);
    meta_t mt;
    int have_meta = c->meta && !load_meta(c->meta, n, &mt, err);
    if (c->meta && !have_meta) cli_die(1, "%s", err);
    if (have_meta) pos_patterns(c->stimuli, c->vocab, &mt);
    /* tau-a of each GPT layer (columns 0..nl-1) and the network (column nl) with each model RDM */
#define TAU(f, l) tau[(size_t)(f) * (nl + 1) + (l)]
    double *tau = malloc((size_t)N_FEAT * (nl + 1) * sizeof(double));
    if (!tau) cli_die(1, "out of memory");
    for (int f = 0; have_meta && f < N_FEAT; f++)
        for (int l = 0; l <= nl; l++)
            TAU(f, l) = !mt.have[f] ? NAN : tau_vs_feature(l < nl ? &G.layer[l] : B, &mt, f);
    int best = 0;
    for (int l = 1; l < nl; l++)
        if (res[l].rsa_spearman > res[best].rsa_spearman) best = l;
    /* files */
    if (make_dirs(c->out, err)) cli_die(1, "%s", err);
    {
        int cols = N_SHOWN + 1;
        const char **head = malloc((size_t)cols * sizeof(char *));
        char **cells = malloc((size_t)nl * cols * sizeof(char *));
        head[0] = "layer";
        for (int k = 0; k < N_SHOWN; k++) head[k + 1] = shown[k].key;
        for (int l = 0; l < nl; l++) {
            cells[l * cols] = strdup(G.layer[l].name);
            for (int k = 0; k < N_SHOWN; k++) {
                char b[32];
                snprintf(b, sizeof b, "%.6g", getf(&res[l], k));
                cells[l * cols + k + 1] = strdup(b);
            }
        }
        char path[1300];
        snprintf(path, sizeof path, "%s/%s.tsv", c->out, c->name);
        write_tsv(path, nl, cols, head, (const char *const *)cells);
        if (!c->json) cli_note("wrote %s", path);
        for (int i = 0; i < nl * cols; i++) free(cells[i]);
        free(cells);
        free(head);
    }
    if (have_meta) {
        int cols = nl + 2;
        const char **head = malloc((size_t)cols * sizeof(char *));
        char **cells = malloc((size_t)N_FEAT * cols * sizeof(char *));
        head[0] = "model_rdm";
        for (int l = 0; l < nl; l++) head[l + 1] = G.layer[l].name;
        head[nl + 1] = "snn";
        for (int f = 0; f < N_FEAT; f++) {
            cells[f * cols] = strdup(feat_col[f]);
            for (int l = 0; l <= nl; l++) {
                char b[32];
                snprintf(b, sizeof b, "%.6g", TAU(f, l));
                cells[f * cols + l + 1] = strdup(b);
            }
        }
        char path[1300];
        snprintf(path, sizeof path, "%s/%s_model_rdms.tsv", c->out, c->name);
        write_tsv(path, N_FEAT, cols, head, (const char *const *)cells);
        if (!c->json) cli_note("wrote %s", path);
        for (int i = 0; i < N_FEAT * cols; i++) free(cells[i]);
        free(cells);
        free(head);
    }
    plot_by_layer(nl, &G, res, c);
    plot_rdms(&G.layer[best], B, have_meta ? &mt : NULL, c);
    if (c->json) {
        json_begin();
        json_int("stimuli", n);
        json_int("gpt_step", gstep);
        json_int("snn_step", sstep);
        json_int("snn_neurons", B->p);
        json_int("snn_trials", B->trials);
        json_str("best_layer", G.layer[best].name);
        json_num("best_rsa_spearman", res[best].rsa_spearman);
        json_num("best_cka_linear", res[best].cka_linear);
        size_t cap = 8192 + (size_t)nl * 1024;
        char *buf = malloc(cap), *p = buf;
        p += sprintf(p, "[");
        for (int l = 0; l < nl; l++) {
            p += sprintf(p, "%s{\"layer\": \"%s\"", l ? ", " : "", G.layer[l].name);
            for (int k = 0; k < N_SHOWN; k++) {
                double v = getf(&res[l], k);
                if (isnan(v)) p += sprintf(p, ", \"%s\": null", shown[k].key);
                else p += sprintf(p, ", \"%s\": %.10g", shown[k].key, v);
            }
            p += sprintf(p, "}");
        }
        p += sprintf(p, "]");
        json_raw("layers", buf);
        if (have_meta) {
            p = buf;
            p += sprintf(p, "{");
            for (int f = 0; f < N_FEAT; f++) {
                p += sprintf(p, "%s\"%s\": {", f ? ", " : "", feat_col[f]);
                for (int l = 0; l <= nl; l++)
                    p += sprintf(p, "%s\"%s\": %.10g", l ? ", " : "", l < nl ? G.layer[l].name : "snn", TAU(f, l));
                p += sprintf(p, "}");
            }
            p += sprintf(p, "}");
            json_raw("model_rdm_tau_a", buf);
        }
        free(buf);
        json_end();
    } else {
        printf("GPT (%s) vs spiking network (%s): %d probe sentences; SNN %d trials x %d neurons\n", gpt_path, snn_path, n,
               B->trials, B->p);
        int w[N_SHOWN + 1];
        const char *head[N_SHOWN + 1];
        w[0] = 10;
        head[0] = "GPT layer";
        for (int k = 0; k < N_SHOWN; k++) { w[k + 1] = 8; head[k + 1] = shown[k].head; }
        cli_table_row(N_SHOWN + 1, w, head);
        cli_table_rule(N_SHOWN + 1, w);
        char b[N_SHOWN][32];
        for (int l = 0; l < nl; l++) {
            const char *cells[N_SHOWN + 1];
            cells[0] = G.layer[l].name;
            for (int k = 0; k < N_SHOWN; k++) { cli_fmt_num(b[k], 32, getf(&res[l], k)); cells[k + 1] = b[k]; }
            cli_table_row(N_SHOWN + 1, w, cells);
        }
        printf("all similarities (higher = more alike) except proc_ang (a distance, radians) and the p-values;\n"
               "enc_r predicts the network's rates from the GPT layer; ceiling = the network's own trial-to-trial limit.\n");
        printf("best-aligned GPT layer: %s (rsa_spearman %.4f, cka_linear %.4f)\n", G.layer[best].name,
               res[best].rsa_spearman, res[best].cka_linear);
        if (have_meta) {
            printf("\nwhat each representation encodes: Kendall tau-a with model RDMs of the sentences' meaning\n");
            int nc = nl + 2, *w2 = malloc((size_t)nc * sizeof(int));
            const char **h2 = malloc((size_t)nc * sizeof(char *)), **cells = malloc((size_t)nc * sizeof(char *));
            char *bb = malloc((size_t)nc * 32);
            if (!w2 || !h2 || !cells || !bb) cli_die(1, "out of memory");
            w2[0] = 22;
            h2[0] = "model RDM";
            for (int l = 0; l <= nl; l++) { w2[l + 1] = 10; h2[l + 1] = l < nl ? G.layer[l].name : "snn"; }
            cli_table_row(nc, w2, h2);
            cli_table_rule(nc, w2);
            for (int f = 0; f < N_FEAT; f++) {
                cells[0] = feat_name[f];
                for (int l = 0; l <= nl; l++) { cli_fmt_num(bb + l * 32, 32, TAU(f, l)); cells[l + 1] = bb + l * 32; }
                cli_table_row(nc, w2, cells);
            }
            free(w2); free(h2); free(cells); free(bb);
        }
    }
    if (have_meta) free_meta(&mt);
    free(tau);
#undef TAU
    free(res);
    rep_free(&G);
    rep_free(&S);
    return 0;
}

/* ---- alignment over training ------------------------------------------------------------- */

/* Record one snapshot, score its minimal pairs. */
static void snapshot(const char *path, const cmp_cfg *c, int snn, rep_set *r, long long *step, double *mp) {
    char err[TB_ERRLEN];
    rec_model m;
    if (rec_open(path, &m, err)) cli_die(1, "%s", err);
    rec_stimuli s;
    if (rec_stimuli_load(c->stimuli, &m.tok, &s, err)) cli_die(1, "%s", err);
    rec_opts o = {c->pool_last, snn ? c->trials : 1, 0, c->seed, -1};
    if (rec_record(&m, &s, &o, r, err)) cli_die(1, "%s: %s", path, err);
    if (snn) {
        for (int l = 1; l < r->n_layers; l++) rep_layer_free(&r->layer[l]);
        r->n_layers = 1;
        rep_drop_constant(&r->layer[0]);
    }
    lm_scorer sc;
    if (snn) srnn_scorer(&sc, &m.snn);
    else gpt_scorer(&sc, &m.gpt);
    double acc[3];
    int cnt[3];
    if (lm_minimal_pairs(&sc, &m.tok, "data/toyworld/minimal_pairs.tsv", acc, cnt, err)) cli_die(1, "%s", err);
    *mp = acc[0];
    *step = m.step;
    rec_stimuli_free(&s);
    rec_close(&m);
}

/* Best (max over GPT layers) rsa_spearman and cka_linear between G's layers and S. */
static void best_pair(const rep_set *G, const rep_layer *S, const cmp_cfg *c, double *rsa, double *cka) {
    align_opts o;
    align_opts_default(&o);
    o.cca = o.procrustes = 0;
    o.seed = c->seed;
    char err[TB_ERRLEN];
    *rsa = *cka = -INFINITY;
    for (int l = 0; l < G->n_layers; l++) {
        align_result r;
        if (align_all(G->layer[l].mean, S->n, G->layer[l].p, S->mean, S->p, NULL, 0, &o, &r, err)) cli_die(1, "%s", err);
        *rsa = r.rsa_spearman > *rsa ? r.rsa_spearman : *rsa;
        *cka = r.cka_linear > *cka ? r.cka_linear : *cka;
    }
}

static int over_training(const char *gdir, const char *sdir, const cmp_cfg *c) {
    char **gp, **sp;
    int ng, ns;
    if (rep_list_steps(gdir, &gp, &ng) || ng == 0)
        cli_die(1, "%s: no step_*.ckpt snapshots (train with --save-at 0,50,200,final)", gdir);
    if (rep_list_steps(sdir, &sp, &ns) || ns == 0)
        cli_die(1, "%s: no step_*.ckpt snapshots (train-snn with --save-at 0,100,final)", sdir);
    rep_set Gf, Sf;
    long long st;
    double mp;
    snapshot(gp[ng - 1], c, 0, &Gf, &st, &mp);
    snapshot(sp[ns - 1], c, 1, &Sf, &st, &mp);
    double *gx = malloc((size_t)ng * 8), *gr = malloc((size_t)ng * 8), *gc = malloc((size_t)ng * 8), *gm = malloc((size_t)ng * 8);
    double *sx = malloc((size_t)ns * 8), *sr = malloc((size_t)ns * 8), *sc = malloc((size_t)ns * 8), *sm = malloc((size_t)ns * 8);
    char **cells = malloc((size_t)(ng + ns) * 6 * sizeof(char *));
    int row = 0;
    if (!c->json) {
        printf("alignment over training (each snapshot vs the other model's final snapshot; %s probes)\n", c->stimuli);
        int w[5] = {6, 8, 10, 10, 10};
        const char *h[5] = {"model", "step", "rsa_sp", "cka", "mp_acc"};
        cli_table_row(5, w, h);
        cli_table_rule(5, w);
    }
    for (int side = 0; side < 2; side++) {
        int n = side ? ns : ng;
        for (int i = 0; i < n; i++) {
            rep_set R;
            long long step;
            double m, rsa, cka;
            snapshot(side ? sp[i] : gp[i], c, side, &R, &step, &m);
            if (side) best_pair(&Gf, &R.layer[0], c, &rsa, &cka);
            else best_pair(&R, &Sf.layer[0], c, &rsa, &cka);
            double *X = side ? sx : gx, *Rr = side ? sr : gr, *Cc = side ? sc : gc, *M = side ? sm : gm;
            X[i] = (double)step; Rr[i] = rsa; Cc[i] = cka; M[i] = m;
            char b[5][48];
            snprintf(b[0], 48, "%s", side ? "snn" : "gpt");
            snprintf(b[1], 48, "%lld", step);
            snprintf(b[2], 48, "%.4f", rsa);
            snprintf(b[3], 48, "%.4f", cka);
            snprintf(b[4], 48, "%.4f", m);
            for (int q = 0; q < 5; q++) cells[row * 5 + q] = strdup(b[q]);
            row++;
            if (!c->json) {
                int w[5] = {6, 8, 10, 10, 10};
                const char *cl[5] = {b[0], b[1], b[2], b[3], b[4]};
                cli_table_row(5, w, cl);
                fflush(stdout);
            }
            rep_free(&R);
        }
    }
    char path[1300], err[TB_ERRLEN];
    const char *head[5] = {"model", "step", "rsa_spearman_best", "cka_linear_best", "minimal_pair_acc"};
    if (make_dirs(c->out, err)) cli_die(1, "%s", err);
    snprintf(path, sizeof path, "%s/%s_over_training.tsv", c->out, c->name);
    write_tsv(path, row, 5, head, (const char *const *)cells);
    if (!c->json) cli_note("wrote %s", path);
    tb_series s[6] = {
        {"GPT: best-layer CKA with the final SNN", gx, gc, ng, "linespoints"},
        {"GPT: best-layer RSA with the final SNN", gx, gr, ng, "linespoints"},
        {"GPT: minimal-pair accuracy", gx, gm, ng, "dashed"},
        {"SNN: CKA with the final GPT's best layer", sx, sc, ns, "linespoints"},
        {"SNN: RSA with the final GPT's best layer", sx, sr, ns, "linespoints"},
        {"SNN: minimal-pair accuracy", sx, sm, ns, "dashed"},
    };
    tb_lineplot lp = {"Alignment and minimal-pair accuracy over training", "training step",
                      "similarity / accuracy", 0, 0, 0.0, 1.0, 1100, 520};
    char name[300];
    int rendered = 0;
    snprintf(name, sizeof name, "%s_over_training", c->name);
    if (plot_lines(c->plots, name, &lp, s, 6, &rendered, err)) cli_note("plot: %s", err);
    else if (!c->json) {
        if (rendered) cli_note("wrote %s/%s.png", c->plots, name);
        else cli_note("gnuplot not found: render with gnuplot %s/%s.gp", c->plots, name);
    }
    if (c->json) {
        json_begin();
        json_num_array("gpt_steps", gx, ng);
        json_num_array("gpt_cka_best", gc, ng);
        json_num_array("gpt_rsa_best", gr, ng);
        json_num_array("gpt_minimal_pair_acc", gm, ng);
        json_num_array("snn_steps", sx, ns);
        json_num_array("snn_cka_best", sc, ns);
        json_num_array("snn_rsa_best", sr, ns);
        json_num_array("snn_minimal_pair_acc", sm, ns);
        json_end();
    }
    for (int i = 0; i < row * 5; i++) free(cells[i]);
    free(cells);
    for (int i = 0; i < ng; i++) free(gp[i]);
    for (int i = 0; i < ns; i++) free(sp[i]);
    free(gp); free(sp); free(gx); free(gr); free(gc); free(gm); free(sx); free(sr); free(sc); free(sm);
    rep_free(&Gf);
    rep_free(&Sf);
    return 0;
}

int cmd_compare(int argc, char **argv) {
    cmp_cfg c;
    long long seed;
    int over;
    const char *pool_s;
    cli_opt opts[] = {
        {"pool", 'c', &pool_s, "mean", "", "over a sentence's tokens: mean, or the last token", 0, 0, "mean|last"},
        {"stimuli", 's', &c.stimuli, "data/toyworld/probes_sentences.txt", "", "probe stimuli, one per line", 0, 0, NULL},
        {"vocab", 's', &c.vocab, "data/toyworld/vocab.tsv", "", "word metadata (word, pos columns) for the part-of-speech model RDM", 0, 0, NULL},
        {"meta", 's', &c.meta, "data/toyworld/probes_sentences.tsv", "", "stimulus metadata for model RDMs ('' = none)", 0, 0, NULL},
        {"trials", 'i', &c.trials, "10", "", "spiking network: trials per stimulus (fresh background noise)", 2, 1000, NULL},
        {"perm", 'i', &c.perm, "200", "", "permutations for rsa_p and cka_p", 0, 100000, NULL},
        {"seed", 'l', &seed, "1", "", "seed for trial noise, permutations and folds", 0, 9.2e18, NULL},
        {"out", 's', &c.out, "runs/compare", "", "folder for the TSV tables", 0, 0, NULL},
        {"plots", 's', &c.plots, TB_PLOTS_DIR, "", "folder for the pictures", 0, 0, NULL},
        {"name", 's', &c.name, "compare", "", "file-name prefix of tables and pictures", 0, 0, NULL},
        {"over-training", 'b', &over, NULL, "", "GPT and SNN are run folders of step_*.ckpt: alignment by training step", 0, 0, NULL},
        {"json", 'b', &c.json, NULL, "", "one JSON object on stdout", 0, 0, NULL},
    };
    cli_cmd cmd = {"compare", "GPT SNN",
                   "brain meets model: every GPT layer vs the spiking network, and both vs model RDMs",
                   "GPT and SNN are checkpoints (recorded here on --stimuli) or folders written by `tinybrain "
                   "record`. Every GPT layer is compared with the network's firing rates by all of align's metrics "
                   "(the GPT as features, the network as the 'brain' whose trials give the noise ceiling), with "
                   "permutation p-values; both are compared with model RDMs of the sentences' subject category, "
                   "number, verb and object category (Kendall tau-a). --over-training takes run folders "
                   "(runs/gpt, runs/snn with step_*.ckpt) and plots alignment and minimal-pair accuracy by step.",
                   "tinybrain compare runs/gpt.ckpt runs/snn.ckpt"};
    char *pos[2];
    cli_parse(&cmd, opts, NOPT(opts), argc, argv, pos, 2, 2);
    c.seed = (uint64_t)seed;
    c.pool_last = !strcmp(pool_s, "last");
    if (c.meta && !*c.meta) c.meta = NULL;
    if (c.meta && strcmp(c.stimuli, "data/toyworld/probes_sentences.txt") &&
        !strcmp(c.meta, "data/toyworld/probes_sentences.tsv"))
        c.meta = NULL; /* custom stimuli: the default metadata does not describe them */
    if (over) return over_training(pos[0], pos[1], &c);
    return compare_models(pos[0], pos[1], &c);
}
