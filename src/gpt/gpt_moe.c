/* gpt_moe.c -- the tinkerer's MLPs: a mixture of experts with a router, and the top-K
 * sparse MLP, as forward/backward pairs over flat arrays.  Lesson 18; the equations are
 * at the top of include/gpt.h.
 *
 * An expert is an ordinary MLP (fc, activation, fcproj) with its own weights.  The
 * tokens routed to expert e are gathered into consecutive rows of a scratch matrix, so
 * each expert runs as one matrix product over its tokens; the results are scattered back
 * to the tokens' slots.  Experts are visited in order 0..E-1 and tokens in order inside
 * each, so every sum is taken in the same order whatever the thread count. */
#include "gpt.h"
#include "kernels.h"

#include <math.h>
#include <string.h>

/* ---- top-K sparsity (k-winners-take-all) ----------------------------------------- */

/* The K-th largest of x[n] (x is reordered): quickselect, Hoare partition, middle pivot. */
static float kth_largest(float *x, int n, int K) {
    int lo = 0, hi = n - 1, want = K - 1;   /* index in descending order */
    while (lo < hi) {
        float piv = x[lo + (hi - lo) / 2];
        int i = lo, j = hi;
        while (i <= j) {
            while (x[i] > piv) i++;
            while (x[j] < piv) j--;
            if (i <= j) {
                float t = x[i];
                x[i++] = x[j];
                x[j--] = t;
            }
        }
        if (want <= j) hi = j;
        else if (want >= i) lo = i;
        else return x[want];   /* between j and i every value equals the pivot */
    }
    return x[want];
}

/* h[rows, H]: keep the K largest of each row (ties to the lower index), zero the rest.
 * scratch: H floats. */
void sparse_topk_rows(float *h, size_t rows, int H, int K, float *scratch) {
    if (K <= 0 || K >= H) return;
    for (size_t r = 0; r < rows; r++) {
        float *x = h + r * H;
        memcpy(scratch, x, (size_t)H * sizeof(float));
        float thr = kth_largest(scratch, H, K);
        int above = 0;
        for (int i = 0; i < H; i++) above += x[i] > thr;
        int ties = K - above;   /* values equal to the threshold that stay, by index */
        for (int i = 0; i < H; i++) {
            if (x[i] > thr) continue;
            if (x[i] == thr && ties > 0) { ties--; continue; }
            x[i] = 0.0f;
        }
    }
}

/* ---- routing ------------------------------------------------------------------------ */

/* The k largest router probabilities of each token (ties to the lower index), and the
 * gates: k = 1, g = p_e1; k = 2, g_j = p_ej / (p_e1 + p_e2). */
static void choose_experts(const moe_layer *L, const moe_saved *s) {
    int E = L->E, k = L->k;
    for (int n = 0; n < L->N; n++) {
        const float *p = s->probs + (size_t)n * E;
        int *ex = s->expert + (size_t)n * k, a = 0;
        float *g = s->gate + (size_t)n * k;
        for (int e = 1; e < E; e++) if (p[e] > p[a]) a = e;
        ex[0] = a;
        if (k == 1) { g[0] = p[a]; continue; }
        int b = a == 0 ? 1 : 0;
        for (int e = 0; e < E; e++) if (e != a && p[e] > p[b]) b = e;
        ex[1] = b;
        float S = p[a] + p[b];
        g[0] = p[a] / S;
        g[1] = p[b] / S;
    }
}

/* The expert a slot chose, kept or dropped. */
static int chosen(int e) { return e >= 0 ? e : -1 - e; }

/* f_e = share of the k N routing choices that picked expert e (before capacity). */
static void choice_shares(const moe_layer *L, const int *expert, double *f) {
    size_t S = (size_t)L->N * L->k;
    for (int e = 0; e < L->E; e++) f[e] = 0.0;
    for (size_t i = 0; i < S; i++) f[chosen(expert[i])] += 1.0;
    for (int e = 0; e < L->E; e++) f[e] /= (double)S;
}

/* L_aux = alpha E sum_e f_e P_e,  P_e = mean over tokens of p[e]. */
static double balance_loss(const moe_layer *L, const moe_saved *s) {
    double f[GPT_MAX_EXPERTS], aux = 0.0;
    choice_shares(L, s->expert, f);
    for (int e = 0; e < L->E; e++) {
        double P = 0.0;
        for (int n = 0; n < L->N; n++) P += s->probs[(size_t)n * L->E + e];
        aux += f[e] * P / L->N;
    }
    return L->aux * L->E * aux;
}

/* Capacity: expert e takes at most ceil(factor k N / E) slots, first choices before
 * second ones, in token order; a slot over capacity is dropped (gate 0). */
static void apply_capacity(const moe_layer *L, const moe_saved *s) {
    if (L->capacity <= 0) return;
    long cap = (long)ceil(L->capacity * L->k * L->N / L->E), count[GPT_MAX_EXPERTS] = {0};
    for (int j = 0; j < L->k; j++)
        for (int n = 0; n < L->N; n++) {
            size_t i = (size_t)n * L->k + j;
            int e = s->expert[i];
            if (count[e] < cap) { count[e]++; continue; }
            s->expert[i] = -1 - e;
            s->gate[i] = 0.0f;
        }
}

/* ---- gathering slots by expert ------------------------------------------------------ */

/* off[e] = first scratch row of expert e's kept slots (off[E] = all kept slots); when
 * x != NULL the tokens' rows of u are gathered there. */
static int gather_rows(const moe_layer *L, const int *expert, const float *u, float *x, int *off) {
    int rows = 0, S = L->N * L->k, C = L->C;
    for (int e = 0; e < L->E; e++) {
        off[e] = rows;
        for (int i = 0; i < S; i++)
            if (expert[i] == e) {
                if (x) memcpy(x + (size_t)rows * C, u + (size_t)(i / L->k) * C, (size_t)C * sizeof(float));
                rows++;
            }
    }
    off[L->E] = rows;
    return rows;
}

/* Each expert e over its rows off[e]..off[e+1]-1: out = in W_e^T + b_e (W [E, O, I]). */
static void each_expert_forward(const moe_layer *L, const int *off, float *out, const float *in, const float *W,
                                const float *b, int I, int O) {
    for (int e = 0; e < L->E; e++) {
        int n = off[e + 1] - off[e];
        if (n) tb_kern->matmul_forward(out + (size_t)off[e] * O, in + (size_t)off[e] * I, W + (size_t)e * O * I,
                                       b + (size_t)e * O, n, I, O);
    }
}

/* Its backward: din += dout W_e, dW_e += dout^T in, db_e += sum dout. */
static void each_expert_backward(const moe_layer *L, const int *off, float *din, float *dW, float *db, const float *dout,
                                 const float *in, const float *W, int I, int O) {
    for (int e = 0; e < L->E; e++) {
        int n = off[e + 1] - off[e];
        if (n) tb_kern->matmul_backward(din + (size_t)off[e] * I, dW + (size_t)e * O * I, db + (size_t)e * O,
                                        dout + (size_t)off[e] * O, in + (size_t)off[e] * I, W + (size_t)e * O * I, n, I, O);
    }
}

/* Each expert over its rows: pre = x W1^T + b1, hid = act(pre) (top-K), y = hid W2^T + b2. */
static void experts_forward(const moe_layer *L, const moe_scratch *w, const int *off, int rows) {
    each_expert_forward(L, off, w->pre, w->x, L->w1, L->b1, L->C, L->H);
    act_forward(L->act, w->hid, w->pre, (size_t)rows * L->H);
    if (L->topk) sparse_topk_rows(w->hid, (size_t)rows, L->H, L->topk, w->dh);
    each_expert_forward(L, off, w->y, w->hid, L->w2, L->b2, L->H, L->C);
}

/* Scratch rows back to the slots (pre, hid, y), and out[n] = sum_j g_j y_j. */
static void scatter_slots(const moe_layer *L, float *out, const moe_saved *s, const moe_scratch *w) {
    int C = L->C, H = L->H, S = L->N * L->k, row = 0;
    memset(out, 0, (size_t)L->N * C * sizeof(float));
    memset(s->pre, 0, (size_t)S * H * sizeof(float));
    memset(s->hid, 0, (size_t)S * H * sizeof(float));
    memset(s->y, 0, (size_t)S * C * sizeof(float));
    for (int e = 0; e < L->E; e++)
        for (int i = 0; i < S; i++) {
            if (s->expert[i] != e) continue;
            memcpy(s->pre + (size_t)i * H, w->pre + (size_t)row * H, (size_t)H * sizeof(float));
            memcpy(s->hid + (size_t)i * H, w->hid + (size_t)row * H, (size_t)H * sizeof(float));
            const float *y = w->y + (size_t)row * C;
            memcpy(s->y + (size_t)i * C, y, (size_t)C * sizeof(float));
            float g = s->gate[i], *o = out + (size_t)(i / L->k) * C;
            for (int c = 0; c < C; c++) o[c] += g * y[c];
            row++;
        }
}

/* ---- forward and backward ------------------------------------------------------------ */

double moe_forward(const moe_layer *L, float *out, const float *u, const moe_saved *s, const moe_scratch *w) {
    int off[GPT_MAX_EXPERTS + 1];
    /* p = softmax(u Wr^T) */
    tb_kern->matmul_forward(s->probs, u, L->wr, NULL, L->N, L->C, L->E);
    tb_kern->softmax_forward(s->probs, s->probs, L->N, L->E);
    choose_experts(L, s);
    double aux = balance_loss(L, s);   /* on the choices, before any is dropped */
    apply_capacity(L, s);
    int rows = gather_rows(L, s->expert, u, w->x, off);
    experts_forward(L, w, off, rows);
    scatter_slots(L, out, s, w);
    return aux;
}

/* The experts' backward over the gathered rows; dX lands in w->y, then in du. */
static void experts_backward(const moe_layer *L, float *du, float *dw1, float *db1, float *dw2, float *db2,
                             const moe_scratch *w, const moe_saved *s, const int *off, int rows) {
    int C = L->C, H = L->H, S = L->N * L->k;
    memset(w->dh, 0, (size_t)rows * H * sizeof(float));
    each_expert_backward(L, off, w->dh, dw2, db2, w->y, w->hid, L->w2, H, C);   /* dhid = dY W2 */
    if (L->topk)   /* a unit the top-K zeroed passes no gradient */
        for (size_t i = 0; i < (size_t)rows * H; i++) if (w->hid[i] == 0.0f) w->dh[i] = 0.0f;
    act_backward(L->act, w->hid, w->pre, w->dh, (size_t)rows * H);   /* hid <- dpre */
    memset(w->y, 0, (size_t)rows * C * sizeof(float));
    each_expert_backward(L, off, w->y, dw1, db1, w->hid, w->x, L->w1, C, H);   /* dX = dpre W1 */
    int row = 0;
    for (int e = 0; e < L->E; e++)
        for (int i = 0; i < S; i++) {
            if (s->expert[i] != e) continue;
            float *d = du + (size_t)(i / L->k) * C;
            const float *dx = w->y + (size_t)row++ * C;
            for (int c = 0; c < C; c++) d[c] += dx[c];
        }
}

static float dot(const float *a, const float *b, int n) {
    float s = 0.0f;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

/* d(loss)/dp: the gates' part and L_aux's (alpha E f_e / N for every token), then
 * through the softmax and the router matrix. */
static void router_backward(const moe_layer *L, float *du, float *dwr, const float *dout, const float *u,
                            const moe_saved *s, const moe_scratch *w) {
    int N = L->N, E = L->E, k = L->k, C = L->C;
    double f[GPT_MAX_EXPERTS];
    choice_shares(L, s->expert, f);
    for (int n = 0; n < N; n++) {
        const float *p = s->probs + (size_t)n * E, *dm = dout + (size_t)n * C;
        const int *ex = s->expert + (size_t)n * k;
        float *dp = w->dp + (size_t)n * E;
        for (int e = 0; e < E; e++) dp[e] = (float)(L->aux * E * f[e] / N);
        /* dg_j = dm . y_j for a kept slot (a dropped one contributes nothing) */
        float dg[2] = {0.0f, 0.0f};
        for (int j = 0; j < k; j++)
            if (ex[j] >= 0) dg[j] = dot(dm, s->y + ((size_t)n * k + j) * C, C);
        if (k == 1) { dp[chosen(ex[0])] += dg[0]; continue; }
        int a = chosen(ex[0]), b = chosen(ex[1]);
        float S = p[a] + p[b], ga = p[a] / S, gb = p[b] / S, sum = ga * dg[0] + gb * dg[1];
        dp[a] += (dg[0] - sum) / S;   /* g_a = p_a / (p_a + p_b) */
        dp[b] += (dg[1] - sum) / S;
    }
    tb_kern->softmax_backward(w->dp, w->dp, s->probs, N, E);
    tb_kern->matmul_backward(du, dwr, NULL, w->dp, u, L->wr, N, C, E);
}

void moe_backward(const moe_layer *L, float *du, float *dwr, float *dw1, float *db1, float *dw2, float *db2,
                  const float *dout, const float *u, const moe_saved *s, const moe_scratch *w) {
    int off[GPT_MAX_EXPERTS + 1], C = L->C, H = L->H, S = L->N * L->k;
    int rows = gather_rows(L, s->expert, u, w->x, off);
    /* the slots' pre-activations, hidden units and dY = g dm, in the gathered order */
    int row = 0;
    for (int e = 0; e < L->E; e++)
        for (int i = 0; i < S; i++) {
            if (s->expert[i] != e) continue;
            memcpy(w->pre + (size_t)row * H, s->pre + (size_t)i * H, (size_t)H * sizeof(float));
            memcpy(w->hid + (size_t)row * H, s->hid + (size_t)i * H, (size_t)H * sizeof(float));
            const float *dm = dout + (size_t)(i / L->k) * C;
            float g = s->gate[i], *dy = w->y + (size_t)row * C;
            for (int c = 0; c < C; c++) dy[c] = g * dm[c];
            row++;
        }
    experts_backward(L, du, dw1, db1, dw2, db2, w, s, off, rows);
    router_backward(L, du, dwr, dout, u, s, w);
}
