/* report.h -- one self-contained HTML page about a run: its commands, its configuration,
 * its numbers and every picture, inlined (base64 PNG), so the file opens offline, can be
 * mailed, and never points at a file that moved.  `tinybrain report RUN_DIR` writes one
 * (README "Reports"); the study builds its page with the same calls.
 *
 * Build a page by hand:
 *
 *     tb_report r;
 *     report_begin(&r, "my run");
 *     report_h2(&r, "Loss");
 *     report_png(&r, "plots/gpt_loss.png", "training loss", err);
 *     report_pre(&r, "tinybrain train --steps 300");
 *     if (report_finish(&r, "runs/gpt/report.html", err)) ...   (atomic write; frees r)
 *
 * Text is escaped (&, <, >, "); nothing on the page loads from elsewhere (no scripts,
 * fonts or links), so a browser shows it the same with or without a network.  A builder
 * that ran out of memory fails at report_finish. */
#ifndef TB_REPORT_H
#define TB_REPORT_H

#include <stddef.h>

typedef struct {
    char *buf;
    size_t len, cap;
    int failed;           /* out of memory on the way (report_finish says so) */
    int n_pictures, n_tables;
} tb_report;

void report_begin(tb_report *r, const char *title);
void report_h2(tb_report *r, const char *text);
void report_p(tb_report *r, const char *text);
void report_pre(tb_report *r, const char *text);
/* A table of rows x cols cells (row 0: the header), each cell escaped. */
void report_table(tb_report *r, const char *const *cells, int rows, int cols);
/* A TSV file (header row first) as a table; more than max_rows data rows are thinned to
 * max_rows evenly spaced ones, the first and the last kept, and the page says so. */
int  report_tsv(tb_report *r, const char *path, int max_rows, char *err);
/* A PNG file inlined as a data: URI under a caption; its size is checked to be a PNG. */
int  report_png(tb_report *r, const char *path, const char *caption, char *err);
/* Close the page and write it to path atomically; frees r either way. */
int  report_finish(tb_report *r, const char *path, char *err);
void report_free(tb_report *r);

/* Base64 (RFC 4648, with padding) of in[n] into out (4 ceil(n / 3) + 1 bytes). */
void report_base64(const unsigned char *in, size_t n, char *out);

/* The page of a run folder DIR (e.g. runs/gpt, runs/rec/snn, runs/compare) written to
 * out: the commands that made it (DIR/commands.sh), the configuration of its checkpoint
 * (DIR/../NAME.ckpt beside the folder, else its last step_*.ckpt), its numbers (every
 * .json in DIR, every .tsv in DIR and DIR/../NAME.tsv) and its pictures (every .png in
 * DIR and plots/NAME_*.png), each with the gnuplot script that drew it when there is
 * one.  *n_pictures and *n_tables tell what went in. */
int  report_run(const char *dir, const char *out, int *n_pictures, int *n_tables, char *err);

#endif
