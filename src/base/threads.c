/* threads.c -- a fixed pool of pthreads running static task partitions.
 * See include/threads.h.  Task t of a job goes to worker (t mod nthreads), worker 0
 * being the calling thread, so which thread computes what never depends on timing.
 *
 * Handing over a job: the caller publishes it by bumping `generation`; the workers
 * wait for a new generation by spinning for a short while (a GPT step runs ~90 jobs
 * back to back, and a sleeping worker costs 20-30 us to wake) and only then sleep on
 * a condition variable.  The caller likewise spins before sleeping while it waits for
 * the last worker.  The handshake is the classic one on sequentially consistent
 * atomics: a worker announces itself in `sleepers` before its last look at
 * `generation`, and the caller looks at `sleepers` after bumping it, so one of the two
 * always sees the other (the same for `pending` and `caller_sleeps`). */
#include "threads.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS TB_MAX_THREADS
/* How long a waiting thread spins (a pause instruction at a time) before it sleeps.
 * The gaps between a training step's jobs (a norm's reduction, the residual adds, the
 * loss) are tens to hundreds of microseconds, and waking a sleeping thread costs 20-100
 * us (more under a hypervisor): spinning 1500 pauses (~36 us here), the worker slept
 * through many gaps and a small-preset step was 1-4% slower than with SPIN_S (500 us
 * measured the same as 200).  Time, not a count: a pause lasts 3 ns on some CPUs and
 * 40 ns on others.  A few hundred microseconds at most: a spinning worker holds a core
 * the caller's own serial work cannot use when there are more threads than cores (then
 * nothing spins: tb_threads_init). */
#define SPIN_S 200e-6

static struct {
    int n;                      /* threads including the caller */
    double spin_s;              /* SPIN_S, or 0 when there are more threads than cores */
    pthread_t tid[MAX_THREADS];
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    atomic_ulong generation;    /* bumped for each job */
    unsigned long birth;        /* generation when the current workers were created */
    atomic_int pending;         /* workers still running the current job */
    atomic_int sleepers;        /* workers asleep (or about to be) on `go` */
    atomic_int caller_sleeps;   /* the caller asleep (or about to be) on `done` */
    atomic_int stop;
    void (*fn)(void *, int, int);
    void *ctx;
    int ntasks;
} pool = {.n = 1, .mu = PTHREAD_MUTEX_INITIALIZER, .go = PTHREAD_COND_INITIALIZER,
          .done = PTHREAD_COND_INITIALIZER};

static _Thread_local int in_task = 0;
static _Thread_local int is_worker = 0;   /* a pool thread, not the caller */

/* tb_threads_profile: counted by the caller's thread only */
static struct { int on; long jobs; double wait_s; } prof;

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void tb_threads_profile(int on) {
    prof.on = on;
    if (on) { prof.jobs = 0; prof.wait_s = 0; }
}

void tb_threads_profile_read(long *jobs, double *wait_s) {
    *jobs = prof.jobs;
    *wait_s = prof.wait_s;
}

/* Spin deadline bookkeeping: the clock is read once every 64 pauses. */
typedef struct { int spins; double until; } spin_t;
static int keep_spinning(spin_t *sp) {
    if (sp->spins++ % 64) { tb_pause(); return 1; }
    double t = now_s();
    if (sp->spins == 1) sp->until = t + pool.spin_s;
    if (t >= sp->until) return 0;
    tb_pause();
    return 1;
}

static void run_share(int w) {
    in_task = 1;
    for (int t = w; t < pool.ntasks; t += pool.n) pool.fn(pool.ctx, t, pool.ntasks);
    in_task = 0;
}

/* Wait until generation != seen or stop; returns the new generation. */
static unsigned long wait_for_job(unsigned long seen) {
    unsigned long g;
    spin_t sp = {0, 0};
    while ((g = atomic_load(&pool.generation)) == seen && !atomic_load(&pool.stop)) {
        if (keep_spinning(&sp)) continue;
        pthread_mutex_lock(&pool.mu);
        atomic_fetch_add(&pool.sleepers, 1);
        while (atomic_load(&pool.generation) == seen && !atomic_load(&pool.stop))
            pthread_cond_wait(&pool.go, &pool.mu);
        atomic_fetch_sub(&pool.sleepers, 1);
        pthread_mutex_unlock(&pool.mu);
    }
    return g;
}

static void *worker(void *arg) {
    int w = (int)(size_t)arg;
    is_worker = 1;
    /* Jobs before this worker existed are not its business: a worker created after a
     * resize must not mistake the last finished job for a new one. */
    unsigned long seen = pool.birth;
    for (;;) {
        seen = wait_for_job(seen);
        if (atomic_load(&pool.stop)) break;
        run_share(w);
        if (atomic_fetch_sub(&pool.pending, 1) == 1 && atomic_load(&pool.caller_sleeps)) {
            pthread_mutex_lock(&pool.mu);
            pthread_cond_signal(&pool.done);
            pthread_mutex_unlock(&pool.mu);
        }
    }
    return NULL;
}

int tb_cores(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (int)n;
}

int tb_threads(void) { return pool.n; }

int tb_concurrent(int ntasks) { return ntasks == pool.n && pool.n > 1 && !in_task; }

void tb_wait_count(atomic_int *count, int target) {
    spin_t sp = {0, 0};
    double t0 = prof.on && !is_worker ? now_s() : 0;
    while (atomic_load(count) < target)
        if (!keep_spinning(&sp)) sched_yield();
    if (prof.on && !is_worker) prof.wait_s += now_s() - t0;   /* the caller's wait at a barrier */
}

void tb_threads_shutdown(void) {
    if (pool.n <= 1) return;
    pthread_mutex_lock(&pool.mu);
    atomic_store(&pool.stop, 1);
    pthread_cond_broadcast(&pool.go);
    pthread_mutex_unlock(&pool.mu);
    for (int i = 1; i < pool.n; i++) pthread_join(pool.tid[i], NULL);
    pool.n = 1;
    atomic_store(&pool.stop, 0);
}

/* TINYBRAIN_THREADS=N caps every pool at N threads, whatever --threads asks; with
 * N = 1 no thread is ever created (for emulators such as qemu-user, where creating one
 * can hang, and for CI runs that must not compete for cores).  0 when unset. */
static int env_cap(void) {
    const char *s = getenv("TINYBRAIN_THREADS");
    char *end;
    long v = s && *s ? strtol(s, &end, 10) : 0;
    return s && *s && !*end && v > 0 && v <= MAX_THREADS ? (int)v : 0;
}

int tb_threads_init(int n) {
    int cap = env_cap();
    if (n <= 0) n = tb_cores();
    if (n > MAX_THREADS) n = MAX_THREADS;
    if (cap && n > cap) n = cap;
    if (n == pool.n) return n;
    tb_threads_shutdown();
    /* more threads than cores: a spinning thread would hold a core a working one needs */
    pool.spin_s = n <= tb_cores() ? SPIN_S : 0.0;
    pool.n = 1;
    pool.birth = atomic_load(&pool.generation); /* set before pthread_create: visible to the workers */
    for (int i = 1; i < n; i++) {
        if (pthread_create(&pool.tid[i], NULL, worker, (void *)(size_t)i) != 0) break;
        pool.n = i + 1;
    }
    return pool.n;
}

/* The caller's wait for the last worker: spin, then sleep. */
static void wait_for_workers(void) {
    spin_t sp = {0, 0};
    while (atomic_load(&pool.pending) > 0) {
        if (keep_spinning(&sp)) continue;
        pthread_mutex_lock(&pool.mu);
        atomic_store(&pool.caller_sleeps, 1);
        while (atomic_load(&pool.pending) > 0) pthread_cond_wait(&pool.done, &pool.mu);
        atomic_store(&pool.caller_sleeps, 0);
        pthread_mutex_unlock(&pool.mu);
    }
}

void tb_parallel(int ntasks, void (*fn)(void *ctx, int task, int ntasks), void *ctx) {
    if (ntasks <= 0) return;
    if (pool.n <= 1 || ntasks == 1 || in_task) {
        for (int t = 0; t < ntasks; t++) fn(ctx, t, ntasks);
        return;
    }
    pool.fn = fn;
    pool.ctx = ctx;
    pool.ntasks = ntasks;
    atomic_store(&pool.pending, pool.n - 1);
    atomic_fetch_add(&pool.generation, 1);    /* publishes fn, ctx, ntasks */
    if (atomic_load(&pool.sleepers) > 0) {
        pthread_mutex_lock(&pool.mu);
        pthread_cond_broadcast(&pool.go);
        pthread_mutex_unlock(&pool.mu);
    }
    run_share(0);
    if (!prof.on) { wait_for_workers(); return; }
    double t0 = now_s();
    wait_for_workers();
    prof.wait_s += now_s() - t0;
    prof.jobs++;
}
