/* test_patch.c -- activation patching (src/study/patch.c, src/srnn/srnn_patch.c): the
 * clean and corrupted prefixes of hand-written pairs, the identities every patching run
 * must obey (patching a site the two runs share restores exactly 0; patching everything
 * the verb reads restores exactly 1) for the GPT and the spiking network, and the
 * ranking against the localizer worked by hand.  Runs from the repository (data/toyworld). */
#include "io.h"
#include "patch.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static tb_corpus corp;
static char pairs_path[256];

static int setup(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    if (corpus_load(&corp, "toyworld", TB_DATA_DIR, "word", err)) { fprintf(stderr, "%s\n", err); return -1; }
    snprintf(pairs_path, sizeof pairs_path, "/tmp/tb_test_patch_%d.tsv", (int)getpid());
    return write_text_file(pairs_path,
                           "good\tbad\tattractor\n"
                           "the dog near the cats chases a ball .\tthe dog near the cats chase a ball .\t1\n"
                           "a big dog sleeps .\ta big dog sleep .\t0\n"
                           "some girls with a red kite run .\tsome girls with a red kite runs .\t1\n"
                           "the dog that the cats chase runs .\tthe dog that the cats chase run .\t1\n",
                           err);
}

static int teardown(void **state) {
    (void)state;
    unlink(pairs_path);
    corpus_free(&corp);
    return 0;
}

static int id(const char *w) { return tok_id(&corp.tok, w); }

static void prefixes_and_roles(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    patch_pairs p;
    assert_int_equal(patch_pairs_load(pairs_path, &corp, 0, &p, err), 0);
    assert_int_equal(p.n, 3);   /* the relative clause's "that" has no role: left out */
    assert_int_equal(p.skipped, 1);
    assert_string_equal(p.skipped_kinds, "pp_attractor");
    assert_int_equal(p.T, 7);   /* ". some girls with a red kite" (the skipped prefix is longer) */
    int want_clean[7] = {id("."), id("the"), id("dog"), id("near"), id("the"), id("cats"), 0};
    int want_corrupt[7] = {id("."), id("the"), id("dogs"), id("near"), id("the"), id("cats"), 0};
    assert_memory_equal(p.clean, want_clean, sizeof want_clean);
    assert_memory_equal(p.corrupt, want_corrupt, sizeof want_corrupt);
    assert_int_equal(p.len[0], 6);
    assert_int_equal(p.right[0], id("chases"));
    assert_int_equal(p.wrong[0], id("chase"));
    int roles0[7] = {PATCH_CTX, PATCH_DET, PATCH_SUBJ, PATCH_PREP, PATCH_DET2, PATCH_LAST, -1};
    assert_memory_equal(p.role, roles0, sizeof roles0);
    /* "a big dog" -> "some big dogs": the determiner marks the number too */
    assert_int_equal(p.corrupt[7 + 1], id("some"));
    assert_int_equal(p.corrupt[7 + 3], id("dogs"));
    int roles1[4] = {PATCH_CTX, PATCH_DET, PATCH_ADJ, PATCH_LAST};
    assert_memory_equal(p.role + 7, roles1, sizeof roles1);
    /* "some girls" -> "a girl"; the attractor "a red kite" keeps its determiner */
    assert_int_equal(p.corrupt[14 + 1], id("a"));
    assert_int_equal(p.corrupt[14 + 2], id("girl"));
    assert_int_equal(p.corrupt[14 + 4], id("a"));
    assert_int_equal(p.attractor[2], 1);
    assert_int_equal(p.role[14 + 5], PATCH_ADJ2);
    patch_pairs_free(&p);
    assert_int_equal(patch_pairs_load(pairs_path, &corp, 1, &p, err), 0);
    assert_int_equal(p.n, 1);
    patch_pairs_free(&p);
    /* a file of relative clauses only: nothing to patch, a clear error */
    char only[300];
    snprintf(only, sizeof only, "%s.rel", pairs_path);
    assert_int_equal(write_text_file(only, "good\tbad\tattractor\tphenomenon\nthe dog that the cats chase runs .\t"
                                           "the dog that the cats chase run .\t1\trelative_object\n", err), 0);
    assert_int_equal(patch_pairs_load(only, &corp, 0, &p, err), -1);
    assert_non_null(strstr(err, "no pair"));
    unlink(only);
}

static void gpt_identities(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    patch_pairs p;
    assert_int_equal(patch_pairs_load(pairs_path, &corp, 0, &p, err), 0);
    gpt_config c;
    gpt_default_config(&c);
    c.vocab_size = corp.tok.vocab_size;
    c.ctx = 8;
    c.d_model = 16;
    c.n_head = 2;
    c.seed = 3;
    gpt_model m;
    assert_int_equal(gpt_init(&m, &c, err), 0);
    for (size_t i = 0; i < m.n_params; i++) m.params_mem[i] *= 10.0f;   /* an opinion about verbs */
    patch_gpt_result r;
    assert_int_equal(patch_gpt(&m, &p, 1, 0, &r, err), 0);
    assert_true(r.ld_clean != r.ld_corrupt);
    int L = 2, R = PATCH_NROLES;
    for (int l = 0; l <= L; l++) {
        assert_true(r.residual[l * R + PATCH_CTX] == 0.0);   /* the same "." in both runs */
        assert_true(isnan(r.residual[l * R + PATCH_PREP]) == 0);
    }
    assert_true(fabs(r.residual[L * R + PATCH_LAST] - 1.0) < 1e-12);   /* the head reads only this */
    assert_true(isnan(r.residual_attr[0 * R + PATCH_ADJ]));            /* no attractor pair has a subject adjective */
    /* every residual unit of the embedding patched one by one; all of them at once is 1 */
    int all[16];
    for (int u = 0; u < 16; u++) all[u] = u;
    double whole;
    assert_int_equal(patch_gpt_unit_set(&m, &p, 0, all, 16, &whole, err), 0);
    assert_true(fabs(whole - 1.0) < 1e-12);
    assert_non_null(r.units);
    assert_non_null(r.mlp);
    patch_gpt_free(&r);
    gpt_free(&m);
    patch_pairs_free(&p);
}

static void snn_identities(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    patch_pairs p;
    assert_int_equal(patch_pairs_load(pairs_path, &corp, 0, &p, err), 0);
    srnn_config c;
    srnn_default_config(&c);
    c.vocab_size = corp.tok.vocab_size;
    c.n_neurons = 32;
    c.seed = 4;
    srnn_model m;
    assert_int_equal(srnn_init(&m, &c, err), 0);
    for (size_t i = 0; i < (size_t)m.V * m.N; i++) m.p.w_out[i] = (float)((i * 7919 % 23) - 11) * 0.1f;
    patch_snn_result r;
    assert_int_equal(patch_snn(&m, &p, 4, 1, &r, err), 0);
    assert_int_equal(r.groups, 4);
    const double *all = r.group_role + 4 * PATCH_NROLES;
    assert_true(all[PATCH_CTX] == 0.0);                 /* same token, same noise: same state */
    assert_true(fabs(all[PATCH_LAST] - 1.0) < 1e-12);   /* the readout's whole input */
    /* the groups split the neurons: at the last position their shares add up to 1 (the
     * readout is linear in the counts and each group owns its own; float round-off) */
    double sum = 0;
    for (int g = 0; g < 4; g++) sum += r.group_role[g * PATCH_NROLES + PATCH_LAST];
    if (fabs(sum - 1.0) > 1e-5) fail_msg("group shares at the last position sum to %.9f", sum);
    double set;
    int every[32];
    for (int u = 0; u < 32; u++) every[u] = u;
    assert_int_equal(patch_snn_unit_set(&m, &p, every, 32, &set, err), 0);
    assert_true(fabs(set - 1.0) < 1e-12);   /* every neuron at every position */
    patch_snn_free(&r);
    srnn_free(&m);
    patch_pairs_free(&p);
}

static void ranking_against_the_localizer(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    double score[6] = {0.1, NAN, 0.5, 0.5, -0.2, 0.3};
    int units[3] = {3, 4, 5};
    patch_vs_localizer v;
    assert_int_equal(patch_compare_units(score, 6, units, 3, &v, err), 0);
    int want[3] = {2, 3, 5};   /* ties to the lower index; NaN never ranks */
    assert_memory_equal(v.top, want, sizeof want);
    assert_int_equal(v.overlap, 2);
    assert_true(fabs(v.overlap_chance - 1.5) < 1e-12);
    patch_vs_localizer_free(&v);
    assert_int_equal(patch_compare_units(score, 6, units, 7, &v, err), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(prefixes_and_roles),
        cmocka_unit_test(gpt_identities),
        cmocka_unit_test(snn_identities),
        cmocka_unit_test(ranking_against_the_localizer),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
