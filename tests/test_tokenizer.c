/* test_tokenizer.c -- word and character tokenizers: round trips, errors, hash lookup,
 * and the vocabulary stored in a checkpoint. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "io.h"
#include "tokenizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void word_round_trip(void **state) {
    (void)state;
    const char *text = "the dog near the cats chases the ball .\nthe cats sleep .\n";
    tb_tokenizer t;
    char err[TB_ERRLEN];
    assert_int_equal(tok_build(&t, TOK_WORD, text, strlen(text), err), 0);
    /* sorted unique words (byte order): . ball cats chases dog near sleep the */
    assert_int_equal(t.vocab_size, 8);
    assert_string_equal(t.tokens[0], ".");
    assert_string_equal(t.tokens[7], "the");
    assert_int_equal(tok_id(&t, "dog"), 4);
    assert_int_equal(tok_id(&t, "do"), -1);
    assert_int_equal(tok_id(&t, "dogs"), -1);
    int *ids, n;
    assert_int_equal(tok_encode(&t, text, &ids, &n, err), 0);
    assert_int_equal(n, 13);
    assert_int_equal(ids[1], 4);
    char *back;
    assert_int_equal(tok_decode(&t, ids, n, &back, err), 0);
    /* word-normalised: single spaces, no newlines */
    assert_string_equal(back, "the dog near the cats chases the ball . the cats sleep .");
    int *ids2, n2;
    assert_int_equal(tok_encode(&t, back, &ids2, &n2, err), 0);
    assert_int_equal(n2, n);
    assert_memory_equal(ids, ids2, (size_t)n * sizeof *ids);
    free(ids); free(ids2); free(back);
    /* Errors. */
    assert_int_equal(tok_encode(&t, "the zebra sleeps", &ids, &n, err), -1);
    assert_non_null(strstr(err, "zebra"));
    assert_null(ids);
    assert_int_equal(tok_encode(&t, "", &ids, &n, err), -1);
    assert_non_null(strstr(err, "empty"));
    assert_int_equal(tok_encode(&t, " \n\t ", &ids, &n, err), -1);
    int bad = 8;
    assert_int_equal(tok_decode(&t, &bad, 1, &back, err), -1);
    assert_non_null(strstr(err, "8"));
    tok_free(&t);
    assert_int_equal(tok_build(&t, TOK_WORD, "", 0, err), -1);
    assert_int_equal(tok_build(&t, TOK_WORD, "  \n ", 4, err), -1);
}

static void char_round_trip_all_bytes(void **state) {
    (void)state;
    /* Every byte value 1..255, some twice, including newline, tab and UTF-8 bytes. */
    char text[600];
    int k = 0;
    for (int b = 1; b < 256; b++) text[k++] = (char)b;
    const char *utf8 = "na\xc3\xafve caf\xc3\xa9 \xe2\x86\x92 \\n\n";
    memcpy(text + k, utf8, strlen(utf8));
    k += (int)strlen(utf8);
    text[k] = 0;
    tb_tokenizer t;
    char err[TB_ERRLEN];
    assert_int_equal(tok_build(&t, TOK_CHAR, text, (size_t)k, err), 0);
    assert_int_equal(t.vocab_size, 255);
    assert_int_equal(tok_id(&t, "\xff"), 254);
    int *ids, n;
    assert_int_equal(tok_encode(&t, text, &ids, &n, err), 0);
    assert_int_equal(n, k);
    char *back;
    assert_int_equal(tok_decode(&t, ids, n, &back, err), 0);
    assert_memory_equal(back, text, (size_t)k + 1);
    free(ids); free(back);
    tok_free(&t);
    /* A byte missing from the vocabulary is an error naming it. */
    assert_int_equal(tok_build(&t, TOK_CHAR, "abc", 3, err), 0);
    assert_int_equal(tok_encode(&t, "abz", &ids, &n, err), -1);
    assert_non_null(strstr(err, "'z'"));
    assert_int_equal(tok_encode(&t, "a\xe9", &ids, &n, err), -1);
    assert_non_null(strstr(err, "233"));
    tok_free(&t);
    /* NUL bytes: binary input. */
    assert_int_equal(tok_build(&t, TOK_CHAR, "ab\0c", 4, err), -1);
    assert_non_null(strstr(err, "NUL"));
}

static void from_list_and_hash(void **state) {
    (void)state;
    tb_tokenizer t;
    char err[TB_ERRLEN];
    const char *dup[] = {"a", "b", "a"};
    assert_int_equal(tok_from_list(&t, TOK_WORD, dup, 3, err), -1);
    assert_non_null(strstr(err, "duplicate"));
    const char *empty[] = {"a", ""};
    assert_int_equal(tok_from_list(&t, TOK_WORD, empty, 2, err), -1);
    const char *space[] = {"a b"};
    assert_int_equal(tok_from_list(&t, TOK_WORD, space, 1, err), -1);
    const char *two[] = {"ab"};
    assert_int_equal(tok_from_list(&t, TOK_CHAR, two, 1, err), -1);
    /* Many tokens: every lookup finds its own id, near misses find nothing. */
    enum { N = 5000 };
    char **w = malloc(N * sizeof *w);
    for (int i = 0; i < N; i++) {
        w[i] = malloc(16);
        snprintf(w[i], 16, "w%d", i * 7);
    }
    assert_int_equal(tok_from_list(&t, TOK_WORD, (const char *const *)w, N, err), 0);
    assert_true(t.hash_cap >= 2 * N);
    for (int i = 0; i < N; i++) assert_int_equal(tok_id(&t, w[i]), i);
    char miss[16];
    for (int i = 0; i < N; i++) {
        snprintf(miss, sizeof miss, "w%d", i * 7 + 1);
        assert_int_equal(tok_id(&t, miss), -1);
    }
    for (int i = 0; i < N; i++) free(w[i]);
    free(w);
    tok_free(&t);
}

static void save_load_through_checkpoint(void **state) {
    (void)state;
    char err[TB_ERRLEN], path[256];
    snprintf(path, sizeof path, "/tmp/tb_test_tokenizer_%ld.ckpt", (long)getpid());
    /* A char tokenizer whose tokens include the escape characters themselves. */
    const char *text = "a\\b\nc\td\xc3\xa9";
    tb_tokenizer t, u;
    assert_int_equal(tok_build(&t, TOK_CHAR, text, strlen(text), err), 0);
    tb_ckpt c;
    ckpt_init(&c, "gpt");
    assert_int_equal(tok_save(&t, &c, err), 0);
    if (ckpt_save(&c, path, err)) fail_msg("%s", err);
    ckpt_free(&c);
    tb_ckpt d;
    if (ckpt_load(&d, path, "gpt", err)) fail_msg("%s", err);
    assert_int_equal(tok_load(&u, &d, err), 0);
    assert_int_equal(u.kind, TOK_CHAR);
    assert_int_equal(u.vocab_size, t.vocab_size);
    for (int i = 0; i < t.vocab_size; i++) assert_string_equal(u.tokens[i], t.tokens[i]);
    assert_int_equal(tok_id(&u, "\n"), tok_id(&t, "\n"));
    ckpt_free(&d);
    tok_free(&t);
    tok_free(&u);
    /* A word tokenizer. */
    const char *words[] = {".", "the", "dog", "back\\slash"};
    assert_int_equal(tok_from_list(&t, TOK_WORD, words, 4, err), 0);
    ckpt_init(&c, "snn");
    assert_int_equal(tok_save(&t, &c, err), 0);
    assert_string_equal(ckpt_get(&c, "tokens"), "word");
    assert_int_equal(tok_load(&u, &c, err), 0);
    assert_int_equal(u.kind, TOK_WORD);
    assert_int_equal(u.vocab_size, 4);
    assert_string_equal(u.tokens[3], "back\\slash");
    tok_free(&u);
    /* Damaged config: missing keys, bad kind, bad escape, wrong count. */
    ckpt_set(&c, "vocab_size", "5");
    assert_int_equal(tok_load(&u, &c, err), -1);
    ckpt_set(&c, "vocab_size", "4");
    ckpt_set(&c, "vocab", ".\nthe\ndog\nbad\\x");
    assert_int_equal(tok_load(&u, &c, err), -1);
    assert_non_null(strstr(err, "escape"));
    ckpt_set(&c, "tokens", "bpe");
    assert_int_equal(tok_load(&u, &c, err), -1);
    assert_non_null(strstr(err, "bpe"));
    ckpt_free(&c);
    ckpt_init(&c, "gpt");
    assert_int_equal(tok_load(&u, &c, err), -1);
    ckpt_free(&c);
    tok_free(&t);
    remove(path);
}

/* A sentence is read after "." by a word tokenizer that has one; a char tokenizer reads
 * it as it is and labels space and newline visibly. */
static void sentences_and_labels(void **state) {
    (void)state;
    tb_tokenizer t;
    char err[TB_ERRLEN];
    const char *words[] = {"the", ".", "dog"};
    assert_int_equal(tok_from_list(&t, TOK_WORD, words, 3, err), 0);
    int *ids, n, lead;
    assert_int_equal(tok_encode_sentence(&t, "the dog", &ids, &n, &lead, err), 0);
    assert_true(n == 3 && lead == 1 && ids[0] == 1 && ids[1] == 0 && ids[2] == 2);
    free(ids);
    assert_int_equal(tok_encode_sentence(&t, "", &ids, &n, &lead, err), -1);
    assert_int_equal(tok_encode_sentence(&t, "the cat", &ids, &n, &lead, err), -1);
    assert_string_equal(tok_show(&t, 2), "dog");
    tok_free(&t);
    const char *nodot[] = {"the", "dog"};                 /* no "." token: no lead */
    assert_int_equal(tok_from_list(&t, TOK_WORD, nodot, 2, err), 0);
    assert_int_equal(tok_encode_sentence(&t, "dog the", &ids, &n, &lead, err), 0);
    assert_true(n == 2 && lead == 0 && ids[0] == 1);
    free(ids);
    tok_free(&t);
    const char *chars[] = {"a", " ", "\n", "."};
    assert_int_equal(tok_from_list(&t, TOK_CHAR, chars, 4, err), 0);
    assert_int_equal(tok_encode_sentence(&t, "a a.", &ids, &n, &lead, err), 0);
    assert_true(n == 4 && lead == 0);                     /* char models: no lead */
    assert_string_equal(tok_show(&t, ids[1]), "_");
    assert_string_equal(tok_show(&t, 2), "\\n");
    assert_string_equal(tok_show(&t, 0), "a");
    free(ids);
    tok_free(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(word_round_trip),
        cmocka_unit_test(char_round_trip_all_bytes),
        cmocka_unit_test(from_list_and_hash),
        cmocka_unit_test(save_load_through_checkpoint),
        cmocka_unit_test(sentences_and_labels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
