/* commands.h -- the entry point of every command (src/cli/CMD.c defines cmd_CMD) and of
 * every speed table (src/cli/bench_WHAT.c defines bench_WHAT_main).  main.c and bench.c
 * hold the tables that map names to these; argv[0] is the command's own name. */
#ifndef TB_COMMANDS_H
#define TB_COMMANDS_H

#include "gpt.h"
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
    {"name", 's', &(o).name, name_default, "", "run name: runs/NAME.ckpt, runs/NAME.tsv, plots/NAME_loss.png", 0, 0, NULL}
#define TRAIN_SCHEDULE_OPTS(o, val_tokens, json)                                                                  \
    {"eval-every", 'i', &(o).eval_every, TB_STR(RUN_EVAL_EVERY), "steps", "validate and save runs/NAME.ckpt this often", 1, 1e8, NULL}, \
    {"val-tokens", 'i', &(val_tokens), TB_STR(RUN_VAL_TOKENS), "tokens", "validate on the first N tokens only (0: all)", 0, 1e9, NULL}, \
    {"save-at", 's', &(o).save_at, "", "", "also keep runs/NAME/step_NNNNNN.ckpt at these steps, e.g. 0,50,200,final", 0, 0, NULL}, \
    {"resume", 's', &(o).resume, "", "", "continue the run saved in this checkpoint, bit for bit (spiking: BPTT runs)", 0, 0, NULL}, \
    {"json", 'b', &(json), NULL, "", "print a one-object JSON summary at the end", 0, 0, NULL}

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
