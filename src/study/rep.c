/* rep.c -- loading representations for align/compare/localize (see rep.h): a file
 * (.npy in C or Fortran order, float or int, either byte order; an .npz of one array; a
 * TSV table), a folder of .npy files, or an .npz archive, one layer per array. */
#include "align.h"
#include "rep.h"

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void rep_layer_free(rep_layer *L) {
    free(L->mean);
    free(L->trial);
    memset(L, 0, sizeof *L);
}

void rep_free(rep_set *s) {
    for (int i = 0; i < s->n_layers; i++) rep_layer_free(&s->layer[i]);
    free(s->layer);
    memset(s, 0, sizeof *s);
}

int rep_split_tabs(char *line, char **cells, int max) {
    int nc = 0;
    for (char *c = line; nc < max;) {
        cells[nc++] = c;
        char *tab = strchr(c, '\t');
        if (!tab) break;
        *tab = 0;
        c = tab + 1;
    }
    return nc;
}

int rep_layer_alloc(rep_layer *L, const char *name, const char *path, int trials, int n, int p) {
    memset(L, 0, sizeof *L);
    snprintf(L->name, sizeof L->name, "%s", name);
    snprintf(L->path, sizeof L->path, "%s", path);
    L->trials = trials;
    L->n = n;
    L->p = p;
    L->mean = calloc((size_t)n * p, sizeof(double));
    if (trials > 1) L->trial = calloc((size_t)trials * n * p, sizeof(double));
    return !L->mean || (trials > 1 && !L->trial) ? -1 : 0;
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

/* Remove the units listed as constant (keep[j] == 0) from [rows, p] in place. */
static void compact_columns(double *A, long rows, int p, const int *keep, int p_new) {
    for (long i = 0; i < rows; i++) {
        int c = 0;
        for (int j = 0; j < p; j++)
            if (keep[j]) A[(size_t)i * p_new + c++] = A[(size_t)i * p + j];
    }
}

/* keep[j] = 0 for units constant across stimuli (in the trial mean); returns how many,
 * *first = the first of them (-1 if none). */
static int constant_scan(const rep_layer *L, int *keep, int *first) {
    int n = L->n, p = L->p, bad = 0;
    *first = -1;
    for (int j = 0; j < p; j++) {
        keep[j] = 0;
        for (int i = 1; i < n && !keep[j]; i++) keep[j] = L->mean[(size_t)i * p + j] != L->mean[j];
        if (!keep[j]) { bad++; if (*first < 0) *first = j; }
    }
    return bad;
}

static int constant_units(const rep_layer *L, int *first) {
    int *keep = malloc((size_t)L->p * sizeof(int));
    if (!keep) { *first = -1; return 0; }
    int bad = constant_scan(L, keep, first);
    free(keep);
    return bad;
}

/* Array a (read from path) as layer `name`: 2-D stimuli x units or 3-D trials x
 * stimuli x units, finite, trials averaged into L->mean (L->trial takes a's data),
 * constant units refused, dropped or kept as drop_constant says.  a is freed. */
/* Remove from a[T, n, p] every unit with a non-finite value anywhere (in place, order
 * kept); returns how many went, -1 when out of memory.  *p and a's shape are updated. */
static int drop_nan_units(tb_array *a, int T, int n, int *p) {
    int P = *p, q = 0;
    unsigned char *bad = calloc((size_t)P, 1);
    if (!bad) return -1;
    for (int64_t i = 0; i < a->size; i++)
        if (!isfinite(a->data[i])) bad[i % P] = 1;
    for (int u = 0; u < P; u++) q += !bad[u];
    /* row r's kept units move to r * q: every write is at or before its read */
    for (int64_t r = 0; r < (int64_t)T * n; r++) {
        int k = 0;
        for (int u = 0; u < P; u++)
            if (!bad[u]) a->data[r * q + k++] = a->data[r * P + u];
    }
    free(bad);
    *p = q;
    a->size = (int64_t)T * n * q;
    a->shape[a->ndim - 1] = q;
    return P - q;
}

static int layer_from_array(tb_array *a, const char *path, const char *name, int drop_constant, rep_layer *L,
                            char *err) {
    if (a->ndim != 2 && a->ndim != 3) {
        int nd = a->ndim;
        array_free(a);
        return tb_fail(err, "%s: is %d-D; expected stimuli x units (2-D) or trials x stimuli x units (3-D)", path, nd);
    }
    int T = a->ndim == 3 ? (int)a->shape[0] : 1;
    int n = (int)a->shape[a->ndim - 2], p = (int)a->shape[a->ndim - 1], nan_dropped = 0;
    if (T < 1 || n < 1 || p < 1) { array_free(a); return tb_fail(err, "%s: empty array", path); }
    if (drop_constant & REP_DROP_NAN) {   /* units (voxels) with any NaN or inf go first */
        nan_dropped = drop_nan_units(a, T, n, &p);
        if (nan_dropped < 0) { array_free(a); return tb_fail(err, "%s: out of memory", path); }
        if (p == 0) { array_free(a); return tb_fail(err, "%s: every unit has a non-finite value", path); }
    }
    drop_constant &= ~REP_DROP_NAN;
    for (int64_t i = 0; i < a->size; i++)
        if (!isfinite(a->data[i])) {
            int64_t u = i % p, st = (i / p) % n;
            array_free(a);
            return tb_fail(err, "%s: non-finite value at stimulus %lld, unit %lld (leave such units out with "
                                "--drop-nan)", path, (long long)st, (long long)u);
        }
    if (rep_layer_alloc(L, name, path, 1, n, p)) { array_free(a); rep_layer_free(L); return tb_fail(err, "%s: out of memory", path); }
    L->trials = T;
    L->dropped_nan = nan_dropped;
    for (int t = 0; t < T; t++)
        for (size_t i = 0; i < (size_t)n * p; i++) L->mean[i] += a->data[(size_t)t * n * p + i] / T;
    if (T > 1) { L->trial = a->data; a->data = NULL; }
    array_free(a);
    if (drop_constant == 2) return 0; /* keep constant units as they are */
    int first_bad, bad = constant_units(L, &first_bad);
    if (bad && !drop_constant) {
        int p0 = L->p;
        rep_layer_free(L);
        return tb_fail(err, "%s: unit %d is constant across stimuli (%d of %d units are; a silent or saturated unit "
                            "has nothing to compare): remove them with --drop-constant",
                       path, first_bad, bad, p0);
    }
    if (bad == L->p) { rep_layer_free(L); return tb_fail(err, "%s: every unit is constant across stimuli", path); }
    rep_drop_constant(L);
    return 0;
}

/* Any array file array_read (io.h) reads: .npy of any supported dtype, byte order and
 * memory order, an .npz of one array, or a numeric TSV. */
int rep_load_layer(const char *path, const char *name, int drop_constant, rep_layer *L, char *err) {
    memset(L, 0, sizeof *L);
    tb_array a;
    char e[TB_ERRLEN];
    if (array_read(path, &a, e)) return tb_fail(err, "%s", e);
    return layer_from_array(&a, path, name, drop_constant, L, err);
}

int rep_layer_pca(rep_layer *L, int k, char *err) {
    if (k <= 0 || L->p <= k || k > L->n - 1) return 0;
    double *Z = malloc((size_t)L->n * k * sizeof *Z);
    if (!Z) return tb_fail(err, "out of memory");
    if (align_pca(L->mean, L->n, L->p, k, Z, err)) { free(Z); return -1; }
    free(L->mean);
    free(L->trial);
    L->mean = Z;
    L->trial = NULL;
    L->trials = 1;
    L->p = k;
    return 1;
}

int rep_keep_trials(rep_layer *L, int k, char *err) {
    if (k < 0 || k > L->trials)
        return tb_fail(err, "%s: has %d trial%s; cannot keep %d", L->path, L->trials, L->trials == 1 ? "" : "s", k);
    size_t np = (size_t)L->n * L->p;
    if (k >= 1) {   /* the mean of the first k trials (the data itself when trials == 1) */
        if (L->trials > 1) {
            for (size_t i = 0; i < np; i++) L->mean[i] = 0;
            for (int t = 0; t < k; t++)
                for (size_t i = 0; i < np; i++) L->mean[i] += L->trial[(size_t)t * np + i] / k;
        }
        L->trials = k;
    } else {
        L->trials = 1;
    }
    if (L->trials == 1) { free(L->trial); L->trial = NULL; }
    return 0;
}

int rep_drop_constant(rep_layer *L) {
    int n = L->n, p = L->p, first;
    int *keep = malloc((size_t)p * sizeof(int));
    if (!keep) return 0;
    int bad = constant_scan(L, keep, &first);
    if (bad > 0 && bad < p) {
        compact_columns(L->mean, n, p, keep, p - bad);
        if (L->trial) compact_columns(L->trial, (long)L->trials * n, p, keep, p - bad);
        L->dropped += bad;
        L->p = p - bad;
    }
    free(keep);
    return bad < p ? bad : 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int rep_is_dir(const char *path) {
    struct stat st;
    return !stat(path, &st) && S_ISDIR(st.st_mode);
}

int rep_list_steps(const char *dir, char ***paths, int *n) {
    *n = 0;
    *paths = NULL;
    DIR *d = opendir(dir);
    if (!d) return -1;
    struct dirent *de;
    int cap = 0, rc = 0;
    while (!rc && (de = readdir(d))) {
        if (strncmp(de->d_name, "step_", 5) || !ends_with(de->d_name, ".ckpt")) continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            char **t = realloc(*paths, (size_t)cap * sizeof(char *));
            if (!t) { rc = -1; break; }
            *paths = t;
        }
        if (!((*paths)[*n] = tb_strf("%s/%s", dir, de->d_name))) { rc = -1; break; }
        (*n)++;
    }
    closedir(d);
    if (rc) { /* out of memory: no partial list */
        for (int i = 0; i < *n; i++) free((*paths)[i]);
        free(*paths);
        *paths = NULL;
        *n = 0;
        return -1;
    }
    if (*n > 1) qsort(*paths, (size_t)*n, sizeof(char *), cmp_str); /* step_NNNNNN: name order = step order */
    return 0;
}

/* The .npy files of a folder, in name order (*names malloc'd; 0 files is not an error here). */
static int list_npy(const char *path, char ***names, int *nn, char *err) {
    *names = NULL;
    *nn = 0;
    DIR *d = opendir(path);
    if (!d) return tb_fail(err, "%s: cannot read the folder", path);
    struct dirent *de;
    int cap = 0, rc = 0;
    while (!rc && (de = readdir(d))) {
        if (!ends_with(de->d_name, ".npy")) continue;
        if (*nn == cap) {
            cap = cap ? 2 * cap : 16;
            char **t = realloc(*names, (size_t)cap * sizeof *t);
            if (!t) { rc = tb_fail(err, "out of memory"); break; }
            *names = t;
        }
        if (!((*names)[*nn] = strdup(de->d_name))) rc = tb_fail(err, "out of memory");
        else (*nn)++;
    }
    closedir(d);
    if (!rc && *nn > 1) qsort(*names, (size_t)*nn, sizeof **names, cmp_str);
    return rc;
}

/* One file: a set of one layer named after the file (without its extension). */
static int load_file(const char *path, int drop_constant, rep_set *s, char *err) {
    s->layer = calloc(1, sizeof(rep_layer));
    if (!s->layer) return tb_fail(err, "out of memory");
    const char *base = strrchr(path, '/');
    char name[sizeof s->layer[0].name];
    snprintf(name, sizeof name, "%s", base ? base + 1 : path);
    char *dot = strrchr(name, '.');
    if (dot && dot != name) *dot = 0;
    if (rep_load_layer(path, name, drop_constant, &s->layer[0], err)) { free(s->layer); s->layer = NULL; return -1; }
    s->n_layers = 1;
    return 0;
}

/* Layer i of a set read from one folder or archive must see layer 0's stimuli. */
static int same_stimuli(const rep_set *s, int i, char *err) {
    const rep_layer *L = &s->layer[i], *L0 = &s->layer[0];
    if (L->n == L0->n) return 0;
    return tb_fail(err, "%s: %d stimuli, but %s has %d (all layers must see the same stimuli)", L->path, L->n, L0->path, L0->n);
}

/* An .npz archive is read like a folder: one layer per array, named by its key, in
 * archive order (each layer's path is ARCHIVE:KEY). */
static int load_npz(const char *path, int drop_constant, rep_set *s, char *err) {
    tb_npz z;
    if (npz_read(path, &z, err)) return -1;
    int rc = z.n ? 0 : tb_fail(err, "%s: archive holds no arrays", path);
    if (!rc && !(s->layer = calloc((size_t)z.n, sizeof(rep_layer)))) rc = tb_fail(err, "out of memory");
    s->is_folder = 1;
    for (int i = 0; i < z.n && !rc; i++) {
        char *full = tb_strf("%s:%s", path, z.names[i]);
        rc = full ? layer_from_array(&z.arrays[i], full, z.names[i], drop_constant, &s->layer[i], err)
                  : tb_fail(err, "out of memory");
        if (!rc) s->n_layers++;
        if (!rc) rc = same_stimuli(s, i, err);
        free(full);
    }
    npz_free(&z);
    if (rc) rep_free(s);
    return rc;
}

int rep_load(const char *path, int drop_constant, rep_set *s, char *err) {
    memset(s, 0, sizeof *s);
    struct stat st;
    if (stat(path, &st)) return tb_fail(err, "%s: cannot open (no such file or folder)", path);
    if (!S_ISDIR(st.st_mode))
        return ends_with(path, ".npz") ? load_npz(path, drop_constant, s, err) : load_file(path, drop_constant, s, err);
    char **names;
    int nn, rc = list_npy(path, &names, &nn, err);
    if (!rc && nn == 0) rc = tb_fail(err, "%s: folder has no .npy files", path);
    if (!rc && !(s->layer = calloc((size_t)nn, sizeof(rep_layer)))) rc = tb_fail(err, "out of memory");
    s->is_folder = 1;
    for (int i = 0; i < nn && !rc; i++) {
        char *full = tb_strf("%s/%s", path, names[i]);
        names[i][strlen(names[i]) - 4] = 0; /* the layer's name: without .npy */
        rc = full ? rep_load_layer(full, names[i], drop_constant, &s->layer[i], err) : tb_fail(err, "out of memory");
        if (!rc) s->n_layers++;
        if (!rc) rc = same_stimuli(s, i, err);
        free(full);
    }
    for (int i = 0; i < nn; i++) free(names[i]);
    free(names);
    if (rc) rep_free(s);
    return rc;
}

int rep_read_labels(const char *path, char ***labels, int *n, char *err) {
    char *text;
    size_t len;
    *labels = NULL;
    *n = 0;
    if (read_file(path, &text, &len, err)) return -1;
    int cap = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        size_t l = strlen(line);
        while (l && (line[l - 1] == '\r' || line[l - 1] == ' ' || line[l - 1] == '\t')) line[--l] = 0;
        if (!l || line[0] == '#') continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            char **t = realloc(*labels, (size_t)cap * sizeof(char *));
            if (!t) { free(text); rep_free_labels(*labels, *n); return tb_fail(err, "out of memory"); }
            *labels = t;
        }
        (*labels)[(*n)++] = strdup(line);
    }
    free(text);
    if (*n == 0) return tb_fail(err, "%s: no labels (one per line expected)", path);
    return 0;
}

void rep_free_labels(char **labels, int n) {
    for (int i = 0; i < n; i++) free(labels[i]);
    free(labels);
}
