/* harness.h -- every file reader of tinybrain, fed arbitrary bytes.
 *
 * One function per reader; the libFuzzer targets (tests/fuzz/fuzz_main.c, `make fuzz`)
 * and the replay test (tests/test_fuzz_repro.c, part of `make test`) call the same
 * functions, so a seed or a crash reproducer means the same thing to both.  A reader
 * must answer any input with success or a one-line error: never a crash, a leak, a
 * read outside its buffer, or a broken promise (checked here; a broken one aborts).
 *
 * Input formats (what a file in tests/fuzz/corpus/<target>/ holds):
 *   ckpt       a checkpoint; the trailing CRC is recomputed first (so the fuzzer gets
 *              past the checksum), then a 'gpt'/'srnn' one is loaded as a model
 *   npy        a .npy file
 *   npz        an .npz archive
 *   tsv        a numeric TSV table
 *   corpus     byte 0: bit 0 picks word (1) or char (0) tokens; the rest is a text
 *              corpus, also read as a probe list and a minimal-pair table
 *   tokenizer  byte 0 as above; the rest is text to build, encode and decode, and a
 *              vocabulary as stored in a checkpoint
 *   stimuli    byte 0: bit 0 picks .tsv (1) or .txt (0); the rest is a stimulus file
 *              for a fixed word vocabulary
 *   cli        command-line arguments, one per line, for cli_parse with one option of
 *              every kind, and each argument for cli_parse_int_list
 */
#ifndef TB_FUZZ_HARNESS_H
#define TB_FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *name;
    void (*run)(const uint8_t *data, size_t n);
} fuzz_target;

/* The library readers, {NULL, NULL}-terminated. */
extern const fuzz_target fuzz_targets[];

/* The CLI's option parser (needs src/cli/cli.c).  It exits on bad usage: the libFuzzer
 * build compiles cli.c with -Dexit=tb_fuzz_exit and returns here by longjmp; the replay
 * test runs it in a child process and checks the exit status (0 or 2). */
void fuzz_cli(const uint8_t *data, size_t n);

#endif
