/* train.c -- `tinybrain train`: train the tiny GPT on toyworld (or any text).  Lesson 08.
 *
 * Each step draws B random windows of T+1 tokens from the training stream, runs the
 * forward and backward passes and one AdamW step (warm-up + cosine, clipping, decay on
 * matrices only); every --eval-every steps it validates and saves runs/NAME.ckpt.  The
 * run itself -- its state, files, resume, snapshots, loss log and plots -- is the
 * library's (include/run.h); this file holds the options, the run_opts they make, and
 * the printing.  It also holds what `train-snn` shares (commands.h): opening a run from
 * the command line, the loop with its progress line, and the closing summary. */
#include "cli.h"
#include "commands.h"
#include "kernels.h"
#include "run.h"
#include "threads.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- shared with train_snn.c ---------------------------------------------------------- */

void train_open(struct tb_run *r, struct run_opts *o, int argc, char **argv) {
    char err[TB_ERRLEN];
    int resuming = *o->resume != 0;
    if (resuming) {   /* the checkpoint's name and corpus unless given */
        if (!cli_given(argc, argv, "name")) o->name = NULL;
        if (!cli_given(argc, argv, "corpus")) o->corpus = NULL;
    }
    if (run_check_opts(o, err)) cli_die(2, "%s", err);
    if (run_open(r, o, err)) cli_die(1, "%s", err);
    if (resuming && cli_given(argc, argv, "steps") && run_set_steps(r, o->steps, err)) cli_die(2, "%s", err);
    char *log = cli_strf("%s/commands.sh", r->dir_steps);
    if (!resuming) unlink(log);   /* a new run's folder tells only its own commands */
    free(log);
    cli_log_command(r->dir_steps, argc, argv);
    if (*r->note) cli_note("%s", r->note);
    if (r->n_stale) cli_note("removed %d temporary file%s left by killed runs of '%s'", r->n_stale, r->n_stale > 1 ? "s" : "", r->name);
}

static void plot_notes(const tb_run *r) {
    char err[TB_ERRLEN];
    int drawn, rendered;
    if (run_plot_loss(r, &rendered, err)) cli_note("loss plot: %s", err);
    else if (r->kind == RUN_SRNN && r->srnn.cfg.mode == SRNN_RESERVOIR)
        cli_note("no loss curve: a reservoir's readout is fitted in one solve (eval %s --positions-plot NAME "
                 "shows where its loss goes)", r->path_ckpt);
    else if (r->log.n < 2) cli_note("no loss plot: the run has logged %d step%s (a curve needs two)", r->log.n,
                                    r->log.n == 1 ? "" : "s");
    else if (!rendered) cli_note("gnuplot not found: render with gnuplot %s/%s_loss.gp", TB_PLOTS_DIR, r->name);
    else cli_note("wrote %s/%s_loss.png", TB_PLOTS_DIR, r->name);
    if (run_plot_rate(r, &drawn, &rendered, err)) cli_note("rate plot: %s", err);
    else if (drawn && rendered) cli_note("wrote %s/%s_rate.png", TB_PLOTS_DIR, r->name);
}

/* x with the format fmt, or "-" when x is NaN (not measured yet) */
static void shown(char *buf, size_t n, const char *fmt, double x) {
    if (isnan(x)) snprintf(buf, n, "-");
    else snprintf(buf, n, fmt, x);
}

int train_loop(struct tb_run *r, const char *cmd) {
    char err[TB_ERRLEN];
    int st;
    cli_progress_start();
    while ((st = run_advance(r, cli_interrupted, err)) == RUN_STEPPED) {
        if (*r->note) cli_note("%s", r->note);
        double tps = r->tokens_seen / fmax(run_elapsed(r), 1e-9);
        char tr[32], val[32], hz[32];   /* "-" where nothing was measured yet (not "nan") */
        shown(tr, sizeof tr, "%.3f", r->ema);
        shown(val, sizeof val, "%.3f", r->last_val);
        shown(hz, sizeof hz, "%.0f", r->last_rate);
        if (r->kind == RUN_SRNN)
            cli_progress((int)r->step, (int)r->steps, "train %s  val %s  %s Hz  %.0f tok/s", tr, val, hz, tps);
        else
            cli_progress((int)r->step, (int)r->steps, "train %s  val %s  %.0f tok/s", tr, val, tps);
    }
    cli_progress_end();
    if (st == RUN_FAILED) cli_die(1, "%s", err);
    if (*r->note) cli_note("%s", r->note);
    if (run_write_tsv(r, err)) cli_note("%s", err);
    plot_notes(r);
    int rendered;
    if (run_write_forgetting(r, &rendered, err)) cli_note("forgetting: %s", err);
    else if (r->then_name) cli_note_plot(TB_PLOTS_DIR, cli_strf("%s_forgetting", r->name), rendered);
    if (st == RUN_STOPPED)
        cli_note("interrupted at step %lld: saved %s (continue with: tinybrain %s --resume %s)", r->step, r->path_ckpt,
                 cmd, r->path_ckpt);
    return st == RUN_STOPPED;
}

/* Minimal-pair accuracy on toyworld (acc[3] NaN elsewhere); returns 1 when measured. */
int train_pairs(struct tb_run *r, const char *data_dir, double acc[3]) {
    acc[0] = acc[1] = acc[2] = NAN;
    if (strcmp(r->corp.name, "toyworld")) return 0;
    char pairs[1200], err[TB_ERRLEN];
    int np[3];
    snprintf(pairs, sizeof pairs, "%s/minimal_pairs.tsv", data_dir);
    if (!lm_minimal_pairs(&r->sc, &r->corp.tok, pairs, acc, np, err)) return 1;
    cli_note("minimal pairs: %s", err);
    return 0;
}

/* ---- a continual run's summary (lesson 18) -------------------------------------------- */

/* The points where B began (then_at) and the last one; NULL when absent. */
static void then_points(const tb_run *r, const cl_point **before, const cl_point **after) {
    *before = *after = NULL;
    for (int i = 0; i < r->forget.n; i++)
        if ((long long)r->forget.p[i].step == r->then_at) *before = &r->forget.p[i];
    if (r->forget.n) *after = &r->forget.p[r->forget.n - 1];
}

static void json_then(const tb_run *r) {
    const cl_point *b, *a;
    then_points(r, &b, &a);
    const tb_corpus *ca = r->phase ? &r->corp_other : &r->corp, *cb = r->phase ? &r->corp : &r->corp_other;
    json_writer *w = json_w();
    jw_object(w, "continual", JW_LINES);
    jw_str(w, "first", ca->name);
    jw_str(w, "second", cb->name);
    jw_int(w, "then_at", r->then_at);
    jw_num(w, "replay", r->replay);
    jw_num(w, "ewc", r->ewc);
    jw_num(w, "floor_a", ca->floor_nats);
    jw_num(w, "floor_b", cb->floor_nats);
    jw_num(w, "excess_a_before", b ? b->val_a - ca->floor_nats : NAN);
    jw_num(w, "excess_a_after", a ? a->val_a - ca->floor_nats : NAN);
    jw_num(w, "forgetting_nats", a && b ? a->val_a - b->val_a : NAN);
    jw_num(w, "pairs_a_before", b ? b->pairs_a : NAN);
    jw_num(w, "pairs_a_after", a ? a->pairs_a : NAN);
    jw_num(w, "excess_b_before", b ? b->val_b - cb->floor_nats : NAN);
    jw_num(w, "excess_b_after", a ? a->val_b - cb->floor_nats : NAN);
    jw_array(w, "curve", JW_LINES);   /* [step, excess_a, excess_b, pairs_a] */
    for (int i = 0; i < r->forget.n; i++) {
        const cl_point *p = &r->forget.p[i];
        double v[4] = {p->step, p->val_a - ca->floor_nats, p->val_b - cb->floor_nats, p->pairs_a};
        jw_nums(w, NULL, v, 4);
    }
    jw_end(w);
    jw_end(w);
}

static void print_then(const tb_run *r) {
    const cl_point *b, *a;
    then_points(r, &b, &a);
    if (!a || !b) return;
    const tb_corpus *ca = r->phase ? &r->corp_other : &r->corp, *cb = r->phase ? &r->corp : &r->corp_other;
    printf("continual: %s for %lld steps, then %s for %lld (replay %g, EWC lambda %g)\n", ca->name, r->then_at, cb->name,
           r->steps - r->then_at, r->replay, r->ewc);
    printf("  A %-11s %+.4f nats above its floor when B began, %+.4f now: forgot %.4f nats", ca->name,
           b->val_a - ca->floor_nats, a->val_a - ca->floor_nats, a->val_a - b->val_a);
    if (!isnan(a->pairs_a)) printf("; minimal pairs %.1f%% -> %.1f%%", 100 * b->pairs_a, 100 * a->pairs_a);
    printf("\n  B %-11s %+.4f nats above its floor when B began, %+.4f now\n", cb->name, b->val_b - cb->floor_nats,
           a->val_b - cb->floor_nats);
}

void train_json_losses(const struct tb_run *r, const double acc[3]) {
    json_int("steps", r->step);
    json_num("train_loss", r->last_train);
    json_num("val_loss", r->last_val);
    json_num("floor_nats", r->corp.floor_nats);
    json_num("excess_nats", r->last_val - r->corp.floor_nats);
    json_num("bigram_nats", r->corp.bigram_nats);
    json_num("unigram_nats", r->corp.unigram_nats);
    json_num("minimal_pair_acc", acc[0]);
    json_num("minimal_pair_acc_attractor", acc[1]);
    json_num("minimal_pair_acc_no_attractor", acc[2]);
    if (r->then_name) json_then(r);
}

void train_print_losses(const struct tb_run *r, const double acc[3], int have_pairs) {
    const tb_corpus *c = &r->corp;
    printf("step %lld: train %.4f, val %.4f nats/token", r->step, r->last_train, r->last_val);
    if (!isnan(c->floor_nats))
        printf(" (floor %.4f, %+.4f above it; bigram %.4f)", c->floor_nats, r->last_val - c->floor_nats, c->bigram_nats);
    printf("\n");
    if (have_pairs)
        printf("minimal pairs: %.1f%% (with attractor %.1f%%, without %.1f%%)\n", 100 * acc[0], 100 * acc[1], 100 * acc[2]);
    if (r->then_name) print_then(r);
}

/* ---- tinybrain train -------------------------------------------------------------------- */

/* The switches of lesson 18 (the tinkerer's lab), in include/gpt.h's table. */
#define TINKER_MODEL_OPTS(g)                                                                                      \
    {"moe-experts", 'i', &(g)->moe_experts, TB_STR(GPT_DEF_MOE_EXPERTS), "", "mixture of experts: E expert MLPs per block (0: the dense MLP)", 0, GPT_MAX_EXPERTS, NULL}, \
    {"moe-top-k", 'i', &(g)->moe_top_k, TB_STR(GPT_DEF_MOE_TOP_K), "", "experts per token (1: Switch, 2: renormalised top-2)", 1, 2, NULL}, \
    {"moe-capacity", 'f', &(g)->moe_capacity, TB_STR(GPT_DEF_MOE_CAPACITY), "", "capacity factor: an expert takes at most factor x k x tokens / E of a training batch (0: no limit)", 0, 1000, NULL}, \
    {"moe-aux", 'f', &(g)->moe_aux, TB_STR(GPT_DEF_MOE_AUX), "", "weight of the load-balancing loss", 0, 100, NULL}, \
    {"mlp-topk", 'i', &(g)->mlp_topk, TB_STR(GPT_DEF_MLP_TOPK), "units", "activation sparsity: keep the K largest MLP hidden units per token (0: all)", 0, 1e6, NULL}, \
    {"pos-scale", 'f', &(g)->pos_scale, TB_STR(GPT_DEF_POS_SCALE), "", "amplitude of the sinusoids (--pos sinusoidal)", 1e-6, 100, NULL}

static void print_header(const tb_run *r) {
    if (cli_quiet) return;
    const gpt_config *c = &r->gpt.cfg;
    fprintf(stderr,
            "train %s: %s (%ld tokens, vocab %d), %d layers x %d heads, d_model %d, ctx %d, %s/%s/%s/%s, "
            "%zu parameters, batch %d, %lld steps%s, %d thread%s, kernels %s\n",
            r->name, r->corp.name, r->corp.n_train, r->corp.tok.vocab_size, c->n_layer, c->n_head, c->d_model, c->ctx,
            gpt_pos_name(c->pos), gpt_norm_name(c->norm), gpt_act_name(c->act), c->tied ? "tied" : "untied",
            r->gpt.n_params, r->batch, r->steps, r->resumed ? " (resumed)" : "", tb_threads(), tb_threads() > 1 ? "s" : "",
            tb_kern->name);
    if (c->moe_experts)
        fprintf(stderr, "  mixture of experts: %d experts, top-%d, capacity factor %g, load-balancing weight %g\n",
                c->moe_experts, c->moe_top_k, c->moe_capacity, c->moe_aux);
    if (c->mlp_topk) fprintf(stderr, "  sparse MLP: the %d largest of %d hidden units per token\n", c->mlp_topk, c->mlp_ratio * c->d_model);
}

static void print_result(tb_run *r, const char *data_dir, int json) {
    double acc[3], wall = run_elapsed(r), tps = r->tokens_seen / (wall > 0 ? wall : 1);
    int have_pairs = train_pairs(r, data_dir, acc);
    if (json) {
        json_begin();
        json_str("name", r->name);
        json_str("checkpoint", r->path_ckpt);
        train_json_losses(r, acc);
        json_int("params", (long long)r->gpt.n_params);
        json_int("threads", tb_threads());
        json_num("wall_s", wall);
        json_num("tokens_per_s", tps);
        json_end();
        return;
    }
    train_print_losses(r, acc, have_pairs);
    printf("%.1f s, %.0f tokens/s; saved %s and %s\n", wall, tps, r->path_ckpt, r->path_tsv);
}

int cmd_train(int argc, char **argv) {
    run_opts o;
    run_default_opts(&o, RUN_GPT);
    gpt_config *g = &o.gpt;
    const char *act, *norm, *posk, *head;
    int json, val_tokens;
    long long seed;
    cli_opt opts[] = {
        TRAIN_IO_OPTS(o, RUN_GPT_NAME),
        {"steps", 'i', &o.steps, TB_STR(RUN_GPT_STEPS), "", "optimizer steps", 0, 1e8, NULL},
        {"batch", 'i', &o.batch, TB_STR(RUN_GPT_BATCH), "sequences", "sequences per step", 1, RUN_MAX_BATCH, NULL},
        {"ctx", 'i', &g->ctx, TB_STR(GPT_DEF_CTX), "tokens", "context length T", 2, GPT_MAX_CTX, NULL},
        {"layers", 'i', &g->n_layer, TB_STR(GPT_DEF_N_LAYER), "", "transformer blocks L", 1, GPT_MAX_LAYERS, NULL},
        {"heads", 'i', &g->n_head, TB_STR(GPT_DEF_N_HEAD), "", "attention heads per block (must divide d-model)", 1, 256, NULL},
        {"d-model", 'i', &g->d_model, TB_STR(GPT_DEF_D_MODEL), "", "width C of the residual stream", 2, GPT_MAX_D_MODEL, NULL},
        {"mlp-ratio", 'i', &g->mlp_ratio, TB_STR(GPT_DEF_MLP_RATIO), "", "MLP hidden units = ratio x d-model", 1, GPT_MAX_MLP_RATIO, NULL},
        {"act", 'c', &act, gpt_act_name(GPT_DEF_ACT), "", "MLP activation", 0, 0, "gelu|relu"},
        {"norm", 'c', &norm, gpt_norm_name(GPT_DEF_NORM), "", "normalisation", 0, 0, "layernorm|rmsnorm"},
        {"pos", 'c', &posk, gpt_pos_name(GPT_DEF_POS), "", "position encoding", 0, 0, "learned|sinusoidal"},
        {"head", 'c', &head, GPT_DEF_TIED ? "tied" : "untied", "", "LM head: reuse the token embedding, or its own matrix", 0, 0, "tied|untied"},
        {"lr", 'f', &o.adamw.lr, TB_STR(ADAMW_DEF_LR), "", "peak learning rate", 1e-7, 1, NULL},
        {"warmup", 'i', &o.adamw.warmup_steps, TB_STR(RUN_GPT_WARMUP), "steps", "linear warm-up", 0, 1e8, NULL},
        {"min-lr-frac", 'f', &o.adamw.min_lr_frac, TB_STR(ADAMW_DEF_MIN_LR_FRAC), "", "final lr as a fraction of the peak (cosine decay)", 0, 1, NULL},
        {"wd", 'f', &o.adamw.weight_decay, TB_STR(RUN_GPT_WD), "", "AdamW weight decay (matrices only)", 0, 10, NULL},
        {"clip", 'f', &o.adamw.clip_norm, TB_STR(ADAMW_DEF_CLIP), "", "clip the global gradient norm to this (0: off)", 0, 1e6, NULL},
        {"seed", 'l', &seed, TB_STR(GPT_DEF_SEED), "", "initialisation and data order", 0, 9e18, NULL},
        TINKER_MODEL_OPTS(g),
        TRAIN_SCHEDULE_OPTS(o, val_tokens, json),
    };
    cli_cmd cmd = {"train", "", "train the tiny GPT (toyworld by default)",
                   "The defaults below are the tables of include/gpt.h, optim.h and run.h: AdamW with a linear\n"
                   "warm-up and a cosine decay.  Writes runs/NAME.ckpt, runs/NAME.tsv and plots/NAME_loss.png;\n"
                   "Ctrl-C saves and exits cleanly; --resume continues bit for bit (same --threads and kernels).\n"
                   "One process at a time writes a run: a second one with the same --name is refused.",
                   "tinybrain train --steps 600 --save-at 0,50,200,final"};
    char *pos[1];
    cli_parse(&cmd, opts, NOPT(opts), argc, argv, pos, 0, 0);
    cli_catch_sigint();
    gpt_parse_act(act, &g->act);
    gpt_parse_norm(norm, &g->norm);
    gpt_parse_pos(posk, &g->pos);
    g->tied = !strcmp(head, "tied");
    o.seed = (uint64_t)seed;
    o.val_tokens = val_tokens;

    tb_run r;
    train_open(&r, &o, argc, argv);
    print_header(&r);
    if (!train_loop(&r, "train")) print_result(&r, o.data_dir, json);
    run_free(&r);
    return 0;
}
