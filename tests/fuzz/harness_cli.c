/* harness_cli.c -- the CLI's option and number parsing under arbitrary arguments
 * (see harness.h).  Built with TB_FUZZ_LONGJMP (libFuzzer), src/cli/cli.c is compiled
 * with -Dexit=tb_fuzz_exit, so a usage error returns here instead of ending the run. */
#include "harness.h"

#include "cli.h"
#include "run.h"

#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#ifdef TB_FUZZ_LONGJMP
static jmp_buf fuzz_exit_to;
void tb_fuzz_exit(int status);
void tb_fuzz_exit(int status) { longjmp(fuzz_exit_to, status + 1); }
#endif

/* One option of every kind, with ranges, as a command declares them. */
static int opt_i, opt_b;
static long long opt_l;
static double opt_f;
static const char *opt_s, *opt_c;
static cli_opt fuzz_opts[] = {
    {"steps", 'i', &opt_i, "1000", "", "an int in a range", 1, 1e9, NULL},
    {"seed", 'l', &opt_l, "1", "", "a long long", 0, 0, NULL},
    {"lr", 'f', &opt_f, "3e-3", "", "a double in a range", 0, 10, NULL},
    {"out", 's', &opt_s, NULL, "", "a string", 0, 0, NULL},
    {"act", 'c', &opt_c, "gelu", "", "a choice", 0, 0, "gelu|relu"},
    {"json", 'b', &opt_b, NULL, "", "a flag", 0, 0, NULL},
};
static const cli_cmd fuzz_cmd = {"fuzz", "[A] [B]", "the fuzzing command", NULL, NULL};

/* Split the input at newlines into argv (argv[0] = "fuzz").  --threads is left out:
 * its value resizes the thread pool on every run (the same integer parser is fuzzed
 * through --steps). */
static int split_args(char *text, char **argv, int max) {
    int argc = 0;
    argv[argc++] = (char *)"fuzz";
    for (char *s = text; s && argc < max;) {
        char *nl = strchr(s, '\n');
        if (nl) *nl = 0;
        if (strncmp(s, "--threads", 9) != 0) argv[argc++] = s;
        s = nl ? nl + 1 : NULL;
    }
    return argc;
}

void fuzz_cli(const uint8_t *data, size_t n) {
    char *text = malloc(n + 1), *argv[64], *pos[2], err[TB_ERRLEN];
    if (!text) abort();
    if (n) memcpy(text, data, n);
    text[n] = 0;
    int argc = split_args(text, argv, 64);
    for (int i = 1; i < argc; i++) {   /* every word as a --save-at schedule (the library's list parser) */
        run_opts ro;
        run_default_opts(&ro, RUN_GPT);
        ro.save_at = argv[i];
        run_check_opts(&ro, err);
    }
#ifdef TB_FUZZ_LONGJMP
    if (setjmp(fuzz_exit_to) == 0)
#endif
        cli_parse(&fuzz_cmd, fuzz_opts, (int)(sizeof fuzz_opts / sizeof fuzz_opts[0]), argc, argv,
                  pos, 0, 2);
    free(text);
}
