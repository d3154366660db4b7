/* test_run.c -- a training run of either kind (src/study/run.c, run_files.c): resume gives a
 * bit-identical continuation (parameters and checkpoint bytes) for the GPT and the spiking
 * network, a resumed run keeps the checkpoint's name and corpus, the loss log survives the
 * checkpoint (old 6/7-column logs too) and the TSV (wall times read back), a run has one
 * writer (a killed one does not keep the lock), stale temporary files of killed runs are
 * removed, and a NaN/inf stops the run with the right message and no snapshot. */
#include "io.h"
#include "run.h"

#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

static char base[256], world[300], text[300];

static int setup(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    snprintf(base, sizeof base, "/tmp/tb_test_run_%d", (int)getpid());
    snprintf(world, sizeof world, "%s/world", base);
    snprintf(text, sizeof text, "%s/text.txt", base);
    tb_toyworld_opts o;
    toyworld_default_opts(&o);
    o.n_train_sentences = 400;
    o.n_val_sentences = 60;
    o.n_probe_sentences = 20;
    o.n_minimal_pairs = 20;
    if (make_dirs(base, err) || toyworld_write(world, 3, &o, err)) return -1;
    FILE *f = fopen(text, "w");
    if (!f) return -1;
    for (int i = 0; i < 150; i++) fprintf(f, "the cat sat on the mat %d. a dog ran.\n", i % 7);
    fclose(f);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    char cmd[400];
    if (chdir("/tmp") == 0) {
        snprintf(cmd, sizeof cmd, "rm -rf %s", base);
        if (system(cmd) != 0) return -1;
    }
    return 0;
}

/* A fresh working folder base/NAME (runs/ and plots/ are made there). */
static void enter(const char *name) {
    char d[800], err[TB_ERRLEN];
    snprintf(d, sizeof d, "%s/%s", base, name);
    assert_int_equal(make_dirs(d, err), 0);
    assert_int_equal(chdir(d), 0);
}

/* Small and fast: the GPT on the text file (char tokens), the spiking net on toyworld. */
static void small_opts(run_opts *o, run_kind kind, const char *name) {
    run_default_opts(o, kind);
    o->name = name;
    o->data_dir = world;
    o->steps = 12;
    o->eval_every = 6;
    o->val_tokens = 300;
    if (kind == RUN_GPT) {
        o->corpus = text;
        o->tokens = "char";
        o->batch = 4;
        o->gpt.ctx = 8;
        o->gpt.n_layer = 1;
        o->gpt.n_head = 2;
        o->gpt.d_model = 16;
    } else {
        o->batch = 3;
        o->ctx = 6;
        o->srnn.n_neurons = 24;
        o->srnn.steps_per_token = 2;
    }
}

/* Advance to the end, or stop (as Ctrl-C does) at step stop_at. */
static int drive(tb_run *r, long long stop_at, char *err) {
    int st;
    while ((st = run_advance(r, r->step == stop_at, err)) == RUN_STEPPED) {}
    return st;
}

static void same_file(const char *a, const char *b) {
    char *x, *y, err[TB_ERRLEN];
    size_t nx, ny;
    assert_int_equal(read_file(a, &x, &nx, err), 0);
    assert_int_equal(read_file(b, &y, &ny, err), 0);
    if (nx != ny || memcmp(x, y, nx)) fail_msg("%s and %s differ (%zu and %zu bytes)", a, b, nx, ny);
    free(x);
    free(y);
}

/* ---- resume: N steps straight = N/2, stop, save, load, N/2 more ---------------------- */

static void continuation(run_kind kind, int scramble) {
    char err[TB_ERRLEN], ca[400], cb[400];
    const char *tag = kind == RUN_GPT ? "g" : scramble ? "scr" : "s";
    run_opts o;
    small_opts(&o, kind, "x");
    o.save_at = "0,final";
    o.scramble = scramble;
    tb_run a, b;
    snprintf(ca, sizeof ca, "straight_%s", tag);
    enter(ca);
    assert_int_equal(run_open(&a, &o, err), 0);
    assert_int_equal(drive(&a, -1, err), RUN_DONE);
    assert_int_equal(a.step, 12);

    snprintf(cb, sizeof cb, "split_%s", tag);
    enter(cb);
    assert_int_equal(run_open(&b, &o, err), 0);
    assert_int_equal(drive(&b, 6, err), RUN_STOPPED);
    run_free(&b);
    /* resumed without a name or corpus: both come from the checkpoint (issue 16 #1) */
    o.resume = "runs/x.ckpt";
    o.name = o.corpus = NULL;
    o.tokens = "word";
    assert_int_equal(run_open(&b, &o, err), 0);
    assert_string_equal(b.name, "x");
    assert_string_equal(b.corpus_name, kind == RUN_GPT ? text : "toyworld");
    assert_string_equal(b.tokens, kind == RUN_GPT ? "char" : "word");
    assert_true(b.resumed && b.step == 6 && b.steps == 12 && b.good_step == 6);
    /* a scrambled run resumes on the same shuffled text (the seed is in the checkpoint) */
    assert_int_equal(b.scramble, scramble);
    if (scramble) assert_memory_equal(a.corp.train, b.corp.train, (size_t)a.corp.n_train * sizeof(int));
    assert_int_equal(drive(&b, -1, err), RUN_DONE);

    size_t n;
    const float *pa = run_params(&a, &n), *pb = run_params(&b, &n);
    assert_memory_equal(pa, pb, n * sizeof(float));
    assert_memory_equal(a.opt.m, b.opt.m, n * sizeof(float));
    /* the whole log but the wall times */
    assert_int_equal(a.log.n, b.log.n);
    for (int i = 0; i < a.log.n; i++)
        for (int k = 0; k < RUN_WALL; k++) {
            float x = (float)RUN_LOG(&a.log, i, k), y = (float)RUN_LOG(&b.log, i, k);
            if (!(x == y || (isnan(x) && isnan(y)))) fail_msg("log row %d column %s: %g vs %g", i, run_col_names[k], x, y);
        }
    char p1[1000], p2[1000];
    snprintf(p1, sizeof p1, "%s/%s/runs/x.ckpt", base, ca);
    snprintf(p2, sizeof p2, "%s/%s/runs/x.ckpt", base, cb);
    same_file(p1, p2);
    snprintf(p1, sizeof p1, "%s/%s/runs/x/step_000012.ckpt", base, ca);
    snprintf(p2, sizeof p2, "%s/%s/runs/x/step_000012.ckpt", base, cb);
    same_file(p1, p2);
    /* the saved keys name the run and its corpus (not freed memory) */
    tb_ckpt c;
    assert_int_equal(ckpt_load(&c, "runs/x.ckpt", NULL, err), 0);
    assert_string_equal(ckpt_get(&c, "name"), "x");
    assert_string_equal(ckpt_get(&c, "corpus"), kind == RUN_GPT ? text : "toyworld");
    ckpt_free(&c);
    run_free(&a);
    run_free(&b);
}

static void resume_gpt_bit_identical(void **state) { (void)state; continuation(RUN_GPT, 0); }
static void resume_srnn_bit_identical(void **state) { (void)state; continuation(RUN_SRNN, 0); }
static void resume_scrambled_bit_identical(void **state) { (void)state; continuation(RUN_SRNN, 1); }

/* A resume with --name and --corpus given uses those; the earlier wall times come back
 * from the TSV of the run the checkpoint came from, and the clock continues from them. */
static void resume_renamed_reads_wall_times(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    enter("renamed");
    run_opts o;
    small_opts(&o, RUN_SRNN, "first");
    o.save_at = "6";
    tb_run r;
    assert_int_equal(run_open(&r, &o, err), 0);
    assert_int_equal(drive(&r, -1, err), RUN_DONE);
    double wall6 = NAN;
    for (int i = 0; i < r.log.n; i++)
        if (RUN_LOG(&r.log, i, RUN_STEP) == 6) wall6 = RUN_LOG(&r.log, i, RUN_WALL);
    run_free(&r);
    o.resume = "runs/first/step_000006.ckpt";
    o.name = "second";
    assert_int_equal(run_open(&r, &o, err), 0);
    assert_string_equal(r.name, "second");
    assert_string_equal(r.path_ckpt, "runs/second.ckpt");
    assert_true(r.log.n == 6);   /* steps 1..6 (the snapshot precedes step 6's validation) */
    for (int i = 0; i < r.log.n; i++) assert_false(isnan(RUN_LOG(&r.log, i, RUN_WALL)));
    assert_true(fabs(RUN_LOG(&r.log, 5, RUN_WALL) - wall6) < 1e-3);   /* printed with 3 decimals */
    assert_int_equal(drive(&r, -1, err), RUN_DONE);
    for (int i = 1; i < r.log.n; i++) assert_true(RUN_LOG(&r.log, i, RUN_WALL) >= RUN_LOG(&r.log, i - 1, RUN_WALL));
    run_free(&r);
}

/* ---- the log: checkpoint and TSV ----------------------------------------------------- */

/* A copy of checkpoint `in` whose train_log has one more column (as before wall times
 * left checkpoints). */
static void widen_log(const char *in, const char *out) {
    char err[TB_ERRLEN];
    tb_ckpt c, d;
    assert_int_equal(ckpt_load(&c, in, NULL, err), 0);
    ckpt_init(&d, c.kind);
    for (int i = 0; i < c.n_config; i++) assert_int_equal(ckpt_set(&d, c.keys[i], c.values[i]), 0);
    for (int i = 0; i < c.n_tensors; i++) {
        const tb_tensor *t = &c.tensors[i];
        if (strcmp(t->name, "train_log")) {
            assert_int_equal(ckpt_add_tensor(&d, t->name, t->data, t->ndim, t->shape), 0);
            continue;
        }
        int64_t w = t->shape[1], shape[2] = {t->shape[0], w + 1};
        float *x = malloc((size_t)shape[0] * shape[1] * sizeof(float));
        for (int64_t r = 0; r < shape[0]; r++) {
            memcpy(x + r * (w + 1), t->data + r * w, (size_t)w * sizeof(float));
            x[r * (w + 1) + w] = 12.5f;   /* an old wall time: ignored */
        }
        assert_int_equal(ckpt_add_tensor(&d, "train_log", x, 2, shape), 0);
        free(x);
    }
    assert_int_equal(ckpt_save(&d, out, err), 0);
    ckpt_free(&c);
    ckpt_free(&d);
}

static void old_logs_and_tsv_round_trip(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    for (int kind = 0; kind < 2; kind++) {
        enter(kind ? "oldlog_s" : "oldlog_g");
        run_opts o;
        small_opts(&o, (run_kind)kind, "old");
        o.steps = 6;
        tb_run r, q;
        assert_int_equal(run_open(&r, &o, err), 0);
        assert_int_equal(drive(&r, -1, err), RUN_DONE);
        run_free(&r);
        widen_log("runs/old.ckpt", "wide.ckpt");
        tb_ckpt c;
        assert_int_equal(ckpt_load(&c, "runs/old.ckpt", NULL, err), 0);
        const tb_tensor *t = ckpt_find(&c, "train_log");
        assert_non_null(t);
        assert_int_equal(t->shape[1], kind ? 6 : 5);   /* no wall time in the checkpoint */
        o.resume = "wide.ckpt";
        o.force = 1;   /* replaces runs/old.ckpt, the run wide.ckpt was copied from */
        assert_int_equal(run_open(&q, &o, err), 0);
        assert_int_equal(q.log.n, (int)t->shape[0]);
        for (int i = 0; i < q.log.n; i++) {
            for (int k = 0; k < (int)t->shape[1]; k++) {
                float v = t->data[i * t->shape[1] + k];
                assert_true(v < 0 ? isnan(RUN_LOG(&q.log, i, k)) : RUN_LOG(&q.log, i, k) == v);
            }
            assert_true(RUN_LOG(&q.log, i, RUN_WALL) != 12.5);   /* from runs/old.tsv instead */
            assert_false(isnan(RUN_LOG(&q.log, i, RUN_WALL)));
        }
        ckpt_free(&c);
        /* the TSV: the kind's columns, empty cells for "none" */
        char *tsv;
        assert_int_equal(read_file("runs/old.tsv", &tsv, NULL, err), 0);
        assert_non_null(strstr(tsv, kind ? "step\tlr\ttrain_loss\tval_loss\tgrad_norm\trate_hz\twall_s\n"
                                         : "step\tlr\ttrain_loss\tval_loss\tgrad_norm\twall_s\n"));
        assert_non_null(strstr(tsv, "\n1\t"));
        free(tsv);
        run_free(&q);
    }
}

/* ---- one writer per run; what killed runs leave ------------------------------------- */

static void lock_refuses_second_writer(void **state) {
    (void)state;
    char err[TB_ERRLEN], want[64];
    enter("lock");
    run_opts o;
    small_opts(&o, RUN_GPT, "lk");
    tb_run a, b;
    assert_int_equal(run_open(&a, &o, err), 0);
    assert_int_equal(run_open(&b, &o, err), -1);
    snprintf(want, sizeof want, "in use by process %d", (int)getpid());
    assert_non_null(strstr(err, "run 'lk'"));
    assert_non_null(strstr(err, want));
    o.name = "other";   /* another name is free */
    assert_int_equal(run_open(&b, &o, err), 0);
    run_free(&b);
    run_free(&a);
    /* a run killed while it holds the lock does not keep it */
    o.name = "lk";
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        tb_run c;
        if (run_open(&c, &o, err) == 0) raise(SIGKILL);
        _exit(3);
    }
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    assert_int_equal(run_open(&a, &o, err), 0);
    run_free(&a);
}

static pid_t dead_pid(void) {
    pid_t p = fork();
    if (p == 0) _exit(0);
    waitpid(p, NULL, 0);
    return p;
}

static void touch(const char *fmt, long pid) {
    char path[300];
    snprintf(path, sizeof path, fmt, pid);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("half a file", f);
    fclose(f);
}

static int exists(const char *fmt, long pid) {
    char path[300];
    struct stat st;
    snprintf(path, sizeof path, fmt, pid);
    return stat(path, &st) == 0;
}

static void stale_temporaries_removed(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    enter("stale");
    assert_int_equal(make_dirs("runs/st", err) || make_dirs("plots", err), 0);
    long dead = dead_pid(), live = getpid();
    touch("runs/st.ckpt.tmp.%ld", dead);
    touch("runs/st.tsv.tmp.%ld", dead);
    touch("runs/st/step_000004.ckpt.tmp.%ld", dead);
    touch("plots/st_loss.dat.tmp.%ld", dead);
    touch("runs/st.ckpt.tmp.%ld", live);             /* a live writer's: kept */
    touch("runs/other.ckpt.tmp.%ld", dead);          /* another run's: not ours to clean */
    touch("runs/st.notes.%ld", dead);                /* not a temporary file */
    run_opts o;
    small_opts(&o, RUN_GPT, "st");
    tb_run r;
    assert_int_equal(run_open(&r, &o, err), 0);
    assert_int_equal(r.n_stale, 4);
    assert_false(exists("runs/st.ckpt.tmp.%ld", dead) || exists("runs/st.tsv.tmp.%ld", dead) ||
                 exists("runs/st/step_000004.ckpt.tmp.%ld", dead) || exists("plots/st_loss.dat.tmp.%ld", dead));
    assert_true(exists("runs/st.ckpt.tmp.%ld", live) && exists("runs/other.ckpt.tmp.%ld", dead) &&
                exists("runs/st.notes.%ld", dead));
    run_free(&r);
}

/* ---- NaN and inf: the stop, its message, no snapshot of diverged weights ---------------- */

static void nan_stop(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    enter("nan");
    run_opts o;
    small_opts(&o, RUN_GPT, "n");
    o.eval_every = 100;
    tb_run r;
    /* NaN before anything was saved */
    assert_int_equal(run_open(&r, &o, err), 0);
    assert_int_equal(run_advance(&r, 0, err), RUN_STEPPED);
    r.gpt.params_mem[3] = NAN;
    assert_int_equal(run_advance(&r, 0, err), RUN_FAILED);
    assert_string_equal(err, "the train loss became NaN at step 2: stopped before any checkpoint was saved (try a lower --lr)");
    run_free(&r);
    /* infinite weights after a validated checkpoint: the snapshot due is refused */
    o.eval_every = 2;
    o.save_at = "3";
    assert_int_equal(run_open(&r, &o, err), 0);
    for (int i = 0; i < 3; i++) assert_int_equal(run_advance(&r, 0, err), RUN_STEPPED);
    assert_int_equal(r.step, 3);
    r.gpt.params_mem[5] = INFINITY;
    assert_int_equal(run_advance(&r, 0, err), RUN_FAILED);
    assert_string_equal(err, "a weight became infinite at step 3: stopped; the last good checkpoint is runs/n.ckpt (step 2)");
    struct stat st;
    assert_int_equal(stat("runs/n/step_000003.ckpt", &st), -1);
    assert_int_equal(run_save(&r, "direct.ckpt", err), -1);   /* nor by hand */
    assert_non_null(strstr(err, "infinite"));
    run_free(&r);
    /* a NaN loss later on names the snapshot or checkpoint that is left */
    o.save_at = "1";
    o.eval_every = 100;
    o.force = 1;
    assert_int_equal(run_open(&r, &o, err), 0);
    for (int i = 0; i < 2; i++) assert_int_equal(run_advance(&r, 0, err), RUN_STEPPED);
    r.gpt.params_mem[0] = NAN;
    assert_int_equal(run_advance(&r, 0, err), RUN_FAILED);
    assert_non_null(strstr(err, "the train loss became NaN at step 3: stopped; the last good checkpoint is runs/n/step_000001.ckpt (step 1)"));
    run_free(&r);
}

/* ---- options and batches --------------------------------------------------------------- */

static void options_checked(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    run_opts o;
    run_default_opts(&o, RUN_GPT);
    assert_int_equal(run_check_opts(&o, err), 0);
    assert_true(o.gpt.d_model == GPT_DEF_D_MODEL && o.adamw.lr == ADAMW_DEF_LR && o.steps == RUN_GPT_STEPS);
    const char *bad[] = {"0,x", "5,", ",5", "-1", "+3", "finale", "3 ", "99999999999999999999"};
    for (int i = 0; i < 8; i++) {
        o.save_at = bad[i];
        assert_int_equal(run_check_opts(&o, err), -1);
        assert_non_null(strstr(err, "--save-at"));
    }
    o.save_at = "final,0,50,0";
    o.gpt.n_head = 3;
    assert_int_equal(run_check_opts(&o, err), -1);
    assert_string_equal(err, "n_head 3 does not divide d_model 64");
    o.gpt.n_head = 4;
    o.name = "a/b";
    assert_int_equal(run_check_opts(&o, err), -1);
    assert_non_null(strstr(err, "plain name"));
    run_default_opts(&o, RUN_SRNN);
    assert_true(o.srnn.noise_hz == 20 && o.steps == RUN_SRNN_STEPS && o.adamw.weight_decay == 0);
    o.rate.rate_lo_hz = 60;
    assert_int_equal(run_check_opts(&o, err), -1);
    assert_string_equal(err, "--rate-lo 60 Hz is above --rate-hi 50 Hz");
    o.rate.rate_lo_hz = 1;
    o.srnn.neuron = SRNN_IZH;
    assert_int_equal(run_check_opts(&o, err), -1);
    assert_non_null(strstr(err, "LIF only"));
    o.srnn.mode = SRNN_RESERVOIR;
    assert_int_equal(run_check_opts(&o, err), 0);
}

/* Windows of T+1 tokens at offsets drawn from the generator; with an eos each moves to
 * the next eos (the "." that is a sentence's left context). */
static void batches(void **state) {
    (void)state;
    enum { N = 40, B = 3, T = 4 };
    int ids[N], x[B * T], y[B * T];
    for (int i = 0; i < N; i++) ids[i] = i % 5 == 0 ? 0 : i;   /* eos = 0 every 5 tokens */
    for (int eos = -1; eos <= 0; eos++) {
        tb_rng r, ref;
        rng_seed(&r, 7);
        rng_seed(&ref, 7);
        run_draw_batch(ids, N, eos, &r, x, y, B, T);
        for (int b = 0; b < B; b++) {
            long s = (long)(rng_u64(&ref) % (N - T - 1));
            long q = s;
            while (eos == 0 && q < N - T - 1 && ids[q] != 0) q++;
            if (q < N - T - 1) s = q;
            for (int t = 0; t < T; t++) {
                assert_int_equal(x[b * T + t], ids[s + t]);
                assert_int_equal(y[b * T + t], ids[s + t + 1]);
            }
        }
    }
}

/* ---- a saved run is never replaced silently; --runs-dir ---------------------------- */

static void saved_run_kept(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    enter("keep");
    run_opts o;
    small_opts(&o, RUN_SRNN, "k");
    o.steps = 2;
    tb_run r;
    assert_int_equal(run_open(&r, &o, err), 0);
    assert_int_equal(drive(&r, -1, err), RUN_DONE);
    run_free(&r);
    struct stat st0, st1;
    assert_int_equal(stat("runs/k.ckpt", &st0), 0);
    /* a new run of the same name is refused and the saved one stays as it was */
    assert_int_equal(run_open(&r, &o, err), -1);
    assert_string_equal(err, "runs/k.ckpt already holds a run: --resume runs/k.ckpt continues it, --force replaces it, "
                             "or choose another --name or --runs-dir");
    assert_int_equal(stat("runs/k.ckpt", &st1), 0);
    assert_true(st1.st_mtime == st0.st_mtime && st1.st_size == st0.st_size);
    /* resuming the checkpoint itself continues it */
    o.resume = "./runs/k.ckpt";
    o.name = NULL;
    assert_int_equal(run_open(&r, &o, err), 0);
    run_free(&r);
    /* --force starts over */
    o.resume = "";
    o.name = "k";
    o.force = 1;
    assert_int_equal(run_open(&r, &o, err), 0);
    run_free(&r);
    /* another folder for the run's files */
    o.force = 0;
    o.runs_dir = "elsewhere/runs";
    assert_int_equal(run_open(&r, &o, err), 0);
    assert_string_equal(r.path_ckpt, "elsewhere/runs/k.ckpt");
    assert_int_equal(drive(&r, -1, err), RUN_DONE);
    run_free(&r);
    assert_int_equal(stat("elsewhere/runs/k.ckpt", &st1), 0);
    assert_int_equal(stat("elsewhere/runs/k.tsv", &st1), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(resume_gpt_bit_identical),
        cmocka_unit_test(resume_srnn_bit_identical),
        cmocka_unit_test(resume_scrambled_bit_identical),
        cmocka_unit_test(resume_renamed_reads_wall_times),
        cmocka_unit_test(old_logs_and_tsv_round_trip),
        cmocka_unit_test(lock_refuses_second_writer),
        cmocka_unit_test(stale_temporaries_removed),
        cmocka_unit_test(nan_stop),
        cmocka_unit_test(saved_run_kept),
        cmocka_unit_test(options_checked),
        cmocka_unit_test(batches),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
