/* srnn_patch.c -- activation patching in the spiking network: run a sequence the way it is
 * scored, and after a chosen token overwrite the state of a group of neurons with the
 * state another run had there.  Lesson 18 (`patch`); the model is in include/srnn.h.
 *
 * A LIF neuron's state after a token is its membrane potential v, its spike in the last
 * step s (what its synapses deliver next), its readout trace z and its spike count in
 * the token's window: four floats, the columns of srnn_state_size(m) / N. */
#include "srnn.h"
#include "srnn_priv.h"

#include <stdlib.h>
#include <string.h>

size_t srnn_state_size(const srnn_model *m) { return (size_t)4 * m->N; }

/* The state after a token: v | s | z | counts (srnn_sim keeps them in that order). */
static void save_state(const srnn_sim *S, float *dst) { memcpy(dst, S->v, 4 * (size_t)S->m->N * sizeof(float)); }

/* Neurons in mask take src's state; the list of last-step spikes follows s. */
static void load_state(srnn_sim *S, const float *src, const unsigned char *mask) {
    int N = S->m->N;
    float *st = S->v;   /* v | s | z | cnt, contiguous */
    for (int q = 0; q < 4; q++)
        for (int i = 0; i < N; i++)
            if (mask[i]) st[(size_t)q * N + i] = src[(size_t)q * N + i];
    S->nidx = 0;
    for (int i = 0; i < N; i++) if (S->s[i] != 0.0f) S->idx[S->nidx++] = i;
}

int srnn_patch_run(const srnn_model *m, const int *ids, int n, const float *src, const unsigned char *mask,
                   int pos, float *states, float *logits, char *err) {
    if (m->cfg.neuron != SRNN_LIF) return tb_fail(err, "patching needs LIF neurons (this network has %s)", srnn_neuron_name(m->cfg.neuron));
    if (n < 1) return tb_fail(err, "empty sequence");
    for (int t = 0; t < n; t++)
        if (ids[t] < 0 || ids[t] >= m->V) return tb_fail(err, "token id %d at position %d is outside the vocabulary", ids[t], t);
    srnn_sim S;
    if (srnn_sim_init(&S, m, err)) return -1;
    float *feat = malloc((size_t)m->N * sizeof(float));
    if (!feat) { srnn_sim_free(&S); return tb_fail(err, "out of memory"); }
    size_t SS = srnn_state_size(m);
    /* the noise of the scoring calls: clean and patched runs hear the same background */
    srnn_sim_reset(&S, m->noise_p, (float)m->cfg.noise_w, m->eval_seed, 0);
    for (int t = 0; t < n; t++) {
        srnn_sim_token(&S, ids[t], NULL, NULL);
        if (src && mask && (pos < 0 || pos == t)) load_state(&S, src + (size_t)t * SS, mask);
        if (states) save_state(&S, states + (size_t)t * SS);
    }
    memcpy(feat, m->cfg.readout == SRNN_TRACE ? S.z : S.cnt, (size_t)m->N * sizeof(float));
    int y = 0;
    float nll;
    srnn_readout_nll(m, feat, &y, 1, logits, &nll);   /* the logits are what we keep */
    free(feat);
    srnn_sim_free(&S);
    return 0;
}
