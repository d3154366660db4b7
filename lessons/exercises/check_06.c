/* check_06.c -- your layer-norm backward against tinybrain's kernel (tb_kern, include/
 * kernels.h) and against central finite differences of L = sum(dy * y) in double. */
#include "exercise.h"
#include "kernels.h"

#include <math.h>
#include <stdio.h>

#define CMAX 64
#define EPS 1e-5f

/* L(x, w, b) = sum_i dy_i y_i in double, y = layernorm(x) w + b */
static double loss(const double *x, const double *w, const double *b, const float *dy, int C) {
    double mu = 0, var = 0, L = 0;
    for (int i = 0; i < C; i++) mu += x[i];
    mu /= C;
    for (int i = 0; i < C; i++) var += (x[i] - mu) * (x[i] - mu);
    double rstd = 1 / sqrt(var / C + EPS);
    for (int i = 0; i < C; i++) L += dy[i] * ((x[i] - mu) * rstd * w[i] + b[i]);
    return L;
}

/* d L / d v[i] for v = x, w or b by central differences (h relative to the row's scale) */
static void numeric(double *v, double *x, double *w, double *b, const float *dy, int C, double h,
                    double *out) {
    for (int i = 0; i < C; i++) {
        double keep = v[i];
        v[i] = keep + h; double lp = loss(x, w, b, dy, C);
        v[i] = keep - h; double lm = loss(x, w, b, dy, C);
        v[i] = keep;
        out[i] = (lp - lm) / (2 * h);
    }
}

static int run_case(const char *name, int C, double shift, double scale, unsigned long long seed) {
    float x[CMAX], w[CMAX], b[CMAX], dy[CMAX], dx[CMAX], dw[CMAX], db[CMAX];
    float rx[CMAX] = {0}, rw[CMAX] = {0}, rb[CMAX] = {0}, y[CMAX], mean, rstd;
    double xd[CMAX], wd[CMAX], bd[CMAX], nx[CMAX], nw[CMAX], yours[CMAX];
    for (int i = 0; i < C; i++) {
        x[i] = (float)(shift + scale * ex_uniform(&seed));
        w[i] = (float)(1 + 0.5 * ex_uniform(&seed));
        b[i] = (float)(0.1 * ex_uniform(&seed));
        dy[i] = (float)ex_uniform(&seed);
        xd[i] = x[i]; wd[i] = w[i]; bd[i] = b[i];
    }
    ex_layernorm_backward(x, w, dy, C, EPS, dx, dw, db);
    tb_kern->layernorm_forward(y, &mean, &rstd, x, w, b, 1, C);
    tb_kern->layernorm_backward(rx, rw, rb, dy, x, w, &mean, &rstd, 1, C);
    int bad = ex_comparef(name, "db against the kernel", db, rb, C, 1e-6)
            + ex_comparef(name, "dw against the kernel", dw, rw, C, 1e-4)
            + ex_comparef(name, "dx against the kernel", dx, rx, C, 2e-4 / scale);
    numeric(xd, xd, wd, bd, dy, C, 1e-4 * scale, nx);
    numeric(wd, xd, wd, bd, dy, C, 1e-4, nw);
    for (int i = 0; i < C; i++) yours[i] = dx[i];
    bad += ex_compare(name, "dx against finite differences", yours, nx, C, 1e-3 / scale);
    for (int i = 0; i < C; i++) yours[i] = dw[i];
    bad += ex_compare(name, "dw against finite differences", yours, nw, C, 1e-3);
    return bad != 0;
}

int main(void) {
    int n = 0, bad = 0;
    n++; bad += run_case("C = 4, x in [-1, 1]", 4, 0, 1, 1);
    n++; bad += run_case("C = 64, x in [-1, 1]", 64, 0, 1, 2);
    n++; bad += run_case("C = 16, x shifted by +5", 16, 5, 1, 3);
    n++; bad += run_case("C = 32, x scaled by 3", 32, 0, 3, 4);
    n++; bad += run_case("C = 2 (xhat is +-1)", 2, 0, 1, 5);
    return ex_finish("06", n, bad);
}
