/* study_report.c -- the study's report, written twice from the same tables: DIR/report.md
 * (pictures linked from DIR/plots) and DIR/report.html (self-contained: every picture
 * inlined, report.h), and the findings as DIR/findings.tsv.  Lesson 17; see
 * include/study.h.
 */
#include "ablation.h"
#include "io.h"
#include "report.h"
#include "study_priv.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- both pages at once ---------------------------------------------------------------- */

typedef struct {
    char *md;             /* the Markdown text so far */
    size_t len, cap;
    int failed;           /* out of memory */
    tb_report html;
} pages;

static void md(pages *p, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = tb_vstrf(fmt, ap);
    va_end(ap);
    size_t n = s ? strlen(s) : 0;
    if (!s || p->failed) { free(s); p->failed = 1; return; }
    if (p->len + n + 1 > p->cap) {
        size_t cap = p->cap ? p->cap : 8192;
        while (cap < p->len + n + 1) cap *= 2;
        char *b = realloc(p->md, cap);
        if (!b) { free(s); p->failed = 1; return; }
        p->md = b;
        p->cap = cap;
    }
    memcpy(p->md + p->len, s, n + 1);
    p->len += n;
    free(s);
}

static void h2(pages *p, const char *s) {
    md(p, "\n## %s\n\n", s);
    report_h2(&p->html, s);
}

static void para(pages *p, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = tb_vstrf(fmt, ap);
    va_end(ap);
    if (!s) { p->failed = 1; return; }
    md(p, "%s\n\n", s);
    report_p(&p->html, s);
    free(s);
}

static void picture(pages *p, const study_pic *pic) {
    if (!pic->path[0]) return;
    const char *base = strrchr(pic->path, '/');
    char err[TB_ERRLEN];
    if (pic->ok && !report_png(&p->html, pic->path, pic->caption, err)) {
        md(p, "![%s](plots/%s)\n\n*%s*\n\n", pic->caption, base ? base + 1 : pic->path, pic->caption);
    } else if (pic->script[0]) {
        para(p, "(picture not rendered: gnuplot is not installed; render it with `gnuplot %s`) %s", pic->script, pic->caption);
    }
}

/* A table: row 0 is the header; cells are malloc'd text. */
typedef struct { int rows, cols; char **cell; } table;

static int tab_init(table *t, int rows, int cols) {
    t->rows = rows;
    t->cols = cols;
    t->cell = calloc((size_t)rows * cols, sizeof *t->cell);
    return t->cell ? 0 : -1;
}

static void tab_put(table *t, int i, int j, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    if (t->cell && i < t->rows && j < t->cols) {
        free(t->cell[(size_t)i * t->cols + j]);
        t->cell[(size_t)i * t->cols + j] = tb_vstrf(fmt, ap);
    }
    va_end(ap);
}

/* "0.123 [0.100, 0.150]", or "0.123" without an interval, or "-" */
static void tab_ci(table *t, int i, int j, double v, double lo, double hi) {
    if (isnan(v)) tab_put(t, i, j, "-");
    else if (isnan(lo)) tab_put(t, i, j, "%.3f", v);
    else tab_put(t, i, j, "%.3f [%.3f, %.3f]", v, lo, hi);
}

/* Write the table to both pages and free it. */
static void tab_emit(pages *p, table *t) {
    if (!t->cell) { p->failed = 1; return; }
    for (int i = 0; i < t->rows; i++) {
        md(p, "|");
        for (int j = 0; j < t->cols; j++) {
            const char *c = t->cell[(size_t)i * t->cols + j];
            md(p, " %s |", c ? c : "");
        }
        md(p, "\n");
        if (i == 0) {
            md(p, "|");
            for (int j = 0; j < t->cols; j++) md(p, "---|");
            md(p, "\n");
        }
    }
    md(p, "\n");
    report_table(&p->html, (const char *const *)t->cell, t->rows, t->cols);
    for (int i = 0; i < t->rows * t->cols; i++) free(t->cell[i]);
    free(t->cell);
    t->cell = NULL;
}

/* ---- the sections ------------------------------------------------------------------------- */

static void intro(pages *p, const study_result *r) {
    const study_design *d = &r->design;
    char widths[200] = "", depths[200] = "";
    for (int i = 0; i < d->n_widths; i++) snprintf(widths + strlen(widths), sizeof widths - strlen(widths), "%s%d", i ? ", " : "", d->widths[i]);
    for (int i = 0; i < d->n_depths; i++) snprintf(depths + strlen(depths), sizeof depths - strlen(depths), "%s%d", i ? ", " : "", d->depths[i]);
    para(p, "The findings of AlKhamissi et al. (EMNLP 2025, how much language models resemble the human language network) "
            "tested at toy scale: the 'brain' is a spiking network trained on the same toyworld corpus, so every "
            "verdict below is about these small models, not about people.  Each verdict is computed from the numbers "
            "by a rule fixed before the run.");
    para(p, "Design (%s): %d seeds; GPT d_model %s at %d blocks and %s blocks at d_model %d; %d training steps with "
            "snapshots at %s; a scrambled-words control per seed (the main model, d_model %d x %d blocks); one spiking "
            "network per seed (%d steps); %d probe sentences (each network recorded on %d trials); %d bootstrap "
            "resamples of the stimuli; feature-count control at %d units (%d random draws) and %d principal components; "
            "the localizer's top %.0f%% of the last layer against %d random sets.",
         d->quick ? "--quick" : "full", d->seeds, widths, d->depth, depths, d->width, d->steps, d->save_at, d->width,
         d->depth, d->snn_steps, r->n_stimuli, d->trials, d->boot, d->units, d->units_repeats, d->units, d->loc_top, d->abl_sets);
    para(p, "Time: %.0f s training (%d of %d runs trained now, the rest cached under the study's runs/ folder) and "
            "%.0f s measuring, %.0f s in all.", r->train_s, r->trained, r->n_gpt + r->n_snn, r->measure_s, r->total_s);
}

static void summary(pages *p, const study_result *r) {
    table t;
    if (tab_init(&t, STUDY_N_FINDINGS + 1, 5)) { p->failed = 1; return; }
    const char *head[5] = {"id", "claim (the paper)", "statistic [95% interval]", "verdict", "why"};
    for (int j = 0; j < 5; j++) tab_put(&t, 0, j, "%s", head[j]);
    for (int i = 0; i < STUDY_N_FINDINGS; i++) {
        const study_finding *f = &r->finding[i];
        tab_put(&t, i + 1, 0, "%s", f->id);
        tab_put(&t, i + 1, 1, "%s", f->claim);
        tab_ci(&t, i + 1, 2, f->value, f->ci_low, f->ci_high);
        tab_put(&t, i + 1, 3, "%s", study_verdict_name[f->verdict]);
        const char *colon = strchr(f->why, ':');
        tab_put(&t, i + 1, 4, "%s", colon ? colon + 2 : f->why);
    }
    tab_emit(p, &t);
}

/* Statistic, rule and result of finding i. */
static void finding_text(pages *p, const study_finding *f) {
    char head[300];
    snprintf(head, sizeof head, "%s: %s", f->id, f->claim);
    h2(p, head);
    para(p, "Statistic: %s.  Rule: %s.", f->statistic, f->rule);
    para(p, "Result: %s", f->why);
}

static void training_table(pages *p, const study_result *r) {
    const study_data *d = &r->data;
    table t;
    if (d->t_snaps < 1 || tab_init(&t, d->t_snaps + 1, 4)) return;
    const char *head[4] = {"step", "RSA with the network", "minimal-pair accuracy", "fact recall"};
    for (int j = 0; j < 4; j++) tab_put(&t, 0, j, "%s", head[j]);
    for (int i = 0; i < d->t_snaps; i++) {
        const double *src[3] = {d->t_align, d->t_formal, d->t_functional};
        tab_put(&t, i + 1, 0, "%lld%s", d->t_step[i], i == d->t_early ? " (early)" : "");
        for (int k = 0; k < 3; k++) {
            double s = 0;
            for (int q = 0; q < d->t_seeds; q++) s += src[k][(size_t)q * d->t_snaps + i];
            tab_put(&t, i + 1, k + 1, "%.3f", s / d->t_seeds);
        }
    }
    para(p, "The main model at every snapshot (means over %d seeds):", d->t_seeds);
    tab_emit(p, &t);
}

static void reference_table(pages *p, const study_result *r) {
    table t;
    int rows = STUDY_N_REFS + (r->have_scan ? 4 : 0);
    if (tab_init(&t, rows + 1, 2)) return;
    tab_put(&t, 0, 0, "the main model and its references");
    tab_put(&t, 0, 1, "RSA with the network [95%% interval]");
    for (int k = 0; k < STUDY_N_REFS; k++) {
        tab_put(&t, k + 1, 0, "%s", study_ref_name[k]);
        tab_ci(&t, k + 1, 1, r->ref[k], r->ref_lo[k], r->ref_hi[k]);
    }
    for (int k = 0; r->have_scan && k < 4; k++) {
        tab_put(&t, STUDY_N_REFS + k + 1, 0, "%s", study_scan_name[k]);
        tab_ci(&t, STUDY_N_REFS + k + 1, 1, r->scan_rsa[k], r->scan_lo[k], r->scan_hi[k]);
    }
    tab_emit(p, &t);
    para(p, "The no-language population fires at %.2f Hz on average; the GPT's best layer against the ideal observer's "
            "best layer: RSA %.3f.%s", r->nolang_rate_hz, r->ideal_gpt_rsa,
         r->have_scan ? "  The scans are the virtual scanner's fMRI (scan.h defaults: 32 voxels, SNR 0.8, 4 runs)." : "");
    if (r->have_scan) para(p, "The scans' within-subject (split-half) ceiling on r: %.3f.", r->scan_ceiling);
}

static void width_table(pages *p, const study_result *r) {
    table t;
    if (tab_init(&t, r->n_final + 1, 6)) return;
    const char *head[6] = {"d_model", "seed", "encoding r, every unit", "at K random units", "at K components", "RSA at K units"};
    for (int j = 0; j < 6; j++) tab_put(&t, 0, j, "%s", head[j]);
    int row = 1;
    for (int i = 0; i < r->n_final; i++) {
        const study_final *F = &r->final[i];
        const study_model *g = &r->gpt[F->model];
        if (g->depth != r->design.depth) continue;
        tab_put(&t, row, 0, "%d", g->width);
        tab_put(&t, row, 1, "%d", g->seed);
        tab_put(&t, row, 2, "%.3f", study_best(F->enc, F->n_layers));
        tab_put(&t, row, 3, "%.3f", study_best(F->enc_units, F->n_layers));
        tab_put(&t, row, 4, "%.3f", study_best(F->enc_pca, F->n_layers));
        tab_put(&t, row++, 5, "%.3f", study_best(F->rsa_units, F->n_layers));
    }
    t.rows = row;
    para(p, "Every model of %d blocks, its best layer (K = %d):", r->design.depth, r->design.units);
    tab_emit(p, &t);
}

static void ablation_table(pages *p, const study_result *r) {
    const study_data *d = &r->data;
    table t;
    if (d->a_seeds < 1 || tab_init(&t, d->a_seeds + 1, 7)) return;
    const char *head[7] = {"seed", "val loss, localized", "random sets: median [5%, 95%]", "percentile",
                           "minimal pairs, localized", "random sets: median [5%, 95%]", "percentile"};
    for (int j = 0; j < 7; j++) tab_put(&t, 0, j, "%s", head[j]);
    for (int s = 0; s < d->a_seeds; s++) {
        abl_summary q[2];
        const double *rnd[2] = {d->a_loss_rand + (size_t)s * d->a_sets, d->a_acc_rand + (size_t)s * d->a_sets};
        double loc[2] = {d->a_loss[s], d->a_acc[s]};
        tab_put(&t, s + 1, 0, "%d", s + 1);
        for (int k = 0; k < 2; k++) {
            if (abl_summarize(loc[k], rnd[k], d->a_sets, !k, &q[k], NULL)) continue;
            tab_put(&t, s + 1, 1 + 3 * k, "%.4f", loc[k]);
            tab_put(&t, s + 1, 2 + 3 * k, "%.4f [%.4f, %.4f]", q[k].median, q[k].p05, q[k].p95);
            tab_put(&t, s + 1, 3 + 3 * k, "%.1f", q[k].percentile);
        }
    }
    para(p, "The %d localized units (top %.0f%% of the last layer's %d, sentences > their scrambled twins) zeroed, "
            "against %d random sets of %d units of the same layer; the percentile is the share of random sets that "
            "did less harm (ties count half).", r->s4_k, r->design.loc_top, r->s4_units, d->a_sets, r->s4_k);
    tab_emit(p, &t);
}

static void depth_table(pages *p, const study_result *r) {
    table t;
    if (tab_init(&t, r->n_final + 1, 4)) return;
    const char *head[4] = {"d_model x blocks", "seed", "RSA by layer (relative depth: RSA)", "best layer"};
    for (int j = 0; j < 4; j++) tab_put(&t, 0, j, "%s", head[j]);
    for (int i = 0; i < r->n_final; i++) {
        const study_final *F = &r->final[i];
        const study_model *g = &r->gpt[F->model];
        char buf[1024] = "";
        for (int l = 0; l < F->n_layers; l++)
            snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%.2f: %.3f", l ? ", " : "",
                     (double)l / (F->n_layers - 1), F->rsa[l]);
        tab_put(&t, i + 1, 0, "%d x %d", g->width, g->depth);
        tab_put(&t, i + 1, 1, "%d", g->seed);
        tab_put(&t, i + 1, 2, "%s", buf);
        tab_put(&t, i + 1, 3, "%s", F->layer[F->best]);
    }
    tab_emit(p, &t);
}

static void seeds_table(pages *p, const study_result *r) {
    const study_data *d = &r->data;
    table t;
    if (d->s_n < 1 || tab_init(&t, d->s_n + 1, 4)) return;
    const char *head[4] = {"d_model x blocks", "seeds", "mean CKA, same layer", "mean CKA, different layers"};
    for (int j = 0; j < 4; j++) tab_put(&t, 0, j, "%s", head[j]);
    for (int m = 0; m < d->s_n; m++) {
        const study_model *a = &r->gpt[r->pair_gpt[2 * m]], *b = &r->gpt[r->pair_gpt[2 * m + 1]];
        int L = d->s_layers[m];
        double dg = 0, off = 0;
        for (int i = 0; i < L * L; i++) {
            if (i / L == i % L) dg += d->s_cka[m][i] / L;
            else off += d->s_cka[m][i] / (L * (L - 1));
        }
        tab_put(&t, m + 1, 0, "%d x %d", a->width, a->depth);
        tab_put(&t, m + 1, 1, "%d vs %d", a->seed, b->seed);
        tab_put(&t, m + 1, 2, "%.3f", dg);
        tab_put(&t, m + 1, 3, "%.3f", off);
    }
    tab_emit(p, &t);
}

static void models_table(pages *p, const study_result *r) {
    table t;
    if (tab_init(&t, r->n_final + 1, 9)) return;
    const char *head[9] = {"d_model x blocks", "seed", "val loss (nats)", "minimal pairs", "fact recall", "best layer",
                           "RSA, best layer [95%]", "CKA", "encoding r"};
    for (int j = 0; j < 9; j++) tab_put(&t, 0, j, "%s", head[j]);
    for (int i = 0; i < r->n_final; i++) {
        const study_final *F = &r->final[i];
        const study_model *g = &r->gpt[F->model];
        int b = F->best;
        tab_put(&t, i + 1, 0, "%d x %d", g->width, g->depth);
        tab_put(&t, i + 1, 1, "%d", g->seed);
        tab_put(&t, i + 1, 2, "%.4f", F->val_loss);
        tab_put(&t, i + 1, 3, "%.3f", F->pair_acc);
        tab_put(&t, i + 1, 4, "%.3f", F->fact_acc);
        tab_put(&t, i + 1, 5, "%s", F->layer[b]);
        tab_ci(&t, i + 1, 6, F->rsa[b], F->rsa_lo[b], F->rsa_hi[b]);
        tab_put(&t, i + 1, 7, "%.3f", F->cka[b]);
        tab_put(&t, i + 1, 8, "%.3f", F->enc[b]);
    }
    h2(p, "Every trained GPT against its seed's network");
    tab_emit(p, &t);
}

/* ---- the files ----------------------------------------------------------------------------------- */

static int findings_tsv(const char *path, const study_result *r, char *err) {
    const char *head[8] = {"id", "claim", "statistic", "value", "ci_low", "ci_high", "verdict", "why"};
    char *cells[STUDY_N_FINDINGS * 8];
    for (int i = 0; i < STUDY_N_FINDINGS; i++) {
        const study_finding *f = &r->finding[i];
        char **c = cells + i * 8;
        c[0] = tb_strf("%s", f->id);
        c[1] = tb_strf("%s", f->claim);
        c[2] = tb_strf("%s", f->statistic);
        c[3] = tb_strf("%.6g", f->value);
        c[4] = tb_strf("%.6g", f->ci_low);
        c[5] = tb_strf("%.6g", f->ci_high);
        c[6] = tb_strf("%s", study_verdict_name[f->verdict]);
        c[7] = tb_strf("%s", f->why);
    }
    int rc = 0;
    for (int i = 0; i < STUDY_N_FINDINGS * 8; i++)
        if (!cells[i]) rc = tb_fail(err, "out of memory");
    if (!rc) rc = tsv_write(path, 8, head, STUDY_N_FINDINGS, (const char *const *)cells, err);
    for (int i = 0; i < STUDY_N_FINDINGS * 8; i++) free(cells[i]);
    return rc;
}

/* S7's section: where its numbers are shown. */
static void s7_note(pages *p, const study_result *r) {
    (void)r;
    para(p, "The over-training picture and table are under S1; the no-language population is a row of S2's table.");
}

/* The finding sections, in order: each its text, its pictures (-1: none) and its table. */
static void sections(pages *p, const study_result *r, const study_pic *pic) {
    static const struct { int pic[2]; void (*table)(pages *, const study_result *); } part[STUDY_N_FINDINGS] = {
        {{STUDY_PIC_TRAINING, -1}, training_table},      {{STUDY_PIC_REFERENCES, -1}, reference_table},
        {{STUDY_PIC_WIDTH, -1}, width_table},            {{STUDY_PIC_ABL_LOSS, STUDY_PIC_ABL_PAIRS}, ablation_table},
        {{STUDY_PIC_DEPTH, -1}, depth_table},            {{STUDY_PIC_SEEDS, -1}, seeds_table},
        {{-1, -1}, s7_note},
    };
    for (int i = 0; i < STUDY_N_FINDINGS; i++) {
        finding_text(p, &r->finding[i]);
        for (int k = 0; k < 2; k++)
            if (part[i].pic[k] >= 0) picture(p, &pic[part[i].pic[k]]);
        part[i].table(p, r);
    }
    models_table(p, r);
}

int study_write_report(const study_opts *o, study_result *r, char *err) {
    char plots[1100];
    study_pic pic[STUDY_N_PICS];
    snprintf(plots, sizeof plots, "%s/plots", o->out);
    snprintf(r->report_md, sizeof r->report_md, "%s/report.md", o->out);
    snprintf(r->report_html, sizeof r->report_html, "%s/report.html", o->out);
    snprintf(r->findings_tsv, sizeof r->findings_tsv, "%s/findings.tsv", o->out);
    if (study_figures(plots, r, pic, err)) return -1;
    pages p;
    memset(&p, 0, sizeof p);
    const char *title = "tinybrain study: the seed paper's findings at toy scale";
    md(&p, "# %s\n\n", title);
    report_begin(&p.html, title);
    intro(&p, r);
    h2(&p, "Findings");
    summary(&p, r);
    sections(&p, r, pic);
    int rc = p.failed ? tb_fail(err, "out of memory writing the report") : write_text_file(r->report_md, p.md, err);
    free(p.md);
    if (!rc) rc = report_finish(&p.html, r->report_html, err);
    else report_free(&p.html);
    if (!rc) rc = findings_tsv(r->findings_tsv, r, err);
    return rc;
}
