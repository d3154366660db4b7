/* eval_kl.c -- `tinybrain eval --kl`: the model's loss per token split into the floor plus
 * KL(true || model), against the toyworld grammar's ideal observer.  Lesson 16; the split
 * itself is ideal_loss_split (include/ideal.h). */
#include "cli.h"
#include "commands.h"

#include <stdio.h>

static void kl_row(const char *name, const ideal_cell *c) {
    int w[6] = {-38, 8, 8, 8, 8, 9};
    char b[5][CLI_NUMLEN];
    snprintf(b[0], CLI_NUMLEN, "%ld", c->tokens);
    cli_fmt_num(b[1], CLI_NUMLEN, c->loss);
    cli_fmt_num(b[2], CLI_NUMLEN, c->floor);
    cli_fmt_num(b[3], CLI_NUMLEN, c->kl);
    cli_fmt_num(b[4], CLI_NUMLEN, c->floor + c->kl);
    const char *cells[6] = {name, b[0], b[1], b[2], b[3], b[4]};
    cli_table_row(6, w, cells);
}

void eval_kl_print(const ideal_split *s) {
    printf("\nthe loss split against the ideal observer (nats/token): expected loss = floor H(p) + KL(p || q),\n"
           "p = the grammar's true next-word distribution, q = the model's; 'loss' is what the tokens that came cost\n");
    int w[6] = {-38, 8, 8, 8, 8, 9};
    const char *head[6] = {"tokens scored", "tokens", "loss", "floor", "KL", "floor+KL"};
    cli_table_row(6, w, head);
    cli_table_rule(6, w);
    kl_row("all", &s->all);
    for (int k = 0; k < LM_EVAL_POSITIONS; k++) {
        char name[32];
        snprintf(name, sizeof name, k == LM_EVAL_POSITIONS - 1 ? "position %d+" : "position %d", k);
        if (s->pos[k].tokens) kl_row(name, &s->pos[k]);
    }
    for (int k = 0; k < IDEAL_N_CON; k++) kl_row(ideal_con_name[k], &s->con[k]);
}

static void kl_object(json_writer *w, const char *key, const ideal_cell *c) {
    jw_object(w, key, JW_COMPACT);
    jw_int(w, "tokens", c->tokens);
    jw_num(w, "loss", c->loss);
    jw_num(w, "floor", c->floor);
    jw_num(w, "kl", c->kl);
    jw_end(w);
}

void eval_kl_json(const ideal_split *s) {
    json_writer *w = json_w();
    jw_object(w, "kl_split", JW_COMPACT);
    kl_object(w, "all", &s->all);
    double f[LM_EVAL_POSITIONS], k[LM_EVAL_POSITIONS];
    for (int p = 0; p < LM_EVAL_POSITIONS; p++) { f[p] = s->pos[p].floor; k[p] = s->pos[p].kl; }
    jw_nums(w, "position_floor", f, LM_EVAL_POSITIONS);
    jw_nums(w, "position_kl", k, LM_EVAL_POSITIONS);
    jw_object(w, "construction", JW_COMPACT);
    for (int c = 0; c < IDEAL_N_CON; c++) kl_object(w, ideal_con_key[c], &s->con[c]);
    jw_end(w);
    jw_end(w);
}
