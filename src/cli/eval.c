/* eval.c -- `tinybrain eval CKPT`: how good is a trained language model?  Lesson 08.
 *
 * Validation loss against the true entropy floor and the n-gram baselines, minimal-pair
 * accuracy (agreement with and without an attractor noun in between), and the loss by
 * position in the sentence.  Works on any checkpoint kind that can score a token
 * sequence: the model is reached through an lm_scorer (lm.h), picked by the
 * checkpoint's kind in the table `kinds` below. */
#include "cli.h"
#include "commands.h"
#include "lm.h"
#include "srnn.h"
#include "plot.h"
#include "rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- model kinds `eval` understands ------------------------------------------------- */

typedef struct {
    gpt_model gpt;
    srnn_model srnn;
} eval_models;

static int open_gpt(const tb_ckpt *ck, eval_models *mm, lm_scorer *s, char *err) {
    if (gpt_from_ckpt(&mm->gpt, ck, err)) return -1;
    gpt_scorer(s, &mm->gpt);
    return 0;
}
static void close_gpt(eval_models *mm) { gpt_free(&mm->gpt); }

/* The spiking language model of `train-snn` (lesson 09). */
static int open_srnn(const tb_ckpt *ck, eval_models *mm, lm_scorer *s, char *err) {
    if (srnn_from_ckpt(&mm->srnn, ck, err)) return -1;
    srnn_scorer(s, &mm->srnn);
    return 0;
}
static void close_srnn(eval_models *mm) { srnn_free(&mm->srnn); }

/* To teach eval a new model kind: write its open/close pair (fill an lm_scorer from the
 * checkpoint) and add a line here. */
static const struct {
    const char *kind;
    int (*open)(const tb_ckpt *ck, eval_models *mm, lm_scorer *s, char *err);
    void (*close)(eval_models *mm);
} kinds[] = {
    {"gpt", open_gpt, close_gpt},
    {"srnn", open_srnn, close_srnn},
};

#define MAX_POS 16

int cmd_eval(int argc, char **argv) {
    const char *corpus_opt, *data_dir, *pairs_opt, *plot_name, *ablate;
    int json, val_tokens, ablate_layer, ablate_random;
    long long ablate_seed;
    cli_opt opts[] = {
        {"ablate", 's', &ablate, "", "", "GPT: zero these residual-stream units (file of indices, e.g. from localize --out)", 0, 0, NULL},
        {"ablate-layer", 'i', &ablate_layer, "-1", "", "GPT: layer whose residual units are zeroed (0 = embedding; -1 = last)", -1, 1000, NULL},
        {"ablate-random", 'i', &ablate_random, "0", "", "GPT: zero this many random units instead (the control for --ablate)", 0, 100000, NULL},
        {"ablate-seed", 'l', &ablate_seed, "1", "", "seed for --ablate-random", 0, 9.2e18, NULL},
        {"corpus", 's', &corpus_opt, "", "", "corpus to evaluate on (default: the one the model was trained on)", 0, 0, NULL},
        {"data-dir", 's', &data_dir, TB_DATA_DIR, "", "toyworld data folder", 0, 0, NULL},
        {"pairs", 's', &pairs_opt, "", "", "minimal pairs TSV (default: DATA_DIR/minimal_pairs.tsv)", 0, 0, NULL},
        {"val-tokens", 'i', &val_tokens, "0", "tokens", "score only the first N validation tokens (0: all)", 0, 1e9, NULL},
        {"plot", 's', &plot_name, "", "", "also draw the per-position loss as plots/NAME.png", 0, 0, NULL},
        {"json", 'b', &json, NULL, "", "print one JSON object", 0, 0, NULL},
    };
    cli_cmd cmd = {"eval", "[CKPT]", "validation loss vs the entropy floor, minimal pairs, loss by position",
                   "CKPT defaults to runs/gpt.ckpt.  The validation split is scored sentence by sentence,\n"
                   "each sentence read after \".\" (the convention of the true floor).  A minimal pair\n"
                   "counts as right when the model gives the grammatical sentence the higher probability.",
                   "tinybrain eval runs/gpt.ckpt --json"};
    char *pos[1];
    int npos = cli_parse(&cmd, opts, NOPT(opts), argc, argv, pos, 0, 1);
    const char *path = npos ? pos[0] : TB_RUNS_DIR "/gpt.ckpt";
    char err[TB_ERRLEN], e2[TB_ERRLEN];

    tb_ckpt ck;
    if (ckpt_load(&ck, path, NULL, err)) cli_die(1, "%s", err);
    int ki = -1;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strcmp(ck.kind, kinds[i].kind)) ki = (int)i;
    if (ki < 0) {
        char known[128] = "";
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
            snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "", kinds[i].kind);
        cli_die(1, "%s: a '%s' checkpoint; eval understands: %s", path, ck.kind, known);
    }
    eval_models mm;
    memset(&mm, 0, sizeof mm);
    lm_scorer sc;
    tb_tokenizer tok;
    if (kinds[ki].open(&ck, &mm, &sc, e2)) cli_die(1, "%s: %s", path, e2);
    if (tok_load(&tok, &ck, e2)) cli_die(1, "%s: %s", path, e2);
    int n_ablated = 0;
    if (*ablate || ablate_random > 0) {
        if (strcmp(ck.kind, "gpt")) cli_die(2, "--ablate/--ablate-random: only GPT checkpoints have ablation masks (%s is '%s')", path, ck.kind);
        int L = mm.gpt.cfg.n_layer, C = mm.gpt.cfg.d_model, layer = ablate_layer < 0 ? L : ablate_layer;
        if (layer > L) cli_die(2, "--ablate-layer: %d is out of range (0..%d)", layer, L);
        int *units = malloc((size_t)C * sizeof(int));
        if (*ablate) {
            char *text;
            size_t len;
            if (read_file(ablate, &text, &len, err)) cli_die(1, "%s", err);
            for (char *ln = strtok(text, "\n"); ln; ln = strtok(NULL, "\n")) {
                if (ln[0] == '#' || !ln[strspn(ln, " \t\r")]) continue;
                char *end;
                long u = strtol(ln, &end, 10);
                if (end == ln || u < 0 || u >= C) cli_die(1, "%s: '%s' is not a unit index in 0..%d", ablate, ln, C - 1);
                if (n_ablated < C) units[n_ablated++] = (int)u;
            }
            free(text);
            if (!n_ablated) cli_die(1, "%s: no unit indices", ablate);
        } else { /* random units: a partial Fisher-Yates draw */
            if (ablate_random > C) cli_die(2, "--ablate-random: %d units asked, the layer has %d", ablate_random, C);
            int *all = malloc((size_t)C * sizeof(int));
            for (int i = 0; i < C; i++) all[i] = i;
            tb_rng g;
            rng_seed(&g, (uint64_t)ablate_seed);
            for (int i = 0; i < ablate_random; i++) {
                int j = i + (int)rng_below(&g, (uint32_t)(C - i));
                int t = all[i]; all[i] = all[j]; all[j] = t;
                units[n_ablated++] = all[i];
            }
            free(all);
        }
        if (gpt_ablate(&mm.gpt, GPT_ABL_RESID, layer, units, n_ablated, err)) cli_die(1, "%s", err);
        if (!json) cli_note("ablated %d residual units of layer %d (%s)", n_ablated, layer, *ablate ? ablate : "random");
        free(units);
    }
    const char *corpus_name = *corpus_opt ? corpus_opt : ckpt_get(&ck, "corpus");
    const char *tokens = ckpt_get(&ck, "tokens");
    long long step = -1;
    const char *st = ckpt_get(&ck, "step");
    if (st) step = atoll(st);

    tb_corpus corp;
    if (corpus_load(&corp, corpus_name, data_dir, tokens, err)) cli_die(1, "%s", err);
    if (tok_check_same(&tok, &corp.tok, path, err)) cli_die(1, "%s (model and corpus '%s' do not match)", err, corp.name);

    float *nll = malloc((size_t)corp.n_val * sizeof(float));
    double val;
    if (!nll) cli_die(1, "out of memory");
    if (lm_val_loss(&sc, &corp, val_tokens, nll, &val, err)) cli_die(1, "%s", err);
    long n_scored = corp.n_val;
    if (val_tokens > 0 && val_tokens < corp.n_val) {
        n_scored = val_tokens;
        if (corp.eos >= 0) while (n_scored < corp.n_val && corp.val[n_scored - 1] != corp.eos) n_scored++;
    }
    /* the floor over exactly the scored tokens */
    double floor_nats = corp.floor_nats;
    if (corp.val_nll_true && n_scored < corp.n_val) {
        double s = 0;
        for (long i = 0; i < n_scored; i++) s += corp.val_nll_true[i];
        floor_nats = s / n_scored;
    }

    /* loss by position in the sentence (0 = first word after ".") */
    double pm[MAX_POS] = {0}, pf[MAX_POS] = {0};
    long pn[MAX_POS] = {0};
    int have_pos = corp.eos >= 0;
    if (have_pos) {
        int p = 0;
        for (long i = 0; i < n_scored; i++) {
            int k = p < MAX_POS - 1 ? p : MAX_POS - 1;
            pm[k] += nll[i];
            if (corp.val_nll_true) pf[k] += corp.val_nll_true[i];
            pn[k]++;
            p = corp.val[i] == corp.eos ? 0 : p + 1;
        }
    }
    int npos_rows = 0;
    for (int k = 0; k < MAX_POS; k++) if (pn[k]) npos_rows = k + 1;

    double acc[3] = {NAN, NAN, NAN};
    int npairs[3] = {0, 0, 0};
    int have_pairs = 0;
    char pairs_path[1100];
    snprintf(pairs_path, sizeof pairs_path, "%s", *pairs_opt ? pairs_opt : "");
    if (!*pairs_opt && !strcmp(corp.name, "toyworld")) snprintf(pairs_path, sizeof pairs_path, "%s/minimal_pairs.tsv", data_dir);
    if (*pairs_path) {
        if (lm_minimal_pairs(&sc, &tok, pairs_path, acc, npairs, err)) cli_die(1, "%s", err);
        have_pairs = 1;
    }

    if (*plot_name && have_pos) {
        double x[MAX_POS], ym[MAX_POS], yf[MAX_POS];
        int n = 0;
        for (int k = 0; k < npos_rows; k++)
            if (pn[k]) { x[n] = k; ym[n] = pm[k] / pn[k]; yf[n] = pf[k] / pn[k]; n++; }
        tb_series s[2] = {{"model", x, ym, n, "linespoints"}, {"true floor", x, yf, n, "linespoints"}};
        tb_lineplot lp = {"Loss by position in the sentence", "position (0 = first word after '.')",
                          "nats per token", 0, 0, 0, NAN, 0, 0};
        lp.ymax = NAN;
        int rendered;
        if (plot_lines(TB_PLOTS_DIR, plot_name, &lp, s, corp.val_nll_true ? 2 : 1, &rendered, err)) cli_die(1, "%s", err);
        if (!rendered) cli_note("gnuplot not found: render with gnuplot %s/%s.gp", TB_PLOTS_DIR, plot_name);
        else cli_note("wrote %s/%s.png", TB_PLOTS_DIR, plot_name);
    }

    if (json) {
        json_begin();
        json_str("checkpoint", path);
        json_str("kind", ck.kind);
        json_int("step", step);
        json_int("ablated_units", n_ablated);
        json_num("val_loss", val);
        json_num("floor_nats", floor_nats);
        json_num("excess_nats", val - floor_nats);
        json_num("bigram_nats", corp.bigram_nats);
        json_num("unigram_nats", corp.unigram_nats);
        json_int("val_tokens", n_scored);
        json_num("minimal_pair_acc", acc[0]);
        json_num("minimal_pair_acc_attractor", acc[1]);
        json_num("minimal_pair_acc_no_attractor", acc[2]);
        json_int("minimal_pairs", npairs[0]);
        if (have_pos) {
            double a[MAX_POS], b[MAX_POS];
            for (int k = 0; k < npos_rows; k++) { a[k] = pn[k] ? pm[k] / pn[k] : NAN; b[k] = pn[k] && corp.val_nll_true ? pf[k] / pn[k] : NAN; }
            json_num_array("position_loss", a, npos_rows);
            json_num_array("position_floor", b, npos_rows);
        }
        json_end();
    } else {
        printf("%s: %s checkpoint", path, ck.kind);
        if (step >= 0) printf(", step %lld", step);
        if (!strcmp(ck.kind, "gpt"))
            printf(", %d layers x %d heads, d_model %d, ctx %d", mm.gpt.cfg.n_layer, mm.gpt.cfg.n_head, mm.gpt.cfg.d_model,
                   mm.gpt.cfg.ctx);
        printf("\ncorpus %s, %ld validation tokens\n\n", corp.name, n_scored);
        printf("  val loss        %.4f nats/token\n", val);
        if (!isnan(floor_nats)) printf("  true floor      %.4f   (model - floor = %+.4f)\n", floor_nats, val - floor_nats);
        printf("  bigram          %.4f\n  unigram         %.4f\n", corp.bigram_nats, corp.unigram_nats);
        if (have_pairs)
            printf("  minimal pairs   %.1f%% of %d   (with attractor %.1f%% of %d, without %.1f%% of %d)\n", 100 * acc[0],
                   npairs[0], 100 * acc[1], npairs[1], 100 * acc[2], npairs[2]);
        if (have_pos) {
            printf("\nloss by position in the sentence (nats/token):\n");
            int w[4] = {8, 8, 10, 10};
            const char *hdr[4] = {"position", "tokens", "model", "floor"};
            cli_table_row(4, w, hdr);
            cli_table_rule(4, w);
            for (int k = 0; k < npos_rows; k++) {
                char c0[16], c1[16], c2[16], c3[16];
                snprintf(c0, sizeof c0, k == MAX_POS - 1 ? "%d+" : "%d", k);
                snprintf(c1, sizeof c1, "%ld", pn[k]);
                snprintf(c2, sizeof c2, "%.4f", pn[k] ? pm[k] / pn[k] : NAN);
                snprintf(c3, sizeof c3, corp.val_nll_true ? "%.4f" : "-", pn[k] ? pf[k] / pn[k] : NAN);
                const char *cells[4] = {c0, c1, c2, c3};
                cli_table_row(4, w, cells);
            }
        }
    }
    free(nll);
    kinds[ki].close(&mm);
    tok_free(&tok);
    corpus_free(&corp);
    ckpt_free(&ck);
    return 0;
}
