/* ideal.c -- the ideal observer as a recording folder, and a model's loss split into the
 * floor plus KL(true || model).  Lesson 16; see include/ideal.h.  The observer itself (the
 * forward algorithm over the grammar's hidden states) is src/corpus/toyworld_ideal.c. */
#include "ideal.h"
#include "json.h"
#include "recording.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const layer_name[IDEAL_N_LAYERS] = {"00_belief_mean", "01_belief_last", "02_next_mean", "03_next_last"};

/* ---- the recording ------------------------------------------------------------------------ */

void ideal_rec_free(ideal_rec *r) {
    for (int l = 0; l < IDEAL_N_LAYERS; l++) {
        for (int j = 0; r->names[l] && j < r->rep.layer[l].p; j++) free(r->names[l][j]);
        free(r->names[l]);
    }
    rep_free(&r->rep);
    memset(r, 0, sizeof *r);
}

/* Layer l from the full array X[n, p] without its constant columns; names from name(j). */
static int keep_varying(ideal_rec *r, int l, const double *X, int n, int p, const tw_model *m, const tw_states *S) {
    int *keep = malloc((size_t)p * sizeof *keep), k = 0;
    if (!keep) return -1;
    for (int j = 0; j < p; j++) {
        int varies = 0;
        for (int i = 1; i < n && !varies; i++) varies = X[(size_t)i * p + j] != X[j];
        if (varies) keep[k++] = j;
    }
    rep_layer *L = &r->rep.layer[l];
    int rc = rep_layer_alloc(L, layer_name[l], layer_name[l], 1, n, k > 0 ? k : 1);
    r->rep.n_layers = l + 1;
    L->p = k;
    if (!rc && !(r->names[l] = calloc((size_t)(k > 0 ? k : 1), sizeof *r->names[l]))) rc = -1;
    for (int q = 0; !rc && q < k; q++) {
        char buf[128];
        if (l < 2) tw_state_name(m, S->state[keep[q]], buf, sizeof buf);
        else snprintf(buf, sizeof buf, "%s", m->word[keep[q]]);
        if (!(r->names[l][q] = tb_strf("%s", buf))) rc = -1;
        for (int i = 0; i < n; i++) L->mean[(size_t)i * k + q] = X[(size_t)i * p + keep[q]];
    }
    free(keep);
    return rc;
}

/* Every stimulus through the forward algorithm: the four full arrays. */
static int observe(const tw_model *m, const tw_states *S, const rec_stimuli *s, double **full, char *err) {
    int n = s->n, NS = S->n, V = m->n_words;
    for (int i = 0; i < n; i++) {
        tw_ideal o;
        if (tw_ideal_run(m, S, s->ids[i], s->len[i], &o, err)) return -1;
        if (o.possible < o.n) {
            int at = o.possible;
            tw_ideal_free(&o);
            return tb_fail(err, "stimulus %d ('%s') is not a sentence of the grammar ('%s' cannot come at word %d): "
                           "the ideal observer has no belief about it", i + 1, s->text[i], m->word[s->ids[i][at]], at);
        }
        tw_ideal_pool(&o, 0, full[0] + (size_t)i * NS, full[2] + (size_t)i * V);
        tw_ideal_pool(&o, 1, full[1] + (size_t)i * NS, full[3] + (size_t)i * V);
        tw_ideal_free(&o);
    }
    return 0;
}

int ideal_record(const char *path, ideal_rec *out, char *err) {
    memset(out, 0, sizeof *out);
    tw_model *m = malloc(sizeof *m);
    tw_states S = {0};
    tb_tokenizer tok;
    rec_stimuli s = {0};
    double *full[IDEAL_N_LAYERS] = {NULL};
    int rc = !m ? tb_fail(err, "out of memory") : tw_compile(m, &toyworld_grammar, err);
    int have_tok = !rc && !tok_from_list(&tok, TOK_WORD, m->word, m->n_words, err);
    if (!rc) rc = !have_tok || rec_stimuli_load(path, &tok, &s, err) || tw_states_build(m, &S, err);
    if (!rc) {
        out->n_states = S.n;
        out->n_words = m->n_words;
        for (int l = 0; l < IDEAL_N_LAYERS; l++)
            if (!(full[l] = malloc((size_t)s.n * (l < 2 ? S.n : m->n_words) * sizeof(double)))) rc = tb_fail(err, "out of memory");
    }
    if (!rc) rc = observe(m, &S, &s, full, err);
    if (!rc && !(out->rep.layer = calloc(IDEAL_N_LAYERS, sizeof(rep_layer)))) rc = tb_fail(err, "out of memory");
    out->rep.is_folder = 1;
    for (int l = 0; l < IDEAL_N_LAYERS && !rc; l++)
        if (keep_varying(out, l, full[l], s.n, l < 2 ? S.n : m->n_words, m, &S)) rc = tb_fail(err, "out of memory");
    for (int l = 0; l < IDEAL_N_LAYERS; l++) free(full[l]);
    if (have_tok) tok_free(&tok);
    rec_stimuli_free(&s);
    tw_states_free(&S);
    free(m);
    if (rc) ideal_rec_free(out);
    return rc ? -1 : 0;
}

/* ---- the folder --------------------------------------------------------------------------- */

static int save_layer(const char *dir, const rep_layer *L, char *err) {
    float *f = malloc(((size_t)L->n * L->p + 1) * sizeof *f);
    char *path = tb_strf("%s/%s.npy", dir, L->name);
    int rc = f && path ? 0 : tb_fail(err, "out of memory");
    for (size_t i = 0; !rc && i < (size_t)L->n * L->p; i++) f[i] = (float)L->mean[i];
    int64_t shape[2] = {L->n, L->p};
    if (!rc) rc = npy_write_f32(path, f, 2, shape, err);
    free(f);
    free(path);
    return rc;
}

static int save_columns(const char *dir, const ideal_rec *r, char *err) {
    int rows = 0;
    for (int l = 0; l < IDEAL_N_LAYERS; l++) rows += r->rep.layer[l].p;
    static const char *const head[3] = {"layer", "column", "name"};
    char **cells = calloc((size_t)rows * 3 + 1, sizeof *cells), *path = tb_strf("%s/columns.tsv", dir);
    int rc = cells && path ? 0 : tb_fail(err, "out of memory"), row = 0;
    for (int l = 0; !rc && l < IDEAL_N_LAYERS; l++)
        for (int j = 0; j < r->rep.layer[l].p; j++, row++) {
            cells[3 * row] = tb_strf("%s", layer_name[l]);
            cells[3 * row + 1] = tb_strf("%d", j);
            cells[3 * row + 2] = tb_strf("%s", r->names[l][j]);
        }
    for (int i = 0; !rc && i < rows * 3; i++)
        if (!cells[i]) rc = tb_fail(err, "out of memory");
    if (!rc) rc = tsv_write(path, 3, head, rows, (const char *const *)cells, err);
    for (int i = 0; cells && i < rows * 3; i++) free(cells[i]);
    free(cells);
    free(path);
    return rc;
}

static void manifest(json_writer *w, const char *stimuli, const ideal_rec *r) {
    static const char *const what[IDEAL_N_LAYERS] = {
        "P(hidden state | prefix), mean over the stimulus's tokens", "P(hidden state | prefix) after the last word",
        "P(next word | prefix), mean over the stimulus's tokens", "P(next word | prefix) after the last word"};
    jw_object(w, NULL, JW_LINES);
    jw_str(w, "model", "ideal");
    jw_str(w, "kind", "ideal");
    jw_int(w, "step", -1);
    jw_str(w, "stimuli", stimuli);
    jw_int(w, "n_stimuli", r->rep.layer[0].n);
    jw_str(w, "pool", "mean and last (see each array)");
    jw_int(w, "trials", 1);
    jw_str(w, "units", "probabilities under the toyworld grammar (the forward algorithm)");
    jw_int(w, "grammar_states", r->n_states);
    jw_int(w, "grammar_words", r->n_words);
    jw_array(w, "arrays", JW_LINES);
    for (int l = 0; l < IDEAL_N_LAYERS; l++) {
        long long shape[2] = {r->rep.layer[l].n, r->rep.layer[l].p};
        char file[64];
        snprintf(file, sizeof file, "%s.npy", layer_name[l]);
        jw_object(w, NULL, JW_COMPACT);
        jw_str(w, "file", file);
        jw_ints(w, "shape", shape, 2);
        jw_str(w, "dims", "stimuli x units (the varying columns; names in columns.tsv)");
        jw_str(w, "what", what[l]);
        jw_end(w);
    }
    jw_end(w);
    jw_end(w);
}

int ideal_save(const char *dir, const char *stimuli, const ideal_rec *r, char *err) {
    for (int l = 0; l < IDEAL_N_LAYERS; l++)
        if (save_layer(dir, &r->rep.layer[l], err)) return -1;
    if (save_columns(dir, r, err)) return -1;
    json_writer w;
    jw_init(&w);
    manifest(&w, stimuli, r);
    char *path = tb_strf("%s/manifest.json", dir);
    int rc = path ? jw_save(&w, path, err) : tb_fail(err, "out of memory");
    free(path);
    jw_free(&w);
    return rc;
}

/* ---- the loss split ---------------------------------------------------------------------------- */

const char *const ideal_con_name[IDEAL_N_CON] = {"verb, no attractor", "verb, attractor of the same number",
                                                 "verb, attractor of the other number", "every other token"};
const char *const ideal_con_key[IDEAL_N_CON] = {"verb_no_attractor", "verb_attractor_same", "verb_attractor_other",
                                                "other"};

static void cell_add(ideal_cell *c, double loss, double floor, double kl) {
    c->tokens++;
    c->loss += loss;
    c->floor += floor;
    c->kl += kl;
}

static void cell_mean(ideal_cell *c) {
    double k = c->tokens ? (double)c->tokens : NAN;
    c->loss /= k;
    c->floor /= k;
    c->kl /= k;
}

/* The construction of each word of a sentence w[n] (no '.' in front): the verb by whether a
 * prepositional phrase came between it and the subject, and whether the nearer noun (the
 * attractor) has the subject's number. */
static void constructions(const tw_model *m, const int *w, int n, int *con) {
    int subj_num = -1, last_num = -1, prep = 0, verb_done = 0;
    for (int t = 0; t < n; t++) {
        const char *pos = m->pos[w[t]];
        con[t] = IDEAL_OTHER;
        if (!strcmp(pos, "NOUN")) {
            last_num = !strcmp(m->number[w[t]], "pl");
            if (subj_num < 0) subj_num = last_num;
        } else if (!strcmp(pos, "PREP") && !verb_done) prep = 1;
        else if (!strcmp(pos, "VERB") && !verb_done) {
            con[t] = !prep ? IDEAL_VERB_PLAIN : last_num == subj_num ? IDEAL_VERB_SAME : IDEAL_VERB_OTHER;
            verb_done = 1;
        }
    }
}

/* q = softmax(logits) in double (so that no probability underflows to 0). */
static void softmax_d(const float *l, int V, double *q) {
    double mx = l[0], s = 0;
    for (int v = 1; v < V; v++) mx = l[v] > mx ? l[v] : mx;
    for (int v = 0; v < V; v++) s += (q[v] = exp((double)l[v] - mx));
    for (int v = 0; v < V; v++) q[v] /= s;
}

typedef struct {
    const tw_model *m;
    const tw_states *S;
    const lm_scorer *s;
    int *ids, *con;        /* [len + 1] scratch */
    float *logits;         /* [len, V] */
    double *q;             /* [V] */
} split_ctx;

/* One sentence w[len] (ending with '.'), read after '.': every token into out. */
static int split_sentence(split_ctx *x, const int *w, int len, int eos, ideal_split *out, char *err) {
    int V = x->m->n_words;
    x->ids[0] = eos;
    memcpy(x->ids + 1, w, (size_t)len * sizeof *w);
    tw_ideal o;
    if (tw_ideal_run(x->m, x->S, x->ids, len + 1, &o, err)) return -1;
    int rc = o.possible < o.n ? tb_fail(err, "a validation sentence the grammar cannot produce") : 0;
    if (!rc) rc = x->s->seq_logits(x->s->model, x->ids, len + 1, x->logits, err);
    constructions(x->m, w, len, x->con);
    for (int t = 0; !rc && t < len; t++) {
        double floor, kl;
        softmax_d(x->logits + (size_t)t * V, V, x->q);
        tw_loss_split(o.next + (size_t)t * V, x->q, V, &floor, &kl);
        double loss = -log(x->q[w[t]]);
        cell_add(&out->all, loss, floor, kl);
        cell_add(&out->pos[t < LM_EVAL_POSITIONS - 1 ? t : LM_EVAL_POSITIONS - 1], loss, floor, kl);
        cell_add(&out->con[x->con[t]], loss, floor, kl);
    }
    tw_ideal_free(&o);
    return rc;
}

int ideal_loss_split(const lm_scorer *s, const tb_corpus *c, long max_tokens, ideal_split *out, char *err) {
    memset(out, 0, sizeof *out);
    if (!s->seq_logits) return tb_fail(err, "this model kind (%s) does not give its next-word distribution", s->kind);
    tw_model *m = malloc(sizeof *m);
    tw_states S = {0};
    long n = lm_val_tokens(c, max_tokens), longest = 1;
    for (long i = 0, a = 0; i < n; i++)
        if (c->val[i] == c->eos) { longest = i - a + 1 > longest ? i - a + 1 : longest; a = i + 1; }
    split_ctx x = {m, &S, s, malloc((size_t)(longest + 1) * sizeof(int)), malloc((size_t)(longest + 1) * sizeof(int)),
                   NULL, NULL};
    int rc = !m || !x.ids || !x.con ? tb_fail(err, "out of memory") : corpus_grammar(c, m, err);
    if (!rc) rc = tw_states_build(m, &S, err);
    if (!rc) {
        x.logits = malloc((size_t)longest * m->n_words * sizeof *x.logits);
        x.q = malloc((size_t)m->n_words * sizeof *x.q);
        if (!x.logits || !x.q) rc = tb_fail(err, "out of memory");
    }
    for (long i = 0, a = 0; i < n && !rc; i++)
        if (c->val[i] == c->eos) {
            char e[TB_ERRLEN];
            rc = split_sentence(&x, c->val + a, (int)(i - a + 1), c->eos, out, e);
            if (rc) tb_fail(err, "%s: the validation sentence at token %ld: %s", c->name, a, e);
            a = i + 1;
        }
    cell_mean(&out->all);
    for (int k = 0; k < LM_EVAL_POSITIONS; k++) cell_mean(&out->pos[k]);
    for (int k = 0; k < IDEAL_N_CON; k++) cell_mean(&out->con[k]);
    tw_states_free(&S);
    free(m); free(x.ids); free(x.con); free(x.logits); free(x.q);
    return rc;
}
