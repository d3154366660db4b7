/* test_work.c -- work counts and the 45 nm energy model (src/study/work.c): GPT
 * multiply-accumulates per token worked by hand (with and without the context cap, over
 * two sentences), the energy of MACs and of spiking events, and a measured checkpoint
 * whose count equals the formula over the tokens it read. */
#include "corpus.h"
#include "io.h"
#include "lm.h"
#include "work.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* C = 2, r = 4, L = 1, V = 3: per position 4 C^2 + 2 r C^2 + C V = 16 + 32 + 6 = 54, plus
 * 2 C (t + 1) = 4 (t + 1) for attention over the t + 1 visible positions. */
static void gpt_macs_by_hand(void **state) {
    (void)state;
    gpt_config g;
    memset(&g, 0, sizeof g);
    g.d_model = 2; g.mlp_ratio = 4; g.n_layer = 1; g.vocab_size = 3; g.ctx = 8;
    /* "a ." read as ". a .": t = 0, 1, 2 -> 3 x 54 + 4 (1 + 2 + 3) = 186 over 3 tokens */
    int one[2] = {1, 0}, two[5] = {1, 0, 2, 2, 0}, open[2] = {1, 2};
    assert_true(work_gpt_macs_per_token(&g, one, 2, 0) == 62.0);
    /* a stream that does not end in eos counts its last sentence the same way */
    assert_true(work_gpt_macs_per_token(&g, open, 2, 0) == 62.0);
    /* and a second sentence "b b .": 4 x 54 + 4 (1 + 2 + 3 + 4) = 256 over 4 tokens */
    assert_true(fabs(work_gpt_macs_per_token(&g, two, 5, 0) - 442.0 / 7) < 1e-12);
    /* a context of 2: attention sees at most 2 positions: 162 + 4 (1 + 2 + 2) */
    g.ctx = 2;
    assert_true(fabs(work_gpt_macs_per_token(&g, one, 2, 0) - 182.0 / 3) < 1e-12);
    assert_true(work_gpt_macs_per_token(&g, one, 0, 0) == 0.0);
}

/* Counted work (lesson 18) from hand-made counters, C = 2, r = 4 (H = 8), L = 2, V = 3:
 * over 4 scored positions, block 0 ran at all 4 with 16 nonzero hidden units in total,
 * block 1 was skipped.  Per position: 1 block, MLP C H + 16 x C / 4 = 16 + 8 MACs, so
 * per_pos = 4 C^2 + 24 + C V = 46 and attention 2 C (t + 1) for one block. */
static void gpt_macs_counted_by_hand(void **state) {
    (void)state;
    gpt_config g;
    memset(&g, 0, sizeof g);
    g.d_model = 2; g.mlp_ratio = 4; g.n_layer = 2; g.vocab_size = 3; g.ctx = 8;
    double count[3] = {1, 2, 1}, blocks[6] = {1, 2, 1, 0, 0, 0}, active[6] = {4, 8, 4, 0, 0, 0};
    double slots[6] = {1, 2, 1, 0, 0, 0};
    gpt_usage u = {count, blocks, active, slots, NULL};
    int one[2] = {1, 0};   /* ". a .": t = 0, 1, 2 -> 3 x 46 + 4 (1 + 2 + 3) = 162 over 3 */
    assert_true(fabs(work_gpt_macs_counted(&g, &u, one, 2, 0) - 54.0) < 1e-12);
    /* both blocks dense and never zero: the shape formula */
    double b2[6] = {1, 2, 1, 1, 2, 1}, a2[6] = {8, 16, 8, 8, 16, 8};
    gpt_usage d = {count, b2, a2, b2, NULL};
    assert_true(fabs(work_gpt_macs_counted(&g, &d, one, 2, 0) - work_gpt_macs_per_token(&g, one, 2, 0)) < 1e-12);
    /* two experts (router C E = 4 per block), top-1: the same MLP work plus the routers */
    g.moe_experts = 2;
    assert_true(fabs(work_gpt_macs_counted(&g, &d, one, 2, 0) - work_gpt_macs_per_token(&g, one, 2, 0) - 8) < 1e-12);
}

static void energy_of_macs_and_events(void **state) {
    (void)state;
    work_row r;
    memset(&r, 0, sizeof r);
    work_gpt_energy(&r, 1000);
    assert_true(r.macs == 1000 && fabs(r.e_compute - 4600) < 1e-9 && fabs(r.e_memory - 9600) < 1e-9);
    /* 10 tokens: per token 100 updates, 50 synaptic, 100 input, 30 readout events, 5 spikes */
    srnn_counters k = {.tokens = 10, .steps = 1000, .neuron_updates = 1000, .spikes = 50, .syn_events = 500,
                       .readout_events = 300, .input_events = 1000};
    memset(&r, 0, sizeof r);
    work_srnn_energy(&r, &k, 1.0);
    assert_true(r.neuron_updates == 100 && r.syn_events == 50 && r.input_events == 100);
    assert_true(r.readout_events == 30 && r.spikes == 5);
    assert_true(fabs(r.rate_hz - 50) < 1e-9);                      /* 50 / 1000 per 1 ms step */
    assert_true(fabs(r.e_compute - (100 * 5.5 + 180 * 0.9)) < 1e-9); /* 712 pJ */
    assert_true(fabs(r.e_memory - (712 + 180 * 5.0)) < 1e-9);
}

/* A GPT on toyworld (run from the repository, where data/toyworld is): its measured MACs
 * are the formula over exactly the whole sentences it read. */
static void measure_a_checkpoint(void **state) {
    (void)state;
    char err[TB_ERRLEN], path[300];
    tb_corpus c;
    if (corpus_load(&c, "toyworld", TB_DATA_DIR, "word", err)) skip();
    gpt_config g;
    gpt_model m;
    tb_ckpt ck;
    gpt_default_config(&g);
    g.vocab_size = c.tok.vocab_size; g.ctx = 32; g.n_layer = 1; g.n_head = 2; g.d_model = 8;
    assert_int_equal(gpt_init(&m, &g, err), 0);
    ckpt_init(&ck, "gpt");
    snprintf(path, sizeof path, "/tmp/tb_test_work_%d.ckpt", (int)getpid());
    assert_int_equal(gpt_to_ckpt(&m, &ck, err) || tok_save(&c.tok, &ck, err) || ckpt_set(&ck, "corpus", "toyworld") ||
                         ckpt_set(&ck, "tokens", "word") || ckpt_set_int(&ck, "step", 5) || ckpt_save(&ck, path, err), 0);
    work_row r;
    assert_int_equal(work_measure(path, TB_DATA_DIR, 100, &r, err), 0);
    assert_string_equal(r.kind, "gpt");
    assert_true(r.step == 5 && isfinite(r.val_loss) && r.val_loss > 0);
    long n = lm_val_tokens(&c, 100);
    assert_true(n >= 100 && c.val[n - 1] == c.eos);
    assert_true(r.macs == work_gpt_macs_per_token(&g, c.val, n, c.eos) && r.macs > 0);
    assert_true(r.e_memory > r.e_compute && r.neuron_updates == 0);
    assert_int_equal(work_measure("/nonexistent.ckpt", TB_DATA_DIR, 100, &r, err), -1);
    remove(path);
    ckpt_free(&ck);
    gpt_free(&m);
    corpus_free(&c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gpt_macs_by_hand),
        cmocka_unit_test(gpt_macs_counted_by_hand),
        cmocka_unit_test(energy_of_macs_and_events),
        cmocka_unit_test(measure_a_checkpoint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
