/* io.c -- the files tinybrain writes and reads (see io.h for the formats): atomic
 * writes and the checkpoint container here; arrays (.npy, .npz, TSV) in io_arrays.c.
 *
 * Three rules run through this file:
 *   1. a writer never leaves a half file: temp name, fsync, rename;
 *   2. a reader checks every length against the bytes actually left before it
 *      allocates or copies, so a truncated or hostile file gives an error, not a crash;
 *   3. every error names the file and says what is wrong with it.
 * Lesson 08 shows a checkpoint being written and read back.
 */
#include "io.h"
#include "io_priv.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const unsigned char CKPT_MAGIC[8] = {'T', 'B', 'C', 'K', 'P', 'T', 0, 1};
#define CKPT_VERSION 1u

/* ======================================================================== */
/* atomic writes                                                            */
/* ======================================================================== */

int make_dirs(const char *dir, char *err) {
    char buf[1024];
    size_t n = strlen(dir);
    if (n == 0) return 0;
    if (n >= sizeof buf) return tb_fail(err, "%s: path too long", dir);
    memcpy(buf, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != 0) continue;
        char c = buf[i];
        buf[i] = 0;
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return tb_fail(err, "%s: cannot create folder (%s)", buf, strerror(errno));
        struct stat st;
        if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
            return tb_fail(err, "%s: exists and is not a folder", buf);
        buf[i] = c;
    }
    return 0;
}

/* Create the parent folder of `path` (if it has one). */
static int make_parent(const char *path, char *err) {
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path) return 0;
    char dir[1024];
    size_t n = (size_t)(slash - path);
    if (n >= sizeof dir) return tb_fail(err, "%s: path too long", path);
    memcpy(dir, path, n);
    dir[n] = 0;
    return make_dirs(dir, err);
}

int atomic_begin(tb_atomic *a, const char *path, char *err) {
    memset(a, 0, sizeof *a);
    if (!path || !*path) return tb_fail(err, "empty output path");
    if (strlen(path) >= sizeof a->path) return tb_fail(err, "%s: path too long", path);
    if (make_parent(path, err)) return -1;
    snprintf(a->path, sizeof a->path, "%s", path);
    snprintf(a->tmp, sizeof a->tmp, "%s.tmp.%ld", path, (long)getpid());
    a->f = fopen(a->tmp, "wb");
    if (!a->f) return tb_fail(err, "%s: cannot write (%s)", path, strerror(errno));
    return 0;
}

int atomic_commit(tb_atomic *a, char *err) {
    if (!a->f) return tb_fail(err, "%s: not open", a->path);
    int bad = ferror(a->f);
    if (fflush(a->f) != 0) bad = 1;
    if (!bad && fsync(fileno(a->f)) != 0) bad = 1;
    int e = errno;
    if (fclose(a->f) != 0) bad = 1;
    a->f = NULL;
    if (bad) {
        remove(a->tmp);
        return tb_fail(err, "%s: write failed (%s)", a->path, strerror(e ? e : EIO));
    }
    if (rename(a->tmp, a->path) != 0) {
        e = errno;
        remove(a->tmp);
        return tb_fail(err, "%s: cannot replace (%s)", a->path, strerror(e));
    }
    return 0;
}

void atomic_abort(tb_atomic *a) {
    if (a->f) fclose(a->f);
    a->f = NULL;
    if (a->tmp[0]) remove(a->tmp);
}

int write_text_file(const char *path, const char *text, char *err) {
    tb_atomic a;
    if (atomic_begin(&a, path, err)) return -1;
    size_t n = strlen(text);
    if (n && fwrite(text, 1, n, a.f) != n) {
        atomic_abort(&a);
        return tb_fail(err, "%s: write failed (%s)", path, strerror(errno));
    }
    return atomic_commit(&a, err);
}

int read_file(const char *path, char **data, size_t *len, char *err) {
    *data = NULL;
    if (len) *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return tb_fail(err, "%s: cannot open (%s)", path, strerror(errno));
    struct stat st;
    int known = fstat(fileno(f), &st) == 0;
    if (known && S_ISDIR(st.st_mode)) {
        fclose(f);
        return tb_fail(err, "%s: is a folder, expected a file", path);
    }
    /* A regular file is read into one buffer of its size (+1 for the NUL), grown only if
     * the file grew meanwhile; pipes and devices start from 64 KiB and double. */
    size_t cap = 1 << 16, n = 0;
    if (known && S_ISREG(st.st_mode) && st.st_size > 0 && (uint64_t)st.st_size < SIZE_MAX / 2)
        cap = (size_t)st.st_size + 1;
    char *buf = malloc(cap + 1);
    if (!buf) { fclose(f); return tb_fail(err, "%s: out of memory", path); }
    for (;;) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap) break;
        char *nb = realloc(buf, 2 * cap + 1);
        if (!nb) { free(buf); fclose(f); return tb_fail(err, "%s: out of memory", path); }
        buf = nb;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) { free(buf); return tb_fail(err, "%s: read error", path); }
    buf[n] = 0;
    *data = buf;
    if (len) *len = n;
    return 0;
}

/* CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), table built on first use. */
uint32_t crc32_update(uint32_t crc, const void *data, size_t n) {
    static uint32_t table[256];
    static int ready = 0;
    if (!ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        ready = 1;
    }
    const unsigned char *p = data;
    crc = ~crc;
    for (size_t i = 0; i < n; i++) crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

/* ======================================================================== */
/* checkpoint container                                                     */
/* ======================================================================== */

void ckpt_init(tb_ckpt *c, const char *kind) {
    memset(c, 0, sizeof *c);
    snprintf(c->kind, sizeof c->kind, "%s", kind ? kind : "");
}

void ckpt_free(tb_ckpt *c) {
    for (int i = 0; i < c->n_config; i++) { free(c->keys[i]); free(c->values[i]); }
    free(c->keys);
    free(c->values);
    for (int i = 0; i < c->n_tensors; i++) free(c->tensors[i].data);
    free(c->tensors);
    memset(c, 0, sizeof *c);
}

static char *dupstr(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

int ckpt_set(tb_ckpt *c, const char *key, const char *value) {
    for (int i = 0; i < c->n_config; i++)
        if (!strcmp(c->keys[i], key)) {
            char *v = dupstr(value);
            if (!v) return -1;
            free(c->values[i]);
            c->values[i] = v;
            return 0;
        }
    char **k = realloc(c->keys, (size_t)(c->n_config + 1) * sizeof *k);
    if (!k) return -1;
    c->keys = k;
    char **v = realloc(c->values, (size_t)(c->n_config + 1) * sizeof *v);
    if (!v) return -1;
    c->values = v;
    c->keys[c->n_config] = dupstr(key);
    c->values[c->n_config] = dupstr(value);
    if (!c->keys[c->n_config] || !c->values[c->n_config]) {
        free(c->keys[c->n_config]);
        free(c->values[c->n_config]);
        return -1;
    }
    c->n_config++;
    return 0;
}

int ckpt_set_int(tb_ckpt *c, const char *key, long long value) {
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", value);
    return ckpt_set(c, key, buf);
}

int ckpt_set_double(tb_ckpt *c, const char *key, double value) {
    char buf[40];
    snprintf(buf, sizeof buf, "%.17g", value);
    return ckpt_set(c, key, buf);
}

const char *ckpt_get(const tb_ckpt *c, const char *key) {
    for (int i = 0; i < c->n_config; i++)
        if (!strcmp(c->keys[i], key)) return c->values[i];
    return NULL;
}

int ckpt_get_int(const tb_ckpt *c, const char *key, long long *out, char *err) {
    const char *v = ckpt_get(c, key);
    if (!v) return tb_fail(err, "config key '%s' missing", key);
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (end == v || *end || errno) return tb_fail(err, "config key '%s' is not an integer ('%s')", key, v);
    *out = x;
    return 0;
}

int ckpt_get_double(const tb_ckpt *c, const char *key, double *out, char *err) {
    const char *v = ckpt_get(c, key);
    if (!v) return tb_fail(err, "config key '%s' missing", key);
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end) return tb_fail(err, "config key '%s' is not a number ('%s')", key, v);
    *out = x;
    return 0;
}

int ckpt_add_tensor(tb_ckpt *c, const char *name, const float *data, int ndim,
                    const int64_t *shape) {
    if (ndim < 1 || ndim > CKPT_MAX_DIM || strlen(name) >= sizeof c->tensors[0].name) return -1;
    int64_t size = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 0) return -1;
        size *= shape[d];
    }
    tb_tensor *t = realloc(c->tensors, (size_t)(c->n_tensors + 1) * sizeof *t);
    if (!t) return -1;
    c->tensors = t;
    tb_tensor *x = &c->tensors[c->n_tensors];
    memset(x, 0, sizeof *x);
    snprintf(x->name, sizeof x->name, "%s", name);
    x->ndim = ndim;
    for (int d = 0; d < ndim; d++) x->shape[d] = shape[d];
    x->size = size;
    x->data = malloc((size_t)(size ? size : 1) * sizeof(float));
    if (!x->data) return -1;
    if (size) memcpy(x->data, data, (size_t)size * sizeof(float));
    c->n_tensors++;
    return 0;
}

const tb_tensor *ckpt_find(const tb_ckpt *c, const char *name) {
    for (int i = 0; i < c->n_tensors; i++)
        if (!strcmp(c->tensors[i].name, name)) return &c->tensors[i];
    return NULL;
}

static void shape_str(char *buf, size_t n, int ndim, const int64_t *shape) {
    size_t o = (size_t)snprintf(buf, n, "[");
    for (int d = 0; d < ndim && o < n; d++)
        o += (size_t)snprintf(buf + o, n - o, "%s%lld", d ? "," : "", (long long)shape[d]);
    if (o < n) snprintf(buf + o, n - o, "]");
}

int ckpt_check_tensor(const tb_ckpt *c, const char *name, int ndim, const int64_t *shape,
                      char *err) {
    const tb_tensor *t = ckpt_find(c, name);
    if (!t) return tb_fail(err, "tensor '%s' missing", name);
    int same = t->ndim == ndim;
    for (int d = 0; same && d < ndim; d++) same = t->shape[d] == shape[d];
    if (!same) {
        char a[128], b[128];
        shape_str(a, sizeof a, t->ndim, t->shape);
        shape_str(b, sizeof b, ndim, shape);
        return tb_fail(err, "tensor '%s' has shape %s, expected %s", name, a, b);
    }
    return 0;
}

int ckpt_read_tensor(const tb_ckpt *c, const char *name, float *dst, int ndim,
                     const int64_t *shape, char *err) {
    if (ckpt_check_tensor(c, name, ndim, shape, err)) return -1;
    const tb_tensor *t = ckpt_find(c, name);
    if (t->size) memcpy(dst, t->data, (size_t)t->size * sizeof(float));
    return 0;
}

/* -- writing: every field goes through put(), which also feeds the CRC -- */
typedef struct { FILE *f; uint32_t crc; int bad; } writer;

static void put(writer *w, const void *p, size_t n) {
    if (w->bad || n == 0) return;
    if (fwrite(p, 1, n, w->f) != n) w->bad = 1;
    w->crc = crc32_update(w->crc, p, n);
}
static void put_u32(writer *w, uint32_t x) {
    unsigned char b[4] = {(unsigned char)x, (unsigned char)(x >> 8), (unsigned char)(x >> 16),
                          (unsigned char)(x >> 24)};
    put(w, b, 4);
}
static void put_i64(writer *w, int64_t v) {
    uint64_t x = (uint64_t)v;
    unsigned char b[8];
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(x >> (8 * i));
    put(w, b, 8);
}
static void put_str(writer *w, const char *s) {
    size_t n = strlen(s);
    put_u32(w, (uint32_t)n);
    put(w, s, n);
}
/* float32 little-endian: on a little-endian host the bytes go out as they are. */
static void put_f32s(writer *w, const float *x, int64_t n) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    for (int64_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], 4);
        put_u32(w, u);
    }
#else
    put(w, x, (size_t)n * sizeof(float));
#endif
}

int ckpt_save(const tb_ckpt *c, const char *path, char *err) {
    tb_atomic a;
    if (atomic_begin(&a, path, err)) return -1;
    writer w = {a.f, 0, 0};
    if (fwrite(CKPT_MAGIC, 1, 8, a.f) != 8) w.bad = 1;
    put_u32(&w, CKPT_VERSION);
    put_str(&w, c->kind);
    put_u32(&w, (uint32_t)c->n_config);
    for (int i = 0; i < c->n_config; i++) { put_str(&w, c->keys[i]); put_str(&w, c->values[i]); }
    put_u32(&w, (uint32_t)c->n_tensors);
    for (int i = 0; i < c->n_tensors; i++) {
        const tb_tensor *t = &c->tensors[i];
        put_str(&w, t->name);
        put_u32(&w, (uint32_t)t->ndim);
        for (int d = 0; d < t->ndim; d++) put_i64(&w, t->shape[d]);
        put_f32s(&w, t->data, t->size);
    }
    uint32_t crc = w.crc;
    unsigned char b[4] = {(unsigned char)crc, (unsigned char)(crc >> 8), (unsigned char)(crc >> 16),
                          (unsigned char)(crc >> 24)};
    if (!w.bad && fwrite(b, 1, 4, a.f) != 4) w.bad = 1;
    if (w.bad) {
        atomic_abort(&a);
        return tb_fail(err, "%s: write failed (%s)", path, strerror(errno));
    }
    return atomic_commit(&a, err);
}

/* -- reading: a cursor over the whole file in memory; every take checks bounds -- */
typedef struct { const unsigned char *p; size_t n, pos; const char *path; char *err; } reader;

static size_t left(const reader *r) { return r->n - r->pos; }

static int take(reader *r, void *dst, size_t n, const char *what) {
    if (n > left(r))
        return tb_fail(r->err, "%s: truncated (expected %zu bytes of %s, found %zu)", r->path, n,
                       what, left(r));
    if (dst && n) memcpy(dst, r->p + r->pos, n);
    r->pos += n;
    return 0;
}
static int take_u32(reader *r, uint32_t *x, const char *what) {
    unsigned char b[4] = {0};
    if (take(r, b, 4, what)) return -1;
    *x = le32(b);
    return 0;
}
static int take_i64(reader *r, int64_t *v, const char *what) {
    unsigned char b[8] = {0};
    if (take(r, b, 8, what)) return -1;
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--) x = x << 8 | b[i];
    *v = (int64_t)x;
    return 0;
}

/* A length-prefixed string of at most max bytes: into dst[cap] when dst is given
 * (max = cap - 1), else into a fresh malloc'd buffer *out. */
static int take_text(reader *r, char *dst, char **out, uint32_t max, const char *what) {
    uint32_t n;
    if (take_u32(r, &n, what)) return -1;
    if (n > max) return tb_fail(r->err, "%s: corrupt (%s length %u is too long)", r->path, what, n);
    if (n > left(r)) return take(r, NULL, n, what); /* the truncation message */
    if (memchr(r->p + r->pos, 0, n))
        return tb_fail(r->err, "%s: corrupt (NUL byte inside %s)", r->path, what);
    char *s = dst ? dst : malloc((size_t)n + 1);
    if (!s) return tb_fail(r->err, "%s: out of memory", r->path);
    take(r, s, n, what);
    s[n] = 0;
    if (out) *out = s;
    return 0;
}

/* Magic, version and CRC before any field is trusted, so a damaged file is refused
 * without allocating.  Leaves the cursor at the kind, with r->n at the end of the body. */
static int ckpt_envelope(reader *r) {
    if (r->n < 8 || memcmp(r->p, CKPT_MAGIC, 8) != 0)
        return tb_fail(r->err, "%s: not a tinybrain checkpoint (bad magic)", r->path);
    if (r->n < 8 + 4 + 4) return tb_fail(r->err, "%s: truncated (only %zu bytes)", r->path, r->n);
    r->pos = 8;
    uint32_t version;
    take_u32(r, &version, "version");
    if (version != CKPT_VERSION)
        return tb_fail(r->err, "%s: checkpoint format version %u, this tinybrain reads version %u",
                       r->path, version, CKPT_VERSION);
    /* The CRC covers everything between the magic and the trailing CRC. */
    if (crc32_update(0, r->p + 8, r->n - 12) != le32(r->p + r->n - 4))
        return tb_fail(r->err, "%s: CRC mismatch (file is corrupt or truncated)", r->path);
    r->n -= 4;
    return 0;
}

/* A count of records that take at least min_bytes each: a count the rest of the file
 * cannot hold is refused before anything is allocated for it. */
static int take_count(reader *r, uint32_t *n, size_t min_bytes, const char *what) {
    if (take_u32(r, n, what)) return -1;
    if (*n > left(r) / min_bytes || *n > INT32_MAX)
        return tb_fail(r->err, "%s: corrupt (%s %u, but only %zu bytes left)", r->path, what, *n,
                       left(r));
    return 0;
}

/* u32 n_config, then n_config (key, value) pairs of at least 8 bytes (two lengths). */
static int ckpt_parse_config(tb_ckpt *c, reader *r) {
    uint32_t n;
    if (take_count(r, &n, 8, "config count")) return -1;
    c->keys = calloc(n ? n : 1, sizeof *c->keys);
    c->values = calloc(n ? n : 1, sizeof *c->values);
    if (!c->keys || !c->values) return tb_fail(r->err, "%s: out of memory", r->path);
    for (uint32_t i = 0; i < n; i++) {
        if (take_text(r, NULL, &c->keys[i], 1u << 16, "config key")) return -1;
        if (take_text(r, NULL, &c->values[i], 1u << 24, "config value")) {
            free(c->keys[i]);
            return -1;
        }
        c->n_config++;
    }
    return 0;
}

/* One tensor record: name, rank, shape, then prod(shape) float32.  The element count is
 * checked against the bytes left dimension by dimension, so it can neither overflow nor
 * ask for more memory than the file holds. */
static int ckpt_parse_tensor(reader *r, tb_tensor *t) {
    char q[48];
    if (take_text(r, t->name, NULL, sizeof t->name - 1, "tensor name")) return -1;
    uint32_t ndim;
    if (take_u32(r, &ndim, "tensor rank")) return -1;
    if (ndim < 1 || ndim > CKPT_MAX_DIM)
        return tb_fail(r->err, "%s: corrupt (tensor '%s' has rank %u)", r->path,
                       printable(q, sizeof q, t->name), ndim);
    int64_t size = 1;
    for (uint32_t d = 0; d < ndim; d++) {
        if (take_i64(r, &t->shape[d], "tensor shape")) return -1;
        if (t->shape[d] < 0 || (t->shape[d] && size > (int64_t)(left(r) / 4) / t->shape[d]))
            return tb_fail(r->err, "%s: corrupt (tensor '%s' has a shape the file cannot hold)",
                           r->path, printable(q, sizeof q, t->name));
        size *= t->shape[d];
    }
    size_t bytes = (size_t)size * 4;
    if (bytes > left(r)) return take(r, NULL, bytes, "tensor data");
    t->ndim = (int)ndim;
    t->size = size;
    t->data = malloc(bytes ? bytes : 4);
    if (!t->data) return tb_fail(r->err, "%s: out of memory", r->path);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    for (int64_t j = 0; j < size; j++) {
        uint32_t u;
        take_u32(r, &u, "tensor data");
        memcpy(&t->data[j], &u, 4);
    }
#else
    take(r, t->data, bytes, "tensor data");
#endif
    return 0;
}

/* u32 n_tensors, then the records, of at least 16 bytes (name length, rank, a dimension). */
static int ckpt_parse_tensors(tb_ckpt *c, reader *r) {
    uint32_t n;
    if (take_count(r, &n, 16, "tensor count")) return -1;
    c->tensors = calloc(n ? n : 1, sizeof *c->tensors);
    if (!c->tensors) return tb_fail(r->err, "%s: out of memory", r->path);
    for (uint32_t i = 0; i < n; i++) {
        if (ckpt_parse_tensor(r, &c->tensors[i])) return -1;
        c->n_tensors++;
    }
    return 0;
}

/* Writers never repeat a key or a tensor (ckpt_set replaces), so a repeat is damage. */
static int ckpt_check_unique(const tb_ckpt *c, reader *r) {
    int n = c->n_config > c->n_tensors ? c->n_config : c->n_tensors;
    const char **names = malloc((size_t)(n ? n : 1) * sizeof *names);
    if (!names) return tb_fail(r->err, "%s: out of memory", r->path);
    for (int i = 0; i < c->n_config; i++) names[i] = c->keys[i];
    const char *what = "config key", *dup = duplicate_name(names, c->n_config);
    if (!dup) {
        for (int i = 0; i < c->n_tensors; i++) names[i] = c->tensors[i].name;
        what = "tensor";
        dup = duplicate_name(names, c->n_tensors);
    }
    char q[48];
    int rc = dup ? tb_fail(r->err, "%s: corrupt (%s '%s' appears twice)", r->path, what,
                           printable(q, sizeof q, dup))
                 : 0;
    free(names);
    return rc;
}

int ckpt_parse_buf(tb_ckpt *c, const void *data, size_t len, const char *name,
                   const char *expect_kind, char *err) {
    ckpt_init(c, "");
    reader r = {data, len, 0, name, err};
    int rc = ckpt_envelope(&r);
    if (!rc) rc = take_text(&r, c->kind, NULL, sizeof c->kind - 1, "kind");
    if (!rc) rc = ckpt_parse_config(c, &r);
    if (!rc) rc = ckpt_parse_tensors(c, &r);
    if (!rc && r.pos != r.n)
        rc = tb_fail(err, "%s: corrupt (%zu unexpected bytes before the checksum)", name, left(&r));
    if (!rc) rc = ckpt_check_unique(c, &r);
    if (!rc && expect_kind && strcmp(c->kind, expect_kind)) {
        char q[48];
        rc = tb_fail(err, "%s: is a '%s' checkpoint, expected '%s'", name,
                     printable(q, sizeof q, c->kind), expect_kind);
    }
    if (rc) ckpt_free(c);
    return rc;
}

int ckpt_load(tb_ckpt *c, const char *path, const char *expect_kind, char *err) {
    ckpt_init(c, "");
    char *data;
    size_t len;
    if (read_file(path, &data, &len, err)) return -1;
    int rc = ckpt_parse_buf(c, data, len, path, expect_kind, err);
    free(data);
    return rc;
}
