/* snn_scalar.c -- the scalar reference of the LIF network update (lesson 04; see the
 * tb_lif_fn contract in kernels.h).  snn_avx2.c and snn_neon.c do the same operations
 * in the same order, so every table gives these bits.
 *
 *   CUBA (exact integration of tau_m dv/dt = -(v - E_L) + g_e + g_i over one step):
 *       v <- E_L + (v - E_L) a_m + g_e c_e + g_i c_i
 *   COBA (forward Euler of tau_m dv/dt = (E_L - v) + g_e (E_e - v) + g_i (E_i - v)):
 *       v <- v + k ((E_L - v) + g_e (E_e - v) + g_i (E_i - v)),   k = dt / tau_m
 */
#include "kernels_priv.h"

/* Both updates: only the integration line differs (coba is a constant after inlining). */
static inline int lif_step(int coba, float *v, float *ge, float *gi, float *ref, int n,
                           const tb_lif_coef *c, int32_t *spk, int32_t base) {
    int ns = 0;
    for (int i = 0; i < n; i++) {
        float g_e = ge[i], g_i = gi[i], vi = v[i], r = ref[i];
        if (r > 0.5f) {
            ref[i] = r - 1.0f;
        } else {
            if (coba) vi = vi + c->k * ((c->e_l - vi) + g_e * (c->e_e - vi) + g_i * (c->e_i - vi));
            else vi = c->e_l + (vi - c->e_l) * c->a_m + g_e * c->c_e + g_i * c->c_i;
            if (vi > c->v_th) { vi = c->v_reset; ref[i] = c->n_ref; spk[ns++] = base + i; }
            v[i] = vi;
        }
        ge[i] = g_e * c->d_e;
        gi[i] = g_i * c->d_i;
    }
    return ns;
}

int lif_cuba_scalar(float *v, float *ge, float *gi, float *ref, int n, const tb_lif_coef *c,
                    int32_t *spk, int32_t base) {
    return lif_step(0, v, ge, gi, ref, n, c, spk, base);
}

int lif_coba_scalar(float *v, float *ge, float *gi, float *ref, int n, const tb_lif_coef *c,
                    int32_t *spk, int32_t base) {
    return lif_step(1, v, ge, gi, ref, n, c, spk, base);
}
