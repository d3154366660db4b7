/* report.c -- a run as one self-contained HTML page (see include/report.h; README
 * "Reports").  The page is built in memory as escaped text, pictures go in as base64
 * data: URIs, and the file is written atomically like every other output. */
#include "report.h"
#include "io.h"
#include "tb.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- the growing page -------------------------------------------------------------- */

static void put(tb_report *r, const char *s, size_t n) {
    if (r->failed) return;
    if (r->len + n + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        while (cap < r->len + n + 1) cap *= 2;
        char *b = realloc(r->buf, cap);
        if (!b) { r->failed = 1; return; }
        r->buf = b;
        r->cap = cap;
    }
    memcpy(r->buf + r->len, s, n);
    r->len += n;
    r->buf[r->len] = 0;
}

static void puts_raw(tb_report *r, const char *s) { put(r, s, strlen(s)); }

/* Text as HTML: the four characters that could open markup or end an attribute. */
static void put_esc(tb_report *r, const char *s) {
    for (const char *p = s; *p; p++) {
        const char *e = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" : *p == '>' ? "&gt;" : *p == '"' ? "&quot;" : NULL;
        if (e) puts_raw(r, e);
        else put(r, p, 1);
    }
}

/* <tag attributes>escaped text</tag> */
static void element(tb_report *r, const char *tag, const char *text) {
    puts_raw(r, "<");
    puts_raw(r, tag);
    puts_raw(r, ">");
    put_esc(r, text);
    puts_raw(r, "</");
    put(r, tag, strcspn(tag, " "));
    puts_raw(r, ">\n");
}

void report_begin(tb_report *r, const char *title) {
    memset(r, 0, sizeof *r);
    puts_raw(r, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    element(r, "title", title);
    puts_raw(r, "<style>\n"
                "body { font-family: sans-serif; max-width: 60em; margin: 2em auto; padding: 0 1em; color: #222; }\n"
                "h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }\n"
                "pre { background: #f4f4f4; padding: 0.6em; overflow-x: auto; }\n"
                "table { border-collapse: collapse; font-size: 0.9em; margin: 0.5em 0; }\n"
                "td, th { border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: left; }\n"
                "th { background: #eee; } td.n { text-align: right; }\n"
                "img { max-width: 100%; border: 1px solid #ddd; }\n"
                "figcaption { font-size: 0.9em; color: #555; }\n"
                "</style>\n</head>\n<body>\n");
    element(r, "h1", title);
}

void report_h2(tb_report *r, const char *text) { element(r, "h2", text); }
void report_p(tb_report *r, const char *text) { element(r, "p", text); }
void report_pre(tb_report *r, const char *text) { element(r, "pre", text); }

/* 1 if the whole of s reads as a number (such cells are right-aligned). */
static int numeric(const char *s) {
    char *end;
    if (!*s) return 0;
    (void)strtod(s, &end);
    return *end == 0;
}

void report_table(tb_report *r, const char *const *cells, int rows, int cols) {
    puts_raw(r, "<table>\n");
    for (int i = 0; i < rows; i++) {
        puts_raw(r, "<tr>");
        for (int j = 0; j < cols; j++) {
            const char *c = cells[(size_t)i * cols + j] ? cells[(size_t)i * cols + j] : "";
            element(r, !i ? "th" : numeric(c) ? "td class=\"n\"" : "td", c);
        }
        puts_raw(r, "</tr>\n");
    }
    puts_raw(r, "</table>\n");
    r->n_tables++;
}

void report_free(tb_report *r) {
    free(r->buf);
    memset(r, 0, sizeof *r);
}

int report_finish(tb_report *r, const char *path, char *err) {
    puts_raw(r, "</body>\n</html>\n");
    int rc = r->failed ? tb_fail(err, "%s: out of memory building the page", path) : write_text_file(path, r->buf, err);
    report_free(r);
    return rc;
}

/* ---- pictures ------------------------------------------------------------------------ */

void report_base64(const unsigned char *in, size_t n, char *out) {
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
        out[o++] = abc[v >> 18 & 63];
        out[o++] = abc[v >> 12 & 63];
        out[o++] = i + 1 < n ? abc[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? abc[v & 63] : '=';
    }
    out[o] = 0;
}

/* Width and height from a PNG's IHDR chunk; -1 when the bytes are not a PNG. */
static int png_size(const unsigned char *d, size_t n, long *w, long *h) {
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (n < 24 || memcmp(d, sig, 8) || memcmp(d + 12, "IHDR", 4)) return -1;
    *w = (long)d[16] << 24 | (long)d[17] << 16 | (long)d[18] << 8 | d[19];
    *h = (long)d[20] << 24 | (long)d[21] << 16 | (long)d[22] << 8 | d[23];
    return 0;
}

int report_png(tb_report *r, const char *path, const char *caption, char *err) {
    char *data;
    size_t n;
    long w, h;
    if (read_file(path, &data, &n, err)) return -1;
    if (png_size((const unsigned char *)data, n, &w, &h)) { free(data); return tb_fail(err, "%s: not a PNG file", path); }
    char *b64 = malloc(4 * ((n + 2) / 3) + 1);
    if (!b64) { free(data); return tb_fail(err, "out of memory"); }
    report_base64((const unsigned char *)data, n, b64);
    char dims[64];
    snprintf(dims, sizeof dims, " (%ld x %ld)", w, h);
    puts_raw(r, "<figure>\n<img alt=\"");
    put_esc(r, caption);
    puts_raw(r, "\" src=\"data:image/png;base64,");
    puts_raw(r, b64);
    puts_raw(r, "\">\n<figcaption>");
    put_esc(r, caption);
    put_esc(r, dims);
    puts_raw(r, "</figcaption>\n</figure>\n");
    r->n_pictures++;
    free(b64);
    free(data);
    return 0;
}

/* ---- tables from TSV files ------------------------------------------------------------- */

/* Split text into lines (in place, empty ones dropped); *lines malloc'd. */
static int split_lines(char *text, char ***lines, int *n) {
    int cap = 64;
    *n = 0;
    *lines = malloc((size_t)cap * sizeof **lines);
    if (!*lines) return -1;
    for (char *p = strtok(text, "\r\n"); p; p = strtok(NULL, "\r\n")) {
        if (*n == cap) {
            char **t = realloc(*lines, (size_t)(cap *= 2) * sizeof **lines);
            if (!t) { free(*lines); *lines = NULL; return -1; }
            *lines = t;
        }
        (*lines)[(*n)++] = p;
    }
    return 0;
}

/* Row k of the kept rows: k evenly spaced over data rows 1..n-1, the first and last kept. */
static int kept_row(int k, int kept, int n) { return kept <= 1 ? 1 : 1 + (int)((long long)k * (n - 2) / (kept - 1)); }

int report_tsv(tb_report *r, const char *path, int max_rows, char *err) {
    char *text, **lines;
    size_t len;
    int n;
    if (read_file(path, &text, &len, err)) return -1;
    if (split_lines(text, &lines, &n)) { free(text); return tb_fail(err, "out of memory"); }
    int cols = 1;
    for (const char *c = n ? lines[0] : ""; *c; c++) cols += *c == '\t';
    int kept = n - 1 < max_rows ? n - 1 : max_rows, rows = n ? 1 + kept : 0;
    const char **cells = calloc((size_t)(rows ? rows : 1) * cols, sizeof *cells);
    if (!cells) { free(lines); free(text); return tb_fail(err, "out of memory"); }
    for (int i = 0; i < rows; i++) {
        char *line = lines[i ? kept_row(i - 1, kept, n) : 0];
        for (int j = 0; j < cols && line; j++) {   /* missing cells stay empty */
            char *tab = strchr(line, '\t');
            if (tab) *tab = 0;
            cells[(size_t)i * cols + j] = line;
            line = tab ? tab + 1 : NULL;
        }
    }
    if (n - 1 > kept) {
        char note[128];
        snprintf(note, sizeof note, "%d of %d rows, evenly spaced (the first and the last kept):", kept, n - 1);
        report_p(r, note);
    }
    if (rows) report_table(r, cells, rows, cols);
    free(cells);
    free(lines);
    free(text);
    return 0;
}

/* ---- a run folder ------------------------------------------------------------------------ */

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The files DIR/PREFIX*SUFFIX in name order, as paths (malloc'd); none: *n = 0. */
static int list_files(const char *dir, const char *prefix, const char *suffix, char ***out, int *n, char *err) {
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return 0;
    int cap = 0, rc = 0;
    struct dirent *de;
    while (!rc && (de = readdir(d))) {
        if (strncmp(de->d_name, prefix, strlen(prefix)) || !ends_with(de->d_name, suffix)) continue;
        if (*n == cap) {
            char **t = realloc(*out, (size_t)(cap = cap ? 2 * cap : 16) * sizeof *t);
            if (!t) { rc = tb_fail(err, "out of memory"); break; }
            *out = t;
        }
        if (!((*out)[*n] = tb_strf("%s/%s", dir, de->d_name))) rc = tb_fail(err, "out of memory");
        else (*n)++;
    }
    closedir(d);
    if (*n > 1) qsort(*out, (size_t)*n, sizeof **out, by_name);
    return rc;
}

static void free_list(char **v, int n) {
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The run's names: its folder's base name and its parent ("runs/gpt" -> "gpt", "runs"). */
typedef struct { char *dir, *name, *parent; } run_names;

static int names_of(const char *dir, run_names *rn, char *err) {
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/') len--;
    rn->dir = tb_strf("%.*s", (int)len, dir);
    const char *slash = rn->dir ? strrchr(rn->dir, '/') : NULL;
    rn->name = rn->dir ? tb_strf("%s", slash ? slash + 1 : rn->dir) : NULL;
    rn->parent = rn->dir ? tb_strf("%.*s", slash ? (int)(slash - rn->dir) : 1, slash ? rn->dir : ".") : NULL;
    if (!rn->dir || !rn->name || !rn->parent) return tb_fail(err, "out of memory");
    return 0;
}

/* Commands: DIR/commands.sh, written by the commands that made the folder. */
static int section_commands(tb_report *r, const run_names *rn, char *err) {
    char *path = tb_strf("%s/commands.sh", rn->dir), *text;
    size_t n;
    if (!path) return tb_fail(err, "out of memory");
    report_h2(r, "Commands");
    if (exists(path) && !read_file(path, &text, &n, err)) {
        report_p(r, "The commands that made this folder, in order (from commands.sh):");
        report_pre(r, text);
        free(text);
    } else {
        report_p(r, "No commands.sh in the folder: the commands that made it were not recorded.");
    }
    free(path);
    return 0;
}

/* Configuration: the checkpoint beside the folder (PARENT/NAME.ckpt), else its last
 * snapshot (step_*.ckpt). */
static int section_config(tb_report *r, const run_names *rn, char *err) {
    char **snaps, *path = tb_strf("%s/%s.ckpt", rn->parent, rn->name);
    int ns;
    if (!path || list_files(rn->dir, "step_", ".ckpt", &snaps, &ns, err)) { free(path); return path ? -1 : tb_fail(err, "out of memory"); }
    const char *use = exists(path) ? path : ns ? snaps[ns - 1] : NULL;
    int rc = 0;
    if (use) {
        tb_ckpt c;
        if ((rc = ckpt_load(&c, use, NULL, err)) == 0) {
            report_h2(r, "Configuration");
            char *intro = tb_strf("%s: a %s checkpoint, %d settings and %d tensors.", use, c.kind, c.n_config, c.n_tensors);
            report_p(r, intro ? intro : use);
            free(intro);
            const char **cells = malloc((size_t)(c.n_config + 1) * 2 * sizeof *cells);
            if (!cells) rc = tb_fail(err, "out of memory");
            for (int i = 0; cells && i <= c.n_config; i++) {
                cells[2 * i] = i ? c.keys[i - 1] : "setting";
                cells[2 * i + 1] = i ? c.values[i - 1] : "value";
            }
            if (cells) report_table(r, cells, c.n_config + 1, 2);
            free(cells);
            ckpt_free(&c);
        }
    }
    free(path);
    free_list(snaps, ns);
    return rc;
}

/* A one-line JSON object with each top-level member on its own line (commas inside
 * strings and nested values stay where they are).  Malloc'd. */
static char *json_lines(const char *s) {
    char *out = malloc(2 * strlen(s) + 1), *o = out;
    int depth = 0, in_str = 0;
    for (const char *p = s; out && *p; p++) {
        *o++ = *p;
        if (in_str) { if (*p == '\\' && p[1]) *o++ = *++p; else if (*p == '"') in_str = 0; continue; }
        if (*p == '"') in_str = 1;
        else if (*p == '{' || *p == '[') depth++;
        else if (*p == '}' || *p == ']') depth--;
        else if (*p == ',' && depth == 1) { *o++ = '\n'; while (p[1] == ' ') p++; }
    }
    if (out) *o = 0;
    return out;
}

/* Numbers: every .json and .tsv in the folder, and the log PARENT/NAME.tsv. */
static int section_numbers(tb_report *r, const run_names *rn, char *err) {
    char **json, **tsv, *log = tb_strf("%s/%s.tsv", rn->parent, rn->name);
    int nj, nt, rc = log ? 0 : tb_fail(err, "out of memory");
    if (rc || list_files(rn->dir, "", ".json", &json, &nj, err)) { free(log); return -1; }
    if (list_files(rn->dir, "", ".tsv", &tsv, &nt, err)) { free(log); free_list(json, nj); return -1; }
    if (nj + nt > 0 || exists(log)) report_h2(r, "Numbers");
    for (int i = 0; i < nj && !rc; i++) {
        char *text, *lines;
        size_t n;
        if ((rc = read_file(json[i], &text, &n, err))) break;
        element(r, "h3", json[i]);
        lines = json_lines(text);
        report_pre(r, lines ? lines : text);
        free(lines);
        free(text);
    }
    for (int i = -1; i < nt && !rc; i++) {
        const char *path = i < 0 ? log : tsv[i];
        if (i < 0 && !exists(log)) continue;
        element(r, "h3", path);
        rc = report_tsv(r, path, 40, err);
    }
    free(log);
    free_list(json, nj);
    free_list(tsv, nt);
    return rc;
}

/* One picture, captioned with its file and, for a gnuplot line plot, the script beside it. */
static int picture(tb_report *r, const char *png, char *err) {
    char *gp = tb_strf("%.*s.gp", (int)(strlen(png) - 4), png);
    if (!gp) return tb_fail(err, "out of memory");
    char *cap = exists(gp) ? tb_strf("%s, drawn by: gnuplot %s", png, gp) : tb_strf("%s", png);
    int rc = cap ? report_png(r, png, cap, err) : tb_fail(err, "out of memory");
    free(cap);
    free(gp);
    return rc;
}

/* Pictures: every .png in the folder and the run's plots (plots/NAME_*.png). */
static int section_pictures(tb_report *r, const run_names *rn, char *err) {
    char **in_dir, **plots, *prefix = tb_strf("%s_", rn->name);
    int nd, np, rc = prefix ? 0 : tb_fail(err, "out of memory");
    if (rc || list_files(rn->dir, "", ".png", &in_dir, &nd, err)) { free(prefix); return -1; }
    if (list_files(TB_PLOTS_DIR, prefix, ".png", &plots, &np, err)) { free(prefix); free_list(in_dir, nd); return -1; }
    if (nd + np > 0) report_h2(r, "Pictures");
    for (int i = 0; i < nd + np && !rc; i++) rc = picture(r, i < nd ? in_dir[i] : plots[i - nd], err);
    free(prefix);
    free_list(in_dir, nd);
    free_list(plots, np);
    return rc;
}

int report_run(const char *dir, const char *out, int *n_pictures, int *n_tables, char *err) {
    struct stat st;
    if (stat(dir, &st) || !S_ISDIR(st.st_mode)) return tb_fail(err, "%s: not a folder (give a run folder such as runs/gpt)", dir);
    run_names rn = {NULL, NULL, NULL};
    tb_report r;
    int rc = names_of(dir, &rn, err);
    char *title = rc ? NULL : tb_strf("tinybrain run %s", rn.dir);
    if (!rc && !title) rc = tb_fail(err, "out of memory");
    if (!rc) {
        report_begin(&r, title);
        rc = section_commands(&r, &rn, err) || section_config(&r, &rn, err) || section_numbers(&r, &rn, err) ||
             section_pictures(&r, &rn, err);
        *n_pictures = r.n_pictures;
        *n_tables = r.n_tables;
        if (rc) report_free(&r);
        else rc = report_finish(&r, out, err);
    }
    free(title);
    free(rn.dir);
    free(rn.name);
    free(rn.parent);
    return rc ? -1 : 0;
}
