/* test_io.c -- checkpoints, .npy/.npz and TSV: round trips, and every way a file can be bad.
 *
 * The corruption tests are exhaustive on a small checkpoint: every truncation length
 * and every single-byte flip must give an error (never a crash, never success).  A
 * flip is always caught because the CRC-32 detects every single-byte error. */
#include "gpt.h"
#include "io.h"
#include "rep.h"
#include "srnn.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

static char dir[256];

static const char *tmp(const char *name) {
    static char buf[4][512];
    static int k = 0;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static void write_bytes(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

/* A small checkpoint with two tensors and a few config values. */
static void make_ckpt(tb_ckpt *c) {
    ckpt_init(c, "gpt");
    assert_int_equal(ckpt_set(c, "n_layer", "2"), 0);
    assert_int_equal(ckpt_set_int(c, "step", 1234567890123LL), 0);
    assert_int_equal(ckpt_set_double(c, "lr", 0.1), 0);
    float a[6] = {1, -2, 3.5f, 1e-30f, -0.0f, 65504};
    float b[3] = {0.25f, 0.5f, 0.75f};
    int64_t sa[2] = {2, 3}, sb[1] = {3};
    assert_int_equal(ckpt_add_tensor(c, "wte", a, 2, sa), 0);
    assert_int_equal(ckpt_add_tensor(c, "bias", b, 1, sb), 0);
}

static void crc_known_value(void **state) {
    (void)state;
    /* The standard check value of CRC-32/IEEE: crc("123456789") = 0xCBF43926. */
    assert_int_equal(crc32_update(0, "123456789", 9), 0xCBF43926u);
    /* Incremental == one shot. */
    uint32_t c = crc32_update(0, "1234", 4);
    assert_int_equal(crc32_update(c, "56789", 5), 0xCBF43926u);
}

static void ckpt_round_trip(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tb_ckpt c, d;
    make_ckpt(&c);
    assert_int_equal(ckpt_set(&c, "n_layer", "3"), 0); /* replace, not append */
    assert_int_equal(c.n_config, 3);
    const char *p = tmp("sub/dir/a.ckpt"); /* parent folders are created */
    assert_int_equal(ckpt_save(&c, p, err), 0);
    assert_int_equal(ckpt_load(&d, p, "gpt", err), 0);
    assert_string_equal(d.kind, "gpt");
    assert_string_equal(ckpt_get(&d, "n_layer"), "3");
    long long step;
    double lr;
    assert_int_equal(ckpt_get_int(&d, "step", &step, err), 0);
    assert_true(step == 1234567890123LL);
    assert_int_equal(ckpt_get_double(&d, "lr", &lr, err), 0);
    assert_true(lr == 0.1); /* %.17g round-trips exactly */
    assert_null(ckpt_get(&d, "nope"));
    assert_int_equal(ckpt_get_int(&d, "nope", &step, err), -1);
    assert_non_null(strstr(err, "'nope' missing"));
    assert_int_equal(ckpt_get_int(&d, "lr", &step, err), -1);
    assert_non_null(strstr(err, "not an integer"));
    float a[6];
    int64_t sa[2] = {2, 3}, bad[2] = {3, 2};
    assert_int_equal(ckpt_read_tensor(&d, "wte", a, 2, sa, err), 0);
    assert_memory_equal(a, c.tensors[0].data, sizeof a); /* bit for bit, -0.0 included */
    assert_int_equal(ckpt_read_tensor(&d, "wte", a, 2, bad, err), -1);
    assert_string_equal(err, "tensor 'wte' has shape [2,3], expected [3,2]");
    assert_int_equal(ckpt_read_tensor(&d, "wpe", a, 2, sa, err), -1);
    assert_non_null(strstr(err, "'wpe' missing"));
    /* No temporary file is left behind. */
    char t[600];
    snprintf(t, sizeof t, "%s.tmp.%ld", p, (long)getpid());
    assert_int_equal(access(t, F_OK), -1);
    ckpt_free(&c);
    ckpt_free(&d);
}

static void ckpt_wrong_kind_and_version(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tb_ckpt c, d;
    make_ckpt(&c);
    const char *p = tmp("k.ckpt");
    assert_int_equal(ckpt_save(&c, p, err), 0);
    assert_int_equal(ckpt_load(&d, p, "srnn", err), -1);
    assert_non_null(strstr(err, "is a 'gpt' checkpoint, expected 'srnn'"));
    assert_non_null(strstr(err, p));
    assert_int_equal(ckpt_load(&d, p, NULL, err), 0); /* NULL accepts any kind */
    ckpt_free(&d);
    /* Version 2: bump the version field (bytes 8..11). */
    char *buf;
    size_t n;
    assert_int_equal(read_file(p, &buf, &n, err), 0);
    buf[8] = 2;
    const char *q = tmp("v2.ckpt");
    write_bytes(q, buf, n);
    assert_int_equal(ckpt_load(&d, q, "gpt", err), -1);
    assert_non_null(strstr(err, "version 2"));
    /* Not a checkpoint at all. */
    write_bytes(q, "hello world, this is text", 25);
    assert_int_equal(ckpt_load(&d, q, "gpt", err), -1);
    assert_non_null(strstr(err, "bad magic"));
    assert_int_equal(ckpt_load(&d, tmp("missing.ckpt"), "gpt", err), -1);
    assert_non_null(strstr(err, "missing.ckpt: cannot open"));
    free(buf);
    ckpt_free(&c);
}

static void ckpt_every_truncation_and_flip(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tb_ckpt c, d;
    make_ckpt(&c);
    const char *p = tmp("t.ckpt"), *q = tmp("t2.ckpt");
    assert_int_equal(ckpt_save(&c, p, err), 0);
    char *buf;
    size_t n;
    assert_int_equal(read_file(p, &buf, &n, err), 0);
    for (size_t len = 0; len < n; len++) {
        write_bytes(q, buf, len);
        err[0] = 0;
        assert_int_equal(ckpt_load(&d, q, "gpt", err), -1);
        assert_true(strlen(err) > 0);
        assert_non_null(strstr(err, q)); /* names the file */
    }
    for (size_t i = 0; i < n; i++) {
        for (int bit = 0; bit < 8; bit += 7) {
            buf[i] ^= (char)(1 << bit);
            write_bytes(q, buf, n);
            if (ckpt_load(&d, q, "gpt", err) == 0) fail_msg("flip at byte %zu bit %d accepted", i, bit);
            buf[i] ^= (char)(1 << bit);
        }
    }
    /* One extra byte at the end is also caught. */
    char *longer = malloc(n + 1);
    memcpy(longer, buf, n);
    longer[n] = 'x';
    write_bytes(q, longer, n + 1);
    assert_int_equal(ckpt_load(&d, q, "gpt", err), -1);
    free(longer);
    free(buf);
    ckpt_free(&c);
}

static void atomic_write_keeps_old_file_on_abort(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    const char *p = tmp("keep.txt");
    assert_int_equal(write_text_file(p, "old contents\n", err), 0);
    tb_atomic a;
    assert_int_equal(atomic_begin(&a, p, err), 0);
    fputs("half a new fi", a.f);
    atomic_abort(&a); /* like Ctrl-C mid-save */
    char *s;
    size_t n;
    assert_int_equal(read_file(p, &s, &n, err), 0);
    assert_string_equal(s, "old contents\n");
    free(s);
    /* A path under a regular file cannot be created. */
    assert_int_equal(write_text_file(tmp("keep.txt/x.txt"), "x", err), -1);
    assert_non_null(strstr(err, "keep.txt"));
    assert_int_equal(make_dirs(tmp("keep.txt/sub"), err), -1);
    assert_int_equal(read_file(dir, &s, &n, err), -1);
    assert_non_null(strstr(err, "is a folder"));
}

/* The header numpy 1.x writes for np.save(f, np.zeros((3,4), np.float32)). */
static const char NUMPY_HEADER_3x4[] =
    "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }";

static void npy_round_trip_and_numpy_header(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    float f[12];
    for (int i = 0; i < 12; i++) f[i] = (float)i * 0.5f - 2.0f;
    int64_t s34[2] = {3, 4};
    const char *p = tmp("a.npy");
    assert_int_equal(npy_write_f32(p, f, 2, s34, err), 0);
    char *buf;
    size_t n;
    assert_int_equal(read_file(p, &buf, &n, err), 0);
    assert_int_equal(n, 128 + 48); /* header padded to 128 bytes, then 12 floats */
    assert_memory_equal(buf, "\x93NUMPY\x01\x00", 8);
    assert_int_equal((unsigned char)buf[8] | (unsigned char)buf[9] << 8, 118);
    assert_memory_equal(buf + 10, NUMPY_HEADER_3x4, strlen(NUMPY_HEADER_3x4));
    assert_int_equal(buf[127], '\n');
    free(buf);
    tb_array a;
    assert_int_equal(npy_read(p, &a, err), 0);
    assert_int_equal(a.ndim, 2);
    assert_int_equal(a.shape[0], 3);
    assert_int_equal(a.shape[1], 4);
    assert_int_equal(a.src_bytes, 4);
    for (int i = 0; i < 12; i++) assert_true(a.data[i] == f[i]);
    array_free(&a);
    /* float64, 1-D (shape "(5,)") and 3-D */
    double d[24];
    for (int i = 0; i < 24; i++) d[i] = 1.0 / (i + 1);
    int64_t s5[1] = {5}, s234[3] = {2, 3, 4};
    assert_int_equal(npy_write_f64(p, d, 1, s5, err), 0);
    assert_int_equal(read_file(p, &buf, &n, err), 0);
    assert_non_null(strstr(buf + 10, "'shape': (5,), }"));
    free(buf);
    assert_int_equal(npy_read(p, &a, err), 0);
    assert_int_equal(a.ndim, 1);
    assert_int_equal(a.shape[0], 5);
    assert_int_equal(a.src_bytes, 8);
    for (int i = 0; i < 5; i++) assert_true(a.data[i] == d[i]);
    array_free(&a);
    assert_int_equal(npy_write_f64(p, d, 3, s234, err), 0);
    assert_int_equal(npy_read(p, &a, err), 0);
    assert_int_equal(a.ndim, 3);
    assert_int_equal(a.size, 24);
    assert_true(a.data[23] == d[23]);
    array_free(&a);
}

/* Build a .npy by hand with any header text and data length. */
static void hand_npy(const char *path, const char *dict, size_t data_bytes) {
    size_t hl = strlen(dict);
    size_t total = 10 + hl + 1, pad = (64 - total % 64) % 64, hlen = hl + pad + 1;
    size_t n = 10 + hlen + data_bytes;
    unsigned char *b = calloc(n, 1);
    memcpy(b, "\x93NUMPY\x01\x00", 8);
    b[8] = (unsigned char)hlen;
    b[9] = (unsigned char)(hlen >> 8);
    memcpy(b + 10, dict, hl);
    memset(b + 10 + hl, ' ', pad);
    b[10 + hl + pad] = '\n';
    write_bytes(path, b, n);
    free(b);
}

static void npy_bad_files(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tb_array a;
    const char *p = tmp("bad.npy");
    hand_npy(p, "{'descr': '<u4', 'fortran_order': False, 'shape': (2,), }", 8);
    assert_int_equal(npy_read(p, &a, err), 0); /* integers and Fortran order are read */
    assert_true(a.data[0] == 0 && a.data[1] == 0);
    array_free(&a);
    hand_npy(p, "{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", 4);
    assert_int_equal(npy_read(p, &a, err), -1);
    assert_non_null(strstr(err, "bad.npy: dtype '<f2' is not supported"));
    hand_npy(p, "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }", 31);
    assert_int_equal(npy_read(p, &a, err), -1);
    assert_non_null(strstr(err, "truncated (expected 32 bytes of data, found 31)"));
    hand_npy(p, "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }", 40);
    assert_int_equal(npy_read(p, &a, err), -1);
    assert_non_null(strstr(err, "extra bytes"));
    hand_npy(p, "{'descr': '<f8', 'fortran_order': False}", 0);
    assert_int_equal(npy_read(p, &a, err), -1);
    assert_non_null(strstr(err, "corrupt header"));
    hand_npy(p, "{'descr': '<f8', 'fortran_order': False, 'shape': (x,), }", 0);
    assert_int_equal(npy_read(p, &a, err), -1);
    /* Every truncation of a valid file is an error, never a crash. */
    double d[6] = {1, 2, 3, 4, 5, 6};
    int64_t s[2] = {2, 3};
    assert_int_equal(npy_write_f64(p, d, 2, s, err), 0);
    char *buf;
    size_t n;
    assert_int_equal(read_file(p, &buf, &n, err), 0);
    const char *q = tmp("cut.npy");
    for (size_t len = 0; len < n; len++) {
        write_bytes(q, buf, len);
        assert_int_equal(npy_read(q, &a, err), -1);
        assert_non_null(strstr(err, "cut.npy"));
    }
    free(buf);
}

static void tsv_read_and_write(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tb_array a;
    const char *p = tmp("m.tsv");
    assert_int_equal(write_text_file(p, "# a comment\nu1\tu2\tu3\n1\t2\t3\n  4 5\t6.5\n\n-1e3\t0\t.5\n", err), 0);
    assert_int_equal(tsv_read_matrix(p, &a, err), 0);
    assert_int_equal(a.shape[0], 3);
    assert_int_equal(a.shape[1], 3);
    double want[9] = {1, 2, 3, 4, 5, 6.5, -1000, 0, 0.5};
    for (int i = 0; i < 9; i++) assert_true(a.data[i] == want[i]);
    array_free(&a);
    assert_int_equal(write_text_file(p, "1\t2\n3\n", err), 0);
    assert_int_equal(tsv_read_matrix(p, &a, err), -1);
    assert_non_null(strstr(err, "m.tsv:2: 1 columns, expected 2"));
    assert_int_equal(write_text_file(p, "1\t2\n3\tabc\n", err), 0);
    assert_int_equal(tsv_read_matrix(p, &a, err), -1);
    assert_non_null(strstr(err, "m.tsv:2: column 2 is not a number ('abc')"));
    assert_int_equal(write_text_file(p, "1\t2\n3\tnan\n", err), 0);
    assert_int_equal(tsv_read_matrix(p, &a, err), -1);
    assert_non_null(strstr(err, "column 2 is nan"));
    write_bytes(p, "1\t2\n\x93NUMPY\x01\x00", 12); /* an array file by another name */
    assert_int_equal(tsv_read_matrix(p, &a, err), -1);
    assert_non_null(strstr(err, "m.tsv: is a binary file, not a text table"));
    assert_int_equal(write_text_file(p, "# only a comment\n", err), 0);
    assert_int_equal(tsv_read_matrix(p, &a, err), -1);
    assert_non_null(strstr(err, "no numeric rows"));
    const char *hdr[2] = {"layer", "cka"};
    const char *cells[4] = {"emb", "0.5", "block0", "0.75"};
    assert_int_equal(tsv_write(p, 2, hdr, 2, cells, err), 0);
    char *s;
    size_t n;
    assert_int_equal(read_file(p, &s, &n, err), 0);
    assert_string_equal(s, "layer\tcka\nemb\t0.5\nblock0\t0.75\n");
    free(s);
}

/* ---- crafted files: a byte builder ------------------------------------------------ */
typedef struct { unsigned char *p; size_t n, cap; } bytes;

static void put_raw(bytes *b, const void *x, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = 2 * (b->n + n) + 64;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    if (n) memcpy(b->p + b->n, x, n);
    b->n += n;
}
/* Little-endian (big = 0) or big-endian unsigned integer of `size` bytes. */
static void put_uint(bytes *b, uint64_t x, int size, int big) {
    for (int k = 0; k < size; k++) {
        unsigned char c = (unsigned char)(x >> (8 * (big ? size - 1 - k : k)));
        put_raw(b, &c, 1);
    }
}
static void put_le32(bytes *b, uint32_t x) { put_uint(b, x, 4, 0); }
static void le_patch(unsigned char *p, uint64_t x, int size) {
    for (int k = 0; k < size; k++) p[k] = (unsigned char)(x >> (8 * k));
}
static void put_text(bytes *b, const char *s) {
    put_le32(b, (uint32_t)strlen(s));
    put_raw(b, s, strlen(s));
}
/* A checkpoint's head: magic, version 1, kind. */
static void ck_begin(bytes *b, const char *kind) {
    memset(b, 0, sizeof *b);
    put_raw(b, "TBCKPT\0\1", 8);
    put_le32(b, 1);
    put_text(b, kind);
}
/* The trailing CRC of everything after the magic: a crafted file passes the checksum. */
static void ck_finish(bytes *b) { put_le32(b, crc32_update(0, b->p + 8, b->n - 8)); }

/* ---- bounded children: CPU time and memory as limits, not as timings -------------- */
/* Run fn in a child process with at most cpu_s seconds of CPU time and mem_budget bytes
 * of address space beyond what it already maps (0: no memory limit; Linux only).
 * Returns fn's result, or -2 if the child was killed (over its limits) or crashed.  A
 * quadratic parse or an allocation the file cannot justify thus fails the test
 * whatever the machine's speed, and a linear one passes with a wide margin. */
static int run_bounded(int (*fn)(void), int cpu_s, size_t mem_budget) {
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit r = {(rlim_t)cpu_s, (rlim_t)cpu_s + 1};
        setrlimit(RLIMIT_CPU, &r);
#ifdef __linux__
        long pages = 0;
        FILE *f = fopen("/proc/self/statm", "r");
        if (mem_budget && f && fscanf(f, "%ld", &pages) == 1) {
            r.rlim_cur = r.rlim_max = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + mem_budget;
            setrlimit(RLIMIT_AS, &r);
        }
        if (f) fclose(f);
#endif
        _exit(fn());
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -2;
}

/* 100 000 config keys and 50 000 empty tensors (2.5 MB): the old reader compared every
 * new name with all earlier ones (~6e9 string compares, tens of seconds); a linear one
 * reads it in well under a second. */
#define MANY_KEYS 100000
#define MANY_TENSORS 50000
static int parse_many_names(void) {
    bytes b;
    char name[32], err[TB_ERRLEN];
    ck_begin(&b, "notes");
    put_le32(&b, MANY_KEYS);
    for (int i = 0; i < MANY_KEYS; i++) {
        snprintf(name, sizeof name, "key%06d", i);
        put_text(&b, name);
        put_text(&b, "v");
    }
    put_le32(&b, MANY_TENSORS);
    for (int i = 0; i < MANY_TENSORS; i++) {
        snprintf(name, sizeof name, "t%06d", i);
        put_text(&b, name);
        put_le32(&b, 1);
        put_uint(&b, 0, 8, 0); /* shape [0] */
    }
    ck_finish(&b);
    tb_ckpt c;
    int rc = ckpt_parse_buf(&c, b.p, b.n, "many.ckpt", NULL, err);
    free(b.p);
    if (rc) { fprintf(stderr, "%s\n", err); return 1; }
    rc = c.n_config == MANY_KEYS && c.n_tensors == MANY_TENSORS && ckpt_get(&c, "key099999") &&
                 ckpt_find(&c, "t049999") ? 0 : 2;
    ckpt_free(&c);
    return rc;
}

static void ckpt_many_names_parse_in_linear_time(void **state) {
    (void)state;
    assert_int_equal(run_bounded(parse_many_names, 5, 0), 0);
}

static void ckpt_repeated_names_and_impossible_counts(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tb_ckpt c;
    bytes b;
    /* A key written twice (no writer does that: ckpt_set replaces) is damage. */
    ck_begin(&b, "gpt");
    put_le32(&b, 3);
    put_text(&b, "n_layer"); put_text(&b, "2");
    put_text(&b, "d_model"); put_text(&b, "8");
    put_text(&b, "n_layer"); put_text(&b, "8");
    put_le32(&b, 0);
    ck_finish(&b);
    assert_int_equal(ckpt_parse_buf(&c, b.p, b.n, "dup.ckpt", NULL, err), -1);
    assert_string_equal(err, "dup.ckpt: corrupt (config key 'n_layer' appears twice)");
    free(b.p);
    /* The same tensor twice. */
    ck_begin(&b, "gpt");
    put_le32(&b, 0);
    put_le32(&b, 2);
    for (int i = 0; i < 2; i++) {
        put_text(&b, "wte");
        put_le32(&b, 1);
        put_uint(&b, 1, 8, 0);
        put_le32(&b, 0x3f800000u);
    }
    ck_finish(&b);
    assert_int_equal(ckpt_parse_buf(&c, b.p, b.n, "dup.ckpt", NULL, err), -1);
    assert_string_equal(err, "dup.ckpt: corrupt (tensor 'wte' appears twice)");
    free(b.p);
    /* Counts and shapes the file cannot hold are refused before allocating. */
    ck_begin(&b, "gpt");
    put_le32(&b, 0xFFFFFFF0u);
    ck_finish(&b);
    assert_int_equal(ckpt_parse_buf(&c, b.p, b.n, "n.ckpt", NULL, err), -1);
    assert_non_null(strstr(err, "n.ckpt: corrupt (config count 4294967280, but only 0 bytes left)"));
    free(b.p);
    ck_begin(&b, "gpt");
    put_le32(&b, 0);
    put_le32(&b, 1);
    put_text(&b, "huge\n");
    put_le32(&b, 2);
    put_uint(&b, 1u << 20, 8, 0);
    put_uint(&b, 1u << 20, 8, 0);
    ck_finish(&b);
    assert_int_equal(ckpt_parse_buf(&c, b.p, b.n, "n.ckpt", NULL, err), -1);
    /* the name's newline is shown as '?': the message stays one line */
    assert_string_equal(err, "n.ckpt: corrupt (tensor 'huge?' has a shape the file cannot hold)");
    free(b.p);
    /* A damaged file is refused by its checksum before any field is read. */
    ck_begin(&b, "gpt");
    put_le32(&b, 0xFFFFFFF0u);
    put_le32(&b, 0);
    assert_int_equal(ckpt_parse_buf(&c, b.p, b.n, "n.ckpt", NULL, err), -1);
    assert_string_equal(err, "n.ckpt: CRC mismatch (file is corrupt or truncated)");
    free(b.p);
}

/* The case: a 5 KB file whose config claims d_model 2048, n_layer 8 made the
 * loader allocate 1.97 GB (and spend 68 s initialising it) before noticing that the
 * tensors were not there.  Under a 256 MB budget the old loader fails with "out of
 * memory"; the new one names the missing tensor without allocating the model. */
static int load_claimed_gpt(void) {
    char err[TB_ERRLEN];
    tb_ckpt c;
    ckpt_init(&c, "gpt");
    const char *kv[][2] = {{"vocab_size", "64"}, {"ctx", "32"}, {"n_layer", "8"}, {"n_head", "8"},
                           {"d_model", "2048"}, {"mlp_ratio", "4"}, {"act", "gelu"},
                           {"norm", "layernorm"}, {"pos", "learned"}, {"tied", "1"}, {"seed", "1"}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        if (ckpt_set(&c, kv[i][0], kv[i][1])) return 3;
    float w[4] = {0};
    int64_t s[2] = {2, 2};
    if (ckpt_add_tensor(&c, "wte", w, 2, s)) return 3;
    gpt_model m;
    int rc = gpt_from_ckpt(&m, &c, err);
    ckpt_free(&c);
    if (rc == 0) return 1;
    if (!strstr(err, "tensor 'wte' has shape [2,2], expected [64,2048]")) {
        fprintf(stderr, "gpt: %s\n", err);
        return 2;
    }
    return 0;
}

/* The same for the spiking language model: 65536 neurons claimed, no tensors. */
static int load_claimed_srnn(void) {
    char err[TB_ERRLEN];
    tb_ckpt c;
    ckpt_init(&c, "srnn");
    srnn_model m0;
    srnn_config g;
    srnn_default_config(&g);
    g.vocab_size = 4;
    g.n_neurons = 4;
    if (srnn_init(&m0, &g, err) || srnn_to_ckpt(&m0, &c, err)) return 3;
    srnn_free(&m0);
    if (ckpt_set(&c, "n_neurons", "65536") || ckpt_set(&c, "vocab_size", "1000000")) return 3;
    srnn_model m;
    int rc = srnn_from_ckpt(&m, &c, err);
    ckpt_free(&c);
    if (rc == 0) return 1;
    if (!strstr(err, "tensor 'w_in' has shape [4,4], expected [1000000,65536]")) {
        fprintf(stderr, "srnn: %s\n", err);
        return 2;
    }
    return 0;
}

static void model_loaders_check_tensors_before_allocating(void **state) {
    (void)state;
    assert_int_equal(run_bounded(load_claimed_gpt, 20, (size_t)256 << 20), 0);
    assert_int_equal(run_bounded(load_claimed_srnn, 20, (size_t)256 << 20), 0);
}

/* ---- .npy by hand: every dtype, both byte orders, both memory orders -------------- */

/* A whole .npy (format 1.0) in memory: preamble, dict padded to 64 bytes, data. */
static void npy_bytes(bytes *b, const char *dict, const void *data, size_t n) {
    memset(b, 0, sizeof *b);
    size_t hl = strlen(dict), pad = (64 - (10 + hl + 1) % 64) % 64;
    put_raw(b, "\x93NUMPY\x01\x00", 8);
    put_uint(b, hl + pad + 1, 2, 0);
    put_raw(b, dict, hl);
    for (size_t i = 0; i < pad; i++) put_raw(b, " ", 1);
    put_raw(b, "\n", 1);
    put_raw(b, data, n);
}

static void parse_npy_ok(const char *dict, const void *data, size_t n, tb_array *a) {
    char err[TB_ERRLEN];
    bytes b;
    npy_bytes(&b, dict, data, n);
    if (npy_parse_buf(b.p, b.n, "x.npy", a, err)) fail_msg("%s: %s", dict, err);
    free(b.p);
}

static void parse_npy_err(const char *dict, const void *data, size_t n, const char *want) {
    char err[TB_ERRLEN];
    tb_array a;
    bytes b;
    npy_bytes(&b, dict, data, n);
    assert_int_equal(npy_parse_buf(b.p, b.n, "x.npy", &a, err), -1);
    if (!strstr(err, want)) fail_msg("%s: got '%s', want '%s'", dict, err, want);
    assert_null(a.data);
    free(b.p);
}

/* Literal bytes, as numpy writes them, for one value of every dtype. */
static void npy_every_dtype_literal_bytes(void **state) {
    (void)state;
    static const struct { const char *descr; unsigned char b[8]; int n; double want; } cases[] = {
        {"<f4", {0x00, 0x00, 0xc0, 0x3f}, 4, 1.5},
        {">f4", {0xc0, 0x20, 0x00, 0x00}, 4, -2.5},
        {"<f8", {0, 0, 0, 0, 0, 0, 0xf8, 0x3f}, 8, 1.5},
        {">f8", {0x40, 0x59, 0, 0, 0, 0, 0, 0}, 8, 100.0},
        {"|i1", {0x80}, 1, -128},
        {"<i2", {0xfe, 0xff}, 2, -2},
        {">i2", {0x01, 0x02}, 2, 258},
        {"<i4", {0x00, 0x00, 0x00, 0x80}, 4, -2147483648.0},
        {">i4", {0xff, 0xff, 0xff, 0xfd}, 4, -3},
        {"<i8", {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 8, -1},
        {">i8", {0x80, 0, 0, 0, 0, 0, 0, 0}, 8, -9223372036854775808.0},
        {"|u1", {0xff}, 1, 255},
        {"<u2", {0x01, 0x02}, 2, 513},
        {">u2", {0xff, 0xfe}, 2, 65534},
        {"<u4", {0xff, 0xff, 0xff, 0xff}, 4, 4294967295.0},
        {">u4", {0x00, 0x01, 0x00, 0x00}, 4, 65536},
        {"<u8", {0, 0, 0, 0, 0, 0, 0, 0x80}, 8, 9223372036854775808.0},
        {">u8", {0, 0, 0, 0, 0, 0, 0x01, 0x00}, 8, 256},
        {"|b1", {0x01}, 1, 1},
        {"|b1", {0x00}, 1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char dict[128];
        snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (1,), }",
                 cases[i].descr);
        tb_array a;
        parse_npy_ok(dict, cases[i].b, (size_t)cases[i].n, &a);
        if (a.data[0] != cases[i].want) fail_msg("%s: %.17g, want %.17g", cases[i].descr, a.data[0], cases[i].want);
        assert_int_equal(a.src_bytes, cases[i].n);
        assert_memory_equal(a.dtype, cases[i].descr + 1, 3);
        array_free(&a);
    }
}

/* Fortran order: np.save(X.T) of a C-order X, and X[:, idx], are stored column-major. */
static void npy_fortran_order_is_transposed_into_c_order(void **state) {
    (void)state;
    /* 2 x 3, Fortran order: the file holds column 0 (1, 4), column 1 (2, 5), column 2 (3, 6). */
    unsigned char f23[6] = {1, 4, 2, 5, 3, 6};
    tb_array a;
    parse_npy_ok("{'descr': '|u1', 'fortran_order': True, 'shape': (2, 3), }", f23, 6, &a);
    for (int i = 0; i < 6; i++) assert_true(a.data[i] == i + 1);
    array_free(&a);
    /* 2 x 3 x 4, big-endian int16: element (i, j, k) is stored at i + 2 (j + 3 k) and holds
     * 100 i + 10 j + k. */
    bytes d = {0};
    for (int k = 0; k < 4; k++)
        for (int j = 0; j < 3; j++)
            for (int i = 0; i < 2; i++) put_uint(&d, (uint64_t)(100 * i + 10 * j + k), 2, 1);
    parse_npy_ok("{'descr': '>i2', 'fortran_order': True, 'shape': (2, 3, 4), }", d.p, d.n, &a);
    assert_int_equal(a.ndim, 3);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 4; k++) assert_true(a.data[(i * 3 + j) * 4 + k] == 100 * i + 10 * j + k);
    array_free(&a);
    free(d.p);
    /* Fortran order of 1-D and 0-D arrays is the C order; an empty array has no data. */
    double one = 7.25;
    parse_npy_ok("{'shape': (), 'fortran_order': True, 'descr': '<f8'}", &one, 8, &a);
    assert_int_equal(a.ndim, 0);
    assert_int_equal(a.size, 1);
    assert_true(a.data[0] == 7.25);
    array_free(&a);
    parse_npy_ok("{'descr': '<f8', 'fortran_order': True, 'shape': (0, 5), }", NULL, 0, &a);
    assert_int_equal(a.size, 0);
    array_free(&a);
}

static void npy_header_versions_and_bad_headers(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tb_array a;
    /* Format 2.0: a 4-byte header length. */
    const char *dict = "{\"descr\": \"<i4\", \"fortran_order\": False, \"shape\": (2L,)}\n";
    bytes b = {0};
    put_raw(&b, "\x93NUMPY\x02\x00", 8);
    put_le32(&b, (uint32_t)strlen(dict));
    put_raw(&b, dict, strlen(dict));
    put_uint(&b, 7, 4, 0);
    put_uint(&b, (uint32_t)-7, 4, 0);
    assert_int_equal(npy_parse_buf(b.p, b.n, "v2.npy", &a, err), 0);
    assert_true(a.data[0] == 7 && a.data[1] == -7);
    array_free(&a);
    b.p[6] = 4; /* version 4.0 does not exist */
    assert_int_equal(npy_parse_buf(b.p, b.n, "v2.npy", &a, err), -1);
    assert_string_equal(err, "v2.npy: unsupported .npy version 4.0");
    free(b.p);
    unsigned char z[16] = {0};
    parse_npy_err("{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", z, 4,
                  "dtype '<f2' is not supported");
    parse_npy_err("{'descr': '|i4', 'fortran_order': False, 'shape': (2,), }", z, 8, "'|i4'");
    parse_npy_err("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", z, 16, "'<c16'");
    parse_npy_err("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", z, 8, "'|O'");
    parse_npy_err("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", z, 4,
                  "structured dtypes");
    parse_npy_err("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,), }", z, 4, "fortran_order");
    parse_npy_err("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", z, 4,
                  "unknown key 'x'");
    parse_npy_err("{'descr': '<f4', 'descr': '<f4', 'shape': (1,), }", z, 4, "repeated key 'descr'");
    parse_npy_err("{'descr': '<f4', 'fortran_order': False}", z, 0, "needs descr, fortran_order and shape");
    parse_npy_err("{'descr': '<f4', 'fortran_order': False, 'shape': (1 2), }", z, 4, "corrupt header (shape)");
    parse_npy_err("{'descr': '<f4', 'fortran_order': False, 'shape': (x,), }", z, 4, "corrupt header (shape)");
    parse_npy_err("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", z, 4,
                  "shape too large");
    parse_npy_err("{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }", z, 4,
                  "more than 8 dimensions");
    parse_npy_err("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", z, 4,
                  "shape too large");
    parse_npy_err("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } junk", z, 4,
                  "text after the dict");
    parse_npy_err("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", z, 15,
                  "truncated (expected 16 bytes of data, found 15)");
    parse_npy_err("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", z, 9,
                  "corrupt (1 extra bytes after the data)");
}

/* Every truncation and every single-bit flip of a Fortran-order big-endian file: an
 * error or a (differently valued) array, never a crash or a read outside the buffer. */
static void npy_every_truncation_and_flip(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    unsigned char d[12] = {0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6};
    bytes b;
    npy_bytes(&b, "{'descr': '>u2', 'fortran_order': True, 'shape': (3, 2), }", d, 12);
    tb_array a;
    for (size_t len = 0; len < b.n; len++) {
        assert_int_equal(npy_parse_buf(b.p, len, "cut.npy", &a, err), -1);
        assert_non_null(strstr(err, "cut.npy"));
    }
    for (size_t i = 0; i < b.n; i++)
        for (int bit = 0; bit < 8; bit++) {
            b.p[i] ^= (unsigned char)(1 << bit);
            if (npy_parse_buf(b.p, b.n, "flip.npy", &a, err) == 0) array_free(&a);
            b.p[i] ^= (unsigned char)(1 << bit);
        }
    free(b.p);
}

/* ---- .npz by hand: a zip writer for stored entries ------------------------------- */
typedef struct {
    const char *name;
    const unsigned char *data;  /* what the archive holds */
    size_t n;
    int method, zip64;
    const unsigned char *plain; /* deflated entries: the bytes data decompresses to */
    size_t plain_n;
    size_t claim;               /* != 0: the uncompressed size the directory claims */
} zip_in;

static uint32_t zip_in_crc(const zip_in *e) {
    return e->plain ? crc32_update(0, e->plain, e->plain_n) : crc32_update(0, e->data, e->n);
}

/* Local headers, data, central directory and end record.  zip64 != 0 writes the
 * sizes as all ones with a zip64 extra field in both headers (numpy's local headers
 * carry one too); comment adds text after the end record. */
static void zip_bytes(bytes *z, const zip_in *e, int n, const char *comment) {
    memset(z, 0, sizeof *z);
    size_t *off = calloc((size_t)n, sizeof *off);
    for (int i = 0; i < n; i++) {
        off[i] = z->n;
        size_t plain_n = e[i].claim ? e[i].claim : e[i].plain ? e[i].plain_n : e[i].n;
        uint32_t crc = zip_in_crc(&e[i]), cs = e[i].zip64 ? 0xFFFFFFFFu : (uint32_t)e[i].n,
                 us = e[i].zip64 ? 0xFFFFFFFFu : (uint32_t)plain_n;
        put_le32(z, 0x04034b50u);
        put_uint(z, 20, 2, 0); put_uint(z, 0, 2, 0); put_uint(z, (uint64_t)e[i].method, 2, 0);
        put_le32(z, 0); put_le32(z, crc); put_le32(z, cs); put_le32(z, us);
        put_uint(z, strlen(e[i].name), 2, 0); put_uint(z, e[i].zip64 ? 20 : 0, 2, 0);
        put_raw(z, e[i].name, strlen(e[i].name));
        if (e[i].zip64) { put_uint(z, 1, 2, 0); put_uint(z, 16, 2, 0); put_uint(z, plain_n, 8, 0); put_uint(z, e[i].n, 8, 0); }
        put_raw(z, e[i].data, e[i].n);
    }
    size_t dir_at = z->n;
    for (int i = 0; i < n; i++) {
        size_t plain_n = e[i].claim ? e[i].claim : e[i].plain ? e[i].plain_n : e[i].n;
        uint32_t crc = zip_in_crc(&e[i]), cs = e[i].zip64 ? 0xFFFFFFFFu : (uint32_t)e[i].n,
                 us = e[i].zip64 ? 0xFFFFFFFFu : (uint32_t)plain_n;
        put_le32(z, 0x02014b50u);
        put_uint(z, 20, 2, 0); put_uint(z, 20, 2, 0); put_uint(z, 0, 2, 0); put_uint(z, (uint64_t)e[i].method, 2, 0);
        put_le32(z, 0); put_le32(z, crc); put_le32(z, cs); put_le32(z, us);
        put_uint(z, strlen(e[i].name), 2, 0); put_uint(z, e[i].zip64 ? 20 : 0, 2, 0); put_uint(z, 0, 2, 0);
        put_uint(z, 0, 2, 0); put_uint(z, 0, 2, 0); put_le32(z, 0); put_le32(z, (uint32_t)off[i]);
        put_raw(z, e[i].name, strlen(e[i].name));
        if (e[i].zip64) { put_uint(z, 1, 2, 0); put_uint(z, 16, 2, 0); put_uint(z, plain_n, 8, 0); put_uint(z, e[i].n, 8, 0); }
    }
    size_t dir_size = z->n - dir_at;
    put_le32(z, 0x06054b50u);
    put_uint(z, 0, 2, 0); put_uint(z, 0, 2, 0); put_uint(z, (uint64_t)n, 2, 0); put_uint(z, (uint64_t)n, 2, 0);
    put_le32(z, (uint32_t)dir_size); put_le32(z, (uint32_t)dir_at);
    put_uint(z, strlen(comment), 2, 0);
    put_raw(z, comment, strlen(comment));
    free(off);
}

static void npz_archives(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    bytes a, b, z;
    int16_t xs[6] = {0, 1, 2, 3, 4, -5};
    double two[4] = {2.5, 2.5, 2.5, 2.5};
    npy_bytes(&a, "{'descr': '<i2', 'fortran_order': False, 'shape': (2, 3), }", xs, sizeof xs);
    npy_bytes(&b, "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }", two, sizeof two);
    zip_in in[2] = {{"layer_a.npy", a.p, a.n, 0, 1, NULL, 0, 0}, {"b.npy", b.p, b.n, 0, 0, NULL, 0, 0}};
    zip_bytes(&z, in, 2, "a comment");
    tb_npz npz;
    assert_int_equal(npz_parse_buf(z.p, z.n, "r.npz", &npz, err), 0);
    assert_int_equal(npz.n, 2);
    assert_string_equal(npz.names[0], "layer_a");
    assert_string_equal(npz.names[1], "b");
    assert_int_equal(npz.arrays[0].shape[1], 3);
    assert_true(npz.arrays[0].data[5] == -5);
    assert_true(npz.arrays[1].data[3] == 2.5);
    npz_free(&npz);
    free(z.p);
    /* array_read tells files apart by content: a one-array archive named .txt is read. */
    const char *p = tmp("one.txt");
    zip_bytes(&z, in, 1, "");
    write_bytes(p, z.p, z.n);
    tb_array arr;
    assert_int_equal(array_read(p, &arr, err), 0);
    assert_int_equal(arr.size, 6);
    assert_memory_equal(arr.dtype, "i2", 3);
    array_free(&arr);
    free(z.p);
    zip_bytes(&z, in, 2, "");
    write_bytes(p, z.p, z.n);
    assert_int_equal(array_read(p, &arr, err), -1);
    assert_non_null(strstr(err, "one.txt: the archive holds 2 arrays"));
    free(z.p);
    /* Deflated data that does not decode, other methods, names that are not arrays, repeats */
    zip_in c[2] = {{"x.npy", a.p, a.n, 8, 0, NULL, 0, 0}, {"x.npy", a.p, a.n, 0, 0, NULL, 0, 0}};
    zip_bytes(&z, c, 1, "");
    assert_int_equal(npz_parse_buf(z.p, z.n, "c.npz", &npz, err), -1);
    assert_string_equal(err, "c.npz: entry 'x.npy': corrupt compressed data");
    free(z.p);
    c[0].method = 12;
    zip_bytes(&z, c, 1, "");
    assert_int_equal(npz_parse_buf(z.p, z.n, "c.npz", &npz, err), -1);
    assert_non_null(strstr(err, "compression method 12"));
    free(z.p);
    zip_bytes(&z, c + 1, 1, "");
    z.p[z.n - 22 - 5 - 4] ^= 1; /* the central entry's local-header offset */
    assert_int_equal(npz_parse_buf(z.p, z.n, "c.npz", &npz, err), -1);
    assert_non_null(strstr(err, "corrupt local header"));
    free(z.p);
    c[0].method = 0;
    zip_bytes(&z, c, 2, "");
    assert_int_equal(npz_parse_buf(z.p, z.n, "c.npz", &npz, err), -1);
    assert_string_equal(err, "c.npz: corrupt (array 'x' appears twice)");
    free(z.p);
    zip_in t = {"notes.txt", (const unsigned char *)"hi", 2, 0, 0, NULL, 0, 0};
    zip_bytes(&z, &t, 1, "");
    assert_int_equal(npz_parse_buf(z.p, z.n, "c.npz", &npz, err), -1);
    assert_string_equal(err, "c.npz: entry 'notes.txt' is not a .npy array");
    free(z.p);
    zip_bytes(&z, NULL, 0, "");
    assert_int_equal(npz_parse_buf(z.p, z.n, "c.npz", &npz, err), -1);
    assert_string_equal(err, "c.npz: the archive holds no arrays");
    free(z.p);
    /* Central entries that all point at one local entry (a zip bomb without compression)
     * are refused: the entries' data cannot add up to more than the file. */
    zip_in one = {"a.npy", a.p, a.n, 0, 0, NULL, 0, 0};
    zip_bytes(&z, &one, 1, "");
    bytes bomb = {0};
    size_t dir_at = z.n - 22 - 51; /* one central entry of 46 + 5 bytes, then the end record */
    put_raw(&bomb, z.p, dir_at);
    for (int i = 0; i < 20; i++) put_raw(&bomb, z.p + dir_at, 51);
    put_raw(&bomb, z.p + z.n - 22, 22);
    unsigned char *end = bomb.p + bomb.n - 22; /* the end record: entry counts, directory size */
    le_patch(end + 8, 20, 2);
    le_patch(end + 10, 20, 2);
    le_patch(end + 12, 20 * 51, 4);
    assert_int_equal(npz_parse_buf(bomb.p, bomb.n, "c.npz", &npz, err), -1);
    assert_string_equal(err, "c.npz: corrupt (entries overlap: their data exceeds the file)");
    free(bomb.p);
    free(z.p);
    /* An entry whose array is bad names archive and entry. */
    zip_in bad = {"bad.npy", a.p, a.n - 1, 0, 0, NULL, 0, 0};
    zip_bytes(&z, &bad, 1, "");
    assert_int_equal(npz_parse_buf(z.p, z.n, "c.npz", &npz, err), -1);
    assert_non_null(strstr(err, "c.npz:bad.npy: truncated"));
    free(z.p);
    free(a.p);
    free(b.p);
}

/* Every truncation and single-bit flip of an archive: an error or an archive, no crash. */
static void npz_every_truncation_and_flip(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    bytes a, z;
    unsigned char d[4] = {1, 2, 3, 4};
    npy_bytes(&a, "{'descr': '|u1', 'fortran_order': False, 'shape': (4,), }", d, 4);
    zip_in in[2] = {{"a.npy", a.p, a.n, 0, 1, NULL, 0, 0}, {"b.npy", a.p, a.n, 0, 0, NULL, 0, 0}};
    zip_bytes(&z, in, 2, "");
    tb_npz npz;
    for (size_t len = 0; len < z.n; len++) {
        assert_int_equal(npz_parse_buf(z.p, len, "cut.npz", &npz, err), -1);
        assert_non_null(strstr(err, "cut.npz"));
    }
    for (size_t i = 0; i < z.n; i++)
        for (int bit = 0; bit < 8; bit++) {
            z.p[i] ^= (unsigned char)(1 << bit);
            if (npz_parse_buf(z.p, z.n, "flip.npz", &npz, err) == 0) npz_free(&npz);
            z.p[i] ^= (unsigned char)(1 << bit);
        }
    free(z.p);
    free(a.p);
}


/* ---- DEFLATE by hand: streams as zlib writes them (raw, no zlib header) ------------- */

static void inflate_ok(const unsigned char *in, size_t n, const char *want) {
    size_t len = strlen(want);
    unsigned char *out = malloc(len + 1);
    assert_int_equal(inflate_raw(in, n, out, len), 0);
    assert_memory_equal(out, want, len);
    /* the output must be exactly the size the archive recorded */
    assert_int_equal(inflate_raw(in, n, out, len + 1), -1);
    if (len) assert_int_equal(inflate_raw(in, n, out, len - 1), -1);
    free(out);
}

static const char DYN_TEXT[] = "aaaaaaaaaabbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbccccccccccccccccc the cat sees the cat.";
/* zlib, Z_HUFFMAN_ONLY: one dynamic block (code lengths sent, themselves coded) */
static const unsigned char DYN[] = {
    0x05, 0xc1, 0x41, 0x0d, 0xc0, 0x30, 0x0c, 0x04, 0x30, 0x2a, 0x41, 0x30, 0x4e, 0xe7, 0x53, 0xa5,
    0xfe, 0x1b, 0xfe, 0x9a, 0x9d, 0x24, 0x49, 0x92, 0x00, 0x00, 0x00, 0x00, 0x68, 0xdb, 0xb6, 0x6d,
    0xdb, 0xb6, 0xed, 0xec, 0x3d, 0xd3, 0xec, 0xbc, 0x73, 0xde, 0xec, 0x3d, 0xd3, 0xec, 0xf7, 0x03};

static void inflate_hand_streams(void **state) {
    (void)state;
    /* stored: BFINAL 1, BTYPE 00, then LEN 5, NLEN ~5, the bytes */
    static const unsigned char stored[] = {0x01, 0x05, 0x00, 0xfa, 0xff, 'h', 'e', 'l', 'l', 'o'};
    inflate_ok(stored, sizeof stored, "hello");
    /* fixed codes: "a" is literal 0x61 (8 bits), then end of block */
    static const unsigned char a[] = {0x4b, 0x04, 0x00};
    inflate_ok(a, sizeof a, "a");
    /* fixed codes with a match: "abc" then (length 10, distance 3) */
    static const unsigned char abc[] = {0x4b, 0x4c, 0x4a, 0x4e, 0x84, 0x23, 0x00};
    inflate_ok(abc, sizeof abc, "abcabcabcabca");
    inflate_ok(DYN, sizeof DYN, DYN_TEXT);
    /* a stored block that is not the last, then an empty fixed final block */
    static const unsigned char two[] = {0x00, 0x06, 0x00, 0xf9, 0xff, 'h', 'e', 'l', 'l', 'o', ' ', 0x03, 0x00};
    inflate_ok(two, sizeof two, "hello ");
    unsigned char out[64];
    static const unsigned char badtype[] = {0x07, 0x00};                   /* BTYPE 11 */
    static const unsigned char badlen[] = {0x01, 0x05, 0x00, 0xfb, 0xff, 'h', 'e', 'l', 'l', 'o'};
    static const unsigned char far[] = {0x03, 0x02, 0x00};                 /* distance 1 before any byte */
    assert_int_equal(inflate_raw(badtype, sizeof badtype, out, 1), -1);
    assert_int_equal(inflate_raw(badlen, sizeof badlen, out, 5), -1);
    assert_int_equal(inflate_raw(far, sizeof far, out, 3), -1);
    assert_int_equal(inflate_raw(NULL, 0, out, 0), -1);
}

/* Every truncation fails; every bit flip gives an error or exactly the recorded size. */
static void inflate_every_truncation_and_flip(void **state) {
    (void)state;
    unsigned char in[sizeof DYN], out[sizeof DYN_TEXT];
    size_t len = strlen(DYN_TEXT);
    for (size_t n = 0; n < sizeof DYN; n++) assert_int_equal(inflate_raw(DYN, n, out, len), -1);
    for (size_t i = 0; i < sizeof DYN; i++)
        for (int bit = 0; bit < 8; bit++) {
            memcpy(in, DYN, sizeof DYN);
            in[i] ^= (unsigned char)(1 << bit);
            inflate_raw(in, sizeof in, out, len);
        }
}

/* np.savez_compressed: a deflated .npy (|u1, shape (4,), values 1 2 3 4), as zlib wrote it. */
static void npz_deflated_entry(void **state) {
    (void)state;
    static const unsigned char npy_deflated[] = {
        0x9b, 0xec, 0x17, 0xea, 0x1b, 0x10, 0xc9, 0xc8, 0x50, 0xc6, 0x50, 0xad, 0x9e, 0x92, 0x5a, 0x9c,
        0x5c, 0xa4, 0x6e, 0xa5, 0xa0, 0x5e, 0x53, 0x6a, 0xa8, 0xae, 0xa3, 0xa0, 0x9e, 0x96, 0x5f, 0x54,
        0x52, 0x94, 0x98, 0x17, 0x9f, 0x5f, 0x94, 0x92, 0x0a, 0x12, 0x77, 0x4b, 0xcc, 0x29, 0x4e, 0x05,
        0x8a, 0x17, 0x67, 0x24, 0x16, 0xa4, 0x02, 0xf9, 0x1a, 0x26, 0x3a, 0x9a, 0x3a, 0x0a, 0xb5, 0x0a,
        0x14, 0x00, 0x2e, 0x46, 0x26, 0x66, 0x16, 0x00};
    char err[TB_ERRLEN];
    unsigned char d[4] = {1, 2, 3, 4};
    bytes plain, z;
    npy_bytes(&plain, "{'descr': '|u1', 'fortran_order': False, 'shape': (4,), }", d, 4);
    assert_int_equal(plain.n, 132);
    zip_in e = {"v.npy", npy_deflated, sizeof npy_deflated, 8, 0, plain.p, plain.n, 0};
    zip_bytes(&z, &e, 1, "");
    tb_npz npz;
    assert_int_equal(npz_parse_buf(z.p, z.n, "c.npz", &npz, err), 0);
    assert_int_equal(npz.n, 1);
    assert_string_equal(npz.names[0], "v");
    for (int i = 0; i < 4; i++) assert_true(npz.arrays[0].data[i] == i + 1);
    npz_free(&npz);
    free(z.p);
    /* A claim no DEFLATE stream can make (over 1032 times the compressed size) is refused
     * before the output is allocated. */
    e.claim = 1032 * (sizeof npy_deflated + 2);
    zip_bytes(&z, &e, 1, "");
    assert_int_equal(npz_parse_buf(z.p, z.n, "c.npz", &npz, err), -1);
    assert_non_null(strstr(err, "c.npz: entry 'v.npy' claims 76368 bytes from 72 compressed"));
    free(z.p);
    e.claim--; /* possible in principle: decoded, and found not to be that long */
    zip_bytes(&z, &e, 1, "");
    assert_int_equal(npz_parse_buf(z.p, z.n, "c.npz", &npz, err), -1);
    assert_string_equal(err, "c.npz: entry 'v.npy': corrupt compressed data");
    free(z.p);
    free(plain.p);
}

/* The bytes b as the file path. */
static void put_file(const char *path, const bytes *b) {
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(b->p, 1, b->n, fp), b->n);
    assert_int_equal(fclose(fp), 0);
}

/* What numpy writes reaches align/compare (rep.h) as it reaches the readers: a
 * Fortran-order big-endian int .npy is a layer in C order, an .npz is read like a folder
 * (one layer per array, named by its key). */
static void representations_from_numpy_files(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    bytes a, b, z;
    /* np.save(x.T) of int32 x = [[1,2],[3,4],[5,7]] big-endian: Fortran order of x.T's (2, 3) */
    unsigned char be[24] = {0,0,0,1, 0,0,0,2, 0,0,0,3, 0,0,0,4, 0,0,0,5, 0,0,0,7};
    npy_bytes(&a, "{'descr': '>i4', 'fortran_order': True, 'shape': (2, 3), }", be, sizeof be);
    double f[6] = {1, 2, 3, 4, 5, 6};   /* Fortran (3, 2): C order [[1,4],[2,5],[3,6]] */
    npy_bytes(&b, "{'descr': '<f8', 'fortran_order': True, 'shape': (3, 2), }", f, sizeof f);
    put_file(tmp("xt.npy"), &a);
    rep_set s;
    assert_int_equal(rep_load(tmp("xt.npy"), 0, &s, err), 0);
    assert_int_equal(s.n_layers, 1);
    assert_int_equal(s.layer[0].n, 2);
    assert_int_equal(s.layer[0].p, 3);
    const double want_a[6] = {1, 3, 5, 2, 4, 7};
    for (int i = 0; i < 6; i++) assert_true(s.layer[0].mean[i] == want_a[i]);
    rep_free(&s);
    /* a (2 x 3) and b (3 x 2) see different stimulus counts: refused, naming both */
    zip_in in[2] = {{"first.npy", b.p, b.n, 0, 0, NULL, 0, 0}, {"second.npy", a.p, a.n, 0, 0, NULL, 0, 0}};
    zip_bytes(&z, in, 2, "");
    put_file(tmp("two.npz"), &z);
    assert_int_equal(rep_load(tmp("two.npz"), 0, &s, err), -1);
    assert_non_null(strstr(err, "two.npz:second: 2 stimuli, but"));
    free(z.p);
    /* the same array twice: two layers named by their keys, values in C order */
    zip_in same[2] = {{"layer0.npy", b.p, b.n, 0, 0, NULL, 0, 0}, {"layer1.npy", b.p, b.n, 0, 0, NULL, 0, 0}};
    zip_bytes(&z, same, 2, "");
    put_file(tmp("same.npz"), &z);
    assert_int_equal(rep_load(tmp("same.npz"), 0, &s, err), 0);
    assert_int_equal(s.n_layers, 2);
    assert_string_equal(s.layer[1].name, "layer1");
    const double want_b[6] = {1, 4, 2, 5, 3, 6};
    for (int i = 0; i < 6; i++) assert_true(s.layer[1].mean[i] == want_b[i]);
    rep_free(&s);
    free(a.p); free(b.p); free(z.p);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/tb_test_io_%ld", (long)getpid());
    mkdir(dir, 0777);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crc_known_value),
        cmocka_unit_test(ckpt_round_trip),
        cmocka_unit_test(ckpt_wrong_kind_and_version),
        cmocka_unit_test(ckpt_every_truncation_and_flip),
        cmocka_unit_test(atomic_write_keeps_old_file_on_abort),
        cmocka_unit_test(npy_round_trip_and_numpy_header),
        cmocka_unit_test(npy_bad_files),
        cmocka_unit_test(tsv_read_and_write),
        cmocka_unit_test(ckpt_many_names_parse_in_linear_time),
        cmocka_unit_test(ckpt_repeated_names_and_impossible_counts),
        cmocka_unit_test(model_loaders_check_tensors_before_allocating),
        cmocka_unit_test(npy_every_dtype_literal_bytes),
        cmocka_unit_test(npy_fortran_order_is_transposed_into_c_order),
        cmocka_unit_test(npy_header_versions_and_bad_headers),
        cmocka_unit_test(npy_every_truncation_and_flip),
        cmocka_unit_test(npz_archives),
        cmocka_unit_test(representations_from_numpy_files),
        cmocka_unit_test(npz_every_truncation_and_flip),
        cmocka_unit_test(inflate_hand_streams),
        cmocka_unit_test(inflate_every_truncation_and_flip),
        cmocka_unit_test(npz_deflated_entry),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) rc = rc ? rc : 1;
    return rc;
}
