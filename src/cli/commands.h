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

int bench_kernels_main(int argc, char **argv);
int bench_snn_main(int argc, char **argv);
int bench_gpt_main(int argc, char **argv);
int bench_snn_train_main(int argc, char **argv);
int bench_align_main(int argc, char **argv);

#endif
