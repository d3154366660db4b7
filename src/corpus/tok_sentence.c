/* tok_sentence.c -- a sentence as the models read it, and tokens as pictures label them
 * (lessons 07, 08); see the end of include/tokenizer.h. */
#include "tokenizer.h"

#include <stdlib.h>
#include <string.h>

int tok_encode_sentence(const tb_tokenizer *t, const char *text, int **ids, int *n, int *lead, char *err) {
    int *body, nb;
    if (tok_encode(t, text, &body, &nb, err)) return -1;
    if (nb < 1) { free(body); return tb_fail(err, "no tokens in '%s'", text); }
    int eos = tok_id(t, ".");
    *lead = t->kind == TOK_WORD && eos >= 0;
    *n = nb + *lead;
    *ids = malloc((size_t)*n * sizeof **ids);
    if (!*ids) { free(body); return tb_fail(err, "out of memory"); }
    if (*lead) (*ids)[0] = eos;
    memcpy(*ids + *lead, body, (size_t)nb * sizeof *body);
    free(body);
    return 0;
}

const char *tok_show(const tb_tokenizer *t, int id) {
    const char *s = t->tokens[id];
    if (t->kind == TOK_CHAR && s[0] == ' ') return "_";
    if (t->kind == TOK_CHAR && s[0] == '\n') return "\\n";
    return s;
}
