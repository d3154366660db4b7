/* train_snn.c -- `tinybrain train-snn`: teach a recurrent spiking network toyworld.
 * Lesson 09; the model and its learning rules are described in include/srnn.h.
 *
 * --mode bptt (default): each step draws B windows of T+1 training tokens (on toyworld
 * each window starts at a sentence's "." so that, like the scoring, the network reads a
 * sentence after its left context), runs the network from rest, backpropagates through
 * time with the fast-sigmoid surrogate and takes one AdamW step.  --mode reservoir:
 * the random network runs over the training sentences once and the readout is fitted by
 * ridge regression.  --stdp-tokens N first trains the input weights with STDP on N
 * training tokens (either mode).  Files, with the same scheme as `tinybrain train`:
 *   runs/NAME.ckpt                 model (kind "srnn"), tokenizer, optimizer, step,
 *                                  data RNG, loss history (the last good state)
 *   runs/NAME/step_NNNNNN.ckpt     the --save-at snapshots
 *   runs/NAME.tsv                  step, lr, train loss, val loss, grad norm, rate, wall s
 *   plots/NAME_loss.png            train and val loss against the floor and the bigram
 *   plots/NAME_rate.png            mean firing rate per step against the regulariser's band
 * --resume CKPT continues a BPTT run bit for bit (same --threads and kernels). */
#include "cli.h"
#include "commands.h"
#include "gpt.h"
#include "lm.h"
#include "kernels.h"
#include "plot.h"
#include "srnn.h"
#include "threads.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SAVE 64
#define LOG_COLS 7

typedef struct {
    double *row;   /* [n, LOG_COLS]: step, lr, train, val (NaN: none), grad norm, rate Hz, wall s */
    int n, cap;
} snn_log;

static void log_push(snn_log *g, const double *r) {
    if (g->n == g->cap) {
        g->cap = g->cap ? 2 * g->cap : 1024;
        g->row = realloc(g->row, (size_t)g->cap * LOG_COLS * sizeof(double));
        if (!g->row) cli_die(1, "out of memory");
    }
    memcpy(g->row + (size_t)g->n * LOG_COLS, r, LOG_COLS * sizeof(double));
    g->n++;
}
#define LOGV(g, i, c) ((g)->row[(size_t)(i) * LOG_COLS + (c)])

typedef struct {
    srnn_model m;
    tb_adamw opt;
    srnn_train_opts to;
    tb_rng data;
    long long step;
    int batch, ctx;
    uint64_t seed;
    const tb_corpus *corp;
    const char *corpus_name, *name;
    snn_log log;
} run_state;

/* ---- checkpoints -------------------------------------------------------------------- */
static int save_run(const run_state *r, const char *path, char *err) {
    tb_ckpt c;
    ckpt_init(&c, "srnn");
    int rc = srnn_to_ckpt(&r->m, &c, err) || tok_save(&r->corp->tok, &c, err);
    if (!rc && r->opt.m) rc = gpt_opt_to_ckpt(&r->opt, &c, err);
    const tb_adamw_cfg *o = &r->opt.cfg;
    char key[16], val[32];
    for (int i = 0; i < 4 && !rc; i++) {
        snprintf(key, sizeof key, "data_rng%d", i);
        snprintf(val, sizeof val, "%llu", (unsigned long long)r->data.s[i]);
        rc = ckpt_set(&c, key, val);
    }
    snprintf(val, sizeof val, "%llu", (unsigned long long)r->seed);
    if (!rc)
        rc = ckpt_set_int(&c, "step", r->step) || ckpt_set_int(&c, "batch", r->batch) ||
             ckpt_set_int(&c, "ctx", r->ctx) || ckpt_set(&c, "train_seed", val) ||
             ckpt_set(&c, "corpus", r->corpus_name) ||
             ckpt_set(&c, "tokens", r->corp->tok.kind == TOK_CHAR ? "char" : "word") || ckpt_set(&c, "name", r->name) ||
             ckpt_set_double(&c, "lr", o->lr) || ckpt_set_double(&c, "beta1", o->beta1) ||
             ckpt_set_double(&c, "beta2", o->beta2) || ckpt_set_double(&c, "eps", o->eps) ||
             ckpt_set_double(&c, "weight_decay", o->weight_decay) || ckpt_set_int(&c, "warmup_steps", o->warmup_steps) ||
             ckpt_set_int(&c, "total_steps", o->total_steps) || ckpt_set_double(&c, "min_lr_frac", o->min_lr_frac) ||
             ckpt_set_double(&c, "clip_norm", o->clip_norm) || ckpt_set_double(&c, "rate_lambda", r->to.rate_lambda) ||
             ckpt_set_double(&c, "rate_lo_hz", r->to.rate_lo_hz) || ckpt_set_double(&c, "rate_hi_hz", r->to.rate_hi_hz);
    if (!rc && r->log.n) {   /* without the wall-time column: identical runs, identical files */
        int64_t shape[2] = {r->log.n, LOG_COLS - 1};
        float *t = malloc((size_t)r->log.n * (LOG_COLS - 1) * sizeof(float));
        if (!t) rc = -1;
        for (size_t i = 0; t && i < (size_t)r->log.n; i++)
            for (int k = 0; k < LOG_COLS - 1; k++) {
                double v = r->log.row[i * LOG_COLS + k];
                t[i * (LOG_COLS - 1) + k] = isnan(v) ? -1.0f : (float)v;
            }
        if (t) rc = ckpt_add_tensor(&c, "train_log", t, 2, shape);
        free(t);
    }
    if (rc) {
        ckpt_free(&c);
        return err && *err ? -1 : tb_fail(err, "out of memory building the checkpoint");
    }
    rc = ckpt_save(&c, path, err);
    ckpt_free(&c);
    return rc;
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

static int load_run(run_state *r, const tb_ckpt *c, char *err) {
    tb_adamw_cfg o;
    adamw_default_cfg(&o);
    long long ws, ts, step, batch, ctx;
    if (ckpt_get_double(c, "lr", &o.lr, err) || ckpt_get_double(c, "beta1", &o.beta1, err) ||
        ckpt_get_double(c, "beta2", &o.beta2, err) || ckpt_get_double(c, "eps", &o.eps, err) ||
        ckpt_get_double(c, "weight_decay", &o.weight_decay, err) || ckpt_get_int(c, "warmup_steps", &ws, err) ||
        ckpt_get_int(c, "total_steps", &ts, err) || ckpt_get_double(c, "min_lr_frac", &o.min_lr_frac, err) ||
        ckpt_get_double(c, "clip_norm", &o.clip_norm, err) || ckpt_get_int(c, "step", &step, err) ||
        ckpt_get_int(c, "batch", &batch, err) || ckpt_get_int(c, "ctx", &ctx, err) ||
        ckpt_get_double(c, "rate_lambda", &r->to.rate_lambda, err) ||
        ckpt_get_double(c, "rate_lo_hz", &r->to.rate_lo_hz, err) ||
        ckpt_get_double(c, "rate_hi_hz", &r->to.rate_hi_hz, err) || get_u64(c, "train_seed", &r->seed, err))
        return -1;
    if (step < 0 || batch < 1 || batch > 4096 || ctx < 1 || ctx > 100000 || ws < 0 || ts < 0 || ws > 1e9 || ts > 1e9)
        return tb_fail(err, "training state out of range (step %lld, batch %lld, ctx %lld)", step, batch, ctx);
    o.warmup_steps = (int)ws;
    o.total_steps = (int)ts;
    if (adamw_init(&r->opt, &o, r->m.n_params, err) || gpt_opt_from_ckpt(&r->opt, c, err)) return -1;
    char key[16];
    for (int i = 0; i < 4; i++) {
        snprintf(key, sizeof key, "data_rng%d", i);
        if (get_u64(c, key, &r->data.s[i], err)) return -1;
    }
    r->step = step;
    r->batch = (int)batch;
    r->ctx = (int)ctx;
    const tb_tensor *t = ckpt_find(c, "train_log");
    if (t) {   /* LOG_COLS - 1 columns (no wall time); earlier versions stored LOG_COLS */
        int w = (int)t->shape[1];
        if (t->ndim != 2 || (w != LOG_COLS - 1 && w != LOG_COLS)) return tb_fail(err, "tensor 'train_log' has the wrong shape");
        for (int64_t i = 0; i < t->shape[0]; i++) {
            double row[LOG_COLS];
            for (int k = 0; k < LOG_COLS - 1; k++) row[k] = t->data[i * w + k];
            row[LOG_COLS - 1] = NAN;
            if ((long long)row[0] > step) break;
            for (int k = 1; k < LOG_COLS - 1; k++) if (row[k] < 0) row[k] = NAN;   /* -1 stored for "none" */
            log_push(&r->log, row);
        }
    }
    return 0;
}

/* ---- data, log, plot ---------------------------------------------------------------- */

/* B windows of T+1 tokens; on a sentence corpus each starts at an eos (the "." before
 * a sentence), the way sentences are scored. */
static void draw_batch(run_state *r, int *x, int *y, int B, int T) {
    const tb_corpus *c = r->corp;
    long span = c->n_train - T - 1;
    for (int b = 0; b < B; b++) {
        long s = (long)(rng_u64(&r->data) % (uint64_t)span);
        if (c->eos >= 0) {
            long q = s;
            while (q < span && c->train[q] != c->eos) q++;
            if (q < span) s = q;
        }
        for (int t = 0; t < T; t++) {
            x[b * T + t] = c->train[s + t];
            y[b * T + t] = c->train[s + t + 1];
        }
    }
}

static int write_tsv(const snn_log *g, const char *path, char *err) {
    const char *hdr[LOG_COLS] = {"step", "lr", "train_loss", "val_loss", "grad_norm", "rate_hz", "wall_s"};
    const char *fmt[LOG_COLS] = {"%.0f", "%.6g", "%.6f", "%.6f", "%.4g", "%.2f", "%.3f"};
    char *buf = malloc((size_t)g->n * LOG_COLS * 24 + 1);
    const char **cells = malloc((size_t)g->n * LOG_COLS * sizeof(char *) + 1);
    if (!buf || !cells) { free(buf); free(cells); return tb_fail(err, "out of memory"); }
    for (int i = 0; i < g->n; i++)
        for (int k = 0; k < LOG_COLS; k++) {
            char *b = buf + ((size_t)i * LOG_COLS + k) * 24;
            double v = LOGV(g, i, k);
            if (isnan(v)) b[0] = 0;
            else snprintf(b, 24, fmt[k], v);
            cells[(size_t)i * LOG_COLS + k] = b;
        }
    int rc = tsv_write(path, LOG_COLS, hdr, g->n, cells, err);
    free(buf);
    free(cells);
    return rc;
}

static void plot_curve(const run_state *r, const char *name) {
    const snn_log *g = &r->log;
    if (g->n < 1) return;
    double *xs = malloc(g->n * sizeof(double)), *ts = malloc(g->n * sizeof(double));
    double *xv = malloc(g->n * sizeof(double)), *vv = malloc(g->n * sizeof(double));
    if (!xs || !ts || !xv || !vv) { free(xs); free(ts); free(xv); free(vv); return; }
    int nv = 0, nt = 0;
    double ema = NAN;
    for (int i = 0; i < g->n; i++) {
        double tr = LOGV(g, i, 2);
        if (!isnan(tr)) {
            ema = isnan(ema) ? tr : 0.9 * ema + 0.1 * tr;
            xs[nt] = LOGV(g, i, 0);
            ts[nt++] = ema;
        }
        if (!isnan(LOGV(g, i, 3))) { xv[nv] = LOGV(g, i, 0); vv[nv++] = LOGV(g, i, 3); }
    }
    double last = LOGV(g, g->n - 1, 0);
    double x2[2] = {0, last > 0 ? last : 1};
    double fl[2] = {r->corp->floor_nats, r->corp->floor_nats}, bg[2] = {r->corp->bigram_nats, r->corp->bigram_nats};
    tb_series s[4];
    int ns = 0;
    if (nt) s[ns++] = (tb_series){"train (smoothed)", xs, ts, nt, "lines"};
    if (nv) s[ns++] = (tb_series){"validation", xv, vv, nv, "linespoints"};
    if (!isnan(r->corp->bigram_nats)) s[ns++] = (tb_series){"bigram baseline", x2, bg, 2, "dashed"};
    if (!isnan(r->corp->floor_nats)) s[ns++] = (tb_series){"true floor", x2, fl, 2, "dashed"};
    char pname[300], title[400], err[TB_ERRLEN];
    snprintf(pname, sizeof pname, "%s_loss", name);
    snprintf(title, sizeof title, "tinybrain train-snn %s: loss (%s, %d %s neurons, %s)", name, r->corp->name, r->m.N,
             srnn_neuron_name(r->m.cfg.neuron), srnn_mode_name(r->m.cfg.mode));
    tb_lineplot lp = {title, "step", "nats per token", 0, 0, NAN, NAN, 0, 0};
    if (!isnan(r->corp->floor_nats)) lp.ymin = r->corp->floor_nats - 0.3;
    if (nt) lp.ymax = ts[0] + 0.2 > (nv ? vv[0] : 0) ? ts[0] + 0.2 : vv[0] + 0.2;
    int rendered = 0;
    if (plot_lines(TB_PLOTS_DIR, pname, &lp, s, ns, &rendered, err)) cli_note("loss plot: %s", err);
    else if (!rendered) cli_note("gnuplot not found: render with gnuplot %s/%s.gp", TB_PLOTS_DIR, pname);
    else cli_note("wrote %s/%s.png", TB_PLOTS_DIR, pname);
    /* the mean firing rate of each training batch, against the regulariser's band */
    int nr = 0;
    for (int i = 0; i < g->n; i++)
        if (!isnan(LOGV(g, i, 2)) && !isnan(LOGV(g, i, 5))) { xs[nr] = LOGV(g, i, 0); ts[nr++] = LOGV(g, i, 5); }
    if (nr > 1) {
        double lo[2] = {r->to.rate_lo_hz, r->to.rate_lo_hz}, hi[2] = {r->to.rate_hi_hz, r->to.rate_hi_hz};
        tb_series rs[3] = {{"mean rate of the training batch", xs, ts, nr, "lines"},
                           {"regulariser band: upper edge", x2, hi, 2, "dashed"},
                           {"regulariser band: lower edge", x2, lo, 2, "dashed"}};
        snprintf(pname, sizeof pname, "%s_rate", name);
        snprintf(title, sizeof title, "tinybrain train-snn %s: mean firing rate (dt %g ms)", name, r->m.cfg.dt_ms);
        tb_lineplot rp = {title, "step", "rate (Hz)", 0, 0, 0, NAN, 0, 0};
        if (plot_lines(TB_PLOTS_DIR, pname, &rp, rs, 3, &rendered, err)) cli_note("rate plot: %s", err);
        else if (rendered) cli_note("wrote %s/%s.png", TB_PLOTS_DIR, pname);
    }
    free(xs); free(ts); free(xv); free(vv);
}

static int arg_given(int argc, char **argv, const char *name) {
    size_t n = strlen(name);
    for (int i = 1; i < argc; i++)
        if (!strncmp(argv[i], "--", 2) && !strncmp(argv[i] + 2, name, n) && (argv[i][2 + n] == 0 || argv[i][2 + n] == '='))
            return 1;
    return 0;
}

/* Validation loss and the mean firing rate while reading the validation text. */
static int validate(run_state *r, const lm_scorer *sc, long val_tokens, double *val, double *rate_hz, char *err) {
    srnn_counters keep = r->m.ctr;
    srnn_counters_reset(&r->m);
    int rc = lm_val_loss(sc, r->corp, val_tokens, NULL, val, err);
    *rate_hz = r->m.ctr.neuron_updates ? (double)r->m.ctr.spikes / r->m.ctr.neuron_updates * 1000.0 / r->m.cfg.dt_ms : NAN;
    srnn_counters c = r->m.ctr;
    r->m.ctr = keep;
    srnn_counters_add(&r->m.ctr, &c);
    return rc;
}

int cmd_train_snn(int argc, char **argv) {
    const char *corpus_opt, *tokens, *data_dir, *name_opt, *mode_s, *neuron_s, *readout_s, *save_at, *resume;
    int steps, batch, ctx, neurons, kpt, dale, warmup, eval_every, json, val_tokens, stdp_tokens, res_tokens;
    double dt, tau_m, theta, slope, tau_trace, frac_inh, p_conn, w_in_std, w_rec_gain, noise_hz, noise_w;
    double lr, min_lr_frac, wd, clip, rate_lambda, rate_lo, rate_hi, ridge;
    long long seed;
    cli_opt opts[] = {
        {"corpus", 's', &corpus_opt, "toyworld", "", "toyworld, or a text file (then pick --tokens)", 0, 0, NULL},
        {"tokens", 'c', &tokens, "word", "", "tokenizer for a text file", 0, 0, "word|char"},
        {"data-dir", 's', &data_dir, TB_DATA_DIR, "", "toyworld data folder", 0, 0, NULL},
        {"name", 's', &name_opt, "snn", "", "run name: runs/NAME.ckpt, runs/NAME.tsv, plots/NAME_loss.png", 0, 0, NULL},
        {"mode", 'c', &mode_s, "bptt", "", "learning rule: surrogate-gradient BPTT, or a reservoir with a ridge readout", 0, 0, "bptt|reservoir"},
        {"neuron", 'c', &neuron_s, "lif", "", "neuron model (izh and adex: reservoir mode only)", 0, 0, "lif|izh|adex"},
        {"neurons", 'i', &neurons, "256", "", "recurrent neurons N", 2, 65536, NULL},
        {"steps-per-token", 'i', &kpt, "8", "steps", "simulation steps K each token is presented for", 1, 1000, NULL},
        {"dt", 'f', &dt, "1", "ms", "simulation time step (rate in Hz = spikes / (N x steps x dt))", 0.001, 10, NULL},
        {"tau-m", 'f', &tau_m, "9.49", "ms", "membrane time constant (beta = exp(-dt/tau_m) = 0.9)", 0.01, 1e5, NULL},
        {"theta", 'f', &theta, "1", "", "firing threshold (dimensionless; v is in units of it)", 1e-3, 1e3, NULL},
        {"slope", 'f', &slope, "10", "", "surrogate gradient 1/(slope |v - theta| + 1)^2", 1e-3, 1e4, NULL},
        {"readout", 'c', &readout_s, "count", "", "feature per neuron: spike count in the token's window, or a filtered trace", 0, 0, "count|trace"},
        {"tau-trace", 'f', &tau_trace, "20", "ms", "time constant of the trace readout", 0.01, 1e5, NULL},
        {"dale", 'b', &dale, NULL, "", "Dale's law: excitatory and inhibitory neurons with sign-constrained weights", 0, 0, NULL},
        {"frac-inh", 'f', &frac_inh, "0.2", "", "fraction of inhibitory neurons (with --dale)", 0, 0.99, NULL},
        {"p-conn", 'f', &p_conn, "1", "", "recurrent connection probability (1: dense)", 1e-4, 1, NULL},
        {"w-in-std", 'f', &w_in_std, "0.5", "", "initial input weights ~ N(0, std)", 0, 100, NULL},
        {"w-rec-gain", 'f', &w_rec_gain, "1", "", "initial recurrent weights ~ N(0, gain/sqrt(N p))", 0, 100, NULL},
        {"noise-hz", 'f', &noise_hz, "20", "Hz", "Poisson background input per neuron (0: off; scoring uses a fixed seed)", 0, 1e5, NULL},
        {"noise-w", 'f', &noise_w, "0.5", "", "jump of v per background spike", -100, 100, NULL},
        {"steps", 'i', &steps, "600", "", "optimizer steps (bptt)", 0, 1e8, NULL},
        {"batch", 'i', &batch, "16", "windows", "windows per step", 1, 4096, NULL},
        {"ctx", 'i', &ctx, "32", "tokens", "tokens per window (BPTT length = ctx x steps-per-token)", 2, 100000, NULL},
        {"lr", 'f', &lr, "3e-3", "", "peak learning rate (AdamW)", 1e-7, 1, NULL},
        {"warmup", 'i', &warmup, "20", "steps", "linear warm-up", 0, 1e8, NULL},
        {"min-lr-frac", 'f', &min_lr_frac, "0.1", "", "final lr as a fraction of the peak (cosine decay)", 0, 1, NULL},
        {"wd", 'f', &wd, "0", "", "AdamW weight decay (weight matrices only)", 0, 10, NULL},
        {"clip", 'f', &clip, "1", "", "clip the global gradient norm to this (0: off)", 0, 1e6, NULL},
        {"rate-lambda", 'f', &rate_lambda, "1", "", "strength of the firing-rate regulariser (0: off)", 0, 1e6, NULL},
        {"rate-lo", 'f', &rate_lo, "1", "Hz", "rates below this are penalised", 0, 1e4, NULL},
        {"rate-hi", 'f', &rate_hi, "50", "Hz", "rates above this are penalised", 0, 1e4, NULL},
        {"stdp-tokens", 'i', &stdp_tokens, "0", "tokens", "STDP pre-training of the input weights on this many training tokens", 0, 1e9, NULL},
        {"ridge", 'f', &ridge, "1e-3", "", "reservoir: ridge penalty relative to the mean feature power", 1e-12, 1e6, NULL},
        {"reservoir-tokens", 'i', &res_tokens, "0", "tokens", "reservoir: fit on the first N training tokens (0: all)", 0, 1e9, NULL},
        {"seed", 'l', &seed, "1", "", "initialisation, data order and noise", 0, 9e18, NULL},
        {"eval-every", 'i', &eval_every, "200", "steps", "validate and save runs/NAME.ckpt this often", 1, 1e8, NULL},
        {"val-tokens", 'i', &val_tokens, "0", "tokens", "validate on the first N tokens only (0: all)", 0, 1e9, NULL},
        {"save-at", 's', &save_at, "", "", "also keep runs/NAME/step_NNNNNN.ckpt at these steps, e.g. 0,50,200,final", 0, 0, NULL},
        {"resume", 's', &resume, "", "", "continue the BPTT run saved in this checkpoint (bit-identical)", 0, 0, NULL},
        {"json", 'b', &json, NULL, "", "print a one-object JSON summary at the end", 0, 0, NULL},
    };
    cli_cmd cmd = {"train-snn", "", "train a recurrent spiking network on toyworld (surrogate gradients, reservoir, STDP)",
                   "Defaults: 256 LIF neurons, each token presented for 8 steps of 1 ms, spike-count readout,\n"
                   "600 steps of BPTT with AdamW (lr 3e-3, batch 16 windows of 32 tokens), firing rates\n"
                   "kept in 1..50 Hz, 20 Hz Poisson background input.  Writes runs/NAME.ckpt (kind \"srnn\"),\n"
                   "runs/NAME.tsv and plots/NAME_loss.png; Ctrl-C saves and exits cleanly; --resume continues bit for bit\n"
                   "(same --threads and kernels).  `tinybrain eval runs/snn.ckpt` scores it like a GPT.",
                   "tinybrain train-snn --steps 600 --save-at 0,100,final"};
    char *pos[1];
    cli_parse(&cmd, opts, NOPT(opts), argc, argv, pos, 0, 0);
    char err[TB_ERRLEN], e2[TB_ERRLEN];
    cli_catch_sigint();

    long long save_list[MAX_SAVE];
    int nsave = 0;
    if (*save_at && (nsave = cli_parse_int_list(save_at, save_list, MAX_SAVE, err)) < 0) cli_die(2, "--save-at: %s", err);
    for (int i = 0; i < nsave; i++)
        if (save_list[i] < -1) cli_die(2, "--save-at: step %lld is negative", save_list[i]);
    if (rate_lo > rate_hi) cli_die(2, "--rate-lo %g Hz is above --rate-hi %g Hz", rate_lo, rate_hi);

    run_state r;
    memset(&r, 0, sizeof r);
    tb_ckpt rck;
    char keep_corpus[1024], keep_tokens[16], keep_name[256];
    int resuming = *resume != 0;
    if (resuming) {
        if (ckpt_load(&rck, resume, "srnn", err)) cli_die(1, "%s", err);
        const char *cn = ckpt_get(&rck, "corpus"), *tk = ckpt_get(&rck, "tokens");
        if (!cn || !tk || !ckpt_get(&rck, "adam_t")) cli_die(1, "%s: not a BPTT training checkpoint (no corpus/optimizer state)", resume);
        /* copies: the checkpoint is freed once the model is restored */
        snprintf(keep_corpus, sizeof keep_corpus, "%s", arg_given(argc, argv, "corpus") ? corpus_opt : cn);
        snprintf(keep_tokens, sizeof keep_tokens, "%s", tk);
        corpus_opt = keep_corpus;
        tokens = keep_tokens;
        if (!arg_given(argc, argv, "name") && ckpt_get(&rck, "name")) {
            snprintf(keep_name, sizeof keep_name, "%s", ckpt_get(&rck, "name"));
            name_opt = keep_name;
        }
    }
    if (!*name_opt || strchr(name_opt, '/')) cli_die(2, "--name '%s': use a plain name (no '/')", name_opt);
    tb_corpus corp;
    if (corpus_load(&corp, corpus_opt, data_dir, tokens, err)) cli_die(1, "%s", err);
    r.corp = &corp;
    r.corpus_name = corpus_opt;
    r.name = name_opt;

    if (resuming) {
        if (srnn_from_ckpt(&r.m, &rck, e2)) cli_die(1, "%s: %s", resume, e2);
        tb_tokenizer tok;
        if (tok_load(&tok, &rck, e2)) cli_die(1, "%s: %s", resume, e2);
        if (tok_check_same(&tok, &corp.tok, resume, err)) cli_die(1, "%s", err);
        tok_free(&tok);
        if (load_run(&r, &rck, e2)) cli_die(1, "%s: %s", resume, e2);
        ckpt_free(&rck);
        if (r.m.cfg.mode != SRNN_BPTT) cli_die(1, "%s: a reservoir checkpoint cannot be resumed", resume);
        if (arg_given(argc, argv, "steps")) {
            if (steps < r.step) cli_die(2, "--steps %d is before the checkpoint's step %lld", steps, r.step);
        } else {
            steps = r.opt.cfg.total_steps > r.step ? r.opt.cfg.total_steps : (int)r.step;
        }
        r.opt.cfg.total_steps = steps;
    } else {
        srnn_config c;
        srnn_default_config(&c);
        c.vocab_size = corp.tok.vocab_size;
        c.n_neurons = neurons;
        c.steps_per_token = kpt;
        c.dt_ms = dt;
        c.tau_m_ms = tau_m;
        c.theta = theta;
        c.slope = slope;
        if (srnn_parse_neuron(neuron_s, &c.neuron) || srnn_parse_mode(mode_s, &c.mode) ||
            srnn_parse_readout(readout_s, &c.readout))
            cli_die(2, "bad --neuron/--mode/--readout");
        c.tau_trace_ms = tau_trace;
        c.dale = dale;
        c.frac_inh = frac_inh;
        c.p_conn = p_conn;
        c.w_in_std = w_in_std;
        c.w_rec_gain = w_rec_gain;
        c.noise_hz = noise_hz;
        c.noise_w = noise_w;
        c.seed = (uint64_t)seed;
        if (c.mode == SRNN_BPTT && c.neuron != SRNN_LIF)
            cli_die(2, "--neuron %s: surrogate-gradient training is implemented for LIF only; use --mode reservoir", neuron_s);
        if (srnn_check_config(&c, e2)) cli_die(2, "%s", e2);
        if (srnn_init(&r.m, &c, err)) cli_die(1, "%s", err);
        r.to = (srnn_train_opts){rate_lambda, rate_lo, rate_hi};
        r.seed = (uint64_t)seed;
        r.batch = batch;
        r.ctx = ctx;
        rng_stream(&r.data, (uint64_t)seed, 1);
        if (c.mode == SRNN_BPTT) {
            tb_adamw_cfg o;
            adamw_default_cfg(&o);
            o.lr = lr;
            o.warmup_steps = warmup;
            o.total_steps = steps;
            o.min_lr_frac = min_lr_frac;
            o.weight_decay = wd;
            o.clip_norm = clip;
            if (adamw_init(&r.opt, &o, r.m.n_params, err)) cli_die(1, "%s", err);
        }
    }
    const int B = r.batch, T = r.ctx;
    const int bptt = r.m.cfg.mode == SRNN_BPTT;
    if (!bptt) steps = 1;
    if (corp.n_train < T + 2) cli_die(1, "%s: training split has %ld tokens, fewer than ctx + 2 = %d", corp.name, corp.n_train, T + 2);

    char path_final[1100], path_tsv[1100], dir_steps[1100];
    snprintf(path_final, sizeof path_final, "%s/%s.ckpt", TB_RUNS_DIR, r.name);
    snprintf(path_tsv, sizeof path_tsv, "%s/%s.tsv", TB_RUNS_DIR, r.name);
    snprintf(dir_steps, sizeof dir_steps, "%s/%s", TB_RUNS_DIR, r.name);

    lm_scorer sc;
    srnn_scorer(&sc, &r.m);
    if (!cli_quiet)
        fprintf(stderr,
                "train-snn %s: %s (%ld tokens, vocab %d), %d %s neurons%s%s, %d steps of %g ms per token, %s readout, "
                "mode %s%s, %d thread%s, kernels %s\n",
                r.name, corp.name, corp.n_train, corp.tok.vocab_size, r.m.N, srnn_neuron_name(r.m.cfg.neuron),
                r.m.cfg.dale ? " (Dale: E/I)" : "", r.m.cfg.p_conn < 1 ? " (sparse)" : "", r.m.K, r.m.cfg.dt_ms,
                srnn_readout_name(r.m.cfg.readout), srnn_mode_name(r.m.cfg.mode), resuming ? " (resumed)" : "",
                tb_threads(), tb_threads() > 1 ? "s" : "", tb_kern->name);

    cli_progress_start();
    /* STDP pre-training of the input weights (before step 0) */
    if (!resuming && stdp_tokens > 0) {
        srnn_stdp_opts so;
        srnn_default_stdp_opts(&so);
        long n = stdp_tokens < corp.n_train ? stdp_tokens : corp.n_train;
        double dw;
        if (srnn_stdp_pretrain(&r.m, corp.train, n, &so, (uint64_t)seed ^ 0x57D9ULL, &dw, err)) cli_die(1, "%s", err);
        cli_note("STDP on %ld tokens: mean |dW_in| = %.4f (%.1f s)", n, dw, cli_elapsed());
    }

    int *x = malloc((size_t)B * T * sizeof(int)), *y = malloc((size_t)B * T * sizeof(int));
    if (!x || !y) cli_die(1, "out of memory");
    double last_val = NAN, last_train = NAN, ema = NAN, val_rate = NAN, last_rate = NAN, fit_nll = NAN;
    long long last_good = -1;
    int stopped = 0, failed = 0;
    double t_tokens = 0;
    for (;;) {
        for (int i = 0; i < nsave; i++)
            if (save_list[i] == r.step || (save_list[i] == -1 && r.step == steps)) {
                char p[1200];
                snprintf(p, sizeof p, "%s/step_%06lld.ckpt", dir_steps, r.step);
                if (save_run(&r, p, err)) cli_die(1, "%s", err);
                break;
            }
        int logged_here = r.log.n && LOGV(&r.log, r.log.n - 1, 0) == (double)r.step;
        int do_eval = r.step == steps || (r.step > 0 && r.step % eval_every == 0) || cli_interrupted;
        if (do_eval && !(resuming && logged_here && !isnan(LOGV(&r.log, r.log.n - 1, 3)))) {
            if (validate(&r, &sc, val_tokens, &last_val, &val_rate, err)) cli_die(1, "%s", err);
            if (logged_here) LOGV(&r.log, r.log.n - 1, 3) = last_val;
            else {
                double row[LOG_COLS] = {(double)r.step, NAN, NAN, last_val, NAN, val_rate, cli_elapsed()};
                log_push(&r.log, row);
            }
            if (!isfinite(last_val)) { failed = 1; break; }
            if (save_run(&r, path_final, err)) cli_die(1, "%s", err);
            last_good = r.step;
            if (write_tsv(&r.log, path_tsv, err)) cli_note("%s", err);
        }
        if (cli_interrupted) { stopped = 1; break; }
        if (r.step >= steps) break;

        if (!bptt) {   /* the reservoir: one closed-form fit is the whole of training */
            srnn_reservoir_opts ro = {ridge, res_tokens};
            cli_note("reservoir: running %ld training tokens through the network and solving the ridge readout",
                     res_tokens > 0 && res_tokens < corp.n_train ? (long)res_tokens : corp.n_train);
            if (srnn_fit_reservoir(&r.m, corp.train, corp.n_train, corp.eos, &ro, &fit_nll, err)) cli_die(1, "%s", err);
            r.step = 1;
            t_tokens += (double)(res_tokens > 0 && res_tokens < corp.n_train ? res_tokens : corp.n_train);
            double row[LOG_COLS] = {1, NAN, fit_nll, NAN, NAN, NAN, cli_elapsed()};
            log_push(&r.log, row);
            last_train = fit_nll;
            continue;
        }
        draw_batch(&r, x, y, B, T);
        srnn_batch_stats bs;
        uint64_t noise_seed = r.seed * 0x9E3779B97F4A7C15ULL + (uint64_t)r.step;
        if (srnn_forward_backward(&r.m, x, y, B, T, &r.to, noise_seed, 1, &bs, err)) cli_die(1, "%s", err);
        if (!isfinite(bs.ce)) { last_train = bs.ce; failed = 1; break; }
        double lr_now = adamw_lr(&r.opt.cfg, r.opt.t);
        double gn = adamw_step(&r.opt, r.m.params_mem, r.m.grads_mem, r.m.decay_mask);
        srnn_refresh(&r.m);
        if (!isfinite(gn)) { last_train = NAN; failed = 1; break; }
        r.step++;
        last_train = bs.ce;
        last_rate = bs.mean_rate_hz;
        ema = isnan(ema) ? bs.ce : 0.95 * ema + 0.05 * bs.ce;
        t_tokens += (double)B * T;
        double row[LOG_COLS] = {(double)r.step, lr_now, bs.ce, NAN, gn, bs.mean_rate_hz, cli_elapsed()};
        log_push(&r.log, row);
        double el = cli_elapsed();
        cli_progress((int)r.step, steps, "train %.3f  val %.3f  %.0f Hz  %.0f tok/s", ema, last_val, last_rate,
                     t_tokens / (el > 0 ? el : 1));
    }
    cli_progress_end();
    double wall = cli_elapsed();
    free(x);
    free(y);

    if (failed) {
        if (last_good >= 0)
            cli_die(1, "loss became %s at step %lld: stopped; the last good checkpoint is %s (step %lld)",
                    isnan(last_train) || isnan(last_val) ? "NaN" : "infinite", r.step, path_final, last_good);
        cli_die(1, "loss became %s at step %lld: stopped before any checkpoint was saved (try a lower --lr)",
                isnan(last_train) ? "NaN" : "infinite", r.step);
    }
    if (write_tsv(&r.log, path_tsv, err)) cli_note("%s", err);
    plot_curve(&r, r.name);
    if (stopped) {
        cli_note("interrupted at step %lld: saved %s (continue with: tinybrain train-snn --resume %s)", r.step, path_final,
                 path_final);
        srnn_free(&r.m);
        adamw_free(&r.opt);
        free(r.log.row);
        corpus_free(&corp);
        return 0;
    }

    double acc[3] = {NAN, NAN, NAN};
    int np[3] = {0, 0, 0};
    char pairs[1200];
    snprintf(pairs, sizeof pairs, "%s/minimal_pairs.tsv", data_dir);
    int have_pairs = !strcmp(corp.name, "toyworld") && !lm_minimal_pairs(&sc, &corp.tok, pairs, acc, np, err);
    if (!strcmp(corp.name, "toyworld") && !have_pairs) cli_note("minimal pairs: %s", err);

    if (json) {
        json_begin();
        json_str("name", r.name);
        json_str("checkpoint", path_final);
        json_str("mode", srnn_mode_name(r.m.cfg.mode));
        json_str("neuron", srnn_neuron_name(r.m.cfg.neuron));
        json_int("neurons", r.m.N);
        json_int("steps", r.step);
        json_num("train_loss", last_train);
        json_num("val_loss", last_val);
        json_num("floor_nats", corp.floor_nats);
        json_num("excess_nats", last_val - corp.floor_nats);
        json_num("bigram_nats", corp.bigram_nats);
        json_num("unigram_nats", corp.unigram_nats);
        json_num("minimal_pair_acc", acc[0]);
        json_num("minimal_pair_acc_attractor", acc[1]);
        json_num("minimal_pair_acc_no_attractor", acc[2]);
        json_num("mean_rate_hz", val_rate);
        json_num("dt_ms", r.m.cfg.dt_ms);
        json_int("threads", tb_threads());
        json_num("wall_s", wall);
        json_num("tokens_per_s", t_tokens / (wall > 0 ? wall : 1));
        json_end();
    } else {
        printf("step %lld: train %.4f, val %.4f nats/token", r.step, last_train, last_val);
        if (!isnan(corp.floor_nats))
            printf(" (floor %.4f, %+.4f above it; bigram %.4f)", corp.floor_nats, last_val - corp.floor_nats, corp.bigram_nats);
        printf("\n");
        if (have_pairs)
            printf("minimal pairs: %.1f%% (with attractor %.1f%%, without %.1f%%)\n", 100 * acc[0], 100 * acc[1], 100 * acc[2]);
        printf("mean firing rate on the validation text: %.1f Hz (dt %g ms, %d steps per token)\n", val_rate, r.m.cfg.dt_ms, r.m.K);
        printf("%.1f s; saved %s and %s\n", wall, path_final, path_tsv);
    }
    srnn_free(&r.m);
    adamw_free(&r.opt);
    free(r.log.row);
    corpus_free(&corp);
    return 0;
}
