/* seeds.c -- writes the binary seeds of tests/fuzz/corpus/ (checkpoints, .npy, .npz)
 * from the library itself, so they are real files of today's formats:
 *   sh tests/fuzz/run.sh --seeds
 * Text seeds (TSV, corpus, stimuli, CLI) are written by hand and live beside them. */
#include "gpt.h"
#include "io.h"
#include "srnn.h"
#include "tokenizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char err[TB_ERRLEN];

static void check(int rc) {
    if (rc) { fprintf(stderr, "seeds: %s\n", err); exit(1); }
}

static void tiny_tokenizer(tb_tokenizer *tok) {
    static const char *const words[] = {".", "the", "cat", "sees"};
    check(tok_from_list(tok, TOK_WORD, words, 4, err));
}

static void gpt_seed(const char *path, int tied, gpt_norm norm, gpt_pos pos) {
    gpt_config g;
    gpt_default_config(&g);
    g.vocab_size = 4; g.ctx = 3; g.n_layer = 1; g.n_head = 1; g.d_model = 2; g.mlp_ratio = 1;
    g.tied = tied; g.norm = norm; g.pos = pos;
    gpt_model m;
    tb_tokenizer tok;
    tb_ckpt c;
    ckpt_init(&c, "gpt");
    tiny_tokenizer(&tok);
    check(gpt_init(&m, &g, err) || gpt_to_ckpt(&m, &c, err) || tok_save(&tok, &c, err) ||
          ckpt_save(&c, path, err));
    gpt_free(&m);
    tok_free(&tok);
    ckpt_free(&c);
}

static void srnn_seed(const char *path, double p_conn) {
    srnn_config g;
    srnn_default_config(&g);
    g.vocab_size = 4; g.n_neurons = 3; g.p_conn = p_conn;
    srnn_model m;
    tb_tokenizer tok;
    tiny_tokenizer(&tok);
    check(srnn_init(&m, &g, err) || srnn_save_file(&m, &tok, path, err));
    srnn_free(&m);
    tok_free(&tok);
}

static void notes_seed(const char *path) {
    tb_ckpt c;
    ckpt_init(&c, "notes");
    float x[6] = {1, -2, 0.5f, 0, 3, 4};
    int64_t s2[2] = {2, 3}, s4[4] = {1, 1, 2, 3}, s0[1] = {0};
    check(ckpt_set(&c, "step", "12") || ckpt_set(&c, "name", "run") ||
          ckpt_add_tensor(&c, "x", x, 2, s2) || ckpt_add_tensor(&c, "y", x, 4, s4) ||
          ckpt_add_tensor(&c, "empty", x, 1, s0) || ckpt_save(&c, path, err));
    ckpt_free(&c);
}

/* A .npy by hand: dict, then the data bytes. */
static size_t npy_mem(unsigned char *b, const char *dict, const void *data, size_t n) {
    size_t hl = strlen(dict), pad = (64 - (10 + hl + 1) % 64) % 64, h = hl + pad + 1;
    memcpy(b, "\x93NUMPY\x01\x00", 8);
    b[8] = (unsigned char)h;
    b[9] = (unsigned char)(h >> 8);
    memcpy(b + 10, dict, hl);
    memset(b + 10 + hl, ' ', pad);
    b[10 + hl + pad] = '\n';
    memcpy(b + 10 + h, data, n);
    return 10 + h + n;
}

static void put_file(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n) { fprintf(stderr, "seeds: cannot write %s\n", path); exit(1); }
    fclose(f);
}

static void npy_seeds(const char *dir) {
    static const struct { const char *file, *dict; size_t n; } s[] = {
        {"f4_c.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 24},
        {"f8_be_f.npy", "{'descr': '>f8', 'fortran_order': True, 'shape': (3, 2), }", 48},
        {"i2_be_f3.npy", "{'descr': '>i2', 'fortran_order': True, 'shape': (2, 2, 2), }", 16},
        {"u1.npy", "{'descr': '|u1', 'fortran_order': False, 'shape': (5,), }", 5},
        {"b1.npy", "{'descr': '|b1', 'fortran_order': False, 'shape': (2, 2), }", 4},
        {"i8_0d.npy", "{'descr': '<i8', 'fortran_order': False, 'shape': (), }", 8},
        {"empty.npy", "{'descr': '<u4', 'fortran_order': True, 'shape': (0, 3), }", 0},
    };
    unsigned char data[64], buf[512];
    for (int i = 0; i < 64; i++) data[i] = (unsigned char)(i * 37 + 1);
    char path[512];
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        snprintf(path, sizeof path, "%.400s/%s", dir, s[i].file);
        put_file(path, buf, npy_mem(buf, s[i].dict, data, s[i].n));
    }
}

static void le(unsigned char *p, uint64_t x, int n) {
    for (int k = 0; k < n; k++) p[k] = (unsigned char)(x >> (8 * k));
}

/* np.savez's layout: stored entries; local headers with a zip64 extra (as numpy
 * writes them), a central directory without one. */
static void npz_seed(const char *path) {
    unsigned char a[256], b[256], z[2048];
    float fa[4] = {1, 2, 3, 4};
    int16_t ib[3] = {-1, 0, 7};
    size_t na = npy_mem(a, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", fa, sizeof fa);
    size_t nb = npy_mem(b, "{'descr': '<i2', 'fortran_order': True, 'shape': (3,), }", ib, sizeof ib);
    const unsigned char *data[2] = {a, b};
    size_t len[2] = {na, nb}, off[2], o = 0;
    const char *name[2] = {"a.npy", "layer_b.npy"};
    for (int i = 0; i < 2; i++) {
        uint32_t crc = crc32_update(0, data[i], len[i]);
        size_t nl = strlen(name[i]);
        off[i] = o;
        memset(z + o, 0, 30);
        le(z + o, 0x04034b50u, 4); le(z + o + 4, 20, 2); le(z + o + 14, crc, 4);
        le(z + o + 18, 0xFFFFFFFFu, 4); le(z + o + 22, 0xFFFFFFFFu, 4);
        le(z + o + 26, nl, 2); le(z + o + 28, 20, 2);
        memcpy(z + o + 30, name[i], nl);
        o += 30 + nl;
        le(z + o, 1, 2); le(z + o + 2, 16, 2); le(z + o + 4, len[i], 8); le(z + o + 12, len[i], 8);
        o += 20;
        memcpy(z + o, data[i], len[i]);
        o += len[i];
    }
    size_t dir = o;
    for (int i = 0; i < 2; i++) {
        size_t nl = strlen(name[i]);
        memset(z + o, 0, 46);
        le(z + o, 0x02014b50u, 4); le(z + o + 4, 20, 2); le(z + o + 6, 20, 2);
        le(z + o + 16, crc32_update(0, data[i], len[i]), 4);
        le(z + o + 20, len[i], 4); le(z + o + 24, len[i], 4); le(z + o + 28, nl, 2);
        le(z + o + 42, off[i], 4);
        memcpy(z + o + 46, name[i], nl);
        o += 46 + nl;
    }
    memset(z + o, 0, 22);
    le(z + o, 0x06054b50u, 4); le(z + o + 8, 2, 2); le(z + o + 10, 2, 2);
    le(z + o + 12, o - dir, 4); le(z + o + 16, dir, 4);
    put_file(path, z, o + 22);
}

int main(int argc, char **argv) {
    const char *root = argc > 1 ? argv[1] : "tests/fuzz/corpus";
    char p[512];
    snprintf(p, sizeof p, "%s/ckpt/gpt_tied.ckpt", root);
    gpt_seed(p, 1, GPT_NORM_LAYER, GPT_POS_LEARNED);
    snprintf(p, sizeof p, "%s/ckpt/gpt_untied_rms_sin.ckpt", root);
    gpt_seed(p, 0, GPT_NORM_RMS, GPT_POS_SINUSOIDAL);
    snprintf(p, sizeof p, "%s/ckpt/srnn_sparse.ckpt", root);
    srnn_seed(p, 0.5);
    snprintf(p, sizeof p, "%s/ckpt/srnn_dense.ckpt", root);
    srnn_seed(p, 1.0);
    snprintf(p, sizeof p, "%s/ckpt/notes.ckpt", root);
    notes_seed(p);
    snprintf(p, sizeof p, "%s/npy", root);
    npy_seeds(p);
    snprintf(p, sizeof p, "%s/npz/two_arrays.npz", root);
    npz_seed(p);
    return 0;
}
