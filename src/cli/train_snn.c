/* train_snn.c -- `tinybrain train-snn`: teach a recurrent spiking network toyworld.
 * Lesson 09; the model and its learning rules are described in include/srnn.h.
 *
 * --mode bptt (default): each step draws B windows of T+1 training tokens (on toyworld
 * each window starts at a sentence's "." so that, like the scoring, the network reads a
 * sentence after its left context), runs the network from rest, backpropagates through
 * time with the fast-sigmoid surrogate and takes one AdamW step.  --mode reservoir:
 * the random network runs over the training sentences once and the readout is fitted by
 * ridge regression.  --stdp-tokens N first trains the input weights with STDP on N
 * training tokens (either mode).  The run -- files, resume, snapshots, log, plots
 * (plots/NAME_rate.png too: the mean firing rate against the regulariser's band) -- is
 * the library's (include/run.h), driven as `tinybrain train` drives it (train.c). */
#include "cli.h"
#include "commands.h"
#include "kernels.h"
#include "run.h"
#include "threads.h"

#include <stdio.h>

static void print_header(const tb_run *r) {
    if (cli_quiet) return;
    const srnn_model *m = &r->srnn;
    fprintf(stderr,
            "train-snn %s: %s (%ld tokens, vocab %d), %d %s neurons%s%s, %d steps of %g ms per token, %s readout, "
            "mode %s%s, %d thread%s, kernels %s\n",
            r->name, r->corp.name, r->corp.n_train, r->corp.tok.vocab_size, m->N, srnn_neuron_name(m->cfg.neuron),
            m->cfg.dale ? " (Dale: E/I)" : "", m->cfg.p_conn < 1 ? " (sparse)" : "", m->K, m->cfg.dt_ms,
            srnn_readout_name(m->cfg.readout), srnn_mode_name(m->cfg.mode), r->resumed ? " (resumed)" : "", tb_threads(),
            tb_threads() > 1 ? "s" : "", tb_kern->name);
}

/* What happens before step 0 of a new run: STDP on the input weights, the reservoir note. */
static void before_training(tb_run *r, long stdp_tokens) {
    char err[TB_ERRLEN];
    if (stdp_tokens > 0) {
        long used;
        double dw;
        if (run_stdp(r, stdp_tokens, &used, &dw, err)) cli_die(1, "%s", err);
        cli_note("STDP on %ld tokens: mean |dW_in| = %.4f (%.1f s)", used, dw, run_elapsed(r));
    }
    long fit = r->reservoir.max_tokens;
    if (r->srnn.cfg.mode == SRNN_RESERVOIR)
        cli_note("reservoir: running %ld training tokens through the network and solving the ridge readout",
                 fit > 0 && fit < r->corp.n_train ? fit : r->corp.n_train);
}

static void print_result(tb_run *r, const char *data_dir, int json) {
    const srnn_model *m = &r->srnn;
    double acc[3], wall = run_elapsed(r);
    int have_pairs = train_pairs(r, data_dir, acc);
    if (json) {
        json_begin();
        json_str("name", r->name);
        json_str("checkpoint", r->path_ckpt);
        json_str("mode", srnn_mode_name(m->cfg.mode));
        json_str("neuron", srnn_neuron_name(m->cfg.neuron));
        json_int("neurons", m->N);
        train_json_losses(r, acc);
        json_num("mean_rate_hz", r->val_rate);
        json_num("dt_ms", m->cfg.dt_ms);
        json_int("threads", tb_threads());
        json_num("wall_s", wall);
        json_num("tokens_per_s", r->tokens_seen / (wall > 0 ? wall : 1));
        json_end();
        return;
    }
    train_print_losses(r, acc, have_pairs);
    printf("mean firing rate on the validation text: %.1f Hz (dt %g ms, %d steps per token)\n", r->val_rate, m->cfg.dt_ms,
           m->K);
    printf("%.1f s; saved %s and %s\n", wall, r->path_ckpt, r->path_tsv);
}

int cmd_train_snn(int argc, char **argv) {
    run_opts o;
    run_default_opts(&o, RUN_SRNN);
    srnn_config *c = &o.srnn;
    const char *mode_s, *neuron_s, *readout_s;
    int json, val_tokens, stdp_tokens, res_tokens;
    long long seed;
    cli_opt opts[] = {
        TRAIN_IO_OPTS(o, RUN_SRNN_NAME),
        {"mode", 'c', &mode_s, srnn_mode_name(SRNN_DEF_MODE), "", "learning rule: surrogate-gradient BPTT, or a reservoir with a ridge readout", 0, 0, "bptt|reservoir"},
        {"neuron", 'c', &neuron_s, srnn_neuron_name(SRNN_DEF_NEURON), "", "neuron model (izh and adex: reservoir mode only)", 0, 0, "lif|izh|adex"},
        {"neurons", 'i', &c->n_neurons, TB_STR(SRNN_DEF_NEURONS), "", "recurrent neurons N", 2, SRNN_MAX_NEURONS, NULL},
        {"steps-per-token", 'i', &c->steps_per_token, TB_STR(SRNN_DEF_STEPS_PER_TOKEN), "steps", "simulation steps K each token is presented for", 1, SRNN_MAX_STEPS_PER_TOKEN, NULL},
        {"dt", 'f', &c->dt_ms, TB_STR(SRNN_DEF_DT_MS), "ms", "simulation time step (rate in Hz = spikes / (N x steps x dt))", 0.001, 10, NULL},
        {"tau-m", 'f', &c->tau_m_ms, TB_STR(SRNN_DEF_TAU_M_MS), "ms", "membrane time constant (beta = exp(-dt/tau_m) = 0.9)", 0.01, 1e5, NULL},
        {"theta", 'f', &c->theta, TB_STR(SRNN_DEF_THETA), "", "firing threshold (dimensionless; v is in units of it)", 1e-3, 1e3, NULL},
        {"slope", 'f', &c->slope, TB_STR(SRNN_DEF_SLOPE), "", "surrogate gradient 1/(slope |v - theta| + 1)^2", 1e-3, 1e4, NULL},
        {"readout", 'c', &readout_s, srnn_readout_name(SRNN_DEF_READOUT), "", "feature per neuron: spike count in the token's window, or a filtered trace", 0, 0, "count|trace"},
        {"tau-trace", 'f', &c->tau_trace_ms, TB_STR(SRNN_DEF_TAU_TRACE_MS), "ms", "time constant of the trace readout", 0.01, 1e5, NULL},
        {"dale", 'b', &c->dale, NULL, "", "Dale's law: excitatory and inhibitory neurons with sign-constrained weights", 0, 0, NULL},
        {"frac-inh", 'f', &c->frac_inh, TB_STR(SRNN_DEF_FRAC_INH), "", "fraction of inhibitory neurons (with --dale)", 0, 0.99, NULL},
        {"p-conn", 'f', &c->p_conn, TB_STR(SRNN_DEF_P_CONN), "", "recurrent connection probability (1: dense)", 1e-4, 1, NULL},
        {"w-in-std", 'f', &c->w_in_std, TB_STR(SRNN_DEF_W_IN_STD), "", "initial input weights ~ N(0, std)", 0, 100, NULL},
        {"w-rec-gain", 'f', &c->w_rec_gain, TB_STR(SRNN_DEF_W_REC_GAIN), "", "initial recurrent weights ~ N(0, gain/sqrt(N p))", 0, 100, NULL},
        {"noise-hz", 'f', &c->noise_hz, TB_STR(SRNN_DEF_NOISE_HZ), "Hz", "Poisson background input per neuron (0: off; scoring uses a fixed seed)", 0, 1e5, NULL},
        {"noise-w", 'f', &c->noise_w, TB_STR(SRNN_DEF_NOISE_W), "", "jump of v per background spike", -100, 100, NULL},
        {"steps", 'i', &o.steps, TB_STR(RUN_SRNN_STEPS), "", "optimizer steps (bptt)", 0, 1e8, NULL},
        {"batch", 'i', &o.batch, TB_STR(RUN_SRNN_BATCH), "windows", "windows per step", 1, RUN_MAX_BATCH, NULL},
        {"ctx", 'i', &o.ctx, TB_STR(RUN_SRNN_CTX), "tokens", "tokens per window (BPTT length = ctx x steps-per-token)", 2, RUN_MAX_CTX, NULL},
        {"lr", 'f', &o.adamw.lr, TB_STR(ADAMW_DEF_LR), "", "peak learning rate (AdamW)", 1e-7, 1, NULL},
        {"warmup", 'i', &o.adamw.warmup_steps, TB_STR(RUN_SRNN_WARMUP), "steps", "linear warm-up", 0, 1e8, NULL},
        {"min-lr-frac", 'f', &o.adamw.min_lr_frac, TB_STR(ADAMW_DEF_MIN_LR_FRAC), "", "final lr as a fraction of the peak (cosine decay)", 0, 1, NULL},
        {"wd", 'f', &o.adamw.weight_decay, TB_STR(RUN_SRNN_WD), "", "AdamW weight decay (weight matrices only)", 0, 10, NULL},
        {"clip", 'f', &o.adamw.clip_norm, TB_STR(ADAMW_DEF_CLIP), "", "clip the global gradient norm to this (0: off)", 0, 1e6, NULL},
        {"rate-lambda", 'f', &o.rate.rate_lambda, TB_STR(SRNN_DEF_RATE_LAMBDA), "", "strength of the firing-rate regulariser (0: off)", 0, 1e6, NULL},
        {"rate-lo", 'f', &o.rate.rate_lo_hz, TB_STR(SRNN_DEF_RATE_LO_HZ), "Hz", "rates below this are penalised", 0, 1e4, NULL},
        {"rate-hi", 'f', &o.rate.rate_hi_hz, TB_STR(SRNN_DEF_RATE_HI_HZ), "Hz", "rates above this are penalised", 0, 1e4, NULL},
        {"stdp-tokens", 'i', &stdp_tokens, TB_STR(RUN_STDP_TOKENS), "tokens", "STDP pre-training of the input weights on this many training tokens", 0, 1e9, NULL},
        {"ridge", 'f', &o.reservoir.ridge, TB_STR(SRNN_DEF_RIDGE), "", "reservoir: ridge penalty relative to the mean feature power", 1e-12, 1e6, NULL},
        {"reservoir-tokens", 'i', &res_tokens, TB_STR(RUN_RESERVOIR_TOKENS), "tokens", "reservoir: fit on the first N training tokens (0: all)", 0, 1e9, NULL},
        {"seed", 'l', &seed, TB_STR(SRNN_DEF_SEED), "", "initialisation, data order and noise", 0, 9e18, NULL},
        TRAIN_SCHEDULE_OPTS(o, val_tokens, json),
    };
    cli_cmd cmd = {"train-snn", "", "train a recurrent spiking network on toyworld (surrogate gradients, reservoir, STDP)",
                   "The defaults below are the tables of include/srnn.h, optim.h and run.h: LIF neurons with\n"
                   "Poisson background input, a spike-count readout, BPTT with AdamW and firing rates kept in\n"
                   "the regulariser's band.  Writes runs/NAME.ckpt (kind \"srnn\"), runs/NAME.tsv,\n"
                   "plots/NAME_loss.png and plots/NAME_rate.png; Ctrl-C saves and exits cleanly; --resume continues\n"
                   "bit for bit (same --threads and kernels).  `tinybrain eval runs/snn.ckpt` scores it like a GPT.",
                   "tinybrain train-snn --steps 600 --save-at 0,100,final"};
    char *pos[1];
    cli_parse(&cmd, opts, NOPT(opts), argc, argv, pos, 0, 0);
    cli_catch_sigint();
    if (srnn_parse_neuron(neuron_s, &c->neuron) || srnn_parse_mode(mode_s, &c->mode) ||
        srnn_parse_readout(readout_s, &c->readout))
        cli_die(2, "bad --neuron/--mode/--readout");
    o.seed = (uint64_t)seed;
    o.val_tokens = val_tokens;
    o.reservoir.max_tokens = res_tokens;

    tb_run r;
    train_open(&r, &o, argc, argv);
    print_header(&r);
    if (!r.resumed) before_training(&r, stdp_tokens);
    if (!train_loop(&r, "train-snn")) print_result(&r, o.data_dir, json);
    run_free(&r);
    return 0;
}
