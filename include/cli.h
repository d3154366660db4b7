/* cli.h -- what every command in src/cli/ shares: option tables, --help, errors,
 * exit codes, progress lines, aligned tables and one-object JSON output.
 *
 * Only code in src/cli/ prints or exits.  Exit status: 0 ok, 1 run-time failure
 * (bad file, NaN in training, ...), 2 usage error (unknown flag, bad value).
 *
 * A command declares its options as a table; cli_parse() fills the variables with
 * the defaults, then with the command line, checks ranges and choices, and answers
 * --help with every option, its default and its unit:
 *
 *     int steps; double lr; const char *act;
 *     cli_opt opts[] = {
 *         {"steps", 'i', &steps, "1000", "", "optimizer steps", 1, 1e9, NULL},
 *         {"lr",    'f', &lr,    "3e-3", "", "peak learning rate", 0, 10, NULL},
 *         {"act",   'c', &act,   "gelu", "", "MLP activation", 0, 0, "gelu|relu"},
 *     };
 *     char *pos[2]; int npos = cli_parse(&cmd, opts, NOPT(opts), argc, argv, pos, 2);
 *
 * Kinds: 'i' int, 'l' long long, 'f' double, 's' string, 'c' choice (string from
 * choices "a|b|c"), 'b' flag (int set to 1; takes no value).  lo/hi bound 'i','l','f'
 * (ignored when lo == hi == 0).  Options accept "--name value" and "--name=value".
 * Every command also gets --threads N, --kernels auto|scalar|avx2|neon, --quiet
 * and --help, handled here (the pool and kernel table are set up by cli_parse).
 */
#ifndef TB_CLI_H
#define TB_CLI_H

#include "json.h"
#include "tb.h"
#include <stdio.h>

typedef struct {
    const char *name;    /* without the leading "--" */
    char kind;           /* 'i' 'l' 'f' 's' 'c' 'b' */
    void *dst;           /* int*, long long*, double*, const char**, const char**, int* */
    const char *def;     /* default as text (NULL: none / empty) */
    const char *unit;    /* "ms", "mV", "Hz", "nA", "" */
    const char *help;
    double lo, hi;       /* allowed range for numbers */
    const char *choices; /* for 'c': "gelu|relu" */
} cli_opt;

typedef struct {
    const char *name;     /* "train", "bench gpt" */
    const char *args;     /* positional synopsis, e.g. "[CKPT]" or "A B" */
    const char *summary;  /* one line */
    const char *details;  /* paragraph(s) for --help, may be NULL */
    const char *example;  /* an example command line, may be NULL */
} cli_cmd;

#define NOPT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Global switches set by cli_parse for every command. */
extern int cli_quiet;        /* --quiet */
extern int cli_threads;      /* --threads (resolved: >= 1) */
extern const char *cli_kernels;

/* Parse argv (argv[0] is the command name) into the option table and up to max_pos
 * positional arguments (fewer than min_pos, or more than max_pos: usage error).
 * Returns the number of positionals.  Exits 0 after --help, 2 on bad usage. */
int cli_parse(const cli_cmd *cmd, cli_opt *opts, int nopts, int argc, char **argv,
              char **pos, int min_pos, int max_pos);
void cli_print_help(const cli_cmd *cmd, const cli_opt *opts, int nopts, FILE *f);

/* "tinybrain CMD: message" on stderr, then exit(status). */
void cli_die(int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3), noreturn))
#endif
    ;
/* Message on stderr unless --quiet ("tinybrain CMD: ..."). */
void cli_note(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
/* tb_strf (a malloc'd printf) that exits when out of memory; free the result. */
char *cli_strf(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
/* The command name currently running (for messages). */
extern const char *cli_cmd_name;

/* 1 if option --name was on the command line ("--name v" or "--name=v"): tells a value
 * the user chose from the default cli_parse filled in. */
int cli_given(int argc, char **argv, const char *name);

/* Append the command line running now ("tinybrain CMD ARGS...", quoted for sh) to
 * DIR/commands.sh (DIR is created), so a folder says how it was made (tinybrain report
 * shows it).  A failure to write is only noted. */
void cli_log_command(const char *dir, int argc, char **argv);

/* Ctrl-C: after cli_catch_sigint(), the first SIGINT sets cli_interrupted = 1 (the
 * loop saves and exits cleanly); a second one kills the process. */
extern volatile int cli_interrupted;
void cli_catch_sigint(void);

/* Progress: on a terminal one line rewritten in place, otherwise plain log lines
 * every `every` calls; silent with --quiet.  Returns seconds since cli_progress_start. */
void   cli_progress_start(void);
double cli_elapsed(void);
void   cli_progress(int done, int total, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
void   cli_progress_end(void);
int    cli_isatty_stderr(void);
/* Erase a progress line drawn on the terminal, before printing to stdout (tables do it
 * themselves; the next cli_progress draws it again). */
void   cli_progress_clear(void);
/* A tb_progress for library work that draws cli_progress lines labelled `what` (a string
 * that outlives the work); call cli_progress_start before and cli_progress_end after. */
tb_progress cli_progress_hook(const char *what);

/* Aligned table on stdout: cli_table_row(ncols, widths, cells).  The first column and
 * columns with a negative width are left-aligned (text); the rest right-aligned. */
void cli_table_row(int ncols, const int *widths, const char *const *cells);
void cli_table_rule(int ncols, const int *widths);
/* A table cell for a metric: 4 decimals, 3 significant digits below 1e-3, "-" for NaN. */
void cli_fmt_num(char *buf, size_t n, double v);
/* Room for any double printed with %.4f (DBL_MAX has 309 digits): the size of a cell. */
#define CLI_NUMLEN 320

/* After plot_lines: "wrote DIR/NAME.png", or how to render it when gnuplot is missing. */
void cli_note_plot(const char *dir, const char *name, int rendered);

/* One JSON object on stdout, built with the writer of json.h (valid UTF-8 whatever the
 * strings hold) and printed by json_end:
 *     json_begin(); json_num("val_loss", 1.23); ... json_end();
 * Nested objects and arrays: the jw_* calls of json.h on json_w(). */
void json_begin(void);
json_writer *json_w(void);
void json_num(const char *key, double v);        /* NaN/inf -> null */
void json_int(const char *key, long long v);
void json_str(const char *key, const char *v);
void json_bool(const char *key, int v);
void json_num_array(const char *key, const double *v, int n);
void json_int_array(const char *key, const long long *v, int n);
void json_raw(const char *key, const char *raw_json);  /* nested object/array text */
void json_end(void);
/* Escape s as a JSON string literal (with quotes) into buf (size n); a literal that does
 * not fit is cut after a whole character. */
void json_escape(char *buf, size_t n, const char *s);

/* Commands: each src/cli/X.c defines one of these (argv[0] = command name). */
typedef int (*cli_main_fn)(int argc, char **argv);

#endif
