/* gpt_layers.c -- the GPT's layers as forward/backward pairs over flat arrays.
 * Lessons 06 (backprop through a layer) and 07 (attention).  Shapes are in a comment
 * above each function; see include/gpt.h for the model they build.
 *
 * Threading: rows, heads and batch items are spread over the pool with a fixed number of
 * tasks, and sums across rows (norm gains, biases) are reduced in task order, so results
 * never depend on how many threads ran them. */
#include "gpt.h"
#include "kernels.h"
#include "threads.h"

#include <math.h>
#include <string.h>

/* Rows [r0, r1) of task `task` out of `ntasks` for `rows` rows. */
static void task_rows(int rows, int task, int ntasks, int *r0, int *r1) {
    *r0 = (int)((long long)rows * task / ntasks);
    *r1 = (int)((long long)rows * (task + 1) / ntasks);
}

static int ntasks_for(long long rows, long long work_per_row) {
    long long total = rows * work_per_row;
    if (total < 16384 || tb_threads() == 1) return 1;   /* not worth waking the pool */
    return rows < GPT_NTASKS ? (int)rows : GPT_NTASKS;
}

/* ---- embedding ------------------------------------------------------------------ */

/* out[B,T,C] = wte[inp[b,t], :] + pos[t, :] */
void encoder_forward(float *out, const int *inp, const float *wte, const float *pos,
                     int B, int T, int C) {
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            float *o = out + ((size_t)b * T + t) * C;
            const float *e = wte + (size_t)inp[b * T + t] * C, *p = pos + (size_t)t * C;
            for (int i = 0; i < C; i++) o[i] = e[i] + p[i];
        }
}

/* dwte[V,C] += dout[b,t] at row inp[b,t];  dwpe[T,C] += sum over b of dout[b,t] */
void encoder_backward(float *dwte, float *dwpe, const float *dout, const int *inp,
                      int B, int T, int C) {
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            const float *d = dout + ((size_t)b * T + t) * C;
            float *e = dwte + (size_t)inp[b * T + t] * C;
            for (int i = 0; i < C; i++) e[i] += d[i];
            if (dwpe) {
                float *p = dwpe + (size_t)t * C;
                for (int i = 0; i < C; i++) p[i] += d[i];
            }
        }
}

/* pe[T,C]: pe[t,2i] = sin(t w_i), pe[t,2i+1] = cos(t w_i), w_i = 10000^(-2i/C) */
void gpt_sinusoids(float *pe, int T, int C) {
    for (int t = 0; t < T; t++)
        for (int i = 0; i < C; i++) {
            double w = pow(10000.0, -(double)(i / 2 * 2) / C);
            pe[(size_t)t * C + i] = (float)((i % 2 == 0) ? sin(t * w) : cos(t * w));
        }
}

/* ---- normalisation --------------------------------------------------------------- */

typedef struct {
    gpt_norm kind;
    float *out, *mean, *rstd, *dinp, *dw, *db, *scratch;
    const float *inp, *w, *b, *dout;
    const float *cmean, *crstd;
    int N, C;
} norm_job;

static void norm_fwd_task(void *ctx, int task, int ntasks) {
    norm_job *j = ctx;
    int r0, r1;
    task_rows(j->N, task, ntasks, &r0, &r1);
    if (r1 <= r0) return;
    size_t o = (size_t)r0 * j->C;
    if (j->kind == GPT_NORM_LAYER)
        tb_kern->layernorm_forward(j->out + o, j->mean ? j->mean + r0 : NULL, j->rstd ? j->rstd + r0 : NULL,
                             j->inp + o, j->w, j->b, r1 - r0, j->C);
    else
        tb_kern->rmsnorm_forward(j->out + o, j->rstd ? j->rstd + r0 : NULL, j->inp + o, j->w, r1 - r0, j->C);
}

/* out[N,C] = layernorm (x - mean) rstd w + b   |   rmsnorm x rstd w */
void norm_forward(gpt_norm kind, float *out, float *mean, float *rstd, const float *inp,
                  const float *w, const float *b, int N, int C) {
    norm_job j = {.kind = kind, .out = out, .mean = mean, .rstd = rstd, .inp = inp, .w = w, .b = b,
                  .N = N, .C = C};
    tb_parallel(ntasks_for(N, 8LL * C), norm_fwd_task, &j);
}

static void norm_bwd_task(void *ctx, int task, int ntasks) {
    norm_job *j = ctx;
    int r0, r1;
    task_rows(j->N, task, ntasks, &r0, &r1);
    float *pw = j->scratch + (size_t)task * 2 * j->C, *pb = pw + j->C;
    memset(pw, 0, 2 * (size_t)j->C * sizeof(float));
    if (r1 <= r0) return;
    size_t o = (size_t)r0 * j->C;
    if (j->kind == GPT_NORM_LAYER)
        tb_kern->layernorm_backward(j->dinp + o, pw, pb, j->dout + o, j->inp + o, j->w, j->cmean + r0,
                              j->crstd + r0, r1 - r0, j->C);
    else
        tb_kern->rmsnorm_backward(j->dinp + o, pw, j->dout + o, j->inp + o, j->w, j->crstd + r0, r1 - r0, j->C);
}

/* dinp[N,C] += ...; dw[C] += ...; db[C] += ... (db unused for rmsnorm).
 * Each task sums its rows' weight gradients into scratch; they are added in task order. */
void norm_backward(gpt_norm kind, float *dinp, float *dw, float *db, const float *dout,
                   const float *inp, const float *w, const float *mean, const float *rstd,
                   int N, int C, float *scratch) {
    norm_job j = {.kind = kind, .dinp = dinp, .dout = dout, .inp = inp, .w = w, .cmean = mean,
                  .crstd = rstd, .N = N, .C = C, .scratch = scratch};
    /* the task count depends only on the size, so the sums come out the same whatever the
     * number of threads */
    int nt = (long long)N * C >= 16384 ? (N < GPT_NTASKS ? N : GPT_NTASKS) : 1;
    tb_parallel(nt, norm_bwd_task, &j);
    for (int t = 0; t < nt; t++) {
        const float *pw = scratch + (size_t)t * 2 * C, *pb = pw + C;
        for (int i = 0; i < C; i++) dw[i] += pw[i];
        if (kind == GPT_NORM_LAYER && db)
            for (int i = 0; i < C; i++) db[i] += pb[i];
    }
}

/* ---- activations ----------------------------------------------------------------- */

typedef struct { gpt_act kind; float *out; const float *inp, *dout; size_t n; int bwd; } act_job;

static void act_task(void *ctx, int task, int ntasks) {
    act_job *j = ctx;
    size_t a = j->n * task / ntasks, b = j->n * (task + 1) / ntasks;
    if (b <= a) return;
    int n = (int)(b - a);
    if (j->bwd) memset(j->out + a, 0, (size_t)n * sizeof(float));   /* zeroed here, by the task that adds */
    if (j->kind == GPT_ACT_GELU) {
        if (j->bwd) tb_kern->gelu_backward(j->out + a, j->inp + a, j->dout + a, n);
        else tb_kern->gelu_forward(j->out + a, j->inp + a, n);
    } else if (j->bwd) {   /* relu'(x) = 1 for x > 0 */
        for (size_t i = a; i < b; i++) j->out[i] += j->inp[i] > 0.0f ? j->dout[i] : 0.0f;
    } else {
        for (size_t i = a; i < b; i++) j->out[i] = j->inp[i] > 0.0f ? j->inp[i] : 0.0f;
    }
}

/* out[n] = gelu(inp) | relu(inp) */
void act_forward(gpt_act kind, float *out, const float *inp, size_t n) {
    act_job j = {kind, out, inp, NULL, n, 0};
    tb_parallel(ntasks_for((long long)n, 20), act_task, &j);
}

/* dinp[n] = act'(inp) dout (each task zeroes its slice, then the kernel adds into it) */
void act_backward(gpt_act kind, float *dinp, const float *inp, const float *dout, size_t n) {
    act_job j = {kind, dinp, inp, dout, n, 1};
    tb_parallel(ntasks_for((long long)n, 20), act_task, &j);
}

/* ---- causal multi-head attention ------------------------------------------------- */

typedef struct {
    float *out, *att, *dqkv, *datt;
    const float *qkv, *dout, *catt, *head_mask;
    int B, T, C, NH;
} attn_job;

/* Causal attention computes only what the mask keeps: row block [r0, r1) of the scores
 * needs the keys s < r1, and of the weighted sums the values s < r1; in the backward
 * pass row block [r0, r1) of dv and dk needs the queries t >= r0.  Every product keeps
 * its order over k and only leaves out terms that are exactly zero (masked weights at
 * the end of a sum, or at its start, where the running sum is still +0), so the numbers
 * are the full products' (threads.h, rule 2).  Rows per block: */
static int attn_block(int T) { return T / 4 > 32 ? T / 4 : 32; }

/* One (b, h) pair per task index. */
static void attn_fwd_task(void *ctx, int task, int ntasks) {
    attn_job *j = ctx;
    int T = j->T, C = j->C, NH = j->NH, hs = C / NH, C3 = 3 * C, RB = attn_block(T);
    for (int bh = task; bh < j->B * NH; bh += ntasks) {
        int b = bh / NH, h = bh % NH;
        const float *q = j->qkv + (size_t)b * T * C3 + h * hs, *k = q + C, *v = q + 2 * C;
        float *A = j->att + (size_t)bh * T * T;
        float *y = j->out + (size_t)b * T * C + h * hs;
        for (int r0 = 0; r0 < T; r0 += RB) {
            int r1 = r0 + RB < T ? r0 + RB : T;
            /* S[r0:r1, 0:r1] = q k^T / sqrt(hs); only s <= t is used */
            tb_kern->sgemm(0, 1, r1 - r0, r1, hs, 1.0f / sqrtf((float)hs), q + (size_t)r0 * C3, C3, k, C3, 0.0f,
                           A + (size_t)r0 * T, T);
            for (int t = r0; t < r1; t++) {
                float *row = A + (size_t)t * T;
                tb_kern->softmax_forward(row, row, 1, t + 1);
                for (int s = t + 1; s < T; s++) row[s] = 0.0f;   /* causal: no peeking ahead */
            }
            /* y[r0:r1, hs] = A[r0:r1, 0:r1] v[0:r1, hs] */
            tb_kern->sgemm(0, 0, r1 - r0, hs, r1, 1.0f, A + (size_t)r0 * T, T, v, C3, 0.0f, y + (size_t)r0 * C, C);
        }
        if (j->head_mask && j->head_mask[h] != 1.0f) {
            float g = j->head_mask[h];
            for (int t = 0; t < T; t++)
                for (int i = 0; i < hs; i++) y[(size_t)t * C + i] *= g;
        }
    }
}

static int attn_tasks(int B, int NH, int T, int hs) {
    long long n = (long long)B * NH;
    if (tb_threads() == 1 || n * T * T * hs < 20000) return 1;
    return (int)n;
}

/* out[B,T,C], att[B,NH,T,T] from qkv[B,T,3C] (q | k | v, each split into NH heads of hs) */
void attention_forward(float *out, float *att, const float *qkv, const float *head_mask,
                       int B, int T, int C, int NH) {
    attn_job j = {.out = out, .att = att, .qkv = qkv, .head_mask = head_mask, .B = B, .T = T, .C = C, .NH = NH};
    tb_parallel(attn_tasks(B, NH, T, C / NH), attn_fwd_task, &j);
}

/* dA = dy v^T and dS = A * (dA - sum_s dA A) on the causal part, block by block. */
static void attn_bwd_scores(const float *A, float *dA, const float *dy, const float *v, int T, int C, int C3, int hs,
                            int RB) {
    for (int r0 = 0; r0 < T; r0 += RB) {
        int r1 = r0 + RB < T ? r0 + RB : T;
        tb_kern->sgemm(0, 1, r1 - r0, r1, hs, 1.0f, dy + (size_t)r0 * C, C, v, C3, 0.0f, dA + (size_t)r0 * T, T);
        for (int t = r0; t < r1; t++) {
            float *row = dA + (size_t)t * T;
            tb_kern->softmax_backward(row, row, A + (size_t)t * T, 1, t + 1);
            for (int s = t + 1; s < T; s++) row[s] = 0.0f;
        }
    }
}

static void attn_bwd_task(void *ctx, int task, int ntasks) {
    attn_job *j = ctx;
    int T = j->T, C = j->C, NH = j->NH, hs = C / NH, C3 = 3 * C, RB = attn_block(T);
    float scale = 1.0f / sqrtf((float)hs);
    for (int bh = task; bh < j->B * NH; bh += ntasks) {
        int b = bh / NH, h = bh % NH;
        size_t qo = (size_t)b * T * C3 + h * hs;
        const float *q = j->qkv + qo, *k = q + C, *v = q + 2 * C;
        float *dq = j->dqkv + qo, *dk = dq + C, *dv = dq + 2 * C;
        const float *A = j->catt + (size_t)bh * T * T;
        float *dA = j->datt + (size_t)bh * T * T;
        const float *dy = j->dout + (size_t)b * T * C + h * hs;
        attn_bwd_scores(A, dA, dy, v, T, C, C3, hs, RB);
        for (int r0 = 0; r0 < T; r0 += RB) {
            int r1 = r0 + RB < T ? r0 + RB : T;
            size_t d = (size_t)r0 * T + r0; /* A[r0, r0]: row block r0 of A^T over t >= r0 */
            /* dv[r0:r1] = A[r0:T, r0:r1]^T dy[r0:T] */
            tb_kern->sgemm(1, 0, r1 - r0, hs, T - r0, 1.0f, A + d, T, dy + (size_t)r0 * C, C, 0.0f,
                           dv + (size_t)r0 * C3, C3);
            /* dq[r0:r1] = dS[r0:r1, 0:r1] k[0:r1] / sqrt(hs);  dk[r0:r1] = dS[r0:T, r0:r1]^T q[r0:T] / sqrt(hs) */
            tb_kern->sgemm(0, 0, r1 - r0, hs, r1, scale, dA + (size_t)r0 * T, T, k, C3, 0.0f, dq + (size_t)r0 * C3, C3);
            tb_kern->sgemm(1, 0, r1 - r0, hs, T - r0, scale, dA + d, T, q + (size_t)r0 * C3, C3, 0.0f,
                           dk + (size_t)r0 * C3, C3);
        }
    }
}

/* dqkv[B,T,3C] (overwritten) from dout[B,T,C]; datt[B,NH,T,T] scratch */
void attention_backward(float *dqkv, float *datt, const float *dout, const float *qkv,
                        const float *att, int B, int T, int C, int NH) {
    attn_job j = {.dqkv = dqkv, .datt = datt, .dout = dout, .qkv = qkv, .catt = att, .B = B, .T = T,
                  .C = C, .NH = NH};
    tb_parallel(attn_tasks(B, NH, T, C / NH), attn_bwd_task, &j);
}

/* ---- softmax + cross-entropy ------------------------------------------------------ */

typedef struct { float *probs, *losses, *dlogits; const float *logits, *cprobs; const int *targets; float dloss; int N, V; } ce_job;

static void ce_fwd_task(void *ctx, int task, int ntasks) {
    ce_job *j = ctx;
    int r0, r1, V = j->V;
    task_rows(j->N, task, ntasks, &r0, &r1);
    for (int r = r0; r < r1; r++) {
        const float *l = j->logits + (size_t)r * V;
        float *p = j->probs + (size_t)r * V;
        float mx = l[0];
        for (int i = 1; i < V; i++) mx = l[i] > mx ? l[i] : mx;
        for (int i = 0; i < V; i++) p[i] = l[i] - mx;
        tb_kern->vexp(p, p, V);
        double sum = 0.0;
        for (int i = 0; i < V; i++) sum += p[i];
        float inv = (float)(1.0 / sum);
        for (int i = 0; i < V; i++) p[i] *= inv;
        int y = j->targets ? j->targets[r] : -1;
        /* -ln p_y = ln(sum) - (l_y - max): exact even when p_y underflows */
        if (j->losses) j->losses[r] = y >= 0 ? (float)(log(sum) - (double)(l[y] - mx)) : 0.0f;
    }
}

/* probs[N,V] = softmax(logits[N,V]); losses[N] = -ln probs[n, targets[n]] */
void crossentropy_forward(float *probs, float *losses, const float *logits, const int *targets,
                          int N, int V) {
    ce_job j = {.probs = probs, .losses = losses, .logits = logits, .targets = targets, .N = N, .V = V};
    tb_parallel(ntasks_for(N, 30LL * V), ce_fwd_task, &j);
}

static void ce_bwd_task(void *ctx, int task, int ntasks) {
    ce_job *j = ctx;
    int r0, r1, V = j->V;
    task_rows(j->N, task, ntasks, &r0, &r1);
    for (int r = r0; r < r1; r++) {
        float *d = j->dlogits + (size_t)r * V;
        const float *p = j->cprobs + (size_t)r * V;
        int y = j->targets[r];
        if (y < 0) { memset(d, 0, (size_t)V * sizeof(float)); continue; }
        for (int i = 0; i < V; i++) d[i] = p[i] * j->dloss;
        d[y] -= j->dloss;
    }
}

/* dlogits[N,V] = (probs - onehot(target)) dloss */
void crossentropy_backward(float *dlogits, const float *probs, const int *targets, float dloss,
                           int N, int V) {
    ce_job j = {.dlogits = dlogits, .cprobs = probs, .targets = targets, .dloss = dloss, .N = N, .V = V};
    tb_parallel(ntasks_for(N, 4LL * V), ce_bwd_task, &j);
}
