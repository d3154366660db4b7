/* commands.h -- the entry point of every command (src/cli/CMD.c defines cmd_CMD) and of
 * every speed table (src/cli/bench_WHAT.c defines bench_WHAT_main).  main.c and bench.c
 * hold the tables that map names to these; argv[0] is the command's own name. */
#ifndef TB_COMMANDS_H
#define TB_COMMANDS_H

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
struct tb_run;
struct run_opts;
void train_open(struct tb_run *r, struct run_opts *o, int argc, char **argv);
int  train_loop(struct tb_run *r, const char *cmd);
int  train_pairs(struct tb_run *r, const char *data_dir, double acc[3]);
void train_json_losses(const struct tb_run *r, const double acc[3]);
void train_print_losses(const struct tb_run *r, const double acc[3], int have_pairs);

int bench_kernels_main(int argc, char **argv);
int bench_snn_main(int argc, char **argv);
int bench_gpt_main(int argc, char **argv);
int bench_snn_train_main(int argc, char **argv);
int bench_align_main(int argc, char **argv);

#endif
