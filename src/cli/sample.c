/* sample.c -- `tinybrain sample CKPT`: let a trained GPT write.  Lesson 08.
 *
 * Autoregressive sampling: feed the prompt, draw the next token from
 * softmax(logits / temperature) restricted to the top-k tokens, append it, repeat.
 * Temperature 0 always takes the most likely token (greedy). */
#include "cli.h"
#include "commands.h"
#include "lm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *open_gpt_arg(int npos, char **pos, gpt_model *m, tb_tokenizer *tok) {
    const char *path = npos ? pos[0] : TB_RUNS_DIR "/gpt.ckpt";
    char err[TB_ERRLEN];
    if (gpt_load_file(path, m, tok, NULL, err)) cli_die(1, "%s", err);
    return path;
}

int cmd_sample(int argc, char **argv) {
    const char *prompt;
    int len, top_k, json;
    double temperature;
    long long seed;
    cli_opt opts[] = {
        {"prompt", 's', &prompt, ".", "", "text to continue (word models: words from the vocabulary)", 0, 0, NULL},
        {"len", 'i', &len, "40", "tokens", "tokens to generate", 1, 100000, NULL},
        {"temperature", 'f', &temperature, "1", "", "softmax temperature (0: greedy)", 0, 100, NULL},
        {"top-k", 'i', &top_k, "0", "tokens", "sample among the k most likely tokens only (0: all)", 0, 1e6, NULL},
        {"seed", 'l', &seed, "1", "", "random seed (same seed, same text)", 0, 9e18, NULL},
        {"json", 'b', &json, NULL, "", "print one JSON object", 0, 0, NULL},
    };
    cli_cmd cmd = {"sample", "[CKPT]", "generate text from a trained GPT",
                   "CKPT defaults to runs/gpt.ckpt.  The default prompt \".\" starts a new toyworld\n"
                   "sentence; the generated text follows the prompt.",
                   "tinybrain sample runs/gpt.ckpt --prompt \"the dog\" --len 20 --temperature 0.8"};
    char *pos[1];
    int npos = cli_parse(&cmd, opts, NOPT(opts), argc, argv, pos, 0, 1);
    char err[TB_ERRLEN];
    gpt_model m;
    tb_tokenizer tok;
    open_gpt_arg(npos, pos, &m, &tok);
    int *ids, n;
    if (!*prompt) cli_die(2, "--prompt is empty (use \".\" to start a sentence)");
    if (tok_encode(&tok, prompt, &ids, &n, err)) cli_die(2, "--prompt: %s", err);
    if (n < 1) cli_die(2, "--prompt has no tokens");
    int *seq = realloc(ids, (size_t)(n + len) * sizeof(int));
    if (!seq) cli_die(1, "out of memory");
    tb_rng r;
    rng_seed(&r, (uint64_t)seed);
    for (int i = 0; i < len; i++)
        if (gpt_sample_next(&m, seq, n + i, temperature, top_k, &r, &seq[n + i], err)) cli_die(1, "%s", err);
    char *text, *gen;
    if (tok_decode(&tok, seq, n + len, &text, err) || tok_decode(&tok, seq + n, len, &gen, err)) cli_die(1, "%s", err);
    if (json) {
        json_begin();
        json_str("prompt", prompt);
        json_str("generated", gen);
        json_num("temperature", temperature);
        json_int("top_k", top_k);
        json_int("seed", seed);
        json_end();
    } else if (tok.kind == TOK_WORD && tok_id(&tok, ".") >= 0) {
        /* one sentence per line reads better */
        for (char *p = text; *p; p++) {
            putchar(*p);
            if (*p == '.' && (p[1] == ' ' || p[1] == 0)) { putchar('\n'); if (p[1]) p++; }
        }
        if (text[strlen(text) - 1] != '.') putchar('\n');
    } else {
        printf("%s\n", text);
    }
    free(text);
    free(gen);
    free(seq);
    tok_free(&tok);
    gpt_free(&m);
    return 0;
}
