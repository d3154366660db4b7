/* toyworld.h -- the toyworld grammar as data tables, and the exact-probability engine.
 * Lesson 01 ("The toyworld corpus, tokens, and the entropy floor").
 *
 * A sentence is generated left to right by a small probabilistic automaton:
 *
 *   S    -> NAME [ PP [ PP ] ] VP "."                (a named character: its facts hold)
 *         | NP_subj [ MOD ] VP "."
 *   MOD  -> PP [ PP ]                                (one or two attractor phrases)
 *         | "that" VERB_agree(NP_subj) NP_obj        (subject relative: "the dog that chases the cats")
 *         | "that" NP_rel VERB_agree(NP_rel)         (object relative:  "the dog that the cats chase")
 *   PP   -> PREP NP_attr
 *   VP   -> VERB_agree(subject) REST
 *         | HOME_VERB_agree(subject) "in" "the" PLACE   ("lives in the garden")
 *   REST -> NP_obj                      (transitive verb: object category from the verb)
 *         | [ PREP_loc NP_loc ]         (intransitive verb: optional location)
 *   NP   -> DET [ ADJ ] NOUN            (DET agrees in number with NOUN, ADJ fits NOUN's category)
 *
 * The main verb agrees in number with the SUBJECT, not with the nearer "attractor" nouns
 * in between ("the dog near the cats behind the cars chases ...", "the dog that the cats
 * chase runs"), and it must be a verb the subject's category can do (selectional
 * restriction); the object's category must be one the verb accepts.  Inside an object
 * relative the verb agrees with ITS subject and must accept the head noun as its object
 * (the gap: "the car that the girl drives", never "... eats").
 *
 * The world has facts: every named character has a home and a favourite food.  A named
 * subject that "lives in the" names its own home, and every food it eats, likes, holds...
 * is its favourite, so the rest of the sentence is deterministic given the name: the
 * automaton's state carries the name (tw_state.who) from the subject to the object.
 *
 * Every choice has an integer weight, so sampling is exact integer arithmetic (the same
 * text on every platform), and P(next word | words so far) is known exactly: the
 * forward algorithm keeps a probability for every automaton state that could have
 * produced the prefix,
 *     alpha_t(s') = sum_s alpha_{t-1}(s) P(word_t, s' | s) / P(word_t | prefix),
 *     P(word_t | prefix) = sum_s alpha_{t-1}(s) sum_{s'} P(word_t, s' | s).
 * The engine runs on any tw_grammar; tests use tiny ones and compare it with
 * brute-force enumeration of every sentence.
 */
#ifndef TB_TOYWORLD_H
#define TB_TOYWORLD_H

#include "rng.h"
#include <stddef.h>
#include <stdint.h>

#define TW_MAX_CATS 16
#define TW_MAX_ITEMS 64     /* per table (nouns, verbs, names, ...) */
#define TW_MAX_WORDS 256
#define TW_MAX_TRANS 512    /* transitions out of one state */
#define TW_MAX_HYP 1024     /* states kept by the forward algorithm */
#define TW_MAX_LEN 64       /* longest sentence the grammar may produce */

enum { TW_SG = 0, TW_PL = 1 };

typedef struct { const char *sg, *pl; int cat; int weight; } tw_noun;
/* subj, obj: bit masks of categories (bit c = category c); obj == 0: intransitive. */
typedef struct { const char *sg, *pl; const char *cls; unsigned subj, obj; int weight; } tw_verb;
typedef struct { const char *word; const char *cls; unsigned cats; } tw_adj;
/* Weight of the determiner before a singular / plural noun (0 = not allowed). */
typedef struct { const char *word; int w_sg, w_pl; } tw_det;
/* The home phrase "lives in the garden": verb forms, who can live somewhere (category
 * mask), its weight among the main verbs after a common noun and after a name (named
 * characters talk about their homes more), the fixed preposition and determiner, and the
 * category of the home noun (always singular). */
typedef struct {
    const char *sg, *pl, *cls; unsigned subj; int weight, name_weight;
    const char *prep, *det; int cat;
} tw_home;
/* A named character (always singular) of category cat: its home (a noun of the home
 * category) and its favourite food (a noun; every object of that noun's category it acts
 * on is this one). */
typedef struct { const char *word; int cat; const char *home, *food; int weight; } tw_name;

typedef struct {
    const char *const *cat_names; int n_cats;
    const int *subj_cat_weight;   /* [n_cats] how often each category is the subject (0: never) */
    const int *attr_cat_weight;   /* [n_cats] category of the attractor noun in "near the cats" */
    const int *loc_cat_weight;    /* [n_cats] category of the location noun in "in the park" */
    const tw_noun *nouns; int n_nouns;
    const tw_verb *verbs; int n_verbs;
    const tw_adj *adjs; int n_adjs;
    const tw_det *dets; int n_dets;
    const char *const *attr_preps; int n_attr_preps;   /* after the subject */
    const char *const *loc_preps; int n_loc_preps;     /* after an intransitive verb */
    const char *const *nonwords; int n_nonwords;       /* in the vocabulary, never generated */
    const char *eos;                                   /* "." */
    int p_adj[2];    /* P(adjective in a noun phrase)         = p_adj[0] / p_adj[1] */
    int p_attr[2];   /* P(prepositional phrase after subject) = p_attr[0] / p_attr[1] */
    int p_loc[2];    /* P(location after intransitive verb)   = p_loc[0] / p_loc[1] */
    int p_attr2[2];  /* P(a second prepositional phrase | a first one) */
    const char *rel_word;   /* "that" (NULL: no relative clauses) */
    int p_rel[2];    /* P(relative clause after a common-noun subject) */
    int p_rel_obj[2];/* P(object relative | relative clause); the rest are subject relatives */
    const tw_home *home;    /* NULL: no home phrase */
    const tw_name *names; int n_names;
    int p_name[2];   /* P(the subject is a named character) */
} tw_grammar;

/* The built-in toyworld grammar (src/toyworld_grammar.c). */
extern const tw_grammar toyworld_grammar;
#define TOYWORLD_GRAMMAR_VERSION 2

/* A second language over toyworld's vocabulary, for continual learning (lesson 18;
 * src/corpus/toyworld_b.c): its own determiners, the verb agreement the other way round,
 * creatures, other restrictions and weights.  Its corpus is generated in memory when
 * corpus "toyworld-b" is loaded: TOYWORLD_B_TRAIN and _VAL sentences from seed
 * TOYWORLD_B_SEED. */
extern const tw_grammar toyworld_b_grammar;
#define TOYWORLD_B_NAME  "toyworld-b"
#define TOYWORLD_B_SEED  2
#define TOYWORLD_B_TRAIN 20000
#define TOYWORLD_B_VAL   2000

/* The grammar compiled into a word list (ids in this order are the vocabulary ids). */
typedef struct {
    const tw_grammar *g;
    int n_words;
    const char *word[TW_MAX_WORDS];
    const char *pos[TW_MAX_WORDS];       /* DET NOUN NAME VERB ADJ PREP COMP PUNCT NONWORD */
    const char *category[TW_MAX_WORDS];  /* semantic category / class */
    const char *number[TW_MAX_WORDS];    /* sg pl - */
    int eos;
    int noun_id[TW_MAX_ITEMS][2];
    int n_verbs;                         /* the verb table, then the home verb (if any) */
    int verb_id[TW_MAX_ITEMS + 1][2];    /* [verb][number] */
    const char *verb_lemma[TW_MAX_ITEMS + 1];   /* its plural form: "chase", "live" */
    int adj_id[TW_MAX_ITEMS], det_id[TW_MAX_ITEMS];
    int attr_prep_id[TW_MAX_ITEMS], loc_prep_id[TW_MAX_ITEMS];
    int nonword_id[TW_MAX_ITEMS];
    int rel_id;                          /* "that" (-1: none) */
    int home_verb;                       /* "lives": index in verb_id (-1: no home phrase) */
    int home_prep_id, home_det_id;       /* "in", "the" */
    int name_id[TW_MAX_ITEMS];
    int name_home[TW_MAX_ITEMS], name_food[TW_MAX_ITEMS];   /* noun table indices */
} tw_model;

/* Check the tables (sizes, every category usable, no duplicate words, facts that name
 * real nouns) and build the word list.  Errors name the offending table entry. */
int tw_compile(tw_model *m, const tw_grammar *g, char *err);
int tw_word_id(const tw_model *m, const char *w);   /* -1 if absent */
/* Compile g onto vocab's word list: the ids (and so the tokenizer) are vocab's, every
 * word of g must be in it; the metadata (pos, category, number) is g's, "UNUSED" for the
 * words g never produces. */
int tw_compile_shared(tw_model *m, const tw_grammar *g, const tw_grammar *vocab, char *err);

/* ---- automaton --------------------------------------------------------------- */
typedef enum {
    TW_START, TW_NP_DET, TW_NP_ADJ, TW_AFTER_SUBJ, TW_ATTR, TW_VERB, TW_OBJ, TW_INTR,
    TW_LOC, TW_END, TW_DONE,
    TW_AFTER_ATTR,   /* after the first attractor phrase: a second one, or the verb */
    TW_ATTR2,        /* after the second attractor preposition */
    TW_REL,          /* after "that": the relative verb (subject relative) or its subject */
    TW_REL_OBJ,      /* after a subject relative's verb v: its object */
    TW_REL_VERB,     /* after an object relative's subject (c, n): its verb */
    TW_HOME_PREP, TW_HOME_DET, TW_HOME_NOUN   /* "lives" -> "in" -> "the" -> PLACE */
} tw_type;
typedef enum {
    TW_ROLE_SUBJ, TW_ROLE_ATTR, TW_ROLE_OBJ, TW_ROLE_LOC,
    TW_ROLE_ATTR2,      /* the second attractor */
    TW_ROLE_REL_SUBJ,   /* the subject inside an object relative ("that THE CATS chase") */
    TW_ROLE_REL_OBJ     /* the object inside a subject relative ("that chases THE CATS") */
} tw_role;
typedef enum { TW_K_DET, TW_K_ADJ, TW_K_NOUN, TW_K_PREP, TW_K_VERB, TW_K_EOS, TW_K_NAME, TW_K_REL } tw_kind;

/* Everything the rest of the sentence depends on. */
typedef struct {
    uint8_t type, role;   /* tw_type, tw_role (noun phrases) */
    uint8_t c, n;         /* category and number of the noun phrase being built */
    uint8_t sc, sn;       /* subject category and number (carried to the verb) */
    uint8_t v;            /* verb table index (TW_OBJ, TW_REL_OBJ: which objects it takes) */
    uint8_t who;          /* named subject: name index + 1 (its facts); 0: none */
} tw_state;

typedef struct {
    int word;          /* emitted word id */
    uint32_t weight;   /* unnormalised; P = weight / sum of the state's weights */
    tw_state next;
    uint8_t kind;      /* tw_kind */
    uint8_t item;      /* index into the noun/verb/adj/det/prep/name table (verbs: verb_id's) */
    uint8_t c, n;      /* category/number chosen at a determiner */
} tw_trans;

tw_state tw_start(void);
/* Transitions out of s (0 for TW_DONE); *total = sum of weights. */
int tw_step(const tw_model *m, tw_state s, tw_trans *out, uint64_t *total);

/* ---- sampling ------------------------------------------------------------------ */
/* What a generated sentence is made of (labels for probes and minimal pairs); token
 * positions count from 0, -1 where absent. */
enum { TW_RC_NONE, TW_RC_SUBJ, TW_RC_OBJ };   /* no relative clause, "that chases ...", "that the cats chase" */
typedef struct {
    int subj_cat, subj_num, subj_noun;   /* subj_noun: noun table index (-1 for a name) */
    int name;                 /* named subject: name table index; -1 otherwise */
    int has_attr;             /* attractor phrases: 0, 1 or 2 */
    int attr_cat, attr_num;   /* the first attractor noun */
    int attr2_cat, attr2_num; /* the second (-1 without one) */
    int rel;                  /* TW_RC_NONE / TW_RC_SUBJ / TW_RC_OBJ */
    int rel_cat, rel_num;     /* the relative clause's own noun (its object / subject) */
    int rel_verb, rel_verb_pos;
    int verb, verb_pos;       /* main verb (an index of verb_id: the home verb too) and position */
    int obj_cat, obj_num;     /* -1 for intransitive */
    int has_loc;
    int home_pos;             /* the home noun after "lives in the" */
    int food_pos;             /* an object noun of the favourite food's category after a name */
    int n;                    /* tokens, including "." */
} tw_parse;

/* Sample one sentence (word ids, ending with eos) into words[TW_MAX_LEN]. */
int tw_sample(const tw_model *m, tb_rng *r, int *words, tw_parse *parse);

/* ---- the forward algorithm ------------------------------------------------------ */
typedef struct { tw_state s; double w; } tw_hyp;
typedef struct { int n; tw_hyp h[TW_MAX_HYP]; } tw_belief;

void tw_belief_init(tw_belief *b);           /* a sentence is about to begin */
/* P(next word | prefix) for every word id: p[n_words], sums to 1. */
void tw_next_dist(const tw_model *m, const tw_belief *b, double *p);
/* Condition on the next word: returns P(word | prefix) (0 if impossible; then the
 * belief is left empty).  After the eos token the belief restarts at a new sentence. */
double tw_observe(const tw_model *m, tw_belief *b, int word);

/* ---- same-words twins (lesson 13) ------------------------------------------------ */
/* A twin has the same bag of words and a different structure: two noun phrases of the
 * same number trade places (the verb keeps its form).
 *   TW_TWIN_SUBJ_OBJ    "the dog chases a cat ."       -> "a cat chases the dog ."
 *   TW_TWIN_SUBJ_ATTR   "the dog near the cat runs ."  -> "the cat near the dog runs ."
 * Returns 1 and fills twin[n] when w[n] has the two phrases, their nouns differ, and the twin is
 * a sentence of the grammar (P > 0 under the forward algorithm); else 0.  Only sentences of
 * the form DET [ADJ] NOUN [PREP NP] VERB ... are understood: a named subject, a relative
 * clause or a second attractor phrase gives 0. */
typedef enum { TW_TWIN_SUBJ_OBJ, TW_TWIN_SUBJ_ATTR } tw_twin_kind;
int tw_twin(const tw_model *m, const int *w, int n, tw_twin_kind kind, int *twin);

/* ---- the ideal observer (lesson 16) ---------------------------------------------- */
/* The hidden states a belief is spread over: every state reachable from the start
 * (TW_DONE excluded), in breadth-first order, so the beliefs of all sentences share one
 * coordinate system. */
typedef struct {
    int n;              /* number of states */
    tw_state *state;    /* [n] */
    int *slot, cap;     /* hash of the states (private) */
} tw_states;
int  tw_states_build(const tw_model *m, tw_states *S, char *err);
void tw_states_free(tw_states *S);
int  tw_states_index(const tw_states *S, tw_state s);   /* -1 if not in the list */
/* A readable label: "after_subj|subj:animal:sg", "np_det:obj:food:pl", "obj|verb:eats"... */
void tw_state_name(const tw_model *m, tw_state s, char *buf, size_t cap);

/* What the grammar itself knows after each token of ids[n] (the forward algorithm):
 *   belief[t, s] = P(hidden state s | ids[0..t])          (each row sums to 1)
 *   next[t, w]   = P(ids[t+1] = w | ids[0..t])            (each row sums to 1)
 *   logp[t]      = ln P(ids[t] | ids[0..t-1])
 * A leading eos is the end of the previous sentence (the left context every stimulus
 * starts with): logp[0] = 0 and the belief after it is the start state.  After a
 * sentence's final eos the belief is the start state again, the same for every sentence;
 * last_word points at the token before it.  A token the grammar cannot produce there
 * (scrambled or nonword strings) ends the run: from `possible` on, rows are 0 and logp
 * is -inf. */
typedef struct {
    int n, n_states, n_words;
    double *belief;     /* [n, n_states] */
    double *next;       /* [n, n_words] */
    double *logp;       /* [n] */
    int possible;       /* tokens the grammar can produce in a row (n: all) */
    int last_word;      /* n-2 when ids end with eos (and n > 2), else n-1 */
} tw_ideal;
int  tw_ideal_run(const tw_model *m, const tw_states *S, const int *ids, int n, tw_ideal *out, char *err);
void tw_ideal_free(tw_ideal *o);
/* Pool over a stimulus like a recording: the mean of rows 1..n-1 (row 0 is the context),
 * or (pool_last) the row of last_word.  belief[n_states], next[n_words]; either may be NULL. */
void tw_ideal_pool(const tw_ideal *o, int pool_last, double *belief, double *next);

/* A model's expected loss on the next token, split (nats):
 *   E_{w~p}[-ln q(w)] = H(p) + KL(p || q),   *floor = H(p),  *kl = KL(p || q)
 * p = the true distribution (tw_ideal next), q = the model's, over the same V word ids.
 * kl is +inf when q gives 0 to a word p allows. */
void tw_loss_split(const double *p, const double *q, int V, double *floor, double *kl);

#endif
