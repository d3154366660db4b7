/* test_stimuli.c -- probe metadata and categorical model RDMs (src/study/stimuli.c): the
 * columns a TSV has, rows that do not match, part-of-speech patterns, a model RDM, Kendall
 * tau-a against one worked by hand, and the picture order. */
#include "io.h"
#include "stimuli.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static char dir[256];

static char *file(const char *name) {
    static char path[2][400];
    static int k;
    k ^= 1;
    snprintf(path[k], sizeof path[k], "%s/%s", dir, name);
    return path[k];
}

static int setup(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    snprintf(dir, sizeof dir, "/tmp/tb_test_stimuli_%d", (int)getpid());
    return make_dirs(dir, err) ? -1 : 0;
}

static void metadata_columns_and_rows(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    stim_meta m;
    /* no subj_num column; CRLF line ends; a comment line */
    assert_int_equal(write_text_file(file("m.tsv"), "# probes\nid\tsentence\tsubj_cat\tverb\tobj_cat\r\n"
                                                    "0\ta cat eats\tanimal\teat\tfood\r\n"
                                                    "1\tthe dog runs\tanimal\trun\tnone\r\n"
                                                    "2\ta boy eats\tperson\teat\tfood\r\n", err), 0);
    assert_int_equal(stim_meta_load(file("m.tsv"), 3, &m, err), 0);
    assert_int_equal(m.n, 3);
    assert_string_equal(m.label[STIM_SUBJ_CAT][2], "person");
    assert_string_equal(m.label[STIM_OBJ_CAT][0], "food"); /* the '\r' is not part of it */
    assert_string_equal(m.label[STIM_VERB][1], "run");
    assert_null(m.label[STIM_SUBJ_NUM]);
    assert_null(m.label[STIM_POS_PATTERN]);
    stim_meta_free(&m);
    /* rows that do not match the stimuli */
    assert_int_equal(stim_meta_load(file("m.tsv"), 4, &m, err), -1);
    assert_non_null(strstr(err, "3 rows of metadata for 4 stimuli"));
    assert_int_equal(stim_meta_load(file("m.tsv"), 2, &m, err), -1);
    assert_non_null(strstr(err, "3 rows"));
    assert_int_equal(write_text_file(file("m.tsv"), "subj_cat\tverb\nanimal\teat\nperson\n", err), 0);
    assert_int_equal(stim_meta_load(file("m.tsv"), 2, &m, err), -1);
    assert_non_null(strstr(err, "row 2 has no 'verb' cell"));
    assert_int_equal(stim_meta_load(file("none.tsv"), 2, &m, err), -1);
    assert_non_null(strstr(err, "none.tsv"));
}

static void part_of_speech_patterns(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    stim_meta m;
    assert_int_equal(write_text_file(file("v.tsv"), "id\tword\tpos\n0\t.\tPUNCT\n1\tthe\tDET\n2\tcat\tNOUN\n3\tsleeps\tVERB\n", err), 0);
    assert_int_equal(write_text_file(file("s.txt"), "# probes\nthe cat sleeps .\ncat .\n", err), 0);
    assert_int_equal(write_text_file(file("m.tsv"), "subj_cat\nanimal\nanimal\n", err), 0);
    assert_int_equal(stim_meta_load(file("m.tsv"), 2, &m, err), 0);
    assert_int_equal(stim_pos_patterns(file("s.txt"), file("v.tsv"), &m, err), 0);
    assert_non_null(m.label[STIM_POS_PATTERN]);
    assert_string_equal(m.label[STIM_POS_PATTERN][0], "DET NOUN VERB PUNCT");
    assert_string_equal(m.label[STIM_POS_PATTERN][1], "NOUN PUNCT");
    stim_meta_free(&m);
    /* a word missing from the vocabulary, a missing vocabulary, too many stimuli: unknown */
    const char *stimuli[3] = {"the dog sleeps .\ncat .\n", "cat .\ncat .\n", "cat .\ncat .\ncat .\n"};
    const char *vocab[3] = {"v.tsv", "nonexistent.tsv", "v.tsv"};
    for (int k = 0; k < 3; k++) {
        assert_int_equal(write_text_file(file("s.txt"), stimuli[k], err), 0);
        assert_int_equal(stim_meta_load(file("m.tsv"), 2, &m, err), 0);
        assert_int_equal(stim_pos_patterns(file("s.txt"), file(vocab[k]), &m, err), 0);
        assert_null(m.label[STIM_POS_PATTERN]);
        stim_meta_free(&m);
    }
}

/* Labels A A B B and a representation where same-label pairs are closest: of the 15 pairs
 * of pairs, the 2 x 4 that compare a same-label pair with a different-label one are all
 * concordant, the rest tied in the model RDM: tau-a = 8/15.  Labels A B A B: -8/15. */
static void model_rdm_and_tau_a(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    static const double X[4 * 3] = {1, 2, 3, 1, 2, 3.5, 3, 2, 1, 3, 2, 0.5};
    char *l1[4] = {"A", "A", "B", "B"}, *l2[4] = {"A", "B", "A", "B"};
    stim_meta m;
    memset(&m, 0, sizeof m);
    m.n = 4;
    m.label[STIM_SUBJ_CAT] = l1;
    m.label[STIM_VERB] = l2;
    float D[16];
    stim_model_rdm(&m, STIM_SUBJ_CAT, D);
    static const float want[16] = {0, 0, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0};
    assert_memory_equal(D, want, sizeof want);
    double tau;
    assert_int_equal(stim_tau_a(X, 4, 3, &m, STIM_SUBJ_CAT, &tau, err), 0);
    assert_true(fabs(tau - 8.0 / 15) < 1e-12);
    assert_int_equal(stim_tau_a(X, 4, 3, &m, STIM_VERB, &tau, err), 0);
    assert_true(fabs(tau + 8.0 / 15) < 1e-12);
    assert_int_equal(stim_tau_a(X, 4, 3, &m, STIM_OBJ_CAT, &tau, err), -1); /* unknown feature */
    assert_non_null(strstr(err, "obj_cat"));
}

static void picture_order(void **state) {
    (void)state;
    char *subj[5] = {"b", "a", "b", "a", "a"}, *obj[5] = {"y", "x", "x", "y", "x"};
    stim_meta m;
    memset(&m, 0, sizeof m);
    m.n = 5;
    int ord[5];
    stim_order(&m, ord); /* no categories: as they are */
    for (int i = 0; i < 5; i++) assert_int_equal(ord[i], i);
    m.label[STIM_SUBJ_CAT] = subj;
    stim_order(&m, ord); /* by subject only; ties keep their order */
    static const int by_subj[5] = {1, 3, 4, 0, 2};
    assert_memory_equal(ord, by_subj, sizeof by_subj);
    m.label[STIM_OBJ_CAT] = obj;
    stim_order(&m, ord); /* then by object */
    static const int by_both[5] = {1, 4, 3, 2, 0};
    assert_memory_equal(ord, by_both, sizeof by_both);
}

static int teardown(void **state) {
    (void)state;
    remove(file("m.tsv"));
    remove(file("v.tsv"));
    remove(file("s.txt"));
    rmdir(dir);
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(metadata_columns_and_rows),
        cmocka_unit_test(part_of_speech_patterns),
        cmocka_unit_test(model_rdm_and_tau_a),
        cmocka_unit_test(picture_order),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
