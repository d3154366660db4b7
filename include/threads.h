/* threads.h -- a tiny fixed-size thread pool for data-parallel loops.
 *
 * One pool per process (like the kernel table, it is machine state, not model state):
 * the CLI sizes it once from --threads (default: all cores).  Work is split into
 * `ntasks` tasks with a *static* assignment, so with a fixed seed and thread count
 * every result is bit-identical from run to run.
 *
 *     static void body(void *ctx, int task, int ntasks) { ... rows task*n/ntasks ... }
 *     tb_parallel(tb_threads(), body, &ctx);
 */
#ifndef TB_THREADS_H
#define TB_THREADS_H

/* The most threads a pool runs (--threads above it is refused; all cores are capped). */
#define TB_MAX_THREADS 256

/* Size the pool (n <= 0: all online cores; at most TB_MAX_THREADS).  Safe to call again
 * to resize. */
int  tb_threads_init(int n);
/* Number of threads the pool runs (1 if never initialised). */
int  tb_threads(void);
/* Number of online cores. */
int  tb_cores(void);
/* Run fn(ctx, t, ntasks) for t = 0..ntasks-1 on the pool and wait for all of them.
 * Task t always runs on the same worker for a given (ntasks, pool size).  Nested
 * calls from inside a task run serially on the calling thread. */
void tb_parallel(int ntasks, void (*fn)(void *ctx, int task, int ntasks), void *ctx);
/* Stop the workers (at exit; optional). */
void tb_threads_shutdown(void);

#endif
