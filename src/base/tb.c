/* tb.c -- the shared error convention (see include/tb.h). */
#include "tb.h"
#include <stdarg.h>
#include <stdio.h>

int tb_fail(char *err, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, TB_ERRLEN, fmt, ap);
        va_end(ap);
    }
    return -1;
}
