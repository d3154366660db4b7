/* threads.h -- a tiny fixed-size thread pool for data-parallel loops, and the
 * determinism contract every module keeps.
 *
 * One pool per process (like the kernel table, it is machine state, not model state):
 * the CLI sizes it once from --threads (default: all cores).  Work is split into
 * `ntasks` tasks with a *static* assignment.  y = 2 x over n elements:
 *
 *     typedef struct { const float *x; float *y; int n; } twice_job;
 *     static void twice_task(void *ctx, int task, int ntasks) {
 *         twice_job *j = ctx;
 *         int i0 = (int)((long long)j->n * task / ntasks);
 *         int i1 = (int)((long long)j->n * (task + 1) / ntasks);
 *         for (int i = i0; i < i1; i++) j->y[i] = 2 * j->x[i];
 *     }
 *     ...
 *     twice_job j = {x, y, n};
 *     tb_parallel(tb_threads(), twice_task, &j);
 *
 * ---- The determinism contract (cited elsewhere as "threads.h, rule N") ---------------
 * Same seed and same kernel table => bit-identical results for any thread count.  It
 * holds because every module keeps these rules:
 *   1. Every random draw comes from an explicit, seeded generator (rng.h), derived
 *      from the run's seed and never from the time, the thread or the task.
 *   2. Every number is computed by one task, with the same operations in the same
 *      order whatever the tasks are: a task owns whole outputs (rows of a product,
 *      neurons of a network, heads of an attention layer).  Where partial results are
 *      combined (weight gradients, norm-layer sums), they are partials of pieces the
 *      problem size fixes (batch elements; a number of tasks computed from the size),
 *      never of threads, and they are added in a fixed order.
 *   3. Results may differ between kernel tables (--kernels, kernels.h), by float
 *      round-off only, in the kernels that sum in another order or fuse multiply and
 *      add: the dense ones (sgemm, matmul, softmax, norms, GELU, exp) and matvecs.
 *      The LIF updates, rows_add, rows_acc and the float64 loops under linalg.h give
 *      the scalar bits in every table, so a spiking-network run (snn.h) and the
 *      eigen/SVD/products of linalg.h are identical under every table; a GPT or a
 *      spiking LM trained with another table differs in the last bits, and so does
 *      everything computed from it.
 *   4. The build keeps multiply and add separate (-ffp-contract=off), so gcc and clang
 *      builds agree; another architecture (its libm, its kernels) may differ in the
 *      last bits.  tests/golden.sh keeps one record per architecture and kernel set.
 * Timings (wall_s, tokens_per_s) and the thread count a run reports are the only
 * outputs outside the contract.
 */
#ifndef TB_THREADS_H
#define TB_THREADS_H

#include <stdatomic.h>

/* The most threads a pool runs (--threads above it is refused; all cores are capped). */
#define TB_MAX_THREADS 256

/* Size the pool (n <= 0: all online cores; at most TB_MAX_THREADS, and at most N when
 * the environment sets TINYBRAIN_THREADS=N: with 1 no thread is created).  Safe to call
 * again to resize.  Returns the size. */
int  tb_threads_init(int n);
/* Number of threads the pool runs (1 if never initialised). */
int  tb_threads(void);
/* 1 if tb_parallel(ntasks, ...) called here would run its tasks at the same time, one
 * per thread (ntasks is the pool's size and this is not inside a task): only then may
 * the tasks wait for each other (a barrier between two phases of one job). */
int  tb_concurrent(int ntasks);
/* That barrier: wait until *count >= target (each task adds 1 when it arrives).  Spins
 * a while, then yields the core (the pool's rule: see threads.c, SPIN_S). */
void tb_wait_count(atomic_int *count, int target);
/* One pause of a spin-wait (x86 pause, aarch64 yield): lets the other hyper-thread run. */
static inline void tb_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}
/* Number of online cores. */
int  tb_cores(void);
/* Run fn(ctx, t, ntasks) for t = 0..ntasks-1 on the pool and wait for all of them.
 * Task t always runs on the same worker for a given (ntasks, pool size).  Nested
 * calls from inside a task run serially on the calling thread. */
void tb_parallel(int ntasks, void (*fn)(void *ctx, int task, int ntasks), void *ctx);
/* Profiling (bench gpt --breakdown): while on, tb_parallel counts the jobs it hands to
 * the pool and the seconds the caller waits for the workers: after its own share (load
 * imbalance plus the hand-over) and at barriers inside a job (tb_wait_count).
 * tb_threads_profile(1) also resets both. */
void tb_threads_profile(int on);
void tb_threads_profile_read(long *jobs, double *wait_s);
/* Stop the workers (at exit; optional). */
void tb_threads_shutdown(void);

#endif
