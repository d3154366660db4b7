/* stimuli.c -- stimulus metadata and categorical model RDMs (see include/stimuli.h).
 * Lesson 13. */
#include "stimuli.h"
#include "align.h"
#include "io.h"

#include <stdlib.h>
#include <string.h>

const char *const stim_feat_key[STIM_N_FEAT] = {"subj_cat", "subj_num", "verb", "obj_cat", "pos_pattern"};
const char *const stim_feat_name[STIM_N_FEAT] = {"subject category", "subject number", "verb",
                                                 "object category", "part-of-speech pattern"};

void stim_meta_free(stim_meta *m) {
    for (int f = 0; f < STIM_N_FEAT; f++) {
        for (int i = 0; m->label[f] && i < m->n; i++) free(m->label[f][i]);
        free(m->label[f]);
    }
    memset(m, 0, sizeof *m);
}

/* The index of the column called name in a tab-separated header line, or -1. */
static int column(const char *line, const char *name) {
    size_t n = strlen(name);
    for (int i = 0; line; i++) {
        if (strcspn(line, "\t\r") == n && !strncmp(line, name, n)) return i;
        line = strchr(line, '\t');
        if (line) line++;
    }
    return -1;
}

/* Split a line at tabs in place; *va = its cell a and *vb = its cell b (NULL when the
 * line is shorter), each without a trailing '\r'. */
static void pick(char *line, int a, int b, char **va, char **vb) {
    *va = *vb = NULL;
    for (int i = 0; line; i++) {
        char *tab = strchr(line, '\t');
        if (tab) *tab = 0;
        line[strcspn(line, "\r")] = 0;
        if (i == a) *va = line;
        if (i == b) *vb = line;
        line = tab ? tab + 1 : NULL;
    }
}

static int read_row(char *line, const int *col, stim_meta *m, int row, const char *path, char *err) {
    for (int f = 0; f < STIM_N_FEAT; f++) {
        if (col[f] < 0) continue;
        char *copy = strdup(line), *c = NULL, *unused;
        if (copy) pick(copy, col[f], -1, &c, &unused);
        m->label[f][row] = c ? strdup(c) : NULL;
        free(copy);
        if (!copy || (c && !m->label[f][row])) return tb_fail(err, "out of memory");
        if (!c) return tb_fail(err, "%s: row %d has no '%s' cell", path, row + 1, stim_feat_key[f]);
    }
    return 0;
}

int stim_meta_load(const char *tsv, int n, stim_meta *m, char *err) {
    memset(m, 0, sizeof *m);
    m->n = n;
    char *text;
    size_t len;
    if (read_file(tsv, &text, &len, err)) return -1;
    int col[STIM_N_FEAT], row = -1, rc = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line && !rc; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#') continue;
        if (row < 0) { /* the header: one label array per feature it names */
            for (int f = 0; f < STIM_N_FEAT && !rc; f++)
                if ((col[f] = column(line, stim_feat_key[f])) >= 0 &&
                    !(m->label[f] = calloc((size_t)(n > 0 ? n : 1), sizeof(char *))))
                    rc = tb_fail(err, "out of memory");
        } else if (row < n) {
            rc = read_row(line, col, m, row, tsv, err);
        }
        row++;
    }
    free(text);
    if (!rc && row != n) rc = tb_fail(err, "%s: %d rows of metadata for %d stimuli", tsv, row > 0 ? row : 0, n);
    if (rc) stim_meta_free(m);
    return rc;
}

/* ---- part-of-speech patterns ---------------------------------------------------------- */

typedef struct { int n; char **word, **pos; char *text; } vocab_pos;

static void vocab_free(vocab_pos *v) {
    free(v->word);
    free(v->pos);
    free(v->text);
}

/* vocab.tsv's word and pos columns (v->n = 0 when the file or a column is missing). */
static int vocab_read(const char *path, vocab_pos *v, char *err) {
    size_t len, lines = 1;
    char e[TB_ERRLEN];
    memset(v, 0, sizeof *v);
    if (read_file(path, &v->text, &len, e)) { v->text = NULL; return 0; }
    for (const char *p = v->text; *p; p++) lines += *p == '\n';
    v->word = malloc(lines * sizeof(char *));
    v->pos = malloc(lines * sizeof(char *));
    if (!v->word || !v->pos) return tb_fail(err, "out of memory");
    int wc = -1, pc = -1, first = 1;
    char *save = NULL;
    for (char *line = strtok_r(v->text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (first) { /* the header */
            wc = column(line, "word");
            pc = column(line, "pos");
            if (wc < 0 || pc < 0) break;
            first = 0;
            continue;
        }
        char *w, *pos;
        pick(line, wc, pc, &w, &pos);
        if (w && pos) { v->word[v->n] = w; v->pos[v->n] = pos; v->n++; }
    }
    return 0;
}

/* The POS tags of a line's words joined by spaces (malloc'd); NULL with *unknown = 1 when
 * a word is not in the vocabulary, NULL with *unknown = 0 when out of memory. */
static char *pattern(char *line, const vocab_pos *v, int *unknown) {
    size_t len = 0, cap = 64;
    char *pat = malloc(cap), *save = NULL;
    *unknown = 0;
    if (!pat) return NULL;
    pat[0] = 0;
    for (char *w = strtok_r(line, " \r", &save); w; w = strtok_r(NULL, " \r", &save)) {
        int k = 0;
        while (k < v->n && strcmp(v->word[k], w)) k++;
        if (k == v->n) { *unknown = 1; free(pat); return NULL; }
        size_t add = strlen(v->pos[k]) + 1;
        if (len + add + 1 > cap) {
            char *t = realloc(pat, cap = 2 * (len + add + 1));
            if (!t) { free(pat); return NULL; }
            pat = t;
        }
        len += (size_t)sprintf(pat + len, "%s%s", len ? " " : "", v->pos[k]);
    }
    return pat;
}

int stim_pos_patterns(const char *stimuli, const char *vocab, stim_meta *m, char *err) {
    vocab_pos v = {0, NULL, NULL, NULL};
    char *text = NULL, **pat = calloc((size_t)(m->n > 0 ? m->n : 1), sizeof(char *)), e[TB_ERRLEN];
    size_t len;
    int rc = pat ? vocab_read(vocab, &v, err) : tb_fail(err, "out of memory"), i = 0, ok = 1;
    if (!rc && (v.n == 0 || read_file(stimuli, &text, &len, e))) ok = 0;
    char *save = NULL;
    for (char *line = ok && !rc ? strtok_r(text, "\n", &save) : NULL; line && ok && !rc;
         line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#') continue;
        int unknown;
        if (i >= m->n) ok = 0;
        else if (!(pat[i] = pattern(line, &v, &unknown))) {
            if (unknown) ok = 0;
            else rc = tb_fail(err, "out of memory");
        } else i++;
    }
    if (!rc && ok && i == m->n) { /* the feature is known: replace any labels it had */
        for (int j = 0; m->label[STIM_POS_PATTERN] && j < m->n; j++) free(m->label[STIM_POS_PATTERN][j]);
        free(m->label[STIM_POS_PATTERN]);
        m->label[STIM_POS_PATTERN] = pat;
        pat = NULL;
    }
    for (int j = 0; pat && j < m->n; j++) free(pat[j]);
    free(pat);
    free(text);
    vocab_free(&v);
    return rc;
}

/* ---- model RDMs ----------------------------------------------------------------------- */

void stim_model_rdm(const stim_meta *m, int f, float *D) {
    char **l = m->label[f];
    for (int i = 0; i < m->n; i++)
        for (int j = 0; j < m->n; j++) D[(size_t)i * m->n + j] = strcmp(l[i], l[j]) ? 1.0f : 0.0f;
}

int stim_tau_a(const double *X, int n, int p, const stim_meta *m, int f, double *tau, char *err) {
    if (!m->label[f] || m->n != n) return tb_fail(err, "no '%s' labels for these %d stimuli", stim_feat_key[f], n);
    long pairs = (long)n * (n - 1) / 2, k = 0;
    double *D = malloc((size_t)n * n * sizeof(double));
    double *a = malloc((size_t)(pairs > 0 ? pairs : 1) * sizeof(double));
    double *b = malloc((size_t)(pairs > 0 ? pairs : 1) * sizeof(double));
    int rc = D && a && b ? align_rdm(X, n, p, RDM_CORRELATION, D, err) : tb_fail(err, "out of memory");
    if (!rc) {
        rdm_upper(D, n, a);
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++) b[k++] = strcmp(m->label[f][i], m->label[f][j]) ? 1.0 : 0.0;
        *tau = rsa_kendall_a(a, b, pairs);
    }
    free(D);
    free(a);
    free(b);
    return rc;
}

void stim_order(const stim_meta *m, int *ord) {
    char **subj = m->label[STIM_SUBJ_CAT], **obj = m->label[STIM_OBJ_CAT];
    for (int i = 0; i < m->n; i++) ord[i] = i;
    if (!subj) return;
    for (int i = 1; i < m->n; i++) /* insertion sort: stable */
        for (int j = i; j > 0; j--) {
            int a = ord[j - 1], b = ord[j], c = strcmp(subj[a], subj[b]);
            if (!c && obj) c = strcmp(obj[a], obj[b]);
            if (c <= 0) break;
            ord[j - 1] = b;
            ord[j] = a;
        }
}
