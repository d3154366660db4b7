/* bench_snn_train.c -- `tinybrain bench snn-train`: milliseconds per surrogate-gradient
 * training step of the spiking language model.  Lesson 09.
 *
 * The reference configuration is that of ../shared/bench/torch_srnn.py: vocab 64, 256
 * LIF neurons (beta 0.9, threshold 1, soft reset), 8 simulation steps per token, 32
 * tokens of context, batch 16, random tokens, w_in ~ N(0, 0.5), w_rec ~ N(0, 1/sqrt(N)),
 * spike-count readout, fast-sigmoid surrogate (slope 10), cross-entropy, Adam (lr 1e-3,
 * betas 0.9/0.999, no weight decay, no clipping), no rate regulariser.  One step =
 * forward + backward + optimizer update; we report the median over --steps steps after
 * --warmup steps, and the firing probability per neuron and step (the sparsity that
 * the event-driven forward pass exploits). */
#include "cli.h"
#include "commands.h"
#include "kernels.h"
#include "srnn.h"
#include "threads.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct { double ms, fwd_ms, spike_p, first_loss, last_loss; } bench_result;

static int run_tinybrain(int V, int N, int Kt, int T, int B, int steps, int warmup, int breakdown, bench_result *res,
                         char *err) {
    srnn_config c;
    srnn_default_config(&c);
    c.vocab_size = V;
    c.n_neurons = N;
    c.steps_per_token = Kt;
    c.seed = 1;
    srnn_model m;
    if (srnn_init(&m, &c, err)) return -1;
    /* the readout starts like PyTorch's nn.Linear: weights and bias ~ U(-1/sqrt(N), 1/sqrt(N)) */
    tb_rng ri;
    rng_stream(&ri, 1, 104);
    double bound = 1.0 / sqrt((double)N);
    for (size_t i = 0; i < (size_t)V * N + V; i++) m.p.w_out[i] = (float)(bound * (2 * rng_uniform(&ri) - 1));
    tb_adamw_cfg oc;
    adamw_default_cfg(&oc);
    oc.lr = 1e-3;
    oc.beta2 = 0.999;
    oc.weight_decay = 0;
    oc.clip_norm = 0;
    oc.warmup_steps = 0;
    oc.total_steps = 0;
    tb_adamw opt;
    if (adamw_init(&opt, &oc, m.n_params, err)) { srnn_free(&m); return -1; }
    srnn_train_opts to = {0, 0, 1e9};
    int *x = malloc((size_t)B * T * sizeof(int)), *y = malloc((size_t)B * T * sizeof(int));
    double *times = malloc((size_t)(steps + warmup) * sizeof(double)), *ftimes = malloc((size_t)(steps + warmup) * sizeof(double));
    if (!x || !y || !times || !ftimes) {
        free(x); free(y); free(times); free(ftimes);
        srnn_free(&m); adamw_free(&opt);
        return tb_fail(err, "out of memory");
    }
    tb_rng r;
    rng_seed(&r, 1);
    for (int i = 0; i < B * (T + 1); i++) {   /* one fixed batch of random tokens, as the reference */
        int tok = (int)rng_below(&r, (uint32_t)V);
        int b = i / (T + 1), t = i % (T + 1);
        if (t < T) x[b * T + t] = tok;
        if (t > 0) y[b * T + t - 1] = tok;
    }
    double spikes = 0, cells = 0;
    int rc = 0;
    for (int s = 0; s < steps + warmup && !rc; s++) {
        srnn_batch_stats st;
        double t0 = now_s();
        if (breakdown) {   /* forward alone first (untimed in ms/step) */
            if (srnn_forward_backward(&m, x, y, B, T, &to, (uint64_t)s, 0, &st, err)) { rc = -1; break; }
            ftimes[s] = now_s() - t0;
            t0 = now_s();
        }
        if (srnn_forward_backward(&m, x, y, B, T, &to, (uint64_t)s, 1, &st, err)) { rc = -1; break; }
        adamw_step(&opt, m.params_mem, m.grads_mem, m.decay_mask);
        srnn_refresh(&m);
        times[s] = now_s() - t0;
        if (s == 0) res->first_loss = st.ce;
        res->last_loss = st.ce;
        if (s >= warmup) { spikes += st.spikes; cells += (double)B * T * Kt * N; }
    }
    if (!rc) {
        qsort(times + warmup, (size_t)steps, sizeof(double), cmp_double);
        res->ms = 1e3 * times[warmup + steps / 2];
        if (breakdown) {
            qsort(ftimes + warmup, (size_t)steps, sizeof(double), cmp_double);
            res->fwd_ms = 1e3 * ftimes[warmup + steps / 2];
        } else {
            res->fwd_ms = NAN;
        }
        res->spike_p = cells > 0 ? spikes / cells : NAN;
    }
    free(x); free(y); free(times); free(ftimes);
    srnn_free(&m);
    adamw_free(&opt);
    return rc;
}

/* The PyTorch reference; 1 with ms filled, 0 when it could not run. */
static int run_torch(const char *script, int threads, int V, int N, int Kt, int T, int B, double *ms, double *p) {
    if (system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") != 0) return 0;
    char cmd[1600];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 '%s' --threads %d --vocab %d --neurons %d --steps-per-token %d --ctx %d --batch %d 2>/dev/null",
             script, threads, V, N, Kt, T, B);
    FILE *f = popen(cmd, "r");
    if (!f) return 0;
    char line[4096];
    int got = 0;
    while (fgets(line, sizeof line, f)) {
        char *a = strstr(line, "\"ms_per_step\":"), *b = strstr(line, "\"spike_prob\":");
        if (a) { *ms = atof(a + 14); got = 1; }
        if (b) *p = atof(b + 13);
    }
    pclose(f);
    return got;
}

int bench_snn_train_main(int argc, char **argv) {
    int V, N, Kt, T, B, steps, warmup, json, compare, breakdown;
    const char *script;
    cli_opt opts[] = {
        {"vocab", 'i', &V, "64", "", "vocabulary size", 2, 100000, NULL},
        {"neurons", 'i', &N, "256", "", "LIF neurons", 2, 65536, NULL},
        {"steps-per-token", 'i', &Kt, "8", "steps", "simulation steps per token", 1, 1000, NULL},
        {"ctx", 'i', &T, "32", "tokens", "tokens per window", 1, 100000, NULL},
        {"batch", 'i', &B, "16", "windows", "windows per step", 1, 4096, NULL},
        {"steps", 'i', &steps, "10", "", "timed steps (the median is reported)", 1, 100000, NULL},
        {"warmup", 'i', &warmup, "2", "", "untimed steps first", 0, 100000, NULL},
        {"breakdown", 'b', &breakdown, NULL, "", "also time the forward pass alone", 0, 0, NULL},
        {"compare-torch", 'b', &compare, NULL, "", "also run the PyTorch script at 1 and 2 threads and print the ratio", 0, 0, NULL},
        {"torch-script", 's', &script, "../shared/bench/torch_srnn.py", "", "the PyTorch reference script", 0, 0, NULL},
        {"json", 'b', &json, NULL, "", "print one JSON object", 0, 0, NULL},
    };
    cli_cmd cmd = {"bench snn-train", "", "ms per surrogate-gradient training step of the spiking language model",
                   "Reference config (= ../shared/bench/torch_srnn.py): vocab 64, 256 LIF neurons, 8 steps per\n"
                   "token, ctx 32, batch 16, random tokens, BPTT + Adam.  Runs at 1 thread and at --threads\n"
                   "(default: all cores); --compare-torch adds PyTorch at 1 and 2 threads (needs python3-torch;\n"
                   "skipped with a note when it is missing).  Timings on a shared machine are noisy.",
                   "tinybrain bench snn-train --compare-torch"};
    char *pos[1];
    cli_parse(&cmd, opts, NOPT(opts), argc, argv, pos, 0, 0);
    char err[TB_ERRLEN];
    /* 1 thread first: the pool is then resized once, before it ever ran a job (resizing a
     * pool that has run jobs is unsafe in threads.c today) */
    int nthr = tb_threads();
    int tl[2] = {1, nthr};
    int nt = nthr > 1 ? 2 : 1;
    bench_result res[2];
    for (int i = 0; i < nt; i++) {
        tb_threads_init(tl[i]);
        if (run_tinybrain(V, N, Kt, T, B, steps, warmup, breakdown, &res[i], err)) cli_die(1, "%s", err);
    }
    tb_threads_init(nthr);
    double tms[2] = {NAN, NAN}, tp = NAN;
    int have_torch = 0;
    if (compare) {
        FILE *f = fopen(script, "r");
        if (!f) cli_note("--compare-torch: %s not found; skipping PyTorch", script);
        else {
            fclose(f);
            have_torch = run_torch(script, 1, V, N, Kt, T, B, &tms[0], &tp);
            if (have_torch) run_torch(script, 2, V, N, Kt, T, B, &tms[1], &tp);
            else cli_note("--compare-torch: PyTorch is not installed (Debian: python3-torch); skipping it");
        }
    }
    double best_torch = have_torch ? (isnan(tms[1]) || tms[0] < tms[1] ? tms[0] : tms[1]) : NAN;
    double ours = res[nt - 1].ms;
    if (json) {
        json_begin();
        json_str("system", "tinybrain");
        json_str("kernels", tb_kern->name);
        json_int("vocab", V);
        json_int("neurons", N);
        json_int("steps_per_token", Kt);
        json_int("ctx", T);
        json_int("batch", B);
        json_num("ms_per_step_1thread", res[0].ms);
        json_int("threads", tl[nt - 1]);
        json_num("ms_per_step", ours);
        if (breakdown) json_num("forward_ms", res[nt - 1].fwd_ms);
        json_num("spike_prob", res[nt - 1].spike_p);
        json_num("first_loss", res[nt - 1].first_loss);
        json_num("last_loss", res[nt - 1].last_loss);
        if (have_torch) {
            json_num("torch_ms_1thread", tms[0]);
            json_num("torch_ms_2threads", tms[1]);
            json_num("speedup_vs_best_torch", best_torch / ours);
        }
        json_end();
        return 0;
    }
    printf("spiking LM training step: vocab %d, %d LIF neurons, %d steps/token, ctx %d, batch %d, BPTT + Adam\n", V, N,
           Kt, T, B);
    printf("(median of %d steps after %d warm-up; kernels %s; timings on a shared machine are noisy)\n\n", steps, warmup,
           tb_kern->name);
    int w[4] = {22, 8, 12, 12};
    const char *hdr[4] = {"system", "threads", "ms/step", "spike prob"};
    cli_table_row(4, w, hdr);
    cli_table_rule(4, w);
    for (int i = 0; i < nt; i++) {
        char c1[16], c2[32], c3[16];
        snprintf(c1, sizeof c1, "%d", tl[i]);
        snprintf(c2, sizeof c2, "%.2f", res[i].ms);
        snprintf(c3, sizeof c3, "%.3f", res[i].spike_p);
        const char *cells[4] = {"tinybrain", c1, c2, c3};
        cli_table_row(4, w, cells);
    }
    for (int i = 0; have_torch && i < 2; i++) {
        char c1[16], c2[32], c3[16];
        snprintf(c1, sizeof c1, "%d", i + 1);
        snprintf(c2, sizeof c2, "%.2f", tms[i]);
        snprintf(c3, sizeof c3, "%.3f", tp);
        const char *cells[4] = {"pytorch", c1, c2, c3};
        cli_table_row(4, w, cells);
    }
    if (breakdown) printf("\nforward pass alone: %.2f ms at %d thread(s)\n", res[nt - 1].fwd_ms, tl[nt - 1]);
    if (have_torch) printf("\nspeed-up over PyTorch's better run: %.1fx\n", best_torch / ours);
    return 0;
}
