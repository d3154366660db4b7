/* train.c -- `tinybrain train`: train the tiny GPT on toyworld (or any text).  Lesson 08.
 *
 * Each step draws B random windows of T+1 tokens from the training stream, runs the
 * forward and backward passes and one AdamW step (warm-up + cosine, clipping, decay on
 * matrices only).  Every --eval-every steps it scores the validation split and saves
 * runs/NAME.ckpt (the "last good" checkpoint).  Files:
 *   runs/NAME.ckpt                 final (or interrupted) state: model, tokenizer,
 *                                  optimizer moments, step, data RNG, loss history
 *   runs/NAME/step_NNNNNN.ckpt     the --save-at snapshots (same content), e.g.
 *                                  runs/gpt/step_000000.ckpt for the untrained model
 *   runs/NAME.tsv                  step, lr, train loss, val loss, grad norm, wall s
 *   plots/NAME_loss.png            train and val loss against the floor and bigram lines
 * --resume CKPT continues a run bit for bit: the same steps follow as if it had never
 * stopped (same thread count and kernels). */
#include "cli.h"
#include "commands.h"
#include "lm.h"
#include "kernels.h"
#include "plot.h"
#include "threads.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SAVE 64

typedef struct {
    long long *step;
    double *lr, *train, *val, *gnorm, *wall;
    int n, cap;
} train_log;

static void log_push(train_log *g, long long step, double lr, double tr, double val, double gn, double wall) {
    if (g->n == g->cap) {
        g->cap = g->cap ? 2 * g->cap : 1024;
        g->step = realloc(g->step, g->cap * sizeof(long long));
        double **f[5] = {&g->lr, &g->train, &g->val, &g->gnorm, &g->wall};
        for (int i = 0; i < 5; i++) *f[i] = realloc(*f[i], g->cap * sizeof(double));
        if (!g->step || !g->lr || !g->train || !g->val || !g->gnorm || !g->wall) cli_die(1, "out of memory");
    }
    g->step[g->n] = step;
    g->lr[g->n] = lr;
    g->train[g->n] = tr;
    g->val[g->n] = val;
    g->gnorm[g->n] = gn;
    g->wall[g->n] = wall;
    g->n++;
}

static void log_free(train_log *g) {
    free(g->step); free(g->lr); free(g->train); free(g->val); free(g->gnorm); free(g->wall);
}

/* Everything a run needs to continue exactly where it stopped. */
typedef struct {
    gpt_model m;
    tb_adamw opt;
    tb_rng data;
    long long step;      /* optimizer steps taken */
    int batch;
    const tb_corpus *corp;
    const char *corpus_name, *tokens, *name;
    train_log log;
} run_state;

static int save_run(const run_state *r, const char *path, char *err) {
    tb_ckpt c;
    ckpt_init(&c, "gpt");
    int rc = gpt_to_ckpt(&r->m, &c, err) || tok_save(&r->corp->tok, &c, err) || gpt_opt_to_ckpt(&r->opt, &c, err);
    const tb_adamw_cfg *o = &r->opt.cfg;
    char key[16], val[32];
    for (int i = 0; i < 4 && !rc; i++) {
        snprintf(key, sizeof key, "data_rng%d", i);
        snprintf(val, sizeof val, "%llu", (unsigned long long)r->data.s[i]);
        rc = ckpt_set(&c, key, val);
    }
    if (!rc)
        rc = ckpt_set_int(&c, "step", r->step) || ckpt_set_int(&c, "batch", r->batch) ||
             ckpt_set(&c, "corpus", r->corpus_name) || ckpt_set(&c, "tokens", r->tokens) ||
             ckpt_set(&c, "name", r->name) || ckpt_set_double(&c, "lr", o->lr) ||
             ckpt_set_double(&c, "beta1", o->beta1) || ckpt_set_double(&c, "beta2", o->beta2) ||
             ckpt_set_double(&c, "eps", o->eps) || ckpt_set_double(&c, "weight_decay", o->weight_decay) ||
             ckpt_set_int(&c, "warmup_steps", o->warmup_steps) || ckpt_set_int(&c, "total_steps", o->total_steps) ||
             ckpt_set_double(&c, "min_lr_frac", o->min_lr_frac) || ckpt_set_double(&c, "clip_norm", o->clip_norm);
    /* the loss history, so a resumed run's log and plot cover the whole run (no wall
     * times: identical runs give identical files; timings live in runs/NAME.tsv) */
    if (!rc && r->log.n) {
        int64_t shape[2] = {r->log.n, 5};
        float *t = malloc((size_t)r->log.n * 5 * sizeof(float));
        if (!t) rc = -1;
        for (int i = 0; t && i < r->log.n; i++) {
            float *row = t + (size_t)i * 5;
            row[0] = (float)r->log.step[i];
            row[1] = (float)r->log.lr[i];
            row[2] = (float)r->log.train[i];
            row[3] = isnan(r->log.val[i]) ? -1.0f : (float)r->log.val[i];
            row[4] = (float)r->log.gnorm[i];
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

/* Restore optimizer config, data RNG, step and log from a checkpoint. */
static int load_run(run_state *r, const tb_ckpt *c, char *err) {
    tb_adamw_cfg o;
    adamw_default_cfg(&o);
    long long ws, ts, step, batch;
    if (ckpt_get_double(c, "lr", &o.lr, err) || ckpt_get_double(c, "beta1", &o.beta1, err) ||
        ckpt_get_double(c, "beta2", &o.beta2, err) || ckpt_get_double(c, "eps", &o.eps, err) ||
        ckpt_get_double(c, "weight_decay", &o.weight_decay, err) || ckpt_get_int(c, "warmup_steps", &ws, err) ||
        ckpt_get_int(c, "total_steps", &ts, err) || ckpt_get_double(c, "min_lr_frac", &o.min_lr_frac, err) ||
        ckpt_get_double(c, "clip_norm", &o.clip_norm, err) || ckpt_get_int(c, "step", &step, err) ||
        ckpt_get_int(c, "batch", &batch, err))
        return -1;
    if (step < 0 || batch < 1 || batch > 100000 || ws < 0 || ts < 0 || ws > 1e9 || ts > 1e9)
        return tb_fail(err, "training state out of range (step %lld, batch %lld)", step, batch);
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
    const tb_tensor *t = ckpt_find(c, "train_log");
    if (t) {   /* 5 columns; 6 in checkpoints of earlier versions (a wall-time column, ignored) */
        if (t->ndim != 2 || (t->shape[1] != 5 && t->shape[1] != 6)) return tb_fail(err, "tensor 'train_log' has the wrong shape");
        for (int64_t i = 0; i < t->shape[0]; i++) {
            const float *row = t->data + i * t->shape[1];
            if ((long long)row[0] > step) break;
            log_push(&r->log, (long long)row[0], row[1], row[2], row[3] < 0 ? NAN : row[3], row[4], NAN);
        }
    }
    return 0;
}

/* B windows of T+1 consecutive training tokens at random offsets. */
static void draw_batch(run_state *r, int *x, int *y, int B, int T) {
    long span = r->corp->n_train - T - 1;
    for (int b = 0; b < B; b++) {
        long s = (long)(rng_u64(&r->data) % (uint64_t)span);
        for (int t = 0; t < T; t++) {
            x[b * T + t] = r->corp->train[s + t];
            y[b * T + t] = r->corp->train[s + t + 1];
        }
    }
}

static int write_tsv(const train_log *g, const char *path, char *err) {
    const char *hdr[6] = {"step", "lr", "train_loss", "val_loss", "grad_norm", "wall_s"};
    char *buf = malloc((size_t)g->n * 6 * 24 + 1);
    const char **cells = malloc((size_t)g->n * 6 * sizeof(char *) + 1);
    if (!buf || !cells) { free(buf); free(cells); return tb_fail(err, "out of memory"); }
    for (int i = 0; i < g->n; i++) {
        char *b = buf + (size_t)i * 6 * 24;
        snprintf(b, 24, "%lld", g->step[i]);
        snprintf(b + 24, 24, "%.6g", g->lr[i]);
        snprintf(b + 48, 24, "%.6f", g->train[i]);
        if (isnan(g->val[i])) snprintf(b + 72, 24, "%s", "");
        else snprintf(b + 72, 24, "%.6f", g->val[i]);
        snprintf(b + 96, 24, "%.4g", g->gnorm[i]);
        if (isnan(g->wall[i])) snprintf(b + 120, 24, "%s", "");
        else snprintf(b + 120, 24, "%.3f", g->wall[i]);
        for (int k = 0; k < 6; k++) cells[(size_t)i * 6 + k] = b + 24 * k;
    }
    int rc = tsv_write(path, 6, hdr, g->n, cells, err);
    free(buf);
    free(cells);
    return rc;
}

static void plot_curve(const run_state *r, const char *name) {
    const train_log *g = &r->log;
    if (g->n < 1) return;
    double *xs = malloc(g->n * sizeof(double)), *ts = malloc(g->n * sizeof(double));
    double *xv = malloc(g->n * sizeof(double)), *vv = malloc(g->n * sizeof(double));
    if (!xs || !ts || !xv || !vv) { free(xs); free(ts); free(xv); free(vv); return; }
    int nv = 0;
    /* train loss smoothed over ~20 steps (each step's batch is noisy) */
    double ema = g->train[0];
    for (int i = 0; i < g->n; i++) {
        ema = i ? 0.9 * ema + 0.1 * g->train[i] : g->train[i];
        xs[i] = (double)g->step[i];
        ts[i] = ema;
        if (!isnan(g->val[i])) { xv[nv] = (double)g->step[i]; vv[nv] = g->val[i]; nv++; }
    }
    double x2[2] = {0, (double)g->step[g->n - 1]};
    double fl[2] = {r->corp->floor_nats, r->corp->floor_nats}, bg[2] = {r->corp->bigram_nats, r->corp->bigram_nats};
    tb_series s[4] = {{"train (smoothed)", xs, ts, g->n, "lines"}, {"validation", xv, vv, nv, "linespoints"},
                      {"bigram baseline", x2, bg, 2, "dashed"}, {"true floor", x2, fl, 2, "dashed"}};
    int ns = 2;
    if (!isnan(r->corp->bigram_nats)) ns = 3;
    if (!isnan(r->corp->floor_nats)) {
        if (ns == 2) s[2] = s[3];
        ns++;
    }
    char pname[300], title[400], err[TB_ERRLEN];
    snprintf(pname, sizeof pname, "%s_loss", name);
    snprintf(title, sizeof title, "tinybrain train %s: loss (%s)", name, r->corp->name);
    double hi = g->train[0] + 0.2;
    tb_lineplot lp = {title, "step", "nats per token", 0, 0, NAN, NAN, 0, 0};
    double lo = isnan(r->corp->floor_nats) ? NAN : r->corp->floor_nats - 0.3;
    lp.ymin = lo;
    lp.ymax = hi;
    int rendered = 0;
    if (plot_lines(TB_PLOTS_DIR, pname, &lp, s, ns, &rendered, err)) cli_note("loss plot: %s", err);
    else if (!rendered) cli_note("gnuplot not found: render with gnuplot %s/%s.gp", TB_PLOTS_DIR, pname);
    else cli_note("wrote %s/%s.png", TB_PLOTS_DIR, pname);
    free(xs); free(ts); free(xv); free(vv);
}

static int arg_given(int argc, char **argv, const char *name) {
    size_t n = strlen(name);
    for (int i = 1; i < argc; i++)
        if (!strncmp(argv[i], "--", 2) && !strncmp(argv[i] + 2, name, n) && (argv[i][2 + n] == 0 || argv[i][2 + n] == '='))
            return 1;
    return 0;
}

int cmd_train(int argc, char **argv) {
    const char *corpus_opt, *tokens, *data_dir, *name_opt, *act, *norm, *posk, *head, *save_at, *resume;
    int steps, batch, warmup, layers, heads, d_model, ctx, mlp_ratio, eval_every, json, val_tokens;
    double lr, min_lr_frac, wd, clip;
    long long seed;
    cli_opt opts[] = {
        {"corpus", 's', &corpus_opt, "toyworld", "", "toyworld, or a text file (then pick --tokens)", 0, 0, NULL},
        {"tokens", 'c', &tokens, "word", "", "tokenizer for a text file", 0, 0, "word|char"},
        {"data-dir", 's', &data_dir, TB_DATA_DIR, "", "toyworld data folder", 0, 0, NULL},
        {"name", 's', &name_opt, "gpt", "", "run name: runs/NAME.ckpt, runs/NAME.tsv, plots/NAME_loss.png", 0, 0, NULL},
        {"steps", 'i', &steps, "1200", "", "optimizer steps", 0, 1e8, NULL},
        {"batch", 'i', &batch, "32", "sequences", "sequences per step", 1, 4096, NULL},
        {"ctx", 'i', &ctx, "32", "tokens", "context length T", 2, 4096, NULL},
        {"layers", 'i', &layers, "2", "", "transformer blocks L", 1, 64, NULL},
        {"heads", 'i', &heads, "4", "", "attention heads per block (must divide d-model)", 1, 256, NULL},
        {"d-model", 'i', &d_model, "64", "", "width C of the residual stream", 2, 4096, NULL},
        {"mlp-ratio", 'i', &mlp_ratio, "4", "", "MLP hidden units = ratio x d-model", 1, 16, NULL},
        {"act", 'c', &act, "gelu", "", "MLP activation", 0, 0, "gelu|relu"},
        {"norm", 'c', &norm, "layernorm", "", "normalisation", 0, 0, "layernorm|rmsnorm"},
        {"pos", 'c', &posk, "learned", "", "position encoding", 0, 0, "learned|sinusoidal"},
        {"head", 'c', &head, "tied", "", "LM head: reuse the token embedding, or its own matrix", 0, 0, "tied|untied"},
        {"lr", 'f', &lr, "3e-3", "", "peak learning rate", 1e-7, 1, NULL},
        {"warmup", 'i', &warmup, "50", "steps", "linear warm-up", 0, 1e8, NULL},
        {"min-lr-frac", 'f', &min_lr_frac, "0.1", "", "final lr as a fraction of the peak (cosine decay)", 0, 1, NULL},
        {"wd", 'f', &wd, "0.1", "", "AdamW weight decay (matrices only)", 0, 10, NULL},
        {"clip", 'f', &clip, "1", "", "clip the global gradient norm to this (0: off)", 0, 1e6, NULL},
        {"seed", 'l', &seed, "1", "", "initialisation and data order", 0, 9e18, NULL},
        {"eval-every", 'i', &eval_every, "200", "steps", "validate and save runs/NAME.ckpt this often", 1, 1e8, NULL},
        {"val-tokens", 'i', &val_tokens, "0", "tokens", "validate on the first N tokens only (0: all)", 0, 1e9, NULL},
        {"save-at", 's', &save_at, "", "", "also keep runs/NAME/step_NNNNNN.ckpt at these steps, e.g. 0,50,200,final", 0, 0, NULL},
        {"resume", 's', &resume, "", "", "continue the run saved in this checkpoint (bit-identical)", 0, 0, NULL},
        {"json", 'b', &json, NULL, "", "print a one-object JSON summary at the end", 0, 0, NULL},
    };
    cli_cmd cmd = {"train", "", "train the tiny GPT (toyworld by default)",
                   "Defaults: toyworld, 2 blocks x 4 heads, d_model 64, ctx 32, batch 32, 1200 steps of\n"
                   "AdamW (lr 3e-3, 50 warm-up steps, cosine to 10%).  Writes runs/NAME.ckpt, runs/NAME.tsv\n"
                   "and plots/NAME_loss.png; Ctrl-C saves and exits cleanly; --resume continues bit for bit\n"
                   "(same --threads and kernels).",
                   "tinybrain train --steps 600 --save-at 0,50,200,final"};
    char *pos[1];
    cli_parse(&cmd, opts, NOPT(opts), argc, argv, pos, 0, 0);
    char err[TB_ERRLEN];
    cli_catch_sigint();

    long long save_list[MAX_SAVE];
    int nsave = 0;
    if (*save_at && (nsave = cli_parse_int_list(save_at, save_list, MAX_SAVE, err)) < 0)
        cli_die(2, "--save-at: %s", err);
    for (int i = 0; i < nsave; i++)
        if (save_list[i] < -1) cli_die(2, "--save-at: step %lld is negative", save_list[i]);

    run_state r;
    memset(&r, 0, sizeof r);
    tb_ckpt rck;
    int resuming = *resume != 0;
    if (resuming) {
        if (ckpt_load(&rck, resume, "gpt", err)) cli_die(1, "%s", err);
        const char *cn = ckpt_get(&rck, "corpus"), *tk = ckpt_get(&rck, "tokens");
        if (!cn || !tk) cli_die(1, "%s: not a training checkpoint (no corpus/tokens keys)", resume);
        corpus_opt = arg_given(argc, argv, "corpus") ? corpus_opt : cn;
        tokens = tk;
        if (!arg_given(argc, argv, "name") && ckpt_get(&rck, "name")) name_opt = ckpt_get(&rck, "name");
    }
    tb_corpus corp;
    if (corpus_load(&corp, corpus_opt, data_dir, tokens, err)) cli_die(1, "%s", err);
    r.corp = &corp;
    r.corpus_name = corpus_opt;
    r.tokens = corp.tok.kind == TOK_CHAR ? "char" : "word";
    r.name = name_opt;
    if (!*name_opt || strchr(name_opt, '/')) cli_die(2, "--name '%s': use a plain name (no '/')", name_opt);

    char e2[TB_ERRLEN];
    if (resuming) {
        if (gpt_from_ckpt(&r.m, &rck, e2)) cli_die(1, "%s: %s", resume, e2);
        tb_tokenizer tok;
        if (tok_load(&tok, &rck, e2)) cli_die(1, "%s: %s", resume, e2);
        if (tok_check_same(&tok, &corp.tok, resume, err)) cli_die(1, "%s", err);
        tok_free(&tok);
        if (load_run(&r, &rck, e2)) cli_die(1, "%s: %s", resume, e2);
        ckpt_free(&rck);
        if (arg_given(argc, argv, "steps")) {
            if (steps < r.step) cli_die(2, "--steps %d is before the checkpoint's step %lld", steps, r.step);
        } else {
            steps = r.opt.cfg.total_steps > r.step ? r.opt.cfg.total_steps : (int)r.step;
        }
        r.opt.cfg.total_steps = steps;   /* the cosine ends at the (possibly extended) last step */
        batch = r.batch;
        ctx = r.m.cfg.ctx;
    } else {
        gpt_config c;
        gpt_default_config(&c);
        c.vocab_size = corp.tok.vocab_size;
        c.ctx = ctx;
        c.n_layer = layers;
        c.n_head = heads;
        c.d_model = d_model;
        c.mlp_ratio = mlp_ratio;
        gpt_parse_act(act, &c.act);
        gpt_parse_norm(norm, &c.norm);
        gpt_parse_pos(posk, &c.pos);
        c.tied = !strcmp(head, "tied");
        c.seed = (uint64_t)seed;
        if (gpt_check_config(&c, e2)) cli_die(2, "%s", e2);
        if (gpt_init(&r.m, &c, err)) cli_die(1, "%s", err);
        tb_adamw_cfg o;
        adamw_default_cfg(&o);
        o.lr = lr;
        o.warmup_steps = warmup;
        o.total_steps = steps;
        o.min_lr_frac = min_lr_frac;
        o.weight_decay = wd;
        o.clip_norm = clip;
        if (adamw_init(&r.opt, &o, r.m.n_params, err)) cli_die(1, "%s", err);
        rng_stream(&r.data, (uint64_t)seed, 1);
        r.batch = batch;
    }
    int B = r.batch, T = r.m.cfg.ctx;
    if (corp.n_train < T + 2) cli_die(1, "%s: training split has %ld tokens, fewer than ctx + 2 = %d", corp.name, corp.n_train, T + 2);

    char path_final[1100], path_tsv[1100], dir_steps[1100];
    snprintf(path_final, sizeof path_final, "%s/%s.ckpt", TB_RUNS_DIR, r.name);
    snprintf(path_tsv, sizeof path_tsv, "%s/%s.tsv", TB_RUNS_DIR, r.name);
    snprintf(dir_steps, sizeof dir_steps, "%s/%s", TB_RUNS_DIR, r.name);

    lm_scorer sc;
    gpt_scorer(&sc, &r.m);
    int *x = malloc((size_t)B * T * sizeof(int)), *y = malloc((size_t)B * T * sizeof(int));
    if (!x || !y) cli_die(1, "out of memory");

    if (!cli_quiet)
        fprintf(stderr,
                "train %s: %s (%d tokens, vocab %d), %d layers x %d heads, d_model %d, ctx %d, %s/%s/%s/%s, "
                "%zu parameters, batch %d, %d steps%s, %d thread%s, kernels %s\n",
                r.name, corp.name, (int)corp.n_train, corp.tok.vocab_size, r.m.cfg.n_layer, r.m.cfg.n_head,
                r.m.cfg.d_model, T, gpt_pos_name(r.m.cfg.pos), gpt_norm_name(r.m.cfg.norm), gpt_act_name(r.m.cfg.act),
                r.m.cfg.tied ? "tied" : "untied", r.m.n_params, B, steps, resuming ? " (resumed)" : "", tb_threads(),
                tb_threads() > 1 ? "s" : "", tb_kern->name);

    cli_progress_start();
    double last_val = NAN, last_train = NAN, ema = NAN;
    long long last_good = -1;
    int stopped = 0, failed = 0;
    double t_tokens = 0;
    for (;;) {
        /* snapshots requested at this step (before the step is taken) */
        for (int i = 0; i < nsave; i++)
            if (save_list[i] == r.step || (save_list[i] == -1 && r.step == steps)) {
                char p[1200];
                snprintf(p, sizeof p, "%s/step_%06lld.ckpt", dir_steps, r.step);
                if (save_run(&r, p, err)) cli_die(1, "%s", err);
                break;
            }
        int do_eval = r.step == steps || (r.step > 0 && r.step % eval_every == 0) || cli_interrupted;
        if (do_eval && !(resuming && r.log.n && r.log.step[r.log.n - 1] == r.step && !isnan(r.log.val[r.log.n - 1]))) {
            if (lm_val_loss(&sc, &corp, val_tokens, NULL, &last_val, err)) cli_die(1, "%s", err);
            if (r.log.n && r.log.step[r.log.n - 1] == r.step) r.log.val[r.log.n - 1] = last_val;
            if (!isfinite(last_val)) { failed = 1; break; }
            if (save_run(&r, path_final, err)) cli_die(1, "%s", err);
            last_good = r.step;
            if (write_tsv(&r.log, path_tsv, err)) cli_note("%s", err);
        }
        if (cli_interrupted) { stopped = 1; break; }
        if (r.step >= steps) break;

        draw_batch(&r, x, y, B, T);
        float loss;
        if (gpt_forward(&r.m, x, y, B, T, &loss, err)) cli_die(1, "%s", err);
        if (!isfinite(loss)) { last_train = loss; failed = 1; break; }
        if (gpt_backward(&r.m, err)) cli_die(1, "%s", err);
        double lr_now = adamw_lr(&r.opt.cfg, r.opt.t);
        double gn = adamw_step(&r.opt, r.m.params_mem, r.m.grads_mem, r.m.decay_mask);
        r.step++;
        last_train = loss;
        ema = isnan(ema) ? loss : 0.95 * ema + 0.05 * loss;
        t_tokens += (double)B * T;
        log_push(&r.log, r.step, lr_now, loss, NAN, gn, cli_elapsed());
        double el = cli_elapsed();
        cli_progress((int)r.step, steps, "train %.3f  val %.3f  %.0f tok/s", ema, last_val, t_tokens / (el > 0 ? el : 1));
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
        cli_note("interrupted at step %lld: saved %s (continue with: tinybrain train --resume %s)", r.step, path_final,
                 path_final);
        gpt_free(&r.m);
        adamw_free(&r.opt);
        log_free(&r.log);
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
        json_int("params", (long long)r.m.n_params);
        json_int("threads", tb_threads());
        json_num("wall_s", wall);
        json_num("tokens_per_s", t_tokens / (wall > 0 ? wall : 1));
        json_end();
    } else {
        printf("step %lld: train %.4f, val %.4f nats/token", r.step, last_train, last_val);
        if (!isnan(corp.floor_nats)) printf(" (floor %.4f, %+.4f above it; bigram %.4f)", corp.floor_nats, last_val - corp.floor_nats, corp.bigram_nats);
        printf("\n");
        if (have_pairs)
            printf("minimal pairs: %.1f%% (with attractor %.1f%%, without %.1f%%)\n", 100 * acc[0], 100 * acc[1], 100 * acc[2]);
        printf("%.1f s, %.0f tokens/s; saved %s and %s\n", wall, t_tokens / (wall > 0 ? wall : 1), path_final, path_tsv);
    }
    gpt_free(&r.m);
    adamw_free(&r.opt);
    log_free(&r.log);
    corpus_free(&corp);
    return 0;
}
