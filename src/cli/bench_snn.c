/* bench_snn.c -- `tinybrain bench snn`: how the cost of a spiking network grows with its
 * size and activity (lesson 04).  CUBA benchmark network at 4k, 16k and 64k neurons,
 * with fixed in-degree 80 and with fixed 2% connection probability (whose in-degree grows
 * with N: 1280 at 64k).  Optionally Brian2 side by side (--compare-brian).  The runs
 * are bench_snn_network (include/bench.h). */
#include "bench.h"
#include "cli.h"
#include "commands.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { NCOL = 9, ROW_JSON = 320 };   /* table columns; bytes of one row's JSON (checked) */

static const int sizes[3] = {4000, 16000, 64000};
static const double base_ms[2][3] = {{10000, 4000, 2000}, {10000, 2000, 1000}};   /* by connectivity, size */
static const char *const conn[2] = {"k=80", "p=2%"};
static const int widths[NCOL] = {7, 8, 10, 9, 10, 13, 13, 9, 9};

/* One row of the table (c: connectivity, s: size), printed or appended to json. */
static void scaling_row(int c, int s, double scale, int json, char *rows, size_t cap) {
    char err[TB_ERRLEN];
    double ms = base_ms[c][s] * scale, steps = ms / 0.1;
    int n = sizes[s];
    bench_snn_row r;
    if (bench_snn_network("cuba", n, c == 0 ? 80 : 0, ms, cli_threads, &r, err)) cli_die(1, "%s", err);
    if (json) {
        size_t len = strlen(rows);
        int w = snprintf(rows + len, cap - len,
                         "%s{\"neurons\":%d,\"conn\":\"%s\",\"synapses\":%lld,\"sim_ms\":%g,\"wall_s\":%.4f,"
                         "\"updates_per_s\":%.4g,\"events_per_s\":%.4g,\"rate_hz\":%.3f,\"state_mb\":%.1f}",
                         len > 1 ? "," : "", n, conn[c], r.synapses, ms, r.wall_s, n * steps / r.wall_s,
                         r.events / r.wall_s, r.rate_hz, r.bytes / 1e6);
        if (w < 0 || (size_t)w >= cap - len) cli_die(1, "JSON row too long");
        return;
    }
    char cells[NCOL][32];
    snprintf(cells[0], 32, "%dk", n / 1000);
    snprintf(cells[1], 32, "%s", conn[c]);
    snprintf(cells[2], 32, "%.3gM", r.synapses / 1e6);
    snprintf(cells[3], 32, "%.0f", ms);
    snprintf(cells[4], 32, "%.3f", r.wall_s);
    snprintf(cells[5], 32, "%.3f", r.wall_s / (ms * 1e-3));
    snprintf(cells[6], 32, "%.3g", n * steps / r.wall_s);
    snprintf(cells[7], 32, "%.3g", r.events / r.wall_s);
    snprintf(cells[8], 32, "%.2f", r.rate_hz);
    const char *cp[NCOL];
    for (int i = 0; i < NCOL; i++) cp[i] = cells[i];
    cli_table_row(NCOL, widths, cp);
}

/* CUBA and COBA at 4000 neurons for 10 s, ours and Brian2's; 0 when Brian2 could not run. */
static int side_by_side(const char *script, double ours[2], double our_rate[2], double bw[2], double br[2]) {
    static const char *const models[2] = {"cuba", "coba"};
    char err[TB_ERRLEN];
    if (!bench_python_has("brian2")) return 0;
    for (int m = 0; m < 2; m++) {
        bench_snn_row r;
        if (bench_snn_network(models[m], 4000, 0, 10000, cli_threads, &r, err)) cli_die(1, "%s", err);
        ours[m] = r.wall_s;
        our_rate[m] = r.rate_hz;
        if (bench_brian(script, models[m], 10, &bw[m], &br[m], err)) return 0;
    }
    return 1;
}

static void print_side_by_side(const char *script, int have_brian, const double ours[2], const double our_rate[2],
                               const double bw[2], const double br[2]) {
    static const char *const models[2] = {"cuba", "coba"};
    printf("\n4000 neurons, 10 s biological, side by side:\n");
    if (!have_brian) {
        printf("brian2 not available (/usr/bin/python3 -c 'import brian2' failed or %s missing): skipped\n", script);
        return;
    }
    printf("%-6s %12s %12s %10s %14s %14s\n", "model", "tinybrain s", "brian2 s", "speed-up", "tinybrain Hz", "brian2 Hz");
    for (int m = 0; m < 2; m++)
        printf("%-6s %12.3f %12.3f %9.2fx %14.3f %14.3f\n", models[m], ours[m], bw[m], bw[m] / ours[m], our_rate[m], br[m]);
}

int bench_snn_main(int argc, char **argv) {
    double scale;
    int compare, json;
    const char *script;
    cli_opt opts[] = {
        {"scale", 'f', &scale, "1", "", "multiply every simulated duration (0.1 for a quick look)", 0.01, 100, NULL},
        {"compare-brian", 'b', &compare, NULL, "", "also run Brian2 C++ standalone on CUBA and COBA (10 s) side by side", 0, 0, NULL},
        {"brian-script", 's', &script, "../shared/bench/brian_cuba.py", "", "the Brian2 reference script", 0, 0, NULL},
        {"json", 'b', &json, NULL, "", "print one JSON object", 0, 0, NULL},
    };
    cli_cmd cmd = {"bench snn", "", "spiking network cost vs size and activity (CUBA network)",
                   "Rows: 4k, 16k, 64k neurons, with fixed in-degree 80 and with 2% connectivity.\n"
                   "Columns: simulated time, wall seconds per biological second, neuron updates/s,\n"
                   "synaptic events/s, mean rate and the memory the network state takes.\n"
                   "Timings on a shared machine are noisy; run twice.",
                   "tinybrain bench snn --compare-brian"};
    cli_parse(&cmd, opts, NOPT(opts), argc, argv, NULL, 0, 0);
    static const char *const hdr[NCOL] = {"neurons", "conn", "synapses", "sim ms", "wall s", "wall/bio s", "updates/s", "events/s", "rate Hz"};
    if (!json) {
        printf("CUBA benchmark network, up to %d thread%s (one per 16k neurons), kernels %s (timings are noisy on a shared machine)\n",
               cli_threads, cli_threads > 1 ? "s" : "", tb_kern->name);
        cli_table_row(NCOL, widths, hdr);
        cli_table_rule(NCOL, widths);
    }
    size_t cap = 2 + 6 * ROW_JSON;
    char *rows = malloc(cap);
    if (!rows) cli_die(1, "out of memory");
    snprintf(rows, cap, "[");
    cli_progress_start();
    for (int c = 0; c < 2; c++)
        for (int s = 0; s < 3; s++) {
            scaling_row(c, s, scale, json, rows, cap - 1);
            fflush(stdout);
            cli_progress(c * 3 + s + 1, 6, "networks simulated");
        }
    cli_progress_end();
    strcat(rows, "]");
    double ours[2] = {NAN, NAN}, our_rate[2] = {NAN, NAN}, bw[2] = {NAN, NAN}, br[2] = {NAN, NAN};
    int have_brian = compare && side_by_side(script, ours, our_rate, bw, br);
    if (!json) {
        if (compare) print_side_by_side(script, have_brian, ours, our_rate, bw, br);
    } else {
        json_begin();
        json_int("threads", cli_threads);
        json_raw("rows", rows);
        if (have_brian) {
            json_num_array("tinybrain_wall_s", ours, 2);
            json_num_array("brian2_wall_s", bw, 2);
            json_num_array("tinybrain_rate_hz", our_rate, 2);
            json_num_array("brian2_rate_hz", br, 2);
        }
        json_end();
    }
    free(rows);
    return 0;
}
