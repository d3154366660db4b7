/* test_figures.c -- the study's pictures (src/study/figures.c): what each line plot puts
 * in its data file (series, points, infinite t at the edge of the range, similarities or
 * distances), and that the heatmaps are written as PNGs. */
#include "figures.h"
#include "io.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static char dir[256];

static int setup(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    snprintf(dir, sizeof dir, "/tmp/tb_test_figures_%d", (int)getpid());
    return make_dirs(dir, err) ? -1 : 0;
}

/* The text of DIR/NAME.dat (malloc'd). */
static char *dat(const char *name) {
    char path[400], err[TB_ERRLEN], *text;
    size_t len;
    snprintf(path, sizeof path, "%s/%s.dat", dir, name);
    assert_int_equal(read_file(path, &text, &len, err), 0);
    return text;
}

static void is_png(const char *path) {
    char err[TB_ERRLEN], *data;
    size_t len;
    assert_int_equal(read_file(path, &data, &len, err), 0);
    assert_true(len > 100 && !memcmp(data, "\x89PNG", 4));
    free(data);
}

static void position_loss(void **state) {
    (void)state;
    char err[TB_ERRLEN], *t;
    int rendered;
    lm_eval_result r;
    memset(&r, 0, sizeof r);
    r.n_pos = 3; /* position 1 has no tokens: left out */
    r.pos_tokens[0] = 2; r.pos_tokens[2] = 1;
    r.pos_loss[0] = 1.5; r.pos_loss[1] = NAN; r.pos_loss[2] = 3;
    r.pos_floor[0] = 1.25; r.pos_floor[1] = NAN; r.pos_floor[2] = 2;
    assert_int_equal(fig_position_loss(dir, "pos", "m.ckpt on toyworld val", &r, &rendered, err), 0);
    assert_string_equal(t = dat("pos"), "# model\n0\t1.5\n2\t3\n\n\n# true floor\n0\t1.25\n2\t2\n\n\n");
    free(t);
    /* the excess picture: model - floor where both exist, and the zero line */
    int drawn;
    assert_int_equal(fig_position_excess(dir, "ex", "m.ckpt on toyworld val", &r, &drawn, &rendered, err), 0);
    assert_int_equal(drawn, 1);
    assert_string_equal(t = dat("ex"), "# model - floor (what is left to learn)\n0\t0.25\n2\t1\n\n\n# floor\n0\t0\n2\t0\n\n\n");
    free(t);
    r.pos_floor[0] = r.pos_floor[2] = NAN; /* no floor: one series, and no excess picture */
    assert_int_equal(fig_position_excess(dir, "ex2", "m", &r, &drawn, &rendered, err), 0);
    assert_int_equal(drawn, 0);
    assert_int_equal(fig_position_loss(dir, "pos", "m", &r, &rendered, err), 0);
    assert_string_equal(t = dat("pos"), "# model\n0\t1.5\n2\t3\n\n\n");
    free(t);
}

static void localizer_t(void **state) {
    (void)state;
    char err[TB_ERRLEN], *t;
    int rendered, idx[2] = {1, 0};
    double tv[4] = {1, INFINITY, -2, 0.5}; /* unit 1: zero variance, drawn at the top (1) */
    assert_int_equal(fig_localizer_t(dir, "loc", "sentences vs scrambled word lists", tv, 4, idx, 2, &rendered, err), 0);
    assert_string_equal(t = dat("loc"), "# all units\n0\t1\n1\t1\n2\t-2\n3\t0.5\n\n\n"
                                        "# selected language units\n1\t1\n0\t1\n\n\n"
                                        "# selection threshold\n0\t1\n3\t1\n\n\n");
    free(t);
}

static void metrics_by_layer(void **state) {
    (void)state;
    char err[TB_ERRLEN], *t;
    int rendered;
    align_result res[2];
    for (int i = 0; i < 2; i++) {
        double *v = (double *)&res[i];
        for (size_t k = 0; k < offsetof(align_result, cca_warning) / sizeof(double); k++) v[k] = NAN;
        res[i].cka_linear = 0.5 + i;
        res[i].procrustes_euclidean = 0.25 * i;
        res[i].cka_perm_p = 0.01;
    }
    /* CKA asked for: its similarities that have values (not the p-value) */
    assert_int_equal(fig_metrics_by_layer(dir, "m", res, 2, CMP_CKA, "layer", &rendered, err), 0);
    assert_string_equal(t = dat("m"), "# cka_linear\n0\t0.5\n1\t1.5\n\n\n");
    free(t);
    /* Procrustes only: the distances */
    assert_int_equal(fig_metrics_by_layer(dir, "m", res, 2, CMP_PROC, "layer", &rendered, err), 0);
    assert_string_equal(t = dat("m"), "# procrustes_euclidean\n0\t0\n1\t0.25\n\n\n");
    free(t);    /* encoding: B's noise ceiling as a band from the ceiling to 1, drawn first */
    res[0].cka_linear = res[1].cka_linear = NAN;
    res[0].encoding_r_median = 0.25; res[1].encoding_r_median = 0.5;
    res[0].noise_ceiling = res[1].noise_ceiling = 0.75;
    assert_int_equal(fig_metrics_by_layer(dir, "m", res, 2, CMP_ENC, "layer", &rendered, err), 0);
    assert_string_equal(t = dat("m"), "# B's noise ceiling (0.750) to 1\n0\t0.75\t1\tnan\n1\t0.75\t1\tnan\n\n\n"
                                      "# encoding_r_median\n0\t0.25\n1\t0.5\n\n\n");
    free(t);
    /* no ceiling for one comparison (B without trials): no band */
    res[1].noise_ceiling = NAN;
    assert_int_equal(fig_metrics_by_layer(dir, "m", res, 2, CMP_ENC, "layer", &rendered, err), 0);
    assert_string_equal(t = dat("m"), "# encoding_r_median\n0\t0.25\n1\t0.5\n\n\n");
    free(t);
}

static void energy_and_training(void **state) {
    (void)state;
    char err[TB_ERRLEN], *t;
    int rendered;
    work_row rows[3];
    memset(rows, 0, sizeof rows);
    snprintf(rows[0].kind, 16, "gpt"); rows[0].e_memory = 2000; rows[0].val_loss = 2;
    snprintf(rows[1].kind, 16, "srnn"); rows[1].e_memory = 500; rows[1].val_loss = 3;
    snprintf(rows[2].kind, 16, "gpt"); rows[2].e_memory = 4000; rows[2].val_loss = 1.5;
    assert_int_equal(fig_energy(dir, "e", rows, 3, &rendered, err), 0);
    assert_string_equal(t = dat("e"), "# GPT (multiply-accumulates)\n2\t2\n4\t1.5\n\n\n# spiking network (events)\n0.5\t3\n\n\n");
    free(t);
    /* one GPT layer: RSA, CKA, encoding r per snapshot */
    double sg0[3] = {0.1, 0.2, 0.7}, sg1[3] = {0.3, 0.4, 0.8}, ss0[3] = {0.05, 0.06, 0.5};
    cmp_snapshot g[2] = {{0, 1, sg0, 0.5}, {100, 1, sg1, 1}}, s[1] = {{50, 1, ss0, 0.25}};
    char names[1][256] = {"00_embed"};
    cmp_training tr;
    memset(&tr, 0, sizeof tr);
    tr.n[0] = 2; tr.n[1] = 1; tr.snap[0] = g; tr.snap[1] = s;
    tr.n_layers = 1;
    tr.layer_name = names;
    assert_int_equal(fig_over_training(dir, "ot", &tr, &rendered, err), 0);
    t = dat("ot");
    assert_non_null(strstr(t, "# GPT 00_embed snapshot vs final SNN: RSA\n0\t0.1\n100\t0.3\n"));
    assert_non_null(strstr(t, "# SNN: minimal-pair accuracy\n50\t0.25\n"));
    free(t);
}

static void rdm_heatmaps(void **state) {
    (void)state;
    char err[TB_ERRLEN], path[400];
    rep_layer A, B;
    assert_int_equal(rep_layer_alloc(&A, "a", "a", 1, 4, 3), 0);
    assert_int_equal(rep_layer_alloc(&B, "b", "b", 1, 4, 2), 0);
    for (int i = 0; i < 12; i++) A.mean[i] = (i * 7) % 5;
    for (int i = 0; i < 8; i++) B.mean[i] = (i * 3) % 4;
    const char *labels[4] = {"w", "x", "y", "z"};
    snprintf(path, sizeof path, "%s/pair.png", dir);
    assert_int_equal(fig_rdm_pair(path, &A, &B, RDM_EUCLIDEAN, labels, err), 0);
    is_png(path);
    /* brain meets model: best layer, network, and the subject-category model */
    cmp_result r;
    memset(&r, 0, sizeof r);
    rep_layer layers[2] = {A, B};
    r.gpt.rep.n_layers = 1; r.gpt.rep.layer = &layers[0];
    r.snn.rep.n_layers = 1; r.snn.rep.layer = &layers[1];
    r.n_layers = 1;
    r.have_meta = 1;
    r.meta.n = 4;
    char *subj[4] = {"p", "q", "p", "q"};
    r.meta.label[STIM_SUBJ_CAT] = subj;
    snprintf(path, sizeof path, "%s/rdms.png", dir);
    assert_int_equal(fig_compare_rdms(path, &r, err), 0);
    is_png(path);
    rep_layer_free(&A);
    rep_layer_free(&B);
}

static int teardown(void **state) {
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) ? -1 : 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(position_loss),
        cmocka_unit_test(localizer_t),
        cmocka_unit_test(metrics_by_layer),
        cmocka_unit_test(energy_and_training),
        cmocka_unit_test(rdm_heatmaps),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
