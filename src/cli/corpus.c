/* corpus.c -- `tinybrain corpus`: write the toyworld corpus, or print its entropy floor
 * and baselines (--stats), score a sentence under the grammar (--score), and draw the
 * corpus tour (word frequencies, category co-occurrence).  Lesson 01. */
#include "cli.h"
#include "commands.h"
#include "corpus_plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const cli_cmd CMD = {
    "corpus", "",
    "write the toyworld corpus, or print its entropy floor and baselines",
    "Without --stats: generate every file of the toyworld corpus into --out from --seed\n"
    "(train.txt val.txt vocab.tsv probes_*.txt probes_*.tsv minimal_pairs.tsv\n"
    "fact_pairs.tsv facts.tsv stats.json; deterministic, the same bytes on every platform).\n"
    "--stats: load the corpus and print the true cross-entropy of the validation split\n"
    "(the floor no model can beat) and the unigram/bigram baselines fitted on train, and\n"
    "draw the corpus tour into plots/ (corpus_zipf.png, corpus_categories.png) unless\n"
    "--no-plots.  --corpus FILE: any text file instead (split 90/10, --tokens char|word;\n"
    "implies --stats; no floor, since nobody knows its true distribution).\n"
    "--score \"SENTENCE\": the exact probability of every word of a toyworld sentence.",
    "tinybrain corpus --stats"};

static void note_picture(const tb_picture *pic) {
    if (pic->rendered) cli_note("wrote %s", pic->path);
    else cli_note("gnuplot not found: render with gnuplot %s", pic->path);
}

/* The corpus tour: word frequencies, and (toyworld) noun categories. */
static void draw_tour(const tb_corpus *c, const char *dir) {
    char err[TB_ERRLEN];
    tb_picture pic;
    if (corpus_plot_zipf(c, dir, &pic, err)) cli_die(1, "%s", err);
    note_picture(&pic);
    if (c->eos < 0) return;
    if (corpus_plot_categories(c, dir, &pic, err)) cli_die(1, "%s", err);
    note_picture(&pic);
}

static void print_json(const tb_corpus *c) {
    double mean; int mn, mx;
    corpus_sentence_lengths(c, &mean, &mn, &mx);
    double l2 = log(2.0);
    json_begin();
    json_str("corpus", c->name);
    json_str("tokens", c->tok.kind == TOK_CHAR ? "char" : "word");
    json_num("floor_nats", c->floor_nats);
    json_num("floor_bits", c->floor_nats / l2);
    json_num("unigram_nats", c->unigram_nats);
    json_num("unigram_bits", c->unigram_nats / l2);
    json_num("bigram_nats", c->bigram_nats);
    json_num("bigram_bits", c->bigram_nats / l2);
    json_num("bigram_lambda", c->bigram_lambda);
    json_int("vocab_size", c->tok.vocab_size);
    json_int("train_tokens", c->n_train);
    json_int("val_tokens", c->n_val);
    if (c->eos >= 0) {
        json_int("train_sentences", c->n_train_sentences);
        json_int("val_sentences", c->n_val_sentences);
        json_num("mean_sentence_tokens", mean);
        json_int("min_sentence_tokens", mn);
        json_int("max_sentence_tokens", mx);
    }
    json_end();
}

static void print_row(const char *name, double nats) {
    if (isnan(nats)) { printf("  %-28s %10s %10s %11s\n", name, "unknown", "-", "-"); return; }
    printf("  %-28s %10.4f %10.4f %11.2f\n", name, nats, nats / log(2.0), exp(nats));
}

static void print_stats(const tb_corpus *c) {
    double mean; int mn, mx;
    if (c->eos >= 0) {
        int nw = 0;
        for (int i = 0; i < c->tok.vocab_size; i++) nw += !strcmp(c->pos[i], "NONWORD");
        printf("toyworld corpus: %d tokens in the vocabulary (%d words + %d probe nonwords)\n",
               c->tok.vocab_size, c->tok.vocab_size - nw, nw);
        corpus_sentence_lengths(c, &mean, &mn, &mx);
        printf("train: %ld sentences, %ld tokens;  val: %ld sentences, %ld tokens\n",
               c->n_train_sentences, c->n_train, c->n_val_sentences, c->n_val);
        printf("sentence length (tokens incl. \".\"): mean %.2f, min %d, max %d\n", mean, mn, mx);
    } else {
        printf("%s: %s tokens, vocabulary %d;  train %ld tokens, val %ld tokens (90/10)\n",
               c->name, c->tok.kind == TOK_CHAR ? "character" : "word", c->tok.vocab_size,
               c->n_train, c->n_val);
    }
    printf("\ncross-entropy on val            nats/token  bits/token  perplexity\n");
    print_row("entropy floor (true grammar)", c->floor_nats);
    char bl[64];
    snprintf(bl, sizeof bl, "bigram (lambda %.3f)", c->bigram_lambda);
    print_row(bl, c->bigram_nats);
    print_row("unigram (add-one)", c->unigram_nats);
    if (!isnan(c->floor_nats))
        printf("\nA model that learns the grammar perfectly scores the floor; the gap bigram - "
               "floor\n(%.4f nats) is what remembering more than one word is worth.\n",
               c->bigram_nats - c->floor_nats);
    if (c->eos >= 0) {   /* a few example sentences from val */
        printf("\nexamples (val):\n");
        long start = 0;
        for (long i = 0, shown = 0; i < c->n_val && shown < 4; i++) {
            if (c->val[i] != c->eos) continue;
            char *s = NULL, err[TB_ERRLEN];
            if (tok_decode(&c->tok, c->val + start, (int)(i + 1 - start), &s, err) == 0)
                printf("  %s\n", s);
            free(s);
            start = i + 1;
            shown++;
        }
    } else {             /* the beginning of val, newlines shown as " | " */
        printf("\nval begins:\n  ");
        int col = 0;
        for (long i = 0; i < c->n_val && i < (c->tok.kind == TOK_CHAR ? 160 : 30); i++) {
            const char *s = c->tok.tokens[c->val[i]];
            if (c->tok.kind == TOK_WORD && i > 0) { putchar(' '); col++; }
            for (; *s; s++) {
                if (*s == '\n') { fputs(" | ", stdout); col += 3; }
                else if (*s == '\t' || *s == '\r') { putchar(' '); col++; }
                else { putchar(*s); col++; }
            }
            if (col > 76) { fputs("\n  ", stdout); col = 0; }
        }
        printf("\n");
    }
}

/* --score: every word's exact probability and the grammar's best guesses there. */
static void score_sentence(const tb_corpus *c, const char *text, int json) {
    char err[TB_ERRLEN];
    toyworld_score s;
    if (toyworld_score_text(c, text, &s, err)) cli_die(1, "--score: %s", err);
    if (json) {
        double *v = malloc((size_t)s.n * sizeof *v + 1);
        if (!v) cli_die(1, "out of memory");
        for (int i = 0; i < s.n; i++) v[i] = s.nll[i];
        json_begin();
        json_str("sentence", text);
        json_num("nll_nats", s.total);
        json_num("probability", exp(-s.total));
        json_num_array("token_nll_nats", v, s.n);
        json_end();
        free(v);
        toyworld_score_free(&s);
        return;
    }
    printf("%-10s %10s %9s   grammar's top guesses at this position\n", "token", "P(token)", "-ln P");
    for (int t = 0; t < s.n; t++) {
        const char *word = c->tok.tokens[s.ids[t]];
        if (!s.possible[t]) { printf("%-10s %10s %9s   (prefix impossible)\n", word, "0", "inf"); continue; }
        printf("%-10s %10.6f %9.4f  ", word, exp(-(double)s.nll[t]),
               (double)s.nll[t] + 0.0);   /* + 0.0: print -ln 1 as 0.0000, not -0.0000 */
        for (int k = 0; k < TOYWORLD_TOP && s.top[t * TOYWORLD_TOP + k] >= 0; k++)
            printf(" %s %.3f", c->tok.tokens[s.top[t * TOYWORLD_TOP + k]], s.top_p[t * TOYWORLD_TOP + k]);
        printf("\n");
    }
    if (isfinite(s.total))
        printf("total: -ln P(sentence) = %.4f nats  (P = %.3g, %.4f nats/token)\n", s.total, exp(-s.total), s.total / s.n);
    else
        printf("total: P(sentence) = 0 -- the grammar can never produce it\n");
    toyworld_score_free(&s);
}

int cmd_corpus(int argc, char **argv) {
    const char *out, *corpus_path, *tokens, *plots_dir, *score;
    long long seed;
    int stats, json, no_plots;
    tb_toyworld_opts o;
    toyworld_default_opts(&o);
    cli_opt opts[] = {
        {"out", 's', &out, TB_DATA_DIR, "", "folder to write the toyworld files to (--stats: read from)", 0, 0, NULL},
        {"seed", 'l', &seed, "1", "", "random seed of the generated corpus", 0, 9.2e18, NULL},
        {"train-sentences", 'i', &o.n_train_sentences, "20000", "sentences", "training split size", 10, 5000000, NULL},
        {"val-sentences", 'i', &o.n_val_sentences, "2000", "sentences", "validation split size", 1, 1000000, NULL},
        {"probe-sentences", 'i', &o.n_probe_sentences, "240", "sentences", "probe stimuli (balanced over subject category x number)", 1, 100000, NULL},
        {"minimal-pairs", 'i', &o.n_minimal_pairs, "480", "pairs", "syntax minimal pairs (six phenomena in turn)", 1, 100000, NULL},
        {"fact-pairs", 'i', &o.n_fact_pairs, "160", "pairs", "fact-recall pairs (homes and favourite foods)", 1, 100000, NULL},
        {"twin-pairs", 'i', &o.n_twin_pairs, "120", "pairs", "same-words twins (subject/object or subject/attractor swapped)", 1, 100000, NULL},
        {"stats", 'b', &stats, NULL, "", "load the corpus and print floor, baselines, sizes (no writing)", 0, 0, NULL},
        {"json", 'b', &json, NULL, "", "print one JSON object instead of the text report", 0, 0, NULL},
        {"corpus", 's', &corpus_path, NULL, "", "a text file instead of toyworld (implies --stats)", 0, 0, NULL},
        {"tokens", 'c', &tokens, "char", "", "tokenizer for --corpus (toyworld is always word)", 0, 0, "char|word"},
        {"score", 's', &score, NULL, "", "print the exact probability of each word of a toyworld sentence", 0, 0, NULL},
        {"plots", 's', &plots_dir, TB_PLOTS_DIR, "", "folder for the corpus tour's pictures (drawn with --stats)", 0, 0, NULL},
        {"no-plots", 'b', &no_plots, NULL, "", "do not draw the pictures", 0, 0, NULL},
    };
    char *pos[1];
    cli_parse(&CMD, opts, NOPT(opts), argc, argv, pos, 0, 0);
    char err[TB_ERRLEN];
    if (corpus_path || score) stats = 1;
    if (!stats) {
        if (toyworld_write(out, (uint64_t)seed, &o, err)) cli_die(1, "%s", err);
        if (!json) cli_note("wrote %s/ (seed %lld)", out, seed);
    }
    tb_corpus c;
    if (corpus_load(&c, corpus_path, out, corpus_path ? tokens : "word", err)) {
        cli_die(1, "%s", err);
    }
    if (score) {
        if (c.eos < 0) cli_die(2, "--score needs the toyworld corpus (not --corpus)");
        score_sentence(&c, score, json);
        corpus_free(&c);
        return 0;
    }
    if (json) print_json(&c);
    else if (stats) print_stats(&c);
    else {
        printf("wrote %s: %ld train + %ld val sentences (%ld + %ld tokens), vocabulary %d\n", out,
               c.n_train_sentences, c.n_val_sentences, c.n_train, c.n_val, c.tok.vocab_size);
        printf("  train.txt val.txt vocab.tsv probes_sentences.txt probes_sentences.tsv\n"
               "  probes_scrambled.txt probes_nonwords.txt probes_twins.txt probes_twins.tsv\n"
               "  minimal_pairs.tsv fact_pairs.tsv facts.tsv stats.json\n");
        printf("entropy floor %.4f nats/token;  bigram %.4f;  unigram %.4f  (more: tinybrain "
               "corpus --stats)\n", c.floor_nats, c.bigram_nats, c.unigram_nats);
    }
    if (stats && !no_plots) draw_tour(&c, plots_dir);
    corpus_free(&c);
    return 0;
}
