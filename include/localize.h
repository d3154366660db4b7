/* localize.h -- the language localizer (lesson 14), after Fedorenko et al. 2010 as used
 * on language models by AlKhamissi et al. 2025.
 *
 * Play a model sentences and a control condition (nonword strings or scrambled word
 * lists); per unit, a Welch t-statistic asks "does this unit respond more to language?"
 *     t_u = (mean_S - mean_C) / sqrt(var_S / n_S + var_C / n_C)     (var with n - 1)
 * computed on |activation| by default (as the authors' code does: a unit that swings
 * negative for sentences is language-responsive too), or on the signed activation.
 * The k = floor(top_percent / 100 x units) units with the largest t are the "language
 * units" (ties go to the lower index), ready to be ablated.
 * A unit with zero variance in both conditions gets t = +inf or -inf by the sign of the
 * mean difference, or 0 if the means are equal: never NaN. */
#ifndef TB_LOCALIZE_H
#define TB_LOCALIZE_H

#include "tb.h"

/* S[n_s, p] and C[n_c, p] (stimuli x units).  t[p] receives every unit's t. */
int localize_t(const double *S, int n_s, const double *C, int n_c, int p, int use_abs, double *t,
               char *err);
/* The k largest t (descending; ties to the lower index) into idx[k]. */
void localize_top(const double *t, int p, int k, int *idx);
/* k = floor(percent / 100 x p); -1 with an error when that is 0 or percent is out of range. */
int localize_k(double percent, int p, char *err);

#endif
