/* check_05.c -- your STDP step against stdp_decay/stdp_pre/stdp_post (src/snn/stdp.c) on
 * random spike trains, then the measured window against the rule's formula. */
#include "exercise.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define NSYN 8
#define STEPS 4000

/* Random pre/post spikes (rates p_pre, p_post per step) for STEPS steps of dt 0.5 ms. */
static int run_case(const char *name, const stdp_rule *r, double w0, double p_pre, double p_post,
                    unsigned long long seed) {
    stdp_syn s;
    char err[TB_ERRLEN];
    if (stdp_syn_init(&s, r, NSYN, w0, 0.5, err)) { printf("FAIL %s: %s\n", name, err); return 1; }
    float w[NSYN], x[NSYN] = {0}, y = 0;
    for (int i = 0; i < NSYN; i++) w[i] = (float)w0;
    int pre[NSYN];
    for (int t = 0; t < STEPS; t++) {
        for (int i = 0; i < NSYN; i++) pre[i] = ex_uniform(&seed) < 2 * p_pre - 1;
        int post = ex_uniform(&seed) < 2 * p_post - 1;
        ex_stdp_step(r, w, x, &y, NSYN, s.dx, s.dy, pre, post);
        stdp_decay(&s);
        for (int i = 0; i < NSYN; i++) if (pre[i]) stdp_pre(&s, i);
        if (post) stdp_post(&s);
    }
    int bad = ex_comparef(name, "presynaptic traces x", x, s.x, NSYN, 1e-5)
            + ex_comparef(name, "postsynaptic trace y", &y, &s.y, 1, 1e-5)
            + ex_comparef(name, "weights w after 2 s", w, s.w, NSYN, 1e-6);
    stdp_syn_free(&s);
    return bad != 0;
}

/* One pre and one post spike d ms apart: dw must follow the window formula (within the
 * 0.5 ms grid's rounding). */
static int window_case(const stdp_rule *r, double d) {
    float w = 0.5f, x = 0, y = 0;
    long t_pre = 200, t_post = t_pre + lround(d / 0.5);
    float dx = (float)exp(-0.5 / r->tau_plus), dy = (float)exp(-0.5 / r->tau_minus);
    for (long t = 0; t <= 400; t++) {
        int pre = t == t_pre, post = t == t_post;
        ex_stdp_step(r, &w, &x, &y, 1, dx, dy, &pre, post);
    }
    char name[64];
    snprintf(name, sizeof name, "one pair, t_post - t_pre = %+g ms", d);
    double got = w - 0.5, want = stdp_window(r, d, 0.5);
    return ex_compare(name, "weight change dw", &got, &want, 1, 1e-6 + 0.03 * fabs(want));
}

int main(void) {
    stdp_rule add, mult;
    stdp_rule_default(&add);
    mult = add;
    mult.multiplicative = 1;
    mult.a_plus = 0.05;
    mult.a_minus = 0.06;
    int n = 0, bad = 0;
    n++; bad += run_case("only presynaptic spikes (additive)", &add, 0.5, 0.02, 0.0, 1);
    n++; bad += run_case("only postsynaptic spikes (additive)", &add, 0.5, 0.0, 0.02, 2);
    n++; bad += run_case("both, 20 Hz (additive)", &add, 0.5, 0.01, 0.01, 3);
    n++; bad += run_case("both, dense: weights hit the bounds (additive)", &add, 0.9, 0.05, 0.08, 4);
    n++; bad += run_case("both, 20 Hz (multiplicative)", &mult, 0.5, 0.01, 0.01, 5);
    n++; bad += window_case(&add, 10);
    n++; bad += window_case(&add, -10);
    n++; bad += window_case(&add, 40);
    return ex_finish("05", n, bad);
}
