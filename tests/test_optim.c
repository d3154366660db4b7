/* test_optim.c -- AdamW against steps computed by hand (in double), the warm-up + cosine
 * schedule at its landmarks, gradient clipping, the weight-decay mask and the checkpoint
 * round trip of the moments and settings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "optim.h"

#include <math.h>
#include <string.h>

/* Two AdamW steps on three parameters, worked out in double:
 *   m = b1 m + (1-b1) g, v = b2 v + (1-b2) g^2, m^ = m/(1-b1^t), v^ = v/(1-b2^t)
 *   p -= lr (m^/(sqrt(v^)+eps) + wd p)   (wd only where the mask says so) */
static void hand_computed_steps(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tb_adamw_cfg c;
    adamw_default_cfg(&c);
    c.lr = 0.1;
    c.beta1 = 0.9;
    c.beta2 = 0.99;
    c.eps = 1e-8;
    c.weight_decay = 0.5;
    c.clip_norm = 0;
    c.warmup_steps = 0;
    c.total_steps = 0;   /* constant lr */
    tb_adamw o;
    assert_int_equal(adamw_init(&o, &c, 3, err), 0);
    float p[3] = {1.0f, -2.0f, 0.5f};
    unsigned char mask[3] = {1, 0, 1};
    double pd[3] = {1.0, -2.0, 0.5}, m[3] = {0}, v[3] = {0};
    const double g1[3] = {0.5, -1.0, 0.0}, g2[3] = {-0.25, 2.0, 1e-3};
    for (int t = 1; t <= 2; t++) {
        const double *g = t == 1 ? g1 : g2;
        float gf[3] = {(float)g[0], (float)g[1], (float)g[2]};
        adamw_step(&o, p, gf, mask);
        for (int i = 0; i < 3; i++) {
            m[i] = 0.9 * m[i] + 0.1 * g[i];
            v[i] = 0.99 * v[i] + 0.01 * g[i] * g[i];
            double mh = m[i] / (1 - pow(0.9, t)), vh = v[i] / (1 - pow(0.99, t));
            pd[i] -= 0.1 * (mh / (sqrt(vh) + 1e-8) + (mask[i] ? 0.5 * pd[i] : 0.0));
        }
        for (int i = 0; i < 3; i++)
            if (fabs(p[i] - pd[i]) > 1e-6) fail_msg("step %d param %d: %.8g vs hand %.8g", t, i, p[i], pd[i]);
    }
    /* step 1 by hand for param 0: m^ = 0.5, v^ = 0.25, update 0.1 (1 + 0.5) = 0.15 -> 0.85 */
    assert_int_equal(o.t, 2);
    adamw_free(&o);
}

static void schedule_landmarks(void **state) {
    (void)state;
    tb_adamw_cfg c;
    adamw_default_cfg(&c);
    c.lr = 1e-2;
    c.warmup_steps = 10;
    c.total_steps = 110;
    c.min_lr_frac = 0.1;
    assert_true(fabs(adamw_lr(&c, 0) - 1e-3) < 1e-15);          /* lr/warmup at step 0 */
    assert_true(fabs(adamw_lr(&c, 4) - 5e-3) < 1e-15);
    assert_true(fabs(adamw_lr(&c, 9) - 1e-2) < 1e-15);          /* peak at the end of warm-up */
    assert_true(fabs(adamw_lr(&c, 10) - 1e-2) < 1e-15);
    assert_true(fabs(adamw_lr(&c, 60) - 1e-2 * (0.1 + 0.9 * 0.5)) < 1e-12);   /* half-way: cos = 0 */
    assert_true(fabs(adamw_lr(&c, 110) - 1e-3) < 1e-15);       /* floor at the end */
    assert_true(fabs(adamw_lr(&c, 500) - 1e-3) < 1e-15);       /* and after it */
    for (int t = 11; t <= 110; t++) assert_true(adamw_lr(&c, t) <= adamw_lr(&c, t - 1));
}

static void clipping(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tb_adamw_cfg c;
    adamw_default_cfg(&c);
    c.clip_norm = 1.0;
    c.weight_decay = 0;
    tb_adamw o;
    adamw_init(&o, &c, 2, err);
    float p[2] = {0, 0}, g[2] = {3.0f, 4.0f};
    double norm = adamw_step(&o, p, g, NULL);
    assert_true(fabs(norm - 5.0) < 1e-12);
    assert_true(fabsf(g[0] - 0.6f) < 1e-7f && fabsf(g[1] - 0.8f) < 1e-7f);   /* clipped to norm 1 */
    assert_true(fabsf(o.m[0] - 0.1f * 0.6f) < 1e-7f);
    float g2[2] = {0.3f, 0.4f};   /* below the clip: untouched */
    norm = adamw_step(&o, p, g2, NULL);
    assert_true(fabs(norm - 0.5) < 1e-7 && g2[0] == 0.3f && g2[1] == 0.4f);
    assert_true(fabs(grad_norm(g2, 2) - 0.5) < 1e-7);
    adamw_free(&o);
}

/* With a zero gradient only decay moves a parameter: p <- p (1 - lr wd) when masked in. */
static void decay_mask(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tb_adamw_cfg c;
    adamw_default_cfg(&c);
    c.lr = 0.1;
    c.weight_decay = 0.2;
    c.clip_norm = 0;
    tb_adamw o;
    adamw_init(&o, &c, 2, err);
    float p[2] = {2.0f, 2.0f}, g[2] = {0, 0};
    unsigned char mask[2] = {1, 0};
    adamw_step(&o, p, g, mask);
    assert_true(fabsf(p[0] - 2.0f * (1 - 0.02f)) < 1e-6f);
    assert_true(p[1] == 2.0f);
    adamw_free(&o);
}

/* The moments and the settings survive a checkpoint exactly; bad values are refused. */
static void checkpoint_round_trip(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tb_adamw_cfg c, c2;
    adamw_default_cfg(&c);
    assert_true(c.lr == ADAMW_DEF_LR && c.beta2 == ADAMW_DEF_BETA2 && c.clip_norm == ADAMW_DEF_CLIP);
    c.lr = 1.0 / 3;
    c.warmup_steps = 7;
    c.total_steps = 90;
    tb_adamw o, o2;
    adamw_init(&o, &c, 3, err);
    float p[3] = {1, 2, 3}, g[3] = {0.5f, -0.25f, 1e-3f};
    for (int i = 0; i < 4; i++) adamw_step(&o, p, g, NULL);
    tb_ckpt ck;
    ckpt_init(&ck, "x");
    assert_int_equal(adamw_to_ckpt(&o, &ck, err), 0);
    assert_int_equal(adamw_cfg_to_ckpt(&o.cfg, &ck, err), 0);
    assert_int_equal(adamw_cfg_from_ckpt(&c2, &ck, err), 0);
    assert_memory_equal(&c, &c2, sizeof c);
    assert_int_equal(adamw_init(&o2, &c2, 3, err), 0);
    assert_int_equal(adamw_from_ckpt(&o2, &ck, err), 0);
    assert_true(o2.t == 4);
    assert_memory_equal(o.m, o2.m, sizeof p);
    assert_memory_equal(o.v, o2.v, sizeof p);
    adamw_free(&o2);
    assert_int_equal(adamw_init(&o2, &c2, 4, err), 0);   /* another size */
    assert_int_equal(adamw_from_ckpt(&o2, &ck, err), -1);
    assert_non_null(strstr(err, "adam_m"));
    ckpt_set(&ck, "warmup_steps", "-2");
    assert_int_equal(adamw_cfg_from_ckpt(&c2, &ck, err), -1);
    assert_non_null(strstr(err, "warmup_steps -2"));
    ckpt_free(&ck);
    adamw_free(&o);
    adamw_free(&o2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hand_computed_steps),
        cmocka_unit_test(schedule_landmarks),
        cmocka_unit_test(clipping),
        cmocka_unit_test(decay_mask),
        cmocka_unit_test(checkpoint_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
