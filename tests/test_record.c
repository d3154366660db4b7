/* test_record.c -- recording both models (src/study/recording.c): shapes, left context,
 * determinism, trial-to-trial noise of the spiking network, E/I sub-populations, a
 * recording compared with itself (similarity 1), stimuli of any length, the recording
 * folder (arrays and manifest.json), the no-language control, and bad inputs with clear
 * errors. */
#include "align.h"
#include "gpt.h"
#include "io.h"
#include "srnn.h"
#include "tokenizer.h"
#include "recording.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

static const char *words[] = {".", "the", "a", "cat", "dog", "cats", "dogs", "sees", "see", "sleeps"};
#define NW 10
static char dir[256], gpt_path[300], snn_path[300], dale_path[300], stim_path[300];

static int setup(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    snprintf(dir, sizeof dir, "/tmp/tb_test_record_%d", (int)getpid());
    if (make_dirs(dir, err)) return -1;
    snprintf(gpt_path, sizeof gpt_path, "%s/g.ckpt", dir);
    snprintf(snn_path, sizeof snn_path, "%s/s.ckpt", dir);
    snprintf(dale_path, sizeof dale_path, "%s/d.ckpt", dir);
    snprintf(stim_path, sizeof stim_path, "%s/stim.txt", dir);
    tb_tokenizer tok;
    if (tok_from_list(&tok, TOK_WORD, words, NW, err)) return -1;
    /* a tiny GPT */
    gpt_config c;
    gpt_default_config(&c);
    c.vocab_size = NW; c.ctx = 16; c.n_layer = 2; c.n_head = 2; c.d_model = 16;
    gpt_model g;
    if (gpt_init(&g, &c, err)) return -1;
    tb_ckpt ck;
    ckpt_init(&ck, "gpt");
    if (gpt_to_ckpt(&g, &ck, err) || tok_save(&tok, &ck, err) || ckpt_set_int(&ck, "step", 7) || ckpt_save(&ck, gpt_path, err)) return -1;
    ckpt_free(&ck);
    gpt_free(&g);
    /* tiny spiking networks, with background noise so trials differ */
    for (int d = 0; d < 2; d++) {
        srnn_config s;
        srnn_default_config(&s);
        s.vocab_size = NW; s.n_neurons = 40; s.noise_hz = 200; s.w_in_std = 2.0; s.dale = d;
        srnn_model m;
        if (srnn_init(&m, &s, err) || srnn_save_file(&m, &tok, d ? dale_path : snn_path, err)) return -1;
        srnn_free(&m);
    }
    tok_free(&tok);
    return write_text_file(stim_path, "# probes\nthe cat sees a dog .\n\nthe dogs sleep .\na cat sleeps .\nthe cats see the dog .\n", err)
               ? -1 : 0;
}

static void gpt_recording_shapes_and_determinism(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    lm_model m;
    assert_int_equal(lm_open(gpt_path, &m, err), 0);
    assert_string_equal(m.kind, "gpt");
    assert_true(m.step == 7);
    rec_stimuli s;
    /* "sleep" is not a word of this vocabulary: the error names the line and the word */
    assert_int_equal(rec_stimuli_load(stim_path, &m.tok, &s, err), -1);
    assert_non_null(strstr(err, ":4:"));
    assert_non_null(strstr(err, "sleep"));
    char err2[TB_ERRLEN];
    assert_int_equal(write_text_file(stim_path, "the cat sees a dog .\nthe dogs see a cat .\na cat sleeps .\nthe cats see the dog .\n", err2), 0);
    assert_int_equal(rec_stimuli_load(stim_path, &m.tok, &s, err), 0);
    assert_int_equal(s.n, 4);
    assert_int_equal(s.len[0], 7); /* "." + 6 tokens */
    assert_int_equal(s.ids[0][0], 0);
    rec_opts o = {0, 5, 1, 1, -1, {NULL, NULL}};
    rep_set a, b;
    assert_int_equal(rec_record(&m, &s, &o, &a, err), 0);
    assert_int_equal(a.n_layers, 3 + 2 * 2); /* embed + 2 blocks, + attn and mlp of each */
    assert_int_equal(rec_n_resid(&m), 3);
    assert_string_equal(a.layer[0].name, "00_embed");
    assert_string_equal(a.layer[2].name, "02_block2");
    assert_int_equal(a.layer[1].n, 4);
    assert_int_equal(a.layer[1].p, 16);
    assert_int_equal(a.layer[1].trials, 1); /* the GPT is deterministic */
    assert_int_equal(a.layer[5].p, 16 * 4); /* MLP hidden: mlp_ratio 4 */
    assert_int_equal(rec_record(&m, &s, &o, &b, err), 0);
    for (int l = 0; l < a.n_layers; l++)
        assert_memory_equal(a.layer[l].mean, b.layer[l].mean, (size_t)a.layer[l].n * a.layer[l].p * sizeof(double));
    /* a recording compared with itself: similarity 1, distance 0 */
    align_opts ao;
    align_result r;
    align_opts_default(&ao);
    ao.cca = 0;
    assert_int_equal(align_all(a.layer[2].mean, 4, 16, b.layer[2].mean, 16, NULL, 0, &ao, &r, err), 0);
    assert_true(fabs(r.rsa_spearman - 1) < 1e-12 && fabs(r.cka_linear - 1) < 1e-12 && r.procrustes_angular < 1e-6);
    /* last-token pooling differs from the mean and equals the final position's state */
    rec_opts ol = {1, 1, 0, 1, -1, {NULL, NULL}};
    rep_set c;
    assert_int_equal(rec_record(&m, &s, &ol, &c, err), 0);
    assert_int_equal(c.n_layers, 3);
    assert_true(memcmp(c.layer[1].mean, a.layer[1].mean, 16 * sizeof(double)) != 0);
    rep_free(&a); rep_free(&b); rep_free(&c);
    rec_stimuli_free(&s);
    lm_close(&m);
}

static void snn_recording_trials_and_subpopulations(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    lm_model m;
    assert_int_equal(lm_open(snn_path, &m, err), 0);
    assert_string_equal(m.kind, "srnn");
    rec_stimuli s;
    assert_int_equal(rec_stimuli_load(stim_path, &m.tok, &s, err), 0);
    rec_opts o = {0, 3, 0, 42, -1, {NULL, NULL}};
    rep_set a, b;
    assert_int_equal(rec_record(&m, &s, &o, &a, err), 0);
    assert_int_equal(a.n_layers, 1); /* no Dale's law: no sub-populations */
    const rep_layer *R = &a.layer[0];
    assert_int_equal(R->trials, 3);
    assert_int_equal(R->n, 4);
    assert_int_equal(R->p, 40);
    /* rates are in Hz (multiples of 1000 / (K dt) / tokens), trials differ, mean is their mean */
    size_t np = (size_t)4 * 40;
    assert_true(memcmp(R->trial, R->trial + np, np * sizeof(double)) != 0);
    double tot = 0;
    for (size_t i = 0; i < np; i++) {
        double mu = (R->trial[i] + R->trial[np + i] + R->trial[2 * np + i]) / 3;
        assert_true(fabs(mu - R->mean[i]) < 1e-9);
        tot += R->mean[i];
    }
    assert_true(tot > 0); /* the network fires */
    /* same seed: same trials; another seed: different ones */
    assert_int_equal(rec_record(&m, &s, &o, &b, err), 0);
    assert_memory_equal(R->trial, b.layer[0].trial, 3 * np * sizeof(double));
    rep_free(&b);
    o.seed = 43;
    assert_int_equal(rec_record(&m, &s, &o, &b, err), 0);
    assert_true(memcmp(R->trial, b.layer[0].trial, 3 * np * sizeof(double)) != 0);
    rep_free(&a); rep_free(&b);
    rec_stimuli_free(&s);
    lm_close(&m);
    /* Dale's law: rates, rates_exc (80%), rates_inh (20%), columns taken in order */
    assert_int_equal(lm_open(dale_path, &m, err), 0);
    assert_int_equal(rec_stimuli_load(stim_path, &m.tok, &s, err), 0);
    assert_int_equal(rec_record(&m, &s, &o, &a, err), 0);
    assert_int_equal(a.n_layers, 3);
    assert_string_equal(a.layer[1].name, "rates_exc");
    assert_int_equal(a.layer[1].p + a.layer[2].p, 40);
    assert_int_equal(a.layer[1].p, 32);
    assert_true(a.layer[2].trial[5] == a.layer[0].trial[32 + 5]);
    rep_free(&a);
    rec_stimuli_free(&s);
    lm_close(&m);
}

/* The negative control: with its input cut the network's rates no longer depend on the
 * words (stimuli of the same lengths and trial seeds give the same recording), noise still
 * drives it, the manifest says so, and a GPT is refused. */
static void no_language_control(void **state) {
    (void)state;
    char err[TB_ERRLEN], path[2][320], out[320];
    const char *text[2] = {"the cat sees a dog .\nthe dogs see a cat .\na cat sleeps .\n",
                           "a dog sees the cat .\nthe cats see the dog .\nthe dog sleeps .\n"};
    lm_model m;
    rec_stimuli s[2];
    rep_set r[2];
    rec_opts o = {0, 3, 0, 42, -1, {NULL, NULL}};
    assert_int_equal(lm_open(snn_path, &m, err), 0);
    for (int k = 0; k < 2; k++) {
        snprintf(path[k], sizeof path[k], "%s/words%d.txt", dir, k);
        assert_int_equal(write_text_file(path[k], text[k], err), 0);
        assert_int_equal(rec_stimuli_load(path[k], &m.tok, &s[k], err), 0);
        assert_int_equal(rec_record(&m, &s[k], &o, &r[k], err), 0);
    }
    size_t bytes = (size_t)3 * 3 * 40 * sizeof(double);
    assert_true(memcmp(r[0].layer[0].trial, r[1].layer[0].trial, bytes) != 0);   /* it hears the words */
    rep_free(&r[0]);
    rep_free(&r[1]);
    assert_int_equal(rec_no_language(&m, err), 0);
    for (int k = 0; k < 2; k++) assert_int_equal(rec_record(&m, &s[k], &o, &r[k], err), 0);
    assert_memory_equal(r[0].layer[0].trial, r[1].layer[0].trial, bytes);       /* now it does not */
    double tot = 0;
    for (size_t i = 0; i < (size_t)3 * 40; i++) tot += r[0].layer[0].mean[i];
    assert_true(tot > 0);                                                          /* noise drives it */
    assert_true(memcmp(r[0].layer[0].trial, r[0].layer[0].trial + 3 * 40, 3 * 40 * sizeof(double)) != 0);
    snprintf(out, sizeof out, "%s/none", dir);
    assert_int_equal(rec_save(out, &m, path[0], &s[0], &o, &r[0], err), 0);
    char *manifest, mpath[400];
    size_t len;
    snprintf(mpath, sizeof mpath, "%s/manifest.json", out);
    assert_int_equal(read_file(mpath, &manifest, &len, err), 0);
    assert_non_null(strstr(manifest, "\"language_input\": false"));
    free(manifest);
    remove(mpath);
    snprintf(mpath, sizeof mpath, "%s/rates.npy", out);
    remove(mpath);
    rmdir(out);
    for (int k = 0; k < 2; k++) {
        rep_free(&r[k]);
        rec_stimuli_free(&s[k]);
        remove(path[k]);
    }
    lm_close(&m);
    assert_int_equal(lm_open(gpt_path, &m, err), 0);
    assert_int_equal(rec_no_language(&m, err), -1);
    assert_non_null(strstr(err, "spiking network"));
    lm_close(&m);
}

static void bad_checkpoints(void **state) {
    (void)state;
    char err[TB_ERRLEN], path[320];
    lm_model m;
    assert_int_equal(lm_open("/nonexistent/x.ckpt", &m, err), -1);
    assert_non_null(strstr(err, "/nonexistent/x.ckpt"));
    tb_ckpt ck;
    ckpt_init(&ck, "notes");
    snprintf(path, sizeof path, "%s/n.ckpt", dir);
    assert_int_equal(ckpt_save(&ck, path, err), 0);
    ckpt_free(&ck);
    assert_int_equal(lm_open(path, &m, err), -1);
    assert_non_null(strstr(err, "'notes'"));
    /* a truncated model checkpoint */
    char *data;
    size_t len;
    assert_int_equal(read_file(gpt_path, &data, &len, err), 0);
    snprintf(path, sizeof path, "%s/t.ckpt", dir);
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, len / 2, f);
    fclose(f);
    free(data);
    assert_int_equal(lm_open(path, &m, err), -1);
    assert_non_null(strstr(err, "t.ckpt"));
}

/* The loader's constant-unit rules and the run-folder listing used by compare/energy. */
static void loader_constant_units_and_step_lists(void **state) {
    (void)state;
    char err[TB_ERRLEN], path[900];
    /* 2 trials x 3 stimuli x 3 units; unit 1 is constant in the trial mean (5 everywhere) */
    float a[18] = {1, 5, 2, 3, 5, 1, 0, 5, 4,
                   2, 5, 2, 1, 5, 3, 2, 5, 1};
    int64_t shape[3] = {2, 3, 3};
    snprintf(path, sizeof path, "%s/c.npy", dir);
    assert_int_equal(npy_write_f32(path, a, 3, shape, err), 0);
    rep_layer L;
    assert_int_equal(rep_load_layer(path, "c", 0, &L, err), -1);
    assert_non_null(strstr(err, "unit 1 is constant"));
    assert_non_null(strstr(err, "--drop-constant"));
    assert_int_equal(rep_load_layer(path, "c", 1, &L, err), 0);
    assert_int_equal(L.p, 2);
    assert_int_equal(L.dropped, 1);
    assert_true(L.mean[0] == 1.5 && L.mean[1] == 2.0);   /* units 0 and 2 of stimulus 0 */
    assert_true(L.trial[8] == 1.0 && L.trial[9] == 3.0); /* trial 1, stimulus 1: units 0 and 2 */
    rep_layer_free(&L);
    assert_int_equal(rep_load_layer(path, "c", 2, &L, err), 0);
    assert_int_equal(L.p, 3);
    rep_layer_free(&L);
    /* step_*.ckpt in step order, other files ignored */
    char sub[400];
    snprintf(sub, sizeof sub, "%s/run", dir);
    assert_int_equal(make_dirs(sub, err), 0);
    const char *names[4] = {"step_000200.ckpt", "step_000000.ckpt", "notes.txt", "step_001200.ckpt"};
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", sub, names[i]);
        assert_int_equal(write_text_file(path, "x", err), 0);
    }
    char **steps;
    int n;
    assert_int_equal(rep_list_steps(sub, &steps, &n), 0);
    assert_int_equal(n, 3);
    assert_non_null(strstr(steps[0], "step_000000"));
    assert_non_null(strstr(steps[2], "step_001200"));
    for (int i = 0; i < n; i++) free(steps[i]);
    free(steps);
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", sub, names[i]);
        remove(path);
    }
    rmdir(sub);
    assert_true(rep_is_dir(dir) && !rep_is_dir("/nonexistent"));
}

/* A stimulus line is as long as it is: before, lines were cut at 2046 bytes and the cut
 * word reported as unknown (issue 16 #7). */
/* --drop-nan: a unit with a NaN in any trial goes (the others keep their order and
 * values, trial by trial); without it the file is refused, naming the place. */
static void loader_nan_units(void **state) {
    (void)state;
    char err[TB_ERRLEN], path[900];
    float a[18] = {1, 2, 3, 4, 5, 6, 7, 8, 9,
                   2, 4, 7, 3, 9, NAN, 8, 1, 1};   /* 2 trials x 3 stimuli x 3 units; unit 2 has a NaN */
    int64_t shape[3] = {2, 3, 3};
    snprintf(path, sizeof path, "%s/nan.npy", dir);
    assert_int_equal(npy_write_f32(path, a, 3, shape, err), 0);
    rep_layer L;
    assert_int_equal(rep_load_layer(path, "n", 0, &L, err), -1);
    assert_non_null(strstr(err, "stimulus 1, unit 2"));
    assert_non_null(strstr(err, "--drop-nan"));
    assert_int_equal(rep_load_layer(path, "n", REP_DROP_NAN, &L, err), 0);
    assert_int_equal(L.p, 2);
    assert_int_equal(L.dropped_nan, 1);
    assert_int_equal(L.trials, 2);
    float want[12] = {1, 2, 4, 5, 7, 8, 2, 4, 3, 9, 8, 1};
    for (int i = 0; i < 12; i++) assert_true(L.trial[i] == want[i]);
    assert_true(L.mean[0] == 1.5 && L.mean[5] == 4.5);
    rep_layer_free(&L);
}

static void long_stimulus_lines(void **state) {
    (void)state;
    char err[TB_ERRLEN], path[320];
    lm_model m;
    assert_int_equal(lm_open(gpt_path, &m, err), 0);
    size_t unit = strlen("the cats see the dogs "), reps = 400;
    char *text = malloc(unit * reps + 64), *q = text;
    assert_non_null(text);
    for (size_t i = 0; i < reps; i++) q += sprintf(q, "the cats see the dogs ");
    sprintf(q, ".\na cat sleeps .\nthe dog sees a cat .\n");
    snprintf(path, sizeof path, "%s/long.txt", dir);
    assert_int_equal(write_text_file(path, text, err), 0);
    free(text);
    rec_stimuli s;
    assert_int_equal(rec_stimuli_load(path, &m.tok, &s, err), 0);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.len[0], 1 + 5 * (int)reps + 1); /* ".", 400 x 5 words, "." */
    assert_int_equal(s.ids[0][5 * reps + 1], tok_id(&m.tok, "."));
    assert_true(strlen(s.text[0]) > 8000);
    rec_stimuli_free(&s);
    remove(path);
    lm_close(&m);
}

/* The recording folder: arrays where the manifest says, the manifest exactly. */
static void recording_folder_and_manifest(void **state) {
    (void)state;
    char err[TB_ERRLEN], path[400], out[320];
    lm_model m;
    rec_stimuli s;
    rep_set r;
    assert_int_equal(lm_open(dale_path, &m, err), 0);
    assert_int_equal(write_text_file(stim_path, "the cat sees a dog .\nthe dogs see a cat .\na cat sleeps .\n", err), 0);
    assert_int_equal(rec_stimuli_load(stim_path, &m.tok, &s, err), 0);
    rec_opts o = {1, 2, 0, 5, -1, {NULL, NULL}};
    assert_int_equal(rec_record(&m, &s, &o, &r, err), 0);
    snprintf(out, sizeof out, "%s/rec \"x\"", dir); /* a folder name JSON must escape */
    assert_int_equal(rec_save(out, &m, stim_path, &s, &o, &r, err), 0);
    snprintf(path, sizeof path, "%s/manifest.json", out);
    char *text, *want;
    size_t len;
    assert_int_equal(read_file(path, &text, &len, err), 0);
    int ne = r.layer[1].p, ni = r.layer[2].p;
    const char *f32 = "\"dtype\": \"float32\", \"order\": \"C\", ",
               *axes = "\"dims\": \"trials x stimuli x units\", \"axes\": [\"trial: a repetition with fresh background "
                       "noise\", \"stimulus: line i of the stimuli file\", ";
    assert_int_equal(ne + ni, 40);
    assert_true(asprintf(&want,
                         "{\n  \"model\": \"%s\",\n  \"kind\": \"srnn\",\n  \"step\": -1,\n  \"stimuli\": \"%s\",\n"
                         "  \"n_stimuli\": 3,\n  \"pool\": \"last\",\n  \"trials\": 2,\n  \"units\": \"firing rate, Hz\",\n"
                         "  \"language_input\": true,\n"
                         "  \"arrays\": [\n"
                         "    {\"file\": \"rates.npy\", %s\"shape\": [2, 3, 40], %s\"unit: neuron (under Dale's law the "
                         "excitatory ones first)\"]},\n"
                         "    {\"file\": \"subpop/rates_exc.npy\", %s\"shape\": [2, 3, %d], %s\"unit: excitatory neuron\"]},\n"
                         "    {\"file\": \"subpop/rates_inh.npy\", %s\"shape\": [2, 3, %d], %s\"unit: inhibitory neuron "
                         "(numbered after the excitatory ones)\"]}\n"
                         "  ]\n}\n", dale_path, stim_path, f32, axes, f32, ne, axes, f32, ni, axes) > 0);
    assert_string_equal(text, want);
    free(text);
    free(want);
    /* the arrays hold the recording, as float32 */
    tb_array a;
    snprintf(path, sizeof path, "%s/subpop/rates_inh.npy", out);
    assert_int_equal(npy_read(path, &a, err), 0);
    assert_int_equal(a.ndim, 3);
    assert_int_equal(a.shape[2], ni);
    assert_true(a.data[7] == (float)r.layer[2].trial[7]);
    array_free(&a);
    /* the rate summary by hand: mean over stimuli per neuron, then over neurons */
    double mean, want_mean = 0;
    int silent, want_silent = 0;
    rec_rate_summary(&r.layer[0], &mean, &silent);
    for (int j = 0; j < 40; j++) {
        double c = 0;
        for (int i = 0; i < 3; i++) c += r.layer[0].mean[i * 40 + j];
        want_mean += c / 3 / 40;
        want_silent += c == 0;
    }
    assert_true(fabs(mean - want_mean) < 1e-9 && silent == want_silent && mean > 0);
    const char *files[] = {"subpop/rates_exc.npy", "subpop/rates_inh.npy", "rates.npy", "manifest.json", "subpop", ""};
    for (int i = 0; i < 6; i++) {
        snprintf(path, sizeof path, "%s/%s", out, files[i]);
        remove(path);
    }
    rep_free(&r);
    rec_stimuli_free(&s);
    lm_close(&m);
}

/* An empty run folder is a list of no steps (and no qsort(NULL, 0) for UBSan). */
static void empty_run_folder(void **state) {
    (void)state;
    char sub[320], **steps = (char **)&sub;
    int n = -1;
    snprintf(sub, sizeof sub, "%s/empty_run", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    assert_int_equal(rep_list_steps(sub, &steps, &n), 0);
    assert_int_equal(n, 0);
    assert_null(steps);
    rmdir(sub);
    assert_int_equal(rep_list_steps("/nonexistent/run", &steps, &n), -1);
}

static int teardown(void **state) {
    (void)state;
    const char *names[] = {"g.ckpt", "s.ckpt", "d.ckpt", "stim.txt", "n.ckpt", "t.ckpt", "c.npy"};
    char path[400];
    for (int i = 0; i < 7; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        remove(path);
    }
    rmdir(dir);
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gpt_recording_shapes_and_determinism),
        cmocka_unit_test(snn_recording_trials_and_subpopulations),
        cmocka_unit_test(no_language_control),
        cmocka_unit_test(bad_checkpoints),
        cmocka_unit_test(loader_constant_units_and_step_lists),
        cmocka_unit_test(loader_nan_units),
        cmocka_unit_test(long_stimulus_lines),
        cmocka_unit_test(recording_folder_and_manifest),
        cmocka_unit_test(empty_run_folder),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
