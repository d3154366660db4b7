/* test_scan_cli.c -- the virtual scanner's command line, checked on the binary (the pattern of
 * test_cli.c): `scan --print-hrf --json` prints spm_hrf's values, `scan` writes recording
 * folders with the manifest keys the issue promises (one sub-NN folder per subject, the fROI
 * and control folders, ECoG time courses), flags of the wrong modality are usage errors, and
 * `record ideal` writes the ideal observer as a recording folder.  The networks are tiny and
 * untrained (built here with the toyworld vocabulary): the files are what is checked, not
 * the science. */
#include "corpus.h"
#include "io.h"
#include "scan.h"
#include "srnn.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

static char bin[1024], dir[256], ckpt[300], sent[300], scr[300];

/* Run `bin ARGS` (stderr with stdout); *out gets the output (malloc'd).  Exit status.
 * TINYBRAIN_TEST_EMULATOR (qemu-aarch64-static under `make test-cross`) runs a binary
 * built for another architecture. */
static int run(const char *args, char **out) {
    char cmd[4096];
    const char *emu = getenv("TINYBRAIN_TEST_EMULATOR");
    snprintf(cmd, sizeof cmd, "%s %s %s 2>&1", emu ? emu : "", bin, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 20, n = 0;
    *out = malloc(cap);
    assert_non_null(*out);
    for (size_t k = 1; k && n + 1 < cap; n += k) k = fread(*out + n, 1, cap - 1 - n, p);
    (*out)[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void expect(const char *args, int status, const char *text) {
    char *out;
    int rc = run(args, &out);
    if (rc != status || (text && !strstr(out, text)))
        fail_msg("tinybrain %s: exit %d (want %d), output:\n%s(want: %s)", args, rc, status, out, text ? text : "-");
    free(out);
}

/* The file's text must hold every string of keys. */
static void file_has(const char *path, const char *const *keys, int n) {
    char *text, err[TB_ERRLEN];
    size_t len;
    if (read_file(path, &text, &len, err)) fail_msg("%s", err);
    for (int i = 0; i < n; i++)
        if (!strstr(text, keys[i])) fail_msg("%s has no %s:\n%s", path, keys[i], text);
    free(text);
}

static void npy_shape(const char *path, int ndim, const int64_t *shape) {
    tb_array a;
    char err[TB_ERRLEN];
    if (npy_read(path, &a, err)) fail_msg("%s", err);
    assert_int_equal(a.ndim, ndim);
    for (int d = 0; d < ndim; d++) assert_int_equal(a.shape[d], shape[d]);
    array_free(&a);
}

static void print_hrf_is_spm_hrf(void **state) {
    (void)state;
    if (!*bin) skip();
    char *out;
    assert_int_equal(run("scan --print-hrf --tr 2 --json", &out), 0);
    assert_non_null(strstr(out, "\"tr\": 2"));
    char *p = strstr(out, "\"hrf\": [");
    assert_non_null(p);
    p += 8;
    int n = scan_hrf_length(2.0);
    double h[17];
    assert_int_equal(n, 17);   /* 0, 2, ..., 32 s */
    scan_hrf(2.0, h);
    for (int k = 0; k < n; k++) {
        char *end;
        double v = strtod(p, &end);
        assert_true(end != p);
        assert_true(fabs(v - h[k]) <= 1e-9 * (fabs(h[k]) + 1e-12));
        p = end + 1;
    }
    assert_true(fabs(h[3] - 0.3849) < 5e-5);   /* spm_hrf(2)(4), as lesson 16 quotes */
    free(out);
    expect("scan --print-hrf --tr 0", 2, "--tr");
}

static void scan_writes_recording_folders(void **state) {
    (void)state;
    if (!*bin || !*ckpt) skip();
    char args[2048], path[600];
    snprintf(args, sizeof args, "scan %s %s --out %s/scan --stimuli %s --loc-sentences %s --loc-control %s --voxels 8 "
             "--runs 2 --loc-runs 2 --quiet", ckpt, ckpt, dir, sent, sent, scr);
    expect(args, 0, "ceilings on r");
    static const char *const group[] = {"\"modality\": \"fmri\"", "\"subjects\": 2", "\"trials\": 2", "\"stimuli\": 12",
                                        "\"channels\": 8", "\"snr\": 0.8", "\"tr_s\": 2", "\"across\"", "sub-02"};
    snprintf(path, sizeof path, "%s/scan/manifest.json", dir);
    file_has(path, group, 9);
    static const char *const subj[] = {"\"modality\": \"fmri\"", "\"subjects\": 2", "\"subject\": 2", "\"trials\": 2",
                                       "\"stimuli\": 12", "\"channels\": 8", "\"voxel_mm\": 3", "\"isi_s\": 4",
                                       "\"jitter_s\": 2", "\"ar\": 0.4", "\"coverage\": 0.6", "\"froi\": [", "fmri_betas.npy"};
    snprintf(path, sizeof path, "%s/scan/sub-02/manifest.json", dir);
    file_has(path, subj, 13);
    int64_t all[3] = {2, 12, 8}, roi[3] = {2, 12, 2};
    snprintf(path, sizeof path, "%s/scan/sub-01/fmri_betas.npy", dir);
    npy_shape(path, 3, all);
    snprintf(path, sizeof path, "%s/scan/sub-01/froi/fmri_betas.npy", dir);
    npy_shape(path, 3, roi);
    snprintf(path, sizeof path, "%s/scan/sub-01/control/fmri_betas.npy", dir);
    npy_shape(path, 3, roi);
    static const char *const region[] = {"\"region\": \"froi\"", "\"channel_index\": ["};
    snprintf(path, sizeof path, "%s/scan/sub-01/froi/manifest.json", dir);
    file_has(path, region, 2);
    /* ECoG: electrodes, repeats, and the time course per token */
    snprintf(args, sizeof args, "scan %s --modality ecog --out %s/ecog --stimuli %s --loc-sentences %s --loc-control %s "
             "--electrodes 4 --repeats 2 --froi-top 25 --json --quiet", ckpt, dir, sent, sent, scr);
    expect(args, 0, "\"modality\": \"ecog\"");
    static const char *const ecog[] = {"\"modality\": \"ecog\"", "\"subjects\": 1", "\"channels\": 4", "\"tau_ms\": 4",
                                       "\"window_to_ms\": 0", "timecourse/token.npy"};
    snprintf(path, sizeof path, "%s/ecog/manifest.json", dir);
    file_has(path, ecog, 6);
    tb_array a;
    char err[TB_ERRLEN];
    snprintf(path, sizeof path, "%s/ecog/timecourse/token.npy", dir);
    assert_int_equal(npy_read(path, &a, err), 0);
    assert_int_equal(a.ndim, 4);
    assert_int_equal(a.shape[0], 2);
    assert_int_equal(a.shape[1], 12);
    assert_int_equal(a.shape[3], 4);
    array_free(&a);
}

static void scan_usage_errors(void **state) {
    (void)state;
    if (!*bin || !*ckpt) skip();
    char args[1024];
    expect("scan --out /nonexistent/x", 2, "--subjects N");
    snprintf(args, sizeof args, "scan %s --modality ecog --tr 1 --out %s/x", ckpt, dir);
    expect(args, 2, "--tr is an fMRI setting");
    snprintf(args, sizeof args, "scan %s --snr 0 --out %s/x", ckpt, dir);
    expect(args, 2, "--snr");
    snprintf(args, sizeof args, "scan %s --froi-top 60 --out %s/x", ckpt, dir);
    expect(args, 2, "--froi-top");
    snprintf(args, sizeof args, "scan %s %s --subjects 1 --out %s/x", ckpt, ckpt, dir);
    expect(args, 2, "--subjects 1");
    expect("scan --help", 0, "--runs N");
    expect("scan --help", 0, "[s] (default: 2)");   /* --tr with its unit and default */
}

/* A tiny untrained spiking network on the toyworld vocabulary, and 12 probe sentences with
 * their scrambled twins. */
static int setup(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    snprintf(dir, sizeof dir, "/tmp/tb_test_scan_cli_%d", (int)getpid());
    if (make_dirs(dir, err)) return -1;
    tb_corpus c;
    if (corpus_load(&c, "toyworld", TB_DATA_DIR, "word", err)) return 0;   /* not run from the repository */
    srnn_config cfg;
    srnn_default_config(&cfg);
    cfg.vocab_size = c.tok.vocab_size;
    cfg.n_neurons = 24;
    srnn_model m;
    snprintf(ckpt, sizeof ckpt, "%s/snn.ckpt", dir);
    int rc = srnn_init(&m, &cfg, err) || srnn_save_file(&m, &c.tok, ckpt, err);
    srnn_free(&m);
    corpus_free(&c);
    const char *src[2] = {TB_DATA_DIR "/probes_sentences.txt", TB_DATA_DIR "/probes_scrambled.txt"};
    char *dst[2] = {sent, scr};
    snprintf(sent, sizeof sent, "%s/sent.txt", dir);
    snprintf(scr, sizeof scr, "%s/scr.txt", dir);
    for (int f = 0; f < 2 && !rc; f++) {   /* the first 12 stimuli of each file */
        char *text, *out = calloc(1, 1 << 16);
        size_t len, n = 0;
        if (!out || read_file(src[f], &text, &len, err)) { free(out); return -1; }
        int lines = 0;
        for (char *p = strtok(text, "\n"); p && lines < 12; p = strtok(NULL, "\n"))
            if (*p != '#') { n += (size_t)sprintf(out + n, "%s\n", p); lines++; }
        rc = write_text_file(dst[f], out, err);
        free(text);
        free(out);
    }
    if (rc) *ckpt = 0;
    return 0;
}

static int teardown(void **state) {
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(int argc, char **argv) {
    (void)argc;
    /* BUILD/tests/test_scan_cli -> BUILD/tinybrain (make asan), else ./tinybrain */
    snprintf(bin, sizeof bin, "%s", argv[0]);
    char *slash = strrchr(bin, '/');
    if (slash) snprintf(slash, sizeof bin - (size_t)(slash - bin), "/../tinybrain");
    if (!slash || access(bin, X_OK)) snprintf(bin, sizeof bin, "%s", access("./tinybrain", X_OK) ? "" : "./tinybrain");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(print_hrf_is_spm_hrf),
        cmocka_unit_test(scan_writes_recording_folders),
        cmocka_unit_test(scan_usage_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
