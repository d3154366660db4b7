/* check_07.c -- your causal softmax backward against tinybrain's kernel (tb_kern) and
 * against central finite differences of L = sum_s dp_s softmax(z)_s in double. */
#include "exercise.h"
#include "kernels.h"

#include <math.h>
#include <stdio.h>

#define TMAX 64

static double loss(const double *z, const float *dp, int n) {
    double m = z[0], sum = 0, L = 0;
    for (int s = 1; s < n; s++) m = z[s] > m ? z[s] : m;
    for (int s = 0; s < n; s++) sum += exp(z[s] - m);
    for (int s = 0; s < n; s++) L += dp[s] * exp(z[s] - m) / sum;
    return L;
}

static int run_case(const char *name, int t, double zscale, unsigned long long seed) {
    int n = t + 1;
    float z[TMAX], p[TMAX], dp[TMAX], dz[TMAX] = {0}, rz[TMAX];
    double zd[TMAX], num[TMAX], yours[TMAX];
    for (int s = 0; s < n; s++) {
        z[s] = (float)(zscale * ex_uniform(&seed));
        dp[s] = (float)ex_uniform(&seed);
        zd[s] = z[s];
    }
    tb_kern->softmax_forward(p, z, 1, n);
    tb_kern->softmax_backward(rz, dp, p, 1, n);
    ex_attn_softmax_backward(p, dp, t, dz);
    int bad = ex_comparef(name, "dz against the kernel", dz, rz, n, 1e-6);
    for (int s = 0; s < n; s++) {
        double keep = zd[s], h = 1e-5;
        zd[s] = keep + h; double lp = loss(zd, dp, n);
        zd[s] = keep - h; double lm = loss(zd, dp, n);
        zd[s] = keep;
        num[s] = (lp - lm) / (2 * h);
        yours[s] = dz[s];
    }
    bad += ex_compare(name, "dz against finite differences", yours, num, n, 1e-5);
    return bad != 0;
}

int main(void) {
    int n = 0, bad = 0;
    n++; bad += run_case("t = 0 (the first token attends only to itself)", 0, 1, 1);
    n++; bad += run_case("t = 3, scores in [-1, 1]", 3, 1, 2);
    n++; bad += run_case("t = 15, scores in [-1, 1]", 15, 1, 3);
    n++; bad += run_case("t = 31, peaked scores in [-8, 8]", 31, 8, 4);
    n++; bad += run_case("t = 63, flat scores in [-0.01, 0.01]", 63, 0.01, 5);
    return ex_finish("07", n, bad);
}
