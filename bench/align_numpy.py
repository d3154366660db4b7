#!/usr/bin/python3
"""align_numpy.py -- the peer `tinybrain bench align --compare-numpy` times us against.

The RSA + CKA + encoding subset of `tinybrain align --metric all`, written the way a
numpy user would write it (numpy + its BLAS, no scipy: Debian's python3-numpy), on
data of the same shape as `bench align` uses (X ~ N(0,1), Y = X + N(0,1), n x p):

  rsa       correlation-distance RDMs of both sides, Spearman r (ranks by argsort; the
            data have no ties) and Pearson r of their upper triangles.  tinybrain also
            computes Kendall's tau-a in this family; numpy has no O(m log m) version of
            it, so it is left out here (the peer does less work than we do).
  cka       linear CKA (feature form), debiased linear CKA (unbiased HSIC on the n x n
            Gram matrices), RBF CKA (bandwidth: median squared distance).
  encoding  ridge encoding of Y from X: 5 folds; on each, standardised features, a thin
            SVD of the training rows, 9 ridge values 1e-3..1e5, each unit's ridge chosen
            by exact leave-one-out error (the hat matrix's diagonal), held-out Pearson r
            per unit averaged over folds, then the median over units.

Prints one JSON line: {"rsa": s, "cka": s, "encoding": s, "blas_threads": T}, seconds as
the median of --repeat runs.  Usage: align_numpy.py --n N --p P [--repeat R] [--threads T]
"""
import argparse
import json
import os
import sys
import time


def parse():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--p", type=int, required=True)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    return ap.parse_args()


ARGS = parse()
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)   # before numpy loads its BLAS
import numpy as np  # noqa: E402


def rdm(X):
    """1 - Pearson r between the stimuli's patterns (rows): n x n."""
    return 1.0 - np.corrcoef(X)


def ranks(v):
    r = np.empty(v.size)
    r[np.argsort(v, kind="stable")] = np.arange(v.size)
    return r


def rsa(X, Y):
    iu = np.triu_indices(X.shape[0], 1)
    a, b = rdm(X)[iu], rdm(Y)[iu]
    spearman = np.corrcoef(ranks(a), ranks(b))[0, 1]
    pearson = np.corrcoef(a, b)[0, 1]
    return spearman, pearson


def centre(X):
    return X - X.mean(axis=0)


def cka_linear(X, Y):
    Xc, Yc = centre(X), centre(Y)
    num = np.linalg.norm(Xc.T @ Yc) ** 2
    return num / (np.linalg.norm(Xc.T @ Xc) * np.linalg.norm(Yc.T @ Yc))


def hsic_unbiased(K, L):
    n = K.shape[0]
    K, L = K.copy(), L.copy()
    np.fill_diagonal(K, 0)
    np.fill_diagonal(L, 0)
    KL = K @ L
    s = np.trace(KL) + K.sum() * L.sum() / ((n - 1) * (n - 2)) - 2 * KL.sum() / (n - 2)
    return s / (n * (n - 3))


def cka_debiased(X, Y):
    K, L = X @ X.T, Y @ Y.T
    return hsic_unbiased(K, L) / np.sqrt(hsic_unbiased(K, K) * hsic_unbiased(L, L))


def rbf_gram(X):
    sq = (X * X).sum(axis=1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * X @ X.T, 0)
    sigma2 = np.median(d2[np.triu_indices(X.shape[0], 1)])
    return np.exp(-d2 / (2 * sigma2))


def cka_rbf(X, Y):
    n = X.shape[0]
    H = np.eye(n) - 1.0 / n
    K, L = H @ rbf_gram(X) @ H, H @ rbf_gram(Y) @ H
    return (K * L).sum() / (np.linalg.norm(K) * np.linalg.norm(L))


def cka(X, Y):
    return cka_linear(X, Y), cka_debiased(X, Y), cka_rbf(X, Y)


def ridge_fold(Xtr, Ytr, Xte, alphas):
    """Per-unit ridge by leave-one-out on the training rows; predictions for Xte."""
    mu, sd = Xtr.mean(axis=0), Xtr.std(axis=0) + 1e-12
    Xtr, Xte = (Xtr - mu) / sd, (Xte - mu) / sd
    ym = Ytr.mean(axis=0)
    Yc = Ytr - ym
    U, s, Vt = np.linalg.svd(Xtr, full_matrices=False)
    UtY = U.T @ Yc
    best_err = np.full(Ytr.shape[1], np.inf)
    best = np.zeros(Ytr.shape[1], dtype=int)
    for a, alpha in enumerate(alphas):
        shrink = s * s / (s * s + alpha)
        fitted = U @ (shrink[:, None] * UtY)
        h = (U * U) @ shrink + 1.0 / Xtr.shape[0]        # hat diagonal (+ the mean)
        loo = ((Yc - fitted) / (1 - h)[:, None]) ** 2
        err = loo.mean(axis=0)
        better = err < best_err
        best_err[better], best[better] = err[better], a
    pred = np.empty((Xte.shape[0], Ytr.shape[1]))
    for a, alpha in enumerate(alphas):
        units = np.nonzero(best == a)[0]
        if units.size:
            W = Vt.T @ ((s / (s * s + alpha))[:, None] * UtY[:, units])
            pred[:, units] = Xte @ W + ym[units]
    return pred


def pearson_cols(A, B):
    Ac, Bc = centre(A), centre(B)
    return (Ac * Bc).sum(axis=0) / np.sqrt((Ac * Ac).sum(axis=0) * (Bc * Bc).sum(axis=0))


def encoding(X, Y, folds=5):
    n = X.shape[0]
    fold = np.random.default_rng(0).permutation(n) % folds
    alphas = np.logspace(-3, 5, 9)
    r = np.zeros(Y.shape[1])
    for f in range(folds):
        te, tr = fold == f, fold != f
        r += pearson_cols(ridge_fold(X[tr], Y[tr], X[te], alphas), Y[te])
    return np.median(r / folds)


def timed(fn, X, Y, repeat):
    sec = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(X, Y)
        sec.append(time.perf_counter() - t0)
    return float(np.median(sec))


def main():
    g = np.random.default_rng(7)
    X = g.standard_normal((ARGS.n, ARGS.p))
    Y = X + g.standard_normal((ARGS.n, ARGS.p))
    out = {name: timed(fn, X, Y, ARGS.repeat) for name, fn in (("rsa", rsa), ("cka", cka), ("encoding", encoding))}
    out["blas_threads"] = ARGS.threads
    print(json.dumps(out))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
