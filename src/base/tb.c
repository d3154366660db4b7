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

char *tb_vstrf(const char *fmt, va_list ap) {
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s) vsnprintf(s, (size_t)n + 1, fmt, again);
    va_end(again);
    return s;
}

char *tb_strf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = tb_vstrf(fmt, ap);
    va_end(ap);
    return s;
}
