/* commands.h -- the entry point of every command (src/cli/CMD.c defines cmd_CMD) and of
 * every speed table (src/cli/bench_WHAT.c defines bench_WHAT_main).  main.c and bench.c
 * hold the tables that map names to these; argv[0] is the command's own name. */
#ifndef TB_COMMANDS_H
#define TB_COMMANDS_H

#include "gpt.h"
#include "ideal.h"
#include "scan.h"
#include "tokenizer.h"

int cmd_corpus(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_neuron(int argc, char **argv);
int cmd_snn(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_attention(int argc, char **argv);
int cmd_train_snn(int argc, char **argv);
int cmd_align(int argc, char **argv);
int cmd_localize(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_energy(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_study(int argc, char **argv);
int cmd_scan(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_patch(int argc, char **argv);
int cmd_tweaks(int argc, char **argv);

/* What `train` and `train-snn` share (train.c; the run itself is include/run.h):
 * train_open  checks the options (exit 2), opens or resumes the run (exit 1); resuming,
 *             --name and --corpus default to the checkpoint's, --steps to its end;
 * train_loop  steps the run to its end with a progress line; dies on a failure; writes
 *             the TSV and plots; returns 1 when Ctrl-C stopped it (saved), else 0;
 * train_pairs, train_json_losses, train_print_losses: the common summary. */
/* The options both training commands have, written once: where the data and the run
 * live, and the schedule of validation, snapshots and resuming (o is a run_opts). */
#define TRAIN_IO_OPTS(o, name_default)                                                                            \
    {"corpus", 's', &(o).corpus, RUN_CORPUS, "", "toyworld, or a text file (then pick --tokens)", 0, 0, NULL},    \
    {"tokens", 'c', &(o).tokens, RUN_TOKENS, "", "tokenizer for a text file", 0, 0, "word|char"},                \
    {"data-dir", 's', &(o).data_dir, TB_DATA_DIR, "", "toyworld data folder", 0, 0, NULL},                        \
    {"name", 's', &(o).name, name_default, "", "run name: RUNS/NAME.ckpt, RUNS/NAME.tsv, plots/NAME_loss.png", 0, 0, NULL}, \
    {"scramble", 'b', &(o).scramble, NULL, "", "control: shuffle the words of every training sentence (same words, no grammar)", 0, 0, NULL}, \
    {"runs-dir", 's', &(o).runs_dir, TB_RUNS_DIR, "", "RUNS: the folder for the run's checkpoints and log", 0, 0, NULL}, \
    {"force", 'b', &(o).force, NULL, "", "replace a run already saved as RUNS/NAME.ckpt (refused without)", 0, 0, NULL}
#define TRAIN_SCHEDULE_OPTS(o, val_tokens, json)                                                                  \
    {"eval-every", 'i', &(o).eval_every, TB_STR(RUN_EVAL_EVERY), "steps", "validate and save runs/NAME.ckpt this often", 1, 1e8, NULL}, \
    {"val-tokens", 'i', &(val_tokens), TB_STR(RUN_VAL_TOKENS), "tokens", "validate on the first N tokens only (0: all)", 0, 1e9, NULL}, \
    {"save-at", 's', &(o).save_at, "", "", "also keep runs/NAME/step_NNNNNN.ckpt at these steps, e.g. 0,50,200,final", 0, 0, NULL}, \
    {"resume", 's', &(o).resume, "", "", "continue the run saved in this checkpoint, bit for bit (spiking: BPTT runs)", 0, 0, NULL}, \
    {"json", 'b', &(json), NULL, "", "print a one-object JSON summary at the end", 0, 0, NULL},                   \
    TRAIN_THEN_OPTS(o)
/* Continual learning (lesson 18): A = --corpus, then B = --then. */
#define TRAIN_THEN_OPTS(o)                                                                                        \
    {"then", 's', &(o).then_corpus, "", "", "continual learning: after --steps on --corpus, train on this corpus (e.g. toyworld-b)", 0, 0, NULL}, \
    {"then-steps", 'i', &(o).then_steps, TB_STR(RUN_THEN_STEPS), "", "steps on the --then corpus (0: as many as --steps)", 0, 1e8, NULL}, \
    {"replay", 'f', &(o).replay, TB_STR(RUN_REPLAY), "", "share of each batch drawn from the first corpus while on the second", 0, 0.99, NULL}, \
    {"ewc", 'f', &(o).ewc, TB_STR(RUN_EWC), "", "EWC: pull towards the first corpus's weights, lambda x Fisher (0: plain fine-tuning)", 0, 1e12, NULL}

struct tb_run;
struct run_opts;
void train_open(struct tb_run *r, struct run_opts *o, int argc, char **argv);
int  train_loop(struct tb_run *r, const char *cmd);
int  train_pairs(struct tb_run *r, const char *data_dir, double acc[3]);
void train_json_losses(const struct tb_run *r, const double acc[3]);
void train_print_losses(const struct tb_run *r, const double acc[3], int have_pairs);

/* sample and attention: the GPT checkpoint named by the optional positional argument
 * (default runs/gpt.ckpt) with its tokenizer; dies with the file's error.  Returns the path. */
const char *open_gpt_arg(int npos, char **pos, gpt_model *m, tb_tokenizer *tok);

/* eval --kl (eval_kl.c): the loss split against the ideal observer, as a table or as the
 * "kl_split" member of eval's JSON object. */
void eval_kl_print(const ideal_split *s);
void eval_kl_json(const ideal_split *s);

/* scan's options (scan.c), shared with its --compare-truth (scan_truth.c). */
typedef struct {
    const char *modality, *out, *subjects_dir, *data_dir, *stimuli, *loc_sent, *loc_ctrl, *score, *truth, *truth_snr;
    const char *plots, *name;
    int subjects, jobs, loc_runs, no_loc, print_hrf, json;
    long long seed;
    double noise_hz, froi_top;
    scan_config cfg;               /* the numbers both modalities share and each one's own */
    int voxels, runs, electrodes, repeats;
    double voxel_mm, electrode_mm;
} scan_args;
/* scan --compare-truth: the network pos[0] (one subject) measured by plan p, against the
 * model recording a->truth; prints the table, writes the picture and the TSV. */
int scan_truth_cmd(const scan_args *a, const scan_plan *p, int npos, char **pos);
/* scan --print-hrf: the canonical HRF every tr seconds (a table, or {"tr": T, "hrf": [...]}). */
int scan_print_hrf(double tr, int json);

/* The options both PyTorch-compared benches have (bench_gpt.c, bench_snn_train.c). */
#define BENCH_TORCH_OPTS(a, script_default)                                                                        \
    {"compare-torch", 'b', &(a).compare, NULL, "", "also run the PyTorch script at 1 and 2 threads and print the ratio", 0, 0, NULL}, \
    {"torch-script", 's', &(a).script, script_default, "", "the PyTorch reference script", 0, 0, NULL},           \
    {"json", 'b', &(a).json, NULL, "", "print one JSON object", 0, 0, NULL}

int bench_kernels_main(int argc, char **argv);
int bench_snn_main(int argc, char **argv);
int bench_gpt_main(int argc, char **argv);
int bench_snn_train_main(int argc, char **argv);
int bench_align_main(int argc, char **argv);
int bench_peak_main(int argc, char **argv);

#endif
