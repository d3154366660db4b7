/* io.c -- the files tinybrain writes and reads (see io.h for the formats).
 *
 * Three rules run through this file:
 *   1. a writer never leaves a half file: temp name, fsync, rename;
 *   2. a reader checks every length against the bytes actually left before it
 *      allocates or copies, so a truncated or hostile file gives an error, not a crash;
 *   3. every error names the file and says what is wrong with it.
 * Lesson 08 shows a checkpoint being written and read back.
 */
#include "io.h"

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
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        return tb_fail(err, "%s: is a folder, expected a file", path);
    }
    size_t cap = 1 << 16, n = 0;
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

int ckpt_read_tensor(const tb_ckpt *c, const char *name, float *dst, int ndim,
                     const int64_t *shape, char *err) {
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

static int take(reader *r, void *dst, size_t n, const char *what) {
    if (n > r->n - r->pos)
        return tb_fail(r->err, "%s: truncated (expected %zu bytes of %s, found %zu)", r->path, n,
                       what, r->n - r->pos);
    if (dst) memcpy(dst, r->p + r->pos, n);
    r->pos += n;
    return 0;
}
static int take_u32(reader *r, uint32_t *x, const char *what) {
    unsigned char b[4] = {0};
    if (take(r, b, 4, what)) return -1;
    *x = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
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
/* A length-prefixed string into a fresh malloc'd buffer (max bytes allowed). */
static int take_str(reader *r, char **out, uint32_t max, const char *what) {
    uint32_t n;
    *out = NULL;
    if (take_u32(r, &n, what)) return -1;
    if (n > max) return tb_fail(r->err, "%s: corrupt (%s length %u is too long)", r->path, what, n);
    if (n > r->n - r->pos)
        return tb_fail(r->err, "%s: truncated (expected %u bytes of %s, found %zu)", r->path, n,
                       what, r->n - r->pos);
    char *s = malloc((size_t)n + 1);
    if (!s) return tb_fail(r->err, "%s: out of memory", r->path);
    memcpy(s, r->p + r->pos, n);
    s[n] = 0;
    r->pos += n;
    if (memchr(s, 0, n)) {
        free(s);
        return tb_fail(r->err, "%s: corrupt (NUL byte inside %s)", r->path, what);
    }
    *out = s;
    return 0;
}

static int ckpt_parse(tb_ckpt *c, reader *r, const char *expect_kind) {
    char *err = r->err;
    const char *path = r->path;
    unsigned char magic[8];
    if (r->n < 8 || memcmp(r->p, CKPT_MAGIC, 8) != 0)
        return tb_fail(err, "%s: not a tinybrain checkpoint (bad magic)", path);
    take(r, magic, 8, "magic");
    if (r->n < 8 + 4 + 4) return tb_fail(err, "%s: truncated (only %zu bytes)", path, r->n);
    /* The CRC covers everything between the magic and the trailing CRC. */
    uint32_t stored = (uint32_t)r->p[r->n - 4] | (uint32_t)r->p[r->n - 3] << 8 |
                      (uint32_t)r->p[r->n - 2] << 16 | (uint32_t)r->p[r->n - 1] << 24;
    uint32_t version;
    take_u32(r, &version, "version");
    if (version != CKPT_VERSION)
        return tb_fail(err, "%s: checkpoint format version %u, this tinybrain reads version %u",
                       path, version, CKPT_VERSION);
    uint32_t crc = crc32_update(0, r->p + 8, r->n - 12);
    size_t body_end = r->n - 4;
    r->n = body_end; /* parse the body only; the CRC is checked below */
    char *kind;
    if (take_str(r, &kind, 31, "kind")) goto check_crc;
    snprintf(c->kind, sizeof c->kind, "%s", kind);
    free(kind);
    uint32_t nconf;
    if (take_u32(r, &nconf, "config count")) goto check_crc;
    if (nconf > (body_end - r->pos) / 8) {
        tb_fail(err, "%s: corrupt (config count %u)", path, nconf);
        goto check_crc;
    }
    for (uint32_t i = 0; i < nconf; i++) {
        char *k, *v;
        if (take_str(r, &k, 1u << 16, "config key")) goto check_crc;
        if (take_str(r, &v, 1u << 24, "config value")) { free(k); goto check_crc; }
        int rc = ckpt_set(c, k, v);
        free(k);
        free(v);
        if (rc) { tb_fail(err, "%s: out of memory", path); goto check_crc; }
    }
    uint32_t ntens;
    if (take_u32(r, &ntens, "tensor count")) goto check_crc;
    if (ntens > (body_end - r->pos) / 8) {
        tb_fail(err, "%s: corrupt (tensor count %u)", path, ntens);
        goto check_crc;
    }
    for (uint32_t i = 0; i < ntens; i++) {
        char *name;
        if (take_str(r, &name, 63, "tensor name")) goto check_crc;
        uint32_t ndim;
        int64_t shape[CKPT_MAX_DIM], size = 1;
        if (take_u32(r, &ndim, "tensor rank")) { free(name); goto check_crc; }
        if (ndim < 1 || ndim > CKPT_MAX_DIM) {
            tb_fail(err, "%s: corrupt (tensor '%s' has rank %u)", path, name, ndim);
            free(name);
            goto check_crc;
        }
        int bad = 0;
        for (uint32_t d = 0; d < ndim && !bad; d++) {
            if (take_i64(r, &shape[d], "tensor shape")) bad = 2;
            else if (shape[d] < 0 || (shape[d] && size > (int64_t)(body_end / 4) / shape[d])) bad = 1;
            else size *= shape[d];
        }
        if (bad) {
            if (bad == 1) tb_fail(err, "%s: corrupt (tensor '%s' has an impossible shape)", path, name);
            free(name);
            goto check_crc;
        }
        size_t bytes = (size_t)size * 4;
        if (bytes > body_end - r->pos) {
            tb_fail(err, "%s: truncated (expected %zu bytes of tensor '%s', found %zu)", path, bytes,
                    name, body_end - r->pos);
            free(name);
            goto check_crc;
        }
        float *tmp = malloc(bytes ? bytes : 4);
        if (!tmp) { free(name); tb_fail(err, "%s: out of memory", path); goto check_crc; }
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        for (int64_t j = 0; j < size; j++) {
            uint32_t u;
            take_u32(r, &u, "tensor data");
            memcpy(&tmp[j], &u, 4);
        }
#else
        take(r, tmp, bytes, "tensor data");
#endif
        int rc = ckpt_find(c, name) ? 1 : ckpt_add_tensor(c, name, tmp, (int)ndim, shape);
        free(tmp);
        if (rc) {
            tb_fail(err, rc == 1 ? "%s: corrupt (tensor '%s' appears twice)" : "%s: out of memory",
                    path, name);
            free(name);
            goto check_crc;
        }
        free(name);
    }
    if (r->pos != body_end) {
        tb_fail(err, "%s: corrupt (%zu unexpected bytes before the checksum)", path, body_end - r->pos);
        goto check_crc;
    }
    if (crc != stored) return tb_fail(err, "%s: CRC mismatch (file is corrupt)", path);
    if (expect_kind && strcmp(c->kind, expect_kind))
        return tb_fail(err, "%s: is a '%s' checkpoint, expected '%s'", path, c->kind, expect_kind);
    return 0;
check_crc:
    /* A structural error in a file whose checksum also fails is most honestly reported
     * as corruption (a flipped byte in a length field looks like truncation). */
    if (crc != stored && r->pos < body_end)
        return tb_fail(err, "%s: CRC mismatch (file is corrupt)", path);
    return -1;
}

int ckpt_load(tb_ckpt *c, const char *path, const char *expect_kind, char *err) {
    ckpt_init(c, "");
    char *data;
    size_t len;
    if (read_file(path, &data, &len, err)) return -1;
    reader r = {(const unsigned char *)data, len, 0, path, err};
    int rc = ckpt_parse(c, &r, expect_kind);
    free(data);
    if (rc) ckpt_free(c);
    return rc;
}

/* ======================================================================== */
/* .npy                                                                     */
/* ======================================================================== */
/* Format (numpy.lib.format): "\x93NUMPY", major, minor, header length (u16 for 1.0,
 * u32 for 2.0), then an ASCII dict {'descr': '<f4', 'fortran_order': False,
 * 'shape': (3, 4), } padded with spaces and a newline so the data starts at a
 * multiple of 64 bytes. */

static int npy_write(const char *path, const void *data, int elem, int ndim,
                     const int64_t *shape, char *err) {
    if (ndim < 1 || ndim > 8) return tb_fail(err, "%s: cannot write a %d-D array", path, ndim);
    char dict[512];
    int o = snprintf(dict, sizeof dict, "{'descr': '<f%d', 'fortran_order': False, 'shape': (",
                     elem);
    int64_t size = 1;
    for (int d = 0; d < ndim; d++) {
        o += snprintf(dict + o, sizeof dict - (size_t)o, "%lld,%s", (long long)shape[d],
                      (d + 1 < ndim) ? " " : "");
        size *= shape[d];
    }
    if (ndim > 1) o--; /* (3, 4) not (3, 4,) ; a 1-tuple keeps its comma: (3,) */
    o += snprintf(dict + o, sizeof dict - (size_t)o, "), }");
    size_t total = 10 + (size_t)o + 1;
    size_t pad = (64 - total % 64) % 64;
    size_t hlen = (size_t)o + pad + 1;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)hlen,
                             (unsigned char)(hlen >> 8)};
    tb_atomic a;
    if (atomic_begin(&a, path, err)) return -1;
    int bad = fwrite(pre, 1, 10, a.f) != 10 || fwrite(dict, 1, (size_t)o, a.f) != (size_t)o;
    for (size_t i = 0; i < pad && !bad; i++) bad = fputc(' ', a.f) == EOF;
    if (!bad) bad = fputc('\n', a.f) == EOF;
    if (!bad && size) bad = fwrite(data, (size_t)elem, (size_t)size, a.f) != (size_t)size;
    if (bad) {
        atomic_abort(&a);
        return tb_fail(err, "%s: write failed (%s)", path, strerror(errno));
    }
    return atomic_commit(&a, err);
}

int npy_write_f32(const char *path, const float *data, int ndim, const int64_t *shape, char *err) {
    return npy_write(path, data, 4, ndim, shape, err);
}
int npy_write_f64(const char *path, const double *data, int ndim, const int64_t *shape, char *err) {
    return npy_write(path, data, 8, ndim, shape, err);
}

void array_free(tb_array *a) {
    free(a->data);
    memset(a, 0, sizeof *a);
}

/* Find 'key': in the header dict and return a pointer just after the colon. */
static const char *dict_value(const char *h, const char *key) {
    char pat[32];
    snprintf(pat, sizeof pat, "'%s'", key);
    const char *p = strstr(h, pat);
    if (!p) {
        snprintf(pat, sizeof pat, "\"%s\"", key);
        p = strstr(h, pat);
    }
    if (!p) return NULL;
    p += strlen(pat);
    while (*p == ' ') p++;
    if (*p != ':') return NULL;
    p++;
    while (*p == ' ') p++;
    return p;
}

int npy_read(const char *path, tb_array *out, char *err) {
    memset(out, 0, sizeof *out);
    char *buf;
    size_t len;
    if (read_file(path, &buf, &len, err)) return -1;
    const unsigned char *p = (const unsigned char *)buf;
    int rc = -1;
    if (len < 10 || memcmp(p, "\x93NUMPY", 6) != 0) {
        tb_fail(err, "%s: not a .npy file (bad magic)", path);
        goto done;
    }
    size_t hlen, hstart;
    if (p[6] == 1) { hlen = (size_t)p[8] | (size_t)p[9] << 8; hstart = 10; }
    else if (p[6] == 2 || p[6] == 3) {
        if (len < 12) { tb_fail(err, "%s: truncated header", path); goto done; }
        hlen = (size_t)p[8] | (size_t)p[9] << 8 | (size_t)p[10] << 16 | (size_t)p[11] << 24;
        hstart = 12;
    } else {
        tb_fail(err, "%s: unsupported .npy version %d.%d", path, p[6], p[7]);
        goto done;
    }
    if (hlen > len - hstart) { tb_fail(err, "%s: truncated header", path); goto done; }
    char *h = malloc(hlen + 1);
    if (!h) { tb_fail(err, "%s: out of memory", path); goto done; }
    memcpy(h, p + hstart, hlen);
    h[hlen] = 0;
    const char *d = dict_value(h, "descr"), *fo = dict_value(h, "fortran_order"),
               *sh = dict_value(h, "shape");
    if (!d || !fo || !sh) {
        tb_fail(err, "%s: corrupt header (needs descr, fortran_order and shape)", path);
        free(h);
        goto done;
    }
    char descr[16] = {0};
    if (*d == '\'' || *d == '"') {
        const char *e = strchr(d + 1, *d);
        if (e && e - d - 1 < 15) memcpy(descr, d + 1, (size_t)(e - d - 1));
    }
    int elem = 0;
    if (!strcmp(descr, "<f4") || !strcmp(descr, "=f4") || !strcmp(descr, "f4")) elem = 4;
    else if (!strcmp(descr, "<f8") || !strcmp(descr, "=f8") || !strcmp(descr, "f8")) elem = 8;
    if (!elem) {
        tb_fail(err, "%s: dtype '%s' is not supported (use float32 or float64, little-endian)", path,
                descr);
        free(h);
        goto done;
    }
    if (!strncmp(fo, "True", 4)) {
        tb_fail(err, "%s: Fortran-order arrays are not supported (save with C order)", path);
        free(h);
        goto done;
    }
    if (*sh != '(') { tb_fail(err, "%s: corrupt header (shape)", path); free(h); goto done; }
    const char *s = sh + 1;
    int ndim = 0;
    int64_t size = 1;
    for (;;) {
        while (*s == ' ' || *s == ',') s++;
        if (*s == ')') break;
        char *e;
        long long v = strtoll(s, &e, 10);
        if (e == s || v < 0 || ndim >= 8) {
            tb_fail(err, "%s: corrupt header (shape)", path);
            free(h);
            goto done;
        }
        out->shape[ndim++] = v;
        if (v && size > INT64_MAX / 8 / v) {
            tb_fail(err, "%s: corrupt header (shape too large)", path);
            free(h);
            goto done;
        }
        size *= v;
        s = e;
    }
    free(h);
    out->ndim = ndim;
    out->size = size;
    out->src_bytes = elem;
    size_t need = (size_t)size * (size_t)elem, have = len - hstart - hlen;
    if (need > have) {
        tb_fail(err, "%s: truncated (expected %zu bytes of data, found %zu)", path, need, have);
        goto done;
    }
    if (need < have) {
        tb_fail(err, "%s: corrupt (%zu extra bytes after the data)", path, have - need);
        goto done;
    }
    out->data = malloc((size_t)(size ? size : 1) * sizeof(double));
    if (!out->data) { tb_fail(err, "%s: out of memory", path); goto done; }
    const unsigned char *src = p + hstart + hlen;
    for (int64_t i = 0; i < size; i++) {
        if (elem == 4) {
            float f;
            memcpy(&f, src + 4 * i, 4);
            out->data[i] = f;
        } else {
            memcpy(&out->data[i], src + 8 * i, 8);
        }
    }
    rc = 0;
done:
    free(buf);
    if (rc) array_free(out);
    return rc;
}

/* ======================================================================== */
/* TSV                                                                      */
/* ======================================================================== */

/* Split one line into fields at tabs/spaces (in place, when f != NULL); returns the count. */
static int split_fields(char *line, char **f, int max) {
    int n = 0;
    char *s = line;
    while (*s) {
        while (*s == ' ' || *s == '\t' || *s == '\r') s++;
        if (!*s) break;
        if (n < max) f[n] = s;
        n++;
        while (*s && *s != ' ' && *s != '\t' && *s != '\r') s++;
        if (*s) { if (f) *s = 0; s++; } /* f == NULL: only count, leave the line intact */
    }
    return n;
}

int tsv_read_matrix(const char *path, tb_array *out, char *err) {
    memset(out, 0, sizeof *out);
    char *text;
    size_t len;
    if (read_file(path, &text, &len, err)) return -1;
    int cols = -1, rows = 0, lineno = 0, first_data = 1;
    size_t cap = 0, n = 0;
    double *v = NULL;
    char **f = NULL;
    int fcap = 0, rc = -1;
    char *line = text;
    while (line && *line) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        lineno++;
        char *s = line;
        while (*s == ' ' || *s == '\t') s++;
        if (*s && *s != '#' && *s != '\r') {
            int nf = split_fields(s, NULL, 0);
            /* count first, then split into a buffer large enough */
            if (nf > fcap) {
                char **nfp = realloc(f, (size_t)nf * sizeof *f);
                if (!nfp) { tb_fail(err, "%s: out of memory", path); goto done; }
                f = nfp;
                fcap = nf;
            }
            split_fields(s, f, nf);
            int numeric = 1;
            for (int j = 0; j < nf && numeric; j++) {
                char *e;
                strtod(f[j], &e);
                if (e == f[j] || *e) numeric = 0;
            }
            if (first_data && !numeric) { /* header row */
                first_data = 0;
                goto next;
            }
            first_data = 0;
            if (cols < 0) cols = nf;
            if (nf != cols) {
                tb_fail(err, "%s:%d: %d columns, expected %d (ragged table)", path, lineno, nf, cols);
                goto done;
            }
            for (int j = 0; j < nf; j++) {
                char *e;
                double x = strtod(f[j], &e);
                if (e == f[j] || *e) {
                    tb_fail(err, "%s:%d: column %d is not a number ('%s')", path, lineno, j + 1, f[j]);
                    goto done;
                }
                if (!isfinite(x)) {
                    tb_fail(err, "%s:%d: column %d is %s", path, lineno, j + 1, f[j]);
                    goto done;
                }
                if (n == cap) {
                    cap = cap ? 2 * cap : 1024;
                    double *nv = realloc(v, cap * sizeof *v);
                    if (!nv) { tb_fail(err, "%s: out of memory", path); goto done; }
                    v = nv;
                }
                v[n++] = x;
            }
            rows++;
        }
    next:
        line = nl ? nl + 1 : NULL;
    }
    if (rows == 0) { tb_fail(err, "%s: no numeric rows", path); goto done; }
    out->ndim = 2;
    out->shape[0] = rows;
    out->shape[1] = cols;
    out->size = (int64_t)rows * cols;
    out->data = v;
    out->src_bytes = 8;
    v = NULL;
    rc = 0;
done:
    free(v);
    free(f);
    free(text);
    return rc;
}

int tsv_write(const char *path, int ncols, const char *const *header, int nrows,
              const char *const *cells, char *err) {
    tb_atomic a;
    if (atomic_begin(&a, path, err)) return -1;
    for (int j = 0; header && j < ncols; j++)
        fprintf(a.f, "%s%s", header[j], j + 1 < ncols ? "\t" : "\n");
    for (int i = 0; i < nrows; i++)
        for (int j = 0; j < ncols; j++)
            fprintf(a.f, "%s%s", cells[(size_t)i * ncols + j] ? cells[(size_t)i * ncols + j] : "",
                    j + 1 < ncols ? "\t" : "\n");
    return atomic_commit(&a, err);
}
