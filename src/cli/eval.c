/* eval.c -- `tinybrain eval CKPT`: how good is a trained language model?  Lesson 08.
 *
 * Validation loss against the true entropy floor and the n-gram baselines, minimal-pair
 * accuracy (agreement with and without an attractor noun in between), and the loss by
 * position in the sentence (lm_eval.h), for either model kind (lm_open, lm.h).  With
 * --ablate the GPT is scored with some residual units zeroed (lesson 14); --skip-layers,
 * --lens and --usage are the tinkerer's readings of lesson 18. */
#include "cli.h"
#include "commands.h"
#include "figures.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Zero the units of --ablate FILE or --ablate-random K; returns how many. */
static int ablate(lm_model *m, const char *file, int layer, int random_k, uint64_t seed) {
    char err[TB_ERRLEN];
    if (strcmp(m->kind, "gpt"))
        cli_die(2, "--ablate/--ablate-random: only GPT checkpoints have ablation masks (%s is '%s')", m->path, m->kind);
    int L = m->gpt.cfg.n_layer, C = m->gpt.cfg.d_model, *units, n = random_k;
    if (layer < 0) layer = L;
    if (layer > L) cli_die(2, "--ablate-layer: %d is out of range (0..%d)", layer, L);
    if (!*file && random_k > C) cli_die(2, "--ablate-random: %d units asked, the layer has %d", random_k, C);
    if (*file ? lm_read_units(file, C, &units, &n, err) : lm_random_units(C, random_k, seed, &units, err))
        cli_die(1, "%s", err);
    if (gpt_ablate(&m->gpt, GPT_ABL_RESID, layer, units, n, err)) cli_die(1, "%s", err);
    free(units);
    return n;
}

static void print_json(const lm_model *m, const tb_corpus *c, const lm_eval_result *r, int n_ablated) {
    json_str("checkpoint", m->path);
    json_str("kind", m->kind);
    json_int("step", m->step);
    json_int("ablated_units", n_ablated);
    json_num("val_loss", r->val_loss);
    json_num("floor_nats", r->floor_nats);
    json_num("excess_nats", r->val_loss - r->floor_nats);
    json_num("bigram_nats", c->bigram_nats);
    json_num("unigram_nats", c->unigram_nats);
    json_int("val_tokens", r->n_scored);
    json_num("minimal_pair_acc", r->pair_acc[0]);
    json_num("minimal_pair_acc_attractor", r->pair_acc[1]);
    json_num("minimal_pair_acc_no_attractor", r->pair_acc[2]);
    json_int("minimal_pairs", r->pairs[0]);
    if (r->n_pos) {
        json_num_array("position_loss", r->pos_loss, r->n_pos);
        json_num_array("position_floor", r->pos_floor, r->n_pos);
    }
}

static void print_positions(const lm_eval_result *r, int have_floor) {
    printf("\nloss by position in the sentence (nats/token):\n");
    int w[4] = {8, 8, 10, 10};
    const char *hdr[4] = {"position", "tokens", "model", "floor"};
    cli_table_row(4, w, hdr);
    cli_table_rule(4, w);
    for (int k = 0; k < r->n_pos; k++) {
        char c[4][CLI_NUMLEN];
        snprintf(c[0], CLI_NUMLEN, k == LM_EVAL_POSITIONS - 1 ? "%d+" : "%d", k);
        snprintf(c[1], CLI_NUMLEN, "%ld", r->pos_tokens[k]);
        snprintf(c[2], CLI_NUMLEN, "%.4f", r->pos_loss[k]);
        snprintf(c[3], CLI_NUMLEN, have_floor ? "%.4f" : "-", r->pos_floor[k]);
        const char *cells[4] = {c[0], c[1], c[2], c[3]};
        cli_table_row(4, w, cells);
    }
}

static void print_text(const lm_model *m, const tb_corpus *c, const lm_eval_result *r) {
    printf("%s: %s checkpoint", m->path, m->kind);
    if (m->step >= 0) printf(", step %lld", m->step);
    if (!strcmp(m->kind, "gpt"))
        printf(", %d layers x %d heads, d_model %d, ctx %d", m->gpt.cfg.n_layer, m->gpt.cfg.n_head, m->gpt.cfg.d_model,
               m->gpt.cfg.ctx);
    printf("\ncorpus %s, %ld validation tokens\n\n", c->name, r->n_scored);
    printf("  val loss        %.4f nats/token\n", r->val_loss);
    if (!isnan(r->floor_nats))
        printf("  true floor      %.4f   (model - floor = %+.4f)\n", r->floor_nats, r->val_loss - r->floor_nats);
    printf("  bigram          %.4f\n  unigram         %.4f\n", c->bigram_nats, c->unigram_nats);
    if (r->pairs[0])
        printf("  minimal pairs   %.1f%% of %d   (with attractor %.1f%% of %d, without %.1f%% of %d)\n", 100 * r->pair_acc[0],
               r->pairs[0], 100 * r->pair_acc[1], r->pairs[1], 100 * r->pair_acc[2], r->pairs[2]);
    if (r->n_pos) print_positions(r, c->val_nll_true != NULL);
}

/* ---- lesson 18: skipped blocks, the logit lens, work by token category ------------ */

typedef struct {
    const char *skip_list, *lens_name;
    int lens, usage;
    int *skip, n_skip;             /* parsed --skip-layers */
    lm_eval_result *lens_rows;     /* [L + 1] with --lens */
    lm_usage use;                  /* with --usage (or an MoE / sparse model) */
    int have_usage;
} tinker_eval;

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
static void tinker_run(tinker_eval *t, lm_model *m, const tb_corpus *c, long val_tokens, const char *pairs, int json) {
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
        if (fig_lens(TB_PLOTS_DIR, t->lens_name, t->lens_rows, g->cfg.n_layer + 1, c->bigram_nats, &rendered, err))
            cli_note("lens plot: %s", err);
        else if (!json) cli_note_plot(TB_PLOTS_DIR, t->lens_name, rendered);
    }
    if (t->usage || g->cfg.moe_experts || g->cfg.mlp_topk || g->cfg.act == GPT_ACT_RELU) {
        if (lm_usage_measure(g, &m->scorer, c, val_tokens, &t->use, err)) cli_die(1, "%s: %s", m->path, err);
        t->have_usage = 1;
    }
}

static void json_tinker(const tinker_eval *t, const lm_model *m) {
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

static void print_lens(const tinker_eval *t, const lm_model *m) {
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

static void print_usage_table(const lm_usage *u) {
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

static void tinker_free(tinker_eval *t) {
    free(t->skip);
    free(t->lens_rows);
    if (t->have_usage) lm_usage_free(&t->use);
}

int cmd_eval(int argc, char **argv) {
    const char *corpus_opt, *data_dir, *pairs_opt, *plot_name, *ablate_file;
    int json, val_tokens, ablate_layer, ablate_random;
    long long ablate_seed;
    tinker_eval tk = {0};
    cli_opt opts[] = {
        {"ablate", 's', &ablate_file, "", "", "GPT: zero these residual-stream units (file of indices, e.g. from localize --out)", 0, 0, NULL},
        {"ablate-layer", 'i', &ablate_layer, "-1", "", "GPT: layer whose residual units are zeroed (0 = embedding; -1 = last)", -1, 1000, NULL},
        {"ablate-random", 'i', &ablate_random, "0", "", "GPT: zero this many random units instead (the control for --ablate)", 0, 100000, NULL},
        {"ablate-seed", 'l', &ablate_seed, "1", "", "seed for --ablate-random", 0, 9.2e18, NULL},
        {"corpus", 's', &corpus_opt, "", "", "corpus to evaluate on (default: the one the model was trained on)", 0, 0, NULL},
        {"data-dir", 's', &data_dir, TB_DATA_DIR, "", "toyworld data folder", 0, 0, NULL},
        {"pairs", 's', &pairs_opt, "", "", "minimal pairs TSV (default: DATA_DIR/minimal_pairs.tsv)", 0, 0, NULL},
        {"val-tokens", 'i', &val_tokens, "0", "tokens", "score only the first N validation tokens (0: all)", 0, 1e9, NULL},
        {"plot", 's', &plot_name, "", "", "also draw the per-position loss as plots/NAME.png", 0, 0, NULL},
        {"skip-layers", 's', &tk.skip_list, "", "", "GPT: bypass these blocks (0..L-1, e.g. 1 or 0,2) on the residual stream", 0, 0, NULL},
        {"lens", 'b', &tk.lens, NULL, "", "GPT: the logit lens, loss and pairs read out after every block (plots/NAME.png)", 0, 0, NULL},
        {"lens-name", 's', &tk.lens_name, "lens", "", "file name of the lens plot", 0, 0, NULL},
        {"usage", 'b', &tk.usage, NULL, "", "GPT: active MLP units and expert choices by part of speech (always for experts/sparse MLPs)", 0, 0, NULL},
        {"json", 'b', &json, NULL, "", "print one JSON object", 0, 0, NULL},
    };
    cli_cmd cmd = {"eval", "[CKPT]", "validation loss vs the entropy floor, minimal pairs, loss by position",
                   "CKPT defaults to runs/gpt.ckpt.  The validation split is scored sentence by sentence,\n"
                   "each sentence read after \".\" (the convention of the true floor).  A minimal pair\n"
                   "counts as right when the model gives the grammatical sentence the higher probability.",
                   "tinybrain eval runs/gpt.ckpt --json"};
    char *pos[1], err[TB_ERRLEN];
    int npos = cli_parse(&cmd, opts, NOPT(opts), argc, argv, pos, 0, 1), n_ablated = 0, rendered;
    lm_model m;
    if (lm_open(npos ? pos[0] : TB_RUNS_DIR "/gpt.ckpt", &m, err)) cli_die(1, "%s", err);
    if (*ablate_file || ablate_random > 0) {
        n_ablated = ablate(&m, ablate_file, ablate_layer, ablate_random, (uint64_t)ablate_seed);
        if (!json)
            cli_note("ablated %d residual units of layer %d (%s)", n_ablated, ablate_layer < 0 ? m.gpt.cfg.n_layer : ablate_layer,
                     *ablate_file ? ablate_file : "random");
    }
    tb_corpus corp;
    if (corpus_load(&corp, *corpus_opt ? corpus_opt : ckpt_get(&m.ck, "corpus"), data_dir, ckpt_get(&m.ck, "tokens"), err))
        cli_die(1, "%s", err);
    if (tok_check_same(&m.tok, &corp.tok, m.path, err)) cli_die(1, "%s (model and corpus '%s' do not match)", err, corp.name);
    char *pairs = *pairs_opt ? cli_strf("%s", pairs_opt) : !strcmp(corp.name, "toyworld") ? cli_strf("%s/minimal_pairs.tsv", data_dir) : NULL;
    tinker_run(&tk, &m, &corp, val_tokens, pairs, json);
    lm_eval_result r;
    if (lm_evaluate(&m.scorer, &m.tok, &corp, val_tokens, pairs, &r, err)) cli_die(1, "%s: %s", m.path, err);
    if (*plot_name && r.n_pos) {
        if (fig_position_loss(TB_PLOTS_DIR, plot_name, &r, &rendered, err)) cli_die(1, "%s", err);
        cli_note_plot(TB_PLOTS_DIR, plot_name, rendered);
    }
    if (json) {
        json_begin();
        print_json(&m, &corp, &r, n_ablated);
        json_tinker(&tk, &m);
        json_end();
    } else {
        print_text(&m, &corp, &r);
        if (tk.lens_rows) print_lens(&tk, &m);
        if (tk.have_usage) print_usage_table(&tk.use);
    }
    tinker_free(&tk);
    free(pairs);
    lm_close(&m);
    corpus_free(&corp);
    return 0;
}
