/* json.h -- a small JSON writer: every `--json` summary and every manifest.json.
 *
 * The text grows in a malloc'd buffer; objects and arrays nest to any depth.  A member
 * of an object takes its key, an element of an array (or the top value) takes key NULL.
 * Numbers print as %.10g and NaN/inf as null; integers as %lld.  Strings are escaped so
 * that the result is always valid UTF-8 JSON whatever bytes they hold: '"' '\\' and
 * control characters are escaped, well-formed UTF-8 sequences are copied, and every
 * byte that is not part of one (a character-level model can sample half a character)
 * becomes \ufffd, the replacement character.
 *
 * Layout: separators are ", " and ": ".  A container opened with JW_LINES puts each
 * member on its own line, indented two spaces per level; JW_COMPACT keeps it on one:
 *
 *     json_writer w;
 *     jw_init(&w);
 *     jw_object(&w, NULL, JW_LINES);
 *     jw_str(&w, "kind", "gpt");
 *     jw_array(&w, "shape", JW_COMPACT);
 *     jw_int(&w, NULL, 240);
 *     jw_int(&w, NULL, 64);
 *     jw_end(&w);
 *     jw_end(&w);
 *     if (jw_finish(&w, err) == 0) fputs(w.buf, stdout);   // {\n  "kind": "gpt",\n  "shape": [240, 64]\n}
 *     jw_free(&w);
 *
 * Out of memory is sticky: later calls do nothing and jw_finish reports it, so a
 * sequence of calls needs one check at the end.
 */
#ifndef TB_JSON_H
#define TB_JSON_H

#include "tb.h"

enum { JW_COMPACT = 0, JW_LINES = 1 };

typedef struct {
    char *buf;              /* the text so far, NUL-terminated (NULL before the first byte) */
    size_t len, cap;
    unsigned char *level;   /* [depth] per open container: bit 0 = JW_LINES, bit 1 = has members */
    int depth, level_cap;
    int failed;             /* out of memory */
} json_writer;

void jw_init(json_writer *w);
void jw_free(json_writer *w);

/* Open an object '{' or array '['; close the innermost one with jw_end. */
void jw_object(json_writer *w, const char *key, int layout);
void jw_array(json_writer *w, const char *key, int layout);
void jw_end(json_writer *w);

void jw_num(json_writer *w, const char *key, double v);        /* NaN/inf -> null */
void jw_int(json_writer *w, const char *key, long long v);
void jw_str(json_writer *w, const char *key, const char *s);   /* NULL -> null */
void jw_bool(json_writer *w, const char *key, int v);
void jw_null(json_writer *w, const char *key);
/* A number with its interval: "key": v, "key_ci_low": lo, "key_ci_high": hi. */
void jw_num_ci(json_writer *w, const char *key, double v, double lo, double hi);
/* Arrays of numbers on one line: [1, 2.5, null]. */
void jw_nums(json_writer *w, const char *key, const double *v, int n);
void jw_ints(json_writer *w, const char *key, const long long *v, int n);
/* Text that already is JSON, copied as it is (the caller vouches for it). */
void jw_raw(json_writer *w, const char *key, const char *json);

/* 0 when the text is complete (every container closed) and in w->buf; -1 with err
 * naming the problem (out of memory, containers left open). */
int jw_finish(const json_writer *w, char *err);
/* jw_finish, then the text and a newline written to path atomically (a manifest.json). */
int jw_save(const json_writer *w, const char *path, char *err);

/* Append s as a JSON string literal (quotes included) to w, escaped as above. */
void jw_escape(json_writer *w, const char *s);

#endif
