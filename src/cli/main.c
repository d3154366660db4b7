/* main.c -- tinybrain's front door: `tinybrain CMD [options]`.
 * Each command lives in its own src/cli/CMD.c and is listed in the table below. */
#include "cli.h"
#include "commands.h"
#include "kernels.h"
#include "threads.h"

#include <stdio.h>
#include <string.h>

/* One line per command: name, entry point, one-line summary (shown by `help`). */
static const struct { const char *name; cli_main_fn fn; const char *summary; } commands[] = {
    {"corpus", cmd_corpus, "write the toyworld corpus; --stats: entropy floor and baselines"},
    {"bench", cmd_bench, "speed tables: bench kernels|gpt|snn|snn-train|align"},
    {"neuron", cmd_neuron, "one neuron (lif|izh|adex|hh): voltage trace, spikes, --fi f-I curve"},
    {"snn", cmd_snn, "spiking networks: snn run (CUBA/COBA, E/I) | snn stdp (plasticity)"},
    {"train", cmd_train, "train the tiny GPT (toyworld by default): loss curve, checkpoints, resume"},
    {"sample", cmd_sample, "generate text from a trained GPT (prompt, temperature, top-k, seed)"},
    {"eval", cmd_eval, "val loss vs the entropy floor and n-gram baselines, minimal pairs, loss by position"},
    {"attention", cmd_attention, "attention-map PNG for a sentence: one panel per layer and head"},
    {"record", cmd_record, "play a trained model the probe stimuli; save each layer's activity (.npy + manifest)"},
    {"compare", cmd_compare, "brain meets model: GPT layers vs the spiking network, model RDMs, --over-training"},
    {"energy", cmd_energy, "work and energy per token: GPT multiply-accumulates vs spiking events (45 nm estimate)"},
    {"align", cmd_align, "compare two representations: RSA, CKA, CCA/SVCCA/PWCCA, Procrustes, encoding models"},
    {"scan", cmd_scan, "the virtual scanner: fMRI/ECoG of spiking networks, subjects, fROIs, ceilings, true code"},
    {"localize", cmd_localize, "the language localizer: units more active for sentences than for nonwords"},
    {"sweep", cmd_sweep, "train every combination of --vary flag values x seeds (cached); table and plots with seed intervals"},
    {"study", cmd_study, "the seed paper's experiment at toy scale: findings S1-S7 with computed verdicts, report.html"},
    {"report", cmd_report, "a run as one self-contained HTML page: commands, configuration, numbers, pictures"},
    {"tweaks", cmd_tweaks, "the tinkerer's table: dense vs experts vs sparse vs a skipped block, over seeds"},
    {"patch", cmd_patch, "activation patching on the agreement minimal pairs: residual stream, heads, MLP units, neuron groups"},
    {"train-snn", cmd_train_snn, "train a recurrent spiking network on toyworld: BPTT (surrogate gradients), reservoir, STDP"},
};

static void usage(FILE *f) {
    fprintf(f,
            "tinybrain %s -- a from-scratch lab for comparing a tiny GPT with a spiking brain\n\n"
            "usage: tinybrain COMMAND [options]   (tinybrain COMMAND --help for its options)\n\n"
            "commands:\n",
            TB_VERSION);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "  %-12s %s\n", "help", "this list");
    fprintf(f, "  %-12s %s\n", "version", "print the version and the kernel set this machine runs");
    fprintf(f, "\nThe lessons in lessons/ walk through every command; start with lessons/00-*.md.\n");
}

/* version's second line: the kernel set this machine runs (TINYBRAIN_KERNELS honoured) and
 * the architecture, e.g. "kernels avx2 (x86_64)": results are bit-identical only within
 * one of these (include/threads.h, rules 3 and 4), so the lesson runner reads it. */
static int print_kernels(void) {
    char err[256];
    if (kernels_init(NULL, err) != 0) {
        fprintf(stderr, "tinybrain: TINYBRAIN_KERNELS: %s\n", err);
        return 2;
    }
#if defined(__x86_64__)
    const char *arch = "x86_64";
#elif defined(__aarch64__)
    const char *arch = "aarch64";
#else
    const char *arch = "other";
#endif
    printf("kernels %s (%s)\n", tb_kern->name, arch);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) { usage(stderr); return 2; }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        if (argc == 2) { usage(stdout); return 0; }
        for (size_t i = 0; argc == 3 && i < sizeof commands / sizeof commands[0]; i++)
            if (!strcmp(argv[2], commands[i].name)) { /* tinybrain help CMD == tinybrain CMD --help */
                char *a[] = {argv[2], "--help", NULL};
                return commands[i].fn(2, a);
            }
        if (argc == 3) fprintf(stderr, "tinybrain help: unknown command '%s' (try: tinybrain help)\n", argv[2]);
        else fprintf(stderr, "tinybrain help: takes one command name (try: tinybrain help)\n");
        return 2;
    }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        if (argc > 2) {
            fprintf(stderr, "tinybrain: version takes no arguments (got '%s')\n", argv[2]);
            return 2;
        }
        printf("tinybrain %s\n", TB_VERSION);
        return print_kernels();
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(cmd, commands[i].name)) {
            int rc = commands[i].fn(argc - 1, argv + 1);
            tb_threads_shutdown();
            return rc;
        }
    fprintf(stderr, "tinybrain: unknown command '%s' (try: tinybrain help)\n", cmd);
    return 2;
}
