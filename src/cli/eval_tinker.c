/* eval_tinker.c -- `eval --skip-layers`, `--lens` and `--usage`: the tinkerer's readings
 * of lesson 18 (see eval_tinker.h). */
#include "cli.h"
#include "eval_tinker.h"
#include "figures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>



/* "0,2" -> blocks {0, 2}, each in 0..L-1. */
static void parse_skip(tinker_eval *t, int L) {
    const char *s = t->skip_list;
    if (!*s) return;
    t->skip = malloc((strlen(s) / 2 + 1) * sizeof(int));
    if (!t->skip) cli_die(1, "out of memory");
    for (const char *p = s; *p;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || (*end && *end != ',') || v < 0 || v >= L)
            cli_die(2, "--skip-layers '%s': give blocks 0..%d separated by commas", s, L - 1);
        t->skip[t->n_skip++] = (int)v;
        p = *end ? end + 1 : end;
    }
}

/* Skip blocks, then (when asked) read the lens and the work by category. */
void tinker_run(tinker_eval *t, lm_model *m, const tb_corpus *c, long val_tokens, const char *pairs, int json) {
    char err[TB_ERRLEN];
    int is_gpt = !strcmp(m->kind, "gpt");
    if (!is_gpt && (*t->skip_list || t->lens || t->usage))
        cli_die(2, "--skip-layers, --lens and --usage read a GPT (%s is '%s')", m->path, m->kind);
    if (!is_gpt) return;
    gpt_model *g = &m->gpt;
    parse_skip(t, g->cfg.n_layer);
    if (gpt_skip(g, t->skip, t->n_skip, err)) cli_die(2, "--skip-layers: %s", err);
    if (t->n_skip && !json) cli_note("%d of %d blocks skipped (%s)", t->n_skip, g->cfg.n_layer, t->skip_list);
    if (t->lens) {
        t->lens_rows = calloc((size_t)g->cfg.n_layer + 1, sizeof *t->lens_rows);
        if (!t->lens_rows) cli_die(1, "out of memory");
        if (lm_lens(g, &m->scorer, &m->tok, c, val_tokens, pairs, t->skip, t->n_skip, t->lens_rows, err))
            cli_die(1, "%s: %s", m->path, err);
        int rendered;
        if (fig_lens(t->plots, t->lens_name, t->lens_rows, g->cfg.n_layer + 1, c->bigram_nats, &rendered, err))
            cli_note("lens plot: %s", err);
        else if (!json) cli_note_plot(t->plots, t->lens_name, rendered);
    }
    if (t->usage || g->cfg.moe_experts || g->cfg.mlp_topk || g->cfg.act == GPT_ACT_RELU) {
        if (lm_usage_measure(g, &m->scorer, c, val_tokens, &t->use, err)) cli_die(1, "%s: %s", m->path, err);
        t->have_usage = 1;
    }
}

void json_tinker(const tinker_eval *t, const lm_model *m) {
    json_writer *w = json_w();
    if (t->n_skip) {
        long long sk[GPT_MAX_LAYERS];
        for (int i = 0; i < t->n_skip && i < GPT_MAX_LAYERS; i++) sk[i] = t->skip[i];
        json_int_array("skip_layers", sk, t->n_skip);
    }
    if (t->lens_rows) {
        jw_array(w, "lens", JW_LINES);
        for (int e = 0; e <= m->gpt.cfg.n_layer; e++) {
            const lm_eval_result *r = &t->lens_rows[e];
            jw_object(w, NULL, JW_COMPACT);
            jw_int(w, "layer", e);
            jw_num(w, "val_loss", r->val_loss);
            jw_num(w, "excess_nats", r->val_loss - r->floor_nats);
            jw_num(w, "minimal_pair_acc", r->pair_acc[0]);
            jw_num(w, "minimal_pair_acc_attractor", r->pair_acc[1]);
            jw_end(w);
        }
        jw_end(w);
    }
    if (!t->have_usage) return;
    const lm_usage *u = &t->use;
    jw_object(w, "usage", JW_LINES);
    jw_num(w, "mlp_active_frac", u->mean_active);
    jw_array(w, "categories", JW_COMPACT);
    for (int k = 0; k < u->n_cat; k++) jw_str(w, NULL, u->cat[k]);
    jw_end(w);
    jw_nums(w, "positions", u->tokens, u->n_cat);
    jw_array(w, "active_frac", JW_LINES);   /* [layer][category] */
    for (int l = 0; l < u->L; l++) jw_nums(w, NULL, u->active + (size_t)l * u->n_cat, u->n_cat);
    jw_end(w);
    if (u->E) {
        jw_array(w, "expert_share", JW_LINES);   /* [layer][category][expert] */
        for (int l = 0; l < u->L; l++) {
            jw_array(w, NULL, JW_COMPACT);
            for (int k = 0; k < u->n_cat; k++) jw_nums(w, NULL, u->expert + ((size_t)l * u->n_cat + k) * u->E, u->E);
            jw_end(w);
        }
        jw_end(w);
    }
    jw_end(w);
}

void print_lens(const tinker_eval *t, const lm_model *m) {
    printf("\nlogit lens: the model read out after block e (through the final norm and head):\n");
    int w[5] = {6, 10, 10, 9, 11};
    const char *hdr[5] = {"exit", "val_loss", "- floor", "pairs", "attractor"};
    cli_table_row(5, w, hdr);
    cli_table_rule(5, w);
    for (int e = 0; e <= m->gpt.cfg.n_layer; e++) {
        const lm_eval_result *r = &t->lens_rows[e];
        char c[5][CLI_NUMLEN];
        snprintf(c[0], CLI_NUMLEN, "%d", e);
        snprintf(c[1], CLI_NUMLEN, "%.4f", r->val_loss);
        snprintf(c[2], CLI_NUMLEN, "%+.4f", r->val_loss - r->floor_nats);
        snprintf(c[3], CLI_NUMLEN, "%.3f", r->pair_acc[0]);
        snprintf(c[4], CLI_NUMLEN, "%.3f", r->pair_acc[1]);
        const char *cells[5] = {c[0], c[1], c[2], c[3], c[4]};
        cli_table_row(5, w, cells);
    }
}

void print_usage_table(const lm_usage *u) {
    printf("\nMLP work by part of speech: share of hidden units nonzero (active)%s\n",
           u->E ? ", share of first choices per expert (experts)" : "");
    printf("  %-8s %9s", "category", "positions");
    for (int l = 0; l < u->L; l++) printf("  active_b%d", l);
    for (int l = 0; u->E && l < u->L; l++) {
        char h[32];
        snprintf(h, sizeof h, "experts_b%d", l);
        printf("  %-*s", 5 * u->E - 1, h);
    }
    printf("\n");
    for (int k = 0; k < u->n_cat; k++) {
        if (u->tokens[k] <= 0) continue;
        printf("  %-8s %9.0f", u->cat[k], u->tokens[k]);
        for (int l = 0; l < u->L; l++) printf("  %9.3f", u->active[(size_t)l * u->n_cat + k]);
        for (int l = 0; u->E && l < u->L; l++) {
            printf(" ");
            for (int e = 0; e < u->E; e++) printf(" %.2f", u->expert[((size_t)l * u->n_cat + k) * u->E + e]);
        }
        printf("\n");
    }
    printf("  all blocks: %.3f of the hidden units nonzero per position\n", u->mean_active);
}

void tinker_free(tinker_eval *t) {
    free(t->skip);
    free(t->lens_rows);
    if (t->have_usage) lm_usage_free(&t->use);
}

