/* record.c -- `tinybrain record MODEL --stimuli FILE --out DIR`: play a trained model the
 * probe stimuli and save what its units did, one .npy per layer, plus manifest.json.
 * Lesson 13.  See recording.h for what is recorded and how the folder is laid out. */
#include "cli.h"
#include "commands.h"
#include "ideal.h"
#include "recording.h"

#include <stdio.h>
#include <string.h>

static void print_summary(const lm_model *m, const rec_stimuli *s, const rep_set *r, const char *out, int no_language) {
    printf("recorded %d stimuli from %s (%s, step %lld%s) into %s/:\n", s->n, m->path, m->kind, m->step,
           no_language ? "; no-language control: input cut, noise only" : "", out);
    for (int l = 0; l < r->n_layers; l++) {
        const rep_layer *L = &r->layer[l];
        if (L->trials > 1) printf("  %-22s %d trials x %d stimuli x %d units\n", L->name, L->trials, L->n, L->p);
        else printf("  %-22s %d stimuli x %d units\n", L->name, L->n, L->p);
    }
    if (strcmp(m->kind, "gpt")) {
        double mean;
        int silent;
        rec_rate_summary(&r->layer[0], &mean, &silent);
        printf("  mean rate %.1f Hz; %d of %d neurons silent on every stimulus\n", mean, silent, r->layer[0].p);
    }
    printf("  manifest: %s/manifest.json\n", out);
}

/* `record ideal`: the grammar's ideal observer instead of a model (ideal.h). */
static void record_ideal(const char *stimuli, const char *out) {
    char err[TB_ERRLEN];
    ideal_rec r;
    if (ideal_record(stimuli, &r, err)) cli_die(1, "ideal observer: %s", err);
    if (ideal_save(out, stimuli, &r, err)) cli_die(1, "%s", err);
    printf("recorded the ideal observer (toyworld's forward algorithm: %d hidden states, %d words) on %d stimuli into %s/:\n",
           r.n_states, r.n_words, r.rep.layer[0].n, out);
    for (int l = 0; l < r.rep.n_layers; l++)
        printf("  %-22s %d stimuli x %d units (the ones that vary; names in columns.tsv)\n", r.rep.layer[l].name,
               r.rep.layer[l].n, r.rep.layer[l].p);
    printf("  manifest: %s/manifest.json\n", out);
    ideal_rec_free(&r);
}

int cmd_record(int argc, char **argv) {
    const char *stimuli, *out, *pool_s, *sites_s;
    int trials, no_language;
    long long seed;
    double noise_hz;
    cli_opt opts[] = {
        {"stimuli", 's', &stimuli, TB_DATA_DIR "/probes_sentences.txt", "", "one stimulus per line (or a .tsv with a 'sentence' column)", 0, 0, NULL},
        {"out", 's', &out, NULL, "", "folder for the arrays and manifest.json (required)", 0, 0, NULL},
        {"pool", 'c', &pool_s, "mean", "", "over a stimulus's tokens: mean, or the last token", 0, 0, "mean|last"},
        {"trials", 'i', &trials, "10", "", "spiking network: repetitions with fresh background noise", 1, 1000, NULL},
        {"noise-hz", 'f', &noise_hz, "-1", "Hz", "spiking network: background noise rate (-1: the model's own)", -1, 1e5, NULL},
        {"seed", 'l', &seed, "1", "", "spiking network: seed of the trial noise", 0, 9.2e18, NULL},
        {"sites", 'c', &sites_s, "resid", "", "GPT: residual stream only, or also attention outputs and MLP units", 0, 0, "resid|all"},
        {"no-language", 'b', &no_language, NULL, "", "spiking network: the negative control, its language input cut (noise only)", 0, 0, NULL},
    };
    cli_cmd cmd = {"record", "MODEL|ideal",
                   "play a trained model the probe stimuli; save each layer's activity as .npy",
                   "MODEL is a checkpoint from train (GPT) or train-snn (spiking network). Each stimulus is read "
                   "after \".\" as its left context. GPT: the residual stream after the embedding and each block, "
                   "pooled over the stimulus's tokens (stimuli x d_model per layer; deterministic, 1 trial). "
                   "Spiking network: firing rates in Hz per neuron, trials x stimuli x neurons, each trial with "
                   "fresh Poisson background noise (what the noise ceiling needs). MODEL 'ideal' records the grammar's ideal "
                   "observer instead: its belief over hidden states and the true next-word distribution (mean over "
                   "tokens and after the last word; lesson 16). Writes manifest.json beside. "
                   "--no-language records the same network with its input weights zeroed: background noise only, the "
                   "negative control whose alignment with any model should be ~ 0.",
                   "tinybrain record runs/gpt.ckpt --out runs/rec/gpt && tinybrain record runs/snn.ckpt --out runs/rec/snn"};
    char *pos[1];
    cli_parse(&cmd, opts, NOPT(opts), argc, argv, pos, 1, 1);
    if (!out) cli_die(2, "--out DIR is required (where the .npy files go)");
    if (!strcmp(pos[0], "ideal")) {
        record_ideal(stimuli, out);
        return 0;
    }
    char err[TB_ERRLEN];
    lm_model m;
    if (lm_open(pos[0], &m, err)) cli_die(1, "%s", err);
    if (no_language && rec_no_language(&m, err)) cli_die(2, "--no-language: %s", err);
    rec_stimuli s;
    if (rec_stimuli_load(stimuli, &m.tok, &s, err)) cli_die(1, "%s", err);
    rec_opts o = {!strcmp(pool_s, "last"), trials, !strcmp(sites_s, "all"), (uint64_t)seed, noise_hz,
                  cli_progress_hook("recording")};
    if (!strcmp(m.kind, "gpt")) {
        if (trials != 10 && trials != 1) cli_note("the GPT is deterministic: recording 1 trial (--trials applies to spiking networks)");
        o.trials = 1;
    }
    rep_set r;
    cli_progress_start();
    int rc = rec_record(&m, &s, &o, &r, err);
    cli_progress_end();
    if (rc) cli_die(1, "%s: %s", pos[0], err);
    if (rec_save(out, &m, stimuli, &s, &o, &r, err)) cli_die(1, "%s", err);
    cli_log_command(out, argc, argv);
    print_summary(&m, &s, &r, out, no_language);
    rep_free(&r);
    rec_stimuli_free(&s);
    lm_close(&m);
    return 0;
}
