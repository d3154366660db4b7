/* io_inflate.c -- DEFLATE decompression (RFC 1951), so that `.npz` archives written by
 * np.savez_compressed can be read without a compression library (see io.h).
 *
 * A DEFLATE stream is a series of blocks.  Each is stored (raw bytes), or a sequence of
 * symbols coded with canonical Huffman codes: a literal byte, the end of the block, or
 * a (length, distance) pair meaning "copy `length` bytes from `distance` bytes back".
 * The codes are either the fixed ones of the RFC or sent at the start of the block,
 * themselves coded.  Every read is bounds-checked: a damaged stream is an error, and
 * the output never grows past the size the archive recorded. */
#include "io.h"

#include <string.h>

typedef struct {
    const unsigned char *in;
    size_t n, pos;
    uint32_t bitbuf;
    int bitcnt;
    unsigned char *out;
    size_t cap, len;
} inflater;

/* The next `need` bits (0..13), least significant first; -1 at the end of the input. */
static int bits(inflater *s, int need, int *v) {
    while (s->bitcnt < need) {
        if (s->pos == s->n) return -1;
        s->bitbuf |= (uint32_t)s->in[s->pos++] << s->bitcnt;
        s->bitcnt += 8;
    }
    *v = (int)(s->bitbuf & ((1u << need) - 1));
    s->bitbuf >>= need;
    s->bitcnt -= need;
    return 0;
}

/* A canonical Huffman code: how many codes of each length 1..15, and the symbols in
 * code order (by length, then by symbol value). */
typedef struct { short count[16]; short symbol[288]; } huffman;

/* From code lengths len[n] (0 = unused).  -1 when more codes are given than the
 * lengths can hold; an incomplete code is allowed (its unused codes fail to decode). */
static int huff_build(huffman *h, const unsigned char *len, int n) {
    short offs[16];
    memset(h->count, 0, sizeof h->count);
    for (int i = 0; i < n; i++) h->count[len[i]]++;
    int left = 1;
    for (int l = 1; l < 16; l++) {
        left = 2 * left - h->count[l];
        if (left < 0) return -1;
    }
    offs[1] = 0;
    for (int l = 1; l < 15; l++) offs[l + 1] = (short)(offs[l] + h->count[l]);
    for (int i = 0; i < n; i++)
        if (len[i]) h->symbol[offs[len[i]]++] = (short)i;
    return 0;
}

/* One symbol, bit by bit: among the codes of length l, the first has the value
 * `first`; a code below first + count[l] is one of them. */
static int huff_decode(inflater *s, const huffman *h) {
    int code = 0, first = 0, index = 0;
    for (int l = 1; l < 16; l++) {
        int b;
        if (bits(s, 1, &b)) return -1;
        code |= b;
        if (code - first < h->count[l]) return h->symbol[index + code - first];
        index += h->count[l];
        first = (first + h->count[l]) << 1;
        code <<= 1;
    }
    return -1;
}

static int put_byte(inflater *s, int c) {
    if (s->len == s->cap) return -1;
    s->out[s->len++] = (unsigned char)c;
    return 0;
}

/* A stored block: byte-aligned LEN, its complement NLEN, then LEN raw bytes. */
static int stored_block(inflater *s) {
    s->bitbuf = 0;
    s->bitcnt = 0;
    if (s->n - s->pos < 4) return -1;
    size_t len = (size_t)s->in[s->pos] | (size_t)s->in[s->pos + 1] << 8;
    size_t nlen = (size_t)s->in[s->pos + 2] | (size_t)s->in[s->pos + 3] << 8;
    s->pos += 4;
    if (len != (~nlen & 0xFFFF) || len > s->n - s->pos || len > s->cap - s->len) return -1;
    memcpy(s->out + s->len, s->in + s->pos, len);
    s->pos += len;
    s->len += len;
    return 0;
}

/* Symbols until the end of the block: 0..255 literal, 256 end, 257..285 a length
 * (base + extra bits) followed by a distance code (base + extra bits). */
static int coded_block(inflater *s, const huffman *lencode, const huffman *distcode) {
    static const short lbase[29] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
                                    35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
    static const short lext[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
                                   3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
    static const int dbase[30] = {1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129,
                                  193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097,
                                  6145, 8193, 12289, 16385, 24577};
    static const short dext[30] = {0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6,
                                   6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
    for (;;) {
        int sym = huff_decode(s, lencode), x;
        if (sym < 0) return -1;
        if (sym < 256) {
            if (put_byte(s, sym)) return -1;
            continue;
        }
        if (sym == 256) return 0;
        sym -= 257;
        if (sym >= 29 || bits(s, lext[sym], &x)) return -1;
        size_t len = (size_t)(lbase[sym] + x);
        int dsym = huff_decode(s, distcode);
        if (dsym < 0 || dsym >= 30 || bits(s, dext[dsym], &x)) return -1;
        size_t dist = (size_t)(dbase[dsym] + x);
        if (dist > s->len || len > s->cap - s->len) return -1;
        for (size_t i = 0; i < len; i++, s->len++) s->out[s->len] = s->out[s->len - dist];
    }
}

/* The fixed codes: literal/length lengths 8 (0-143), 9 (144-255), 7 (256-279),
 * 8 (280-287); 30 distance codes of 5 bits. */
static int fixed_block(inflater *s) {
    unsigned char len[288];
    huffman lencode, distcode;
    memset(len, 8, 144);
    memset(len + 144, 9, 112);
    memset(len + 256, 7, 24);
    memset(len + 280, 8, 8);
    huff_build(&lencode, len, 288);
    memset(len, 5, 30);
    huff_build(&distcode, len, 30);
    return coded_block(s, &lencode, &distcode);
}

/* The lengths of hlit + hdist codes, themselves coded by a code-length code:
 * 0..15 a length, 16 repeat the previous 3-6 times, 17/18 zeros 3-10 / 11-138 times. */
static int read_lengths(inflater *s, const huffman *lencode, unsigned char *len, int n) {
    for (int i = 0; i < n;) {
        int sym = huff_decode(s, lencode), rep, x, v = 0;
        if (sym < 0) return -1;
        if (sym < 16) { len[i++] = (unsigned char)sym; continue; }
        if (sym == 16) {
            if (i == 0 || bits(s, 2, &x)) return -1;
            v = len[i - 1];
            rep = 3 + x;
        } else if (sym == 17) {
            if (bits(s, 3, &x)) return -1;
            rep = 3 + x;
        } else {
            if (bits(s, 7, &x)) return -1;
            rep = 11 + x;
        }
        if (rep > n - i) return -1;
        memset(len + i, v, (size_t)rep);
        i += rep;
    }
    return 0;
}

static int dynamic_block(inflater *s) {
    static const unsigned char order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
    unsigned char len[320];
    huffman lencode, distcode;
    int hlit, hdist, hclen, x;
    if (bits(s, 5, &hlit) || bits(s, 5, &hdist) || bits(s, 4, &hclen)) return -1;
    hlit += 257;
    hdist += 1;
    hclen += 4;
    if (hlit > 286 || hdist > 30) return -1;
    memset(len, 0, 19);
    for (int i = 0; i < hclen; i++) {
        if (bits(s, 3, &x)) return -1;
        len[order[i]] = (unsigned char)x;
    }
    if (huff_build(&lencode, len, 19) || read_lengths(s, &lencode, len, hlit + hdist)) return -1;
    if (len[256] == 0) return -1; /* no end-of-block code */
    if (huff_build(&lencode, len, hlit) || huff_build(&distcode, len + hlit, hdist)) return -1;
    return coded_block(s, &lencode, &distcode);
}

int inflate_raw(const unsigned char *in, size_t n, unsigned char *out, size_t size) {
    inflater s = {in, n, 0, 0, 0, out, size, 0};
    int last = 0, type;
    while (!last) {
        if (bits(&s, 1, &last) || bits(&s, 2, &type)) return -1;
        int rc = type == 0 ? stored_block(&s) : type == 1 ? fixed_block(&s)
               : type == 2 ? dynamic_block(&s) : -1;
        if (rc) return -1;
    }
    return s.len == size ? 0 : -1;
}
