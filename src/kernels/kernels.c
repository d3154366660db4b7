/* kernels.c -- the kernel tables and the one choice between them (see kernels.h).
 *
 * Each table names one function per entry; the kernels themselves live in the family
 * files beside this one (dense_, snn_, srnn_, linalg_ x scalar, avx2, neon).  The
 * choice is made once, by kernels_init() at start-up; every model then calls through
 * tb_kern, so no model compares kernel-set names or keeps a dispatch of its own.
 */
#include "kernels_priv.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ---- the tables ---------------------------------------------------------------------- */
/* One table per kernel set, assembled from the families; ISA is the suffix of the
 * functions (sgemm_avx2, lif_cuba_avx2, ...). */
#define DENSE_PRODUCTS(ISA) \
    .sgemm = sgemm_##ISA, .matmul_forward = matmul_forward_##ISA, .matmul_backward = matmul_backward_##ISA
#define DENSE_ROWWISE(ISA)                                                                              \
    .softmax_forward = softmax_forward_##ISA, .softmax_backward = softmax_backward_##ISA,               \
    .layernorm_forward = layernorm_forward_##ISA, .layernorm_backward = layernorm_backward_##ISA,       \
    .rmsnorm_forward = rmsnorm_forward_##ISA, .rmsnorm_backward = rmsnorm_backward_##ISA,               \
    .gelu_forward = gelu_forward_##ISA, .gelu_backward = gelu_backward_##ISA, .vexp = vexp_##ISA,    \
    .adamw = adamw_##ISA
#define SPIKING(ISA)                                                                                    \
    .lif_cuba = lif_cuba_##ISA, .lif_coba = lif_coba_##ISA, .rows_add = rows_add_##ISA,                 \
    .rows_acc = rows_acc_##ISA, .matvecs = matvecs_##ISA
#define LINALG(ISA) .daxpy = daxpy_##ISA, .daxpy2 = daxpy2_##ISA, .drot = drot_##ISA, .drot_chain = drot_chain_##ISA,     \
                    .dgemm4 = dgemm4_##ISA, .dgemm_tile = dgemm_tile_##ISA

static const tb_kernels scalar_table = {
    .name = "scalar", DENSE_PRODUCTS(scalar), DENSE_ROWWISE(scalar), SPIKING(scalar), LINALG(scalar)};

#if defined(__x86_64__)
static const tb_kernels avx2_table = {
    .name = "avx2", DENSE_PRODUCTS(avx2), DENSE_ROWWISE(avx2), SPIKING(avx2), LINALG(avx2)};
#endif

#if defined(__aarch64__)
/* The row-wise dense kernels are the scalar definitions (see dense_neon.c). */
static const tb_kernels neon_table = {
    .name = "neon", DENSE_PRODUCTS(neon), DENSE_ROWWISE(scalar), SPIKING(neon), LINALG(neon)};
#endif

/* ---- the choice ------------------------------------------------------------------------ */

const tb_kernels *tb_kern = &scalar_table;
int kernels_sgemm_512 = 1;

const tb_kernels *kernels_table(const char *name) {
    if (!strcmp(name, "scalar")) return &scalar_table;
#if defined(__x86_64__)
    if (!strcmp(name, "avx2")) {
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return &avx2_table;
        return NULL;
    }
#endif
#if defined(__aarch64__)
    if (!strcmp(name, "neon")) return &neon_table; /* every aarch64 CPU has NEON */
#endif
    return NULL;
}

int kernels_init(const char *mode, char *err) {
    if (!mode || !strcmp(mode, "auto")) {
        const char *env = getenv("TINYBRAIN_KERNELS");
        mode = (env && *env) ? env : "auto";
    }
    if (!strcmp(mode, "auto")) {
        const tb_kernels *t = NULL;
#if defined(__x86_64__)
        t = kernels_table("avx2");
#elif defined(__aarch64__)
        t = kernels_table("neon");
#endif
        tb_kern = t ? t : &scalar_table;
        return 0;
    }
    if (strcmp(mode, "scalar") && strcmp(mode, "avx2") && strcmp(mode, "neon"))
        return tb_fail(err, "unknown kernel set '%s' (choose auto, scalar, avx2 or neon)", mode);
    const tb_kernels *t = kernels_table(mode);
    if (!t) return tb_fail(err, "kernel set '%s' is not available on this CPU", mode);
    tb_kern = t;
    return 0;
}

/* ---- per-thread scratch for the SIMD sgemm's packed panels -----------------------------
 * Grown on demand and kept for the thread's life (sgemm runs concurrently in pool
 * tasks).  A pthread key's destructor frees them when a worker thread exits, so thread
 * pools that shrink or shut down do not leak them. */
typedef struct { float *buf[2]; size_t cap[2]; } scratch_t;
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static void scratch_free(void *p) {
    scratch_t *s = p;
    free(s->buf[0]);
    free(s->buf[1]);
    free(s);
}
static void scratch_key_init(void) { pthread_key_create(&scratch_key, scratch_free); }

float *kernels_scratch(int which, size_t n) {
    pthread_once(&scratch_once, scratch_key_init);
    scratch_t *s = pthread_getspecific(scratch_key);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s || pthread_setspecific(scratch_key, s)) { free(s); return NULL; }
    }
    if (n > s->cap[which]) {
        free(s->buf[which]);
        s->buf[which] = aligned_alloc(32, ((n * sizeof(float) + 31) / 32) * 32);
        s->cap[which] = s->buf[which] ? n : 0;
    }
    return s->buf[which];
}
