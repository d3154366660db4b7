/* test_demo_data.c -- align --demo's synthetic world (src/study/demo_data.c): every file
 * with its shape, the same seed giving the same bytes, the planted structure the lessons
 * rely on (meaning peaks at model layer 3, six language units), and a clear error when
 * the folder cannot be written. */
#include "align.h"
#include "demo_data.h"
#include "io.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static char dir[2][256];

static void load(int d, const char *name, tb_array *a) {
    char path[400], err[TB_ERRLEN];
    snprintf(path, sizeof path, "%s/%s", dir[d], name);
    assert_int_equal(npy_read(path, a, err), 0);
}

static void files_shapes_and_determinism(void **state) {
    (void)state;
    char err[TB_ERRLEN], cmd[600];
    for (int d = 0; d < 2; d++) {
        snprintf(dir[d], sizeof dir[d], "/tmp/tb_test_demo_%d_%d", (int)getpid(), d);
        assert_int_equal(demo_write(dir[d], 1, err), 0);
    }
    static const struct { const char *name; int ndim; int64_t shape[3]; } files[] = {
        {"brain.npy", 3, {8, 96, 24}}, {"model/layer0.npy", 2, {96, 32}}, {"model/layer5.npy", 2, {96, 32}},
        {"rotated.npy", 2, {96, 24}}, {"stretched.npy", 2, {96, 24}}, {"noise.npy", 2, {96, 24}},
        {"noise_wide.npy", 2, {96, 200}}, {"loc_sentences.npy", 2, {80, 64}}, {"loc_nonwords.npy", 2, {80, 64}},
    };
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        tb_array a, b;
        load(0, files[f].name, &a);
        load(1, files[f].name, &b);
        assert_int_equal(a.ndim, files[f].ndim);
        for (int k = 0; k < a.ndim; k++) assert_int_equal(a.shape[k], files[f].shape[k]);
        assert_memory_equal(a.data, b.data, (size_t)a.size * sizeof(double)); /* same seed, same data */
        array_free(&a);
        array_free(&b);
    }
    char path[400], *text;
    size_t len;
    snprintf(path, sizeof path, "%s/labels.txt", dir[0]);
    assert_int_equal(read_file(path, &text, &len, err), 0);
    assert_int_equal(strncmp(text, "animal1\nanimal2\n", 16), 0);
    assert_non_null(strstr(text, "\nplace24\n"));
    int lines = 0;
    for (char *p = text; *p; p++) lines += *p == '\n';
    assert_int_equal(lines, 96);
    free(text);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir[1]);
    assert_int_equal(system(cmd), 0);
}

/* What the lessons read in them: model layer 3 is the most brain-like by linear CKA, and
 * the planted language units have the largest |mean| difference between conditions. */
static void planted_structure(void **state) {
    (void)state;
    char err[TB_ERRLEN], name[64];
    tb_array brain, layer, s, n;
    load(0, "brain.npy", &brain);
    double *bm = calloc(96 * 24, sizeof(double)), cka[6];
    assert_non_null(bm);
    for (int i = 0; i < 8 * 96 * 24; i++) bm[i % (96 * 24)] += brain.data[i] / 8;
    int best = 0;
    for (int l = 0; l < 6; l++) {
        snprintf(name, sizeof name, "model/layer%d.npy", l);
        load(0, name, &layer);
        assert_int_equal(cka_linear(layer.data, 96, 32, bm, 24, &cka[l], err), 0);
        best = cka[l] > cka[best] ? l : best;
        array_free(&layer);
    }
    assert_int_equal(best, 3);
    assert_true(cka[3] > cka[0] + 0.1);
    load(0, "loc_sentences.npy", &s);
    load(0, "loc_nonwords.npy", &n);
    double diff[64];
    for (int u = 0; u < 64; u++) {
        double ds = 0, dn = 0;
        for (int i = 0; i < 80; i++) { ds += fabs(s.data[i * 64 + u]) / 80; dn += fabs(n.data[i * 64 + u]) / 80; }
        diff[u] = ds - dn;
    }
    static const int lang[6] = {5, 12, 20, 33, 41, 58};
    double weakest = INFINITY, strongest_other = -INFINITY;
    for (int u = 0; u < 64; u++) {
        int is_lang = 0;
        for (int k = 0; k < 6; k++) is_lang |= u == lang[k];
        if (is_lang) weakest = fmin(weakest, diff[u]);
        else strongest_other = fmax(strongest_other, diff[u]);
    }
    assert_true(weakest > strongest_other); /* the six planted units are the top six */
    array_free(&s);
    array_free(&n);
    array_free(&brain);
    free(bm);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir[0]);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(demo_write("/proc/tb_no_such_folder", 1, err), -1);
    assert_non_null(strstr(err, "/proc/tb_no_such_folder"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(files_shapes_and_determinism),
        cmocka_unit_test(planted_structure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
