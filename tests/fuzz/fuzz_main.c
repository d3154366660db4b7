/* fuzz_main.c -- a libFuzzer entry point for one reader, chosen at build time:
 *   clang -fsanitize=fuzzer,address,undefined -DFUZZ_TARGET='"npy"' ...
 * (the CLI target also defines FUZZ_CLI and links harness_cli.c and src/cli/cli.c)
 * (tests/fuzz/run.sh builds one binary per target; `make fuzz` runs them). */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
    static void (*run)(const uint8_t *, size_t);
    if (!run) {
#ifdef FUZZ_CLI
        run = fuzz_cli;
#endif
        for (int i = 0; !run && fuzz_targets[i].name; i++)
            if (!strcmp(fuzz_targets[i].name, FUZZ_TARGET)) run = fuzz_targets[i].run;
        if (!run) abort();
    }
    run(data, n);
    return 0;
}
