/* recording.c -- recording stimuli from a model of either kind, and writing a recording
 * folder (see recording.h).  Lesson 13. */
#include "recording.h"
#include "rng.h"
#include "json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rec_stimuli_free(rec_stimuli *s) {
    for (int i = 0; i < s->n; i++) { free(s->text[i]); free(s->ids[i]); }
    free(s->text);
    free(s->ids);
    free(s->len);
    memset(s, 0, sizeof *s);
}

static int add_stimulus(rec_stimuli *s, int *cap, const char *line, const tb_tokenizer *tok, const char *path,
                        int lineno, char *err) {
    if (s->n == *cap) {
        *cap = *cap ? 2 * *cap : 256;
        char **t = realloc(s->text, (size_t)*cap * sizeof *t);
        int **d = realloc(s->ids, (size_t)*cap * sizeof *d);
        int *l = realloc(s->len, (size_t)*cap * sizeof *l);
        if (t) s->text = t;
        if (d) s->ids = d;
        if (l) s->len = l;
        if (!t || !d || !l) return tb_fail(err, "out of memory");
    }
    char *text = tb_strf(". %s", line); /* the left context */
    int *ids, n;
    char e[TB_ERRLEN];
    if (!text) return tb_fail(err, "out of memory");
    int rc = tok_encode(tok, text, &ids, &n, e);
    free(text);
    if (rc) return tb_fail(err, "%s:%d: %s", path, lineno, e);
    if (n < 2) { free(ids); return tb_fail(err, "%s:%d: empty stimulus", path, lineno); }
    if (!(s->text[s->n] = strdup(line))) { free(ids); return tb_fail(err, "out of memory"); }
    s->ids[s->n] = ids;
    s->len[s->n] = n;
    s->n++;
    return 0;
}

int rec_stimuli_load(const char *path, const tb_tokenizer *tok, rec_stimuli *s, char *err) {
    memset(s, 0, sizeof *s);
    char *text;
    size_t len;
    if (read_file(path, &text, &len, err)) return -1;
    size_t pl = strlen(path);
    int tsv = pl > 4 && !strcmp(path + pl - 4, ".tsv"), col = -1, cap = 0, lineno = 0, rc = 0;
    for (char *p = text; *p && !rc;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = 0;
        lineno++;
        char *line = p;
        p = nl ? nl + 1 : p + strlen(p);
        size_t l = strlen(line);
        while (l && (line[l - 1] == '\r' || line[l - 1] == ' ')) line[--l] = 0;
        if (!l || line[0] == '#') continue;
        if (tsv) { /* header names the columns; take "sentence" */
            char *cells[32];
            int nc = rep_split_tabs(line, cells, 32);
            if (col < 0) {
                for (int i = 0; i < nc; i++)
                    if (!strcmp(cells[i], "sentence")) col = i;
                if (col < 0) rc = tb_fail(err, "%s: no 'sentence' column in the header", path);
                continue;
            }
            if (col >= nc) { rc = tb_fail(err, "%s:%d: no sentence column", path, lineno); break; }
            line = cells[col];
        }
        rc = add_stimulus(s, &cap, line, tok, path, lineno, err);
    }
    free(text);
    if (!rc && s->n < 3) rc = tb_fail(err, "%s: %d stimuli; need at least 3", path, s->n);
    if (rc) rec_stimuli_free(s);
    return rc;
}

int rec_n_resid(const lm_model *m) { return !strcmp(m->kind, "gpt") ? m->gpt.cfg.n_layer + 1 : 0; }

static int alloc_layer(rep_layer *L, const char *name, int trials, int n, int p) {
    return rep_layer_alloc(L, name, name, trials, n, p) != 0;
}

/* Pool rows 1..n-1 (mean) or row n-1 (last) of x[n, C] (stride ld) into out[C]. */
static void pool_rows(const float *x, int n, int C, size_t ld, int last, double *out, double scale) {
    for (int i = 0; i < C; i++) {
        if (last) { out[i] = scale * x[(size_t)(n - 1) * ld + i]; continue; }
        double s = 0;
        for (int t = 1; t < n; t++) s += x[(size_t)t * ld + i];
        out[i] = scale * s / (n - 1);
    }
}

static int record_gpt(lm_model *m, const rec_stimuli *s, const rec_opts *o, rep_set *out, char *err) {
    gpt_model *g = &m->gpt;
    int L = g->cfg.n_layer, C = g->cfg.d_model, H = gpt_slots(&g->cfg) * g->cfg.mlp_ratio * C, n = s->n;   /* experts: k slots */
    int nl = (L + 1) + (o->sites_all ? 2 * L : 0);
    out->layer = calloc((size_t)nl, sizeof(rep_layer));
    if (!out->layer) return tb_fail(err, "out of memory");
    out->n_layers = nl;
    out->is_folder = 1;
    char name[64];
    for (int l = 0; l <= L; l++) {
        if (l == 0) snprintf(name, sizeof name, "00_embed");
        else snprintf(name, sizeof name, "%02d_block%d", l, l);
        if (alloc_layer(&out->layer[l], name, 1, n, C)) return tb_fail(err, "out of memory");
    }
    for (int l = 1; o->sites_all && l <= L; l++) {
        snprintf(name, sizeof name, "%02d_block%d_attn", l, l);
        if (alloc_layer(&out->layer[L + l], name, 1, n, C)) return tb_fail(err, "out of memory");
        snprintf(name, sizeof name, "%02d_block%d_mlp", l, l);
        if (alloc_layer(&out->layer[2 * L + l], name, 1, n, H)) return tb_fail(err, "out of memory");
    }
    for (int i = 0; i < n; i++) {
        int len = s->len[i];
        if (len > g->cfg.ctx)
            return tb_fail(err, "stimulus %d has %d tokens with its left context; the model's context is %d", i, len, g->cfg.ctx);
        if (gpt_forward(g, s->ids[i], NULL, 1, len, NULL, err)) return -1;
        for (int l = 0; l <= L; l++)
            pool_rows(gpt_tap(g, GPT_TAP_RESID, l, NULL), len, C, C, o->pool_last, out->layer[l].mean + (size_t)i * C, 1);
        for (int l = 1; o->sites_all && l <= L; l++) {
            int w;
            const float *a = gpt_tap(g, GPT_TAP_ATTN_OUT, l - 1, &w); /* block taps count from 0 */
            pool_rows(a, len, w, w, o->pool_last, out->layer[L + l].mean + (size_t)i * w, 1);
            const float *h = gpt_tap(g, GPT_TAP_MLP_HIDDEN, l - 1, &w);
            pool_rows(h, len, w, w, o->pool_last, out->layer[2 * L + l].mean + (size_t)i * w, 1);
        }
    }
    return 0;
}

/* Noise seed of trial t, stimulus i: every (trial, stimulus) its own child seed. */
static uint64_t trial_seed(uint64_t seed, int t, int i) {
    return rng_child_seed(rng_child_seed(seed, "trial", (uint64_t)t), "stimulus", (uint64_t)i);
}

static int record_srnn(lm_model *m, const rec_stimuli *s, const rec_opts *o, rep_set *out, char *err) {
    srnn_model *g = &m->snn;
    int N = g->N, n = s->n, T = o->trials < 1 ? 1 : o->trials, dale = g->cfg.dale;
    int nl = dale ? 3 : 1;
    out->layer = calloc((size_t)nl, sizeof(rep_layer));
    if (!out->layer) return tb_fail(err, "out of memory");
    out->n_layers = nl;
    rep_layer *R = &out->layer[0];
    if (alloc_layer(R, "rates", T, n, N)) return tb_fail(err, "out of memory");
    int maxlen = 0;
    for (int i = 0; i < n; i++) maxlen = s->len[i] > maxlen ? s->len[i] : maxlen;
    float *counts = malloc((size_t)maxlen * N * sizeof(float));
    double *row = malloc((size_t)N * sizeof(double));
    if (!counts || !row) { free(counts); free(row); return tb_fail(err, "out of memory"); }
    double hz = srnn_hz_per_count(g);
    int rc = 0;
    for (int t = 0; t < T && !rc; t++)
        for (int i = 0; i < n && !rc; i++) {
            rc = srnn_record(g, s->ids[i], s->len[i], trial_seed(o->seed, t, i), o->noise_hz, counts, err);
            if (rc) break;
            pool_rows(counts, s->len[i], N, N, o->pool_last, row, hz);
            double *dst = T > 1 ? R->trial + ((size_t)t * n + i) * N : R->mean + (size_t)i * N;
            memcpy(dst, row, (size_t)N * sizeof(double));
            tb_progress_tell(&o->progress, t * n + i + 1, T * n);
        }
    free(counts);
    free(row);
    if (rc) return -1;
    if (T > 1)
        for (int t = 0; t < T; t++)
            for (size_t k = 0; k < (size_t)n * N; k++) R->mean[k] += R->trial[(size_t)t * n * N + k] / T;
    if (dale) { /* excitatory neurons are 0..n_exc-1, inhibitory the rest */
        int ne = g->n_exc, ni = N - ne;
        const char *nm[2] = {"rates_exc", "rates_inh"};
        int off[2] = {0, ne}, w[2] = {ne, ni};
        for (int q = 0; q < 2; q++) {
            rep_layer *S = &out->layer[1 + q];
            if (alloc_layer(S, nm[q], T, n, w[q])) return tb_fail(err, "out of memory");
            for (int r = 0; r < n; r++) memcpy(S->mean + (size_t)r * w[q], R->mean + (size_t)r * N + off[q], (size_t)w[q] * 8);
            for (int r = 0; T > 1 && r < T * n; r++)
                memcpy(S->trial + (size_t)r * w[q], R->trial + (size_t)r * N + off[q], (size_t)w[q] * 8);
        }
    }
    return 0;
}

/* ---- the no-language control ------------------------------------------------------- */

int rec_no_language(lm_model *m, char *err) {
    if (strcmp(m->kind, "srnn"))
        return tb_fail(err, "%s: the no-language control needs a spiking network (a '%s' checkpoint with no input "
                            "is a constant, not a population)", m->path, m->kind);
    srnn_model *g = &m->snn;
    memset(g->p.w_in, 0, (size_t)g->V * g->N * sizeof *g->p.w_in);
    srnn_refresh(g);
    return 0;
}

/* 1 if the model hears its stimuli: a GPT always; a spiking network unless W_in is all zero. */
static int hears_language(const lm_model *m) {
    if (strcmp(m->kind, "srnn")) return 1;
    const srnn_model *g = &m->snn;
    for (size_t i = 0; i < (size_t)g->V * g->N; i++)
        if (g->p.w_in[i] != 0.0f) return 1;
    return 0;
}

int rec_record(lm_model *m, const rec_stimuli *s, const rec_opts *o, rep_set *out, char *err) {
    memset(out, 0, sizeof *out);
    int rc = !strcmp(m->kind, "gpt") ? record_gpt(m, s, o, out, err) : record_srnn(m, s, o, out, err);
    if (rc) rep_free(out);
    return rc;
}

/* ---- the recording folder ------------------------------------------------------------ */

/* Which subfolder layer l goes in (NULL: the folder itself). */
static const char *subfolder(const lm_model *m, const rep_set *r, int l) {
    if (!strcmp(m->kind, "gpt")) return l < rec_n_resid(m) ? NULL : strstr(r->layer[l].name, "_attn") ? "attn" : "mlp";
    return l > 0 ? "subpop" : NULL;
}

/* One layer as float32 (trials x stimuli x units, or stimuli x units for one trial). */
static int save_layer(const char *path, const rep_layer *L, char *err) {
    size_t count = (size_t)L->trials * L->n * L->p;
    float *f = malloc(count * sizeof(float));
    if (!f) return tb_fail(err, "out of memory");
    const double *src = L->trials > 1 ? L->trial : L->mean;
    for (size_t i = 0; i < count; i++) f[i] = (float)src[i];
    int64_t shape[3] = {L->trials, L->n, L->p};
    int rc = L->trials > 1 ? npy_write_f32(path, f, 3, shape, err) : npy_write_f32(path, f, 2, shape + 1, err);
    free(f);
    return rc;
}

/* What one unit (the last axis) of layer l is. */
static const char *unit_meaning(const lm_model *m, const rep_set *r, int l) {
    const char *sub = subfolder(m, r, l);
    if (!strcmp(m->kind, "gpt"))
        return !sub ? "residual-stream dimension (d_model)" : !strcmp(sub, "attn") ? "attention output dimension"
                                                                                  : "MLP hidden unit";
    if (!sub) return "neuron (under Dale's law the excitatory ones first)";
    return strstr(r->layer[l].name, "_exc") ? "excitatory neuron" : "inhibitory neuron (numbered after the excitatory ones)";
}

/* The manifest's entry for one array: file, dtype, shape and what each axis means
 * ("dims" names the axes in one string, as before). */
static void manifest_entry(json_writer *w, const char *file, const rep_layer *L, const char *unit) {
    long long shape[3] = {L->trials, L->n, L->p};
    int three = L->trials > 1;
    jw_object(w, NULL, JW_COMPACT);
    jw_str(w, "file", file);
    jw_str(w, "dtype", "float32");
    jw_str(w, "order", "C");
    jw_ints(w, "shape", three ? shape : shape + 1, three ? 3 : 2);
    jw_str(w, "dims", three ? "trials x stimuli x units" : "stimuli x units");
    jw_array(w, "axes", JW_COMPACT);
    if (three) jw_str(w, NULL, "trial: a repetition with fresh background noise");
    jw_str(w, NULL, "stimulus: line i of the stimuli file");
    char *u = tb_strf("unit: %s", unit);
    jw_str(w, NULL, u ? u : unit);
    free(u);
    jw_end(w);
    jw_end(w);
}

static void manifest_head(json_writer *w, const lm_model *m, const char *stimuli, const rec_stimuli *s,
                          const rec_opts *o) {
    jw_object(w, NULL, JW_LINES);
    jw_str(w, "model", m->path);
    jw_str(w, "kind", m->kind);
    jw_int(w, "step", m->step);
    jw_str(w, "stimuli", stimuli);
    jw_int(w, "n_stimuli", s->n);
    jw_str(w, "pool", o->pool_last ? "last" : "mean");
    jw_int(w, "trials", o->trials);
    jw_str(w, "units", !strcmp(m->kind, "gpt") ? "activations (residual stream, pooled over tokens)" : "firing rate, Hz");
    jw_bool(w, "language_input", hears_language(m));
    jw_array(w, "arrays", JW_LINES);
}

int rec_save(const char *dir, const lm_model *m, const char *stimuli, const rec_stimuli *s, const rec_opts *o,
             const rep_set *r, char *err) {
    json_writer w;
    jw_init(&w);
    manifest_head(&w, m, stimuli, s, o);
    int rc = 0;
    for (int l = 0; l < r->n_layers && !rc; l++) {
        const char *sub = subfolder(m, r, l);
        char *file = tb_strf("%s%s%s.npy", sub ? sub : "", sub ? "/" : "", r->layer[l].name);
        char *path = file ? tb_strf("%s/%s", dir, file) : NULL;
        rc = path ? save_layer(path, &r->layer[l], err) : tb_fail(err, "out of memory");
        if (!rc) manifest_entry(&w, file, &r->layer[l], unit_meaning(m, r, l));
        free(file);
        free(path);
    }
    jw_end(&w); /* arrays */
    jw_end(&w);
    char *path = rc ? NULL : tb_strf("%s/manifest.json", dir);
    if (!rc) rc = path ? jw_save(&w, path, err) : tb_fail(err, "out of memory");
    free(path);
    jw_free(&w);
    return rc;
}

void rec_rate_summary(const rep_layer *R, double *mean_hz, int *silent) {
    double mean = 0;
    *silent = 0;
    for (int j = 0; j < R->p; j++) {
        double c = 0;
        for (int i = 0; i < R->n; i++) c += R->mean[(size_t)i * R->p + j];
        mean += c / R->n;
        *silent += c == 0;
    }
    *mean_hz = R->p ? mean / R->p : 0;
}
