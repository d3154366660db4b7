/* energy.c -- `tinybrain energy CKPT...`: how much work does each model do per token,
 * and what would it cost in energy?  Lesson 15.  The counts and the 45 nm energy model
 * are work.h; here are the options, the table, the JSON and the plot's name. */
#include "cli.h"
#include "commands.h"
#include "figures.h"
#include "rep.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Expand run folders into their step_*.ckpt files (in step order). */
static int expand(char **args, int nargs, char ***out) {
    int n = 0;
    *out = NULL;
    for (int a = 0; a < nargs; a++) {
        char **steps = NULL;
        int ns = 1;
        if (rep_is_dir(args[a])) {
            if (rep_list_steps(args[a], &steps, &ns)) cli_die(1, "%s: cannot read the folder", args[a]);
            if (ns == 0) cli_die(1, "%s: no step_*.ckpt checkpoints in this folder", args[a]);
        }
        char **t = realloc(*out, (size_t)(n + ns) * sizeof(char *));
        if (!t) cli_die(1, "out of memory");
        *out = t;
        for (int i = 0; i < ns; i++) (*out)[n++] = steps ? steps[i] : cli_strf("%s", args[a]);
        free(steps);
    }
    return n;
}

static void fmt_count(char *b, size_t n, double v) {
    if (v <= 0) snprintf(b, n, "-");
    else if (v >= 1e6) snprintf(b, n, "%.2fM", v / 1e6);
    else if (v >= 1e3) snprintf(b, n, "%.1fk", v / 1e3);
    else snprintf(b, n, "%.0f", v);
}

/* One JSON object: {"energy_source": ..., "models": [one object per checkpoint]}. */
static void print_json(const work_row *rows, char **paths, int n) {
    json_begin();
    json_writer *w = json_w();
    jw_str(w, "energy_source", work_energy_source);
    jw_array(w, "models", JW_COMPACT);
    for (int i = 0; i < n; i++) {
        const work_row *r = &rows[i];
        jw_object(w, NULL, JW_COMPACT);
        jw_str(w, "checkpoint", paths[i]);
        jw_str(w, "kind", r->kind);
        jw_int(w, "step", r->step);
        jw_num(w, "val_loss", r->val_loss);
        if (!strcmp(r->kind, "gpt")) {
            jw_num(w, "macs_per_token", r->macs);
            if (!isnan(r->mlp_active_frac)) {   /* counted while reading (lesson 18) */
                jw_num(w, "mlp_active_frac", r->mlp_active_frac);
                jw_num(w, "blocks_run", r->blocks_run);
            }
        } else {
            jw_num(w, "neuron_updates_per_token", r->neuron_updates);
            jw_num(w, "synaptic_events_per_token", r->syn_events);
            jw_num(w, "input_events_per_token", r->input_events);
            jw_num(w, "readout_events_per_token", r->readout_events);
            jw_num(w, "spikes_per_token", r->spikes);
            jw_num(w, "mean_rate_hz", r->rate_hz);
        }
        jw_num(w, "energy_pj_per_token_compute", r->e_compute);
        jw_num(w, "energy_pj_per_token_with_weight_reads", r->e_memory);
        jw_end(w);
    }
    jw_end(w);
    json_end();
}

static void print_table(const work_row *rows, char **paths, int n) {
    printf("work per token on the validation split; energy at 45 nm (Horowitz, ISSCC 2014):\n"
           "  fp32 MAC 4.6 pJ (mult 3.7 + add 0.9), fp32 add 0.9 pJ, neuron update 5.5 pJ, 32-bit SRAM weight read ~5 pJ\n");
    int w[10] = {-26, 4, 7, 8, 9, 9, 9, 9, 10, 10};
    const char *head[10] = {"checkpoint", "kind", "step", "val_loss", "MACs", "updates", "syn_ev", "rd+in_ev",
                            "nJ_comp", "nJ_+mem"};
    cli_table_row(10, w, head);
    cli_table_rule(10, w);
    for (int i = 0; i < n; i++) {
        const work_row *r = &rows[i];
        const char *base = strrchr(paths[i], '/');
        char c[10][CLI_NUMLEN];
        snprintf(c[1], CLI_NUMLEN, "%s", !strcmp(r->kind, "gpt") ? "gpt" : "snn");
        snprintf(c[2], CLI_NUMLEN, "%lld", r->step);
        snprintf(c[3], CLI_NUMLEN, "%.4f", r->val_loss);
        fmt_count(c[4], CLI_NUMLEN, r->macs);
        fmt_count(c[5], CLI_NUMLEN, r->neuron_updates);
        fmt_count(c[6], CLI_NUMLEN, r->syn_events);
        fmt_count(c[7], CLI_NUMLEN, r->readout_events + r->input_events);
        snprintf(c[8], CLI_NUMLEN, "%.2f", r->e_compute / 1000);
        snprintf(c[9], CLI_NUMLEN, "%.2f", r->e_memory / 1000);
        const char *cells[10] = {strlen(paths[i]) <= 26 || !base ? paths[i] : base + 1,
                                 c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9]};
        cli_table_row(10, w, cells);
    }
    printf("MACs: GPT multiply-accumulates; updates: neuron updates; syn_ev: recurrent synaptic events (spikes x fan-out);\n"
           "rd+in_ev: readout (spikes x vocabulary) and input additions; nJ per token, compute only / with weight reads.\n");
}

int cmd_energy(int argc, char **argv) {
    const char *data_dir, *plots, *name;
    long long val_tokens;
    int json;
    cli_opt opts[] = {
        {"val-tokens", 'l', &val_tokens, "20000", "tokens", "validation tokens to read (whole sentences; 0 = all)", 0, 1e9, NULL},
        {"data-dir", 's', &data_dir, TB_DATA_DIR, "", "toyworld data folder", 0, 0, NULL},
        {"plots", 's', &plots, TB_PLOTS_DIR, "", "folder for the energy-vs-loss plot", 0, 0, NULL},
        {"name", 's', &name, "energy", "", "plot file name", 0, 0, NULL},
        {"json", 'b', &json, NULL, "", "one JSON object (a \"models\" array, one per checkpoint)", 0, 0, NULL},
    };
    cli_cmd cmd = {"energy", "CKPT [CKPT or RUN_FOLDER ...]",
                   "work and energy per token: GPT multiply-accumulates vs spiking events (Horowitz 2014, 45 nm)",
                   "Reads the validation split with each model (GPT or spiking network; a run folder means all its "
                   "step_*.ckpt) and counts the work per token: MACs for the GPT; neuron updates, synaptic events "
                   "(spikes x fan-out), input and readout additions for the spiking network. Energy per token from "
                   "45 nm figures (Horowitz, ISSCC 2014): float32 multiply 3.7 pJ, add 0.9 pJ, 32-bit SRAM read ~5 pJ; "
                   "compute only, and with one weight read per MAC or event. Plots energy against validation loss.",
                   "tinybrain energy runs/gpt.ckpt runs/snn.ckpt"};
    char *pos[64], **paths, err[TB_ERRLEN];
    int npos = cli_parse(&cmd, opts, NOPT(opts), argc, argv, pos, 1, 64);
    int n = expand(pos, npos, &paths), rendered;
    work_row *rows = calloc((size_t)n, sizeof *rows);
    if (!rows) cli_die(1, "out of memory");
    cli_progress_start();
    for (int i = 0; i < n; i++) {
        if (work_measure(paths[i], data_dir, (long)val_tokens, &rows[i], err)) cli_die(1, "%s", err);
        cli_progress(i + 1, n, "checkpoints measured");
    }
    cli_progress_end();
    if (json) print_json(rows, paths, n);
    else print_table(rows, paths, n);
    if (fig_energy(plots, name, rows, n, &rendered, err)) cli_note("plot: %s", err);
    else if (!json) cli_note_plot(plots, name, rendered);
    for (int i = 0; i < n; i++) free(paths[i]);
    free(paths);
    free(rows);
    return 0;
}
