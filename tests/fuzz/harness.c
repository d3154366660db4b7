/* harness.c -- the library's file readers under arbitrary input (see harness.h). */
#include "harness.h"

#include "corpus.h"
#include "gpt.h"
#include "io.h"
#include "recording.h"
#include "srnn.h"
#include "tokenizer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A broken promise: abort, so libFuzzer records the input and the replay test fails. */
static void fuzz_require(int ok, const char *what) {
    if (ok) return;
    fprintf(stderr, "fuzz: broken promise: %s\n", what);
    abort();
}

/* Readers that take a path get the input through one scratch file per process. */
static const char *fuzz_file(const uint8_t *data, size_t n, const char *ext) {
    static char path[128];
    snprintf(path, sizeof path, "/tmp/tb_fuzz_%ld%s", (long)getpid(), ext);
    FILE *f = fopen(path, "wb");
    fuzz_require(f != NULL, "scratch file can be written");
    if (n) fuzz_require(fwrite(data, 1, n, f) == n, "scratch file written");
    fclose(f);
    return path;
}

/* Every error is one line that names the file (or the input). */
static void one_line(const char *err) {
    fuzz_require(strlen(err) > 0 && !strchr(err, '\n'), "an error message is one line");
}

static void fuzz_ckpt(const uint8_t *data, size_t n) {
    uint8_t *d = malloc(n ? n : 1);
    fuzz_require(d != NULL, "memory for the input");
    if (n) memcpy(d, data, n);
    if (n >= 16) {
        uint32_t crc = crc32_update(0, d + 8, n - 12);
        for (int k = 0; k < 4; k++) d[n - 4 + k] = (uint8_t)(crc >> (8 * k));
    }
    char err[TB_ERRLEN];
    tb_ckpt c;
    if (ckpt_parse_buf(&c, d, n, "fuzz.ckpt", NULL, err)) {
        one_line(err);
        fuzz_require(c.n_config == 0 && c.n_tensors == 0, "a failed parse leaves nothing");
        free(d);
        return;
    }
    tb_tokenizer tok;
    if (!tok_load(&tok, &c, err)) tok_free(&tok);
    if (!strcmp(c.kind, "gpt")) {
        gpt_model m;
        if (!gpt_from_ckpt(&m, &c, err)) gpt_free(&m);
    } else if (!strcmp(c.kind, "srnn")) {
        srnn_model m;
        if (!srnn_from_ckpt(&m, &c, err)) srnn_free(&m);
    }
    ckpt_free(&c);
    free(d);
}

static void fuzz_npy(const uint8_t *data, size_t n) {
    char err[TB_ERRLEN];
    tb_array a;
    if (npy_parse_buf(data, n, "fuzz.npy", &a, err)) { one_line(err); return; }
    int64_t size = 1;
    for (int k = 0; k < a.ndim; k++) size *= a.shape[k];
    fuzz_require(size == a.size && a.size * a.src_bytes <= (int64_t)n, "size matches shape and file");
    array_free(&a);
}

static void fuzz_npz(const uint8_t *data, size_t n) {
    char err[TB_ERRLEN];
    tb_npz z;
    if (npz_parse_buf(data, n, "fuzz.npz", &z, err)) { one_line(err); return; }
    fuzz_require(z.n > 0, "an archive read has arrays");
    npz_free(&z);
}

static void fuzz_tsv(const uint8_t *data, size_t n) {
    char err[TB_ERRLEN];
    tb_array a;
    if (tsv_parse_buf((const char *)data, n, "fuzz.tsv", &a, err)) { one_line(err); return; }
    fuzz_require(a.ndim == 2 && a.size == a.shape[0] * a.shape[1] && a.size > 0, "a table is 2-D");
    for (int64_t i = 0; i < a.size; i++) fuzz_require(isfinite(a.data[i]), "table values are finite");
    array_free(&a);
}

static void fuzz_corpus(const uint8_t *data, size_t n) {
    if (n == 0) return;
    const char *path = fuzz_file(data + 1, n - 1, ".txt");
    char err[TB_ERRLEN];
    tb_corpus c;
    if (corpus_load(&c, path, NULL, data[0] & 1 ? "word" : "char", err) == 0) {
        fuzz_require(c.n_train > 0 && c.n_val > 0, "both splits have tokens");
        fuzz_require(isfinite(c.unigram_nats) && isfinite(c.bigram_nats), "baselines are finite");
        corpus_free(&c);
    } else {
        one_line(err);
    }
    char **lines;
    int nl;
    if (corpus_read_lines(path, &lines, &nl, err) == 0) corpus_free_lines(lines, nl);
    tb_minpair *pairs;
    if (corpus_read_minimal_pairs(path, &pairs, &nl, err) == 0) corpus_free_minimal_pairs(pairs, nl);
    unlink(path);
}

/* decode(encode(s)) == s at char level, and == s with single spaces at word level. */
static void tokenizer_round_trip(const tb_tokenizer *t, const char *text) {
    char err[TB_ERRLEN], *back;
    int *ids, n;
    fuzz_require(tok_encode(t, text, &ids, &n, err) == 0, "text encodes with its own vocabulary");
    fuzz_require(tok_decode(t, ids, n, &back, err) == 0, "ids decode");
    size_t len = strlen(text);
    char *want = malloc(len + 1), *w = want;
    fuzz_require(want != NULL, "memory");
    for (const char *s = text; *s;) {
        if (t->kind == TOK_CHAR) { *w++ = *s++; continue; }
        while (*s && strchr(" \t\n\r\v\f", *s)) s++;
        if (*s && w > want) *w++ = ' ';
        while (*s && !strchr(" \t\n\r\v\f", *s)) *w++ = *s++;
    }
    *w = 0;
    fuzz_require(!strcmp(back, want), "decode(encode(text)) gives the text back");
    free(want);
    free(back);
    free(ids);
}

/* A vocabulary stored in a checkpoint comes back identical after a save and a load. */
static void tokenizer_vocab(const char *vocab, const char *kind) {
    char err[TB_ERRLEN];
    tb_ckpt c, d;
    tb_tokenizer t, u;
    ckpt_init(&c, "gpt");
    ckpt_init(&d, "gpt");
    fuzz_require(!ckpt_set(&c, "tokens", kind) && !ckpt_set(&c, "vocab", vocab), "memory");
    if (tok_load(&t, &c, err) == 0) {
        fuzz_require(tok_save(&t, &d, err) == 0 && tok_load(&u, &d, err) == 0, "a loaded vocabulary saves and loads");
        fuzz_require(u.vocab_size == t.vocab_size, "same vocabulary size");
        for (int i = 0; i < t.vocab_size; i++) fuzz_require(!strcmp(t.tokens[i], u.tokens[i]), "same tokens");
        tok_free(&u);
        tok_free(&t);
    } else {
        one_line(err);
    }
    ckpt_free(&c);
    ckpt_free(&d);
}

static void fuzz_tokenizer(const uint8_t *data, size_t n) {
    if (n == 0) return;
    const char *kind = data[0] & 1 ? "word" : "char";
    char *text = malloc(n), err[TB_ERRLEN];
    fuzz_require(text != NULL, "memory");
    memcpy(text, data + 1, n - 1);
    text[n - 1] = 0;
    tb_tokenizer t;
    if (tok_build(&t, data[0] & 1 ? TOK_WORD : TOK_CHAR, text, n - 1, err) == 0) {
        tokenizer_round_trip(&t, text);
        tok_free(&t);
    } else {
        one_line(err);
    }
    tokenizer_vocab(text, kind);
    free(text);
}

static void fuzz_stimuli(const uint8_t *data, size_t n) {
    if (n == 0) return;
    static const char *const words[] = {".", "the", "a", "cat", "dogs", "sees", "see", "big", "red",
                                        "sentence", "near", "tree"};
    char err[TB_ERRLEN];
    tb_tokenizer tok;
    fuzz_require(tok_from_list(&tok, TOK_WORD, words, (int)(sizeof words / sizeof words[0]), err) == 0,
                 "the fixed vocabulary builds");
    const char *path = fuzz_file(data + 1, n - 1, data[0] & 1 ? ".tsv" : ".txt");
    rec_stimuli s;
    if (rec_stimuli_load(path, &tok, &s, err) == 0) {
        fuzz_require(s.n >= 3, "at least 3 stimuli");
        for (int i = 0; i < s.n; i++) fuzz_require(s.len[i] >= 2 && s.ids[i][0] == 0, "left context '.' first");
        rec_stimuli_free(&s);
    } else {
        one_line(err);
    }
    unlink(path);
    tok_free(&tok);
}

const fuzz_target fuzz_targets[] = {
    {"ckpt", fuzz_ckpt},           {"npy", fuzz_npy},         {"npz", fuzz_npz},
    {"tsv", fuzz_tsv},             {"corpus", fuzz_corpus},   {"tokenizer", fuzz_tokenizer},
    {"stimuli", fuzz_stimuli},     {NULL, NULL},
};
