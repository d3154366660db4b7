/* test_continual.c -- learning one language after another (src/study/continual.c and the
 * continual run of run.c): the EWC penalty's gradient against finite differences and its
 * value by hand, the Fisher sum, and a run that trains on toyworld then toyworld-b --
 * the corpora swap at the right step, replayed rows come from the first language, the
 * forgetting log and EWC's anchor are kept, and stopping anywhere (even at the switch)
 * and resuming continues bit for bit, for the GPT and the spiking network. */
#include "continual.h"
#include "io.h"
#include "run.h"
#include "toyworld.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static char base[256], world[300];

static int setup(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    snprintf(base, sizeof base, "/tmp/tb_test_continual_%d", (int)getpid());
    snprintf(world, sizeof world, "%s/world", base);
    tb_toyworld_opts o;
    toyworld_default_opts(&o);
    o.n_train_sentences = 400;
    o.n_val_sentences = 40;
    o.n_probe_sentences = 20;
    o.n_minimal_pairs = 20;
    return make_dirs(base, err) || toyworld_write(world, 3, &o, err) ? -1 : 0;
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

/* ---- EWC ------------------------------------------------------------------------------ */

static void ewc_by_hand_and_gradient(void **state) {
    (void)state;
    float th[3] = {1.0f, -2.0f, 0.5f}, an[3] = {0.0f, -1.0f, 0.5f}, F[3] = {2.0f, 0.5f, 9.0f}, g[3] = {1, 1, 1};
    /* lambda / 2 (2 x 1 + 0.5 x 1 + 0) = 1.25 lambda */
    assert_true(fabs(ewc_penalty(th, an, F, 3, 4.0, g) - 5.0) < 1e-12);
    assert_true(g[0] == 1 + 8.0f && g[1] == 1 - 2.0f && g[2] == 1.0f);   /* += lambda F (theta - anchor) */
    /* random point, centred differences */
    tb_rng r;
    rng_seed(&r, 3);
    float t[20], a[20], f[20], an2[20] = {0};
    for (int i = 0; i < 20; i++) {
        t[i] = (float)rng_normal(&r);
        a[i] = (float)rng_normal(&r);
        f[i] = (float)rng_uniform(&r);
    }
    ewc_penalty(t, a, f, 20, 3.0, an2);
    for (int i = 0; i < 20; i++) {
        float t0 = t[i];
        t[i] = t0 + 1e-2f;
        double p = ewc_penalty(t, a, f, 20, 3.0, NULL);
        t[i] = t0 - 1e-2f;
        double m = ewc_penalty(t, a, f, 20, 3.0, NULL);
        t[i] = t0;
        double fd = (p - m) / (2e-2);
        if (fabs(fd - an2[i]) > 1e-4 + 1e-4 * fabs(fd)) fail_msg("weight %d: analytic %.7g, finite difference %.7g", i, an2[i], fd);
    }
    float fish[2] = {1, 0}, gr[2] = {3, -2};
    ewc_fisher_add(fish, gr, 2, 0.5);
    assert_true(fish[0] == 5.5f && fish[1] == 2.0f);
}

/* ---- a continual run ------------------------------------------------------------------ */

static void enter(const char *name) {
    char d[800], err[TB_ERRLEN];
    snprintf(d, sizeof d, "%s/%s", base, name);
    assert_int_equal(make_dirs(d, err), 0);
    assert_int_equal(chdir(d), 0);
}

static void small_opts(run_opts *o, run_kind kind) {
    run_default_opts(o, kind);
    o->name = "c";
    o->data_dir = world;
    o->steps = 6;
    o->then_corpus = TOYWORLD_B_NAME;
    o->then_steps = 6;
    o->eval_every = 4;
    o->val_tokens = 200;
    o->replay = 0.5;
    o->ewc = 10;
    o->save_at = "final";
    if (kind == RUN_GPT) {
        o->batch = 4;
        o->gpt.ctx = 8;
        o->gpt.n_layer = 1;
        o->gpt.n_head = 2;
        o->gpt.d_model = 16;
    } else {
        o->batch = 4;
        o->ctx = 6;
        o->srnn.n_neurons = 24;
        o->srnn.steps_per_token = 2;
    }
}

static int drive(tb_run *r, long long stop_at, char *err) {
    int st;
    while ((st = run_advance(r, r->step == stop_at, err)) == RUN_STEPPED) {}
    return st;
}

/* Rows [r0, r1) of the last batch hold none of the listed words. */
static void rows_without(const tb_run *r, int r0, int r1, const char *const *words, int n) {
    for (int i = r0 * r->ctx; i < r1 * r->ctx; i++)
        for (int k = 0; k < n; k++)
            if (r->x[i] == tok_id(&r->corp.tok, words[k])) fail_msg("row %d holds '%s'", i / r->ctx, words[k]);
}

static void check_straight(const tb_run *a) {
    assert_int_equal(a->step, 12);
    assert_int_equal(a->phase, 1);
    assert_string_equal(a->corp.name, TOYWORLD_B_NAME);
    assert_string_equal(a->corp_other.name, "toyworld");
    assert_non_null(a->ewc_anchor);
    /* points at 4, 6 (where B began), 8, 12; A's pairs at every one */
    assert_int_equal(a->forget.n, 4);
    assert_true(a->forget.p[1].step == 6 && a->forget.p[3].step == 12);
    for (int i = 0; i < 4; i++) assert_true(isfinite(a->forget.p[i].val_a) && isfinite(a->forget.p[i].val_b) && !isnan(a->forget.p[i].pairs_a));
    /* the last batch: two replayed rows of toyworld, two of toyworld-b */
    static const char *const a_only[] = {"the", "some", "fox", "bus"}, *const b_only[] = {"mib", "pim", "fep", "wug"};
    if (a->kind == RUN_GPT) {
        rows_without(a, 0, 2, b_only, 4);
        rows_without(a, 2, 4, a_only, 4);
    }
}

/* Stop (as Ctrl-C does) at stop_at, a validation step (a stop elsewhere validates there
 * too, which adds a point to the log), resume, finish: the same run. */
static void continuation(run_kind kind, long long stop_at, const char *tag) {
    char err[TB_ERRLEN], da[100], db[100], p1[1000], p2[1000];
    run_opts o;
    small_opts(&o, kind);
    tb_run a, b;
    snprintf(da, sizeof da, "straight_%s", tag);
    enter(da);
    assert_int_equal(run_open(&a, &o, err), 0);
    assert_int_equal(drive(&a, -1, err), RUN_DONE);
    check_straight(&a);
    snprintf(db, sizeof db, "split_%s", tag);
    enter(db);
    assert_int_equal(run_open(&b, &o, err), 0);
    assert_int_equal(drive(&b, stop_at, err), RUN_STOPPED);
    run_free(&b);
    o.resume = "runs/c.ckpt";
    o.name = o.corpus = NULL;
    assert_int_equal(run_open(&b, &o, err), 0);
    assert_true(b.step == stop_at && b.steps == 12 && b.then_at == 6 && b.phase == (stop_at > 6));
    assert_int_equal(drive(&b, -1, err), RUN_DONE);
    size_t n;
    assert_memory_equal(run_params(&a, &n), run_params(&b, &n), n * sizeof(float));
    assert_int_equal(a.forget.n, b.forget.n);
    snprintf(p1, sizeof p1, "%s/%s/runs/c.ckpt", base, da);
    snprintf(p2, sizeof p2, "%s/%s/runs/c.ckpt", base, db);
    char *x, *y;
    size_t nx, ny;
    assert_int_equal(read_file(p1, &x, &nx, err), 0);
    assert_int_equal(read_file(p2, &y, &ny, err), 0);
    assert_true(nx == ny && !memcmp(x, y, nx));
    free(x);
    free(y);
    int rendered;
    assert_int_equal(run_write_forgetting(&a, &rendered, err), 0);
    assert_int_equal(access("runs/c_forgetting.tsv", F_OK), 0);
    run_free(&a);
    run_free(&b);
}

static void gpt_then_resume_on_b(void **state) { (void)state; continuation(RUN_GPT, 8, "g8"); }
static void gpt_then_resume_at_switch(void **state) { (void)state; continuation(RUN_GPT, 6, "g6"); }
static void snn_then_resume_on_b(void **state) { (void)state; continuation(RUN_SRNN, 8, "s8"); }

static void options_checked(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    run_opts o;
    run_default_opts(&o, RUN_GPT);
    o.replay = 0.3;
    assert_int_equal(run_check_opts(&o, err), -1);
    assert_non_null(strstr(err, "--then"));
    o.then_corpus = TOYWORLD_B_NAME;
    o.replay = 1.0;
    assert_int_equal(run_check_opts(&o, err), -1);
    o.replay = 0.3;
    assert_int_equal(run_check_opts(&o, err), 0);
    run_default_opts(&o, RUN_SRNN);
    o.then_corpus = TOYWORLD_B_NAME;
    o.srnn.mode = SRNN_RESERVOIR;
    assert_int_equal(run_check_opts(&o, err), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ewc_by_hand_and_gradient),
        cmocka_unit_test(gpt_then_resume_on_b),
        cmocka_unit_test(gpt_then_resume_at_switch),
        cmocka_unit_test(snn_then_resume_on_b),
        cmocka_unit_test(options_checked),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
