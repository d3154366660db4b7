/* bench_align.c -- `tinybrain bench align`: how does the cost of each alignment metric
 * grow with stimuli n and units p?  Lessons 10-12 quote it.
 *
 * Random data with a shared signal (Y = X + noise), both sides n x p.  Each family is
 * timed once (they take long enough to be stable), with all threads, in the order
 * `align --metric all` runs them; `all` is their sum.  Expected growth: RSA ~ n^2 p
 * (RDMs) + n^2 log n (ranks); CKA ~ n p^2 or n^2 p; CCA ~ n p^2 + p^3; Procrustes
 * ~ n p^2 + p^3 (n^2 p + n^3 when p > n: the stimulus-space form); encoding ~ folds x
 * (n p^2 + p^3 + alphas x n p^2).  RSA permutations
 * cost ~ n^2 each, so they are timed (1000 of them) only up to n = --perm-max-n. */
#include "bench.h"
#include "cli.h"
#include "commands.h"
#include "kernels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Median seconds of `repeat` runs of one family; dies on failure. */
static double time_family(bench_family fam, const double *X, const double *Y, int n, int p, int perms, int repeat) {
    char err[TB_ERRLEN];
    double sec[16];
    for (int r = 0; r < repeat; r++)
        if (bench_align_family(fam, X, Y, n, p, perms, &sec[r], err)) cli_die(1, "%s", err);
    return bench_median(sec, repeat);
}

/* --sizes "NxP,NxP,...": the (n, p) pairs to time into sz[max][2]; their count. */
static int parse_sizes(const char *text, int (*sz)[2], int max) {
    int count = 0;
    const char *s = text;
    while (*s) {
        char *end;
        long n = strtol(s, &end, 10), p;
        if (end == s || *end != 'x') cli_die(2, "--sizes: expected NxP at '%s'", s);
        s = end + 1;
        p = strtol(s, &end, 10);
        if (end == s || (*end && *end != ',')) cli_die(2, "--sizes: expected NxP at '%s'", s);
        if (n < 10 || n > 20000 || p < 1 || p > 100000) cli_die(2, "--sizes: %ldx%ld is out of range (n 10..20000, p 1..100000)", n, p);
        if (count == max) cli_die(2, "--sizes: at most %d sizes", max);
        sz[count][0] = (int)n;
        sz[count++][1] = (int)p;
        s = *end ? end + 1 : end;
    }
    if (!count) cli_die(2, "--sizes: no size given");
    return count;
}

/* One size's times: t[0..4] the families, t[5] the permutations (-1: not timed);
 * np[3] numpy's RSA, CKA, encoding (NAN: not run). */
typedef struct { int n, p; double t[6], all, np[3]; } size_row;

static const char *const fam_names[6] = {"rsa", "cka", "cca", "procrustes", "encoding", "perm"};

/* The subset numpy is timed on: RSA + CKA + encoding. */
static double subset(const double *t) { return t[0] + t[1] + t[4]; }

static void json_row(const size_row *r) {
    json_writer *jw = json_w();
    jw_object(jw, NULL, JW_COMPACT);
    jw_int(jw, "n", r->n);
    jw_int(jw, "p", r->p);
    for (int f = 0; f < 5; f++) jw_num(jw, fam_names[f], r->t[f]);
    jw_num(jw, "all", r->all);
    if (r->t[5] >= 0) jw_num(jw, "rsa_perm", r->t[5]);
    if (!isnan(r->np[0])) {
        double ours = subset(r->t), theirs = r->np[0] + r->np[1] + r->np[2];
        jw_num(jw, "numpy_rsa", r->np[0]);
        jw_num(jw, "numpy_cka", r->np[1]);
        jw_num(jw, "numpy_encoding", r->np[2]);
        jw_num(jw, "subset", ours);
        jw_num(jw, "numpy_subset", theirs);
        jw_num(jw, "numpy_over_tinybrain", theirs / ours);
    }
    jw_end(jw);
}

static void text_row(const size_row *r) {
    static const int w[10] = {6, 6, 7, 7, 7, 7, 7, 7, 8, 8};
    char c[10][24];
    snprintf(c[0], 24, "%d", r->n);
    snprintf(c[1], 24, "%d", r->p);
    for (int f = 0; f < 5; f++) snprintf(c[2 + f], 24, "%.3f", r->t[f]);
    snprintf(c[7], 24, "%.3f", r->all);
    if (r->t[5] >= 0) snprintf(c[8], 24, "%.3f", r->t[5]);
    else snprintf(c[8], 24, "-");
    snprintf(c[9], 24, "%d", cli_threads);
    const char *cells[10] = {c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9]};
    cli_table_row(10, w, cells);
    fflush(stdout);
}

/* After the main table: the RSA + CKA + encoding subset, ours against numpy's. */
static void numpy_table(const size_row *rows, int count, const char *blas) {
    static const int w[9] = {6, 6, 7, 7, 7, 9, 9, 9, 10};
    static const char *const head[9] = {"n", "p", "np_rsa", "np_cka", "np_enc", "numpy", "tinybrain", "ratio", "faster"};
    printf("\nthe RSA + CKA + encoding subset against numpy + its BLAS (%s, %d BLAS threads; bench/align_numpy.py, which skips "
           "Kendall's tau-a):\n", blas, cli_threads);
    cli_table_row(9, w, head);
    cli_table_rule(9, w);
    for (int i = 0; i < count; i++) {
        const size_row *r = &rows[i];
        if (isnan(r->np[0])) continue;
        double ours = subset(r->t), theirs = r->np[0] + r->np[1] + r->np[2];
        char c[9][24];
        snprintf(c[0], 24, "%d", r->n);
        snprintf(c[1], 24, "%d", r->p);
        for (int f = 0; f < 3; f++) snprintf(c[2 + f], 24, "%.3f", r->np[f]);
        snprintf(c[5], 24, "%.3f", theirs);
        snprintf(c[6], 24, "%.3f", ours);
        snprintf(c[7], 24, "%.2fx", theirs / ours);
        snprintf(c[8], 24, "%s", ours < theirs ? "tinybrain" : "numpy");
        const char *cells[9] = {c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]};
        cli_table_row(9, w, cells);
    }
    printf("ratio = numpy's seconds / tinybrain's (above 1: tinybrain is faster)\n");
}

/* --compare-numpy: 1 when numpy can be run against a real BLAS (its name into *blas). */
static int numpy_ready(const char *script, const char **blas) {
    char err[TB_ERRLEN], path[512];
    if (bench_python_blas("numpy", blas, path, sizeof path, err)) {
        cli_note("--compare-numpy: %s; skipping numpy (Debian: python3-numpy)", err);
        return 0;
    }
    if (!bench_blas_fair(*blas)) {
        cli_note("--compare-numpy: numpy loads the reference BLAS (%s): no ratio (apt-get install libopenblas0-pthread)", path);
        return 0;
    }
    if (access(script, R_OK) != 0) {
        cli_note("--compare-numpy: %s not found (run from the repository root or give --numpy-script)", script);
        return 0;
    }
    return 1;
}

/* Time every family (and numpy's subset when asked) at n x p. */
static void time_size(int n, int p, int perm_max_n, int perms, int repeat, const char *np_script, size_row *r) {
    double *X, *Y;
    char err[TB_ERRLEN];
    r->n = n;
    r->p = p;
    r->all = 0;
    r->np[0] = r->np[1] = r->np[2] = NAN;
    if (bench_align_data(n, p, &X, &Y, err)) cli_die(1, "%s", err);
    for (int f = BENCH_RSA; f <= BENCH_ENCODING; f++) { r->t[f] = time_family(f, X, Y, n, p, 0, repeat); r->all += r->t[f]; }
    r->t[5] = n <= perm_max_n ? time_family(BENCH_RSA_PERM, X, Y, n, p, perms, 1) - r->t[0] : -1;
    free(X);
    free(Y);
    if (np_script && bench_numpy_align(np_script, n, p, repeat, cli_threads, r->np, err))
        cli_note("--compare-numpy at %d x %d: %s", n, p, err);
}

/* The sizes to time: --sizes, or the table's (n <= max_n; --quick: n <= 500, p <= 512). */
static int pick_sizes(const char *size_list, int max_n, int quick, int (*sz)[2], int max) {
    /* the last row is brain-sized: 100 stimuli x 20,000 channels (the CCA family goes
     * through the 100 x 100 Gram matrices) */
    static const int table[][2] = {{250, 128}, {500, 128}, {500, 512}, {1000, 128}, {1000, 512},
                                   {1000, 1024}, {2000, 512}, {4000, 512}, {100, 20000}};
    if (size_list) return parse_sizes(size_list, sz, max);
    int count = 0;
    for (size_t s = 0; s < sizeof table / sizeof table[0]; s++) {
        if (table[s][0] > max_n || (quick && (table[s][0] > 500 || table[s][1] > 512))) continue;
        sz[count][0] = table[s][0];
        sz[count++][1] = table[s][1];
    }
    return count;
}

static void begin_output(int json, int perms, int repeat) {
    static const int w[10] = {6, 6, 7, 7, 7, 7, 7, 7, 8, 8};
    static const char *const head[10] = {"n", "p", "rsa", "cka", "cca", "procr", "enc", "all", "perm", "threads"};
    if (!json) {
        printf("seconds per metric family (align --metric all = the sum), %d threads, kernels %s%s\n", cli_threads,
               tb_kern->name, repeat > 1 ? ", medians" : "");
        cli_table_row(10, w, head);
        cli_table_rule(10, w);
        return;
    }
    json_begin();
    json_int("threads", cli_threads);
    json_str("kernels", tb_kern->name);
    json_int("perms", perms);
    json_int("repeat", repeat);
    jw_array(json_w(), "rows", JW_COMPACT);
}

int bench_align_main(int argc, char **argv) {
    int max_n, perm_max_n, perms, json, quick, repeat, numpy;
    const char *size_list, *np_script, *blas = NULL;
    cli_opt opts[] = {
        {"max-n", 'i', &max_n, "4000", "", "largest number of stimuli in the table", 100, 20000, NULL},
        {"perm-max-n", 'i', &perm_max_n, "1000", "", "time RSA permutations up to this n", 0, 20000, NULL},
        {"perms", 'i', &perms, "1000", "", "RSA permutations in the perm column", 1, 100000, NULL},
        {"quick", 'b', &quick, NULL, "", "small sizes only (n <= 500), for a fast check", 0, 0, NULL},
        {"sizes", 's', &size_list, NULL, "", "time these sizes instead of the table's, e.g. 1000x512,1000x1024", 0, 0, NULL},
        {"repeat", 'i', &repeat, "1", "", "runs per family and size; the table shows their median", 1, 16, NULL},
        {"compare-numpy", 'b', &numpy, NULL, "", "also time numpy (its BLAS, same threads) on RSA + CKA + encoding, same data shape", 0, 0, NULL},
        {"numpy-script", 's', &np_script, "bench/align_numpy.py", "", "the numpy peer --compare-numpy runs", 0, 0, NULL},
        {"json", 'b', &json, NULL, "", "one JSON object: threads, kernels, perms and a row per size", 0, 0, NULL},
    };
    cli_cmd cmd = {"bench align", "", "seconds per alignment metric family as n (stimuli) and p (units) grow",
                   "Random n x p data on both sides (Y = X + noise), all threads. 'all' = rsa + cka + cca + "
                   "procrustes + encoding, i.e. `tinybrain align --metric all` without permutations; 'perm' is "
                   "--perms RSA permutations on top. --compare-numpy runs bench/align_numpy.py with "
                   "/usr/bin/python3 on the same sizes and prints numpy's seconds beside ours.",
                   "tinybrain bench align --sizes 1000x512,1000x1024 --repeat 3 --perm-max-n 0 --compare-numpy"};
    char *pos[1];
    cli_parse(&cmd, opts, NOPT(opts), argc, argv, pos, 0, 0);
    int sizes[32][2], nsizes = pick_sizes(size_list, max_n, quick, sizes, 32);
    if (numpy && !numpy_ready(np_script, &blas)) numpy = 0;
    size_row rows[32];
    begin_output(json, perms, repeat);
    cli_progress_start();
    for (int s = 0; s < nsizes; s++) {
        time_size(sizes[s][0], sizes[s][1], perm_max_n, perms, repeat, numpy ? np_script : NULL, &rows[s]);
        if (json) json_row(&rows[s]);
        else text_row(&rows[s]);
        cli_progress(s + 1, nsizes, "n %d x p %d timed", sizes[s][0], sizes[s][1]);
    }
    cli_progress_end();
    if (json) {
        jw_end(json_w());
        if (numpy) json_str("numpy_blas", blas);
        json_end();
        return 0;
    }
    printf("perm = %d RSA permutations (on top of 'all'); '-' = not timed at this n (--perm-max-n)\n", perms);
    if (numpy) numpy_table(rows, nsizes, blas);
    return 0;
}
