/* test_localizer.c -- the localizer experiment (src/study/localizer.c): the contrast is
 * named from the stimulus files, or from a recording folder's manifest; defaults. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "io.h"
#include "localizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void contrast_names(void **state) {
    (void)state;
    char b[1200], err[TB_ERRLEN], dir[200], a1[300], a2[300];
    loc_contrast("data/toyworld/probes_sentences.txt", "data/toyworld/probes_scrambled.txt", b, sizeof b);
    assert_non_null(strstr(b, "scrambled word lists"));
    assert_non_null(strstr(b, "probes_sentences.txt"));
    loc_contrast("s.txt", "data/toyworld/probes_nonwords.txt", b, sizeof b);
    assert_non_null(strstr(b, "nonword strings"));
    loc_contrast("a.txt", "b.txt", b, sizeof b);
    assert_string_equal(b, "a.txt vs b.txt");
    /* arrays in recording folders: the manifests say what was played */
    snprintf(dir, sizeof dir, "/tmp/tb_test_localizer_%d", (int)getpid());
    snprintf(a1, sizeof a1, "%s/s/manifest.json", dir);
    snprintf(a2, sizeof a2, "%s/c/manifest.json", dir);
    assert_int_equal(write_text_file(a1, "{\n  \"stimuli\": \"data/toyworld/probes_sentences.txt\"\n}\n", err), 0);
    assert_int_equal(write_text_file(a2, "{\n  \"stimuli\": \"x/probes_nonwords.txt\"\n}\n", err), 0);
    snprintf(a1, sizeof a1, "%s/s/02_block2.npy", dir);
    snprintf(a2, sizeof a2, "%s/c/02_block2.npy", dir);
    loc_contrast(a1, a2, b, sizeof b);
    assert_non_null(strstr(b, "sentences (probes_sentences.txt) vs nonword strings (probes_nonwords.txt"));
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    loc_opts o;
    loc_opts_default(&o);
    assert_non_null(strstr(o.control, "probes_scrambled.txt"));
    assert_int_equal(o.layer, -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(contrast_names)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
