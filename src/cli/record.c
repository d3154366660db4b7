/* record.c -- `tinybrain record MODEL --stimuli FILE --out DIR`: play a trained model the
 * probe stimuli and save what its units did, one .npy per layer, plus manifest.json.
 * Lesson 13.  See recording.h for what is recorded from each model kind.
 *
 *   GPT:  DIR/00_embed.npy, DIR/01_block1.npy, ...   stimuli x d_model (float32)
 *         with --sites all also DIR/attn/NN_blockL_attn.npy and DIR/mlp/NN_blockL_mlp.npy
 *   SNN:  DIR/rates.npy                              trials x stimuli x neurons (Hz)
 *         with Dale's law also DIR/subpop/rates_exc.npy and rates_inh.npy
 * so that DIR itself is a folder `align` and `compare` read as "the model's layers".
 */
#include "cli.h"
#include "commands.h"
#include "recording.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void save_layer(const char *dir, const char *sub, const rep_layer *L, char *json, size_t cap) {
    char path[1400], err[TB_ERRLEN];
    if (sub) snprintf(path, sizeof path, "%s/%s/%s.npy", dir, sub, L->name);
    else snprintf(path, sizeof path, "%s/%s.npy", dir, L->name);
    size_t count = (size_t)L->trials * L->n * L->p;
    float *f = malloc(count * sizeof(float));
    if (!f) cli_die(1, "out of memory");
    const double *src = L->trials > 1 ? L->trial : L->mean;
    for (size_t i = 0; i < count; i++) f[i] = (float)src[i];
    int64_t shape[3] = {L->trials, L->n, L->p};
    int rc = L->trials > 1 ? npy_write_f32(path, f, 3, shape, err) : npy_write_f32(path, f, 2, shape + 1, err);
    free(f);
    if (rc) cli_die(1, "%s", err);
    size_t used = strlen(json);
    if (L->trials > 1)
        snprintf(json + used, cap - used, "%s\n    {\"file\": \"%s%s%s.npy\", \"shape\": [%d, %d, %d], \"dims\": \"trials x stimuli x units\"}",
                 used > 2 ? "," : "", sub ? sub : "", sub ? "/" : "", L->name, L->trials, L->n, L->p);
    else
        snprintf(json + used, cap - used, "%s\n    {\"file\": \"%s%s%s.npy\", \"shape\": [%d, %d], \"dims\": \"stimuli x units\"}",
                 used > 2 ? "," : "", sub ? sub : "", sub ? "/" : "", L->name, L->n, L->p);
}

int cmd_record(int argc, char **argv) {
    const char *stimuli, *out, *pool_s, *sites_s;
    int trials;
    long long seed;
    double noise_hz;
    cli_opt opts[] = {
        {"stimuli", 's', &stimuli, "data/toyworld/probes_sentences.txt", "", "one stimulus per line (or a .tsv with a 'sentence' column)", 0, 0, NULL},
        {"out", 's', &out, NULL, "", "folder for the arrays and manifest.json (required)", 0, 0, NULL},
        {"pool", 'c', &pool_s, "mean", "", "over a stimulus's tokens: mean, or the last token", 0, 0, "mean|last"},
        {"trials", 'i', &trials, "10", "", "spiking network: repetitions with fresh background noise", 1, 1000, NULL},
        {"noise-hz", 'f', &noise_hz, "-1", "Hz", "spiking network: background noise rate (-1: the model's own)", -1, 1e5, NULL},
        {"seed", 'l', &seed, "1", "", "spiking network: seed of the trial noise", 0, 9.2e18, NULL},
        {"sites", 'c', &sites_s, "resid", "", "GPT: residual stream only, or also attention outputs and MLP units", 0, 0, "resid|all"},
    };
    cli_cmd cmd = {"record", "MODEL",
                   "play a trained model the probe stimuli; save each layer's activity as .npy",
                   "MODEL is a checkpoint from train (GPT) or train-snn (spiking network). Each stimulus is read "
                   "after \".\" as its left context. GPT: the residual stream after the embedding and each block, "
                   "pooled over the stimulus's tokens (stimuli x d_model per layer; deterministic, 1 trial). "
                   "Spiking network: firing rates in Hz per neuron, trials x stimuli x neurons, each trial with "
                   "fresh Poisson background noise (what the noise ceiling needs). Writes manifest.json beside.",
                   "tinybrain record runs/gpt.ckpt --out runs/rec/gpt && tinybrain record runs/snn.ckpt --out runs/rec/snn"};
    char *pos[1];
    cli_parse(&cmd, opts, NOPT(opts), argc, argv, pos, 1, 1);
    if (!out) cli_die(2, "--out DIR is required (where the .npy files go)");
    char err[TB_ERRLEN];
    rec_model m;
    if (rec_open(pos[0], &m, err)) cli_die(1, "%s", err);
    rec_stimuli s;
    if (rec_stimuli_load(stimuli, &m.tok, &s, err)) cli_die(1, "%s", err);
    rec_opts o = {!strcmp(pool_s, "last"), trials, !strcmp(sites_s, "all"), (uint64_t)seed, noise_hz};
    int is_gpt = !strcmp(m.kind, "gpt");
    if (is_gpt && trials != 10 && trials != 1) cli_note("the GPT is deterministic: recording 1 trial (--trials applies to spiking networks)");
    if (is_gpt) o.trials = 1;
    rep_set r;
    if (rec_record(&m, &s, &o, &r, err)) cli_die(1, "%s: %s", pos[0], err);
    char sub[1200];
    if (make_dirs(out, err)) cli_die(1, "%s", err);
    size_t cap = 65536;
    char *arrays = calloc(cap, 1);
    strcpy(arrays, "[");
    int nres = rec_n_resid(&m);
    for (int l = 0; l < r.n_layers; l++) {
        const char *folder = NULL;
        if (is_gpt && l >= nres) folder = strstr(r.layer[l].name, "_attn") ? "attn" : "mlp";
        if (!is_gpt && l > 0) folder = "subpop";
        if (folder) {
            snprintf(sub, sizeof sub, "%s/%s", out, folder);
            if (make_dirs(sub, err)) cli_die(1, "%s", err);
        }
        save_layer(out, folder, &r.layer[l], arrays, cap);
    }
    strcat(arrays, "\n  ]");
    char esc_model[2100], esc_stim[2100], *manifest = malloc(cap + 8192), path[1300];
    json_escape(esc_model, sizeof esc_model, pos[0]);
    json_escape(esc_stim, sizeof esc_stim, stimuli);
    snprintf(manifest, cap + 8192,
             "{\n  \"model\": %s,\n  \"kind\": \"%s\",\n  \"step\": %lld,\n  \"stimuli\": %s,\n  \"n_stimuli\": %d,\n"
             "  \"pool\": \"%s\",\n  \"trials\": %d,\n  \"units\": \"%s\",\n  \"arrays\": %s\n}\n",
             esc_model, m.kind, m.step, esc_stim, s.n, pool_s, o.trials,
             is_gpt ? "activations (residual stream, pooled over tokens)" : "firing rate, Hz", arrays);
    snprintf(path, sizeof path, "%s/manifest.json", out);
    if (write_text_file(path, manifest, err)) cli_die(1, "%s", err);
    printf("recorded %d stimuli from %s (%s, step %lld) into %s/:\n", s.n, pos[0], m.kind, m.step, out);
    for (int l = 0; l < r.n_layers; l++) {
        const rep_layer *L = &r.layer[l];
        if (L->trials > 1) printf("  %-22s %d trials x %d stimuli x %d units\n", L->name, L->trials, L->n, L->p);
        else printf("  %-22s %d stimuli x %d units\n", L->name, L->n, L->p);
    }
    if (!is_gpt) {
        const rep_layer *R = &r.layer[0];
        double mean = 0;
        int silent = 0;
        for (int j = 0; j < R->p; j++) {
            double c = 0;
            for (int i = 0; i < R->n; i++) c += R->mean[(size_t)i * R->p + j];
            mean += c / R->n;
            silent += c == 0;
        }
        printf("  mean rate %.1f Hz; %d of %d neurons silent on every stimulus\n", mean / R->p, silent, R->p);
    }
    printf("  manifest: %s\n", path);
    free(arrays);
    free(manifest);
    rep_free(&r);
    rec_stimuli_free(&s);
    rec_close(&m);
    return 0;
}
