/* bench.c -- `tinybrain bench WHAT`: dispatch to the speed tables.
 * Each table lives beside the command it measures (bench_kernels.c, bench_gpt.c, ...). */
#include "cli.h"
#include "commands.h"

#include <stdio.h>
#include <string.h>


static const struct { const char *name; cli_main_fn fn; const char *summary; } benches[] = {
    {"peak", bench_peak_main, "measured FP32 FMA peak of this machine, 1 thread and all threads"},
    {"kernels", bench_kernels_main, "matmul GFLOP/s at the transformer's shapes, scalar vs SIMD, 1 vs N threads"},
    {"gpt", bench_gpt_main, "ms per GPT training step at --preset classroom|small, GFLOP/s; --compare-torch"},
    {"snn", bench_snn_main, "spiking network cost at 4k/16k/64k neurons, in-degree 80 vs 2%; --compare-brian"},
    {"align", bench_align_main, "seconds per alignment metric family as stimuli and units grow (up to n = 4000)"},
    {"snn-train", bench_snn_train_main, "ms per spiking-LM training step (256 LIF, BPTT + Adam) vs PyTorch; --compare-torch"},
};

int cmd_bench(int argc, char **argv) {
    cli_cmd_name = "bench";
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        FILE *f = argc < 2 ? stderr : stdout;
        fprintf(f, "usage: tinybrain bench WHAT [options]   (tinybrain bench WHAT --help)\n\n");
        for (size_t i = 0; i < sizeof benches / sizeof benches[0]; i++)
            fprintf(f, "  %-10s %s\n", benches[i].name, benches[i].summary);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof benches / sizeof benches[0]; i++)
        if (!strcmp(argv[1], benches[i].name)) return benches[i].fn(argc - 1, argv + 1);
    cli_die(2, "unknown benchmark '%s' (try: tinybrain bench --help)", argv[1]);
}
