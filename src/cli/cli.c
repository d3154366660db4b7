/* cli.c -- option parsing, help text, errors, progress, tables and JSON for every
 * command (see include/cli.h).  This is the only layer that prints or exits. */
#include "cli.h"
#include "io.h"
#include "kernels.h"
#include "threads.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int cli_quiet = 0;
int cli_threads = 1;
const char *cli_kernels = "auto";
const char *cli_cmd_name = "tinybrain";
volatile int cli_interrupted = 0;

/* ---- messages ------------------------------------------------------------ */

static char *data_looked;

/* "tinybrain CMD: message" on stderr, after whatever stdout holds so far.  A message
 * about the shipped data (data/toyworld) that could not be found says where tinybrain
 * looked for it. */
static void say(const char *fmt, va_list ap) {
    char *msg = tb_vstrf(fmt, ap);
    fflush(stdout);
    fprintf(stderr, "tinybrain %s: %s\n", cli_cmd_name, msg ? msg : "(out of memory formatting a message)");
    if (data_looked && msg && strstr(msg, TB_DATA_DIR))
        fprintf(stderr, "tinybrain %s: the toyworld data is not here; looked in %s "
                "(set TINYBRAIN_DATA, install with make install, or write it with tinybrain corpus)\n",
                cli_cmd_name, data_looked);
    free(msg);
}

void cli_die(int status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    say(fmt, ap);
    va_end(ap);
    exit(status);
}

void cli_note(const char *fmt, ...) {
    if (cli_quiet) return;
    va_list ap;
    va_start(ap, fmt);
    say(fmt, ap);
    va_end(ap);
}

char *cli_strf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = tb_vstrf(fmt, ap);
    va_end(ap);
    if (!s) cli_die(1, "out of memory");
    return s;
}

/* ---- where the toyworld data is ------------------------------------------ */

/* The options that read the data shipped with tinybrain (--data-dir, and any file
 * option whose default lies under data/toyworld/) default to ./data/toyworld, the
 * checkout's copy.  Run from another folder, tinybrain finds a copy instead, in the first
 * of $TINYBRAIN_DATA/toyworld, BIN/../share/tinybrain/data/toyworld (make install) and
 * BIN/data/toyworld (a checkout's binary) holding vocab.tsv; when none does, a failure
 * that names data/toyworld also says where it looked. */
static const char *data_found;   /* the folder used instead of TB_DATA_DIR, or NULL */
static char **data_paths;        /* option values made here (kept for the process) */
static int n_data_paths;

static int has_toyworld(const char *dir) {
    char *f = cli_strf("%s/vocab.tsv", dir);
    int ok = access(f, R_OK) == 0;
    free(f);
    return ok;
}

/* A malloc'd string kept until exit (reachable, so leak checkers stay quiet). */
static char *keep(char *s) {
    char **p = realloc(data_paths, (size_t)(n_data_paths + 1) * sizeof *p);
    if (!p) cli_die(1, "out of memory");
    data_paths = p;
    return data_paths[n_data_paths++] = s;
}

/* The first copy found elsewhere, or NULL (data_looked then lists the places tried). */
static const char *find_data(void) {
    static int done = 0;
    if (done) return data_found;
    done = 1;
    enum { NC = 3 };
    const char *env = getenv("TINYBRAIN_DATA");
    char *cand[NC] = {env && *env ? cli_strf("%s/toyworld", env) : NULL, NULL, NULL};
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) *slash = 0;
        cand[1] = cli_strf("%s/../share/tinybrain/" TB_DATA_DIR, exe);  /* make install */
        cand[2] = cli_strf("%s/" TB_DATA_DIR, exe);                     /* a checkout's ./tinybrain */
    }
    for (int i = 0; i < NC; i++)
        if (!data_found && cand[i] && has_toyworld(cand[i])) data_found = keep(cli_strf("%s", cand[i]));
    if (!data_found)
        data_looked = keep(cli_strf("./" TB_DATA_DIR ", %s, %s%s%s", cand[0] ? cand[0] : "$TINYBRAIN_DATA/toyworld (unset)",
                                    cand[1] ? cand[1] : "BIN/../share/tinybrain (no /proc/self/exe)",
                                    cand[2] ? ", " : "", cand[2] ? cand[2] : ""));
    for (int i = 0; i < NC; i++) free(cand[i]);
    return data_found;
}

/* Point the data options the user did not give at the installed copy, when the folder
 * tinybrain runs in has none. */
static void resolve_data_opts(cli_opt *opts, int nopts, int argc, char **argv) {
    size_t dl = strlen(TB_DATA_DIR);
    for (int i = 0; i < nopts; i++) {
        const cli_opt *o = &opts[i];
        const char **v = (const char **)o->dst;
        if (o->kind != 's' || !o->def || strncmp(o->def, TB_DATA_DIR, dl) || cli_given(argc, argv, o->name))
            continue;
        if (!(o->def[dl] == '/' || (!o->def[dl] && !strcmp(o->name, "data-dir")))) continue;
        if (has_toyworld(TB_DATA_DIR) || !find_data()) continue;
        *v = keep(cli_strf("%s%s", data_found, o->def + dl));
    }
}

/* ---- options ------------------------------------------------------------- */

static const cli_opt common_opts[] = {
    {"threads", 'i', &cli_threads, "0", "", "worker threads (0 = all cores, at most " TB_STR(TB_MAX_THREADS) ")", 0,
     TB_MAX_THREADS, NULL},
    {"kernels", 'c', &cli_kernels, "auto", "",
     "kernel set (auto = best this CPU has; also TINYBRAIN_KERNELS)", 0, 0,
     "auto|scalar|avx2|neon"},
    {"quiet", 'b', &cli_quiet, NULL, "", "no progress or notes on stderr", 0, 0, NULL},
};

static int choice_ok(const char *choices, const char *v) {
    size_t n = strlen(v);
    const char *p = choices;
    while (p && *p) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, v, n) == 0) return 1;
        p = bar ? bar + 1 : NULL;
    }
    return 0;
}

/* Store text value v into option o; on error print a usage message and exit 2. */
static void set_value(const cli_opt *o, const char *v, int from_default) {
    const char *what = from_default ? "default of --" : "--";
    char *end = NULL;
    errno = 0;
    switch (o->kind) {
    case 'i': case 'l': {
        long long x = strtoll(v, &end, 10);
        if (!*v || *end || errno)
            cli_die(2, "%s%s: expected an integer, got '%s'", what, o->name, v);
        if ((o->lo != 0 || o->hi != 0) && (x < o->lo || x > o->hi))
            cli_die(2, "--%s: %lld is out of range [%.15g, %.15g]", o->name, x, o->lo, o->hi);
        if (o->kind == 'i') {
            if (x < -2147483647LL || x > 2147483647LL)
                cli_die(2, "--%s: %lld does not fit an int", o->name, x);
            *(int *)o->dst = (int)x;
        } else {
            *(long long *)o->dst = x;
        }
        break;
    }
    case 'f': {
        double x = strtod(v, &end);
        if (!*v || *end || errno == ERANGE || !isfinite(x))
            cli_die(2, "%s%s: expected a finite number, got '%s'", what, o->name, v);
        if ((o->lo != 0 || o->hi != 0) && (x < o->lo || x > o->hi))
            cli_die(2, "--%s: %g is out of range [%g, %g]", o->name, x, o->lo, o->hi);
        *(double *)o->dst = x;
        break;
    }
    case 's':
        *(const char **)o->dst = v;
        break;
    case 'c':
        if (!choice_ok(o->choices, v))
            cli_die(2, "--%s: '%s' is not one of %s", o->name, v, o->choices);
        *(const char **)o->dst = v;
        break;
    case 'b':
        *(int *)o->dst = 1;
        break;
    default:
        cli_die(2, "internal: option --%s has unknown kind '%c'", o->name, o->kind);
    }
}

static void print_opt(FILE *f, const cli_opt *o) {
    char left[96];
    const char *meta = o->kind == 'b' ? "" : o->kind == 'c' ? o->choices
                     : o->kind == 's' ? "TEXT" : o->kind == 'f' ? "X" : "N";
    snprintf(left, sizeof left, "  --%s%s%s", o->name, *meta ? " " : "", meta);
    fprintf(f, "%-30s %s", left, o->help ? o->help : "");
    if (o->unit && *o->unit) fprintf(f, " [%s]", o->unit);
    if (o->kind != 'b' && o->def && *o->def) fprintf(f, " (default: %s)", o->def);
    if ((o->kind == 'i' || o->kind == 'l' || o->kind == 'f') && (o->lo != 0 || o->hi != 0))
        fprintf(f, " (range %g..%g)", o->lo, o->hi);
    fputc('\n', f);
}

void cli_print_help(const cli_cmd *cmd, const cli_opt *opts, int nopts, FILE *f) {
    fprintf(f, "usage: tinybrain %s [options]%s%s\n\n%s\n", cmd->name,
            cmd->args && *cmd->args ? " " : "", cmd->args ? cmd->args : "", cmd->summary);
    if (cmd->details) fprintf(f, "\n%s\n", cmd->details);
    fprintf(f, "\noptions:\n");
    for (int i = 0; i < nopts; i++) print_opt(f, &opts[i]);
    fprintf(f, "\ncommon options:\n");
    for (int i = 0; i < NOPT(common_opts); i++) print_opt(f, &common_opts[i]);
    fprintf(f, "  --help                       this text\n");
    if (cmd->example) fprintf(f, "\nexample:\n  %s\n", cmd->example);
}

static const cli_opt *find_opt(const cli_opt *opts, int nopts, const char *name, size_t len) {
    for (int i = 0; i < nopts; i++)
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0) return &opts[i];
    for (int i = 0; i < NOPT(common_opts); i++)
        if (strlen(common_opts[i].name) == len && strncmp(common_opts[i].name, name, len) == 0)
            return &common_opts[i];
    return NULL;
}

int cli_parse(const cli_cmd *cmd, cli_opt *opts, int nopts, int argc, char **argv,
              char **pos, int min_pos, int max_pos) {
    cli_cmd_name = cmd->name;
    cli_quiet = 0;
    for (int i = 0; i < nopts; i++) {
        if (opts[i].kind == 'b') *(int *)opts[i].dst = 0;
        else if (opts[i].def) set_value(&opts[i], opts[i].def, 1);
        else if (opts[i].kind == 's' || opts[i].kind == 'c') *(const char **)opts[i].dst = NULL;
    }
    for (int i = 0; i < NOPT(common_opts); i++)
        if (common_opts[i].kind != 'b') set_value(&common_opts[i], common_opts[i].def, 1);

    int npos = 0, only_pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!only_pos && strcmp(a, "--") == 0) { only_pos = 1; continue; }
        if (!only_pos && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
            cli_print_help(cmd, opts, nopts, stdout);
            exit(0);
        }
        if (!only_pos && a[0] == '-' && a[1] == '-') {
            const char *name = a + 2, *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            const cli_opt *o = find_opt(opts, nopts, name, len);
            if (!o) cli_die(2, "unknown option '%.*s' (see tinybrain %s --help)",
                            (int)(len + 2), a, cmd->name);
            if (o->kind == 'b') {
                if (eq) cli_die(2, "--%s takes no value", o->name);
                set_value(o, "1", 0);
                continue;
            }
            const char *v = eq ? eq + 1 : NULL;
            if (!v) {
                if (i + 1 >= argc) cli_die(2, "--%s needs a value", o->name);
                v = argv[++i];
            }
            set_value(o, v, 0);
            continue;
        }
        if (!only_pos && a[0] == '-' && a[1] != '\0' && !(a[1] >= '0' && a[1] <= '9') && a[1] != '.')
            cli_die(2, "unknown option '%s' (options are spelled --name)", a);
        if (npos >= max_pos)
            cli_die(2, "unexpected argument '%s' (usage: tinybrain %s [options] %s)", a,
                    cmd->name, cmd->args ? cmd->args : "");
        pos[npos++] = argv[i];
    }
    if (npos < min_pos)
        cli_die(2, "missing argument (usage: tinybrain %s [options] %s)", cmd->name,
                cmd->args ? cmd->args : "");

    resolve_data_opts(opts, nopts, argc, argv);

    char err[TB_ERRLEN];
    const char *mode = cli_kernels;
    if (strcmp(mode, "auto") == 0 && getenv("TINYBRAIN_KERNELS") && *getenv("TINYBRAIN_KERNELS"))
        mode = getenv("TINYBRAIN_KERNELS");
    if (kernels_init(mode, err) != 0) cli_die(2, "--kernels: %s", err);
    tb_threads_init(cli_threads);
    cli_threads = tb_threads();
    return npos;
}

int cli_given(int argc, char **argv, const char *name) {
    size_t n = strlen(name);
    for (int i = 1; i < argc; i++)
        if (!strncmp(argv[i], "--", 2) && !strncmp(argv[i] + 2, name, n) && (argv[i][2 + n] == 0 || argv[i][2 + n] == '='))
            return 1;
    return 0;
}

/* ---- how a folder was made ----------------------------------------------- */

/* arg for sh: as it is when it holds only safe characters, else in single quotes. */
static void put_sh_word(FILE *f, const char *arg) {
    if (*arg && strspn(arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./,:=+@%") == strlen(arg)) {
        fputs(arg, f);
        return;
    }
    fputc('\'', f);
    for (const char *p = arg; *p; p++) {
        if (*p == '\'') fputs("'\\''", f);
        else fputc(*p, f);
    }
    fputc('\'', f);
}

void cli_log_command(const char *dir, int argc, char **argv) {
    char err[TB_ERRLEN];
    char *path = cli_strf("%s/commands.sh", dir);
    FILE *f = make_dirs(dir, err) ? NULL : fopen(path, "a");
    if (!f) {
        cli_note("could not record the command in %s", path);
        free(path);
        return;
    }
    fprintf(f, "tinybrain %s", cli_cmd_name);
    for (int i = 1; i < argc; i++) {
        fputc(' ', f);
        put_sh_word(f, argv[i]);
    }
    fputc('\n', f);
    if (fclose(f) != 0) cli_note("could not record the command in %s", path);
    free(path);
}

/* ---- Ctrl-C -------------------------------------------------------------- */

static void on_sigint(int sig) {
    (void)sig;
    if (cli_interrupted) { signal(SIGINT, SIG_DFL); raise(SIGINT); }
    cli_interrupted = 1;
}

void cli_catch_sigint(void) {
    cli_interrupted = 0;
    signal(SIGINT, on_sigint);
}

/* ---- progress ------------------------------------------------------------ */

static struct timespec t_start;
static int progress_drawn = 0;
static double last_log = 0, last_draw = -1e9;
static int logged = 0;   /* plain lines printed since cli_progress_start */

int cli_isatty_stderr(void) { return isatty(fileno(stderr)); }

void cli_progress_start(void) {
    clock_gettime(CLOCK_MONOTONIC, &t_start);
    progress_drawn = 0;
    logged = 0;
    last_log = 0;
    last_draw = -1e9;
}

double cli_elapsed(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t_start.tv_sec) + 1e-9 * (double)(t.tv_nsec - t_start.tv_nsec);
}

void cli_progress(int done, int total, const char *fmt, ...) {
    if (cli_quiet) return;
    double el = cli_elapsed();
    int tty = cli_isatty_stderr();
    /* Plain logs: one line every 2 s, and the last one when there were others (work
     * under 2 s logs nothing); the terminal's line is redrawn at most 10 times a second. */
    if (!tty && el - last_log < 2.0 && !(done >= total && logged)) return;
    if (tty && done < total && el - last_draw < 0.1) return;
    last_log = last_draw = el;
    logged += !tty;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    double eta = done > 0 ? el * (double)(total - done) / done : 0;
    if (tty) {
        int w = 24, fill = total > 0 ? (int)((long long)w * done / total) : 0;
        char bar[32];
        for (int i = 0; i < w; i++) bar[i] = i < fill ? '#' : '.';
        bar[w] = 0;
        fprintf(stderr, "\r[%s] %d/%d %s | %.1fs, ETA %.0fs\033[K", bar, done, total, msg, el, eta);
        progress_drawn = 1;
    } else {
        fprintf(stderr, "%s: %d/%d %s | %.1fs, ETA %.0fs\n", cli_cmd_name, done, total, msg, el, eta);
    }
    fflush(stderr);
}

void cli_progress_end(void) {
    if (progress_drawn) { fputc('\n', stderr); progress_drawn = 0; }
}

void cli_progress_clear(void) {
    if (!progress_drawn) return;
    fputs("\r\033[K", stderr);
    fflush(stderr);
    progress_drawn = 0;
    last_draw = -1e9;
}

/* Work in phases (record the trials, then compare the layers) tells each phase's count:
 * a new total, or a count that starts again, restarts the clock the ETA is taken from. */
static void progress_hook_fn(void *ctx, int done, int total) {
    static int last_done, last_total;
    if (total != last_total || done <= last_done) clock_gettime(CLOCK_MONOTONIC, &t_start);
    last_done = done;
    last_total = total;
    cli_progress(done, total, "%s", (const char *)ctx);
}

tb_progress cli_progress_hook(const char *what) { return (tb_progress){progress_hook_fn, (void *)what}; }

/* ---- tables -------------------------------------------------------------- */

void cli_table_row(int ncols, const int *widths, const char *const *cells) {
    cli_progress_clear();
    for (int i = 0; i < ncols; i++) {
        int w = widths[i];
        /* Left-align the first column and any given a negative width (text); right-align
         * the others (numbers). */
        if (i == 0) printf("%-*s", w < 0 ? -w : w, cells[i]);
        else if (w < 0) printf("  %-*s", -w, cells[i]);
        else printf("  %*s", w, cells[i]);
    }
    putchar('\n');
}

void cli_fmt_num(char *buf, size_t n, double v) {
    if (isnan(v)) snprintf(buf, n, "-");
    else if (v != 0 && fabs(v) < 1e-3) snprintf(buf, n, "%.3g", v); /* 0.000999, 4.47e-08 */
    else snprintf(buf, n, "%.4f", v);
}

void cli_note_plot(const char *dir, const char *name, int rendered) {
    if (rendered) cli_note("wrote %s/%s.png", dir, name);
    else cli_note("gnuplot not found: render with gnuplot %s/%s.gp", dir, name);
}

void cli_table_rule(int ncols, const int *widths) {
    cli_progress_clear();
    for (int i = 0; i < ncols; i++) {
        if (i) printf("  ");
        for (int j = 0; j < (widths[i] < 0 ? -widths[i] : widths[i]); j++) putchar('-');
    }
    putchar('\n');
}

/* ---- JSON: one object on stdout, built with the library's writer (json.h) ------------ */

static json_writer out_json;

json_writer *json_w(void) { return &out_json; }

void json_begin(void) {
    jw_free(&out_json);
    jw_init(&out_json);
    jw_object(&out_json, NULL, JW_COMPACT);
}
void json_num(const char *key, double v) { jw_num(&out_json, key, v); }
void json_int(const char *key, long long v) { jw_int(&out_json, key, v); }
void json_str(const char *key, const char *v) { jw_str(&out_json, key, v); }
void json_bool(const char *key, int v) { jw_bool(&out_json, key, v); }
void json_raw(const char *key, const char *raw) { jw_raw(&out_json, key, raw); }
void json_num_array(const char *key, const double *v, int n) { jw_nums(&out_json, key, v, n); }
void json_int_array(const char *key, const long long *v, int n) { jw_ints(&out_json, key, v, n); }

void json_end(void) {
    char err[TB_ERRLEN];
    jw_end(&out_json);
    if (jw_finish(&out_json, err)) cli_die(1, "%s", err);
    printf("%s\n", out_json.buf);
    fflush(stdout);
    jw_free(&out_json);
}

/* The escaped literal cut, if it must be, after a whole character or escape. */
void json_escape(char *buf, size_t n, const char *s) {
    if (n < 3) { if (n) buf[0] = 0; return; }
    json_writer w;
    jw_init(&w);
    jw_escape(&w, s ? s : "");
    if (w.failed) cli_die(1, "out of memory");
    size_t o = 1, len = w.len - 1; /* between the quotes */
    while (o < len) {
        unsigned char c = (unsigned char)w.buf[o];
        size_t u = c == '\\' ? (w.buf[o + 1] == 'u' ? 6 : 2) : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
        if (o + u + 2 > n) break; /* room for the closing quote and the NUL */
        o += u;
    }
    memcpy(buf, w.buf, o);
    buf[o] = '"';
    buf[o + 1] = 0;
    jw_free(&w);
}
