/* bench_gpt.c -- `tinybrain bench gpt`: milliseconds per training step of the GPT.
 * Lesson 08 ("how fast is a step, and where does the time go").
 *
 * The workload (bench_gpt_steps in include/bench.h) builds exactly the model of
 * ../shared/bench/torch_gpt.py and times forward, backward and AdamW; we report the
 * median over --steps steps after --warmup steps, and achieved GFLOP/s with the same
 * FLOP count as the PyTorch script (6 params B T + 6 L B T^2 C).
 * Peak: measured on the spot by bench_peak() (`tinybrain bench peak`) at the same thread
 * count, unless --peak gives one.  --compare-torch first asks which BLAS PyTorch loads:
 * against Netlib's reference BLAS (Debian's default until libopenblas0 is installed)
 * the ratio is meaningless, so it is not printed. */
#include "bench.h"
#include "cli.h"
#include "commands.h"
#include "threads.h"

#include <math.h>
#include <stdio.h>

typedef struct {
    const char *preset, *script;
    int steps, warmup, json, compare, breakdown;
    int dim, layers, heads;   /* overrides of the preset (0: the preset's) */
    double peak_core;
} gpt_args;

/* The step's numbers, and PyTorch's ms per step at 1 and 2 threads when it ran. */
typedef struct {
    const bench_gpt_preset *p;
    bench_gpt_result r;
    double tokens, gflops, peak;
    const char *peak_isa;
    int have_torch, fair;         /* fair: PyTorch runs on a real BLAS, a ratio means something */
    const char *blas;
    char blas_path[512];
    double torch_ms[2], torch_gf[2];
} gpt_bench;

static int run_torch(const gpt_args *a, gpt_bench *b) {
    char err[TB_ERRLEN];
    if (bench_python_blas("torch", &b->blas, b->blas_path, sizeof b->blas_path, err)) {
        cli_note("--compare-torch: %s; skipping PyTorch (Debian: python3-torch)", err);
        return 0;
    }
    b->fair = bench_blas_fair(b->blas);
    if (!b->fair) {
        cli_note("--compare-torch: PyTorch loads the reference BLAS (%s), which no PyTorch user would time: "
                 "not run, no ratio (apt-get install libopenblas0-pthread, then run again)", b->blas_path);
        return 0;
    }
    for (int t = 0; t < 2; t++)
        if (bench_torch_gpt(a->script, b->p, t + 1, a->steps, a->warmup, &b->torch_ms[t], &b->torch_gf[t], err)) {
            cli_note("--compare-torch: %s", err);
            return 0;
        }
    return 1;
}

/* The peak to compare with: --peak per core if given, else measured now. */
static void find_peak(const gpt_args *a, int peak_given, gpt_bench *b) {
    char err[TB_ERRLEN];
    bench_peak_result pk;
    if (peak_given) {
        b->peak = a->peak_core * tb_threads();
        b->peak_isa = "--peak";
    } else if (bench_peak(tb_threads(), &pk, err) == 0) {
        b->peak = pk.gflops;
        b->peak_isa = pk.isa;
    } else {
        cli_die(1, "%s", err);
    }
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
    json_num("embed_fwd_ms", r->embed_fwd_ms);
    json_num("head_fwd_ms", r->head_fwd_ms);
    json_num("head_bwd_ms", r->head_bwd_ms);
    json_num("embed_bwd_ms", r->embed_bwd_ms);
    json_num("pool_jobs_per_step", r->pool_jobs);
    json_num("pool_wait_ms", r->pool_wait_ms);
    json_num("first_loss", r->first_loss);
    json_num("last_loss", r->last_loss);
    if (b->have_torch) {
        json_str("torch_blas", b->blas);
        json_num("torch_ms_1thread", b->torch_ms[0]);
        json_num("torch_ms_2threads", b->torch_ms[1]);
        json_num("speedup_vs_best_torch", fmin(b->torch_ms[0], b->torch_ms[1]) / r->ms);
    }
    json_end();
}

/* Where a step's time goes: each phase's forward and backward, AdamW, the pool. */
static void print_breakdown(const bench_gpt_result *r) {
    printf("\n  %-16s %9s %9s   (mean ms per step)\n", "phase", "forward", "backward");
    printf("  %-16s %9.2f %9.2f\n", "embeddings", r->embed_fwd_ms, r->embed_bwd_ms);
    for (int l = 0; l < r->layers; l++) {
        char name[32];
        snprintf(name, sizeof name, "block %d", l);
        printf("  %-16s %9.2f %9.2f\n", name, r->layer_fwd_ms[l], r->layer_bwd_ms[l]);
    }
    printf("  %-16s %9.2f %9.2f\n", "norm, head, loss", r->head_fwd_ms, r->head_bwd_ms);
    printf("  %-16s %9s %9.2f   (update)\n", "AdamW", "", r->opt_ms);
    printf("  %-16s %9.2f %9.2f   (all phases)\n", "total", r->fwd_ms, r->bwd_ms);
    printf("  thread pool: %.0f parallel regions per step; the caller waits %.2f ms per step for the workers\n"
           "  after its own share and at the barriers inside products (imbalance + hand-over)\n",
           r->pool_jobs, r->pool_wait_ms);
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
    printf("  of peak        %.0f%%   (peak %.0f GFLOP/s at %d thread%s, measured now: %s)\n", 100 * b->gflops / b->peak,
           b->peak, nt, nt > 1 ? "s" : "", b->peak_isa);
    if (a->breakdown) print_breakdown(r);
    printf("  loss           %.4f -> %.4f (random tokens: ln %d = %.4f)\n", r->first_loss, r->last_loss, p->vocab,
           log(p->vocab));
    if (!a->compare) return;
    if (!b->have_torch) {
        if (!b->fair && b->blas_path[0])
            printf("\nPyTorch not timed: it loads the reference BLAS (%s)\n", b->blas_path);
        else
            printf("\nPyTorch not available (/usr/bin/python3 -c 'import torch' failed or %s missing): skipped\n",
                   a->script);
        return;
    }
    printf("\n  PyTorch's BLAS     %s (%s)\n", b->blas, b->blas_path[0] ? b->blas_path : "no BLAS library mapped");
    printf("  PyTorch 1 thread   %.2f ms/step (%.1f GFLOP/s)\n", b->torch_ms[0], b->torch_gf[0]);
    printf("  PyTorch 2 threads  %.2f ms/step (%.1f GFLOP/s)\n", b->torch_ms[1], b->torch_gf[1]);
    printf("  tinybrain is %.2fx faster than PyTorch's better run\n", fmin(b->torch_ms[0], b->torch_ms[1]) / r->ms);
}

int bench_gpt_main(int argc, char **argv) {
    gpt_args a;
    cli_opt opts[] = {
        {"preset", 'c', &a.preset, "classroom", "", "model size (see --help text)", 0, 0, "classroom|small"},
        {"steps", 'i', &a.steps, "30", "", "timed steps (the median is reported)", 1, 100000, NULL},
        {"warmup", 'i', &a.warmup, "5", "", "untimed steps first", 0, 100000, NULL},
        {"peak", 'f', &a.peak_core, "0", "GFLOP/s", "peak per core for the % of peak (0: measure it, as bench peak)", 0, 1e5, NULL},
        {"breakdown", 'b', &a.breakdown, NULL, "", "also time forward, backward and optimizer separately", 0, 0, NULL},
        {"dim", 'i', &a.dim, "0", "", "d_model instead of the preset's (0: the preset's; e.g. 384)", 0, 4096, NULL},
        {"layers", 'i', &a.layers, "0", "", "blocks instead of the preset's (0: the preset's)", 0, 64, NULL},
        {"heads", 'i', &a.heads, "0", "", "heads instead of the preset's (0: the preset's)", 0, 64, NULL},
        BENCH_TORCH_OPTS(a, "../shared/bench/torch_gpt.py"),
    };
    cli_cmd cmd = {"bench gpt", "", "ms per GPT training step (forward + backward + AdamW), GFLOP/s",
                   "classroom: vocab 64, ctx 64, 4 layers, 4 heads, d_model 128, batch 16.\n"
                   "small:     vocab 256, ctx 128, 6 layers, 6 heads, d_model 192, batch 8.\n"
                   "Random tokens, untied head, GELU, LayerNorm, learned positions, AdamW: the model of\n"
                   "../shared/bench/torch_gpt.py.  FLOPs/step = 6 params B T + 6 L B T^2 C.\n"
                   "Timings on a shared machine are noisy; run twice.",
                   "tinybrain bench gpt --preset small --dim 384 --compare-torch"};
    cli_parse(&cmd, opts, NOPT(opts), argc, argv, NULL, 0, 0);
    char err[TB_ERRLEN];
    bench_gpt_preset shape = *bench_gpt_find(a.preset);   /* the preset, with --dim/--layers/--heads */
    if (a.dim) shape.dim = a.dim;
    if (a.layers) shape.layers = a.layers;
    if (a.heads) shape.heads = a.heads;
    if (shape.dim % shape.heads) cli_die(2, "--dim %d is not a multiple of %d heads", shape.dim, shape.heads);
    gpt_bench b = {.p = &shape, .torch_ms = {NAN, NAN}, .torch_gf = {NAN, NAN}, .blas = "unknown"};
    if (bench_gpt_steps(b.p, a.steps, a.warmup, &b.r, err)) cli_die(1, "%s", err);
    b.tokens = (double)b.p->batch * b.p->ctx;
    b.gflops = b.r.flops / (b.r.ms * 1e-3) / 1e9;
    find_peak(&a, a.peak_core > 0, &b);
    if (a.compare) b.have_torch = run_torch(&a, &b);
    if (a.json) print_json(&b);
    else print_text(&a, &b);
    bench_gpt_result_free(&b.r);
    return 0;
}
