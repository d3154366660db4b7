/* bench_gpt.c -- `tinybrain bench gpt`: milliseconds per training step of the GPT.
 * Lesson 08 ("how fast is a step, and where does the time go").
 *
 * The presets build exactly the model of ../shared/bench/torch_gpt.py: learned token and
 * position embeddings, pre-LayerNorm blocks (causal MHA with biased qkv and output
 * projections, 4x MLP with tanh-GELU), final LayerNorm, untied LM head without bias,
 * AdamW (lr 1e-3, no weight decay), cross-entropy on random tokens.  One step = forward,
 * backward, optimizer update.  We report the median over --steps steps after --warmup
 * steps, and achieved GFLOP/s with the same FLOP count as the PyTorch script:
 *     FLOPs/step = 6 * params * B*T  +  6 * L * B * T^2 * C
 * (6 = 2 flops per multiply-add x (forward + 2 backward products); the second term is
 * the attention scores and their weighted sum, counted over the full T x T square).
 * Peak: 16 FLOP/cycle/core in AVX2 FMA single precision x the clock; we state ~115
 * GFLOP/s per core for this machine (the figure in the issue), scaled by threads. */
#include "cli.h"
#include "commands.h"
#include "gpt.h"
#include "kernels.h"
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

typedef struct { const char *name; int vocab, ctx, layers, heads, dim, batch; } gpt_preset;
static const gpt_preset presets[] = {
    {"classroom", 64, 64, 4, 4, 128, 16},
    {"small", 256, 128, 6, 6, 192, 8},
};

/* Section timings of one step (seconds), for the breakdown table. */
typedef struct { double fwd, bwd, opt; } step_times;

/* Run the PyTorch reference; 1 with ms filled, 0 when it could not run. */
static int run_torch(const char *script, const char *preset, int threads, int steps, int warmup, double *ms, double *gf) {
    if (system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") != 0) return 0;
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' --preset %s --threads %d --steps %d --warmup %d 2>/dev/null", script,
             preset, threads, steps, warmup);
    FILE *f = popen(cmd, "r");
    if (!f) return 0;
    char line[4096];
    int got = 0;
    while (fgets(line, sizeof line, f)) {
        char *a = strstr(line, "\"ms_per_step\":"), *b = strstr(line, "\"gflops\":");
        if (a && b) { *ms = atof(a + 14); *gf = atof(b + 9); got = 1; }
    }
    pclose(f);
    return got;
}

int bench_gpt_main(int argc, char **argv) {
    const char *preset, *script;
    int steps, warmup, json, compare, breakdown;
    double peak_core;
    cli_opt opts[] = {
        {"preset", 'c', &preset, "classroom", "", "model size (see --help text)", 0, 0, "classroom|small"},
        {"steps", 'i', &steps, "30", "", "timed steps (the median is reported)", 1, 100000, NULL},
        {"warmup", 'i', &warmup, "5", "", "untimed steps first", 0, 100000, NULL},
        {"peak", 'f', &peak_core, "115", "GFLOP/s", "peak per core used for the % of peak", 1, 1e5, NULL},
        {"breakdown", 'b', &breakdown, NULL, "", "also time forward, backward and optimizer separately", 0, 0, NULL},
        {"compare-torch", 'b', &compare, NULL, "", "also run the PyTorch script at 1 and 2 threads and print the ratio", 0, 0, NULL},
        {"torch-script", 's', &script, "../shared/bench/torch_gpt.py", "", "the PyTorch reference script", 0, 0, NULL},
        {"json", 'b', &json, NULL, "", "print one JSON object", 0, 0, NULL},
    };
    cli_cmd cmd = {"bench gpt", "", "ms per GPT training step (forward + backward + AdamW), GFLOP/s",
                   "classroom: vocab 64, ctx 64, 4 layers, 4 heads, d_model 128, batch 16.\n"
                   "small:     vocab 256, ctx 128, 6 layers, 6 heads, d_model 192, batch 8.\n"
                   "Random tokens, untied head, GELU, LayerNorm, learned positions, AdamW: the model of\n"
                   "../shared/bench/torch_gpt.py.  FLOPs/step = 6 params B T + 6 L B T^2 C.\n"
                   "Timings on a shared machine are noisy; run twice.",
                   "tinybrain bench gpt --preset small --compare-torch"};
    char *pos[1];
    cli_parse(&cmd, opts, NOPT(opts), argc, argv, pos, 0, 0);
    const gpt_preset *p = !strcmp(preset, "small") ? &presets[1] : &presets[0];
    char err[TB_ERRLEN];

    gpt_config c;
    gpt_default_config(&c);
    c.vocab_size = p->vocab;
    c.ctx = p->ctx;
    c.n_layer = p->layers;
    c.n_head = p->heads;
    c.d_model = p->dim;
    c.mlp_ratio = 4;
    c.act = GPT_ACT_GELU;
    c.norm = GPT_NORM_LAYER;
    c.pos = GPT_POS_LEARNED;
    c.tied = 0;
    c.seed = 1;
    gpt_model m;
    if (gpt_init(&m, &c, err)) cli_die(1, "%s", err);
    tb_adamw_cfg oc;
    adamw_default_cfg(&oc);
    oc.lr = 1e-3;
    oc.beta2 = 0.999;      /* PyTorch's AdamW defaults */
    oc.weight_decay = 0.0;
    oc.clip_norm = 0.0;
    tb_adamw opt;
    if (adamw_init(&opt, &oc, m.n_params, err)) cli_die(1, "%s", err);
    int B = p->batch, T = p->ctx;
    int *x = malloc((size_t)B * T * sizeof(int)), *y = malloc((size_t)B * T * sizeof(int));
    if (!x || !y) cli_die(1, "out of memory");
    tb_rng r;
    rng_seed(&r, 1);
    for (int i = 0; i < B * T; i++) { x[i] = (int)rng_below(&r, p->vocab); y[i] = (int)rng_below(&r, p->vocab); }

    double *ms = malloc((size_t)steps * sizeof(double));
    step_times *st = malloc((size_t)steps * sizeof(step_times));
    if (!ms || !st) cli_die(1, "out of memory");
    float first = 0, last = 0;
    for (int s = 0; s < warmup + steps; s++) {
        double t0 = now_s();
        float loss;
        if (gpt_forward(&m, x, y, B, T, &loss, err)) cli_die(1, "%s", err);
        double t1 = now_s();
        if (gpt_backward(&m, err)) cli_die(1, "%s", err);
        double t2 = now_s();
        adamw_step(&opt, m.params_mem, m.grads_mem, m.decay_mask);
        double t3 = now_s();
        if (s == 0) first = loss;
        last = loss;
        if (s >= warmup) {
            ms[s - warmup] = (t3 - t0) * 1e3;
            st[s - warmup] = (step_times){t1 - t0, t2 - t1, t3 - t2};
        }
    }
    double fwd = 0, bwd = 0, op = 0;
    for (int s = 0; s < steps; s++) { fwd += st[s].fwd; bwd += st[s].bwd; op += st[s].opt; }
    qsort(ms, (size_t)steps, sizeof(double), cmp_double);
    double med = steps % 2 ? ms[steps / 2] : 0.5 * (ms[steps / 2 - 1] + ms[steps / 2]);
    double tokens = (double)B * T;
    double flops = 6.0 * m.n_params * tokens + 6.0 * p->layers * (double)B * T * T * p->dim;
    double gflops = flops / (med * 1e-3) / 1e9, peak = peak_core * tb_threads();

    double tms[2] = {NAN, NAN}, tgf[2] = {NAN, NAN};
    int have_torch = 0;
    if (compare) {
        have_torch = run_torch(script, p->name, 1, steps, warmup, &tms[0], &tgf[0]);
        if (have_torch) have_torch = run_torch(script, p->name, 2, steps, warmup, &tms[1], &tgf[1]);
    }
    double best_torch = fmin(tms[0], tms[1]);

    if (json) {
        json_begin();
        json_str("preset", p->name);
        json_int("threads", tb_threads());
        json_str("kernels", tb_kern->name);
        json_int("params", (long long)m.n_params);
        json_num("ms_per_step", med);
        json_num("tokens_per_s", tokens / (med * 1e-3));
        json_num("gflops", gflops);
        json_num("peak_gflops", peak);
        json_num("pct_of_peak", 100 * gflops / peak);
        json_num("forward_ms", 1e3 * fwd / steps);
        json_num("backward_ms", 1e3 * bwd / steps);
        json_num("optimizer_ms", 1e3 * op / steps);
        json_num("first_loss", first);
        json_num("last_loss", last);
        if (have_torch) {
            json_num("torch_ms_1thread", tms[0]);
            json_num("torch_ms_2threads", tms[1]);
            json_num("speedup_vs_best_torch", best_torch / med);
        }
        json_end();
    } else {
        printf("bench gpt --preset %s: vocab %d, ctx %d, %d layers x %d heads, d_model %d, batch %d, %zu parameters\n",
               p->name, p->vocab, p->ctx, p->layers, p->heads, p->dim, p->batch, m.n_params);
        printf("%d thread%s, kernels %s; median of %d steps after %d warm-up (timings are noisy on a shared machine)\n\n",
               tb_threads(), tb_threads() > 1 ? "s" : "", tb_kern->name, steps, warmup);
        printf("  ms/step        %.2f\n", med);
        printf("  tokens/s       %.0f\n", tokens / (med * 1e-3));
        printf("  GFLOP/s        %.1f   (%.2f GFLOP/step = 6 params B T + 6 L B T^2 C)\n", gflops, flops / 1e9);
        printf("  of peak        %.0f%%   (peak %.0f GFLOP/s = %.0f per core x %d)\n", 100 * gflops / peak, peak,
               peak_core, tb_threads());
        if (breakdown)
            printf("  mean split     forward %.2f ms, backward %.2f ms, AdamW %.2f ms\n", 1e3 * fwd / steps,
                   1e3 * bwd / steps, 1e3 * op / steps);
        printf("  loss           %.4f -> %.4f (random tokens: ln %d = %.4f)\n", first, last, p->vocab, log(p->vocab));
        if (compare) {
            if (!have_torch) {
                printf("\nPyTorch not available (/usr/bin/python3 -c 'import torch' failed or %s missing): skipped\n", script);
            } else {
                printf("\n  PyTorch 1 thread   %.2f ms/step (%.1f GFLOP/s)\n", tms[0], tgf[0]);
                printf("  PyTorch 2 threads  %.2f ms/step (%.1f GFLOP/s)\n", tms[1], tgf[1]);
                printf("  tinybrain is %.2fx faster than PyTorch's better run\n", best_torch / med);
            }
        }
    }
    free(ms);
    free(st);
    free(x);
    free(y);
    adamw_free(&opt);
    gpt_free(&m);
    return 0;
}
