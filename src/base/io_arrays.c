/* io_arrays.c -- arrays in and out (see io.h for the formats): .npy (numpy's format,
 * float32/float64, C or Fortran order), .npz (a zip of .npy files, stored or not
 * compressed), and TSV tables.  The rules of io.c hold here too: atomic writes, every
 * length checked against the bytes left before anything is allocated, every error names
 * the file.  Lessons 10-13 read recordings through it.
 */
#include "io.h"
#include "io_priv.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ======================================================================== */
/* .npy                                                                     */
/* ======================================================================== */
/* Format (numpy.lib.format): "\x93NUMPY", major, minor, header length (u16 for 1.0,
 * u32 for 2.0 and 3.0), then an ASCII (3.0: UTF-8) dict {'descr': '<f4', 'fortran_order': False,
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

/* -- reading .npy: the header is a Python dict literal; parse it as one ------------- */
typedef struct { const char *s, *end; } span;

static void skip_space(span *t) {
    while (t->s < t->end && (*t->s == ' ' || *t->s == '\t' || *t->s == '\n' || *t->s == '\r')) t->s++;
}
static int eat(span *t, char ch) {
    skip_space(t);
    if (t->s < t->end && *t->s == ch) { t->s++; return 1; }
    return 0;
}
static int eat_word(span *t, const char *w) {
    size_t n = strlen(w);
    skip_space(t);
    if ((size_t)(t->end - t->s) < n || memcmp(t->s, w, n) != 0) return 0;
    t->s += n;
    return 1;
}
/* A Python string literal without escapes ('<f4' or "<f4"; numpy writes no others). */
static int py_string(span *t, char *buf, size_t cap) {
    skip_space(t);
    if (t->s >= t->end || (*t->s != '\'' && *t->s != '"')) return -1;
    char quote = *t->s++;
    size_t n = 0;
    while (t->s < t->end && *t->s != quote) {
        if (n + 1 >= cap || *t->s == '\\') return -1;
        buf[n++] = *t->s++;
    }
    if (t->s >= t->end) return -1;
    t->s++;
    buf[n] = 0;
    return 0;
}

typedef struct { char descr[16]; int fortran, ndim; int64_t shape[8]; } npy_header;

/* A tuple of non-negative integers: (), (5,), (3, 4) (a Python 2 'L' suffix allowed).
 * 0, or -1 malformed, -2 a number too large, -3 more than 8 dimensions. */
static int py_shape(span *t, npy_header *h) {
    if (!eat(t, '(')) return -1;
    for (;;) {
        if (eat(t, ')')) return 0;
        if (t->s >= t->end || *t->s < '0' || *t->s > '9') return -1;
        int64_t v = 0;
        while (t->s < t->end && *t->s >= '0' && *t->s <= '9') {
            if (v > (INT64_MAX - 9) / 10) return -2;
            v = v * 10 + (*t->s++ - '0');
        }
        if (t->s < t->end && *t->s == 'L') t->s++;
        if (h->ndim == 8) return -3;
        h->shape[h->ndim++] = v;
        if (!eat(t, ',')) return eat(t, ')') ? 0 : -1;
    }
}

/* The value of one header key (bit 1 descr, 2 fortran_order, 4 shape). */
static int npy_header_value(span *t, int bit, npy_header *h, const char *name, char *err) {
    if (bit == 1) {
        skip_space(t);
        if (t->s < t->end && *t->s == '[')
            return tb_fail(err, "%s: structured dtypes (record arrays) are not supported", name);
        if (py_string(t, h->descr, sizeof h->descr))
            return tb_fail(err, "%s: corrupt header (descr is not a short string)", name);
    } else if (bit == 2) {
        if (eat_word(t, "True")) h->fortran = 1;
        else if (!eat_word(t, "False"))
            return tb_fail(err, "%s: corrupt header (fortran_order is not True or False)", name);
    } else {
        int rc = py_shape(t, h);
        if (rc == -3) return tb_fail(err, "%s: more than 8 dimensions are not supported", name);
        if (rc) return tb_fail(err, "%s: corrupt header (shape%s)", name, rc == -2 ? " too large" : "");
    }
    return 0;
}

/* {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), } then padding: exactly
 * these three keys, each once, in any order. */
static int npy_parse_header(const char *text, size_t n, npy_header *h, const char *name, char *err) {
    span t = {text, text + n};
    memset(h, 0, sizeof *h);
    unsigned seen = 0;
    if (!eat(&t, '{')) return tb_fail(err, "%s: corrupt header (not a dict)", name);
    while (!eat(&t, '}')) {
        char key[16], q[48];
        if (py_string(&t, key, sizeof key) || !eat(&t, ':'))
            return tb_fail(err, "%s: corrupt header (expected 'key': value)", name);
        unsigned bit = !strcmp(key, "descr") ? 1 : !strcmp(key, "fortran_order") ? 2
                     : !strcmp(key, "shape") ? 4 : 0;
        if (!bit || (seen & bit))
            return tb_fail(err, "%s: corrupt header (%s key '%s')", name, bit ? "repeated" : "unknown",
                           printable(q, sizeof q, key));
        seen |= bit;
        if (npy_header_value(&t, (int)bit, h, name, err)) return -1;
        if (!eat(&t, ',')) {
            if (!eat(&t, '}')) return tb_fail(err, "%s: corrupt header (expected ',' or '}')", name);
            break;
        }
    }
    skip_space(&t);
    if (t.s != t.end) return tb_fail(err, "%s: corrupt header (text after the dict)", name);
    if (seen != 7) return tb_fail(err, "%s: corrupt header (needs descr, fortran_order and shape)", name);
    return 0;
}

/* A dtype string: byte order '<' little, '>' big, '=' native, '|' not applicable (one
 * byte), then kind and size: f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1. */
typedef struct { char kind; int size, big; } npy_dtype;

static int host_is_big_endian(void) {
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 0;
}

static int npy_dtype_parse(const char *descr, npy_dtype *d) {
    const char *s = descr;
    char order = strchr("<>=|", *s) && *s ? *s++ : '=';
    d->big = order == '>' || (order == '=' && host_is_big_endian());
    d->kind = *s;
    if (!d->kind || !strchr("fiub", d->kind) || !s[1] || s[2]) return -1;
    d->size = s[1] - '0';
    if (d->size != 1 && d->size != 2 && d->size != 4 && d->size != 8) return -1;
    if (d->kind == 'f' && d->size < 4) return -1;
    if (d->kind == 'b' && d->size != 1) return -1;
    return order == '|' && d->size > 1 ? -1 : 0;
}

/* One element as a double: the bytes assembled in the file's byte order, so the
 * result does not depend on the host's. */
static double npy_elem(const unsigned char *p, const npy_dtype *d) {
    uint64_t x = 0;
    for (int k = 0; k < d->size; k++) x |= (uint64_t)p[d->big ? d->size - 1 - k : k] << (8 * k);
    if (d->kind == 'f' && d->size == 4) {
        uint32_t u = (uint32_t)x;
        float f;
        memcpy(&f, &u, 4);
        return f;
    }
    if (d->kind == 'f') {
        double v;
        memcpy(&v, &x, 8);
        return v;
    }
    if (d->kind == 'i') {
        int bits = 8 * d->size;
        if (bits < 64 && (x >> (bits - 1) & 1)) x |= ~(uint64_t)0 << bits; /* sign-extend */
        return x >> 63 ? -(double)(~x) - 1.0 : (double)x;
    }
    return d->kind == 'b' ? (double)(x != 0) : (double)x;
}

/* Fill a->data (C order) from the file's elements.  Fortran order stores element
 * (i0, i1, ..., i_{k-1}) at i0 + s0 (i1 + s1 (i2 + ...)), the first index fastest: walk
 * the file in its own order, keeping the multi-index like an odometer, and write each
 * value to its C-order offset sum_d i_d * cstride_d. */
static void npy_fill(tb_array *a, const unsigned char *src, const npy_dtype *d, int fortran) {
    if (!fortran || a->ndim < 2 || a->size == 0) {   /* an empty array: its other sides may be huge */
        for (int64_t i = 0; i < a->size; i++) a->data[i] = npy_elem(src + i * d->size, d);
        return;
    }
    int nd = a->ndim;
    int64_t cstride[8], idx[8] = {0}, off = 0;
    cstride[nd - 1] = 1;
    for (int k = nd - 2; k >= 0; k--) cstride[k] = cstride[k + 1] * a->shape[k + 1];
    for (int64_t i = 0; i < a->size; i++) {
        a->data[off] = npy_elem(src + i * d->size, d);
        for (int k = 0; k < nd; k++) {
            off += cstride[k];
            if (++idx[k] < a->shape[k]) break;
            off -= cstride[k] * a->shape[k];
            idx[k] = 0;
        }
    }
}

/* Magic, version and header length: hstart and hlen of the dict. */
static int npy_preamble(const unsigned char *p, size_t len, const char *name, size_t *hstart,
                        size_t *hlen, char *err) {
    if (len < 10 || memcmp(p, "\x93NUMPY", 6) != 0)
        return tb_fail(err, "%s: not a .npy file (bad magic)", name);
    if (p[6] == 1) {
        *hlen = (size_t)p[8] | (size_t)p[9] << 8;
        *hstart = 10;
    } else if (p[6] == 2 || p[6] == 3) {
        if (len < 12) return tb_fail(err, "%s: truncated header", name);
        *hlen = le32(p + 8);
        *hstart = 12;
    } else {
        return tb_fail(err, "%s: unsupported .npy version %d.%d", name, p[6], p[7]);
    }
    if (*hlen > len - *hstart) return tb_fail(err, "%s: truncated header", name);
    return 0;
}

int npy_parse_buf(const void *data, size_t len, const char *name, tb_array *out, char *err) {
    memset(out, 0, sizeof *out);
    const unsigned char *p = data;
    size_t hstart = 0, hlen = 0;
    npy_header h;
    npy_dtype d;
    if (npy_preamble(p, len, name, &hstart, &hlen, err) ||
        npy_parse_header((const char *)p + hstart, hlen, &h, name, err))
        return -1;
    if (npy_dtype_parse(h.descr, &d)) {
        char q[48];
        return tb_fail(err, "%s: dtype '%s' is not supported (float32/64, int8..64, uint8..64 or "
                            "bool)", name, printable(q, sizeof q, h.descr));
    }
    /* The element count must match the data bytes exactly: checked before allocating,
     * with the product kept far from overflow. */
    int64_t size = 1;
    for (int k = 0; k < h.ndim; k++) {
        if (h.shape[k] && size > INT64_MAX / 8 / h.shape[k])
            return tb_fail(err, "%s: corrupt header (shape too large)", name);
        size *= h.shape[k];
    }
    uint64_t need = (uint64_t)size * (uint64_t)d.size, have = len - hstart - hlen;
    if (need > have)
        return tb_fail(err, "%s: truncated (expected %llu bytes of data, found %llu)", name,
                       (unsigned long long)need, (unsigned long long)have);
    if (need < have)
        return tb_fail(err, "%s: corrupt (%llu extra bytes after the data)", name,
                       (unsigned long long)(have - need));
    out->data = malloc((size_t)(size ? size : 1) * sizeof(double));
    if (!out->data) return tb_fail(err, "%s: out of memory", name);
    out->ndim = h.ndim;
    memcpy(out->shape, h.shape, sizeof h.shape);
    out->size = size;
    out->src_bytes = d.size;
    out->dtype[0] = d.kind;
    out->dtype[1] = (char)('0' + d.size);
    npy_fill(out, p + hstart + hlen, &d, h.fortran);
    return 0;
}

int npy_read(const char *path, tb_array *out, char *err) {
    memset(out, 0, sizeof *out);
    char *buf;
    size_t len;
    if (read_file(path, &buf, &len, err)) return -1;
    int rc = npy_parse_buf(buf, len, path, out, err);
    free(buf);
    return rc;
}

/* -- reading .npz: a zip archive of .npy entries -------------------------------------
 * The archive is read through its central directory (at the end of the file), which
 * holds every entry's sizes even when the local headers defer them.  Layouts used here
 * (all little-endian):
 *   end of central directory  "PK\5\6" ... u16 entries @10, u32 dir size @12,
 *                             u32 dir offset @16, u16 comment length @20      (22 bytes)
 *   zip64 locator (20 bytes before it, when a field above is all ones) "PK\6\7",
 *                             u64 offset of the zip64 record @8; that record "PK\6\6":
 *                             u64 entries @32, u64 dir size @40, u64 dir offset @48
 *   central entry "PK\1\2": u16 flags @8, u16 method @10, u32 crc @16, u32 compressed
 *                             @20, u32 size @24, u16 name, extra, comment lengths @28,
 *                             @30, @32, u32 local header offset @42; then the name
 *   local header  "PK\3\4": u16 name length @26, u16 extra length @28; data follows.
 * Method 0 (np.savez) stores an entry as it is; method 8 (np.savez_compressed) deflates
 * it (io_inflate.c). */
static uint16_t le16(const unsigned char *b) { return (uint16_t)(b[0] | b[1] << 8); }
static uint64_t le64(const unsigned char *b) { return le32(b) | (uint64_t)le32(b + 4) << 32; }

typedef struct { uint64_t n, dir_off, dir_size; } zip_dir;

/* Find the end record (the last one whose comment runs exactly to the end of the file)
 * and, when a field overflowed, the zip64 record. */
static int zip_find_dir(const unsigned char *p, size_t len, const char *name, zip_dir *z, char *err) {
    if (len < 22) return tb_fail(err, "%s: not an .npz (zip) archive (too short)", name);
    size_t e = len - 22, lo = e > 65535 ? e - 65535 : 0;
    while (memcmp(p + e, "PK\5\6", 4) || e + 22 + le16(p + e + 20) != len)
        if (e-- == lo) return tb_fail(err, "%s: not an .npz (zip) archive (no end of central directory)", name);
    z->n = le16(p + e + 10);
    z->dir_size = le32(p + e + 12);
    z->dir_off = le32(p + e + 16);
    if (le16(p + e + 4) || le16(p + e + 6))
        return tb_fail(err, "%s: multi-part zip archives are not supported", name);
    if (z->n == 0xFFFF || z->dir_size == 0xFFFFFFFFu || z->dir_off == 0xFFFFFFFFu) {
        uint64_t r64 = e >= 20 && !memcmp(p + e - 20, "PK\6\7", 4) ? le64(p + e - 12) : UINT64_MAX;
        if (r64 > e || e - r64 < 56 || memcmp(p + r64, "PK\6\6", 4))
            return tb_fail(err, "%s: corrupt zip64 end of central directory", name);
        z->n = le64(p + r64 + 32);
        z->dir_size = le64(p + r64 + 40);
        z->dir_off = le64(p + r64 + 48);
    }
    /* A central entry takes at least 46 bytes: the count is bounded by the directory,
     * and the directory by the file, before anything is allocated. */
    if (z->dir_off > len || z->dir_size > len - z->dir_off || z->n > z->dir_size / 46)
        return tb_fail(err, "%s: corrupt zip central directory (%llu entries, %llu bytes at %llu)",
                       name, (unsigned long long)z->n, (unsigned long long)z->dir_size,
                       (unsigned long long)z->dir_off);
    return 0;
}

typedef struct {
    char name[256];
    unsigned flags, method;
    uint32_t crc;
    uint64_t csize, size, local;
    size_t next;  /* offset of the next central entry */
} zip_entry;

/* The zip64 extra field (id 1) holds, in order, each of size, compressed size and local
 * offset whose 32-bit field is all ones. */
static int zip64_extra(const unsigned char *x, size_t n, zip_entry *ze) {
    while (n >= 4) {
        unsigned id = le16(x), sz = le16(x + 2);
        if (sz > n - 4) return -1;
        if (id == 1) {
            uint64_t *f[3] = {&ze->size, &ze->csize, &ze->local};
            size_t o = 4;
            for (int k = 0; k < 3; k++) {
                if (*f[k] != 0xFFFFFFFFu) continue;
                if (o + 8 > 4 + (size_t)sz) return -1;
                *f[k] = le64(x + o);
                o += 8;
            }
            return 0;
        }
        x += 4 + sz;
        n -= 4 + sz;
    }
    return 0;
}

/* Central entry at offset `at` (inside the directory [dir_off, end)). */
static int zip_entry_at(const unsigned char *p, size_t at, size_t end, const char *name,
                        zip_entry *ze, char *err) {
    if (end - at < 46 || memcmp(p + at, "PK\1\2", 4))
        return tb_fail(err, "%s: corrupt zip central directory entry at byte %zu", name, at);
    const unsigned char *h = p + at;
    size_t nl = le16(h + 28), xl = le16(h + 30), cl = le16(h + 32);
    if (46 + nl + xl + cl > end - at)
        return tb_fail(err, "%s: corrupt zip central directory entry at byte %zu", name, at);
    if (nl == 0 || nl >= sizeof ze->name || memchr(h + 46, 0, nl))
        return tb_fail(err, "%s: zip entry at byte %zu has a bad name", name, at);
    memcpy(ze->name, h + 46, nl);
    ze->name[nl] = 0;
    ze->flags = le16(h + 8);
    ze->method = le16(h + 10);
    ze->crc = le32(h + 16);
    ze->csize = le32(h + 20);
    ze->size = le32(h + 24);
    ze->local = le32(h + 42);
    ze->next = at + 46 + nl + xl + cl;
    if (zip64_extra(h + 46 + nl, xl, ze))
        return tb_fail(err, "%s: corrupt zip64 field in entry at byte %zu", name, at);
    return 0;
}

/* Where entry ze's data starts, after checking that it is an unencrypted .npy, stored
 * or deflated, lying inside the file. */
static int zip_entry_data(const unsigned char *p, size_t len, const zip_entry *ze, const char *name,
                          size_t *start, char *err) {
    char q[48];
    const char *en = printable(q, sizeof q, ze->name);
    size_t nl = strlen(ze->name);
    if (nl < 5 || strcmp(ze->name + nl - 4, ".npy"))
        return tb_fail(err, "%s: entry '%s' is not a .npy array", name, en);
    if (ze->flags & 1) return tb_fail(err, "%s: entry '%s' is encrypted", name, en);
    if ((ze->method != 0 && ze->method != 8) || (ze->method == 0 && ze->csize != ze->size))
        return tb_fail(err, "%s: entry '%s' uses zip compression method %u (only stored and "
                            "deflated entries are supported)", name, en, ze->method);
    /* DEFLATE cannot expand data more than 1032 times: a larger claim is refused before
     * the output is allocated. */
    if (ze->method == 8 && ze->size / 1032 > ze->csize + 1)
        return tb_fail(err, "%s: entry '%s' claims %llu bytes from %llu compressed", name, en,
                       (unsigned long long)ze->size, (unsigned long long)ze->csize);
    if (ze->local > len || len - ze->local < 30 || memcmp(p + ze->local, "PK\3\4", 4))
        return tb_fail(err, "%s: entry '%s': corrupt local header", name, en);
    uint64_t s = ze->local + 30 + le16(p + ze->local + 26) + le16(p + ze->local + 28);
    if (s > len || ze->csize > len - s) return tb_fail(err, "%s: entry '%s' is truncated", name, en);
    *start = (size_t)s;
    return 0;
}

/* The entry's .npy bytes: the stored bytes themselves (*owned = NULL), or deflated into
 * a fresh buffer (*owned); either way checked against the CRC the directory records. */
static int zip_entry_bytes(const unsigned char *p, size_t start, const zip_entry *ze,
                           const char *name, const unsigned char **bytes, unsigned char **owned,
                           char *err) {
    char q[48];
    const char *en = printable(q, sizeof q, ze->name);
    *owned = NULL;
    *bytes = p + start;
    if (ze->method == 8) {
        *owned = malloc(ze->size ? (size_t)ze->size : 1);
        if (!*owned) return tb_fail(err, "%s: out of memory", name);
        *bytes = *owned;
        if (inflate_raw(p + start, (size_t)ze->csize, *owned, (size_t)ze->size))
            return tb_fail(err, "%s: entry '%s': corrupt compressed data", name, en);
    }
    if (crc32_update(0, *bytes, (size_t)ze->size) != ze->crc)
        return tb_fail(err, "%s: entry '%s': CRC mismatch (archive is corrupt)", name, en);
    return 0;
}

void npz_free(tb_npz *z) {
    for (int i = 0; i < z->n; i++) {
        free(z->names[i]);
        array_free(&z->arrays[i]);
    }
    free(z->names);
    free(z->arrays);
    memset(z, 0, sizeof *z);
}

/* One entry: its key (the name without ".npy") and its array, as entry z->n. */
static int npz_add(tb_npz *z, const unsigned char *p, size_t len, const zip_entry *ze,
                   const char *name, char *err) {
    size_t start = 0;
    const unsigned char *bytes;
    unsigned char *owned = NULL;
    if (zip_entry_data(p, len, ze, name, &start, err) ||
        zip_entry_bytes(p, start, ze, name, &bytes, &owned, err)) {
        free(owned);
        return -1;
    }
    size_t nl = strlen(ze->name) - 4;
    char *key = malloc(nl + 1), label[1400], shown[sizeof ze->name];
    snprintf(label, sizeof label, "%.1024s:%s", name, printable(shown, sizeof shown, ze->name));
    int rc = key ? npy_parse_buf(bytes, (size_t)ze->size, label, &z->arrays[z->n], err)
                 : tb_fail(err, "%s: out of memory", name);
    free(owned);
    if (rc) { free(key); return -1; }
    memcpy(key, ze->name, nl);
    key[nl] = 0;
    z->names[z->n++] = key;
    return 0;
}

/* Keys are looked up by name, so a repeated one would hide an array. */
static int npz_check_unique(const tb_npz *z, const char *name, char *err) {
    const char **names = malloc((size_t)(z->n ? z->n : 1) * sizeof *names);
    if (!names) return tb_fail(err, "%s: out of memory", name);
    for (int i = 0; i < z->n; i++) names[i] = z->names[i];
    const char *dup = duplicate_name(names, z->n);
    char q[48];
    int rc = dup ? tb_fail(err, "%s: corrupt (array '%s' appears twice)", name,
                           printable(q, sizeof q, dup)) : 0;
    free(names);
    return rc;
}

int npz_parse_buf(const void *data, size_t len, const char *name, tb_npz *out, char *err) {
    memset(out, 0, sizeof *out);
    const unsigned char *p = data;
    zip_dir d = {0, 0, 0};
    if (zip_find_dir(p, len, name, &d, err)) return -1;
    if (d.n == 0) return tb_fail(err, "%s: the archive holds no arrays", name);
    out->names = calloc((size_t)d.n, sizeof *out->names);
    out->arrays = calloc((size_t)d.n, sizeof *out->arrays);
    if (!out->names || !out->arrays) { npz_free(out); return tb_fail(err, "%s: out of memory", name); }
    size_t at = (size_t)d.dir_off, end = (size_t)(d.dir_off + d.dir_size);
    uint64_t stored = 0; /* entries' bytes in the file: more than the file means overlap */
    for (uint64_t i = 0; i < d.n; i++) {
        zip_entry ze;
        int rc = zip_entry_at(p, at, end, name, &ze, err);
        if (!rc && (ze.csize > len - stored || (stored += ze.csize) > len))
            rc = tb_fail(err, "%s: corrupt (entries overlap: their data exceeds the file)", name);
        if (rc || npz_add(out, p, len, &ze, name, err)) {
            npz_free(out);
            return -1;
        }
        at = ze.next;
    }
    if (npz_check_unique(out, name, err)) {
        npz_free(out);
        return -1;
    }
    return 0;
}

int npz_read(const char *path, tb_npz *out, char *err) {
    memset(out, 0, sizeof *out);
    char *buf;
    size_t len;
    if (read_file(path, &buf, &len, err)) return -1;
    int rc = npz_parse_buf(buf, len, path, out, err);
    free(buf);
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

static int is_number(const char *s) {
    char *e;
    strtod(s, &e);
    return e != s && !*e;
}

typedef struct { double *v; size_t n, cap; int rows, cols; } tsv_table;

/* One data row of nf fields: same width as the first, every field a finite number. */
static int tsv_row(tsv_table *t, char **f, int nf, const char *name, int lineno, char *err) {
    if (t->rows == INT32_MAX) return tb_fail(err, "%s:%d: too many rows", name, lineno);
    if (t->cols < 0) t->cols = nf;
    if (nf != t->cols)
        return tb_fail(err, "%s:%d: %d columns, expected %d (ragged table)", name, lineno, nf, t->cols);
    for (int j = 0; j < nf; j++) {
        char *e, q[48];
        double x = strtod(f[j], &e);
        if (e == f[j] || *e)
            return tb_fail(err, "%s:%d: column %d is not a number ('%s')", name, lineno, j + 1,
                           printable(q, sizeof q, f[j]));
        if (!isfinite(x)) return tb_fail(err, "%s:%d: column %d is %s", name, lineno, j + 1,
                                         printable(q, sizeof q, f[j]));
        if (t->n == t->cap) {
            size_t cap = t->cap ? 2 * t->cap : 1024;
            double *nv = realloc(t->v, cap * sizeof *nv);
            if (!nv) return tb_fail(err, "%s: out of memory", name);
            t->v = nv;
            t->cap = cap;
        }
        t->v[t->n++] = x;
    }
    t->rows++;
    return 0;
}

/* The table in text[len] (NUL-terminated, modified in place). */
static int tsv_parse_text(char *text, size_t len, const char *name, tb_array *out, char *err) {
    memset(out, 0, sizeof *out);
    if (memchr(text, 0, len))
        return tb_fail(err, "%s: is a binary file, not a text table (an array? save it as .npy)", name);
    tsv_table t = {NULL, 0, 0, 0, -1};
    char **f = NULL;
    int fcap = 0, rc = 0, lineno = 0, first = 1;
    for (char *line = text; !rc && line && *line;) {
        char *nl = strchr(line, '\n'), *s = line;
        if (nl) *nl = 0;
        lineno++;
        line = nl ? nl + 1 : NULL;
        while (*s == ' ' || *s == '\t') s++;
        if (!*s || *s == '#' || *s == '\r') continue;
        int nf = split_fields(s, NULL, 0); /* count first, then split into a buffer that fits */
        if (nf > fcap) {
            char **nfp = realloc(f, (size_t)nf * sizeof *f);
            if (!nfp) { rc = tb_fail(err, "%s: out of memory", name); break; }
            f = nfp;
            fcap = nf;
        }
        split_fields(s, f, nf);
        int numeric = 1;
        for (int j = 0; j < nf && numeric; j++) numeric = is_number(f[j]);
        if (first && !numeric) { first = 0; continue; } /* a header row */
        first = 0;
        rc = tsv_row(&t, f, nf, name, lineno, err);
    }
    free(f);
    if (!rc && t.rows == 0) rc = tb_fail(err, "%s: no numeric rows", name);
    if (rc) { free(t.v); return -1; }
    out->ndim = 2;
    out->shape[0] = t.rows;
    out->shape[1] = t.cols;
    out->size = (int64_t)t.rows * t.cols;
    out->data = t.v;
    out->src_bytes = 8;
    memcpy(out->dtype, "f8", 3);
    return 0;
}

int tsv_parse_buf(const char *text, size_t len, const char *name, tb_array *out, char *err) {
    memset(out, 0, sizeof *out);
    char *copy = malloc(len + 1);
    if (!copy) return tb_fail(err, "%s: out of memory", name);
    if (len) memcpy(copy, text, len);
    copy[len] = 0;
    int rc = tsv_parse_text(copy, len, name, out, err);
    free(copy);
    return rc;
}

int tsv_read_matrix(const char *path, tb_array *out, char *err) {
    memset(out, 0, sizeof *out);
    char *text;
    size_t len;
    if (read_file(path, &text, &len, err)) return -1;
    int rc = tsv_parse_text(text, len, path, out, err);
    free(text);
    return rc;
}

int array_read(const char *path, tb_array *out, char *err) {
    memset(out, 0, sizeof *out);
    char *buf;
    size_t len;
    if (read_file(path, &buf, &len, err)) return -1;
    int rc;
    if (len >= 6 && !memcmp(buf, "\x93NUMPY", 6)) {
        rc = npy_parse_buf(buf, len, path, out, err);
    } else if (len >= 4 && (!memcmp(buf, "PK\3\4", 4) || !memcmp(buf, "PK\5\6", 4))) {
        tb_npz z;
        rc = npz_parse_buf(buf, len, path, &z, err);
        if (!rc && z.n != 1)
            rc = tb_fail(err, "%s: the archive holds %d arrays; name one of them (e.g. '%s') or "
                              "save a single array", path, z.n, z.names[0]);
        if (!rc) {
            *out = z.arrays[0];
            memset(&z.arrays[0], 0, sizeof z.arrays[0]);
        }
        npz_free(&z);
    } else {
        rc = tsv_parse_text(buf, len, path, out, err);
    }
    free(buf);
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

