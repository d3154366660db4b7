/* attention.c -- `tinybrain attention CKPT`: draw where each head looks.  Lesson 07.
 *
 * Runs one sentence (read after ".", like every sentence we score) and draws the attention
 * weights A[h, t, s] of every layer and head as a grid of heatmaps: one panel per head
 * (columns) and layer (rows); in a panel, row t is the token doing the looking (query)
 * and column s the token looked at (key).  Causality shows as an empty upper triangle.
 * The maps and the picture are gpt_plot.h's. */
#include "cli.h"
#include "commands.h"
#include "gpt_plot.h"
#include "lm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The labels as a JSON array of strings (malloc'd). */
static char *labels_json(const char *const *labels, int T) {
    size_t cap = 3;
    for (int t = 0; t < T; t++) cap += 6 * strlen(labels[t]) + 11;   /* json_escape's worst case, a comma */
    char *buf = malloc(cap);
    if (!buf) cli_die(1, "out of memory");
    size_t len = (size_t)snprintf(buf, cap, "[");
    for (int t = 0; t < T; t++) {
        if (t) buf[len++] = ',';
        json_escape(buf + len, cap - len, labels[t]);
        len += strlen(buf + len);
    }
    snprintf(buf + len, cap - len, "]");
    return buf;
}

static void print_json(const char *ckpt, const char *png, const gpt_attention *a, const char *const *labels) {
    int np = a->L * a->NH;
    double *argmax = malloc((size_t)np * sizeof *argmax);
    char *tokens = labels_json(labels, a->T);
    if (!argmax) cli_die(1, "out of memory");
    for (int i = 0; i < np; i++) argmax[i] = a->argmax_last[i];
    json_begin();
    json_str("checkpoint", ckpt);
    json_str("png", png);
    json_int("layers", a->L);
    json_int("heads", a->NH);
    json_raw("tokens", tokens);
    json_num_array("last_token_argmax_key", argmax, np);   /* per layer and head */
    json_end();
    free(argmax);
    free(tokens);
}

static void print_text(const char *png, const gpt_attention *a, const char *const *labels) {
    int T = a->T;
    printf("wrote %s: %d layers x %d heads, %d tokens\n", png, a->L, a->NH, T);
    printf("where the last token (\"%s\") looks most, per layer and head:\n", labels[T - 1]);
    for (int l = 0; l < a->L; l++) {
        printf("  layer %d:", l);
        for (int h = 0; h < a->NH; h++) {
            int i = l * a->NH + h, best = a->argmax_last[i];
            printf("  h%d -> %s (%.2f)", h, labels[best], a->maps[i][(size_t)(T - 1) * T + best]);
        }
        printf("\n");
    }
}

int cmd_attention(int argc, char **argv) {
    const char *text, *plots, *name;
    int json;
    cli_opt opts[] = {
        {"text", 's', &text, "the dog near the cats chases a ball .", "", "sentence to look at (read after \".\")", 0, 0, NULL},
        {"plots", 's', &plots, TB_PLOTS_DIR, "", "folder for the picture", 0, 0, NULL},
        {"name", 's', &name, "attention", "", "file name of the picture (PLOTS/NAME.png)", 0, 0, NULL},
        {"json", 'b', &json, NULL, "", "print one JSON object (tokens and where each head's last row looks)", 0, 0, NULL},
    };
    cli_cmd cmd = {"attention", "[CKPT]", "attention-map PNG for a sentence: one panel per layer and head",
                   "CKPT defaults to runs/gpt.ckpt.  Rows are queries (the token looking), columns keys\n"
                   "(the tokens looked at); each row sums to 1.",
                   "tinybrain attention runs/gpt.ckpt --text \"the dogs near the cat chase a ball .\""};
    char *pos[1];
    int npos = cli_parse(&cmd, opts, NOPT(opts), argc, argv, pos, 0, 1);
    char err[TB_ERRLEN], *out = cli_strf("%s/%s.png", plots, name);
    gpt_model m;
    tb_tokenizer tok;
    const char *path = open_gpt_arg(npos, pos, &m, &tok);
    /* the sentence through the model */
    int *seq, T, lead;
    if (tok_encode_sentence(&tok, text, &seq, &T, &lead, err)) cli_die(2, "--text: %s", err);
    if (T > m.cfg.ctx) cli_die(2, "--text has %d tokens; the model's context holds %d", T, m.cfg.ctx - lead);
    gpt_attention a;
    if (gpt_forward(&m, seq, NULL, 1, T, NULL, err) || gpt_attention_read(&m, T, &a, err)) cli_die(1, "%s", err);
    /* the picture */
    const char **labels = malloc((size_t)T * sizeof *labels);
    if (!labels) cli_die(1, "out of memory");
    for (int t = 0; t < T; t++) labels[t] = tok_show(&tok, seq[t]);
    char title[512];
    snprintf(title, sizeof title, "attention of %s", path);
    if (gpt_plot_attention(out, &a, labels, title, err)) cli_die(1, "%s", err);
    if (json) print_json(path, out, &a, labels);
    else print_text(out, &a, labels);
    gpt_attention_free(&a);
    free(out);
    free(labels);
    free(seq);
    tok_free(&tok);
    gpt_free(&m);
    return 0;
}
