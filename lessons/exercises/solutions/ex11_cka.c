/* Exercise 11, reference solution in Gram form: tr(Kx Ky) / (||Kx|| ||Ky||) with centred
 * Gram matrices.  tinybrain's cka_linear (src/align/align_cka.c) picks the feature form
 * ||Y^T X||^2 / (||X^T X|| ||Y^T Y||) when the features are fewer than the stimuli. */
#include "exercise.h"

#include <math.h>
#include <stdlib.h>

/* K[n, n] = Zc Zc^T with the columns of Z[n, p] centred */
static double *centred_gram(const double *Z, int n, int p) {
    double *mean = calloc((size_t)p, sizeof *mean), *K = malloc((size_t)n * n * sizeof *K);
    if (!mean || !K) { free(mean); free(K); return NULL; }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < p; j++) mean[j] += Z[(size_t)i * p + j] / n;
    for (int a = 0; a < n; a++)
        for (int b = 0; b < n; b++) {
            double s = 0;
            for (int j = 0; j < p; j++)
                s += (Z[(size_t)a * p + j] - mean[j]) * (Z[(size_t)b * p + j] - mean[j]);
            K[(size_t)a * n + b] = s;
        }
    free(mean);
    return K;
}

double ex_cka_linear(const double *X, int n, int px, const double *Y, int py) {
    double *Kx = centred_gram(X, n, px), *Ky = centred_gram(Y, n, py), r = NAN;
    if (Kx && Ky) {
        double xy = 0, xx = 0, yy = 0;
        for (size_t i = 0; i < (size_t)n * n; i++) {
            xy += Kx[i] * Ky[i];
            xx += Kx[i] * Kx[i];
            yy += Ky[i] * Ky[i];
        }
        if (xx > 0 && yy > 0) r = xy / sqrt(xx * yy);
    }
    free(Kx);
    free(Ky);
    return r;
}
