/* tb.h -- what every tinybrain module shares: the error-message convention.
 *
 * Library code never prints and never exits.  A function that can fail returns
 * 0 on success and -1 on failure, and writes a one-line, human-readable reason into
 * the caller's buffer `err` (TB_ERRLEN bytes), naming the file or value at fault:
 *     "runs/gpt.ckpt: truncated (expected 5120 bytes of tensor 'wte', found 77)"
 * Only src/cli/ turns that into a message on stderr and an exit status.
 */
#ifndef TB_H
#define TB_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define TB_ERRLEN 512
#define TB_VERSION "0.1.0"

/* Fill err (may be NULL) with a printf-style message and return -1. */
int tb_fail(char *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* A macro's value as a string literal: a default written once in a table becomes both the
 * value and the text `--help` prints ({"steps", 'i', &steps, TB_STR(RUN_GPT_STEPS), ...}). */
#define TB_STR_(x) #x
#define TB_STR(x) TB_STR_(x)

/* printf into a new malloc'd string (free it); NULL when out of memory.  For paths and
 * labels of any length, where a fixed buffer would cut them. */
char *tb_strf(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
char *tb_vstrf(const char *fmt, va_list ap);

/* Progress of long work in the library, told to whoever watches (the CLI draws a line
 * with an ETA, cli.h): fn(ctx, done, total) as each of `total` units (trials, layers,
 * snapshots) finishes.  A zero tb_progress tells nobody. */
typedef struct {
    void (*fn)(void *ctx, int done, int total);
    void *ctx;
} tb_progress;
static inline void tb_progress_tell(const tb_progress *p, int done, int total) {
    if (p && p->fn) p->fn(p->ctx, done, total);
}

/* Default folders (relative to the current directory). */
#define TB_DATA_DIR "data/toyworld"
#define TB_RUNS_DIR "runs"
#define TB_PLOTS_DIR "plots"

#endif
