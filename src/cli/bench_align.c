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

#include <stdio.h>
#include <stdlib.h>

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

int bench_align_main(int argc, char **argv) {
    int max_n, perm_max_n, perms, json, quick, repeat;
    const char *size_list;
    cli_opt opts[] = {
        {"max-n", 'i', &max_n, "4000", "", "largest number of stimuli in the table", 100, 20000, NULL},
        {"perm-max-n", 'i', &perm_max_n, "1000", "", "time RSA permutations up to this n", 0, 20000, NULL},
        {"perms", 'i', &perms, "1000", "", "RSA permutations in the perm column", 1, 100000, NULL},
        {"quick", 'b', &quick, NULL, "", "small sizes only (n <= 500), for a fast check", 0, 0, NULL},
        {"sizes", 's', &size_list, NULL, "", "time these sizes instead of the table's, e.g. 1000x512,1000x1024", 0, 0, NULL},
        {"repeat", 'i', &repeat, "1", "", "runs per family and size; the table shows their median", 1, 16, NULL},
        {"json", 'b', &json, NULL, "", "one JSON object: threads, kernels, perms and a row per size", 0, 0, NULL},
    };
    cli_cmd cmd = {"bench align", "", "seconds per alignment metric family as n (stimuli) and p (units) grow",
                   "Random n x p data on both sides (Y = X + noise), all threads. 'all' = rsa + cka + cca + "
                   "procrustes + encoding, i.e. `tinybrain align --metric all` without permutations; 'perm' is "
                   "--perms RSA permutations on top.",
                   "tinybrain bench align --sizes 1000x512,1000x1024 --repeat 5 --perm-max-n 0"};
    char *pos[1];
    cli_parse(&cmd, opts, NOPT(opts), argc, argv, pos, 0, 0);
    /* the last row is brain-sized: 100 stimuli x 20,000 channels (the CCA family goes
     * through the 100 x 100 Gram matrices) */
    static const int table[][2] = {{250, 128}, {500, 128}, {500, 512}, {1000, 128}, {1000, 512},
                                   {1000, 1024}, {2000, 512}, {4000, 512}, {100, 20000}};
    int sizes[32][2], nsizes = (int)(sizeof table / sizeof table[0]);
    if (size_list) {
        nsizes = parse_sizes(size_list, sizes, 32);
        max_n = 20000;
        quick = 0;
    } else {
        for (int s = 0; s < nsizes; s++) { sizes[s][0] = table[s][0]; sizes[s][1] = table[s][1]; }
    }
    const char *fam_names[6] = {"rsa", "cka", "cca", "procrustes", "encoding", "perm"};
    int w[10] = {6, 6, 7, 7, 7, 7, 7, 7, 8, 8};
    const char *head[10] = {"n", "p", "rsa", "cka", "cca", "procr", "enc", "all", "perm", "threads"};
    int todo = 0, done = 0;
    for (int s = 0; s < nsizes; s++) todo += !(sizes[s][0] > max_n || (quick && sizes[s][0] > 500));
    if (!json) {
        printf("seconds per metric family (align --metric all = the sum), %d threads, kernels %s%s\n", cli_threads,
               tb_kern->name, repeat > 1 ? ", medians" : "");
        cli_table_row(10, w, head);
        cli_table_rule(10, w);
    } else {
        json_begin();
        json_int("threads", cli_threads);
        json_str("kernels", tb_kern->name);
        json_int("perms", perms);
        json_int("repeat", repeat);
        jw_array(json_w(), "rows", JW_COMPACT);
    }
    cli_progress_start();
    for (int s = 0; s < nsizes; s++) {
        int n = sizes[s][0], p = sizes[s][1];
        if (n > max_n || (quick && (n > 500 || p > 512))) continue;
        double *X, *Y, t[6], all = 0;
        char err[TB_ERRLEN];
        if (bench_align_data(n, p, &X, &Y, err)) cli_die(1, "%s", err);
        for (int f = BENCH_RSA; f <= BENCH_ENCODING; f++) { t[f] = time_family(f, X, Y, n, p, 0, repeat); all += t[f]; }
        t[5] = n <= perm_max_n ? time_family(BENCH_RSA_PERM, X, Y, n, p, perms, 1) - t[0] : -1;
        if (json) {
            json_writer *jw = json_w();
            jw_object(jw, NULL, JW_COMPACT);
            jw_int(jw, "n", n);
            jw_int(jw, "p", p);
            for (int f = 0; f < 5; f++) jw_num(jw, fam_names[f], t[f]);
            jw_num(jw, "all", all);
            if (t[5] >= 0) jw_num(jw, "rsa_perm", t[5]);
            jw_end(jw);
        } else {
            char c[10][24];
            snprintf(c[0], 24, "%d", n);
            snprintf(c[1], 24, "%d", p);
            for (int f = 0; f < 5; f++) snprintf(c[2 + f], 24, "%.3f", t[f]);
            snprintf(c[7], 24, "%.3f", all);
            if (t[5] >= 0) snprintf(c[8], 24, "%.3f", t[5]);
            else snprintf(c[8], 24, "-");
            snprintf(c[9], 24, "%d", cli_threads);
            const char *cells[10] = {c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9]};
            cli_table_row(10, w, cells);
            fflush(stdout);
        }
        free(X);
        free(Y);
        cli_progress(++done, todo, "n %d x p %d timed", n, p);
    }
    cli_progress_end();
    if (json) {
        jw_end(json_w());
        json_end();
    } else {
        printf("perm = %d RSA permutations (on top of 'all'); '-' = not timed at this n (--perm-max-n)\n", perms);
    }
    return 0;
}
