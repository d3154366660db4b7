/* test_threads.c -- the pool: every task runs exactly once, on the worker the static
 * partition names, nested calls run serially, resizing never replays an old job, and
 * TINYBRAIN_THREADS=1 creates no thread, and a job of one task per thread can hold a
 * barrier.  Under that variable (the emulated test run,
 * `make test-cross`) the tests that need real threads are skipped. */
#include "threads.h"

#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

typedef struct { int runs[1000]; pthread_t who[1000]; int ntasks_seen; } job;

static void count_task(void *ctx, int t, int nt) {
    job *j = ctx;
    __atomic_add_fetch(&j->runs[t], 1, __ATOMIC_SEQ_CST);
    j->who[t] = pthread_self();
    j->ntasks_seen = nt;
}

static void every_task_once(void **state) {
    (void)state;
    if (getenv("TINYBRAIN_THREADS")) skip();
    int sizes[4] = {1, 2, 3, 7};
    for (int s = 0; s < 4; s++) {
        assert_int_equal(tb_threads_init(sizes[s]), sizes[s]);
        assert_int_equal(tb_threads(), sizes[s]);
        for (int nt = 1; nt <= 1000; nt = nt * 3 + 1) {
            static job j;
            memset(&j, 0, sizeof j);
            tb_parallel(nt, count_task, &j);
            for (int t = 0; t < nt; t++) assert_int_equal(j.runs[t], 1);
            for (int t = nt; t < 1000; t++) assert_int_equal(j.runs[t], 0);
            assert_int_equal(j.ntasks_seen, nt);
            /* static assignment: tasks t and t + pool size share a worker; task 0 is the caller */
            assert_true(pthread_equal(j.who[0], pthread_self()));
            for (int t = 0; t + sizes[s] < nt; t++) assert_true(pthread_equal(j.who[t], j.who[t + sizes[s]]));
        }
    }
    tb_parallel(0, count_task, NULL); /* no tasks: nothing runs */
}

static job inner_jobs[4];
static void outer_task(void *ctx, int t, int nt) {
    (void)ctx; (void)nt;
    memset(&inner_jobs[t], 0, sizeof inner_jobs[t]);
    tb_parallel(5, count_task, &inner_jobs[t]); /* nested: serial on this thread */
}

static void nested_calls_run_serially(void **state) {
    (void)state;
    if (getenv("TINYBRAIN_THREADS")) skip();
    tb_threads_init(2);
    tb_parallel(4, outer_task, NULL);
    for (int t = 0; t < 4; t++)
        for (int k = 0; k < 5; k++) {
            assert_int_equal(inner_jobs[t].runs[k], 1);
            assert_true(pthread_equal(inner_jobs[t].who[k], inner_jobs[t].who[0]));
        }
}

/* Regression: a worker created by a resize used to replay the previous job. */
static void resize_does_not_replay(void **state) {
    (void)state;
    if (getenv("TINYBRAIN_THREADS")) skip();
    static job j;
    memset(&j, 0, sizeof j);
    const struct timespec pause = {0, 2000000}; /* 2 ms: time for a stray replay to happen */
    for (int round = 0; round < 20; round++) {
        tb_threads_init(2 + round % 3);
        nanosleep(&pause, NULL);
        tb_parallel(9, count_task, &j);
    }
    nanosleep(&pause, NULL);
    for (int t = 0; t < 9; t++) assert_int_equal(j.runs[t], 20); /* never more */
    tb_threads_shutdown();
    assert_int_equal(tb_threads(), 1);
    assert_true(tb_cores() >= 1);
}

/* TINYBRAIN_THREADS caps the pool: 1 runs every task on the caller, no thread made. */
static void env_cap(void **state) {
    (void)state;
    char *old = getenv("TINYBRAIN_THREADS") ? strdup(getenv("TINYBRAIN_THREADS")) : NULL;
    tb_threads_shutdown();
    setenv("TINYBRAIN_THREADS", "1", 1);
    assert_int_equal(tb_threads_init(7), 1);
    assert_int_equal(tb_threads_init(0), 1);
    static job j;
    memset(&j, 0, sizeof j);
    tb_parallel(40, count_task, &j);
    for (int t = 0; t < 40; t++) {
        assert_int_equal(j.runs[t], 1);
        assert_true(pthread_equal(j.who[t], pthread_self()));
    }
    setenv("TINYBRAIN_THREADS", "zero", 1);      /* not a count: no cap */
    assert_int_equal(tb_threads_init(1), 1);
    if (!old) {                                   /* real threads only outside the emulator */
        setenv("TINYBRAIN_THREADS", "3", 1);
        assert_int_equal(tb_threads_init(2), 2);  /* under the cap: as asked */
        assert_int_equal(tb_threads_init(7), 3);
    }
    if (old) { setenv("TINYBRAIN_THREADS", old, 1); free(old); }
    else unsetenv("TINYBRAIN_THREADS");
    tb_threads_shutdown();
}

/* tb_concurrent / tb_wait_count: a job of one task per thread may hold a barrier (the
 * packed sgemm does: pack, wait, multiply).  Every task must see every other's first
 * phase after the barrier, with as many threads as cores and with more (a pool of 7 on
 * a small machine: the waiting threads yield instead of spinning); inside a task, or
 * with another task count, tb_concurrent says no. */
typedef struct { atomic_int arrived; int phase1[16], seen[16], nested_ok; } barrier_job;
static void barrier_task(void *ctx, int t, int nt) {
    barrier_job *j = ctx;
    j->phase1[t] = t + 1;
    atomic_fetch_add(&j->arrived, 1);
    tb_wait_count(&j->arrived, nt);
    int sum = 0;
    for (int u = 0; u < nt; u++) sum += __atomic_load_n(&j->phase1[u], __ATOMIC_SEQ_CST);
    j->seen[t] = sum;
    if (!tb_concurrent(nt)) __atomic_add_fetch(&j->nested_ok, 1, __ATOMIC_SEQ_CST);
}

static void barrier_in_a_concurrent_job(void **state) {
    (void)state;
    if (getenv("TINYBRAIN_THREADS")) skip();
    int sizes[3] = {2, 3, 7};
    for (int s = 0; s < 3; s++) {
        int n = tb_threads_init(sizes[s]);
        assert_int_equal(n, sizes[s]);
        assert_true(tb_concurrent(n));
        assert_false(tb_concurrent(n + 1));
        assert_false(tb_concurrent(1));
        for (int rep = 0; rep < 50; rep++) {
            barrier_job j;
            memset(&j, 0, sizeof j);
            atomic_init(&j.arrived, 0);
            tb_parallel(n, barrier_task, &j);
            for (int t = 0; t < n; t++) assert_int_equal(j.seen[t], n * (n + 1) / 2);
            assert_int_equal(j.nested_ok, n);
        }
    }
    tb_threads_init(2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_task_once),
        cmocka_unit_test(nested_calls_run_serially),
        cmocka_unit_test(resize_does_not_replay),
        cmocka_unit_test(env_cap),
        cmocka_unit_test(barrier_in_a_concurrent_job),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
