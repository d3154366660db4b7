/* io_priv.h -- what io.c and io_arrays.c share: little-endian reads and a safe way to
 * quote a name read from a file, and the check for a repeated name.  The public face is include/io.h. */
#ifndef TB_IO_PRIV_H
#define TB_IO_PRIV_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static inline uint32_t le32(const unsigned char *b) {
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* A name read from a file, fit to quote in a one-line message: control bytes become
 * '?' and a long name is cut with "...". */
static inline const char *printable(char *buf, size_t cap, const char *s) {
    size_t n = 0;
    for (; s[n] && n + 1 < cap; n++) buf[n] = (unsigned char)s[n] < 32 || s[n] == 127 ? '?' : s[n];
    buf[n] = 0;
    if (s[n] && cap > 4) memcpy(buf + cap - 4, "...", 4);
    return buf;
}

static inline int by_name(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The first name that occurs twice among names[n] (sorted in place), or NULL.  Sorting
 * keeps this O(n log n): a file with 100 000 keys is checked as fast as it is read. */
static inline const char *duplicate_name(const char **names, int n) {
    if (n > 1) qsort(names, (size_t)n, sizeof *names, by_name);
    for (int i = 1; i < n; i++)
        if (!strcmp(names[i - 1], names[i])) return names[i];
    return NULL;
}

#endif
