/* bench.c -- the clock, medians and the peers' reference scripts (see include/bench.h).
 * The workloads themselves are in bench_models.c and bench_math.c. */
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double bench_now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double bench_median(double *x, int n) {
    qsort(x, (size_t)n, sizeof *x, cmp_double);
    return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

/* The reference scripts run with Debian's python3, whatever python3 is first on PATH. */
#define PYTHON "/usr/bin/python3"

int bench_python_has(const char *module) {
    char cmd[256];
    if (snprintf(cmd, sizeof cmd, PYTHON " -c 'import %s' >/dev/null 2>&1", module) >= (int)sizeof cmd) return 0;
    return system(cmd) == 0;
}

int bench_python_blas(const char *module, const char **kind, char *path, size_t len, char *err) {
    char cmd[512];
    *kind = "unknown";
    if (len) path[0] = 0;
    if (strspn(module, "abcdefghijklmnopqrstuvwxyz0123456789_.") != strlen(module))
        return tb_fail(err, "python module name '%s'", module);
    snprintf(cmd, sizeof cmd,
             PYTHON " -c 'import %s; [print(l.split()[-1]) for l in open(\"/proc/self/maps\") if \"blas\" in l.lower()]'"
             " 2>/dev/null", module);
    FILE *f = popen(cmd, "r");
    if (!f) return tb_fail(err, "cannot start " PYTHON);
    char line[1024];
    int found = 0; /* 2: the library behind the libblas.so.3 interface; 1: some BLAS mapped */
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        int iface = strstr(line, "/libblas.so") != NULL; /* what the BLAS symbols resolve to */
        const char *k = strstr(line, "openblas") ? "OpenBLAS" : strstr(line, "mkl") ? "MKL"
                      : strstr(line, "blis") ? "BLIS" : strstr(line, "/blas/libblas") ? "reference BLAS" : NULL;
        if (k && 1 + iface > found) {
            *kind = k;
            snprintf(path, len, "%s", line);
            found = 1 + iface;
        }
    }
    if (pclose(f) != 0 && !found) return tb_fail(err, PYTHON " cannot import %s", module);
    return 0;
}

int bench_blas_fair(const char *kind) { return strcmp(kind, "reference BLAS") != 0; }

/* The number after "key": in line, if the key is there. */
static int find_number(const char *line, const char *key, double *v) {
    char quoted[128];
    snprintf(quoted, sizeof quoted, "\"%s\":", key);
    const char *at = strstr(line, quoted);
    if (!at) return 0;
    *v = atof(at + strlen(quoted));
    return 1;
}

int bench_run_script(const char *script, const char *args, const char *const *keys, int nkeys,
                     double *vals, char *err) {
    if (access(script, R_OK) != 0) return tb_fail(err, "%s: not found", script);
    if (strchr(script, '\'')) return tb_fail(err, "%s: quote in the script's path", script);
    char cmd[2048];
    if (snprintf(cmd, sizeof cmd, PYTHON " '%s' %s 2>/dev/null", script, args) >= (int)sizeof cmd)
        return tb_fail(err, "%s: command line too long", script);
    FILE *f = popen(cmd, "r");
    if (!f) return tb_fail(err, "%s: cannot start " PYTHON, script);
    for (int k = 0; k < nkeys; k++) vals[k] = NAN;
    char line[4096];
    while (fgets(line, sizeof line, f))
        for (int k = 0; k < nkeys; k++) find_number(line, keys[k], &vals[k]);
    int status = pclose(f);
    if (isnan(vals[0]))
        return tb_fail(err, "%s: printed no \"%s\" (exit status %d)", script, keys[0], status);
    return 0;
}

/* Run script with args if python3 has module; vals[2] from keys[2]. */
static int run_peer(const char *module, const char *script, const char *args, const char *const *keys, double *vals,
                    char *err) {
    if (!bench_python_has(module)) return tb_fail(err, PYTHON " cannot import %s", module);
    return bench_run_script(script, args, keys, 2, vals, err);
}

int bench_torch_gpt(const char *script, const bench_gpt_preset *p, int threads, int steps, int warmup, double *ms,
                    double *gflops, char *err) {
    static const char *const keys[2] = {"ms_per_step", "gflops"};
    char args[512];
    double v[2];
    snprintf(args, sizeof args,
             "--preset %s --vocab %d --ctx %d --layers %d --heads %d --dim %d --batch %d --threads %d --steps %d --warmup %d",
             p->name, p->vocab, p->ctx, p->layers, p->heads, p->dim, p->batch, threads, steps, warmup);
    if (run_peer("torch", script, args, keys, v, err)) return -1;
    *ms = v[0];
    *gflops = v[1];
    return 0;
}

int bench_torch_srnn(const char *script, const bench_srnn_shape *s, int threads, double *ms, double *spike_p,
                     char *err) {
    static const char *const keys[2] = {"ms_per_step", "spike_prob"};
    char args[256];
    double v[2];
    snprintf(args, sizeof args, "--threads %d --vocab %d --neurons %d --steps-per-token %d --ctx %d --batch %d",
             threads, s->vocab, s->neurons, s->steps_per_token, s->ctx, s->batch);
    if (run_peer("torch", script, args, keys, v, err)) return -1;
    *ms = v[0];
    *spike_p = v[1];
    return 0;
}

int bench_brian(const char *script, const char *model, double sec, double *wall_s, double *rate_hz, char *err) {
    static const char *const keys[2] = {"wall_s", "mean_rate_hz"};
    char args[256];
    double v[2];
    snprintf(args, sizeof args, "--model %s --mode cpp_standalone --duration %g", model, sec);
    if (run_peer("brian2", script, args, keys, v, err)) return -1;
    *wall_s = v[0];
    *rate_hz = v[1];
    return 0;
}

int bench_numpy_align(const char *script, int n, int p, int repeat, int threads, double sec[3], char *err) {
    static const char *const keys[3] = {"rsa", "cka", "encoding"};
    char args[256];
    if (!bench_python_has("numpy")) return tb_fail(err, PYTHON " cannot import numpy");
    snprintf(args, sizeof args, "--n %d --p %d --repeat %d --threads %d", n, p, repeat, threads);
    if (bench_run_script(script, args, keys, 3, sec, err)) return -1;
    if (isnan(sec[1]) || isnan(sec[2])) return tb_fail(err, "%s: printed no \"cka\" or \"encoding\"", script);
    return 0;
}
