/* study_train.c -- the study's design and its models, trained through the sweep library
 * (sweep.h) so every run is cached in its own folder under DIR/runs.  Lesson 17; see
 * include/study.h.
 *
 *   GPT widths      --d-model W --layers D0  x seeds     (W in design.widths)
 *   GPT depths      --d-model W0 --layers D  x seeds     (D in design.depths; (W0, D0) is shared)
 *   scrambled       --d-model W0 --layers D0 --scramble x seeds
 *   spiking nets    train-snn x seeds: seed k is the "brain" of GPT seed k
 * Every GPT gets the same steps and log-spaced --save-at snapshots, so step 0 is its
 * untrained control.  Two plans that name the same (d-model, layers) hash to the same run
 * folder: the main model is trained once.
 */
#include "study.h"
#include "sweep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void study_design_steps(study_design *d, int steps) {
    static const int logp[] = {10, 30, 100, 300, 1000, 3000, 10000, 30000};
    int at[32], n = 0;
    d->steps = steps;
    at[n++] = 0;
    int early = steps / 100 * 10;    /* 10% of training: S1's early snapshot */
    for (size_t i = 0; i < sizeof logp / sizeof logp[0] && 2 * logp[i] < steps; i++) {
        if (early > at[n - 1] && early < logp[i]) at[n++] = early;
        at[n++] = logp[i];
    }
    if (early > at[n - 1] && 2 * early < steps) at[n++] = early;
    for (int k = 2; k <= 5; k++) {   /* the second half, evenly: the facts are learned late */
        int v = (int)((long long)steps * k / 6 / 10 * 10);
        if (v > at[n - 1]) at[n++] = v;
    }
    size_t used = 0;
    for (int i = 0; i < n; i++) used += (size_t)snprintf(d->save_at + used, sizeof d->save_at - used, "%d,", at[i]);
    snprintf(d->save_at + used, sizeof d->save_at - used, "final");
}

void study_design_default(study_design *d, int quick) {
    memset(d, 0, sizeof *d);
    d->quick = quick;
    d->seeds = quick ? 2 : 3;
    study_design_steps(d, quick ? 800 : 3000);
    d->n_widths = quick ? 2 : 3;
    static const int widths[3] = {32, 64, 128};
    memcpy(d->widths, widths, sizeof widths);
    d->n_depths = quick ? 1 : 2;
    d->depths[0] = 2;
    d->depths[1] = 4;
    d->width = 64;
    d->depth = 2;
    d->snn_steps = quick ? 300 : 600;
    d->units = 16;
    d->units_repeats = quick ? 10 : 20;
    d->loc_top = 25;
    d->abl_sets = 100;
    d->abl_tokens = quick ? 2000 : 4000;
    d->boot = quick ? 100 : 200;
    d->trials = 10;
    d->scan = 1;
}

int study_find(const study_result *r, int width, int depth, int seed, int scrambled) {
    for (int i = 0; i < r->n_gpt; i++) {
        const study_model *m = &r->gpt[i];
        if (m->width == width && m->depth == depth && m->seed == seed && m->scrambled == scrambled) return i;
    }
    return -1;
}

/* ---- one plan ------------------------------------------------------------------------- */

typedef struct { const study_opts *o; const char *what; int done_before, total; } train_ctx;

static void trained(void *ctx, int done, int total, const sweep_run *r) {
    (void)total;
    (void)r;
    train_ctx *c = ctx;
    if (c->o->progress) c->o->progress(c->o->ctx, c->what, c->done_before + done, c->total);
}

/* The flags every run of a model kind gets (strings in buf). */
static int extras(const study_design *d, int snn, int scramble, char **argv, char *buf, size_t cap) {
    int n = 0;
    size_t used = 0;
#define PUT(...) do { argv[n++] = buf + used; used += (size_t)snprintf(buf + used, cap - used, __VA_ARGS__) + 1; } while (0)
    PUT("--steps"); PUT("%d", snn ? d->snn_steps : d->steps);
    PUT("--val-tokens"); PUT("4000");
    PUT("--eval-every"); PUT("%d", snn ? d->snn_steps : d->steps);
    if (!snn) { PUT("--save-at"); PUT("%s", d->save_at); }
    if (scramble) PUT("--scramble");
#undef PUT
    return used < cap ? n : -1;
}

/* One plan: the model kind, its flags and (GPT) the widths x depths axes.  Strings live
 * in the caller's pl. */
typedef struct {
    sweep_plan p;
    int snn, scramble;
    char buf[1024], *argv[16], root[1100];
} plan;

static int plan_init(const study_design *d, const study_opts *o, int snn, int scramble, const int *widths, int nw,
                     const int *depths, int nd, plan *pl, char *err) {
    memset(pl, 0, sizeof *pl);
    pl->snn = snn;
    pl->scramble = scramble;
    snprintf(pl->root, sizeof pl->root, "%s/runs", o->out);
    sweep_plan *p = &pl->p;
    p->exe = o->exe;
    p->model = snn ? "snn" : "gpt";
    p->root = pl->root;
    p->data_dir = o->data_dir;
    p->seeds = d->seeds;
    p->jobs = o->jobs;
    p->threads = 1;
    p->extra = pl->argv;
    if ((p->n_extra = extras(d, snn, scramble, pl->argv, pl->buf, sizeof pl->buf)) < 0)
        return tb_fail(err, "study: flags too long");
    if (snn) return 0;
    p->n_axes = 2;
    snprintf(p->axis[0].flag, sizeof p->axis[0].flag, "d-model");
    snprintf(p->axis[1].flag, sizeof p->axis[1].flag, "layers");
    p->axis[0].n = nw;
    p->axis[1].n = nd;
    for (int i = 0; i < nw; i++) snprintf(p->axis[0].value[i], sizeof p->axis[0].value[i], "%d", widths[i]);
    for (int i = 0; i < nd; i++) snprintf(p->axis[1].value[i], sizeof p->axis[1].value[i], "%d", depths[i]);
    return 0;
}

/* The runs of a plan that are not trained yet. */
static int plan_untrained(const plan *pl, char *err) {
    sweep_run *runs;
    int n, to_train = 0;
    if (sweep_expand(&pl->p, &runs, &n, err)) return -1;
    for (int i = 0; i < n; i++) to_train += !runs[i].cached;
    free(runs);
    return to_train;
}

/* Keep a finished run: the GPT in r->gpt, the network in r->snn. */
static void keep(const plan *pl, const sweep_run *run, study_result *r) {
    if (pl->snn) {
        snprintf(r->snn[r->n_snn++], 1100, "%s", run->ckpt);
        return;
    }
    study_model *m = &r->gpt[r->n_gpt++];
    m->width = atoi(run->value[0]);
    m->depth = atoi(run->value[1]);
    m->seed = run->seed;
    m->scrambled = pl->scramble;
    m->cached = run->cached;
    snprintf(m->dir, sizeof m->dir, "%s", run->dir);
    snprintf(m->ckpt, sizeof m->ckpt, "%s", run->ckpt);
    snprintf(m->snaps, sizeof m->snaps, "%s/runs/gpt", run->dir);
}

/* Train what is not cached, `jobs` at a time, and keep every run. */
static int train_plan(const plan *pl, const study_opts *o, train_ctx *tc, study_result *r, char *err) {
    sweep_run *runs;
    int n;
    if (sweep_expand(&pl->p, &runs, &n, err)) return -1;
    int rc = sweep_execute(&pl->p, runs, n, trained, tc, o->interrupted, err);
    for (int i = 0; i < n; i++) tc->done_before += !runs[i].cached;
    for (int i = 0; !rc && i < n; i++) {
        if (runs[i].status)
            rc = tb_fail(err, "study: a training run failed (exit %d): %s/train.log says why", runs[i].status, runs[i].dir);
        else keep(pl, &runs[i], r);
    }
    free(runs);
    if (!rc && o->interrupted && *o->interrupted) rc = tb_fail(err, "interrupted: the runs trained so far are kept");
    return rc;
}

int study_train(const study_design *d, const study_opts *o, study_result *r, char *err) {
    int other[STUDY_MAX_CONFIGS], n_other = 0;   /* the depths that are not the main one */
    for (int i = 0; i < d->n_depths; i++)
        if (d->depths[i] != d->depth) other[n_other++] = d->depths[i];
    r->gpt = calloc((size_t)(d->n_widths + n_other + 1) * d->seeds, sizeof *r->gpt);
    r->snn = calloc((size_t)d->seeds, sizeof *r->snn);
    plan *pl = calloc(4, sizeof *pl);
    if (!r->gpt || !r->snn || !pl) { free(pl); return tb_fail(err, "out of memory"); }
    int rc = plan_init(d, o, 0, 0, d->widths, d->n_widths, &d->depth, 1, &pl[0], err) ||
             plan_init(d, o, 0, 0, &d->width, 1, other, n_other, &pl[1], err) ||
             plan_init(d, o, 0, 1, &d->width, 1, &d->depth, 1, &pl[2], err) ||
             plan_init(d, o, 1, 0, NULL, 0, NULL, 0, &pl[3], err);
    train_ctx tc = {o, "training", 0, 0};
    for (int k = 0; !rc && k < 4; k++) {
        int to_train = k == 1 && !n_other ? 0 : plan_untrained(&pl[k], err);
        if (to_train < 0) rc = -1;
        else tc.total += to_train;
    }
    for (int k = 0; !rc && k < 4; k++)
        if (k != 1 || n_other) rc = train_plan(&pl[k], o, &tc, r, err);
    free(pl);
    r->trained = tc.done_before;
    if (!rc && study_find(r, d->width, d->depth, 1, 0) < 0)
        rc = tb_fail(err, "study: the main model (d_model %d, %d layers) is not among the widths and depths", d->width,
                     d->depth);
    return rc;
}
