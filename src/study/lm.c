/* lm.c -- scoring a language model of either kind: the lm_scorer of the GPT and of the
 * spiking network, validation loss and minimal pairs.  Lessons 08, 09; see include/lm.h. */
#include "lm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the GPT as a scorer ---------------------------------------------------------- */

static int gpt_seq(void *m, const int *ids, int n, float *nll, char *err) {
    return gpt_sequence_nll(m, ids, n, nll, err);
}
static int gpt_stream(void *m, const int *ids, long n, int eos, float *nll, char *err) {
    return gpt_stream_nll(m, ids, n, eos, 64, nll, err);
}

/* One forward pass over ids[n] (n <= ctx): the logits of every position but the last. */
static int gpt_logits(void *vm, const int *ids, int n, float *logits, char *err) {
    gpt_model *m = vm;
    if (n < 2 || n > m->cfg.ctx) return tb_fail(err, "a sequence of %d tokens: the GPT scores 2..%d at once", n, m->cfg.ctx);
    if (gpt_forward(m, ids, NULL, 1, n, NULL, err)) return -1;
    memcpy(logits, m->acts.logits, (size_t)(n - 1) * m->cfg.vocab_size * sizeof *logits);
    return 0;
}

void gpt_scorer(lm_scorer *s, gpt_model *m) {
    s->kind = "gpt";
    s->seq_logits = gpt_logits;
    s->model = m;
    s->seq_nll = gpt_seq;
    s->stream_nll = gpt_stream;
    s->ctx = m->cfg.ctx;
}

int tok_check_same(const tb_tokenizer *a, const tb_tokenizer *b, const char *what, char *err) {
    if (a->kind != b->kind) return tb_fail(err, "%s: tokenizer kinds differ (word vs char)", what);
    if (a->vocab_size != b->vocab_size)
        return tb_fail(err, "%s: vocabulary sizes differ (%d vs %d)", what, a->vocab_size, b->vocab_size);
    for (int i = 0; i < a->vocab_size; i++)
        if (strcmp(a->tokens[i], b->tokens[i]))
            return tb_fail(err, "%s: vocabulary differs at id %d ('%s' vs '%s')", what, i, a->tokens[i], b->tokens[i]);
    return 0;
}

int gpt_load_file(const char *path, gpt_model *m, tb_tokenizer *tok, tb_ckpt *ck, char *err) {
    tb_ckpt local, *c = ck ? ck : &local;
    char e[TB_ERRLEN];
    if (ckpt_load(c, path, "gpt", err)) return -1;
    if (gpt_from_ckpt(m, c, e)) {
        ckpt_free(c);
        return tb_fail(err, "%s: %s", path, e);
    }
    if (tok && tok_load(tok, c, e)) {
        gpt_free(m);
        ckpt_free(c);
        return tb_fail(err, "%s: %s", path, e);
    }
    if (tok && tok->vocab_size != m->cfg.vocab_size) {
        tok_free(tok);
        gpt_free(m);
        ckpt_free(c);
        return tb_fail(err, "%s: tokenizer has %d tokens but the model %d", path, tok->vocab_size, m->cfg.vocab_size);
    }
    if (!ck) ckpt_free(c);
    return 0;
}

/* ---- shared scoring helpers ------------------------------------------------------- */

/* Sentence by sentence through seq_nll, each after the eos (models without a fast path). */
static int stream_by_sentences(const lm_scorer *s, const int *ids, long n, int eos, float *nll, char *err) {
    int *buf = malloc((size_t)(n + 1) * sizeof(int));
    float *out = malloc((size_t)(n + 1) * sizeof(float));
    if (!buf || !out) { free(buf); free(out); return tb_fail(err, "out of memory"); }
    long start = 0;
    int rc = 0;
    for (long i = 0; i < n && !rc; i++) {
        if (ids[i] != eos && i != n - 1) continue;
        long len = i - start + 1;
        buf[0] = eos;
        memcpy(buf + 1, ids + start, (size_t)len * sizeof(int));
        rc = s->seq_nll(s->model, buf, (int)len + 1, out, err);
        if (!rc) memcpy(nll + start, out + 1, (size_t)len * sizeof(float));
        start = i + 1;
    }
    free(buf);
    free(out);
    return rc;
}

long lm_val_tokens(const tb_corpus *c, long max_tokens) {
    long n = c->n_val;
    if (max_tokens > 0 && max_tokens < n) {   /* whole sentences only */
        n = max_tokens;
        if (c->eos >= 0)
            while (n < c->n_val && c->val[n - 1] != c->eos) n++;
    }
    return n;
}

int lm_val_loss(const lm_scorer *s, const tb_corpus *c, long max_tokens, float *nll, double *mean, char *err) {
    long n = lm_val_tokens(c, max_tokens);
    if (n < 2) return tb_fail(err, "%s: validation split is empty", c->name);
    float *x = nll ? nll : malloc((size_t)n * sizeof(float));
    if (!x) return tb_fail(err, "out of memory");
    int rc;
    if (s->stream_nll) rc = s->stream_nll(s->model, c->val, n, c->eos, x, err);
    else if (c->eos >= 0) rc = stream_by_sentences(s, c->val, n, c->eos, x, err);
    else rc = tb_fail(err, "this model kind cannot score a corpus without sentence ends");
    if (!rc) {
        double sum = 0;
        long k = 0;
        for (long i = 0; i < n; i++)
            if (!isnan(x[i])) { sum += x[i]; k++; }
        *mean = k ? sum / k : NAN;
    }
    if (!nll) free(x);
    return rc;
}

int lm_sentence_nll(const lm_scorer *s, const tb_tokenizer *tok, int eos, const char *text, double *total,
                    char *err) {
    int *ids, n;
    char e[TB_ERRLEN];
    if (tok_encode(tok, text, &ids, &n, e)) return tb_fail(err, "minimal pair '%s': %s", text, e);
    int *buf = malloc((size_t)(n + 1) * sizeof(int));
    float *nll = malloc((size_t)(n + 1) * sizeof(float));
    int rc = -1;
    if (buf && nll) {
        buf[0] = eos;
        memcpy(buf + 1, ids, (size_t)n * sizeof(int));
        rc = s->seq_nll(s->model, buf, n + 1, nll, err);
        double t = 0;
        for (int i = 1; i <= n; i++) t += nll[i];
        *total = t;
    } else {
        tb_fail(err, "out of memory");
    }
    free(ids);
    free(buf);
    free(nll);
    return rc;
}

int lm_minimal_pairs(const lm_scorer *s, const tb_tokenizer *tok, const char *path, double acc[3], int n[3],
                     char *err) {
    int eos = tok_id(tok, ".");
    if (tok->kind != TOK_WORD || eos < 0)
        return tb_fail(err, "minimal pairs need a word-level model with the token '.' (toyworld)");
    tb_minpair *p;
    int np;
    if (corpus_read_minimal_pairs(path, &p, &np, err)) return -1;
    double right[3] = {0, 0, 0};
    n[0] = n[1] = n[2] = 0;
    int rc = 0;
    for (int i = 0; i < np && !rc; i++) {
        double g, b;
        if (lm_sentence_nll(s, tok, eos, p[i].good, &g, err) || lm_sentence_nll(s, tok, eos, p[i].bad, &b, err)) {
            rc = -1;
            break;
        }
        double ok = g < b ? 1.0 : g == b ? 0.5 : 0.0;   /* a tie is a coin flip: chance is 0.5 */
        int k = p[i].attractor ? 1 : 2;
        right[0] += ok;
        right[k] += ok;
        n[0]++;
        n[k]++;
    }
    corpus_free_minimal_pairs(p, np);
    for (int k = 0; k < 3; k++) acc[k] = n[k] ? right[k] / n[k] : NAN;
    if (!rc && n[0] == 0) return tb_fail(err, "%s: no minimal pairs", path);
    return rc;
}

/* ---- opening a checkpoint of either kind ---------------------------------------- */

static int open_gpt(lm_model *m, char *err) {
    if (gpt_from_ckpt(&m->gpt, &m->ck, err)) return -1;
    gpt_scorer(&m->scorer, &m->gpt);
    return 0;
}
static void close_gpt(lm_model *m) { gpt_free(&m->gpt); }
/* The same configuration at initialisation: what training started from (step 0). */
static int reinit_gpt(lm_model *m, char *err) {
    gpt_config c = m->gpt.cfg;
    gpt_free(&m->gpt);
    if (gpt_init(&m->gpt, &c, err)) return -1;
    gpt_scorer(&m->scorer, &m->gpt);
    return 0;
}

/* The spiking language model of `train-snn` (lesson 09). */
static int open_srnn(lm_model *m, char *err) {
    if (srnn_from_ckpt(&m->snn, &m->ck, err)) return -1;
    srnn_scorer(&m->scorer, &m->snn);
    return 0;
}
static void close_srnn(lm_model *m) { srnn_free(&m->snn); }
static int reinit_srnn(lm_model *m, char *err) {
    srnn_config c = m->snn.cfg;
    srnn_free(&m->snn);
    if (srnn_init(&m->snn, &c, err)) return -1;
    srnn_scorer(&m->scorer, &m->snn);
    return 0;
}

static const struct {
    const char *kind;
    int (*open)(lm_model *m, char *err);   /* the model from m->ck, and m->scorer */
    void (*close)(lm_model *m);
    int (*reinit)(lm_model *m, char *err);
} kinds[] = {
    {"gpt", open_gpt, close_gpt, reinit_gpt},
    {"srnn", open_srnn, close_srnn, reinit_srnn},
};
#define N_KINDS ((int)(sizeof kinds / sizeof kinds[0]))

static int kind_index(const char *kind) {
    for (int i = 0; i < N_KINDS; i++)
        if (!strcmp(kind, kinds[i].kind)) return i;
    return -1;
}

int lm_open(const char *path, lm_model *m, char *err) {
    char e[TB_ERRLEN];
    memset(m, 0, sizeof *m);
    if (ckpt_load(&m->ck, path, NULL, err)) return -1;
    int k = kind_index(m->ck.kind);
    if (k < 0) {
        char kind[sizeof m->ck.kind];
        snprintf(kind, sizeof kind, "%s", m->ck.kind);
        ckpt_free(&m->ck);
        return tb_fail(err, "%s: is a '%s' checkpoint, not a language model ('gpt' from train, 'srnn' from train-snn)",
                       path, kind);
    }
    snprintf(m->kind, sizeof m->kind, "%s", kinds[k].kind);
    m->path = tb_strf("%s", path);
    if (!m->path) { ckpt_free(&m->ck); return tb_fail(err, "out of memory"); }
    if (kinds[k].open(m, e)) {
        free(m->path);
        ckpt_free(&m->ck);
        memset(m, 0, sizeof *m);
        return tb_fail(err, "%s: %s", path, e);
    }
    if (tok_load(&m->tok, &m->ck, e)) { lm_close(m); return tb_fail(err, "%s: %s", path, e); }
    const char *st = ckpt_get(&m->ck, "step");
    m->step = st ? atoll(st) : -1;
    return 0;
}

int lm_open_untrained(const char *path, lm_model *m, char *err) {
    if (lm_open(path, m, err)) return -1;
    char e[TB_ERRLEN];
    if (kinds[kind_index(m->kind)].reinit(m, e)) {
        lm_close(m);
        return tb_fail(err, "%s: untrained copy: %s", path, e);
    }
    m->step = 0;
    return 0;
}

void lm_close(lm_model *m) {
    int k = kind_index(m->kind);
    if (k >= 0) kinds[k].close(m);
    tok_free(&m->tok);
    ckpt_free(&m->ck);
    free(m->path);
    memset(m, 0, sizeof *m);
}

/* ---- the spiking language model as a scorer ------------------------------------- */

static int srnn_seq(void *m, const int *ids, int n, float *nll, char *err) { return srnn_sequence_nll(m, ids, n, nll, err); }
static int srnn_stream(void *m, const int *ids, long n, int eos, float *nll, char *err) {
    return srnn_stream_nll(m, ids, n, eos, nll, err);
}

static int srnn_logits(void *m, const int *ids, int n, float *logits, char *err) {
    return srnn_sequence_logits(m, ids, n, logits, err);
}

void srnn_scorer(lm_scorer *s, srnn_model *m) {
    s->kind = "srnn";
    s->seq_logits = srnn_logits;
    s->model = m;
    s->seq_nll = srnn_seq;
    s->stream_nll = srnn_stream;
    s->ctx = 0;
}
