/* eval.c -- `tinybrain eval CKPT`: how good is a trained language model?  Lesson 08.
 *
 * Validation loss against the true entropy floor and the n-gram baselines, minimal-pair
 * accuracy (with and without an attractor noun in between, and by phenomenon), fact
 * recall (the world's facts, scored apart from syntax), and the loss by position in the
 * sentence (lm_eval.h), for either model kind (lm_open, lm.h).  With --ablate the GPT is
 * scored with some residual units zeroed (lesson 14); --kl splits the loss into the floor
 * and KL (lesson 16, eval_kl.c); --skip-layers, --lens and --usage are the tinkerer's
 * readings of lesson 18 (eval_tinker.c). */
#include "cli.h"
#include "commands.h"
#include "ablation.h"
#include "eval_tinker.h"
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

/* ---- the localized set against random sets (lesson 14) ----------------------------------- */

static void sets_progress(void *ctx, int done, int total) {
    (void)ctx;
    cli_progress(done, total, "random sets");
}

/* The units of --ablate FILE against --ablate-random-sets random sets of their size. */
static void ablation_control(lm_model *m, const char *file, int layer, int sets, uint64_t seed, const tb_corpus *c,
                             long val_tokens, const char *pairs, abl_control *a) {
    char err[TB_ERRLEN];
    if (strcmp(m->kind, "gpt"))
        cli_die(2, "--ablate: only GPT checkpoints have ablation masks (%s is '%s')", m->path, m->kind);
    int L = m->gpt.cfg.n_layer, C = m->gpt.cfg.d_model, *units, n;
    if (layer < 0) layer = L;
    if (layer > L) cli_die(2, "--ablate-layer: %d is out of range (0..%d)", layer, L);
    if (lm_read_units(file, C, &units, &n, err)) cli_die(1, "%s", err);
    cli_progress_start();
    if (abl_control_run(&m->gpt, layer, units, n, sets, seed, &m->scorer, &m->tok, c, val_tokens, pairs, sets_progress,
                        NULL, a, err))
        cli_die(1, "%s: %s", m->path, err);
    cli_progress_end();
    free(units);
}

static void json_control(const abl_control *a) {
    json_int("random_sets", a->n_sets);
    json_num("random_val_loss_median", a->loss.median);
    json_num("random_val_loss_p05", a->loss.p05);
    json_num("random_val_loss_p95", a->loss.p95);
    json_num("localized_percentile", a->loss.percentile);
    json_num("p_value", a->loss.p_value);
    json_num("random_minimal_pair_acc_median", a->acc.median);
    json_num("random_minimal_pair_acc_p05", a->acc.p05);
    json_num("random_minimal_pair_acc_p95", a->acc.p95);
    json_num("minimal_pair_acc_localized_percentile", a->acc.percentile);
    json_num("minimal_pair_acc_p_value", a->acc.p_value);
}

/* One line per measure: the localized set against the random sets, and what that says. */
static void print_control(const abl_control *a) {
    const abl_summary *q[2] = {&a->loss, &a->acc};
    const char *what[2] = {"val loss", "minimal pairs"};
    double local[2] = {a->local.val_loss, a->local.pair_acc[0]};
    printf("\nthe %d localized units against %d random sets of %d units at the same layer:\n", a->k, a->n_sets, a->k);
    for (int i = 0; i < 2; i++) {
        if (isnan(q[i]->median)) continue;
        printf("  %-14s localized %.4f   random: median %.4f, 5-95%% [%.4f, %.4f]   more harmful than %.0f%% of the "
               "random sets, one-sided p = %.3f\n",
               what[i], local[i], q[i]->median, q[i]->p05, q[i]->p95, q[i]->percentile, q[i]->p_value);
    }
    int special = a->loss.p_value < 0.05 || (!isnan(a->acc.p_value) && a->acc.p_value < 0.05);
    printf("  %s\n", special ? "the localized units matter more than random units of the layer (p < 0.05 on at least one measure)"
                             : "the localized units are not more important than random units of the layer (p >= 0.05 on both "
                               "measures)");
}

/* "minimal_pair_acc_<phenomenon>" for every phenomenon, "fact_recall_acc" and
 * "fact_recall_acc_<kind>" (a kind's "fact_" prefix dropped: fact_recall_acc_home). */
static void json_pair_kinds(const lm_eval_result *r) {
    char key[80];
    for (int i = 0; i < r->n_kinds; i++) {
        snprintf(key, sizeof key, "minimal_pair_acc_%s", r->kind[i].name);
        json_num(key, r->kind[i].acc);
    }
    json_num("fact_recall_acc", r->fact_acc);
    json_int("fact_pairs", r->facts);
    for (int i = 0; i < r->n_fact_kinds; i++) {
        const char *name = r->fact_kind[i].name;
        snprintf(key, sizeof key, "fact_recall_acc_%s", strncmp(name, "fact_", 5) ? name : name + 5);
        json_num(key, r->fact_kind[i].acc);
    }
}

static void print_json(const lm_model *m, const tb_corpus *c, const lm_eval_result *r, int n_ablated,
                       const abl_control *a, const ideal_split *kl) {
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
    json_pair_kinds(r);
    if (r->n_pos) {
        json_num_array("position_loss", r->pos_loss, r->n_pos);
        json_num_array("position_floor", r->pos_floor, r->n_pos);
    }
    if (a) json_control(a);
    if (kl) eval_kl_json(kl);
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

/* One line per phenomenon (or kind of fact), indented under its total. */
static void print_kinds(const lm_pair_kind *k, int n) {
    for (int i = 0; i < n; i++) printf("    %-20s %5.1f%% of %d\n", k[i].name, 100 * k[i].acc, k[i].pairs);
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
    if (r->n_kinds > 1) print_kinds(r->kind, r->n_kinds);
    if (r->facts) {
        printf("  fact recall     %.1f%% of %d   (the world's facts, not syntax)\n", 100 * r->fact_acc, r->facts);
        print_kinds(r->fact_kind, r->n_fact_kinds);
    }
    if (r->n_pos) print_positions(r, c->val_nll_true != NULL);
}

/* The fact-recall pairs to score: --facts FILE, none ("none", or not toyworld), or the
 * data folder's fact_pairs.tsv. */
static char *facts_path(const char *opt, const tb_corpus *c, const char *data_dir) {
    if (!strcmp(opt, "none")) return NULL;
    if (*opt) return cli_strf("%s", opt);
    return strcmp(c->name, "toyworld") ? NULL : cli_strf("%s/fact_pairs.tsv", data_dir);
}

/* --positions-plot NAME: the loss by position (PLOTS/NAME.png) and model - floor
 * (PLOTS/NAME_excess.png, when the corpus has a floor). */
static void draw_position_plots(const char *plots, const char *name, const lm_model *m, const tb_corpus *corp,
                                const lm_eval_result *r) {
    char *what = cli_strf("%s on %s val", m->path, corp->name), *ex = cli_strf("%s_excess", name), err[TB_ERRLEN];
    int drawn, rendered;
    if (fig_position_loss(plots, name, what, r, &rendered, err)) cli_die(1, "%s", err);
    cli_note_plot(plots, name, rendered);
    if (fig_position_excess(plots, ex, what, r, &drawn, &rendered, err)) cli_die(1, "%s", err);
    if (drawn) cli_note_plot(plots, ex, rendered);
    free(what);
    free(ex);
}

/* Everything eval found, as one JSON object or as tables (ac: the ablation control,
 * split: --kl; either NULL when not asked for). */
static void print_eval(int json, lm_model *m, tb_corpus *corp, lm_eval_result *r, int n_ablated, abl_control *ac,
                       ideal_split *split, tinker_eval *tk) {
    if (json) {
        json_begin();
        print_json(m, corp, r, n_ablated, ac, split);
        json_tinker(tk, m);
        json_end();
        return;
    }
    print_text(m, corp, r);
    if (ac) print_control(ac);
    if (split) eval_kl_print(split);
    if (tk->lens_rows) print_lens(tk, m);
    if (tk->have_usage) print_usage_table(&tk->use);
}

int cmd_eval(int argc, char **argv) {
    const char *corpus_opt, *data_dir, *pairs_opt, *facts_opt, *plot_name, *ablate_file, *plots;
    int json, val_tokens, ablate_layer, ablate_random, ablate_sets, kl;
    long long ablate_seed;
    tinker_eval tk = {0};
    cli_opt opts[] = {
        {"ablate", 's', &ablate_file, "", "", "GPT: zero these residual-stream units (file of indices, e.g. from localize --units-out)", 0, 0, NULL},
        {"ablate-layer", 'i', &ablate_layer, "-1", "", "GPT: layer whose residual units are zeroed (0 = embedding; -1 = last)", -1, 1000, NULL},
        {"ablate-random", 'i', &ablate_random, "0", "", "GPT: zero this many random units instead (the control for --ablate)", 0, 100000, NULL},
        {"ablate-seed", 'l', &ablate_seed, "1", "", "seed for --ablate-random and --ablate-random-sets", 0, 9.2e18, NULL},
        {"ablate-random-sets", 'i', &ablate_sets, "100", "", "with --ablate FILE: compare with this many random sets of its size (0: off)", 0, 100000, NULL},
        {"corpus", 's', &corpus_opt, "", "", "corpus to evaluate on (default: the one the model was trained on)", 0, 0, NULL},
        {"data-dir", 's', &data_dir, TB_DATA_DIR, "", "toyworld data folder", 0, 0, NULL},
        {"pairs", 's', &pairs_opt, "", "", "minimal pairs TSV (default: DATA_DIR/minimal_pairs.tsv)", 0, 0, NULL},
        {"facts", 's', &facts_opt, "", "", "fact-recall pairs TSV (default: DATA_DIR/fact_pairs.tsv; 'none': skip)", 0, 0, NULL},
        {"val-tokens", 'i', &val_tokens, "0", "tokens", "score only the first N validation tokens (0: all)", 0, 1e9, NULL},
        {"positions-plot", 's', &plot_name, "", "", "also draw the per-position loss as PLOTS/NAME.png and model - floor as PLOTS/NAME_excess.png", 0, 0, NULL},
        {"plots", 's', &plots, TB_PLOTS_DIR, "", "folder for the pictures (--positions-plot, --lens)", 0, 0, NULL},
        {"skip-layers", 's', &tk.skip_list, "", "", "GPT: bypass these blocks (0..L-1, e.g. 1 or 0,2) on the residual stream", 0, 0, NULL},
        {"lens", 'b', &tk.lens, NULL, "", "GPT: the logit lens, loss and pairs read out after every block (plots/NAME.png)", 0, 0, NULL},
        {"lens-name", 's', &tk.lens_name, "lens", "", "file name of the lens plot (PLOTS/NAME.png)", 0, 0, NULL},
        {"usage", 'b', &tk.usage, NULL, "", "GPT: active MLP units and expert choices by part of speech (always for experts/sparse MLPs)", 0, 0, NULL},
        {"json", 'b', &json, NULL, "", "print one JSON object", 0, 0, NULL},
        {"kl", 'b', &kl, NULL, "", "toyworld: split the loss per token into the floor + KL(true || model), by position and construction", 0, 0, NULL},
    };
    cli_cmd cmd = {"eval", "[CKPT]", "validation loss vs the entropy floor, minimal pairs, fact recall, loss by position",
                   "CKPT defaults to runs/gpt.ckpt.  The validation split is scored sentence by sentence,\n"
                   "each sentence read after \".\" (the convention of the true floor).  A minimal pair\n"
                   "counts as right when the model gives the grammatical sentence the higher probability;\n"
                   "accuracy is reported by phenomenon (syntax: formal competence) and, on pairs that\n"
                   "differ in a named character's home or food, as fact recall (functional competence).",
                   "tinybrain eval runs/gpt.ckpt --json"};
    char *pos[1], err[TB_ERRLEN];
    int npos = cli_parse(&cmd, opts, NOPT(opts), argc, argv, pos, 0, 1), n_ablated = 0;
    lm_model m;
    if (lm_open(npos ? pos[0] : TB_RUNS_DIR "/gpt.ckpt", &m, err)) cli_die(1, "%s", err);
    int control = *ablate_file && ablate_sets > 0;
    if (!control && (*ablate_file || ablate_random > 0)) {
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
    tk.plots = plots;
    tinker_run(&tk, &m, &corp, val_tokens, pairs, json);
    lm_eval_result r;
    abl_control ac;
    if (control) {
        ablation_control(&m, ablate_file, ablate_layer, ablate_sets, (uint64_t)ablate_seed, &corp, val_tokens, pairs, &ac);
        r = ac.local;
        n_ablated = ac.k;
    } else if (lm_evaluate(&m.scorer, &m.tok, &corp, val_tokens, pairs, &r, err)) {
        cli_die(1, "%s: %s", m.path, err);
    }
    char *facts = facts_path(facts_opt, &corp, data_dir);
    if (facts && lm_fact_recall(&m.scorer, &m.tok, facts, &r, err)) cli_die(1, "%s: %s", m.path, err);
    free(facts);
    if (*plot_name && r.n_pos) draw_position_plots(plots, plot_name, &m, &corp, &r);
    ideal_split split;
    if (kl && ideal_loss_split(&m.scorer, &corp, val_tokens, &split, err)) cli_die(1, "%s: %s", m.path, err);
    print_eval(json, &m, &corp, &r, n_ablated, control ? &ac : NULL, kl ? &split : NULL, &tk);
    if (control) abl_control_free(&ac);
    tinker_free(&tk);
    free(pairs);
    lm_close(&m);
    corpus_free(&corp);
    return 0;
}
