/* bench_snn_train.c -- `tinybrain bench snn-train`: milliseconds per surrogate-gradient
 * training step of the spiking language model.  Lesson 09.
 *
 * The reference configuration is that of ../shared/bench/torch_srnn.py (vocab 64, 256
 * LIF neurons, 8 simulation steps per token, 32 tokens of context, batch 16; the
 * workload is bench_srnn_steps in include/bench.h).  We report the median over --steps
 * steps after --warmup steps at 1 thread and at --threads, and the firing probability
 * per neuron and step (the sparsity that the event-driven forward pass exploits). */
#include "bench.h"
#include "cli.h"
#include "commands.h"
#include "srnn.h"
#include "threads.h"

#include <math.h>
#include <stdio.h>

typedef struct {
    bench_srnn_shape s;
    int steps, warmup, json, compare, breakdown;
    const char *script;
} srnn_args;

/* Our runs at 1 thread and at --threads, and PyTorch's at 1 and 2 threads. */
typedef struct {
    int n_runs, threads[2];
    bench_srnn_result ours[2];
    int have_torch;   /* PyTorch ran, on a real BLAS (bench_blas_fair) */
    const char *blas;
    double torch_ms[2], torch_p;
} srnn_bench;

/* PyTorch at 1 and 2 threads (a note when it cannot run). */
static void run_torch(const srnn_args *a, srnn_bench *b) {
    char err[TB_ERRLEN], path[512];
    if (bench_python_blas("torch", &b->blas, path, sizeof path, err)) {
        cli_note("--compare-torch: %s; skipping PyTorch (Debian: python3-torch)", err);
        return;
    }
    if (!bench_blas_fair(b->blas)) {
        cli_note("--compare-torch: PyTorch loads the reference BLAS (%s), which no PyTorch user would time: "
                 "not run, no ratio (apt-get install libopenblas0-pthread, then run again)", path);
        return;
    }
    for (int t = 0; t < 2; t++) {
        double p;
        if (bench_torch_srnn(a->script, &a->s, t + 1, &b->torch_ms[t], &p, err)) {
            if (t == 0) cli_note("--compare-torch: %s; skipping PyTorch (Debian: python3-torch)", err);
            return;
        }
        b->have_torch = 1;
        if (!isnan(p)) b->torch_p = p;
    }
}

static void print_json(const srnn_args *a, const srnn_bench *b, double best_torch) {
    const bench_srnn_result *r = &b->ours[b->n_runs - 1];
    json_begin();
    json_str("system", "tinybrain");
    json_str("kernels", tb_kern->name);
    json_int("vocab", a->s.vocab);
    json_int("neurons", a->s.neurons);
    json_int("steps_per_token", a->s.steps_per_token);
    json_int("ctx", a->s.ctx);
    json_int("batch", a->s.batch);
    json_num("ms_per_step_1thread", b->ours[0].ms);
    json_int("threads", b->threads[b->n_runs - 1]);
    json_num("ms_per_step", r->ms);
    if (a->breakdown) json_num("forward_ms", r->fwd_ms);
    json_num("spike_prob", r->spike_p);
    json_num("first_loss", r->first_loss);
    json_num("last_loss", r->last_loss);
    if (b->have_torch) {
        json_str("torch_blas", b->blas);
        json_num("torch_ms_1thread", b->torch_ms[0]);
        json_num("torch_ms_2threads", b->torch_ms[1]);
        json_num("speedup_vs_best_torch", best_torch / r->ms);
    }
    json_end();
}

static const int COLS[4] = {22, 8, 12, 12};   /* the table's column widths */

static void table_row(const char *system, int threads, double ms, double spike_p) {
    char c1[16], c2[32], c3[16];
    snprintf(c1, sizeof c1, "%d", threads);
    snprintf(c2, sizeof c2, "%.2f", ms);
    snprintf(c3, sizeof c3, "%.3f", spike_p);
    const char *cells[4] = {system, c1, c2, c3};
    cli_table_row(4, COLS, cells);
}

static void print_text(const srnn_args *a, const srnn_bench *b, double best_torch) {
    const bench_srnn_shape *s = &a->s;
    printf("spiking LM training step: vocab %d, %d LIF neurons, %d steps/token, ctx %d, batch %d, BPTT + Adam\n",
           s->vocab, s->neurons, s->steps_per_token, s->ctx, s->batch);
    printf("(median of %d steps after %d warm-up; kernels %s; timings on a shared machine are noisy)\n\n", a->steps,
           a->warmup, tb_kern->name);
    static const char *const hdr[4] = {"system", "threads", "ms/step", "spike prob"};
    cli_table_row(4, COLS, hdr);
    cli_table_rule(4, COLS);
    for (int i = 0; i < b->n_runs; i++) table_row("tinybrain", b->threads[i], b->ours[i].ms, b->ours[i].spike_p);
    for (int i = 0; b->have_torch && i < 2; i++) table_row("pytorch", i + 1, b->torch_ms[i], b->torch_p);
    const bench_srnn_result *r = &b->ours[b->n_runs - 1];
    if (a->breakdown) printf("\nforward pass alone: %.2f ms at %d thread(s)\n", r->fwd_ms, b->threads[b->n_runs - 1]);
    if (b->have_torch)
        printf("\nPyTorch's BLAS: %s; speed-up over PyTorch's better run: %.1fx\n", b->blas, best_torch / r->ms);
}

int bench_snn_train_main(int argc, char **argv) {
    srnn_args a;
    cli_opt opts[] = {
        {"vocab", 'i', &a.s.vocab, "64", "", "vocabulary size", 2, 100000, NULL},
        {"neurons", 'i', &a.s.neurons, TB_STR(SRNN_DEF_NEURONS), "", "LIF neurons", 2, SRNN_MAX_NEURONS, NULL},
        {"steps-per-token", 'i', &a.s.steps_per_token, "8", "steps", "simulation steps per token", 1, 1000, NULL},
        {"ctx", 'i', &a.s.ctx, "32", "tokens", "tokens per window", 1, 100000, NULL},
        {"batch", 'i', &a.s.batch, "16", "windows", "windows per step", 1, 4096, NULL},
        {"steps", 'i', &a.steps, "10", "", "timed steps (the median is reported)", 1, 100000, NULL},
        {"warmup", 'i', &a.warmup, "2", "", "untimed steps first", 0, 100000, NULL},
        {"breakdown", 'b', &a.breakdown, NULL, "", "also time the forward pass alone", 0, 0, NULL},
        BENCH_TORCH_OPTS(a, "../shared/bench/torch_srnn.py"),
    };
    cli_cmd cmd = {"bench snn-train", "", "ms per surrogate-gradient training step of the spiking language model",
                   "Reference config (= ../shared/bench/torch_srnn.py): vocab 64, 256 LIF neurons, 8 steps per\n"
                   "token, ctx 32, batch 16, random tokens, BPTT + Adam.  Runs at 1 thread and at --threads\n"
                   "(default: all cores); --compare-torch adds PyTorch at 1 and 2 threads (needs python3-torch;\n"
                   "skipped with a note when it is missing).  Timings on a shared machine are noisy.",
                   "tinybrain bench snn-train --compare-torch"};
    cli_parse(&cmd, opts, NOPT(opts), argc, argv, NULL, 0, 0);
    char err[TB_ERRLEN];
    /* 1 thread first: the pool is then resized once, before it ever ran a job (resizing a
     * pool that has run jobs is unsafe in threads.c today) */
    int nthr = tb_threads();
    srnn_bench b = {.n_runs = nthr > 1 ? 2 : 1, .threads = {1, nthr}, .torch_ms = {NAN, NAN}, .torch_p = NAN, .blas = "unknown"};
    for (int i = 0; i < b.n_runs; i++) {
        tb_threads_init(b.threads[i]);
        if (bench_srnn_steps(&a.s, a.steps, a.warmup, a.breakdown, &b.ours[i], err)) cli_die(1, "%s", err);
    }
    tb_threads_init(nthr);
    if (a.compare) run_torch(&a, &b);
    double best_torch = b.have_torch ? (isnan(b.torch_ms[1]) || b.torch_ms[0] < b.torch_ms[1] ? b.torch_ms[0] : b.torch_ms[1]) : NAN;
    if (a.json) print_json(&a, &b, best_torch);
    else print_text(&a, &b, best_torch);
    return 0;
}
