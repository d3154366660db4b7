/* toyworld_files.c -- write data/toyworld/ from a seed: the train/val splits, the word
 * metadata, the probe stimuli (sentences, scrambled word lists, nonword strings), the
 * same-words twins and stats.json; the minimal pairs and the fact-recall pairs are
 * toyworld_pairs.c's.  Lessons 01 and 13.
 *
 * Every file comes from its own random stream (toyworld_priv.h), so changing the number
 * of training sentences does not change the validation set or the probes.  All draws are
 * integers (see tw_sample), so the text is the same on every platform.
 */
#include "corpus.h"
#include "io.h"
#include "rng.h"
#include "toyworld_priv.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a growing text buffer -------------------------------------------------------- */

void sb_add(sbuf *b, const char *fmt, ...) {
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->n;
        int k = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? room : 0, fmt, ap);
        va_end(ap);
        if (k < 0) { b->oom = 1; return; }
        if (b->s && (size_t)k < room) { b->n += (size_t)k; return; }
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->n + (size_t)k + 1) cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s) { b->oom = 1; return; }
        b->s = s;
        b->cap = cap;
    }
}

void sb_sentence(sbuf *b, const tw_model *m, const int *w, int n) {
    for (int i = 0; i < n; i++) sb_add(b, i ? " %s" : "%s", m->word[w[i]]);
}

int sb_write(sbuf *b, const char *dir, const char *name, char *err) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (b->oom) return tb_fail(err, "%s: out of memory", path);
    int rc = write_text_file(path, b->s ? b->s : "", err);
    free(b->s);
    memset(b, 0, sizeof *b);
    return rc;
}

/* ---- sentences --------------------------------------------------------------------------- */
static int same_sent(const sent *a, const int *w, int n) {
    return a->p.n == n && !memcmp(a->w, w, (size_t)n * sizeof *w);
}

int seen_before(const sent *list, int k, const int *w, int n) {
    for (int i = 0; i < k; i++)
        if (same_sent(&list[i], w, n)) return 1;
    return 0;
}

/* n sentences from one stream into a token array (back to back) and a text buffer. */
static int gen_split(const tw_model *m, uint64_t seed, int stream, int n_sent, int **ids,
                     long *n_ids, sbuf *text, long *len_hist, char *err) {
    tb_rng r;
    rng_stream(&r, seed, (uint64_t)stream);
    size_t cap = (size_t)n_sent * 16 + 16;
    int *x = malloc(cap * sizeof *x);
    if (!x) return tb_fail(err, "out of memory");
    long k = 0;
    for (int s = 0; s < n_sent; s++) {
        int w[TW_MAX_LEN];
        tw_parse p;
        int n = tw_sample(m, &r, w, &p);
        if ((size_t)(k + n) > cap) {
            cap = cap * 2 + (size_t)n;
            int *y = realloc(x, cap * sizeof *x);
            if (!y) { free(x); return tb_fail(err, "out of memory"); }
            x = y;
        }
        memcpy(x + k, w, (size_t)n * sizeof *w);
        k += n;
        if (len_hist) len_hist[n < TW_MAX_LEN ? n : TW_MAX_LEN - 1]++;
        sb_sentence(text, m, w, n);
        sb_add(text, "\n");
    }
    *ids = x;
    *n_ids = k;
    return 0;
}

static const char *num_name(int n) { return n == TW_SG ? "sg" : "pl"; }

/* Probe sentences: the same number in every (subject category x subject number) cell,
 * all different, drawn from the grammar (rejection sampling keeps their probabilities). */
static int gen_probes(const tw_model *m, uint64_t seed, int n_probe, sent *out, char *err) {
    const tw_grammar *g = m->g;
    int cells[2 * TW_MAX_CATS], n_cells = 0;
    for (int c = 0; c < g->n_cats; c++)
        if (g->subj_cat_weight[c] > 0)
            for (int n = 0; n < 2; n++) cells[n_cells++] = c * 2 + n;
    tb_rng r;
    rng_stream(&r, seed, STREAM_PROBES);
    int k = 0;
    for (int ci = 0; ci < n_cells; ci++) {
        int want = n_probe / n_cells + (ci < n_probe % n_cells);
        int c = cells[ci] / 2, num = cells[ci] % 2;
        long tries = 0;
        for (int got = 0; got < want;) {
            if (++tries > 2000000)
                return tb_fail(err, "probes: cannot find %d different sentences with a %s %s "
                               "subject", want, num_name(num), g->cat_names[c]);
            sent s;
            int n = tw_sample(m, &r, s.w, &s.p);
            if (s.p.subj_cat != c || s.p.subj_num != num || seen_before(out, k, s.w, n)) continue;
            out[k++] = s;
            got++;
        }
    }
    return 0;
}

/* The probe's words in a new order ("." stays last); never the original order when
 * another order exists. */
static void scramble(tb_rng *r, const sent *s, int *w) {
    int n = s->p.n - 1;
    for (int tries = 0; tries < 100; tries++) {
        memcpy(w, s->w, (size_t)s->p.n * sizeof *w);
        rng_shuffle_int(r, w, n);
        if (memcmp(w, s->w, (size_t)n * sizeof *w)) return;
    }
}

/* ---- the whole folder ------------------------------------------------------------------- */

void toyworld_default_opts(tb_toyworld_opts *o) {
    o->n_train_sentences = 20000;
    o->n_val_sentences = 2000;
    o->n_probe_sentences = 240;
    o->n_minimal_pairs = 480;
    o->n_fact_pairs = 160;
    o->n_twin_pairs = 120;
}

static int check_opts(const tb_toyworld_opts *o, char *err) {
    if (o->n_train_sentences < 10 || o->n_train_sentences > 5000000)
        return tb_fail(err, "train sentences must be in 10..5000000 (got %d)",
                       o->n_train_sentences);
    if (o->n_val_sentences < 1 || o->n_val_sentences > 1000000)
        return tb_fail(err, "val sentences must be in 1..1000000 (got %d)", o->n_val_sentences);
    if (o->n_probe_sentences < 1 || o->n_probe_sentences > 100000)
        return tb_fail(err, "probe sentences must be in 1..100000 (got %d)",
                       o->n_probe_sentences);
    if (o->n_minimal_pairs < 1 || o->n_minimal_pairs > 100000)
        return tb_fail(err, "minimal pairs must be in 1..100000 (got %d)", o->n_minimal_pairs);
    if (o->n_fact_pairs < 1 || o->n_fact_pairs > 100000)
        return tb_fail(err, "fact pairs must be in 1..100000 (got %d)", o->n_fact_pairs);
    if (o->n_twin_pairs < 1 || o->n_twin_pairs > 100000)
        return tb_fail(err, "twin pairs must be in 1..100000 (got %d)", o->n_twin_pairs);
    return 0;
}

static int write_vocab(const tw_model *m, const char *dir, char *err) {
    sbuf b = {0};
    sb_add(&b, "id\tword\tpos\tcategory\tnumber\n");
    for (int i = 0; i < m->n_words; i++)
        sb_add(&b, "%d\t%s\t%s\t%s\t%s\n", i, m->word[i], m->pos[i], m->category[i],
               m->number[i]);
    return sb_write(&b, dir, "vocab.tsv", err);
}

/* What stands between the subject and its verb: "simple", "pp", "two_pp", "rel_subj",
 * "rel_obj" (the probes' `structure` column). */
static const char *structure_name(const tw_parse *p) {
    if (p->rel == TW_RC_SUBJ) return "rel_subj";
    if (p->rel == TW_RC_OBJ) return "rel_obj";
    return p->has_attr == 2 ? "two_pp" : p->has_attr ? "pp" : "simple";
}

static int write_probes(const tw_model *m, uint64_t seed, int n_probe, const char *dir,
                        char *err) {
    const tw_grammar *g = m->g;
    sent *pr = malloc((size_t)n_probe * sizeof *pr);
    if (!pr) return tb_fail(err, "out of memory");
    if (gen_probes(m, seed, n_probe, pr, err)) { free(pr); return -1; }
    sbuf txt = {0}, tsv = {0}, scr = {0}, nw = {0};
    sb_add(&txt, "# toyworld probe sentences (labels in probes_sentences.tsv, same order)\n");
    sb_add(&tsv, "id\tsentence\tsubj_cat\tsubj_num\tverb\tobj_cat\tattractor\tn_tokens\tstructure\tnamed\n");
    sb_add(&scr, "# the probe sentences' words in a shuffled order (\".\" kept last)\n");
    sb_add(&nw, "# pronounceable nonwords, one string per probe sentence, same lengths\n");
    tb_rng rs, rn;
    rng_stream(&rs, seed, STREAM_SCRAMBLE);
    rng_stream(&rn, seed, STREAM_NONWORDS);
    for (int i = 0; i < n_probe; i++) {
        const sent *s = &pr[i];
        int n = s->p.n, w[TW_MAX_LEN];
        sb_sentence(&txt, m, s->w, n);
        sb_add(&txt, "\n");
        sb_add(&tsv, "%d\t", i);
        sb_sentence(&tsv, m, s->w, n);
        sb_add(&tsv, "\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%d\n", g->cat_names[s->p.subj_cat],
               num_name(s->p.subj_num), m->verb_lemma[s->p.verb],
               s->p.obj_cat >= 0 ? g->cat_names[s->p.obj_cat] : "none", s->p.has_attr > 0, n,
               structure_name(&s->p), s->p.name >= 0);
        scramble(&rs, s, w);
        sb_sentence(&scr, m, w, n);
        sb_add(&scr, "\n");
        /* n-1 nonwords (no immediate repeats) and the final "." */
        int prev = -1;
        for (int j = 0; j < n - 1; j++) {
            int k;
            do k = (int)rng_below(&rn, (uint32_t)g->n_nonwords);
            while (k == prev && g->n_nonwords > 1);
            prev = k;
            w[j] = m->nonword_id[k];
        }
        w[n - 1] = m->eos;
        sb_sentence(&nw, m, w, n);
        sb_add(&nw, "\n");
    }
    free(pr);
    int rc = sb_write(&txt, dir, "probes_sentences.txt", err);
    if (!rc) rc = sb_write(&tsv, dir, "probes_sentences.tsv", err);
    if (!rc) rc = sb_write(&scr, dir, "probes_scrambled.txt", err);
    if (!rc) rc = sb_write(&nw, dir, "probes_nonwords.txt", err);
    free(tsv.s); free(scr.s); free(nw.s);
    return rc;
}

/* ---- same-words twins ------------------------------------------------------------------- */

/* Pair i: kind alternates (subject<->object, subject<->attractor), the subjects' number
 * alternates every two pairs; out[2i] is a sampled sentence, out[2i+1] its twin.  Only
 * sentences of the structure tw_twin understands are used: a common-noun subject, at most
 * one attractor phrase, no relative clause (a name or a relative clause would make a
 * "twin" whose swapped phrases are not the ones the labels describe). */
static int gen_twins(const tw_model *m, uint64_t seed, int n_twin, sent *out, char *err) {
    tb_rng r;
    rng_stream(&r, seed, STREAM_TWINS);
    for (int i = 0; i < n_twin; i++) {
        tw_twin_kind kind = i % 2 ? TW_TWIN_SUBJ_ATTR : TW_TWIN_SUBJ_OBJ;
        int num = (i / 2) % 2;
        for (long tries = 0;; tries++) {
            if (tries > 2000000)
                return tb_fail(err, "twins: cannot find %d different sentences with a twin", n_twin);
            sent s, t;
            int n = tw_sample(m, &r, s.w, &s.p);
            if (s.p.subj_num != num || s.p.name >= 0 || s.p.rel != TW_RC_NONE || s.p.has_attr > 1) continue;
            if (!tw_twin(m, s.w, n, kind, t.w)) continue;
            if (seen_before(out, 2 * i, s.w, n) || seen_before(out, 2 * i, t.w, n)) continue;
            t.p = s.p;
            out[2 * i] = s;
            out[2 * i + 1] = t;
            break;
        }
    }
    return 0;
}

/* The labels of a sentence read off its words (a twin has no sample record):
 * subject category and number, verb lemma, object category, attractor present. */
static void twin_labels(const tw_model *m, const int *w, int n, sbuf *tsv) {
    int subj = -1, verb = -1, obj = -1, attr = 0;
    for (int i = 0; i < n; i++) {
        const char *pos = m->pos[w[i]];
        if (!strcmp(pos, "NOUN") && subj < 0) subj = i;
        else if (!strcmp(pos, "PREP") && verb < 0) attr = 1;
        else if (!strcmp(pos, "VERB")) verb = i;
        else if (!strcmp(pos, "NOUN") && verb >= 0 && obj < 0 && strcmp(m->pos[w[verb + 1]], "PREP")) obj = i;
    }
    const char *lemma = "?";
    for (int v = 0; v < m->n_verbs && verb >= 0; v++)
        if (m->verb_id[v][0] == w[verb] || m->verb_id[v][1] == w[verb]) lemma = m->verb_lemma[v];
    sb_add(tsv, "\t%s\t%s\t%s\t%s\t%d\t%d\n", m->category[w[subj]], m->number[w[subj]], lemma,
           obj >= 0 ? m->category[w[obj]] : "none", attr, n);
}

static int write_twins(const tw_model *m, uint64_t seed, int n_twin, const char *dir, char *err) {
    sent *tw = malloc((size_t)2 * n_twin * sizeof *tw);
    if (!tw) return tb_fail(err, "out of memory");
    if (gen_twins(m, seed, n_twin, tw, err)) { free(tw); return -1; }
    sbuf txt = {0}, tsv = {0};
    sb_add(&txt, "# same-words twins: sentences 2k and 2k+1 have the same words in a different structure\n");
    sb_add(&tsv, "id\tsentence\tpair\tswap\tsubj_cat\tsubj_num\tverb\tobj_cat\tattractor\tn_tokens\n");
    for (int i = 0; i < 2 * n_twin; i++) {
        int n = tw[i].p.n;
        sb_sentence(&txt, m, tw[i].w, n);
        sb_add(&txt, "\n");
        sb_add(&tsv, "%d\t", i);
        sb_sentence(&tsv, m, tw[i].w, n);
        sb_add(&tsv, "\t%d\t%s", i / 2, (i / 2) % 2 ? "subj_attr" : "subj_obj");
        twin_labels(m, tw[i].w, n, &tsv);
    }
    free(tw);
    int rc = sb_write(&txt, dir, "probes_twins.txt", err);
    if (!rc) rc = sb_write(&tsv, dir, "probes_twins.tsv", err);
    free(tsv.s);
    return rc;
}

/* Floor of the validation stream under the grammar (mean exact NLL per token). */
static double floor_of(const tw_model *m, const int *x, long n) {
    tw_belief *b = malloc(sizeof *b);
    if (!b) return NAN;
    tw_belief_init(b);
    double s = 0.0;
    for (long i = 0; i < n; i++) s -= log(tw_observe(m, b, x[i]));
    free(b);
    return s / (double)n;
}

/* stats.json: sizes, lengths, the floor and the baselines, with fixed decimals (the same
 * bytes on every platform). */
typedef struct { long n_train, n_val; int len_min, len_max; double floor, unigram, bigram, lambda; } tw_stats;

static int write_stats(const tw_model *m, uint64_t seed, const tb_toyworld_opts *o, const tw_stats *t,
                       const char *dir, char *err) {
    sbuf b = {0};
    sb_add(&b, "{\n  \"corpus\": \"toyworld\",\n  \"grammar_version\": %d,\n"
           "  \"seed\": %llu,\n", TOYWORLD_GRAMMAR_VERSION, (unsigned long long)seed);
    sb_add(&b, "  \"vocab_size\": %d,\n  \"nonwords\": %d,\n  \"names\": %d,\n", m->n_words,
           m->g->n_nonwords, m->g->n_names);
    sb_add(&b, "  \"train_sentences\": %d,\n  \"val_sentences\": %d,\n"
           "  \"train_tokens\": %ld,\n  \"val_tokens\": %ld,\n", o->n_train_sentences,
           o->n_val_sentences, t->n_train, t->n_val);
    sb_add(&b, "  \"mean_sentence_tokens\": %.4f,\n  \"min_sentence_tokens\": %d,\n"
           "  \"max_sentence_tokens\": %d,\n", (double)t->n_train / o->n_train_sentences, t->len_min,
           t->len_max);
    sb_add(&b, "  \"floor_nats\": %.6f,\n  \"floor_bits\": %.6f,\n", t->floor, t->floor / log(2.0));
    sb_add(&b, "  \"unigram_nats\": %.6f,\n  \"bigram_nats\": %.6f,\n"
           "  \"bigram_lambda\": %.3f,\n", t->unigram, t->bigram, t->lambda);
    sb_add(&b, "  \"probe_sentences\": %d,\n  \"minimal_pairs\": %d,\n  \"fact_pairs\": %d,\n"
           "  \"twin_pairs\": %d\n}\n", o->n_probe_sentences, o->n_minimal_pairs, o->n_fact_pairs,
           o->n_twin_pairs);
    return sb_write(&b, dir, "stats.json", err);
}

/* Sampling draws 32-bit integers: every state the grammar can reach must have weights that
 * add up to less than 2^32 (tw_states_build visits them all and says which one does not). */
static int check_weights(const tw_model *m, char *err) {
    tw_states S;
    if (tw_states_build(m, &S, err)) return -1;
    tw_states_free(&S);
    return 0;
}

int toyworld_write(const char *dir, uint64_t seed, const tb_toyworld_opts *opt, char *err) {
    tb_toyworld_opts o;
    if (opt) o = *opt;
    else toyworld_default_opts(&o);
    if (check_opts(&o, err)) return -1;
    tw_model *m = malloc(sizeof *m);
    if (!m) return tb_fail(err, "out of memory");
    int *tr = NULL, *va = NULL;
    long hist[TW_MAX_LEN] = {0};
    tw_stats t = {0};
    sbuf b = {0};
    int rc = tw_compile(m, &toyworld_grammar, err);
    if (!rc) rc = check_weights(m, err);
    if (!rc) rc = make_dirs(dir, err);
    if (!rc) rc = write_vocab(m, dir, err);
    if (!rc) rc = gen_split(m, seed, STREAM_TRAIN, o.n_train_sentences, &tr, &t.n_train, &b, hist, err);
    if (!rc) rc = sb_write(&b, dir, "train.txt", err);
    if (!rc) rc = gen_split(m, seed, STREAM_VAL, o.n_val_sentences, &va, &t.n_val, &b, NULL, err);
    if (!rc) rc = sb_write(&b, dir, "val.txt", err);
    if (!rc) rc = write_probes(m, seed, o.n_probe_sentences, dir, err);
    if (!rc) rc = write_minimal_pairs(m, seed, o.n_minimal_pairs, dir, err);
    if (!rc) rc = write_fact_pairs(m, seed, o.n_fact_pairs, dir, err);
    if (!rc) rc = write_twins(m, seed, o.n_twin_pairs, dir, err);
    if (!rc) rc = corpus_baselines(tr, t.n_train, va, t.n_val, m->n_words, m->eos, &t.unigram, &t.bigram, &t.lambda, err);
    if (!rc) {
        t.floor = floor_of(m, va, t.n_val);
        for (int i = 0; i < TW_MAX_LEN; i++)
            if (hist[i]) { if (!t.len_min) t.len_min = i; t.len_max = i; }
        rc = write_stats(m, seed, &o, &t, dir, err);
    }
    free(b.s);
    free(tr);
    free(va);
    free(m);
    return rc;
}
