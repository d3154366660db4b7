/* threads.c -- a fixed pool of pthreads running static task partitions.
 * See include/threads.h.  Task t of a job goes to worker (t mod nthreads), worker 0
 * being the calling thread, so which thread computes what never depends on timing. */
#include "threads.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#define MAX_THREADS TB_MAX_THREADS

static struct {
    int n;                      /* threads including the caller */
    pthread_t tid[MAX_THREADS];
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    unsigned long generation;   /* bumped for each job */
    unsigned long birth;        /* generation when the current workers were created */
    int pending;                /* workers still running the current job */
    int stop;
    void (*fn)(void *, int, int);
    void *ctx;
    int ntasks;
} pool = {1, {0}, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
          PTHREAD_COND_INITIALIZER, 0, 0, 0, 0, NULL, NULL, 0};

static _Thread_local int in_task = 0;

static void run_share(int w) {
    in_task = 1;
    for (int t = w; t < pool.ntasks; t += pool.n) pool.fn(pool.ctx, t, pool.ntasks);
    in_task = 0;
}

static void *worker(void *arg) {
    int w = (int)(size_t)arg;
    /* Jobs before this worker existed are not its business: a worker created after a
     * resize must not mistake the last finished job for a new one. */
    unsigned long seen = pool.birth;
    pthread_mutex_lock(&pool.mu);
    for (;;) {
        while (!pool.stop && pool.generation == seen) pthread_cond_wait(&pool.go, &pool.mu);
        if (pool.stop) break;
        seen = pool.generation;
        pthread_mutex_unlock(&pool.mu);
        run_share(w);
        pthread_mutex_lock(&pool.mu);
        if (--pool.pending == 0) pthread_cond_signal(&pool.done);
    }
    pthread_mutex_unlock(&pool.mu);
    return NULL;
}

int tb_cores(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (int)n;
}

int tb_threads(void) { return pool.n; }

void tb_threads_shutdown(void) {
    if (pool.n <= 1) return;
    pthread_mutex_lock(&pool.mu);
    pool.stop = 1;
    pthread_cond_broadcast(&pool.go);
    pthread_mutex_unlock(&pool.mu);
    for (int i = 1; i < pool.n; i++) pthread_join(pool.tid[i], NULL);
    pool.n = 1;
    pool.stop = 0;
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
    pool.n = 1;
    pool.birth = pool.generation; /* set before pthread_create: visible to the workers */
    for (int i = 1; i < n; i++) {
        if (pthread_create(&pool.tid[i], NULL, worker, (void *)(size_t)i) != 0) break;
        pool.n = i + 1;
    }
    return pool.n;
}

void tb_parallel(int ntasks, void (*fn)(void *ctx, int task, int ntasks), void *ctx) {
    if (ntasks <= 0) return;
    if (pool.n <= 1 || ntasks == 1 || in_task) {
        for (int t = 0; t < ntasks; t++) fn(ctx, t, ntasks);
        return;
    }
    pthread_mutex_lock(&pool.mu);
    pool.fn = fn;
    pool.ctx = ctx;
    pool.ntasks = ntasks;
    pool.pending = pool.n - 1;
    pool.generation++;
    pthread_cond_broadcast(&pool.go);
    pthread_mutex_unlock(&pool.mu);
    run_share(0);
    pthread_mutex_lock(&pool.mu);
    while (pool.pending > 0) pthread_cond_wait(&pool.done, &pool.mu);
    pthread_mutex_unlock(&pool.mu);
}
