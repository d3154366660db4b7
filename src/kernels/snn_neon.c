/* snn_neon.c -- NEON twins of the LIF network update in snn_scalar.c (lesson 04).
 * Four neurons per instruction; same operations in the same order as the scalar
 * reference (separate multiply and add, no fused multiply-add), so results are
 * bit-identical to it. */
#include "kernels_priv.h"

#if defined(__aarch64__)
#include <arm_neon.h>

static inline int finish(const tb_lif_coef *c, float *v, float *ge, float *gi, float *ref, int i,
                         float32x4_t vv, float32x4_t vu, float32x4_t g_e, float32x4_t g_i,
                         float32x4_t r, uint32x4_t frozen, int32_t *spk, int32_t base) {
    float32x4_t vn = vbslq_f32(frozen, vv, vu);
    float32x4_t rn = vbslq_f32(frozen, vsubq_f32(r, vdupq_n_f32(1.0f)), r);
    uint32x4_t fire = vbicq_u32(vcgtq_f32(vn, vdupq_n_f32(c->v_th)), frozen);
    vn = vbslq_f32(fire, vdupq_n_f32(c->v_reset), vn);
    rn = vbslq_f32(fire, vdupq_n_f32(c->n_ref), rn);
    vst1q_f32(v + i, vn);
    vst1q_f32(ref + i, rn);
    vst1q_f32(ge + i, vmulq_f32(g_e, vdupq_n_f32(c->d_e)));
    vst1q_f32(gi + i, vmulq_f32(g_i, vdupq_n_f32(c->d_i)));
    int ns = 0;
    uint32_t f[4];
    vst1q_u32(f, fire);
    for (int j = 0; j < 4; j++)
        if (f[j]) spk[ns++] = base + i + j;
    return ns;
}

int lif_cuba_neon(float *v, float *ge, float *gi, float *ref, int n,
                  const tb_lif_coef *c, int32_t *spk, int32_t base) {
    int i = 0, ns = 0;
    float32x4_t e_l = vdupq_n_f32(c->e_l);
    for (; i + 4 <= n; i += 4) {
        float32x4_t vv = vld1q_f32(v + i), g_e = vld1q_f32(ge + i), g_i = vld1q_f32(gi + i);
        float32x4_t r = vld1q_f32(ref + i);
        uint32x4_t frozen = vcgtq_f32(r, vdupq_n_f32(0.5f));
        float32x4_t vu = vaddq_f32(e_l, vmulq_f32(vsubq_f32(vv, e_l), vdupq_n_f32(c->a_m)));
        vu = vaddq_f32(vu, vmulq_f32(g_e, vdupq_n_f32(c->c_e)));
        vu = vaddq_f32(vu, vmulq_f32(g_i, vdupq_n_f32(c->c_i)));
        ns += finish(c, v, ge, gi, ref, i, vv, vu, g_e, g_i, r, frozen, spk + ns, base);
    }
    return ns + lif_cuba_scalar(v + i, ge + i, gi + i, ref + i, n - i, c, spk + ns, base + i);
}

int lif_coba_neon(float *v, float *ge, float *gi, float *ref, int n,
                  const tb_lif_coef *c, int32_t *spk, int32_t base) {
    int i = 0, ns = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t vv = vld1q_f32(v + i), g_e = vld1q_f32(ge + i), g_i = vld1q_f32(gi + i);
        float32x4_t r = vld1q_f32(ref + i);
        uint32x4_t frozen = vcgtq_f32(r, vdupq_n_f32(0.5f));
        float32x4_t dv = vsubq_f32(vdupq_n_f32(c->e_l), vv);
        dv = vaddq_f32(dv, vmulq_f32(g_e, vsubq_f32(vdupq_n_f32(c->e_e), vv)));
        dv = vaddq_f32(dv, vmulq_f32(g_i, vsubq_f32(vdupq_n_f32(c->e_i), vv)));
        float32x4_t vu = vaddq_f32(vv, vmulq_f32(vdupq_n_f32(c->k), dv));
        ns += finish(c, v, ge, gi, ref, i, vv, vu, g_e, g_i, r, frozen, spk + ns, base);
    }
    return ns + lif_coba_scalar(v + i, ge + i, gi + i, ref + i, n - i, c, spk + ns, base + i);
}
#else
typedef int snn_neon_unused; /* ISO C: a translation unit must not be empty */
#endif
