/* bench_snn.c -- `tinybrain bench snn`: how the cost of a spiking network grows with its
 * size and activity (lesson 04).  CUBA benchmark network at 4k, 16k and 64k neurons,
 * with fixed in-degree 80 and with fixed 2% connection probability (whose in-degree grows
 * with N: 1280 at 64k).  Optionally Brian2 side by side (--compare-brian). */
#include "cli.h"
#include "commands.h"
#include "kernels.h"
#include "snn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

typedef struct { double wall, rate; long long spikes, events, synapses; size_t bytes; } bench_row;

static int run_one(const char *preset, int n, int k_in, double ms, bench_row *r, char *err) {
    snn_config cfg;
    snn_net *net;
    if (snn_preset(&cfg, preset, n, k_in, err) || snn_build(&cfg, &net, err)) return -1;
    snn_result res;
    double t0 = now_s();
    if (snn_run(net, ms, snn_auto_threads(net, cli_threads), 0, NULL, 0, &res, err)) { snn_free(net); return -1; }
    r->wall = now_s() - t0;
    r->spikes = res.n_spikes;
    r->events = res.syn_events;
    r->rate = res.n_spikes / (n * ms * 1e-3);
    r->synapses = snn_n_synapses(net);
    r->bytes = snn_memory_bytes(net);
    snn_result_free(&res);
    snn_free(net);
    return 0;
}

/* Run the Brian2 script; fills wall and rate from its JSON.  1: ran, 0: skipped. */
static int run_brian(const char *script, const char *model, double sec, double *wall, double *rate) {
    if (system("/usr/bin/python3 -c 'import brian2' >/dev/null 2>&1") != 0) return 0;
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' --model %s --mode cpp_standalone --duration %g 2>/dev/null",
             script, model, sec);
    FILE *f = popen(cmd, "r");
    if (!f) return 0;
    char line[4096] = "";
    int got = 0;
    while (fgets(line, sizeof line, f)) {
        char *w = strstr(line, "\"wall_s\":"), *r = strstr(line, "\"mean_rate_hz\":");
        if (w && r) { *wall = atof(w + 9); *rate = atof(r + 15); got = 1; }
    }
    pclose(f);
    return got;
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
    char *pos[1];
    cli_parse(&cmd, opts, NOPT(opts), argc, argv, pos, 0, 0);
    char err[TB_ERRLEN];
    static const int sizes[3] = {4000, 16000, 64000};
    static const double base_ms[2][3] = {{10000, 4000, 2000}, {10000, 2000, 1000}};
    const char *conn[2] = {"k=80", "p=2%"};
    int widths[9] = {7, 8, 10, 9, 10, 13, 13, 9, 9};
    const char *hdr[9] = {"neurons", "conn", "synapses", "sim ms", "wall s", "wall/bio s", "updates/s", "events/s", "rate Hz"};
    if (!json) {
        printf("CUBA benchmark network, up to %d thread%s (one per 16k neurons), kernels %s (timings are noisy on a shared machine)\n",
               cli_threads, cli_threads > 1 ? "s" : "", tb_kern->name);
        cli_table_row(9, widths, hdr);
        cli_table_rule(9, widths);
    }
    char rows_json[4096] = "[";
    for (int c = 0; c < 2; c++)
        for (int s = 0; s < 3; s++) {
            double ms = base_ms[c][s] * scale;
            bench_row r;
            if (run_one("cuba", sizes[s], c == 0 ? 80 : 0, ms, &r, err)) cli_die(1, "%s", err);
            double bio = ms * 1e-3, steps = ms / 0.1;
            char cells[9][32];
            snprintf(cells[0], 32, "%dk", sizes[s] / 1000);
            snprintf(cells[1], 32, "%s", conn[c]);
            snprintf(cells[2], 32, "%.3gM", r.synapses / 1e6);
            snprintf(cells[3], 32, "%.0f", ms);
            snprintf(cells[4], 32, "%.3f", r.wall);
            snprintf(cells[5], 32, "%.3f", r.wall / bio);
            snprintf(cells[6], 32, "%.3g", sizes[s] * steps / r.wall);
            snprintf(cells[7], 32, "%.3g", r.events / r.wall);
            snprintf(cells[8], 32, "%.2f", r.rate);
            const char *cp[9];
            for (int i = 0; i < 9; i++) cp[i] = cells[i];
            if (!json) cli_table_row(9, widths, cp);
            size_t L = strlen(rows_json);
            snprintf(rows_json + L, sizeof rows_json - L,
                     "%s{\"neurons\":%d,\"conn\":\"%s\",\"synapses\":%lld,\"sim_ms\":%g,\"wall_s\":%.4f,"
                     "\"updates_per_s\":%.4g,\"events_per_s\":%.4g,\"rate_hz\":%.3f,\"state_mb\":%.1f}",
                     (c || s) ? "," : "", sizes[s], conn[c], r.synapses, ms, r.wall, sizes[s] * steps / r.wall,
                     r.events / r.wall, r.rate, r.bytes / 1e6);
        }
    strcat(rows_json, "]");
    double ours[2] = {NAN, NAN}, ourrate[2] = {NAN, NAN}, bw[2] = {NAN, NAN}, br[2] = {NAN, NAN};
    int have_brian = 0;
    if (compare) {
        const char *models[2] = {"cuba", "coba"};
        for (int m = 0; m < 2; m++) {
            bench_row r;
            if (run_one(models[m], 4000, 0, 10000, &r, err)) cli_die(1, "%s", err);
            ours[m] = r.wall;
            ourrate[m] = r.rate;
            have_brian = run_brian(script, models[m], 10, &bw[m], &br[m]);
            if (!have_brian) break;
        }
        if (!json) {
            printf("\n4000 neurons, 10 s biological, side by side:\n");
            if (!have_brian) {
                printf("brian2 not available (/usr/bin/python3 -c 'import brian2' failed or %s missing): skipped\n", script);
            } else {
                printf("%-6s %12s %12s %10s %14s %14s\n", "model", "tinybrain s", "brian2 s", "speed-up", "tinybrain Hz", "brian2 Hz");
                for (int m = 0; m < 2; m++)
                    printf("%-6s %12.3f %12.3f %9.2fx %14.3f %14.3f\n", models[m], ours[m], bw[m], bw[m] / ours[m],
                           ourrate[m], br[m]);
            }
        }
    }
    if (json) {
        json_begin();
        json_int("threads", cli_threads);
        json_raw("rows", rows_json);
        if (compare && have_brian) {
            json_num_array("tinybrain_wall_s", ours, 2);
            json_num_array("brian2_wall_s", bw, 2);
            json_num_array("tinybrain_rate_hz", ourrate, 2);
            json_num_array("brian2_rate_hz", br, 2);
        }
        json_end();
    }
    return 0;
}
