/* corpus.c -- load a corpus (toyworld or any text file), its exact entropy floor and the
 * unigram/bigram baselines; read probe lists and minimal pairs.  Lesson 01.
 *
 * Cross-entropy of a model q on the validation tokens x_1..x_N, in nats per token:
 *     H(q) = -(1/N) sum_t ln q(x_t | x_<t)          (divide by ln 2 for bits)
 * For toyworld we know the true distribution p, so H(p) -- "the floor" -- is the best
 * any model can do on average: H(q) = H(p) + KL(p || q) >= H(p).
 * The true conditional p(x_t | x_<t) only depends on the sentence so far (sentences are
 * independent), and the forward algorithm in toyworld.c computes it exactly.
 */
#include "corpus.h"
#include "io.h"
#include "rng.h"
#include "toyworld.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- the grammar behind a loaded corpus ----------------------------------------------- */

/* Compile the built-in grammar and check that c's vocabulary is its word list. */
static int corpus_model(const tb_corpus *c, tw_model *m, char *err) {
    if (c->eos < 0 || c->tok.kind != TOK_WORD)
        return tb_fail(err, "%s: not a toyworld corpus (no grammar to compute exact "
                       "probabilities)", c->name);
    int b = !strcmp(c->name, TOYWORLD_B_NAME);   /* the second language shares the vocabulary */
    if (b ? tw_compile_shared(m, &toyworld_b_grammar, &toyworld_grammar, err) : tw_compile(m, &toyworld_grammar, err))
        return -1;
    if (c->tok.vocab_size != m->n_words)
        return tb_fail(err, "%s: vocabulary has %d words, this tinybrain's grammar %d "
                       "(regenerate with: tinybrain corpus)", c->name, c->tok.vocab_size,
                       m->n_words);
    for (int i = 0; i < m->n_words; i++)
        if (strcmp(c->tok.tokens[i], m->word[i]))
            return tb_fail(err, "%s: vocabulary word %d is '%s', the grammar says '%s' "
                           "(regenerate with: tinybrain corpus)", c->name, i, c->tok.tokens[i],
                           m->word[i]);
    return 0;
}

int corpus_grammar(const tb_corpus *c, tw_model *m, char *err) { return corpus_model(c, m, err); }

int toyworld_sentence_nll(const tb_corpus *c, const int *ids, int n, double *total, float *nll,
                          char *err) {
    tw_model *m = malloc(sizeof *m);
    tw_belief *b = malloc(sizeof *b);
    if (!m || !b) { free(m); free(b); return tb_fail(err, "out of memory"); }
    if (corpus_model(c, m, err)) { free(m); free(b); return -1; }
    tw_belief_init(b);
    double sum = 0.0;
    int dead = 0;
    for (int t = 0; t < n; t++) {
        double term = INFINITY;
        if (!dead) {
            if (ids[t] < 0 || ids[t] >= m->n_words) {
                int nw = m->n_words;
                free(m); free(b);
                return tb_fail(err, "token id %d out of range (vocabulary %d)", ids[t], nw);
            }
            double p = tw_observe(m, b, ids[t]);
            if (p > 0.0) term = -log(p);
            else dead = 1;   /* not derivable: this and every later token get +inf */
        }
        sum += term;
        if (nll) nll[t] = (float)term;
    }
    *total = sum;
    free(m);
    free(b);
    return 0;
}

int toyworld_next_dist(const tb_corpus *c, const int *prefix, int n, double *p, char *err) {
    tw_model *m = malloc(sizeof *m);
    tw_belief *b = malloc(sizeof *b);
    if (!m || !b) { free(m); free(b); return tb_fail(err, "out of memory"); }
    int rc = corpus_model(c, m, err);
    if (rc == 0) {
        tw_belief_init(b);
        for (int t = 0; t < n && rc == 0; t++) {
            if (prefix[t] < 0 || prefix[t] >= m->n_words)
                rc = tb_fail(err, "token id %d out of range (vocabulary %d)", prefix[t],
                             m->n_words);
            else if (!(tw_observe(m, b, prefix[t]) > 0.0))
                rc = tb_fail(err, "prefix is not toyworld: '%s' cannot come at position %d",
                             c->tok.tokens[prefix[t]], t);
        }
        if (rc == 0) tw_next_dist(m, b, p);
    }
    free(m);
    free(b);
    return rc;
}

/* ---- baselines ---------------------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Counts from a token stream: unigram counts uni[V], left-context counts ctx[V], and
 * bigram counts as sorted unique keys u*V+w with their counts. */
typedef struct {
    int V;
    long N;
    long *uni, *ctx;
    int64_t *keys; long *cnt; long n_keys;
} ngram_counts;

static void counts_free(ngram_counts *k) {
    free(k->uni); free(k->ctx); free(k->keys); free(k->cnt);
    memset(k, 0, sizeof *k);
}

static int counts_fit(ngram_counts *k, const int *x, long n, int V, char *err) {
    memset(k, 0, sizeof *k);
    k->V = V;
    k->N = n;
    k->uni = calloc((size_t)V, sizeof *k->uni);
    k->ctx = calloc((size_t)V, sizeof *k->ctx);
    long np = n > 1 ? n - 1 : 0;
    k->keys = malloc((size_t)(np ? np : 1) * sizeof *k->keys);
    k->cnt = malloc((size_t)(np ? np : 1) * sizeof *k->cnt);
    if (!k->uni || !k->ctx || !k->keys || !k->cnt) { counts_free(k); return tb_fail(err, "out of memory"); }
    for (long i = 0; i < n; i++) k->uni[x[i]]++;
    for (long i = 0; i < np; i++) {
        k->ctx[x[i]]++;
        k->keys[i] = (int64_t)x[i] * V + x[i + 1];
    }
    qsort(k->keys, (size_t)np, sizeof *k->keys, cmp_i64);
    long u = 0;
    for (long i = 0; i < np; i++) {
        if (u > 0 && k->keys[u - 1] == k->keys[i]) { k->cnt[u - 1]++; continue; }
        k->keys[u] = k->keys[i];
        k->cnt[u] = 1;
        u++;
    }
    k->n_keys = u;
    return 0;
}

static long pair_count(const ngram_counts *k, int u, int w) {
    int64_t key = (int64_t)u * k->V + w;
    long lo = 0, hi = k->n_keys;
    while (lo < hi) {
        long mid = lo + (hi - lo) / 2;
        if (k->keys[mid] < key) lo = mid + 1;
        else hi = mid;
    }
    return lo < k->n_keys && k->keys[lo] == key ? k->cnt[lo] : 0;
}

static double p_unigram(const ngram_counts *k, int w) {
    return ((double)k->uni[w] + 1.0) / ((double)k->N + (double)k->V);
}

static double p_bigram(const ngram_counts *k, int u, int w, double lambda) {
    double pu = p_unigram(k, w);
    if (u < 0 || k->ctx[u] == 0) return pu;
    return lambda * (double)pair_count(k, u, w) / (double)k->ctx[u] + (1.0 - lambda) * pu;
}

/* Mean NLL of x[0..n) with x[-1] = prev (prev < 0: no context). */
static double nll_bigram(const ngram_counts *k, const int *x, long n, int prev, double lambda) {
    double s = 0.0;
    for (long i = 0; i < n; i++) {
        s -= log(p_bigram(k, i ? x[i - 1] : prev, x[i], lambda));
    }
    return s / (double)n;
}

int corpus_baselines(const int *train, long n_train, const int *val, long n_val, int V,
                     int eos, double *unigram_nats, double *bigram_nats, double *lambda,
                     char *err) {
    if (n_train < 2 || n_val < 1 || V < 1)
        return tb_fail(err, "baselines need at least 2 training and 1 validation token");
    for (long i = 0; i < n_train; i++)
        if (train[i] < 0 || train[i] >= V) return tb_fail(err, "train token %ld out of range", i);
    for (long i = 0; i < n_val; i++)
        if (val[i] < 0 || val[i] >= V) return tb_fail(err, "val token %ld out of range", i);
    /* 1. lambda on a held-out tail of train. */
    long h = n_train * 9 / 10;
    if (eos >= 0) {
        while (h < n_train && train[h - 1] != eos) h++;
        if (h >= n_train) h = n_train * 9 / 10;   /* no sentence end: cut anywhere */
    }
    if (h < 1) h = 1;
    double best_l = 0.0;
    if (h < n_train) {
        ngram_counts k;
        if (counts_fit(&k, train, h, V, err)) return -1;
        /* Coarse grid 0.00..0.99, then steps of 0.001 around the best (the held-out NLL
         * is convex in lambda: -ln of a function linear in lambda). */
        double best = INFINITY;
        for (int i = 0; i < 100; i++) {
            double l = i / 100.0;
            double s = nll_bigram(&k, train + h, n_train - h, train[h - 1], l);
            if (s < best) { best = s; best_l = l; }
        }
        int c0 = (int)lround(best_l * 1000.0);
        for (int i = c0 - 9; i <= c0 + 9; i++) {
            if (i < 0 || i > 999 || i % 10 == 0) continue;
            double l = i / 1000.0;
            double s = nll_bigram(&k, train + h, n_train - h, train[h - 1], l);
            if (s < best) { best = s; best_l = l; }
        }
        counts_free(&k);
    }
    /* 2. refit on all of train, evaluate on val. */
    ngram_counts k;
    if (counts_fit(&k, train, n_train, V, err)) return -1;
    double su = 0.0;
    for (long i = 0; i < n_val; i++) su -= log(p_unigram(&k, val[i]));
    *unigram_nats = su / (double)n_val;
    *bigram_nats = nll_bigram(&k, val, n_val, train[n_train - 1], best_l);
    *lambda = best_l;
    counts_free(&k);
    return 0;
}

/* ---- loading -------------------------------------------------------------------------- */

static int read_nonempty(const char *path, char **data, size_t *len, char *err) {
    if (read_file(path, data, len, err)) return -1;
    if (*len == 0) { free(*data); *data = NULL; return tb_fail(err, "%s: empty file", path); }
    const char *nul = memchr(*data, 0, *len);
    if (nul) {
        size_t off = (size_t)(nul - *data);
        free(*data);
        *data = NULL;
        return tb_fail(err, "%s: contains a NUL byte at offset %zu (binary file? give a text "
                       "file)", path, off);
    }
    return 0;
}

void corpus_free(tb_corpus *c) {
    tok_free(&c->tok);
    free(c->train);
    free(c->val);
    free(c->val_nll_true);
    if (c->pos) {
        for (int i = 0; c->pos[i]; i++) free(c->pos[i]);
        for (int i = 0; c->category[i]; i++) free(c->category[i]);
        for (int i = 0; c->number[i]; i++) free(c->number[i]);
    }
    free(c->pos);
    free(c->category);
    free(c->number);
    memset(c, 0, sizeof *c);
    c->eos = -1;
    c->floor_nats = NAN;
}

/* Split s in place on tabs into at most max fields; returns the number of fields. */
static int split_tabs(char *s, char **f, int max) {
    int n = 0;
    f[n++] = s;
    for (char *p = s; *p; p++)
        if (*p == '\t') {
            *p = 0;
            if (n == max) return max + 1;
            f[n++] = p + 1;
        }
    return n;
}

static char *dupstr(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* vocab.tsv: header "id word pos category number", then one row per id 0, 1, 2, ... */
static int load_vocab(tb_corpus *c, const char *path, char *err) {
    char *data;
    size_t len;
    if (read_nonempty(path, &data, &len, err)) return -1;
    long lines = 1;
    for (size_t i = 0; i < len; i++) lines += data[i] == '\n';
    char **words = calloc((size_t)lines + 1, sizeof *words);
    c->pos = calloc((size_t)lines + 1, sizeof *c->pos);
    c->category = calloc((size_t)lines + 1, sizeof *c->category);
    c->number = calloc((size_t)lines + 1, sizeof *c->number);
    if (!words || !c->pos || !c->category || !c->number) {
        free(data); free(words);
        return tb_fail(err, "out of memory");
    }
    int n = 0, rc = 0;
    long lineno = 0;
    char *p = data;
    while (p && *p && rc == 0) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = 0;
        lineno++;
        size_t l = strlen(p);
        if (l && p[l - 1] == '\r') p[--l] = 0;
        if (l > 0 && !(lineno == 1 && !strncmp(p, "id\t", 3))) {
            char *f[6];
            if (split_tabs(p, f, 5) != 5) {
                rc = tb_fail(err, "%s: line %ld: expected 5 tab-separated fields (id word pos "
                             "category number)", path, lineno);
                break;
            }
            char *end;
            long id = strtol(f[0], &end, 10);
            if (*end || id != n) {
                rc = tb_fail(err, "%s: line %ld: id '%s' should be %d", path, lineno, f[0], n);
                break;
            }
            words[n] = f[1];
            if (!(c->pos[n] = dupstr(f[2])) || !(c->category[n] = dupstr(f[3])) ||
                !(c->number[n] = dupstr(f[4]))) {
                rc = tb_fail(err, "out of memory");
                break;
            }
            n++;
        }
        p = nl ? nl + 1 : NULL;
    }
    if (rc == 0 && n == 0) rc = tb_fail(err, "%s: no words", path);
    if (rc == 0) {
        char e2[TB_ERRLEN];
        if (tok_from_list(&c->tok, TOK_WORD, (const char *const *)words, n, e2))
            rc = tb_fail(err, "%s: %s", path, e2);
    }
    free(words);
    free(data);
    return rc;
}

/* Read and encode a file of sentences (one per line, each ending with eos). */
static int load_split(tb_corpus *c, const char *path, int **ids, long *n, long *n_sent,
                      char *err) {
    char *data;
    size_t len;
    if (read_nonempty(path, &data, &len, err)) return -1;
    int *x;
    int k;
    char e2[TB_ERRLEN];
    if (tok_encode(&c->tok, data, &x, &k, e2)) {
        free(data);
        return tb_fail(err, "%s: %s", path, e2);
    }
    /* Every line must end with the eos token. */
    long lines = 0, lineno = 0;
    for (char *p = data; *p;) {
        char *nl = strchr(p, '\n');
        size_t l = nl ? (size_t)(nl - p) : strlen(p);
        lineno++;
        while (l > 0 && (p[l - 1] == ' ' || p[l - 1] == '\r' || p[l - 1] == '\t')) l--;
        if (l > 0) {
            lines++;
            size_t el = strlen(c->tok.tokens[c->eos]);
            if (l < el || memcmp(p + l - el, c->tok.tokens[c->eos], el) ||
                (l > el && p[l - el - 1] != ' ' && p[l - el - 1] != '\t')) {
                free(data); free(x);
                return tb_fail(err, "%s: line %ld does not end with the token '%s'", path,
                               lineno, c->tok.tokens[c->eos]);
            }
        }
        p = nl ? nl + 1 : p + l;
        if (!nl) break;
    }
    free(data);
    *ids = x;
    *n = k;
    *n_sent = lines;
    return 0;
}

static int load_toyworld(tb_corpus *c, const char *dir, char *err) {
    char path[1200];
    snprintf(c->name, sizeof c->name, "%s", dir);
    snprintf(path, sizeof path, "%s/vocab.tsv", dir);
    if (load_vocab(c, path, err)) return -1;
    c->eos = tok_id(&c->tok, toyworld_grammar.eos);
    if (c->eos < 0) return tb_fail(err, "%s: no '%s' token", path, toyworld_grammar.eos);
    tw_model *m = malloc(sizeof *m);
    if (!m) return tb_fail(err, "out of memory");
    int rc = corpus_model(c, m, err);
    free(m);
    if (rc) return -1;
    snprintf(path, sizeof path, "%s/train.txt", dir);
    if (load_split(c, path, &c->train, &c->n_train, &c->n_train_sentences, err)) return -1;
    snprintf(path, sizeof path, "%s/val.txt", dir);
    if (load_split(c, path, &c->val, &c->n_val, &c->n_val_sentences, err)) return -1;
    /* The floor: exact NLL of every validation token. */
    c->val_nll_true = malloc((size_t)c->n_val * sizeof *c->val_nll_true);
    if (!c->val_nll_true) return tb_fail(err, "out of memory");
    double total;
    if (toyworld_sentence_nll(c, c->val, (int)c->n_val, &total, c->val_nll_true, err)) return -1;
    if (!isfinite(total)) {
        long t = 0, line = 1;
        while (t < c->n_val && isfinite(c->val_nll_true[t])) line += c->val[t++] == c->eos;
        return tb_fail(err, "%s: line %ld is not a toyworld sentence ('%s' cannot come there)",
                       path, line, c->tok.tokens[c->val[t]]);
    }
    c->floor_nats = total / (double)c->n_val;
    snprintf(c->name, sizeof c->name, "toyworld");
    return 0;
}

static int load_text(tb_corpus *c, const char *path, const char *tokens, char *err) {
    snprintf(c->name, sizeof c->name, "%s", path);
    tb_tok_kind kind;
    if (!tokens || !strcmp(tokens, "char")) kind = TOK_CHAR;
    else if (!strcmp(tokens, "word")) kind = TOK_WORD;
    else return tb_fail(err, "unknown tokens '%s' (char|word)", tokens);
    char *data;
    size_t len;
    if (read_nonempty(path, &data, &len, err)) return -1;
    char e2[TB_ERRLEN];
    int *x = NULL, n = 0;
    /* The vocabulary comes from the whole file, so every validation token is encodable;
     * the baselines still only count training tokens. */
    if (tok_build(&c->tok, kind, data, len, e2) || tok_encode(&c->tok, data, &x, &n, e2)) {
        free(data);
        return tb_fail(err, "%s: %s", path, e2);
    }
    free(data);
    if (n < 10) {
        free(x);
        return tb_fail(err, "%s: only %d %s tokens; need at least 10 to split 90/10", path, n,
                       kind == TOK_CHAR ? "character" : "word");
    }
    c->n_train = (long)n * 9 / 10;
    c->n_val = n - c->n_train;
    c->train = malloc((size_t)c->n_train * sizeof *c->train);
    c->val = malloc((size_t)c->n_val * sizeof *c->val);
    if (!c->train || !c->val) { free(x); return tb_fail(err, "out of memory"); }
    memcpy(c->train, x, (size_t)c->n_train * sizeof *x);
    memcpy(c->val, x + c->n_train, (size_t)c->n_val * sizeof *x);
    free(x);
    return 0;
}

int corpus_load(tb_corpus *c, const char *path, const char *data_dir, const char *tokens,
                char *err) {
    memset(c, 0, sizeof *c);
    c->eos = -1;
    c->floor_nats = NAN;
    c->unigram_nats = c->bigram_nats = c->bigram_lambda = NAN;
    int rc;
    if (!path || !strcmp(path, "toyworld")) {
        if (tokens && strcmp(tokens, "word")) {
            corpus_free(c);
            return tb_fail(err, "toyworld uses word tokens (got --tokens %s)", tokens);
        }
        rc = load_toyworld(c, data_dir ? data_dir : TB_DATA_DIR, err);
    } else if (!strcmp(path, TOYWORLD_B_NAME)) {
        rc = toyworld_b_load(c, err);   /* word tokens, whatever `tokens` says (a name, not a file) */
    } else {
        rc = load_text(c, path, tokens, err);
    }
    if (rc == 0)
        rc = corpus_baselines(c->train, c->n_train, c->val, c->n_val, c->tok.vocab_size, c->eos,
                              &c->unigram_nats, &c->bigram_nats, &c->bigram_lambda, err);
    if (rc) {
        char keep[TB_ERRLEN];
        if (err) snprintf(keep, sizeof keep, "%s", err);
        corpus_free(c);
        if (err) snprintf(err, TB_ERRLEN, "%s", keep);
        return -1;
    }
    return 0;
}

/* ---- probe lists and minimal pairs ---------------------------------------------------- */

int corpus_scramble_train(tb_corpus *c, uint64_t seed, char *err) {
    if (c->eos < 0) return tb_fail(err, "%s: scrambling needs sentence ends (a toyworld corpus)", c->name);
    tb_rng r;
    rng_seed(&r, rng_child_seed(seed, "scramble", 0));
    long start = 0;
    for (long i = 0; i < c->n_train; i++) {
        if (c->train[i] != c->eos) continue;
        if (i - start > 1) rng_shuffle_int(&r, c->train + start, (int)(i - start));
        start = i + 1;
    }
    return 0;
}

void corpus_free_lines(char **lines, int n) {
    if (!lines) return;
    for (int i = 0; i < n; i++) free(lines[i]);
    free(lines);
}

int corpus_read_lines(const char *path, char ***lines, int *n, char *err) {
    *lines = NULL;
    *n = 0;
    char *data;
    size_t len;
    if (read_nonempty(path, &data, &len, err)) return -1;
    long cap = 1;
    for (size_t i = 0; i < len; i++) cap += data[i] == '\n';
    char **out = calloc((size_t)cap, sizeof *out);
    if (!out) { free(data); return tb_fail(err, "out of memory"); }
    int k = 0;
    for (char *p = data; p && *p;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = 0;
        size_t l = strlen(p);
        while (l > 0 && (p[l - 1] == '\r' || p[l - 1] == ' ' || p[l - 1] == '\t')) p[--l] = 0;
        if (l > 0 && p[0] != '#') {
            if (!(out[k] = dupstr(p))) {
                corpus_free_lines(out, k);
                free(data);
                return tb_fail(err, "out of memory");
            }
            k++;
        }
        p = nl ? nl + 1 : NULL;
    }
    free(data);
    if (k == 0) { free(out); return tb_fail(err, "%s: no lines", path); }
    *lines = out;
    *n = k;
    return 0;
}

void corpus_free_minimal_pairs(tb_minpair *pairs, int n) {
    if (!pairs) return;
    for (int i = 0; i < n; i++) { free(pairs[i].good); free(pairs[i].bad); free(pairs[i].phenomenon); }
    free(pairs);
}

int corpus_read_minimal_pairs(const char *path, tb_minpair **pairs, int *n, char *err) {
    *pairs = NULL;
    *n = 0;
    char **lines;
    int nl;
    if (corpus_read_lines(path, &lines, &nl, err)) return -1;
    tb_minpair *out = calloc((size_t)nl, sizeof *out);
    if (!out) { corpus_free_lines(lines, nl); return tb_fail(err, "out of memory"); }
    int k = 0, rc = 0;
    for (int i = 0; i < nl && rc == 0; i++) {
        if (i == 0 && !strncmp(lines[i], "good\t", 5)) continue;   /* header */
        char *f[5];
        int nf = split_tabs(lines[i], f, 4);
        if (nf < 3) {
            rc = tb_fail(err, "%s: row %d: expected good<TAB>bad<TAB>attractor[<TAB>phenomenon]", path, i + 1);
            break;
        }
        if (nf >= 4 && !*f[3]) {
            rc = tb_fail(err, "%s: row %d: empty phenomenon", path, i + 1);
            break;
        }
        if (strcmp(f[2], "0") && strcmp(f[2], "1")) {
            rc = tb_fail(err, "%s: row %d: attractor must be 0 or 1, not '%s'", path, i + 1, f[2]);
            break;
        }
        if (!*f[0] || !*f[1]) {
            rc = tb_fail(err, "%s: row %d: empty sentence", path, i + 1);
            break;
        }
        out[k].good = dupstr(f[0]);
        out[k].bad = dupstr(f[1]);
        out[k].attractor = f[2][0] == '1';
        out[k].phenomenon = dupstr(nf >= 4 ? f[3] : out[k].attractor ? "pp_attractor" : "simple");
        k++;
        if (!out[k - 1].good || !out[k - 1].bad || !out[k - 1].phenomenon) rc = tb_fail(err, "out of memory");
    }
    corpus_free_lines(lines, nl);
    if (rc == 0 && k == 0) rc = tb_fail(err, "%s: no minimal pairs", path);
    if (rc) { corpus_free_minimal_pairs(out, k); return -1; }
    *pairs = out;
    *n = k;
    return 0;
}
