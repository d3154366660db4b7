/* tb.c -- the shared error convention (see include/tb.h). */
#include "tb.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int tb_fail(char *err, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, TB_ERRLEN, fmt, ap);
        va_end(ap);
    }
    return -1;
}

char *tb_strf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return NULL;
    char *s = malloc((size_t)n + 1);
    if (!s) return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}
