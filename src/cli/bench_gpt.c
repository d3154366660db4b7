/* bench_gpt.c -- `tinybrain bench gpt`: milliseconds per training step of the GPT.
 * Lesson 08 ("how fast is a step, and where does the time go").
 *
 * The workload (bench_gpt_steps in include/bench.h) builds exactly the model of
 * ../shared/bench/torch_gpt.py and times forward, backward and AdamW; we report the
 * median over --steps steps after --warmup steps, and achieved GFLOP/s with the same
 * FLOP count as the PyTorch script (6 params B T + 6 L B T^2 C).
 * Peak: 16 FLOP/cycle/core in AVX2 FMA single precision x the clock; we state ~115
 * GFLOP/s per core for this machine (the figure in the issue), scaled by threads. */
#include "bench.h"
#include "cli.h"
#include "commands.h"
#include "threads.h"

#include <math.h>
#include <stdio.h>

typedef struct {
    const char *preset, *script;
    int steps, warmup, json, compare, breakdown;
    double peak_core;
} gpt_args;

/* The step's numbers, and PyTorch's ms per step at 1 and 2 threads when it ran. */
typedef struct {
    const bench_gpt_preset *p;
    bench_gpt_result r;
    double tokens, gflops, peak;
    int have_torch;
    double torch_ms[2], torch_gf[2];
} gpt_bench;

static int run_torch(const gpt_args *a, gpt_bench *b) {
    char err[TB_ERRLEN];
    for (int t = 0; t < 2; t++)
        if (bench_torch_gpt(a->script, b->p->name, t + 1, a->steps, a->warmup, &b->torch_ms[t], &b->torch_gf[t], err))
            return 0;
    return 1;
}

static void print_json(const gpt_bench *b) {
    const bench_gpt_result *r = &b->r;
    json_begin();
    json_str("preset", b->p->name);
    json_int("threads", tb_threads());
    json_str("kernels", tb_kern->name);
    json_int("params", (long long)r->params);
    json_num("ms_per_step", r->ms);
    json_num("tokens_per_s", b->tokens / (r->ms * 1e-3));
    json_num("gflops", b->gflops);
    json_num("peak_gflops", b->peak);
    json_num("pct_of_peak", 100 * b->gflops / b->peak);
    json_num("forward_ms", r->fwd_ms);
    json_num("backward_ms", r->bwd_ms);
    json_num("optimizer_ms", r->opt_ms);
    json_num("first_loss", r->first_loss);
    json_num("last_loss", r->last_loss);
    if (b->have_torch) {
        json_num("torch_ms_1thread", b->torch_ms[0]);
        json_num("torch_ms_2threads", b->torch_ms[1]);
        json_num("speedup_vs_best_torch", fmin(b->torch_ms[0], b->torch_ms[1]) / r->ms);
    }
    json_end();
}

static void print_text(const gpt_args *a, const gpt_bench *b) {
    const bench_gpt_preset *p = b->p;
    const bench_gpt_result *r = &b->r;
    int nt = tb_threads();
    printf("bench gpt --preset %s: vocab %d, ctx %d, %d layers x %d heads, d_model %d, batch %d, %zu parameters\n",
           p->name, p->vocab, p->ctx, p->layers, p->heads, p->dim, p->batch, r->params);
    printf("%d thread%s, kernels %s; median of %d steps after %d warm-up (timings are noisy on a shared machine)\n\n",
           nt, nt > 1 ? "s" : "", tb_kern->name, a->steps, a->warmup);
    printf("  ms/step        %.2f\n", r->ms);
    printf("  tokens/s       %.0f\n", b->tokens / (r->ms * 1e-3));
    printf("  GFLOP/s        %.1f   (%.2f GFLOP/step = 6 params B T + 6 L B T^2 C)\n", b->gflops, r->flops / 1e9);
    printf("  of peak        %.0f%%   (peak %.0f GFLOP/s = %.0f per core x %d)\n", 100 * b->gflops / b->peak, b->peak,
           a->peak_core, nt);
    if (a->breakdown)
        printf("  mean split     forward %.2f ms, backward %.2f ms, AdamW %.2f ms\n", r->fwd_ms, r->bwd_ms, r->opt_ms);
    printf("  loss           %.4f -> %.4f (random tokens: ln %d = %.4f)\n", r->first_loss, r->last_loss, p->vocab,
           log(p->vocab));
    if (!a->compare) return;
    if (!b->have_torch) {
        printf("\nPyTorch not available (/usr/bin/python3 -c 'import torch' failed or %s missing): skipped\n", a->script);
        return;
    }
    printf("\n  PyTorch 1 thread   %.2f ms/step (%.1f GFLOP/s)\n", b->torch_ms[0], b->torch_gf[0]);
    printf("  PyTorch 2 threads  %.2f ms/step (%.1f GFLOP/s)\n", b->torch_ms[1], b->torch_gf[1]);
    printf("  tinybrain is %.2fx faster than PyTorch's better run\n", fmin(b->torch_ms[0], b->torch_ms[1]) / r->ms);
}

int bench_gpt_main(int argc, char **argv) {
    gpt_args a;
    cli_opt opts[] = {
        {"preset", 'c', &a.preset, "classroom", "", "model size (see --help text)", 0, 0, "classroom|small"},
        {"steps", 'i', &a.steps, "30", "", "timed steps (the median is reported)", 1, 100000, NULL},
        {"warmup", 'i', &a.warmup, "5", "", "untimed steps first", 0, 100000, NULL},
        {"peak", 'f', &a.peak_core, "115", "GFLOP/s", "peak per core used for the % of peak", 1, 1e5, NULL},
        {"breakdown", 'b', &a.breakdown, NULL, "", "also time forward, backward and optimizer separately", 0, 0, NULL},
        BENCH_TORCH_OPTS(a, "../shared/bench/torch_gpt.py"),
    };
    cli_cmd cmd = {"bench gpt", "", "ms per GPT training step (forward + backward + AdamW), GFLOP/s",
                   "classroom: vocab 64, ctx 64, 4 layers, 4 heads, d_model 128, batch 16.\n"
                   "small:     vocab 256, ctx 128, 6 layers, 6 heads, d_model 192, batch 8.\n"
                   "Random tokens, untied head, GELU, LayerNorm, learned positions, AdamW: the model of\n"
                   "../shared/bench/torch_gpt.py.  FLOPs/step = 6 params B T + 6 L B T^2 C.\n"
                   "Timings on a shared machine are noisy; run twice.",
                   "tinybrain bench gpt --preset small --compare-torch"};
    cli_parse(&cmd, opts, NOPT(opts), argc, argv, NULL, 0, 0);
    char err[TB_ERRLEN];
    gpt_bench b = {.p = bench_gpt_find(a.preset), .torch_ms = {NAN, NAN}, .torch_gf = {NAN, NAN}};
    if (bench_gpt_steps(b.p, a.steps, a.warmup, &b.r, err)) cli_die(1, "%s", err);
    b.tokens = (double)b.p->batch * b.p->ctx;
    b.gflops = b.r.flops / (b.r.ms * 1e-3) / 1e9;
    b.peak = a.peak_core * tb_threads();
    if (a.compare) b.have_torch = run_torch(&a, &b);
    if (a.json) print_json(&b);
    else print_text(&a, &b);
    return 0;
}
