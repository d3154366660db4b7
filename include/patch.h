/* patch.h -- activation patching on the agreement minimal pairs (`patch`, lesson 18).
 *
 * Correlations say where information is; patching asks what it does.  A pair of runs:
 *   clean      ". the dog near the cats"    the model should continue with "chases"
 *   corrupted  ". the dogs near the cats"   (the subject's number swapped) -> "chase"
 * The logit difference LD = logit(right verb of the clean prefix) - logit(the other form),
 * read where the verb is predicted (the last position), is positive on the clean run and
 * negative on the corrupted one.  Patching copies one site's activations from the clean
 * run into the corrupted one; the share of the difference it restores is
 *     restored = sum over pairs (LD_patched - LD_corrupt) / sum over pairs (LD_clean - LD_corrupt)
 * (pooled over pairs, so a pair with a tiny difference cannot blow it up): 1 = the site
 * carries everything the verb needs, 0 = nothing.
 *
 * Sites of the GPT: the residual stream x_l (l = 0 embedding .. L) at each position role,
 * each head's output (all positions), each MLP hidden unit (all positions), each
 * residual unit of a layer (all positions).  Sites of the spiking network: the state
 * (membrane, spikes, trace, count) of groups of neurons after each position's token.
 * Positions are aligned by their role in the prefix (patch_role), not by index: pairs
 * with and without an adjective or an attractor then line up.
 */
#ifndef TB_PATCH_H
#define TB_PATCH_H

#include "corpus.h"
#include "gpt.h"
#include "srnn.h"

typedef enum {
    PATCH_CTX,    /* the "." in front */
    PATCH_DET,    /* the subject's determiner */
    PATCH_ADJ,    /* its adjective */
    PATCH_SUBJ,   /* the subject noun (when it is not the last position) */
    PATCH_PREP,   /* the preposition of an attractor phrase */
    PATCH_DET2,   /* the attractor's determiner */
    PATCH_ADJ2,   /* its adjective */
    PATCH_LAST,   /* the last noun, where the verb is predicted (subject or attractor) */
    PATCH_NROLES
} patch_role;
extern const char *const patch_role_names[PATCH_NROLES];

typedef struct {
    int n, T;                  /* pairs; longest prefix, its "." included */
    int *clean, *corrupt;      /* [n, T] prefixes, padded with 0 */
    int *len;                  /* [n] */
    int *role;                 /* [n, T] patch_role of each position (-1: padding) */
    int *right, *wrong;        /* [n] verb forms: right after the clean prefix */
    int *attractor;            /* [n] 1: an attractor noun stands between subject and verb */
    int skipped;               /* pairs left out: a prefix word with no role (relative clauses) */
    char skipped_kinds[256];   /* their phenomena, "relative_subject, filler_gap" */
} patch_pairs;

/* The pairs of minimal_pairs.tsv (good, bad, attractor) on toyworld corpus c (at most
 * max_pairs, 0: all): the good sentence up to its verb is the clean prefix; the corrupted
 * prefix has the subject noun in the other number, and a determiner that only goes with
 * the old number ("a" / "some") replaced by one of the new number.  Pairs whose prefix
 * holds a word with no role (the "that" of a relative clause, a verb before the verb)
 * are left out and counted; none left is an error. */
int  patch_pairs_load(const char *path, const tb_corpus *c, int max_pairs, patch_pairs *p, char *err);
void patch_pairs_free(patch_pairs *p);

/* ---- the GPT ------------------------------------------------------------------------- */
typedef struct {
    int L, NH, H, C;
    int n_pairs, n_attractor;
    double ld_clean, ld_corrupt;   /* mean logit differences right - wrong */
    double *residual;              /* [L+1, PATCH_NROLES] restored, all pairs (NaN: role absent) */
    double *residual_attr;         /* [L+1, PATCH_NROLES] the attractor pairs only */
    double *heads;                 /* [L, NH] */
    double *mlp;                   /* [L, H] each hidden unit (NULL: not asked, or experts) */
    double *units;                 /* [C] each residual unit of layer units_layer (NULL: not asked) */
    int units_layer;
} patch_gpt_result;

/* Every site above; MLP units when mlp != 0 (dense MLPs), residual units of units_layer
 * (0..L) when units_layer >= 0. */
int  patch_gpt(gpt_model *m, const patch_pairs *p, int mlp, int units_layer, patch_gpt_result *r, char *err);
void patch_gpt_free(patch_gpt_result *r);
/* The share restored by patching residual units[k] of layer `layer` at every position. */
int  patch_gpt_unit_set(gpt_model *m, const patch_pairs *p, int layer, const int *units, int k, double *restored,
                        char *err);

/* ---- the spiking network ------------------------------------------------------------- */
typedef struct {
    int groups, N;
    int n_pairs;
    double ld_clean, ld_corrupt;
    double *group_role;   /* [groups + 1, PATCH_NROLES]: neurons g*N/groups .. (g+1)*N/groups - 1;
                             the last row patches every neuron */
    double *neurons;      /* [N] each neuron at every position (NULL: not asked) */
} patch_snn_result;

int  patch_snn(const srnn_model *m, const patch_pairs *p, int groups, int per_neuron, patch_snn_result *r, char *err);
void patch_snn_free(patch_snn_result *r);
int  patch_snn_unit_set(const srnn_model *m, const patch_pairs *p, const int *units, int k, double *restored,
                        char *err);

/* ---- patching against the localizer ---------------------------------------------------
 * score[n_units]: each unit's restoration on its own; units[k]: the localizer's.  The
 * k best units by patching, how many of them the localizer also chose (chance: k^2 / n),
 * and the restoration of the localizer's set against random sets of the same size. */
typedef struct {
    int k, n_units;
    int *top;              /* [k] the best units by patching */
    int overlap;           /* |top and units| */
    double overlap_chance; /* k^2 / n_units */
    double restored;       /* patching the localizer's set */
    double random_mean, random_sd;   /* random sets of k units */
    int n_random;
} patch_vs_localizer;
/* Only the ranking and overlap (top, overlap, overlap_chance). */
int  patch_compare_units(const double *score, int n_units, const int *units, int k, patch_vs_localizer *v, char *err);
/* Everything: score[C] from patch_gpt's units (residual layer `layer`), the localizer's
 * units[k], n_random random sets drawn from seed (rng_child_seed "patch random units"). */
int  patch_localizer_gpt(gpt_model *m, const patch_pairs *p, int layer, const double *score, const int *units, int k,
                         int n_random, uint64_t seed, patch_vs_localizer *v, char *err);
/* The same for neurons of the spiking network (score[N] from patch_snn's neurons). */
int  patch_localizer_snn(const srnn_model *m, const patch_pairs *p, const double *score, const int *units, int k,
                         int n_random, uint64_t seed, patch_vs_localizer *v, char *err);
void patch_vs_localizer_free(patch_vs_localizer *v);

#endif
