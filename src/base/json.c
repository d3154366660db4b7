/* json.c -- the JSON writer behind every --json and manifest.json (see include/json.h). */
#include "json.h"
#include "io.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { LV_LINES = 1, LV_MEMBERS = 2, LV_ARRAY = 4 };

void jw_init(json_writer *w) { memset(w, 0, sizeof *w); }

void jw_free(json_writer *w) {
    free(w->buf);
    free(w->level);
    memset(w, 0, sizeof *w);
}

/* ---- the growing buffer ------------------------------------------------------------- */

static int reserve(json_writer *w, size_t more) {
    if (w->failed) return -1;
    if (w->len + more + 1 <= w->cap) return 0;
    size_t cap = w->cap ? w->cap : 256;
    while (cap < w->len + more + 1) cap *= 2;
    char *b = realloc(w->buf, cap);
    if (!b) { w->failed = 1; return -1; }
    w->buf = b;
    w->cap = cap;
    return 0;
}

static void put(json_writer *w, const char *s, size_t n) {
    if (reserve(w, n)) return;
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = 0;
}

static void puts_(json_writer *w, const char *s) { put(w, s, strlen(s)); }

static void putf(json_writer *w, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void putf(json_writer *w, const char *fmt, ...) {
    char small[32]; /* enough for every use: %.10g (at most 17), %lld (20), \\u%04x (6) */
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof small) { w->failed = 1; return; }
    put(w, small, (size_t)n);
}

/* ---- strings: escaped, and always valid UTF-8 -------------------------------------- */

/* Length of the well-formed UTF-8 sequence starting at s (2..4), or 0 if the lead byte
 * does not start one (overlong forms, surrogates and code points past U+10FFFF are not
 * well-formed: RFC 3629, table 3-7 of the Unicode standard). */
static int utf8_len(const unsigned char *s) {
    unsigned char c = s[0];
    int n;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0;          /* overlong */
        if (c == 0xED) hi = 0x9F;          /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90;          /* overlong */
        if (c == 0xF4) hi = 0x8F;          /* past U+10FFFF */
    } else return 0;
    if (s[1] < lo || s[1] > hi) return 0;
    for (int i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF) return 0;
    return n;
}

void jw_escape(json_writer *w, const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    put(w, "\"", 1);
    while (*p) {
        const unsigned char *run = p; /* copy plain ASCII in one piece */
        while (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') p++;
        put(w, (const char *)run, (size_t)(p - run));
        if (!*p) break;
        unsigned char c = *p;
        if (c == '"' || c == '\\') { char e[2] = {'\\', (char)c}; put(w, e, 2); p++; }
        else if (c == '\n') { puts_(w, "\\n"); p++; }
        else if (c == '\t') { puts_(w, "\\t"); p++; }
        else if (c < 0x20) { putf(w, "\\u%04x", c); p++; }
        else {
            int n = utf8_len(p);
            if (n) put(w, (const char *)p, (size_t)n);
            else puts_(w, "\\ufffd"); /* a stray byte: the replacement character */
            p += n ? n : 1;
        }
    }
    put(w, "\"", 1);
}

/* ---- members and containers --------------------------------------------------------- */

/* Separator, newline and indent before a new member, then its key. */
static void member(json_writer *w, const char *key) {
    if (w->depth > 0) {
        unsigned char *lv = &w->level[w->depth - 1];
        if (*lv & LV_MEMBERS) put(w, ",", 1);
        if (*lv & LV_LINES) {
            put(w, "\n", 1);
            for (int i = 0; i < w->depth; i++) put(w, "  ", 2);
        } else if (*lv & LV_MEMBERS) put(w, " ", 1);
        *lv |= LV_MEMBERS;
    }
    if (key) {
        jw_escape(w, key);
        put(w, ": ", 2);
    }
}

static void open_(json_writer *w, const char *key, int layout, int array) {
    member(w, key);
    if (w->failed) return;
    if (w->depth == w->level_cap) {
        int cap = w->level_cap ? 2 * w->level_cap : 8;
        unsigned char *l = realloc(w->level, (size_t)cap);
        if (!l) { w->failed = 1; return; }
        w->level = l;
        w->level_cap = cap;
    }
    w->level[w->depth++] = (unsigned char)((layout == JW_LINES ? LV_LINES : 0) | (array ? LV_ARRAY : 0));
    put(w, array ? "[" : "{", 1);
}

void jw_object(json_writer *w, const char *key, int layout) { open_(w, key, layout, 0); }
void jw_array(json_writer *w, const char *key, int layout) { open_(w, key, layout, 1); }

void jw_end(json_writer *w) {
    if (w->failed || w->depth == 0) return;
    unsigned char lv = w->level[--w->depth];
    if ((lv & LV_LINES) && (lv & LV_MEMBERS)) {
        put(w, "\n", 1);
        for (int i = 0; i < w->depth; i++) put(w, "  ", 2);
    }
    put(w, lv & LV_ARRAY ? "]" : "}", 1);
}

/* ---- values --------------------------------------------------------------------------- */

static void number(json_writer *w, double v) {
    if (isfinite(v)) putf(w, "%.10g", v);
    else puts_(w, "null");
}

void jw_num(json_writer *w, const char *key, double v) { member(w, key); number(w, v); }
void jw_int(json_writer *w, const char *key, long long v) { member(w, key); putf(w, "%lld", v); }
void jw_bool(json_writer *w, const char *key, int v) { member(w, key); puts_(w, v ? "true" : "false"); }
void jw_null(json_writer *w, const char *key) { member(w, key); puts_(w, "null"); }
void jw_raw(json_writer *w, const char *key, const char *json) { member(w, key); puts_(w, json); }

void jw_str(json_writer *w, const char *key, const char *s) {
    member(w, key);
    if (s) jw_escape(w, s);
    else puts_(w, "null");
}

void jw_nums(json_writer *w, const char *key, const double *v, int n) {
    jw_array(w, key, JW_COMPACT);
    for (int i = 0; i < n; i++) jw_num(w, NULL, v[i]);
    jw_end(w);
}

void jw_ints(json_writer *w, const char *key, const long long *v, int n) {
    jw_array(w, key, JW_COMPACT);
    for (int i = 0; i < n; i++) jw_int(w, NULL, v[i]);
    jw_end(w);
}

int jw_finish(const json_writer *w, char *err) {
    if (w->failed) return tb_fail(err, "out of memory writing JSON");
    if (w->depth) return tb_fail(err, "JSON: %d object(s) or array(s) left open", w->depth);
    if (!w->buf) return tb_fail(err, "JSON: nothing written");
    return 0;
}

int jw_save(const json_writer *w, const char *path, char *err) {
    if (jw_finish(w, err)) return -1;
    char *text = tb_strf("%s\n", w->buf);
    int rc = text ? write_text_file(path, text, err) : tb_fail(err, "out of memory");
    free(text);
    return rc;
}

void jw_num_ci(json_writer *w, const char *key, double v, double lo, double hi) {
    size_t n = strlen(key);
    char *k = malloc(n + 16);
    if (!k) { w->failed = 1; return; }
    jw_num(w, key, v);
    memcpy(k, key, n);
    memcpy(k + n, "_ci_low", 8);
    jw_num(w, k, lo);
    memcpy(k + n, "_ci_high", 9);
    jw_num(w, k, hi);
    free(k);
}
