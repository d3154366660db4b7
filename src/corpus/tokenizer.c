/* tokenizer.c -- text <-> token ids, word level and character (byte) level.  Lesson 01.
 *
 * A token id is just a row number in the vocabulary.  Looking a token up goes through
 * an open-addressing hash table: hash the text (FNV-1a), start at that slot and step
 * to the next slot until we find the token or an empty slot (linear probing).  The
 * table is at least twice as large as the vocabulary, so a probe sequence is short.
 */
#include "tokenizer.h"

#include <stdlib.h>
#include <string.h>

static int is_space(unsigned char ch) {
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

static uint32_t fnv1a(const char *s, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) { h ^= (unsigned char)s[i]; h *= 16777619u; }
    return h;
}

/* Slot of token s[0..n) in the table: its id, or -1 (not present). */
static int lookup(const tb_tokenizer *t, const char *s, size_t n) {
    if (!t->hash || t->hash_cap <= 0) return -1;
    uint32_t mask = (uint32_t)t->hash_cap - 1, i = fnv1a(s, n) & mask;
    for (;;) {
        int id = t->hash[i];
        if (id < 0) return -1;
        if (strlen(t->tokens[id]) == n && !memcmp(t->tokens[id], s, n)) return id;
        i = (i + 1) & mask;
    }
}

/* A token fit to quote in a one-line message: cut with "...", control bytes as '?'. */
static void shorten(char *dst, size_t cap, const char *s, size_t n) {
    size_t m = n < cap - 4 ? n : cap - 4;
    for (size_t i = 0; i < m; i++) dst[i] = (unsigned char)s[i] < 32 || s[i] == 127 ? '?' : s[i];
    dst[m] = 0;
    if (m < n) strcat(dst, "...");
}

void tok_free(tb_tokenizer *t) {
    if (t->tokens)
        for (int i = 0; i < t->vocab_size; i++) free(t->tokens[i]);
    free(t->tokens);
    free(t->hash);
    memset(t, 0, sizeof *t);
}

int tok_from_list(tb_tokenizer *t, tb_tok_kind kind, const char *const *tokens, int n,
                  char *err) {
    memset(t, 0, sizeof *t);
    if (n <= 0) return tb_fail(err, "tokenizer: empty vocabulary");
    t->kind = kind;
    int cap = 16;
    while (cap < 2 * n) cap *= 2;
    t->tokens = calloc((size_t)n, sizeof *t->tokens);
    t->hash = malloc((size_t)cap * sizeof *t->hash);
    if (!t->tokens || !t->hash) { tok_free(t); return tb_fail(err, "tokenizer: out of memory"); }
    t->hash_cap = cap;
    for (int i = 0; i < cap; i++) t->hash[i] = -1;
    for (int id = 0; id < n; id++) {
        const char *s = tokens[id];
        size_t len = s ? strlen(s) : 0;
        if (len == 0) { tok_free(t); return tb_fail(err, "tokenizer: token %d is empty", id); }
        if (kind == TOK_CHAR && len != 1) {
            char shown[24];
            shorten(shown, sizeof shown, s, len);
            tok_free(t);
            return tb_fail(err, "tokenizer: character token %d ('%s') is not one byte", id, shown);
        }
        if (kind == TOK_WORD)
            for (size_t j = 0; j < len; j++)
                if (is_space((unsigned char)s[j])) {
                    tok_free(t);
                    return tb_fail(err, "tokenizer: word token %d contains whitespace", id);
                }
        uint32_t mask = (uint32_t)cap - 1, i = fnv1a(s, len) & mask;
        while (t->hash[i] >= 0) {
            if (!strcmp(t->tokens[t->hash[i]], s)) {
                char shown[48];
                shorten(shown, sizeof shown, s, len);
                tok_free(t);
                return tb_fail(err, "tokenizer: duplicate token '%s'", shown);
            }
            i = (i + 1) & mask;
        }
        t->tokens[id] = malloc(len + 1);
        if (!t->tokens[id]) { tok_free(t); return tb_fail(err, "tokenizer: out of memory"); }
        memcpy(t->tokens[id], s, len + 1);
        t->hash[i] = id;
        t->vocab_size = id + 1;
    }
    return 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int tok_build(tb_tokenizer *t, tb_tok_kind kind, const char *text, size_t len, char *err) {
    memset(t, 0, sizeof *t);
    if (!text || len == 0) return tb_fail(err, "tokenizer: empty text");
    const char *nul = memchr(text, 0, len);
    if (nul)
        return tb_fail(err, "tokenizer: text contains a NUL byte at offset %zu (binary data?)",
                       (size_t)(nul - text));
    if (kind == TOK_CHAR) {
        /* One token per byte value present, in byte order. */
        int seen[256] = {0};
        for (size_t i = 0; i < len; i++) seen[(unsigned char)text[i]] = 1;
        char store[256][2];
        const char *list[256];
        int n = 0;
        for (int b = 1; b < 256; b++)
            if (seen[b]) { store[n][0] = (char)b; store[n][1] = 0; list[n] = store[n]; n++; }
        return tok_from_list(t, kind, list, n, err);
    }
    /* Word level: split on whitespace, sort (byte order, locale-free), keep unique. */
    size_t nw = 0;
    for (size_t i = 0; i < len;) {
        while (i < len && is_space((unsigned char)text[i])) i++;
        if (i < len) nw++;
        while (i < len && !is_space((unsigned char)text[i])) i++;
    }
    if (nw == 0) return tb_fail(err, "tokenizer: text has no words (only whitespace)");
    char *copy = malloc(len + 1);
    char **words = malloc(nw * sizeof *words);
    if (!copy || !words) { free(copy); free(words); return tb_fail(err, "tokenizer: out of memory"); }
    memcpy(copy, text, len);
    copy[len] = 0;
    size_t k = 0;
    for (size_t i = 0; i < len;) {
        while (i < len && is_space((unsigned char)copy[i])) copy[i++] = 0;
        if (i < len) words[k++] = copy + i;
        while (i < len && !is_space((unsigned char)copy[i])) i++;
    }
    qsort(words, nw, sizeof *words, cmp_str);
    size_t u = 0;
    for (size_t i = 0; i < nw; i++)
        if (u == 0 || strcmp(words[u - 1], words[i])) words[u++] = words[i];
    int rc = u > (size_t)0x7fffffff
                 ? tb_fail(err, "tokenizer: too many distinct words")
                 : tok_from_list(t, kind, (const char *const *)words, (int)u, err);
    free(words);
    free(copy);
    return rc;
}

int tok_id(const tb_tokenizer *t, const char *token) {
    return token ? lookup(t, token, strlen(token)) : -1;
}

int tok_encode(const tb_tokenizer *t, const char *text, int **ids, int *n, char *err) {
    *ids = NULL;
    *n = 0;
    size_t len = text ? strlen(text) : 0;
    if (len == 0) return tb_fail(err, "tokenizer: empty input");
    /* Upper bound on tokens: bytes (char) or words (<= len/2 + 1). */
    int *out = malloc((len + 1) * sizeof *out);
    if (!out) return tb_fail(err, "tokenizer: out of memory");
    size_t k = 0;
    if (t->kind == TOK_CHAR) {
        int map[256];
        for (int b = 0; b < 256; b++) {
            char s[2] = {(char)b, 0};
            map[b] = b ? lookup(t, s, 1) : -1;
        }
        for (size_t i = 0; i < len; i++) {
            unsigned char b = (unsigned char)text[i];
            if (map[b] < 0) {
                free(out);
                if (b >= 32 && b < 127)
                    return tb_fail(err, "tokenizer: character '%c' (byte %d) is not in the "
                                   "vocabulary", b, b);
                return tb_fail(err, "tokenizer: byte %d is not in the vocabulary", b);
            }
            out[k++] = map[b];
        }
    } else {
        for (size_t i = 0; i < len;) {
            while (i < len && is_space((unsigned char)text[i])) i++;
            if (i >= len) break;
            size_t j = i;
            while (j < len && !is_space((unsigned char)text[j])) j++;
            int id = lookup(t, text + i, j - i);
            if (id < 0) {
                char shown[48];
                shorten(shown, sizeof shown, text + i, j - i);
                free(out);
                return tb_fail(err, "tokenizer: unknown word '%s' (not in the vocabulary)", shown);
            }
            out[k++] = id;
            i = j;
        }
        if (k == 0) { free(out); return tb_fail(err, "tokenizer: empty input (only whitespace)"); }
    }
    if (k > 0x7fffffff) { free(out); return tb_fail(err, "tokenizer: input too long"); }
    *ids = out;
    *n = (int)k;
    return 0;
}

int tok_decode(const tb_tokenizer *t, const int *ids, int n, char **text, char *err) {
    *text = NULL;
    if (n < 0) return tb_fail(err, "tokenizer: negative token count");
    size_t total = 1;
    for (int i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= t->vocab_size)
            return tb_fail(err, "tokenizer: token id %d out of range (vocabulary has %d)", ids[i],
                           t->vocab_size);
        total += strlen(t->tokens[ids[i]]) + 1;
    }
    char *s = malloc(total), *p = s;
    if (!s) return tb_fail(err, "tokenizer: out of memory");
    for (int i = 0; i < n; i++) {
        if (t->kind == TOK_WORD && i > 0) *p++ = ' ';
        size_t l = strlen(t->tokens[ids[i]]);
        memcpy(p, t->tokens[ids[i]], l);
        p += l;
    }
    *p = 0;
    *text = s;
    return 0;
}

/* ---- checkpoint config: "tokens" = word|char, "vocab" = escaped, newline-separated ---- */

int tok_save(const tb_tokenizer *t, tb_ckpt *c, char *err) {
    size_t total = 1;
    for (int i = 0; i < t->vocab_size; i++) total += 2 * strlen(t->tokens[i]) + 1;
    char *v = malloc(total), *p = v;
    if (!v) return tb_fail(err, "tokenizer: out of memory");
    for (int i = 0; i < t->vocab_size; i++) {
        if (i > 0) *p++ = '\n';
        for (const char *s = t->tokens[i]; *s; s++) {
            if (*s == '\\') { *p++ = '\\'; *p++ = '\\'; }
            else if (*s == '\n') { *p++ = '\\'; *p++ = 'n'; }
            else *p++ = *s;
        }
    }
    *p = 0;
    int rc = 0;
    if (ckpt_set(c, "tokens", t->kind == TOK_CHAR ? "char" : "word") ||
        ckpt_set_int(c, "vocab_size", t->vocab_size) || ckpt_set(c, "vocab", v))
        rc = tb_fail(err, "tokenizer: cannot store the vocabulary in the checkpoint");
    free(v);
    return rc;
}

int tok_load(tb_tokenizer *t, const tb_ckpt *c, char *err) {
    memset(t, 0, sizeof *t);
    const char *kind = ckpt_get(c, "tokens"), *vocab = ckpt_get(c, "vocab");
    if (!kind || !vocab) return tb_fail(err, "checkpoint has no tokenizer (config keys 'tokens' "
                                        "and 'vocab')");
    tb_tok_kind k;
    if (!strcmp(kind, "word")) k = TOK_WORD;
    else if (!strcmp(kind, "char")) k = TOK_CHAR;
    else return tb_fail(err, "checkpoint: unknown tokenizer kind '%.40s'", kind);
    size_t len = strlen(vocab);
    char *buf = malloc(len + 1);
    size_t ntok = 1;
    for (size_t i = 0; i < len; i++) ntok += vocab[i] == '\n';
    char **list = malloc(ntok * sizeof *list);
    if (!buf || !list) { free(buf); free(list); return tb_fail(err, "tokenizer: out of memory"); }
    size_t n = 0, o = 0;
    list[n++] = buf;
    for (size_t i = 0; i < len; i++) {
        char ch = vocab[i];
        if (ch == '\n') { buf[o++] = 0; list[n++] = buf + o; continue; }
        if (ch == '\\') {
            char nx = i + 1 < len ? vocab[i + 1] : 0;
            if (nx == 'n') ch = '\n';
            else if (nx == '\\') ch = '\\';
            else {
                free(buf); free(list);
                return tb_fail(err, "checkpoint: bad escape in the tokenizer vocabulary");
            }
            i++;
        }
        buf[o++] = ch;
    }
    buf[o] = 0;
    int rc = tok_from_list(t, k, (const char *const *)list, (int)n, err);
    if (rc == 0) {
        long long vs;
        if (ckpt_get(c, "vocab_size")) {
            if (ckpt_get_int(c, "vocab_size", &vs, err)) rc = -1;
            else if (vs != t->vocab_size)
                rc = tb_fail(err, "checkpoint: vocab_size %lld but %d tokens stored", vs,
                             t->vocab_size);
            if (rc) tok_free(t);
        }
    }
    free(buf);
    free(list);
    return rc;
}
