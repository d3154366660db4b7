/* test_io.c -- checkpoints, .npy and TSV: round trips, and every way a file can be bad.
 *
 * The corruption tests are exhaustive on a small checkpoint: every truncation length
 * and every single-byte flip must give an error (never a crash, never success).  A
 * flip is always caught because the CRC-32 detects every single-byte error. */
#include "io.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
    hand_npy(p, "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", 8);
    assert_int_equal(npy_read(p, &a, err), -1);
    assert_non_null(strstr(err, "dtype '<i4' is not supported"));
    hand_npy(p, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 8);
    assert_int_equal(npy_read(p, &a, err), -1);
    assert_non_null(strstr(err, "'>f4'"));
    hand_npy(p, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", 16);
    assert_int_equal(npy_read(p, &a, err), -1);
    assert_non_null(strstr(err, "Fortran"));
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
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) rc = rc ? rc : 1;
    return rc;
}
