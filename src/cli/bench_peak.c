/* bench_peak.c -- `tinybrain bench peak`: the FP32 peak this machine reaches now, at 1
 * thread and at --threads (lesson 06: what "% of peak" in bench gpt means).  The
 * measurement is bench_peak() (include/bench.h): register-only FMAs on every thread. */
#include "bench.h"
#include "cli.h"
#include "commands.h"
#include "threads.h"

#include <stdio.h>

int bench_peak_main(int argc, char **argv) {
    int json;
    cli_opt opts[] = {{"json", 'b', &json, NULL, "", "print one JSON object", 0, 0, NULL}};
    cli_cmd cmd = {"bench peak", "", "measured FP32 FMA peak (GFLOP/s) at 1 thread and at --threads",
                   "Independent fused multiply-adds in registers with the widest instruction set the CPU\n"
                   "has (AVX-512F, AVX2+FMA or plain C), on 1 thread and then on every thread at once; the\n"
                   "fastest of 41 runs of ~2 ms.  On a busy machine the all-threads figure is the one that\n"
                   "suffers: read it beside `uptime`.",
                   "tinybrain bench peak --threads 2"};
    cli_parse(&cmd, opts, NOPT(opts), argc, argv, NULL, 0, 0);
    char err[TB_ERRLEN];
    bench_peak_result one, all;
    if (bench_peak(1, &one, err) || bench_peak(tb_threads(), &all, err)) cli_die(1, "%s", err);
    if (json) {
        json_begin();
        json_str("isa", one.isa);
        json_num("gflops_1thread", one.gflops);
        json_int("threads", all.threads);
        json_num("gflops", all.gflops);
        json_num("scaling", all.gflops / one.gflops);
        json_end();
        return 0;
    }
    printf("FP32 peak with %s (register-only FMAs, fastest of 41 runs):\n", one.isa);
    printf("  1 thread    %7.1f GFLOP/s\n", one.gflops);
    printf("  %d thread%s  %7.1f GFLOP/s  (%.2fx; %.1f per thread)\n", all.threads, all.threads > 1 ? "s" : " ",
           all.gflops, all.gflops / one.gflops, all.gflops_per_core);
    return 0;
}
