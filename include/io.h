/* io.h -- the files tinybrain writes and reads: checkpoints, .npy/.npz arrays, TSV tables.
 *
 * Writers never leave a half file: they write "<path>.tmp.<pid>", flush, fsync and
 * rename over the target.  Readers validate every field and report the first problem
 * as one line naming the file ("runs/x.ckpt: CRC mismatch (file is corrupt)").
 *
 * Checkpoint container (little-endian), lesson 08 shows one being written:
 *   magic "TBCKPT\0\1" (8 bytes) | u32 format version (1) | u32 kind length | kind
 *   u32 n_config | n_config x (u32 klen, key, u32 vlen, value)      -- text pairs
 *   u32 n_tensors | n_tensors x (u32 nlen, name, u32 ndim, ndim x i64 shape,
 *                                 float32 data[prod(shape)])
 *   u32 CRC-32 (IEEE) of every byte after the magic and before the CRC.
 */
#ifndef TB_IO_H
#define TB_IO_H

#include "tb.h"
#include <stdint.h>
#include <stdio.h>

#define CKPT_MAX_DIM 4

/* ---- atomic writes ------------------------------------------------------- */
typedef struct { FILE *f; char path[1024]; char tmp[1100]; } tb_atomic;
/* Open a temporary file next to `path` (creating parent folders). */
int  atomic_begin(tb_atomic *a, const char *path, char *err);
/* Flush, fsync, close and rename over `path`.  On failure the temp file is removed. */
int  atomic_commit(tb_atomic *a, char *err);
/* Give up: close and remove the temporary file. */
void atomic_abort(tb_atomic *a);
/* Write a whole text buffer atomically. */
int  write_text_file(const char *path, const char *text, char *err);
/* Read a whole file into a NUL-terminated malloc'd buffer (*len excludes the NUL). */
int  read_file(const char *path, char **data, size_t *len, char *err);
/* mkdir -p */
int  make_dirs(const char *dir, char *err);

uint32_t crc32_update(uint32_t crc, const void *data, size_t n); /* start with crc = 0 */

/* ---- checkpoints --------------------------------------------------------- */
typedef struct {
    char name[64];
    int ndim;
    int64_t shape[CKPT_MAX_DIM];
    int64_t size;   /* prod(shape) */
    float *data;    /* owned by the checkpoint */
} tb_tensor;

typedef struct {
    char kind[32];          /* "gpt", "snn", ... */
    int n_config;
    char **keys, **values;  /* owned */
    int n_tensors;
    tb_tensor *tensors;     /* owned */
} tb_ckpt;

void ckpt_init(tb_ckpt *c, const char *kind);
void ckpt_free(tb_ckpt *c);
/* Set (or replace) a config value; copies both strings. */
int  ckpt_set(tb_ckpt *c, const char *key, const char *value);
int  ckpt_set_int(tb_ckpt *c, const char *key, long long value);
int  ckpt_set_double(tb_ckpt *c, const char *key, double value); /* %.17g: exact round trip */
/* NULL when absent. */
const char *ckpt_get(const tb_ckpt *c, const char *key);
/* Required values: -1 with "FILE-less" err "config key 'x' missing/not an integer". */
int  ckpt_get_int(const tb_ckpt *c, const char *key, long long *out, char *err);
int  ckpt_get_double(const tb_ckpt *c, const char *key, double *out, char *err);
/* Add a tensor (copies data). */
int  ckpt_add_tensor(tb_ckpt *c, const char *name, const float *data, int ndim,
                     const int64_t *shape);
const tb_tensor *ckpt_find(const tb_ckpt *c, const char *name);
/* 0 when tensor `name` is present with exactly this shape, else -1 with the message
 * below: lets a model loader check every tensor before it allocates anything. */
int  ckpt_check_tensor(const tb_ckpt *c, const char *name, int ndim, const int64_t *shape,
                       char *err);
/* Copy tensor `name` into dst after checking its shape equals the expected one:
 * "tensor 'wte' has shape [64,128], expected [65,128]". */
int  ckpt_read_tensor(const tb_ckpt *c, const char *name, float *dst, int ndim,
                      const int64_t *shape, char *err);
int  ckpt_save(const tb_ckpt *c, const char *path, char *err);
/* expect_kind: NULL accepts any kind; otherwise a different kind is an error
 * ("runs/x.ckpt: is a 'snn' checkpoint, expected 'gpt'").
 * Reading is linear in the file and bounded by it: the CRC is checked before any field
 * is trusted, every count and shape is checked against the bytes left before anything
 * is allocated, and a name that appears twice is an error. */
int  ckpt_load(tb_ckpt *c, const char *path, const char *expect_kind, char *err);
/* The same from bytes in memory; `name` stands for the file in error messages. */
int  ckpt_parse_buf(tb_ckpt *c, const void *data, size_t len, const char *name,
                    const char *expect_kind, char *err);

/* ---- arrays: .npy, .npz, numeric TSV ------------------------------------- *
 * Read: .npy format 1.0/2.0/3.0 in C or Fortran order (np.save(X.T), X[:, idx]);
 * dtypes float32/float64, int8..int64, uint8..uint64 and bool, little- or big-endian;
 * every value promoted to float64 (integers above 2^53 round) and stored in C order.
 * .npz: the zip archives np.savez (stored entries) and np.savez_compressed (deflated
 * entries) write.  Written: float32/float64, C order, little-endian (what every numpy
 * reads). */
typedef struct {
    int ndim;
    int64_t shape[8];
    int64_t size;
    double *data;   /* [shape] in C order, promoted to float64; owned */
    int src_bytes;  /* bytes per element in the file (1, 2, 4 or 8) */
    char dtype[4];  /* the file's dtype without byte order: "f4" "f8" "i1".."i8" "u1".."u8" "b1" */
} tb_array;

int  npy_write_f32(const char *path, const float *data, int ndim, const int64_t *shape, char *err);
int  npy_write_f64(const char *path, const double *data, int ndim, const int64_t *shape, char *err);
/* Other dtypes, truncation, bad headers: one-line error naming the file. */
int  npy_read(const char *path, tb_array *out, char *err);
int  npy_parse_buf(const void *data, size_t len, const char *name, tb_array *out, char *err);
void array_free(tb_array *a);

/* Every array of an .npz archive, in archive order; names[i] is the key np.load gives
 * (the entry name without ".npy"). */
typedef struct {
    int n;
    char **names;      /* [n] owned */
    tb_array *arrays;  /* [n] owned */
} tb_npz;
int  npz_read(const char *path, tb_npz *out, char *err);
int  npz_parse_buf(const void *data, size_t len, const char *name, tb_npz *out, char *err);
void npz_free(tb_npz *z);

/* DEFLATE (RFC 1951, as in zip files) of in[n] into exactly `size` bytes at out: 0, or -1
 * when the stream is damaged or does not decode to exactly `size` bytes (io_inflate.c). */
int  inflate_raw(const unsigned char *in, size_t n, unsigned char *out, size_t size);

/* Any one array, told apart by its content rather than its name: .npy, an .npz holding
 * exactly one array, or a numeric TSV table. */
int  array_read(const char *path, tb_array *out, char *err);

/* ---- TSV tables ---------------------------------------------------------- */
/* Read a numeric TSV (tabs or spaces; an optional first header row of non-numbers is
 * skipped; '#' lines are comments) into a 2-D array [rows, cols].  Ragged rows,
 * non-numbers, NaN/inf and binary files are errors naming the line and column. */
int  tsv_read_matrix(const char *path, tb_array *out, char *err);
int  tsv_parse_buf(const char *text, size_t len, const char *name, tb_array *out, char *err);
/* Write a table of text cells: header[ncols] then rows x ncols cells (row-major). */
int  tsv_write(const char *path, int ncols, const char *const *header, int nrows,
               const char *const *cells, char *err);

#endif
