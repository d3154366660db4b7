/* attention.c -- `tinybrain attention CKPT`: draw where each head looks.  Lesson 07.
 *
 * Runs one sentence (read after ".", like every sentence we score) and draws the attention
 * weights A[h, t, s] of every layer and head as a grid of heatmaps: one panel per head
 * (columns) and layer (rows); in a panel, row t is the token doing the looking (query)
 * and column s the token looked at (key).  Causality shows as an empty upper triangle. */
#include "cli.h"
#include "commands.h"
#include "lm.h"
#include "plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_attention(int argc, char **argv) {
    const char *text, *out;
    int json;
    cli_opt opts[] = {
        {"text", 's', &text, "the dog near the cats chases a ball .", "", "sentence to look at (read after \".\")", 0, 0, NULL},
        {"out", 's', &out, TB_PLOTS_DIR "/attention.png", "", "PNG to write", 0, 0, NULL},
        {"json", 'b', &json, NULL, "", "print one JSON object (tokens and where each head's last row looks)", 0, 0, NULL},
    };
    cli_cmd cmd = {"attention", "[CKPT]", "attention-map PNG for a sentence: one panel per layer and head",
                   "CKPT defaults to runs/gpt.ckpt.  Rows are queries (the token looking), columns keys\n"
                   "(the tokens looked at); each row sums to 1.",
                   "tinybrain attention runs/gpt.ckpt --text \"the dogs near the cat chase a ball .\""};
    char *pos[1];
    int npos = cli_parse(&cmd, opts, NOPT(opts), argc, argv, pos, 0, 1);
    const char *path = npos ? pos[0] : TB_RUNS_DIR "/gpt.ckpt";
    char err[TB_ERRLEN];
    gpt_model m;
    tb_tokenizer tok;
    if (gpt_load_file(path, &m, &tok, NULL, err)) cli_die(1, "%s", err);
    int *ids, n;
    if (tok_encode(&tok, text, &ids, &n, err)) cli_die(2, "--text: %s", err);
    int eos = tok_id(&tok, ".");
    int lead = tok.kind == TOK_WORD && eos >= 0;   /* put "." in front of word sentences */
    int T = n + lead;
    if (n < 1) cli_die(2, "--text has no tokens");
    if (T > m.cfg.ctx) cli_die(2, "--text has %d tokens; the model's context holds %d", T, m.cfg.ctx - lead);
    int *seq = malloc((size_t)T * sizeof(int));
    if (!seq) cli_die(1, "out of memory");
    if (lead) seq[0] = eos;
    memcpy(seq + lead, ids, (size_t)n * sizeof(int));
    if (gpt_forward(&m, seq, NULL, 1, T, NULL, err)) cli_die(1, "%s", err);

    int L = m.cfg.n_layer, NH = m.cfg.n_head, np = L * NH;
    const float **mats = malloc((size_t)np * sizeof(float *));
    char **titles = malloc((size_t)np * sizeof(char *)), **labels = malloc((size_t)T * sizeof(char *));
    if (!mats || !titles || !labels) cli_die(1, "out of memory");
    for (int l = 0; l < L; l++) {
        const float *A = gpt_tap(&m, GPT_TAP_ATTN_WEIGHTS, l, NULL);
        for (int h = 0; h < NH; h++) {
            mats[l * NH + h] = A + (size_t)h * T * T;
            titles[l * NH + h] = malloc(48);
            snprintf(titles[l * NH + h], 48, "layer %d head %d", l, h);
        }
    }
    for (int t = 0; t < T; t++) {
        const char *s = tok.tokens[seq[t]];
        labels[t] = malloc(strlen(s) + 8);
        if (tok.kind == TOK_CHAR && (s[0] == ' ' || s[0] == '\n')) strcpy(labels[t], s[0] == ' ' ? "_" : "\\n");
        else strcpy(labels[t], s);
    }
    tb_heatmap hm = {"", "key (looked at)", "query (looking)", (const char *const *)labels,
                     (const char *const *)labels, 0.0, 1.0, CMAP_VIRIDIS, "attention weight", 0};
    char title[512];
    snprintf(title, sizeof title, "attention of %s", path);
    hm.title = title;
    if (plot_heatmap_grid_png(out, mats, np, NH, T, T, (const char *const *)titles, &hm, err)) cli_die(1, "%s", err);

    if (json) {
        json_begin();
        json_str("checkpoint", path);
        json_str("png", out);
        json_int("layers", L);
        json_int("heads", NH);
        char buf[8192] = "[";
        for (int t = 0; t < T; t++) {
            char esc[256];
            json_escape(esc, sizeof esc, labels[t]);
            snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s", t ? "," : "", esc);
        }
        strcat(buf, "]");
        json_raw("tokens", buf);
        /* for each layer/head: the key the last token attends to most */
        double argmax[256];
        int k = 0;
        for (int i = 0; i < np && k < 256; i++) {
            const float *row = mats[i] + (size_t)(T - 1) * T;
            int best = 0;
            for (int s = 1; s < T; s++) if (row[s] > row[best]) best = s;
            argmax[k++] = best;
        }
        json_num_array("last_token_argmax_key", argmax, k);
        json_end();
    } else {
        printf("wrote %s: %d layers x %d heads, %d tokens\n", out, L, NH, T);
        printf("where the last token (\"%s\") looks most, per layer and head:\n", labels[T - 1]);
        for (int l = 0; l < L; l++) {
            printf("  layer %d:", l);
            for (int h = 0; h < NH; h++) {
                const float *row = mats[l * NH + h] + (size_t)(T - 1) * T;
                int best = 0;
                for (int s = 1; s < T; s++) if (row[s] > row[best]) best = s;
                printf("  h%d -> %s (%.2f)", h, labels[best], row[best]);
            }
            printf("\n");
        }
    }
    for (int i = 0; i < np; i++) free(titles[i]);
    for (int t = 0; t < T; t++) free(labels[t]);
    free(titles);
    free(labels);
    free(mats);
    free(seq);
    free(ids);
    tok_free(&tok);
    gpt_free(&m);
    return 0;
}
