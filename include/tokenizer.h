/* tokenizer.h -- text <-> token ids.  Lesson 01.
 *
 * Word level (default for toyworld): tokens are whitespace-separated words; decode
 * joins them with single spaces.  Character level (any text file): one token per
 * byte value that occurs in the text.  Both round-trip: decode(encode(s)) == s for
 * word-normalised (single-spaced) text and for any text at char level.
 * The vocabulary is stored in every checkpoint so `sample` can decode.
 */
#ifndef TB_TOKENIZER_H
#define TB_TOKENIZER_H

#include "tb.h"
#include "io.h"

typedef enum { TOK_WORD = 0, TOK_CHAR = 1 } tb_tok_kind;

typedef struct {
    tb_tok_kind kind;
    int vocab_size;
    char **tokens;       /* id -> token text (owned) */
    /* private lookup (open-addressing hash over tokens) */
    int *hash; int hash_cap;
} tb_tokenizer;

/* Build from a list of tokens (ids in list order).  Duplicates and empty tokens are
 * errors. */
int  tok_from_list(tb_tokenizer *t, tb_tok_kind kind, const char *const *tokens, int n, char *err);
/* Build from training text: sorted unique words (or bytes).  Empty text is an error. */
int  tok_build(tb_tokenizer *t, tb_tok_kind kind, const char *text, size_t len, char *err);
void tok_free(tb_tokenizer *t);
/* id of a token, or -1. */
int  tok_id(const tb_tokenizer *t, const char *token);
/* Encode text; an unknown word/byte is an error naming it.  *ids is malloc'd. */
int  tok_encode(const tb_tokenizer *t, const char *text, int **ids, int *n, char *err);
/* Decode ids into a malloc'd string; an out-of-range id is an error. */
int  tok_decode(const tb_tokenizer *t, const int *ids, int n, char **text, char *err);
/* Store in / restore from a checkpoint's config ("tokens" = word|char, "vocab" =
 * the tokens, newline-separated, with \n and \\ escaped). */
int  tok_save(const tb_tokenizer *t, tb_ckpt *c, char *err);
int  tok_load(tb_tokenizer *t, const tb_ckpt *c, char *err);

/* ---- sentences as the models read them (tok_sentence.c) --------------------------
 * A word tokenizer with a "." token reads every sentence after "." (its left context,
 * as scoring and recording do): *ids = "." followed by the tokens of text, *lead = 1.
 * Otherwise *ids = the tokens of text, *lead = 0.  Text without tokens is an error. */
int tok_encode_sentence(const tb_tokenizer *t, const char *text, int **ids, int *n, int *lead, char *err);
/* A token as a picture labels it: a char tokenizer's space as "_" and newline as "\n";
 * any other token as its own text. */
const char *tok_show(const tb_tokenizer *t, int id);

#endif
