/* run.c -- one training run of either kind: options, opening (new or resumed), the run's
 * owner, and the loop of validation, snapshots and training steps.  Lessons 08 and 09;
 * the contract is in include/run.h, the files in run_files.c. */
#include "run_priv.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RUN_MAX_NAME 200   /* characters in a run name (it becomes file names) */

/* ---- options ----------------------------------------------------------------------- */

void run_default_opts(run_opts *o, run_kind kind) {
    memset(o, 0, sizeof *o);
    int gpt = kind == RUN_GPT;
    o->kind = kind;
    o->name = gpt ? RUN_GPT_NAME : RUN_SRNN_NAME;
    o->corpus = RUN_CORPUS;
    o->tokens = RUN_TOKENS;
    o->data_dir = TB_DATA_DIR;
    o->save_at = "";
    o->steps = gpt ? RUN_GPT_STEPS : RUN_SRNN_STEPS;
    o->batch = gpt ? RUN_GPT_BATCH : RUN_SRNN_BATCH;
    o->ctx = RUN_SRNN_CTX;
    o->eval_every = RUN_EVAL_EVERY;
    o->val_tokens = RUN_VAL_TOKENS;
    o->seed = gpt ? GPT_DEF_SEED : SRNN_DEF_SEED;
    adamw_default_cfg(&o->adamw);
    o->adamw.warmup_steps = gpt ? RUN_GPT_WARMUP : RUN_SRNN_WARMUP;
    o->adamw.weight_decay = gpt ? RUN_GPT_WD : RUN_SRNN_WD;
    gpt_default_config(&o->gpt);
    srnn_default_config(&o->srnn);
    srnn_default_train_opts(&o->rate);
    o->reservoir = (srnn_reservoir_opts){SRNN_DEF_RIDGE, RUN_RESERVOIR_TOKENS};
    o->then_corpus = "";
    o->then_steps = RUN_THEN_STEPS;
    o->replay = RUN_REPLAY;
    o->ewc = RUN_EWC;
}

static int check_name(const char *name, char *err) {
    if (!*name || strchr(name, '/') || strlen(name) > RUN_MAX_NAME)
        return tb_fail(err, "--name '%s': use a plain name (no '/', at most %d characters)", name, RUN_MAX_NAME);
    return 0;
}

/* "0,50,200,final" -> {0, 50, 200, -1} (malloc'd; *n = 0 and NULL for ""). */
static int parse_schedule(const char *s, long long **out, int *n, char *err) {
    *out = NULL;
    *n = 0;
    if (!s || !*s) return 0;
    int cap = 1;
    for (const char *p = s; *p; p++) cap += *p == ',';
    long long *v = malloc((size_t)cap * sizeof *v);
    if (!v) return tb_fail(err, "out of memory");
    for (const char *p = s;; p++) {
        long long x = -1;
        char *end = (char *)p + 5;
        if (strncmp(p, "final", 5)) {
            errno = 0;
            x = isdigit((unsigned char)*p) ? strtoll(p, &end, 10) : -1;
            if (x < 0 || errno) end = (char *)p;
        }
        if (end == p || (*end && *end != ',')) {
            free(v);
            *n = 0;
            return tb_fail(err, "--save-at '%s': use steps (non-negative integers) and 'final', separated by commas", s);
        }
        v[(*n)++] = x;
        if (!*end) break;
        p = end;
    }
    *out = v;
    return 0;
}

static int check_model(const run_opts *o, char *err) {
    if (o->kind == RUN_GPT) {
        gpt_config c = o->gpt;
        if (!c.vocab_size) c.vocab_size = 2;   /* set from the corpus later */
        return gpt_check_config(&c, err);
    }
    srnn_config c = o->srnn;
    if (!c.vocab_size) c.vocab_size = 2;
    if (o->rate.rate_lo_hz > o->rate.rate_hi_hz)
        return tb_fail(err, "--rate-lo %g Hz is above --rate-hi %g Hz", o->rate.rate_lo_hz, o->rate.rate_hi_hz);
    if (c.mode == SRNN_BPTT && c.neuron != SRNN_LIF)
        return tb_fail(err, "--neuron %s: surrogate-gradient training is implemented for LIF only; use --mode reservoir",
                       srnn_neuron_name(c.neuron));
    if (o->ctx < 1 || o->ctx > RUN_MAX_CTX) return tb_fail(err, "--ctx %d: must be 1..%d", o->ctx, RUN_MAX_CTX);
    return srnn_check_config(&c, err);
}

/* Continual learning's options (lesson 18). */
static int check_then(const run_opts *o, char *err) {
    int then = o->then_corpus && *o->then_corpus;
    if (!then && (o->replay > 0 || o->ewc > 0 || o->then_steps > 0))
        return tb_fail(err, "--replay, --ewc and --then-steps belong to a continual run: add --then CORPUS");
    if (!(o->replay >= 0 && o->replay < 1)) return tb_fail(err, "--replay %g: must be in [0, 1)", o->replay);
    if (!(o->ewc >= 0 && o->ewc <= 1e12)) return tb_fail(err, "--ewc %g: must be >= 0", o->ewc);
    if (o->then_steps < 0) return tb_fail(err, "--then-steps %d: must be >= 0", o->then_steps);
    if (then && o->kind == RUN_SRNN && o->srnn.mode != SRNN_BPTT)
        return tb_fail(err, "--then: a reservoir is fitted once; continual learning needs --mode bptt");
    return 0;
}

int run_check_opts(const run_opts *o, char *err) {
    long long *s;
    int n;
    if ((o->name && check_name(o->name, err)) || parse_schedule(o->save_at, &s, &n, err)) return -1;
    free(s);
    if (o->eval_every < 1) return tb_fail(err, "--eval-every %d: must be >= 1", o->eval_every);
    if (o->resume && *o->resume) return 0;
    if (check_then(o, err)) return -1;
    if (o->steps < 0) return tb_fail(err, "--steps %d: must be >= 0", o->steps);
    if (o->batch < 1 || o->batch > RUN_MAX_BATCH) return tb_fail(err, "--batch %d: must be 1..%d", o->batch, RUN_MAX_BATCH);
    return check_model(o, err);
}

/* ---- small helpers ------------------------------------------------------------------- */

static char *str_printf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!s) return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

double run_elapsed(const tb_run *r) { return now_s() - r->t0; }
static double wall_now(const tb_run *r) { return r->wall0 + run_elapsed(r); }

const float *run_params(const tb_run *r, size_t *n) {
    *n = r->kind == RUN_GPT ? r->gpt.n_params : r->srnn.n_params;
    return r->kind == RUN_GPT ? r->gpt.params_mem : r->srnn.params_mem;
}

/* 1 if a and b name the same existing file (device and inode). */
static int same_file(const char *a, const char *b) {
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* ---- the run's owner: runs/NAME.lock, and what killed runs left behind ------------- */

static int process_alive(long pid) { return kill((pid_t)pid, 0) == 0 || errno == EPERM; }

/* Remove DIR/PREFIX*.tmp.PID (the atomic writer's temporary files, io.h) whose process
 * is gone: a run killed while writing leaves one.  Returns how many were removed. */
static int remove_stale(const char *dir, const char *prefix) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *t = strstr(de->d_name, ".tmp.");
        if (strncmp(de->d_name, prefix, strlen(prefix)) || !t) continue;
        while (strstr(t + 1, ".tmp.")) t = strstr(t + 1, ".tmp.");
        char *end;
        long pid = strtol(t + 5, &end, 10);
        if (*end || end == t + 5 || pid <= 0 || process_alive(pid)) continue;
        char *path = str_printf("%s/%s", dir, de->d_name);
        if (path && unlink(path) == 0) n++;
        free(path);
    }
    closedir(d);
    return n;
}

static int lock_refused(const char *name, const char *path, int fd, int e, char *err) {
    char buf[32] = "";
    ssize_t k = pread(fd, buf, sizeof buf - 1, 0);
    buf[k > 0 ? k : 0] = 0;
    long pid = atol(buf);
    close(fd);
    if (e != EWOULDBLOCK) return tb_fail(err, "%s: cannot lock (%s)", path, strerror(e));
    if (pid > 0)
        return tb_fail(err, "run '%s' is in use by process %ld (%s): wait for it to finish or choose another --name",
                       name, pid, path);
    return tb_fail(err, "run '%s' is in use by another process (%s): wait for it or choose another --name", name, path);
}

/* The kernel drops the lock when its process ends, however it ends: a crashed or killed
 * run never leaves its name stuck. */
static int take_ownership(tb_run *r, char *err) {
    if (make_dirs(r->runs_dir, err)) return -1;
    char *path = str_printf("%s/%s.lock", r->runs_dir, r->name);
    if (!path) return tb_fail(err, "out of memory");
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644), rc = 0;
    if (fd < 0) rc = tb_fail(err, "%s: cannot open (%s)", path, strerror(errno));
    else if (flock(fd, LOCK_EX | LOCK_NB) != 0) rc = lock_refused(r->name, path, fd, errno, err);
    free(path);
    if (rc) return -1;
    char pid[32];
    int k = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)k, 0) != k) { /* the pid is for messages only */ }
    r->lock_fd = fd;
    char *prefix = str_printf("%s.", r->name), *plots = str_printf("%s_", r->name);
    if (!prefix || !plots) { free(prefix); free(plots); return tb_fail(err, "out of memory"); }
    r->n_stale = remove_stale(r->runs_dir, prefix) + remove_stale(r->dir_steps, "") + remove_stale(TB_PLOTS_DIR, plots);
    free(prefix);
    free(plots);
    return 0;
}

/* ---- opening ------------------------------------------------------------------------ */

static int set_identity(tb_run *r, const run_opts *o, const char *name, const char *corpus, char *err) {
    if (check_name(name, err)) return -1;
    const char *dir = o->runs_dir && *o->runs_dir ? o->runs_dir : TB_RUNS_DIR;
    r->runs_dir = strdup(dir);
    r->name = strdup(name);
    r->corpus_name = strdup(corpus);
    r->path_ckpt = str_printf("%s/%s.ckpt", dir, name);
    r->path_tsv = str_printf("%s/%s.tsv", dir, name);
    r->dir_steps = str_printf("%s/%s", dir, name);
    if (!r->runs_dir || !r->name || !r->corpus_name || !r->path_ckpt || !r->path_tsv || !r->dir_steps)
        return tb_fail(err, "out of memory");
    return 0;
}

/* A finished run is hours of a student's work: a new run (or a resumed one under another
 * name) never silently replaces RUNS/NAME.ckpt.  Checked with the run's lock held. */
static int refuse_overwrite(const tb_run *r, const run_opts *o, char *err) {
    if (o->force || access(r->path_ckpt, F_OK) != 0) return 0;
    if (o->resume && *o->resume && same_file(o->resume, r->path_ckpt)) return 0;
    return tb_fail(err, "%s already holds a run: --resume %s continues it, --force replaces it, "
                        "or choose another --name or --runs-dir", r->path_ckpt, r->path_ckpt);
}

static int load_corpus(tb_run *r, const char *data_dir, const char *tokens, char *err) {
    if (corpus_load(&r->corp, r->corpus_name, data_dir, tokens, err)) {
        memset(&r->corp, 0, sizeof r->corp);
        return -1;
    }
    r->have_corpus = 1;
    r->tokens = strdup(r->corp.tok.kind == TOK_CHAR ? "char" : "word");
    return r->tokens ? 0 : tb_fail(err, "out of memory");
}

static int start_optimizer(tb_run *r, const run_opts *o, size_t n_params, char *err) {
    tb_adamw_cfg c = o->adamw;
    c.total_steps = o->steps;
    return adamw_init(&r->opt, &c, n_params, err);
}

static int build_model(tb_run *r, const run_opts *o, char *err) {
    if (r->kind == RUN_GPT) {
        gpt_config c = o->gpt;
        c.vocab_size = r->corp.tok.vocab_size;
        c.seed = o->seed;
        if (gpt_check_config(&c, err) || gpt_init(&r->gpt, &c, err)) return -1;
        r->ctx = c.ctx;
        return start_optimizer(r, o, r->gpt.n_params, err);
    }
    srnn_config c = o->srnn;
    c.vocab_size = r->corp.tok.vocab_size;
    c.seed = o->seed;
    if (srnn_check_config(&c, err) || srnn_init(&r->srnn, &c, err)) return -1;
    r->rate = o->rate;
    r->reservoir = o->reservoir;
    r->ctx = o->ctx;
    if (c.mode != SRNN_BPTT) {   /* the reservoir: one closed-form fit, no optimizer */
        r->steps = 1;
        return 0;
    }
    return start_optimizer(r, o, r->srnn.n_params, err);
}

/* A continual run's second corpus (same tokenizer) and its settings. */
int run_then_open(tb_run *r, const char *then, const char *data_dir, long long then_at, long long then_steps,
                  double replay, double ewc, char *err) {
    r->then_name = strdup(then);
    r->data_dir = strdup(data_dir ? data_dir : TB_DATA_DIR);
    if (!r->then_name || !r->data_dir) return tb_fail(err, "out of memory");
    char e[TB_ERRLEN];
    if (corpus_load(&r->corp_other, then, r->data_dir, r->tokens, e)) {
        memset(&r->corp_other, 0, sizeof r->corp_other);
        return tb_fail(err, "--then: %s", e);
    }
    if (tok_check_same(&r->corp.tok, &r->corp_other.tok, then, e))
        return tb_fail(err, "--then %s: %s (a continual run reads both corpora with one tokenizer)", then, e);
    if (r->corp_other.n_train < r->ctx + 2) return tb_fail(err, "--then %s: training split too short", then);
    r->then_at = then_at;
    r->steps = then_at + then_steps;
    r->replay = replay;
    r->ewc = ewc;
    return 0;
}

static int open_new(tb_run *r, const run_opts *o, char *err) {
    const char *name = o->name ? o->name : run_kinds[o->kind].default_name;
    if (set_identity(r, o, name, o->corpus ? o->corpus : RUN_CORPUS, err) || take_ownership(r, err) ||
        refuse_overwrite(r, o, err) || load_corpus(r, o->data_dir, o->tokens, err))
        return -1;
    if (o->scramble) {
        r->scramble = 1;
        r->scramble_seed = o->seed;
        if (corpus_scramble_train(&r->corp, r->scramble_seed, err)) return -1;
    }
    r->seed = o->seed;
    r->batch = o->batch;
    r->steps = o->steps;
    rng_stream(&r->data, o->seed, 1);
    if (build_model(r, o, err)) return -1;
    if (!o->then_corpus || !*o->then_corpus) return 0;
    return run_then_open(r, o->then_corpus, o->data_dir, o->steps, o->then_steps ? o->then_steps : o->steps, o->replay,
                         o->ewc, err);
}

/* The model and tokenizer of the checkpoint (the tokenizer must be the corpus's). */
static int load_model(tb_run *r, const tb_ckpt *c, char *err) {
    int rc = r->kind == RUN_GPT ? gpt_from_ckpt(&r->gpt, c, err) : srnn_from_ckpt(&r->srnn, c, err);
    if (rc) return -1;
    if (r->kind == RUN_SRNN && r->srnn.cfg.mode != SRNN_BPTT) return tb_fail(err, "a reservoir checkpoint cannot be resumed");
    tb_tokenizer tok;
    if (tok_load(&tok, c, err)) return -1;
    rc = tok_check_same(&tok, &r->corp.tok, "tokenizer", err);
    tok_free(&tok);
    return rc;
}

/* Where the run stood: the last values, and its clock (the earlier sessions' wall times
 * are in the TSV of the run the checkpoint came from). */
static void recall_history(tb_run *r, const char *from_name) {
    run_log *g = &r->log;
    char *tsv = str_printf("%s/%s.tsv", r->runs_dir, from_name);
    if (tsv) run_log_read_wall(g, tsv, r->note);   /* a bad TSV costs only the times; r->note says so */
    free(tsv);
    for (int i = 0; i < g->n; i++) {
        if (!isnan(RUN_LOG(g, i, RUN_TRAIN))) r->last_train = RUN_LOG(g, i, RUN_TRAIN);
        if (!isnan(RUN_LOG(g, i, RUN_VAL))) r->last_val = RUN_LOG(g, i, RUN_VAL);
    }
    if (g->n && RUN_LOG(g, g->n - 1, RUN_STEP) == (double)r->step && !isnan(RUN_LOG(g, g->n - 1, RUN_WALL)))
        r->wall0 = RUN_LOG(g, g->n - 1, RUN_WALL);
}

static int resume_from(tb_run *r, const run_opts *o, const tb_ckpt *c, char *err) {
    const char *path = o->resume, *cn = ckpt_get(c, "corpus"), *tk = ckpt_get(c, "tokens"), *nm = ckpt_get(c, "name");
    if (!cn || !tk || !ckpt_get(c, "adam_t"))
        return tb_fail(err, r->kind == RUN_GPT ? "%s: not a training checkpoint (no corpus, tokens or optimizer keys)"
                                               : "%s: not a BPTT training checkpoint (no corpus/optimizer state)",
                       path);
    const char *name = o->name ? o->name : nm ? nm : run_kinds[r->kind].default_name;
    if (set_identity(r, o, name, o->corpus ? o->corpus : cn, err) || take_ownership(r, err) ||
        refuse_overwrite(r, o, err) || load_corpus(r, o->data_dir, tk, err))
        return -1;
    char e[TB_ERRLEN];
    if (ckpt_get(c, "scramble_seed")) {   /* the same shuffled text as before the stop */
        long long s;
        if (ckpt_get_int(c, "scramble_seed", &s, e) || s < 0) return tb_fail(err, "%s: bad scramble_seed", path);
        r->scramble = 1;
        r->scramble_seed = (uint64_t)s;
        if (corpus_scramble_train(&r->corp, r->scramble_seed, err)) return -1;
    }
    if (load_model(r, c, e) || run_load_state(r, c, e)) return tb_fail(err, "%s: %s", path, e);
    if (r->kind == RUN_GPT) r->ctx = r->gpt.cfg.ctx;
    if (run_then_load(r, c, o->data_dir, e)) return tb_fail(err, "%s: %s", path, e);
    if (!r->then_name) {   /* a continual run keeps its two schedules */
        r->steps = r->opt.cfg.total_steps > r->step ? r->opt.cfg.total_steps : r->step;
        r->opt.cfg.total_steps = (int)r->steps;
    }
    r->good_step = r->step;
    r->good_path = strdup(path);
    r->resumed = 1;
    recall_history(r, nm && !check_name(nm, NULL) ? nm : r->name);
    return r->good_path ? 0 : tb_fail(err, "out of memory");
}

static int open_resumed(tb_run *r, const run_opts *o, char *err) {
    tb_ckpt c;
    if (ckpt_load(&c, o->resume, run_kinds[o->kind].ckpt_kind, err)) return -1;
    int rc = resume_from(r, o, &c, err);
    ckpt_free(&c);
    return rc;
}

/* What both kinds of opening end with. */
static int finish_open(tb_run *r, const run_opts *o, char *err) {
    if (r->corp.n_train < r->ctx + 2)
        return tb_fail(err, "%s: training split has %ld tokens, fewer than ctx + 2 = %d", r->corp.name, r->corp.n_train,
                       r->ctx + 2);
    if (parse_schedule(o->save_at, &r->save_at, &r->n_save, err)) return -1;
    if (o->eval_every < 1) return tb_fail(err, "--eval-every %d: must be >= 1", o->eval_every);
    r->eval_every = o->eval_every;
    r->val_tokens = o->val_tokens;
    if (r->kind == RUN_GPT) gpt_scorer(&r->sc, &r->gpt);
    else srnn_scorer(&r->sc, &r->srnn);
    r->x = malloc((size_t)r->batch * r->ctx * sizeof(int));
    r->y = malloc((size_t)r->batch * r->ctx * sizeof(int));
    if (!r->x || !r->y) return tb_fail(err, "out of memory for a batch of %d x %d tokens", r->batch, r->ctx);
    r->t0 = now_s();
    return 0;
}

int run_open(tb_run *r, const run_opts *o, char *err) {
    memset(r, 0, sizeof *r);
    r->lock_fd = -1;
    r->kind = o->kind;
    r->good_step = -1;
    r->last_train = r->last_val = r->ema = r->last_rate = r->val_rate = NAN;
    int resuming = o->resume && *o->resume;
    int rc = resuming ? open_resumed(r, o, err) : open_new(r, o, err);
    if (!rc) rc = finish_open(r, o, err);
    if (rc) run_free(r);
    return rc;
}

int run_set_steps(tb_run *r, long long steps, char *err) {
    if (r->then_name) return tb_fail(err, "--steps: a continual run (--then) keeps the schedule it began with");
    if (steps < r->step) return tb_fail(err, "--steps %lld is before the checkpoint's step %lld", steps, r->step);
    if (steps > 1000000000) return tb_fail(err, "--steps %lld: too many", steps);
    r->steps = steps;
    r->opt.cfg.total_steps = (int)steps;   /* the cosine ends at the (possibly extended) last step */
    return 0;
}

void run_free(tb_run *r) {
    gpt_free(&r->gpt);
    srnn_free(&r->srnn);
    adamw_free(&r->opt);
    if (r->have_corpus) corpus_free(&r->corp);
    run_log_free(&r->log);
    free(r->name); free(r->corpus_name); free(r->tokens);
    free(r->path_ckpt); free(r->path_tsv); free(r->dir_steps); free(r->good_path); free(r->runs_dir);
    free(r->save_at); free(r->x); free(r->y);
    if (r->then_name) corpus_free(&r->corp_other);
    free(r->then_name); free(r->data_dir); free(r->ewc_anchor); free(r->ewc_fisher);
    cl_log_free(&r->forget);
    if (r->lock_fd >= 0) close(r->lock_fd);   /* releases the lock */
    memset(r, 0, sizeof *r);
    r->lock_fd = -1;
}

int run_stdp(tb_run *r, long n, long *used, double *mean_abs_dw, char *err) {
    if (r->kind != RUN_SRNN) return tb_fail(err, "STDP trains a spiking network");
    srnn_stdp_opts so;
    srnn_default_stdp_opts(&so);
    *used = n < r->corp.n_train ? n : r->corp.n_train;
    return srnn_stdp_pretrain(&r->srnn, r->corp.train, *used, &so, rng_child_seed(r->seed, "stdp", 0), mean_abs_dw, err);
}

/* ---- the loop ------------------------------------------------------------------------ */

void run_draw_batch(const int *ids, long n, int eos, tb_rng *rng, int *x, int *y, int B, int T) {
    long span = n - T - 1;
    for (int b = 0; b < B; b++) {
        long s = (long)(rng_u64(rng) % (uint64_t)span);
        if (eos >= 0) {   /* start at a sentence's "." (its left context), as it is scored */
            long q = s;
            while (q < span && ids[q] != eos) q++;
            if (q < span) s = q;
        }
        for (int t = 0; t < T; t++) {
            x[b * T + t] = ids[s + t];
            y[b * T + t] = ids[s + t + 1];
        }
    }
}

/* Stop: say what became NaN or infinite, where, and what is left. */
static int diverged(const tb_run *r, const char *what, double v, long long step, char *err) {
    const char *how = isnan(v) ? "NaN" : "infinite";
    if (r->good_step >= 0)
        return tb_fail(err, "%s became %s at step %lld: stopped; the last good checkpoint is %s (step %lld)", what, how,
                       step, r->good_path, r->good_step);
    return tb_fail(err, "%s became %s at step %lld: stopped before any checkpoint was saved (try a lower --lr)", what,
                   how, step);
}

/* Save from finite weights only; remember it as the last good checkpoint. */
static int save_good(tb_run *r, const char *path, char *err) {
    size_t n;
    const float *p = run_params(r, &n);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(p[i])) return diverged(r, "a weight", p[i], r->step, err);
    if (run_save(r, path, err)) return -1;
    char *keep = strdup(path);
    if (!keep) return tb_fail(err, "out of memory");
    free(r->good_path);
    r->good_path = keep;
    r->good_step = r->step;
    return 0;
}

static int take_snapshots(tb_run *r, char *err) {
    for (int i = 0; i < r->n_save; i++)
        if (r->save_at[i] == r->step || (r->save_at[i] == -1 && r->step == r->steps)) {
            char *path = str_printf("%s/step_%06lld.ckpt", r->dir_steps, r->step);
            int rc = path ? save_good(r, path, err) : tb_fail(err, "out of memory");
            free(path);
            return rc;
        }
    return 0;
}

static int validation_due(const tb_run *r, int stop) {
    const run_log *g = &r->log;
    if (g->n && RUN_LOG(g, g->n - 1, RUN_STEP) == (double)r->step && !isnan(RUN_LOG(g, g->n - 1, RUN_VAL)) &&
        r->good_step == r->step && !strcmp(r->good_path, r->path_ckpt))
        return 0;   /* a run resumed from its own validated checkpoint: nothing new to save */
    return r->step == r->steps || (r->step > 0 && r->step % r->eval_every == 0) || stop ||
           (r->then_name && r->step == r->then_at);   /* where the first corpus ends */
}

/* Validation loss (spiking: and the mean firing rate while reading the validation text,
 * without disturbing the work counters of the energy estimate). */
static int validate(tb_run *r, double *val, double *rate, char *err) {
    *rate = NAN;
    if (r->kind == RUN_GPT) return lm_val_loss(&r->sc, &r->corp, r->val_tokens, NULL, val, err);
    srnn_model *m = &r->srnn;
    srnn_counters keep = m->ctr;
    srnn_counters_reset(m);
    int rc = lm_val_loss(&r->sc, &r->corp, r->val_tokens, NULL, val, err);
    *rate = m->ctr.neuron_updates ? (double)m->ctr.spikes / m->ctr.neuron_updates * 1000.0 / m->cfg.dt_ms : NAN;
    srnn_counters c = m->ctr;
    m->ctr = keep;
    srnn_counters_add(&m->ctr, &c);
    return rc;
}

/* A continual run's point: the other corpus's loss and (toyworld) A's minimal pairs. */
static int then_point(tb_run *r, double val, char *err) {
    const tb_corpus *a = r->phase ? &r->corp_other : &r->corp;
    cl_point pt = {(double)r->step, r->phase ? NAN : val, r->phase ? val : NAN, NAN};
    double other;
    if (lm_val_loss(&r->sc, &r->corp_other, r->val_tokens, NULL, &other, err)) return -1;
    if (r->phase) pt.val_a = other;
    else pt.val_b = other;
    if (!strcmp(a->name, "toyworld")) {
        char *pairs = str_printf("%s/minimal_pairs.tsv", r->data_dir);
        int np[3], rc = pairs ? 0 : tb_fail(err, "out of memory");
        double acc[3];
        if (!rc) rc = lm_minimal_pairs(&r->sc, &a->tok, pairs, acc, np, err);
        free(pairs);
        if (rc) return -1;
        pt.pairs_a = acc[0];
    }
    return cl_log_push(&r->forget, &pt, err);
}

static int validate_and_save(tb_run *r, char *err) {
    double val, rate;
    if (validate(r, &val, &rate, err)) return -1;
    if (r->then_name) {   /* the spiking network's work counters are not disturbed: scoring adds to them */
        srnn_counters keep = r->srnn.ctr;
        int rc = then_point(r, val, err);
        r->srnn.ctr = keep;
        if (rc) return -1;
    }
    r->last_val = val;
    r->val_rate = rate;
    run_log *g = &r->log;
    if (g->n && RUN_LOG(g, g->n - 1, RUN_STEP) == (double)r->step) RUN_LOG(g, g->n - 1, RUN_VAL) = val;
    else if (run_kinds[r->kind].has_rate) {
        double row[RUN_NCOLS] = {(double)r->step, NAN, NAN, val, NAN, rate, wall_now(r)};
        if (run_log_push(g, row, err)) return -1;
    }
    if (!isfinite(val)) return diverged(r, "the validation loss", val, r->step, err);
    if (save_good(r, r->path_ckpt, err)) return -1;
    run_write_tsv(r, r->note);   /* not fatal: r->note tells the caller */
    return 0;
}

static int log_step(tb_run *r, double lr, double loss, double gnorm, double rate, char *err) {
    r->step++;
    r->last_train = loss;
    r->last_rate = rate;
    r->ema = isnan(r->ema) ? loss : 0.95 * r->ema + 0.05 * loss;
    r->tokens_seen += (double)r->batch * r->ctx;
    double row[RUN_NCOLS] = {(double)r->step, lr, loss, NAN, gnorm, rate, wall_now(r)};
    return run_log_push(&r->log, row, err);
}

/* One AdamW step on the gradients of a batch whose loss was `loss`. */
static int optimizer_step(tb_run *r, float *params, float *grads, const unsigned char *decay, double loss, double rate,
                          char *err) {
    double lr = adamw_lr(&r->opt.cfg, r->opt.t);
    double gn = adamw_step(&r->opt, params, grads, decay);
    if (!isfinite(gn)) return diverged(r, "the gradient norm", gn, r->step + 1, err);
    return log_step(r, lr, loss, gn, rate, err);
}

/* B windows for the step: from the corpus trained on, the first round(replay B) of them
 * from the other one while a continual run is on its second corpus. */
static void draw_batch(tb_run *r, int eos_mode) {
    int n_rep = r->phase ? (int)lround(r->replay * r->batch) : 0, T = r->ctx;
    const tb_corpus *c = &r->corp, *o = &r->corp_other;
    if (n_rep)
        run_draw_batch(o->train, o->n_train, eos_mode ? o->eos : -1, &r->data, r->x, r->y, n_rep, T);
    run_draw_batch(c->train, c->n_train, eos_mode ? c->eos : -1, &r->data, r->x + (size_t)n_rep * T,
                   r->y + (size_t)n_rep * T, r->batch - n_rep, T);
}

/* Gradient of windows x, y [B, T] into the model's grads; *loss the cross-entropy. */
static int batch_grad(tb_run *r, const int *x, const int *y, int B, const srnn_train_opts *rate, double *loss,
                      double *hz, char *err) {
    *hz = NAN;
    if (r->kind == RUN_GPT) {
        gpt_model *m = &r->gpt;
        float l;
        m->training = 1;   /* the experts' capacity applies to training batches only */
        int rc = gpt_forward(m, x, y, B, r->ctx, &l, err);
        m->training = 0;
        *loss = l;
        if (rc) return -1;
        return isfinite(l) ? gpt_backward(m, err) : 0;
    }
    srnn_batch_stats bs;
    uint64_t noise_seed = rng_child_seed(r->seed, "train noise", (uint64_t)r->step);
    if (srnn_forward_backward(&r->srnn, x, y, B, r->ctx, rate, noise_seed, 1, &bs, err)) return -1;
    *loss = bs.ce;
    *hz = bs.mean_rate_hz;
    return 0;
}

static float *run_grads(tb_run *r) { return r->kind == RUN_GPT ? r->gpt.grads_mem : r->srnn.grads_mem; }

/* One training step of either kind (BPTT for the spiking network). */
static int train_step(tb_run *r, char *err) {
    draw_batch(r, r->kind == RUN_SRNN);
    double loss, hz;
    if (batch_grad(r, r->x, r->y, r->batch, &r->rate, &loss, &hz, err)) return -1;
    if (!isfinite(loss)) return diverged(r, "the train loss", loss, r->step + 1, err);
    size_t n;
    float *params = (float *)run_params(r, &n);
    if (r->ewc_anchor) ewc_penalty(params, r->ewc_anchor, r->ewc_fisher, n, r->ewc, run_grads(r));
    const unsigned char *decay = r->kind == RUN_GPT ? r->gpt.decay_mask : r->srnn.decay_mask;
    int rc = optimizer_step(r, params, run_grads(r), decay, loss, hz, err);
    if (r->kind == RUN_SRNN) srnn_refresh(&r->srnn);
    return rc;
}

/* The reservoir's one step: run the training text through the network, fit the readout. */
static int reservoir_step(tb_run *r, char *err) {
    long n = r->reservoir.max_tokens > 0 && r->reservoir.max_tokens < r->corp.n_train ? r->reservoir.max_tokens
                                                                                      : r->corp.n_train;
    double nll;
    if (srnn_fit_reservoir(&r->srnn, r->corp.train, r->corp.n_train, r->corp.eos, &r->reservoir, &nll, err)) return -1;
    r->step = 1;
    r->tokens_seen += (double)n;
    r->last_train = nll;
    double row[RUN_NCOLS] = {1, NAN, nll, NAN, NAN, NAN, wall_now(r)};
    return run_log_push(&r->log, row, err);
}

/* ---- continual learning: the second corpus takes over ------------------------------ */

/* EWC's anchor (the weights now) and Fisher information on the corpus trained so far:
 * the mean squared gradient of RUN_EWC_WINDOWS single windows of its training text. */
static int ewc_prepare(tb_run *r, char *err) {
    size_t n;
    const float *p = run_params(r, &n);
    r->ewc_anchor = malloc(n * sizeof(float));
    r->ewc_fisher = calloc(n, sizeof(float));
    if (!r->ewc_anchor || !r->ewc_fisher) return tb_fail(err, "out of memory for EWC (%zu weights)", n);
    memcpy(r->ewc_anchor, p, n * sizeof(float));
    tb_rng g;   /* a GPT checkpoint keeps its seed in the model's config (r->seed is the spiking run's) */
    rng_seed(&g, rng_child_seed(r->kind == RUN_GPT ? r->gpt.cfg.seed : r->seed, "ewc fisher", 0));
    srnn_train_opts ce_only = r->rate;
    ce_only.rate_lambda = 0;   /* the information about the language, not the rate band */
    const tb_corpus *c = &r->corp;
    for (int w = 0; w < RUN_EWC_WINDOWS; w++) {
        double loss, hz;
        run_draw_batch(c->train, c->n_train, r->kind == RUN_SRNN ? c->eos : -1, &g, r->x, r->y, 1, r->ctx);
        if (batch_grad(r, r->x, r->y, 1, &ce_only, &loss, &hz, err)) return -1;
        ewc_fisher_add(r->ewc_fisher, run_grads(r), n, 1.0 / RUN_EWC_WINDOWS);
    }
    return 0;
}

void run_then_swap(tb_run *r) {
    tb_corpus t = r->corp;
    r->corp = r->corp_other;
    r->corp_other = t;
    r->phase = 1;
}

/* At then_at: EWC's anchor and Fisher, the corpora swap, AdamW starts afresh. */
static int start_second(tb_run *r, char *err) {
    if (r->ewc > 0 && ewc_prepare(r, err)) return -1;
    run_then_swap(r);
    tb_adamw_cfg c = r->opt.cfg;
    c.total_steps = (int)(r->steps - r->then_at);
    size_t n;
    run_params(r, &n);
    adamw_free(&r->opt);
    return adamw_init(&r->opt, &c, n, err);
}

int run_advance(tb_run *r, int stop, char *err) {
    r->note[0] = 0;
    /* 1. the snapshots asked for at this step, before its training step */
    if (take_snapshots(r, err)) return RUN_FAILED;
    /* 2. validation and the last good checkpoint */
    if (validation_due(r, stop) && validate_and_save(r, err)) return RUN_FAILED;
    if (stop) return RUN_STOPPED;
    if (r->step >= r->steps) return RUN_DONE;
    /* a continual run's second corpus takes over (after the first one's last validation) */
    if (r->then_name && !r->phase && r->step == r->then_at && start_second(r, err)) return RUN_FAILED;
    /* 3. one training step */
    int rc = r->kind == RUN_SRNN && r->srnn.cfg.mode != SRNN_BPTT ? reservoir_step(r, err) : train_step(r, err);
    return rc ? RUN_FAILED : RUN_STEPPED;
}
