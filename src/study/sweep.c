/* sweep.c -- every combination of varied flags x seeds, each trained by a child process
 * in its own folder, cached by a hash of its config.  Lessons 15 and 17; see
 * include/sweep.h. */
#include "sweep.h"
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- plan ------------------------------------------------------------------------ */

int sweep_parse_axis(const char *arg, sweep_axis *a, char *err) {
    memset(a, 0, sizeof *a);
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg) return tb_fail(err, "--vary '%s': expected FLAG=v1,v2,...", arg);
    size_t fl = (size_t)(eq - arg);
    if (arg[0] == '-' && arg[1] == '-') { arg += 2; fl -= 2; }
    if (fl == 0 || fl >= sizeof a->flag) return tb_fail(err, "--vary: bad flag name in '%s'", arg);
    memcpy(a->flag, arg, fl);
    for (const char *p = eq + 1; *p;) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        if (len == 0 || len >= sizeof a->value[0]) return tb_fail(err, "--vary %s: empty or over-long value", a->flag);
        if (a->n == SWEEP_MAX_VALUES) return tb_fail(err, "--vary %s: more than %d values", a->flag, SWEEP_MAX_VALUES);
        memcpy(a->value[a->n++], p, len);
        p = c ? c + 1 : p + len;
    }
    if (a->n == 0) return tb_fail(err, "--vary %s: no values", a->flag);
    return 0;
}

static int seed_is_axis(const sweep_plan *p) {
    for (int i = 0; i < p->n_axes; i++)
        if (!strcmp(p->axis[i].flag, "seed")) return 1;
    return 0;
}

/* 64-bit FNV-1a, folded over the canonical text of a run's config. */
static uint64_t fnv(uint64_t h, const char *s) {
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001B3ull;
    return h;
}

static uint64_t config_hash(const sweep_plan *p, const sweep_run *r) {
    int order[SWEEP_MAX_AXES];   /* axes sorted by flag name: --vary order does not matter */
    for (int i = 0; i < p->n_axes; i++) order[i] = i;
    for (int i = 1; i < p->n_axes; i++)
        for (int j = i; j > 0 && strcmp(p->axis[order[j - 1]].flag, p->axis[order[j]].flag) > 0; j--) {
            int t = order[j]; order[j] = order[j - 1]; order[j - 1] = t;
        }
    uint64_t h = fnv(0xCBF29CE484222325ull, p->model);
    for (int i = 0; i < p->n_axes; i++) {
        h = fnv(fnv(fnv(h, " --"), p->axis[order[i]].flag), "=");
        h = fnv(h, r->value[order[i]]);
    }
    h = fnv(h, " |");
    for (int i = 0; i < p->n_extra; i++) h = fnv(fnv(h, " "), p->extra[i]);
    char s[32];
    snprintf(s, sizeof s, " | seed=%d", r->seed);
    return fnv(h, s);
}

static int file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int sweep_expand(const sweep_plan *p, sweep_run **runs, int *n, char *err) {
    *runs = NULL;
    *n = 0;
    if (strcmp(p->model, "gpt") && strcmp(p->model, "snn"))
        return tb_fail(err, "sweep: model '%s' is not gpt or snn", p->model);
    int seeds = seed_is_axis(p) ? 1 : (p->seeds > 0 ? p->seeds : 1);
    long total = seeds;
    for (int i = 0; i < p->n_axes; i++) total *= p->axis[i].n;
    if (total > 100000) return tb_fail(err, "sweep: %ld runs is too many", total);
    sweep_run *R = calloc((size_t)total, sizeof *R);
    if (!R) return tb_fail(err, "out of memory");
    for (long k = 0; k < total; k++) {
        long rest = k / seeds;   /* mixed-radix index: seeds fastest, then the last axis */
        for (int i = p->n_axes - 1; i >= 0; i--) {
            R[k].value[i] = p->axis[i].value[rest % p->axis[i].n];
            rest /= p->axis[i].n;
        }
        R[k].seed = seed_is_axis(p) ? 0 : (int)(k % seeds) + 1;
        snprintf(R[k].dir, sizeof R[k].dir, "%s/%s_%012llx", p->root, p->model,
                 (unsigned long long)(config_hash(p, &R[k]) & 0xFFFFFFFFFFFFull));
        snprintf(R[k].ckpt, sizeof R[k].ckpt, "%s/runs/%s.ckpt", R[k].dir, p->model);
        char done[1200];
        snprintf(done, sizeof done, "%s/train.json", R[k].dir);
        R[k].cached = file_exists(done) && file_exists(R[k].ckpt);
        R[k].val_loss = R[k].floor_nats = R[k].excess_nats = NAN;
        R[k].minimal_pair_acc = R[k].minimal_pair_acc_attractor = R[k].mean_rate_hz = NAN;
    }
    *runs = R;
    *n = (int)total;
    return 0;
}

/* ---- one child ---------------------------------------------------------------------- */

/* The child's argv: exe train|train-snn --data-dir D --json --quiet --force --threads T
 * [--seed k] [--FLAG value per axis] [extra...].  Strings live in buf.  --force: the
 * folder is this run's own, and a checkpoint there without train.json is an attempt that
 * was interrupted (Ctrl-C, a kill), so the run starts again from scratch. */
static char **child_argv(const sweep_plan *p, const sweep_run *r, const char *data_abs, char *buf, size_t cap) {
    int max = 13 + 2 * p->n_axes + p->n_extra;
    char **a = malloc((size_t)(max + 1) * sizeof *a);
    if (!a) return NULL;
    int k = 0;
    size_t used = 0;
#define PUT(s) do { a[k++] = buf + used; used += (size_t)snprintf(buf + used, cap - used, "%s", (s)) + 1; } while (0)
    PUT(p->exe);
    PUT(strcmp(p->model, "gpt") ? "train-snn" : "train");
    PUT("--data-dir"); PUT(data_abs);
    PUT("--json"); PUT("--quiet"); PUT("--force");
    char num[32];
    snprintf(num, sizeof num, "%d", p->threads > 0 ? p->threads : 1);
    PUT("--threads"); PUT(num);
    if (r->seed > 0) { snprintf(num, sizeof num, "%d", r->seed); PUT("--seed"); PUT(num); }
    for (int i = 0; i < p->n_axes; i++) {
        char flag[80];
        snprintf(flag, sizeof flag, "--%s", p->axis[i].flag);
        PUT(flag);
        PUT(r->value[i]);
    }
    for (int i = 0; i < p->n_extra; i++) PUT(p->extra[i]);
#undef PUT
    a[k] = NULL;
    return used < cap ? a : (free(a), NULL);
}

/* Write dir/cmd.txt: the command line, for people. */
static int write_cmd(const char *dir, char *const *argv, char *err) {
    size_t len = 2;
    for (int i = 0; argv[i]; i++) len += strlen(argv[i]) + 1;
    char *s = malloc(len), path[1200];
    if (!s) return tb_fail(err, "out of memory");
    s[0] = 0;
    for (int i = 0; argv[i]; i++) { strcat(s, i ? " " : ""); strcat(s, argv[i]); }
    strcat(s, "\n");
    snprintf(path, sizeof path, "%s/cmd.txt", dir);
    int rc = write_text_file(path, s, err);
    free(s);
    return rc;
}

/* fork + exec in the run folder with stdout -> train.json.tmp, stderr -> train.log. */
static pid_t start_child(const sweep_run *r, char *const *argv, char *err) {
    char out[1200], log[1200];
    snprintf(out, sizeof out, "%s/train.json.tmp", r->dir);
    snprintf(log, sizeof log, "%s/train.log", r->dir);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) { tb_fail(err, "cannot start a training process: %s", strerror(errno)); return -1; }
    if (pid > 0) return pid;
    /* child: from here only async-signal-safe calls, then exec */
    int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644), fe = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fo < 0 || fe < 0 || chdir(r->dir) != 0) _exit(127);
    dup2(fo, 1);
    dup2(fe, 2);
    close(fo);
    close(fe);
    execv(argv[0], argv);
    _exit(127);
}

/* The number after "key": in a one-object JSON text (NAN if absent or null). */
static double json_number(const char *text, const char *key) {
    char pat[96];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(text, pat);
    if (!p) return NAN;
    p += strlen(pat);
    char *end;
    double v = strtod(p, &end);
    return end == p ? NAN : v;
}

static void read_summary(sweep_run *r) {
    char path[1200], err[TB_ERRLEN];
    snprintf(path, sizeof path, "%s/train.json", r->dir);
    char *text;
    size_t len;
    if (read_file(path, &text, &len, err)) return;
    r->val_loss = json_number(text, "val_loss");
    r->floor_nats = json_number(text, "floor_nats");
    r->excess_nats = json_number(text, "excess_nats");
    r->minimal_pair_acc = json_number(text, "minimal_pair_acc");
    r->minimal_pair_acc_attractor = json_number(text, "minimal_pair_acc_attractor");
    r->mean_rate_hz = json_number(text, "mean_rate_hz");
    free(text);
}

/* A finished child: its summary becomes train.json (atomically) when it exited 0. */
static void finish_child(sweep_run *r, int status) {
    char tmp[1200], done[1200];
    snprintf(tmp, sizeof tmp, "%s/train.json.tmp", r->dir);
    snprintf(done, sizeof done, "%s/train.json", r->dir);
    r->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (r->status == 0 && rename(tmp, done) != 0) r->status = -1;
    if (r->status != 0) unlink(tmp);
}

/* ---- the whole plan ------------------------------------------------------------------ */

typedef struct { pid_t pid; int run; } slot;

static int launch(const sweep_plan *p, sweep_run *r, const char *data_abs, pid_t *pid, char *err) {
    char buf[8192];
    char **argv = child_argv(p, r, data_abs, buf, sizeof buf);
    if (!argv) return tb_fail(err, "sweep: command line too long");
    int rc = make_dirs(r->dir, err) || write_cmd(r->dir, argv, err);
    if (!rc) {
        *pid = start_child(r, argv, err);
        rc = *pid < 0 ? -1 : 0;
    }
    free(argv);
    return rc;
}

int sweep_execute(const sweep_plan *p, sweep_run *runs, int n, sweep_progress_fn cb, void *ctx,
                  volatile int *interrupted, char *err) {
    char data_abs[PATH_MAX];
    if (!realpath(p->data_dir, data_abs)) return tb_fail(err, "%s: %s", p->data_dir, strerror(errno));
    int jobs = p->jobs > 0 ? p->jobs : 1, to_train = 0, done = 0, active = 0, next = 0;
    for (int i = 0; i < n; i++) to_train += !runs[i].cached;
    slot *sl = calloc((size_t)jobs, sizeof *sl);
    if (!sl) return tb_fail(err, "out of memory");
    int rc = 0;
    while (done < to_train) {
        /* fill the free slots */
        while (active < jobs && next < n && !(interrupted && *interrupted)) {
            if (runs[next].cached) { next++; continue; }
            pid_t pid = -1;
            if (launch(p, &runs[next], data_abs, &pid, err)) { rc = -1; break; }
            for (int s = 0; s < jobs; s++)
                if (!sl[s].pid) { sl[s].pid = pid; sl[s].run = next; break; }
            active++;
            next++;
        }
        if (active == 0) break;   /* interrupted, or a launch failed */
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0) { if (errno == EINTR) continue; rc = tb_fail(err, "waitpid: %s", strerror(errno)); break; }
        for (int s = 0; s < jobs; s++)
            if (sl[s].pid == pid) {
                finish_child(&runs[sl[s].run], status);
                sl[s].pid = 0;
                active--;
                done++;
                if (cb) cb(ctx, done, to_train, &runs[sl[s].run]);
            }
    }
    while (active > 0) {   /* after an error: let the running children end */
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0 && errno != EINTR) break;
        for (int s = 0; s < jobs; s++)
            if (pid > 0 && sl[s].pid == pid) { finish_child(&runs[sl[s].run], status); sl[s].pid = 0; active--; }
    }
    free(sl);
    for (int i = 0; i < n; i++) read_summary(&runs[i]);
    return rc;
}

double sweep_t975(int df) {
    static const double t[] = {NAN, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                               2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086};
    if (df < 1) return NAN;
    if (df <= 20) return t[df];
    return 1.959964 + 2.4 / df;   /* within 0.005 of the exact value for df > 20 */
}

void sweep_mean_ci(const double *x, int n, double *mean, double *lo, double *hi) {
    double s = 0, ss = 0;
    int k = 0;
    for (int i = 0; i < n; i++)
        if (!isnan(x[i])) { s += x[i]; k++; }
    *mean = k ? s / k : NAN;
    for (int i = 0; i < n; i++)
        if (!isnan(x[i])) ss += (x[i] - *mean) * (x[i] - *mean);
    if (k < 2) { *lo = *hi = NAN; return; }
    double half = sweep_t975(k - 1) * sqrt(ss / (k - 1) / k);
    *lo = *mean - half;
    *hi = *mean + half;
}
