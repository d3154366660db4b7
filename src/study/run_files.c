/* run_files.c -- a training run on disk: its checkpoint keys, the loss log (in the
 * checkpoint and as runs/NAME.tsv) and the loss and rate plots.  Lessons 08 and 09; the
 * layout of every file is in include/run.h. */
#include "plot.h"
#include "run_priv.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const run_kind_info run_kinds[2] = {
    {"gpt", "train", RUN_GPT_NAME, 5, 0},
    {"srnn", "train-snn", RUN_SRNN_NAME, 6, 1},
};

const char *const run_col_names[RUN_NCOLS] = {"step", "lr", "train_loss", "val_loss", "grad_norm", "rate_hz", "wall_s"};
/* how each column is printed in the TSV (NaN: an empty cell) */
static const char *const col_fmt[RUN_NCOLS] = {"%.0f", "%.6g", "%.6f", "%.6f", "%.4g", "%.2f", "%.3f"};

/* ---- the log in memory -------------------------------------------------------------- */

int run_log_push(run_log *g, const double row[RUN_NCOLS], char *err) {
    if (g->n == g->cap) {
        int cap = g->cap ? 2 * g->cap : 1024;
        double *t = realloc(g->row, (size_t)cap * RUN_NCOLS * sizeof(double));
        if (!t) return tb_fail(err, "out of memory for the loss log (%d rows)", cap);
        g->row = t;
        g->cap = cap;
    }
    memcpy(g->row + (size_t)g->n * RUN_NCOLS, row, RUN_NCOLS * sizeof(double));
    g->n++;
    return 0;
}

void run_log_free(run_log *g) {
    free(g->row);
    memset(g, 0, sizeof *g);
}

/* ---- the log in the checkpoint: train_log [rows, cols], -1 for "none" ---------------- */

static int log_to_ckpt(const tb_run *r, tb_ckpt *c, char *err) {
    const run_log *g = &r->log;
    if (!g->n) return 0;
    int w = run_kinds[r->kind].ckpt_cols;
    int64_t shape[2] = {g->n, w};
    float *t = malloc((size_t)g->n * w * sizeof(float));
    if (!t) return tb_fail(err, "out of memory building the checkpoint");
    for (int i = 0; i < g->n; i++)
        for (int k = 0; k < w; k++) {
            double v = RUN_LOG(g, i, k);
            t[(size_t)i * w + k] = isnan(v) ? -1.0f : (float)v;
        }
    int rc = ckpt_add_tensor(c, "train_log", t, 2, shape);
    free(t);
    return rc ? tb_fail(err, "out of memory building the checkpoint") : 0;
}

/* Rows up to the run's step.  Checkpoints of earlier versions have one more column (the
 * wall time, ignored: it is read back from the TSV). */
static int log_from_ckpt(tb_run *r, const tb_ckpt *c, char *err) {
    const tb_tensor *t = ckpt_find(c, "train_log");
    if (!t) return 0;
    int w = run_kinds[r->kind].ckpt_cols;
    if (t->ndim != 2 || (t->shape[1] != w && t->shape[1] != w + 1))
        return tb_fail(err, "tensor 'train_log' has the wrong shape");
    for (int64_t i = 0; i < t->shape[0]; i++) {
        const float *src = t->data + i * t->shape[1];
        if ((long long)src[0] > r->step) break;
        double row[RUN_NCOLS];
        for (int k = 0; k < RUN_NCOLS; k++) row[k] = k >= w ? NAN : k > 0 && src[k] < 0 ? NAN : src[k];
        if (run_log_push(&r->log, row, err)) return -1;
    }
    return 0;
}

/* ---- the run's keys ------------------------------------------------------------------ */

static int put_u64(tb_ckpt *c, const char *key, uint64_t v) {
    char val[32];
    snprintf(val, sizeof val, "%llu", (unsigned long long)v);
    return ckpt_set(c, key, val);
}

static int get_u64(const tb_ckpt *c, const char *key, uint64_t *out, char *err) {
    const char *v = ckpt_get(c, key);
    if (!v || !*v) return tb_fail(err, "config key '%s' missing", key);
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (*end || errno) return tb_fail(err, "config key '%s' is not an unsigned integer", key);
    *out = x;
    return 0;
}

static int put_state(const tb_run *r, tb_ckpt *c, char *err) {
    int spiking = r->kind == RUN_SRNN, rc = 0;
    char key[sizeof "data_rng-2147483648"]; /* room for any int: gcc -O1 -fsanitize=address warns otherwise */
    for (int i = 0; i < 4 && !rc; i++) {
        snprintf(key, sizeof key, "data_rng%d", i);
        rc = put_u64(c, key, r->data.s[i]);
    }
    rc = rc || ckpt_set_int(c, "step", r->step) || ckpt_set_int(c, "batch", r->batch);
    if (spiking) rc = rc || ckpt_set_int(c, "ctx", r->ctx) || put_u64(c, "train_seed", r->seed);
    rc = rc || ckpt_set(c, "corpus", r->corpus_name) || ckpt_set(c, "tokens", r->tokens) || ckpt_set(c, "name", r->name);
    if (r->scramble) rc = rc || ckpt_set_int(c, "scramble_seed", (long long)r->scramble_seed);
    if (rc) return tb_fail(err, "out of memory building the checkpoint");
    if (adamw_cfg_to_ckpt(&r->opt.cfg, c, err)) return -1;
    if (spiking && (ckpt_set_double(c, "rate_lambda", r->rate.rate_lambda) ||
                    ckpt_set_double(c, "rate_lo_hz", r->rate.rate_lo_hz) ||
                    ckpt_set_double(c, "rate_hi_hz", r->rate.rate_hi_hz)))
        return tb_fail(err, "out of memory building the checkpoint");
    return 0;
}

static int get_spiking_keys(tb_run *r, const tb_ckpt *c, char *err) {
    long long ctx;
    if (ckpt_get_int(c, "ctx", &ctx, err) || get_u64(c, "train_seed", &r->seed, err) ||
        ckpt_get_double(c, "rate_lambda", &r->rate.rate_lambda, err) ||
        ckpt_get_double(c, "rate_lo_hz", &r->rate.rate_lo_hz, err) ||
        ckpt_get_double(c, "rate_hi_hz", &r->rate.rate_hi_hz, err))
        return -1;
    if (ctx < 1 || ctx > RUN_MAX_CTX) return tb_fail(err, "training state out of range (ctx %lld)", ctx);
    r->ctx = (int)ctx;
    return 0;
}

int run_load_state(tb_run *r, const tb_ckpt *c, char *err) {
    tb_adamw_cfg o;
    long long step, batch;
    if (adamw_cfg_from_ckpt(&o, c, err) || ckpt_get_int(c, "step", &step, err) || ckpt_get_int(c, "batch", &batch, err))
        return -1;
    if (step < 0 || batch < 1 || batch > RUN_MAX_BATCH)
        return tb_fail(err, "training state out of range (step %lld, batch %lld)", step, batch);
    if (r->kind == RUN_SRNN && get_spiking_keys(r, c, err)) return -1;
    size_t n;
    run_params(r, &n);
    if (adamw_init(&r->opt, &o, n, err) || adamw_from_ckpt(&r->opt, c, err)) return -1;
    char key[sizeof "data_rng-2147483648"];
    for (int i = 0; i < 4; i++) {
        snprintf(key, sizeof key, "data_rng%d", i);
        if (get_u64(c, key, &r->data.s[i], err)) return -1;
    }
    r->step = step;
    r->batch = (int)batch;
    return log_from_ckpt(r, c, err);
}

/* ---- a continual run's keys and tensors ---------------------------------------------- */

/* a b c into a fresh string */
static char *str_join(const char *a, const char *b, const char *c) {
    size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s%s%s", a, b, c);
    return s;
}

static int add_floats(tb_ckpt *c, const char *name, const float *x, int64_t rows, int64_t cols) {
    int64_t shape[2] = {rows, cols};
    return ckpt_add_tensor(c, name, x, cols ? 2 : 1, shape);
}

int run_then_to_ckpt(const tb_run *r, tb_ckpt *c, char *err) {
    if (!r->then_name) return 0;
    int rc = ckpt_set(c, "then_corpus", r->then_name) || ckpt_set_int(c, "then_at", r->then_at) ||
             ckpt_set_int(c, "then_steps", r->steps - r->then_at) || ckpt_set_double(c, "replay", r->replay) ||
             ckpt_set_double(c, "ewc", r->ewc);
    const cl_log *g = &r->forget;
    float *t = malloc((size_t)(g->n ? g->n : 1) * CL_NCOLS * sizeof(float));
    if (!t) rc = 1;
    for (int i = 0; !rc && i < g->n; i++) {
        const double v[CL_NCOLS] = {g->p[i].step, g->p[i].val_a, g->p[i].val_b, g->p[i].pairs_a};
        for (int k = 0; k < CL_NCOLS; k++) t[(size_t)i * CL_NCOLS + k] = isnan(v[k]) ? -1.0f : (float)v[k];
    }
    if (!rc && g->n) rc = add_floats(c, "forget_log", t, g->n, CL_NCOLS);
    free(t);
    size_t n;
    run_params(r, &n);
    if (!rc && r->ewc_anchor)
        rc = add_floats(c, "ewc_anchor", r->ewc_anchor, (int64_t)n, 0) || add_floats(c, "ewc_fisher", r->ewc_fisher, (int64_t)n, 0);
    return rc ? tb_fail(err, "out of memory building the checkpoint") : 0;
}

/* The points up to the run's step. */
static int forget_from_ckpt(tb_run *r, const tb_ckpt *c, char *err) {
    const tb_tensor *t = ckpt_find(c, "forget_log");
    if (!t) return 0;
    if (t->ndim != 2 || t->shape[1] != CL_NCOLS) return tb_fail(err, "tensor 'forget_log' has the wrong shape");
    for (int64_t i = 0; i < t->shape[0]; i++) {
        const float *x = t->data + i * CL_NCOLS;
        if ((long long)x[0] > r->step) break;
        cl_point pt = {x[0], x[1] < 0 ? NAN : x[1], x[2] < 0 ? NAN : x[2], x[3] < 0 ? NAN : x[3]};
        if (cl_log_push(&r->forget, &pt, err)) return -1;
    }
    return 0;
}

static int ewc_from_ckpt(tb_run *r, const tb_ckpt *c, char *err) {
    size_t n;
    run_params(r, &n);
    int64_t shape[1] = {(int64_t)n};
    r->ewc_anchor = malloc(n * sizeof(float));
    r->ewc_fisher = malloc(n * sizeof(float));
    if (!r->ewc_anchor || !r->ewc_fisher) return tb_fail(err, "out of memory");
    return ckpt_read_tensor(c, "ewc_anchor", r->ewc_anchor, 1, shape, err) ||
                   ckpt_read_tensor(c, "ewc_fisher", r->ewc_fisher, 1, shape, err)
               ? -1
               : 0;
}

int run_then_load(tb_run *r, const tb_ckpt *c, const char *data_dir, char *err) {
    const char *then = ckpt_get(c, "then_corpus");
    if (!then) return 0;
    long long at, steps;
    double replay, ewc;
    if (ckpt_get_int(c, "then_at", &at, err) || ckpt_get_int(c, "then_steps", &steps, err) ||
        ckpt_get_double(c, "replay", &replay, err) || ckpt_get_double(c, "ewc", &ewc, err))
        return -1;
    if (at < 0 || steps < 0 || !(replay >= 0 && replay < 1) || !(ewc >= 0))
        return tb_fail(err, "continual-learning keys out of range");
    if (run_then_open(r, then, data_dir, at, steps, replay, ewc, err) || forget_from_ckpt(r, c, err)) return -1;
    if (r->step <= at) return 0;   /* still on the first corpus (the switch follows step then_at) */
    run_then_swap(r);
    return ewc > 0 ? ewc_from_ckpt(r, c, err) : 0;
}

int run_write_forgetting(const tb_run *r, int *rendered, char *err) {
    *rendered = 0;
    if (!r->then_name) return 0;
    const tb_corpus *a = r->phase ? &r->corp_other : &r->corp, *b = r->phase ? &r->corp : &r->corp_other;
    char *tsv = NULL, *name = NULL;
    int rc = (tsv = str_join(TB_RUNS_DIR "/", r->name, "_forgetting.tsv")) && (name = str_join("", r->name, "_forgetting"))
                 ? 0
                 : tb_fail(err, "out of memory");
    if (!rc) rc = cl_write_tsv(&r->forget, a->floor_nats, b->floor_nats, tsv, err);
    if (!rc && make_dirs(TB_PLOTS_DIR, err)) rc = -1;
    if (!rc) rc = cl_plot(&r->forget, a->floor_nats, b->floor_nats, (double)r->then_at, TB_PLOTS_DIR, name, rendered, err);
    free(tsv);
    free(name);
    return rc;
}

/* ---- the checkpoint ---------------------------------------------------------------- */

static int model_to_ckpt(const tb_run *r, tb_ckpt *c, char *err) {
    return r->kind == RUN_GPT ? gpt_to_ckpt(&r->gpt, c, err) : srnn_to_ckpt(&r->srnn, c, err);
}

int run_save(const tb_run *r, const char *path, char *err) {
    size_t n;
    const float *p = run_params(r, &n);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(p[i])) return tb_fail(err, "%s: not saved: weight %zu is %s", path, i, isnan(p[i]) ? "NaN" : "infinite");
    tb_ckpt c;
    ckpt_init(&c, run_kinds[r->kind].ckpt_kind);
    /* the order of keys and tensors is the file's byte contract (run.h) */
    int rc = model_to_ckpt(r, &c, err) || tok_save(&r->corp.tok, &c, err) ||
             (r->opt.m && adamw_to_ckpt(&r->opt, &c, err)) || put_state(r, &c, err) || log_to_ckpt(r, &c, err) ||
             run_then_to_ckpt(r, &c, err) || ckpt_save(&c, path, err);
    ckpt_free(&c);
    return rc ? -1 : 0;
}

/* ---- runs/NAME.tsv -------------------------------------------------------------------- */

#define CELL 32
int run_write_tsv(const tb_run *r, char *err) {
    const run_log *g = &r->log;
    int cols[RUN_NCOLS], nc = 0;
    const char *hdr[RUN_NCOLS];
    for (int k = 0; k < RUN_NCOLS; k++)
        if (k != RUN_RATE || run_kinds[r->kind].has_rate) { hdr[nc] = run_col_names[k]; cols[nc++] = k; }
    char *buf = malloc((size_t)g->n * nc * CELL + 1);
    const char **cells = malloc((size_t)g->n * nc * sizeof(char *) + 1);
    if (!buf || !cells) { free(buf); free(cells); return tb_fail(err, "out of memory writing %s", r->path_tsv); }
    for (int i = 0; i < g->n; i++)
        for (int j = 0; j < nc; j++) {
            char *b = buf + ((size_t)i * nc + j) * CELL;
            double v = RUN_LOG(g, i, cols[j]);
            if (isnan(v)) b[0] = 0;
            else snprintf(b, CELL, col_fmt[cols[j]], v);
            cells[(size_t)i * nc + j] = b;
        }
    int rc = tsv_write(r->path_tsv, nc, hdr, g->n, cells, err);
    free(buf);
    free(cells);
    return rc;
}

/* Index of the tab-separated field `name` in a header line (-1: absent). */
static int field_index(const char *line, const char *name) {
    size_t n = strlen(name);
    for (int k = 0;; k++) {
        if (!strncmp(line, name, n) && (line[n] == '\t' || line[n] == '\n' || line[n] == '\r' || !line[n])) return k;
        line = strpbrk(line, "\t\n");
        if (!line || *line == '\n') return -1;
        line++;
    }
}

/* Field k of a tab-separated line as a number (NaN: empty or not a number). */
static double field_value(const char *line, int k) {
    for (; k > 0 && line; k--) {
        line = strpbrk(line, "\t\n");
        line = line && *line == '\t' ? line + 1 : NULL;
    }
    if (!line) return NAN;
    char *end;
    double v = strtod(line, &end);
    return end == line ? NAN : v;
}

int run_log_read_wall(run_log *g, const char *path, char *err) {
    if (access(path, F_OK) != 0) return 0;
    char *text;
    if (read_file(path, &text, NULL, err)) return -1;
    int ks = field_index(text, "step"), kw = field_index(text, "wall_s");
    if (ks < 0 || kw < 0) { free(text); return tb_fail(err, "%s: no step and wall_s columns", path); }
    int i = 0;
    for (const char *line = strchr(text, '\n'); line && line[1]; line = strchr(line, '\n')) {
        line++;
        double s = field_value(line, ks), w = field_value(line, kw);
        if (isnan(s)) continue;
        while (i < g->n && RUN_LOG(g, i, RUN_STEP) < s) i++;   /* both in step order */
        if (i < g->n && RUN_LOG(g, i, RUN_STEP) == s && !isnan(w)) RUN_LOG(g, i, RUN_WALL) = w;
    }
    free(text);
    return 0;
}

/* ---- plots ---------------------------------------------------------------------------- */

/* Train loss (smoothed over ~20 steps: each batch is noisy) and validation points. */
static void loss_series(const run_log *g, double *xs, double *ts, int *nt, double *xv, double *vv, int *nv) {
    double ema = NAN;
    *nt = *nv = 0;
    for (int i = 0; i < g->n; i++) {
        double tr = RUN_LOG(g, i, RUN_TRAIN), va = RUN_LOG(g, i, RUN_VAL), st = RUN_LOG(g, i, RUN_STEP);
        if (!isnan(tr)) {
            ema = isnan(ema) ? tr : 0.9 * ema + 0.1 * tr;
            xs[*nt] = st;
            ts[(*nt)++] = ema;
        }
        if (!isnan(va)) { xv[*nv] = st; vv[(*nv)++] = va; }
    }
}

static void model_words(const tb_run *r, char *buf, size_t n) {
    if (r->kind == RUN_GPT)
        snprintf(buf, n, "%d layers x %d heads, d_model %d", r->gpt.cfg.n_layer, r->gpt.cfg.n_head, r->gpt.cfg.d_model);
    else
        snprintf(buf, n, "%d %s neurons, %s", r->srnn.N, srnn_neuron_name(r->srnn.cfg.neuron), srnn_mode_name(r->srnn.cfg.mode));
}

int run_plot_loss(const tb_run *r, int *rendered, char *err) {
    const run_log *g = &r->log;
    *rendered = 0;
    if (g->n < 2) return 0;   /* a curve needs two logged steps (a 0-step run has one) */
    double *xs = malloc(4 * (size_t)g->n * sizeof(double));
    if (!xs) return tb_fail(err, "out of memory for the loss plot");
    double *ts = xs + g->n, *xv = ts + g->n, *vv = xv + g->n;
    int nt, nv;
    loss_series(g, xs, ts, &nt, xv, vv, &nv);
    double last = RUN_LOG(g, g->n - 1, RUN_STEP), fl = r->corp.floor_nats, bg = r->corp.bigram_nats;
    double x2[2] = {0, last > 0 ? last : 1}, fl2[2] = {fl, fl}, bg2[2] = {bg, bg};
    tb_series s[4];
    int ns = 0;
    if (nt) s[ns++] = (tb_series){"train (smoothed)", xs, ts, nt, "lines"};
    if (nv) s[ns++] = (tb_series){"validation", xv, vv, nv, "linespoints"};
    if (!isnan(bg)) s[ns++] = (tb_series){"bigram baseline", x2, bg2, 2, "dashed"};
    if (!isnan(fl)) s[ns++] = (tb_series){"true floor", x2, fl2, 2, "dashed"};
    char pname[1100], words[160], title[1400];
    snprintf(pname, sizeof pname, "%s_loss", r->name);
    model_words(r, words, sizeof words);
    snprintf(title, sizeof title, "tinybrain %s %s: loss (%s, %s)", run_kinds[r->kind].command, r->name, r->corp.name, words);
    tb_lineplot lp = {title, "step", "nats per token", 0, 0, NAN, NAN, 0, 0};
    if (!isnan(fl)) lp.ymin = fl - 0.3;
    if (nt) lp.ymax = (nv && vv[0] > ts[0] ? vv[0] : ts[0]) + 0.2;
    int rc = plot_lines(TB_PLOTS_DIR, pname, &lp, s, ns, rendered, err);
    free(xs);
    return rc;
}

int run_plot_rate(const tb_run *r, int *drawn, int *rendered, char *err) {
    const run_log *g = &r->log;
    *drawn = *rendered = 0;
    if (r->kind != RUN_SRNN || g->n < 2) return 0;
    double *xs = malloc(2 * (size_t)g->n * sizeof(double));
    if (!xs) return tb_fail(err, "out of memory for the rate plot");
    double *hz = xs + g->n;
    int nr = 0;
    for (int i = 0; i < g->n; i++)   /* the training batches' rates (not the validations') */
        if (!isnan(RUN_LOG(g, i, RUN_TRAIN)) && !isnan(RUN_LOG(g, i, RUN_RATE))) {
            xs[nr] = RUN_LOG(g, i, RUN_STEP);
            hz[nr++] = RUN_LOG(g, i, RUN_RATE);
        }
    int rc = 0;
    if (nr > 1) {
        double last = RUN_LOG(g, g->n - 1, RUN_STEP), x2[2] = {0, last > 0 ? last : 1};
        double lo[2] = {r->rate.rate_lo_hz, r->rate.rate_lo_hz}, hi[2] = {r->rate.rate_hi_hz, r->rate.rate_hi_hz};
        tb_series s[3] = {{"mean rate of the training batch", xs, hz, nr, "lines"},
                          {"regulariser band: upper edge", x2, hi, 2, "dashed"},
                          {"regulariser band: lower edge", x2, lo, 2, "dashed"}};
        char pname[1100], title[1300];
        snprintf(pname, sizeof pname, "%s_rate", r->name);
        snprintf(title, sizeof title, "tinybrain train-snn %s: mean firing rate (dt %g ms)", r->name, r->srnn.cfg.dt_ms);
        tb_lineplot lp = {title, "step", "rate (Hz)", 0, 0, 0, NAN, 0, 0};
        *drawn = 1;
        rc = plot_lines(TB_PLOTS_DIR, pname, &lp, s, 3, rendered, err);
    }
    free(xs);
    return rc;
}
