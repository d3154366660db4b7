/* test_json.c -- the JSON writer: exact layout (the bytes --json and manifest.json have
 * always had), number formatting, NaN as null, escaping, and valid UTF-8 whatever bytes a
 * string holds (issue 16 #3: a character-level model's samples). */
#include "json.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void flat_object_on_one_line(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    json_writer w;
    jw_init(&w);
    jw_object(&w, NULL, JW_COMPACT);
    jw_int(&w, "step", 1200);
    jw_num(&w, "val_loss", 1.9412345678912);
    jw_num(&w, "floor", NAN);
    jw_num(&w, "big", -INFINITY);
    jw_str(&w, "kind", "gpt");
    jw_str(&w, "none", NULL);
    jw_bool(&w, "ok", 1);
    jw_null(&w, "nothing");
    double v[3] = {0.5, NAN, 1e-20};
    jw_nums(&w, "v", v, 3);
    long long k[2] = {-3, 9000000000LL};
    jw_ints(&w, "k", k, 2);
    jw_raw(&w, "raw", "{\"x\": 1}");
    jw_end(&w);
    assert_int_equal(jw_finish(&w, err), 0);
    assert_string_equal(w.buf, "{\"step\": 1200, \"val_loss\": 1.941234568, \"floor\": null, \"big\": null, "
                               "\"kind\": \"gpt\", \"none\": null, \"ok\": true, \"nothing\": null, "
                               "\"v\": [0.5, null, 1e-20], \"k\": [-3, 9000000000], \"raw\": {\"x\": 1}}");
    jw_free(&w);
}

/* The manifest.json layout of `record`: lines at the top, one line per array entry. */
static void nested_lines_layout(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    json_writer w;
    jw_init(&w);
    jw_object(&w, NULL, JW_LINES);
    jw_str(&w, "kind", "srnn");
    jw_array(&w, "arrays", JW_LINES);
    for (int i = 0; i < 2; i++) {
        jw_object(&w, NULL, JW_COMPACT);
        jw_str(&w, "file", i ? "b.npy" : "a.npy");
        long long shape[2] = {240, 64 + i};
        jw_ints(&w, "shape", shape, 2);
        jw_end(&w);
    }
    jw_end(&w);
    jw_array(&w, "empty", JW_LINES);
    jw_end(&w);
    jw_end(&w);
    assert_int_equal(jw_finish(&w, err), 0);
    assert_string_equal(w.buf, "{\n  \"kind\": \"srnn\",\n  \"arrays\": [\n"
                               "    {\"file\": \"a.npy\", \"shape\": [240, 64]},\n"
                               "    {\"file\": \"b.npy\", \"shape\": [240, 65]}\n  ],\n  \"empty\": []\n}");
    jw_free(&w);
}

static const char *escaped(json_writer *w, const char *s) {
    jw_free(w);
    jw_init(w);
    jw_escape(w, s);
    return w->buf;
}

static void escaping_and_valid_utf8(void **state) {
    (void)state;
    json_writer w;
    jw_init(&w);
    assert_string_equal(escaped(&w, "say \"hi\"\\ \n\t\r\x01"), "\"say \\\"hi\\\"\\\\ \\n\\t\\u000d\\u0001\"");
    /* well-formed UTF-8 is copied: e acute (2 bytes), euro (3), an emoji (4) */
    assert_string_equal(escaped(&w, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
    /* stray bytes become U+FFFD one by one: a lone lead byte (half a character, as a
     * char-level model samples it), a lone continuation byte, 0xff */
    assert_string_equal(escaped(&w, "a\xc3"), "\"a\\ufffd\"");
    assert_string_equal(escaped(&w, "\xa9x\xff"), "\"\\ufffdx\\ufffd\"");
    /* not well-formed: overlong '/', a UTF-16 surrogate, a code point past U+10FFFF */
    assert_string_equal(escaped(&w, "\xc0\xaf"), "\"\\ufffd\\ufffd\"");
    assert_string_equal(escaped(&w, "\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");
    assert_string_equal(escaped(&w, "\xf4\x90\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
    /* the last code points that are fine */
    assert_string_equal(escaped(&w, "\xed\x9f\xbf\xf4\x8f\xbf\xbf"), "\"\xed\x9f\xbf\xf4\x8f\xbf\xbf\"");
    /* a sequence cut by the end of the string */
    assert_string_equal(escaped(&w, "\xe2\x82"), "\"\\ufffd\\ufffd\"");
    /* keys are escaped too */
    char err[TB_ERRLEN];
    jw_free(&w);
    jw_init(&w);
    jw_object(&w, NULL, JW_COMPACT);
    jw_int(&w, "a\"b\xff", 1);
    jw_end(&w);
    assert_int_equal(jw_finish(&w, err), 0);
    assert_string_equal(w.buf, "{\"a\\\"b\\ufffd\": 1}");
    jw_free(&w);
}

/* Every byte value in every position: the output never holds a byte >= 0x80 that is not
 * part of a well-formed sequence, and never a raw control character. */
static void every_byte_gives_valid_json(void **state) {
    (void)state;
    json_writer w;
    jw_init(&w);
    char in[4] = {0};
    for (int a = 1; a < 256; a++)
        for (int b = 0; b < 256; b += 17) {
            in[0] = (char)a;
            in[1] = (char)b;
            const unsigned char *o = (const unsigned char *)escaped(&w, in);
            for (size_t i = 0; o[i]; i++) {
                assert_true(o[i] >= 0x20);
                if (o[i] < 0x80) continue;
                /* a lead byte here must be followed by its continuation bytes */
                int n = o[i] >= 0xF0 ? 4 : o[i] >= 0xE0 ? 3 : 2;
                assert_true(o[i] >= 0xC2 && o[i] <= 0xF4);
                for (int k = 1; k < n; k++) assert_true(o[i + k] >= 0x80 && o[i + k] <= 0xBF);
                i += (size_t)n - 1;
            }
        }
    jw_free(&w);
}

static void growth_and_errors(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    json_writer w;
    jw_init(&w);
    assert_int_equal(jw_finish(&w, err), -1); /* nothing written */
    jw_array(&w, NULL, JW_COMPACT);
    for (int i = 0; i < 5000; i++) jw_int(&w, NULL, i);
    for (int d = 0; d < 40; d++) jw_array(&w, NULL, JW_COMPACT); /* deeper than the first stack */
    assert_int_equal(jw_finish(&w, err), -1);
    assert_non_null(strstr(err, "41"));
    for (int d = 0; d < 40; d++) jw_end(&w);
    jw_end(&w);
    jw_end(&w); /* one too many: ignored */
    assert_int_equal(jw_finish(&w, err), 0);
    assert_int_equal(strncmp(w.buf, "[0, 1, 2, ", 10), 0);
    assert_non_null(strstr(w.buf, ", 4999, [[[["));
    assert_int_equal(w.len, strlen(w.buf));
    assert_int_equal(w.buf[w.len - 1], ']');
    jw_free(&w);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(flat_object_on_one_line),
        cmocka_unit_test(nested_lines_layout),
        cmocka_unit_test(escaping_and_valid_utf8),
        cmocka_unit_test(every_byte_gives_valid_json),
        cmocka_unit_test(growth_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
