/* align_procrustes.c -- Procrustes shape distances (lesson 11; Williams et al. 2021).
 *
 * Centre both sides and scale each to unit Frobenius norm; the best rotation Q (any
 * orthogonal map, zero-padding the narrower side) minimises ||X - Y Q||_F, and
 *     min ||X - Y Q||_F^2 = 2 - 2 ||X^T Y||_*       (||.||_* = nuclear norm).
 * Unlike CKA or CCA this is a true distance (triangle inequality), so distances can be
 * averaged and clustered.  Two forms: euclidean sqrt(2 - 2 ||X^T Y||_*) and angular
 * arccos(||X^T Y||_*).
 */
#include "align_priv.h"
#include "linalg.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

/* Eigenvalues of a Gram-like matrix carry an absolute rounding error of about
 * q eps max|w|: below that a "zero" eigenvalue may come out as +-1e-17 and its square
 * root (3e-9) would count as signal, by an amount that depends on the machine's
 * rounding (x86-64 and aarch64 differ).  The floor under which w is taken as zero. */
static double eig_noise_floor(const double *w, int q) {
    double wmax = 0;
    for (int i = 0; i < q; i++) if (fabs(w[i]) > wmax) wmax = fabs(w[i]);
    return 4.0 * q * DBL_EPSILON * wmax;
}

/* sqrt of an eigenvalue, zero at or under the noise floor */
static double sqrt_above(double w, double fl) { return w > fl ? sqrt(w) : 0; }

/* Nuclear norm of X^T Y from its singular values (min(px, py) <= n here). */
static int nuclear_small(const double *X, int n, int px, const double *Y, int py, double *nuc, char *err) {
    int q = px <= py ? px : py;
    double *w = al_doubles((size_t)q);
    if (!w) return tb_fail(err, "out of memory");
    int rc = al_cross_sv2(X, n, px, Y, py, w, err);
    double s = 0, fl = rc ? 0 : eig_noise_floor(w, q);
    for (int i = 0; !rc && i < q; i++) s += sqrt_above(w[i], fl);
    *nuc = s;
    free(w);
    return rc;
}

/* Both widths above n: the squared singular values of X^T Y are the eigenvalues of
 * Kx^(1/2) Ky Kx^(1/2) (n x n), with Kx = X X^T, Ky = Y Y^T. */
static int nuclear_gram(const double *X, int n, int px, const double *Y, int py, double *nuc, char *err) {
    size_t N = (size_t)n * n;
    double *Kx = al_doubles(N), *Ky = al_doubles(N), *w = al_doubles((size_t)n);
    double *V = al_doubles(N), *R = al_doubles(N), *T = al_doubles(N), *Vt = al_doubles(N);
    int rc = -1;
    if (!Kx || !Ky || !w || !V || !R || !T || !Vt) { tb_fail(err, "out of memory"); goto done; }
    la_gram_rows(n, px, X, Kx);
    la_gram_rows(n, py, Y, Ky);
    if (la_eigh(n, Kx, w, V, err)) goto done;
    /* R = V sqrt(w) V^T = Kx^(1/2), as one product */
    double fl = eig_noise_floor(w, n);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < n; k++) {
            T[(size_t)i * n + k] = V[(size_t)i * n + k] * sqrt_above(w[k], fl);
            Vt[(size_t)k * n + i] = V[(size_t)i * n + k];
        }
    la_gemm_nn(n, n, n, T, Vt, R);
    la_gemm_nn(n, n, n, R, Ky, T);
    la_gemm_nn(n, n, n, T, R, Kx);
    if (la_eigh(n, Kx, w, NULL, err)) goto done;
    double s = 0;
    fl = eig_noise_floor(w, n);
    for (int i = 0; i < n; i++) s += sqrt_above(w[i], fl);
    *nuc = s;
    rc = 0;
done:
    free(Kx); free(Ky); free(w); free(V); free(R); free(T); free(Vt);
    return rc;
}

int procrustes(const double *X, int n, int px, const double *Y, int py, double *euclidean,
               double *angular, char *err) {
    if (n < 2) return tb_fail(err, "Procrustes needs at least 2 stimuli");
    double *Xc = al_centred(X, n, px), *Yc = al_centred(Y, n, py);
    double nx, ny, nuc = 0;
    int rc = -1;
    if (!Xc || !Yc) { tb_fail(err, "out of memory"); goto done; }
    nx = sqrt(al_frob2(Xc, (size_t)n * px));
    ny = sqrt(al_frob2(Yc, (size_t)n * py));
    if (!(nx > 0) || !(ny > 0)) { tb_fail(err, "Procrustes: one side has no variance across stimuli"); goto done; }
    for (size_t i = 0; i < (size_t)n * px; i++) Xc[i] /= nx;
    for (size_t i = 0; i < (size_t)n * py; i++) Yc[i] /= ny;
    int small = px < py ? px : py;
    if (small <= n ? nuclear_small(Xc, n, px, Yc, py, &nuc, err) : nuclear_gram(Xc, n, px, Yc, py, &nuc, err)) goto done;
    if (nuc > 1) nuc = 1; /* rounding: ||X^T Y||_* <= ||X|| ||Y|| = 1 */
    *euclidean = sqrt(2.0 - 2.0 * nuc > 0 ? 2.0 - 2.0 * nuc : 0);
    *angular = acos(nuc);
    rc = 0;
done:
    free(Xc); free(Yc);
    return rc;
}
