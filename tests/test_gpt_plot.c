/* test_gpt_plot.c -- the attention maps read after a forward pass, and their picture. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "gpt_plot.h"
#include "io.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void tiny_model(gpt_model *m) {
    gpt_config c;
    char err[TB_ERRLEN];
    gpt_default_config(&c);
    c.vocab_size = 7;
    c.ctx = 8;
    c.n_layer = 2;
    c.n_head = 3;
    c.d_model = 12;
    c.seed = 5;
    assert_int_equal(gpt_init(m, &c, err), 0);
    tb_rng r;   /* weights large enough for the heads to prefer some keys */
    rng_seed(&r, 9);
    for (size_t i = 0; i < m->n_params; i++) m->params_mem[i] += (float)(0.5 * rng_normal(&r));
}

/* Every map is causal (nothing above the diagonal), every row sums to 1, and the
 * argmax of the last row is where that row is largest. */
static void maps_are_causal_distributions(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    gpt_model m;
    tiny_model(&m);
    gpt_attention a;
    assert_int_equal(gpt_attention_read(&m, 5, &a, err), -1);   /* no forward pass yet */
    int ids[5] = {1, 4, 2, 6, 0}, T = 5;
    assert_int_equal(gpt_forward(&m, ids, NULL, 1, T, NULL, err), 0);
    assert_int_equal(gpt_attention_read(&m, T, &a, err), 0);
    assert_true(a.L == 2 && a.NH == 3 && a.T == T);
    for (int i = 0; i < a.L * a.NH; i++) {
        const float *A = a.maps[i];
        for (int t = 0; t < T; t++) {
            double sum = 0;
            for (int s = 0; s < T; s++) {
                if (s > t) assert_true(A[t * T + s] == 0);
                sum += A[t * T + s];
            }
            assert_true(fabs(sum - 1) < 1e-5);
        }
        const float *last = A + (T - 1) * T;
        for (int s = 0; s < T; s++) assert_true(last[s] <= last[a.argmax_last[i]]);
    }
    assert_ptr_equal(a.maps[4], gpt_tap(&m, GPT_TAP_ATTN_WEIGHTS, 1, NULL) + T * T);   /* layer 1, head 1 */
    /* the picture: a 2 x 3 grid of panels */
    char path[64];
    snprintf(path, sizeof path, "/tmp/tb_test_gpt_plot_%ld.png", (long)getpid());
    const char *labels[5] = {"a", "b", "c", "d", "e"};
    assert_int_equal(gpt_plot_attention(path, &a, labels, "attention", err), 0);
    char *png;
    size_t n;
    assert_int_equal(read_file(path, &png, &n, err), 0);
    assert_true(n > 100 && !memcmp(png, "\x89PNG", 4));
    free(png);
    remove(path);
    gpt_attention_free(&a);
    assert_null(a.maps);
    gpt_free(&m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(maps_are_causal_distributions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
