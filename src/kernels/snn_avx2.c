/* snn_avx2.c -- AVX2 twins of the LIF network update in snn_scalar.c (lesson 04).
 * Eight neurons per instruction; same operations in the same order as the scalar
 * reference (no FMA contraction), so results are bit-identical to it.  Refractory
 * neurons and spikes are handled with masks; spiking lanes are read from movemask. */
#include "kernels_priv.h"

#if defined(__x86_64__)
#include <immintrin.h>

typedef struct { __m256 e_l, a_m, c_e, c_i, d_e, d_i, v_th, v_reset, n_ref, k, e_e, e_i, half, one; } lanes;

static lanes bcast(const tb_lif_coef *c) {
    lanes L = {_mm256_set1_ps(c->e_l), _mm256_set1_ps(c->a_m), _mm256_set1_ps(c->c_e),
               _mm256_set1_ps(c->c_i), _mm256_set1_ps(c->d_e), _mm256_set1_ps(c->d_i),
               _mm256_set1_ps(c->v_th), _mm256_set1_ps(c->v_reset), _mm256_set1_ps(c->n_ref),
               _mm256_set1_ps(c->k), _mm256_set1_ps(c->e_e), _mm256_set1_ps(c->e_i),
               _mm256_set1_ps(0.5f), _mm256_set1_ps(1.0f)};
    return L;
}

/* Shared tail of both kernels: refractory hold, threshold, reset, decay, spike list. */
static inline int finish(const lanes *L, float *v, float *ge, float *gi, float *ref, int i,
                         __m256 vv, __m256 vu, __m256 g_e, __m256 g_i, __m256 r,
                         __m256 frozen, int32_t *spk, int32_t base) {
    __m256 vn = _mm256_blendv_ps(vu, vv, frozen);
    __m256 rn = _mm256_blendv_ps(r, _mm256_sub_ps(r, L->one), frozen);
    __m256 fire = _mm256_andnot_ps(frozen, _mm256_cmp_ps(vn, L->v_th, _CMP_GT_OQ));
    vn = _mm256_blendv_ps(vn, L->v_reset, fire);
    rn = _mm256_blendv_ps(rn, L->n_ref, fire);
    _mm256_storeu_ps(v + i, vn);
    _mm256_storeu_ps(ref + i, rn);
    _mm256_storeu_ps(ge + i, _mm256_mul_ps(g_e, L->d_e));
    _mm256_storeu_ps(gi + i, _mm256_mul_ps(g_i, L->d_i));
    unsigned m = (unsigned)_mm256_movemask_ps(fire);
    int ns = 0;
    while (m) {
        spk[ns++] = base + i + __builtin_ctz(m);
        m &= m - 1;
    }
    return ns;
}

/* The membrane update of 8 neurons, current-based (CUBA) or conductance-based (COBA):
 *   CUBA  v <- E_L + (v - E_L) a_m + g_e c_e + g_i c_i
 *   COBA  v <- v + k ((E_L - v) + g_e (E_e - v) + g_i (E_i - v)) */
static inline __m256 membrane(const lanes *L, __m256 vv, __m256 g_e, __m256 g_i, int coba) {
    if (!coba) {
        __m256 vu = _mm256_add_ps(L->e_l, _mm256_mul_ps(_mm256_sub_ps(vv, L->e_l), L->a_m));
        vu = _mm256_add_ps(vu, _mm256_mul_ps(g_e, L->c_e));
        return _mm256_add_ps(vu, _mm256_mul_ps(g_i, L->c_i));
    }
    __m256 dv = _mm256_sub_ps(L->e_l, vv);
    dv = _mm256_add_ps(dv, _mm256_mul_ps(g_e, _mm256_sub_ps(L->e_e, vv)));
    dv = _mm256_add_ps(dv, _mm256_mul_ps(g_i, _mm256_sub_ps(L->e_i, vv)));
    return _mm256_add_ps(vv, _mm256_mul_ps(L->k, dv));
}

/* Whole blocks of 8 neurons; returns how many spiked and *done, the neurons handled
 * (the scalar twin takes the rest).  coba is a constant at each call: inlined twice. */
static inline int blocks(float *v, float *ge, float *gi, float *ref, int n, const tb_lif_coef *c, int32_t *spk,
                         int32_t base, int coba, int *done) {
    lanes L = bcast(c);
    int i = 0, ns = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 vv = _mm256_loadu_ps(v + i), g_e = _mm256_loadu_ps(ge + i);
        __m256 g_i = _mm256_loadu_ps(gi + i), r = _mm256_loadu_ps(ref + i);
        __m256 frozen = _mm256_cmp_ps(r, L.half, _CMP_GT_OQ);
        __m256 vu = membrane(&L, vv, g_e, g_i, coba);
        ns += finish(&L, v, ge, gi, ref, i, vv, vu, g_e, g_i, r, frozen, spk + ns, base);
    }
    *done = i;
    return ns;
}

int lif_cuba_avx2(float *v, float *ge, float *gi, float *ref, int n,
                  const tb_lif_coef *c, int32_t *spk, int32_t base) {
    int i, ns = blocks(v, ge, gi, ref, n, c, spk, base, 0, &i);
    return ns + lif_cuba_scalar(v + i, ge + i, gi + i, ref + i, n - i, c, spk + ns, base + i);
}

int lif_coba_avx2(float *v, float *ge, float *gi, float *ref, int n,
                  const tb_lif_coef *c, int32_t *spk, int32_t base) {
    int i, ns = blocks(v, ge, gi, ref, n, c, spk, base, 1, &i);
    return ns + lif_coba_scalar(v + i, ge + i, gi + i, ref + i, n - i, c, spk + ns, base + i);
}
#else
typedef int snn_avx2_unused; /* ISO C: a translation unit must not be empty */
#endif
