/* test_plot.c -- colormaps, canvas pixels, PNG files and gnuplot output.
 * A PNG is checked by its bytes: the 8-byte signature, then the IHDR chunk whose
 * first two big-endian u32 fields are the width and height. */
#include "io.h"
#include "plot.h"

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
    static char buf[4][600];
    static int k = 0;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static void png_size(const char *path, int *w, int *h) {
    char err[TB_ERRLEN], *b;
    size_t n;
    assert_int_equal(read_file(path, &b, &n, err), 0);
    assert_true(n > 33);
    assert_memory_equal(b, "\x89PNG\r\n\x1a\n", 8);
    assert_memory_equal(b + 12, "IHDR", 4);
    const unsigned char *u = (const unsigned char *)b;
    *w = (int)((unsigned)u[16] << 24 | u[17] << 16 | u[18] << 8 | u[19]);
    *h = (int)((unsigned)u[20] << 24 | u[21] << 16 | u[22] << 8 | u[23]);
    free(b);
}

/* Relative luminance (Rec. 709 weights) of a colormap sample. */
static double lum(tb_cmap m, double t) {
    unsigned char c[3];
    cmap_rgb(m, t, c);
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}

static void colormaps(void **state) {
    (void)state;
    unsigned char c[3];
    cmap_rgb(CMAP_VIRIDIS, 0, c);
    assert_true(c[0] == 68 && c[1] == 1 && c[2] == 84); /* dark purple */
    cmap_rgb(CMAP_VIRIDIS, 1, c);
    assert_true(c[0] == 253 && c[1] == 231 && c[2] == 37); /* yellow */
    cmap_rgb(CMAP_VIRIDIS, 7.0, c); /* clamped */
    assert_true(c[0] == 253);
    cmap_rgb(CMAP_VIRIDIS, NAN, c); /* NaN -> the low end, never garbage */
    assert_true(c[0] == 68);
    cmap_rgb(CMAP_GRAY, 0.5, c);
    assert_true(c[0] == 128 && c[1] == 128 && c[2] == 128);
    cmap_rgb(CMAP_DIVERGING, 0.5, c);
    assert_true(c[0] == 247 && c[1] == 247 && c[2] == 247); /* white in the middle */
    /* perceptual maps get lighter monotonically */
    for (int m = 0; m < 2; m++) {
        tb_cmap map = m ? CMAP_MAGMA : CMAP_VIRIDIS;
        for (int i = 0; i < 100; i++) assert_true(lum(map, (i + 1) / 100.0) >= lum(map, i / 100.0) - 0.5);
    }
}

static int is(const tb_canvas *c, int x, int y, int r, int g, int b) {
    const unsigned char *p = c->px + ((size_t)y * c->w + x) * 3;
    return p[0] == r && p[1] == g && p[2] == b;
}

static void canvas_pixels(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tb_canvas c;
    const unsigned char red[3] = {255, 0, 0}, blk[3] = {0, 0, 0};
    assert_int_equal(canvas_init(&c, 20, 10, err), 0);
    assert_true(is(&c, 0, 0, 255, 255, 255));
    canvas_rect(&c, 18, 8, 5, 5, red); /* clipped at the corner */
    int nred = 0;
    for (int y = 0; y < 10; y++)
        for (int x = 0; x < 20; x++) nred += is(&c, x, y, 255, 0, 0);
    assert_int_equal(nred, 4);
    canvas_line(&c, 0, 0, 5, 5, blk); /* a diagonal: exactly 6 pixels */
    for (int i = 0; i <= 5; i++) assert_true(is(&c, i, i, 0, 0, 0));
    assert_true(is(&c, 1, 0, 255, 255, 255));
    canvas_line(&c, -100, 9, 100, 9, blk); /* off-canvas parts are ignored */
    for (int x = 0; x < 18; x++) assert_true(is(&c, x, 9, 0, 0, 0));
    canvas_free(&c);
    assert_int_equal(canvas_init(&c, 0, 10, err), -1);
    /* text: width is the font's advance; some ink lands inside that box */
    assert_int_equal(canvas_text_width("", 1), 0);
    int w1 = canvas_text_width("Hi", 1);
    assert_true(w1 > 4 && w1 < 20);
    assert_int_equal(canvas_text_width("Hi", 3), 3 * w1);
    assert_int_equal(canvas_init(&c, 40, 20, err), 0);
    assert_int_equal(canvas_text(&c, 2, 2, "Hi", 1, 0, blk), w1);
    int ink = 0;
    for (int y = 0; y < 20; y++)
        for (int x = 0; x < 40; x++)
            if (is(&c, x, y, 0, 0, 0)) {
                ink++;
                assert_true(x >= 2 && x < 2 + w1 && y >= 2 && y < 2 + 10);
            }
    assert_true(ink > 10);
    canvas_free(&c);
}

static void heatmaps(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    float M[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, NAN};
    const char *rl[3] = {"a", "b", "c"}, *cl[4] = {"w", "x", "y", "zzzzzzzzzzzz"};
    tb_heatmap o = {"A title", "columns", "rows", rl, cl, NAN, NAN, CMAP_VIRIDIS, "value", 0};
    int w, h;
    assert_int_equal(plot_heatmap_png(tmp("h.png"), M, 3, 4, &o, err), 0);
    png_size(tmp("h.png"), &w, &h);
    assert_true(w >= 320 && w <= 2000 && h >= 100 && h <= 2000);
    /* constant matrix: vmin == vmax must not divide by zero */
    float Z[4] = {2, 2, 2, 2};
    tb_heatmap z = {"", NULL, NULL, NULL, NULL, NAN, NAN, CMAP_DIVERGING, NULL, 5};
    assert_int_equal(plot_heatmap_png(tmp("z.png"), Z, 2, 2, &z, err), 0);
    const float *mats[3] = {M, M, M};
    const char *titles[3] = {"one", "two", "three"};
    assert_int_equal(plot_heatmap_grid_png(tmp("g.png"), mats, 3, 2, 3, 4, titles, &o, err), 0);
    png_size(tmp("g.png"), &w, &h);
    assert_true(w > 320);
    /* a folder that cannot be created (under a regular file) */
    assert_int_equal(write_text_file(tmp("afile"), "x", err), 0);
    assert_int_equal(plot_heatmap_png(tmp("afile/h.png"), M, 3, 4, &o, err), -1);
    assert_non_null(strstr(err, "afile"));
    assert_int_equal(plot_heatmap_png(tmp("e.png"), M, 0, 4, &o, err), -1);
}

static void line_plots(void **state) {
    (void)state;
    char err[TB_ERRLEN], *s;
    size_t n;
    double x[3] = {1, 2, 3}, y[3] = {0.5, NAN, 0.25}, fx[2] = {1, 3}, fy[2] = {0.1, 0.1};
    tb_series ser[2] = {{"model \"quoted\"", x, y, 3, "linespoints"}, {"floor", fx, fy, 2, "dashed"}};
    tb_lineplot lp = {"Loss: t_post", "step", "nats", 0, 1, NAN, NAN, 0, 0};
    int rendered = -1;
    assert_int_equal(plot_lines(dir, "lp", &lp, ser, 2, &rendered, err), 0);
    assert_int_equal(read_file(tmp("lp.dat"), &s, &n, err), 0);
    assert_non_null(strstr(s, "# model \"quoted\"\n1\t0.5\n2\tNaN\n3\t0.25\n\n\n# floor\n1\t0.1\n3\t0.1\n"));
    free(s);
    assert_int_equal(read_file(tmp("lp.gp"), &s, &n, err), 0);
    assert_non_null(strstr(s, "set title \"Loss: t_post\""));
    assert_non_null(strstr(s, "set xlabel \"step\""));
    assert_non_null(strstr(s, "set logscale y"));
    assert_non_null(strstr(s, "title \"model \\\"quoted\\\"\""));
    assert_non_null(strstr(s, "index 1 using 1:2 with lines lw 2 dt 2"));
    assert_non_null(strstr(s, "noenhanced")); /* t_post must not become a subscript */
    free(s);
    if (plot_have_gnuplot()) {
        assert_int_equal(rendered, 1);
        int w, h;
        png_size(tmp("lp.png"), &w, &h);
        assert_int_equal(w, 800);
        assert_int_equal(h, 500);
    }
    /* Without gnuplot on PATH: data and script stay, nothing rendered, no error. */
    char *old = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
    setenv("PATH", dir, 1);
    assert_int_equal(plot_have_gnuplot(), 0);
    assert_int_equal(plot_lines(dir, "nognu", &lp, ser, 2, &rendered, err), 0);
    assert_int_equal(rendered, 0);
    assert_int_equal(access(tmp("nognu.dat"), F_OK), 0);
    assert_int_equal(access(tmp("nognu.gp"), F_OK), 0);
    assert_int_equal(access(tmp("nognu.png"), F_OK), -1);
    if (old) { setenv("PATH", old, 1); free(old); }
    /* TINYBRAIN_GNUPLOT=0 switches gnuplot off even when it is on PATH */
    char *sw = getenv("TINYBRAIN_GNUPLOT") ? strdup(getenv("TINYBRAIN_GNUPLOT")) : NULL;
    setenv("TINYBRAIN_GNUPLOT", "0", 1);
    assert_int_equal(plot_have_gnuplot(), 0);
    assert_int_equal(plot_lines(dir, "off", &lp, ser, 2, &rendered, err), 0);
    assert_int_equal(rendered, 0);
    assert_int_equal(access(tmp("off.gp"), F_OK), 0);
    assert_int_equal(access(tmp("off.png"), F_OK), -1);
    if (sw) { setenv("TINYBRAIN_GNUPLOT", sw, 1); free(sw); }
    else unsetenv("TINYBRAIN_GNUPLOT");
}

/* A chart maps its data corners onto its pixel corners; axes frame it in black; a trace
 * keeps a one-sample spike as a full-height bar in its pixel column. */
static void charts(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tb_canvas cv;
    assert_int_equal(canvas_init(&cv, 300, 200, err), 0);
    tb_chart c = {60, 30, 101, 51, 0, 100, -1, 1};
    assert_int_equal(chart_px(&c, 0), 60);
    assert_int_equal(chart_px(&c, 100), 160);
    assert_int_equal(chart_px(&c, 50), 110);
    assert_int_equal(chart_py(&c, 1), 30);     /* top */
    assert_int_equal(chart_py(&c, -1), 80);    /* bottom: y + h - 1 */
    assert_int_equal(chart_py(&c, 0), 55);
    chart_axes(&cv, &c, "time (ms)", "v", "title");
    const unsigned char *corner = cv.px + (30 * 300 + 60) * 3;
    assert_true(corner[0] == 0 && corner[1] == 0 && corner[2] == 0);
    /* 1000 samples at -0.5 with one at +1 (sample 500, x = 50): the column of x = 50
     * reaches the top row; a column without the spike stays at -0.5 (row 68) */
    float y[1000];
    for (int k = 0; k < 1000; k++) y[k] = k == 500 ? 1.0f : -0.5f;
    static const unsigned char RED[3] = {255, 0, 0};
    chart_trace(&cv, &c, y, 1000, 0, 0.1, RED);
    int col = chart_px(&c, 50), top = -1, bottom = -1, other = -1;
    for (int row = 31; row < 80; row++) {
        const unsigned char *q = cv.px + (row * 300 + col) * 3;
        if (q[0] == 255 && q[1] == 0) { if (top < 0) top = row; bottom = row; }
        const unsigned char *o = cv.px + (row * 300 + 80) * 3;
        if (o[0] == 255 && o[1] == 0 && other < 0) other = row;
    }
    assert_int_equal(top, 30 + 1);             /* clipped to y1 = 1 (row 30 is the frame) */
    assert_int_equal(bottom, chart_py(&c, -0.5));
    assert_int_equal(other, chart_py(&c, -0.5));
    canvas_free(&cv);
}

/* Pictures named by a prefix: folder and name split at the last '/', the PNG or the
 * gnuplot script reported; too long a path is an error, not a truncated name. */
static void pictures_at_prefix(void **state) {
    (void)state;
    char err[TB_ERRLEN], prefix[400];
    tb_picture pic;
    snprintf(prefix, sizeof prefix, "%s/run", dir);
    double x[3] = {1, 2, 3}, y[3] = {1, 4, 9};
    tb_series s = {"squares", x, y, 3, "lines"};
    tb_lineplot lp = {"t", "x", "y", 0, 0, NAN, NAN, 0, 0};
    assert_int_equal(plot_lines_at(prefix, "_sq", &lp, &s, 1, &pic, err), 0);
    assert_int_equal(access(tmp("run_sq.dat"), F_OK), 0);
    assert_int_equal(access(tmp("run_sq.gp"), F_OK), 0);
    assert_string_equal(pic.path, tmp(pic.rendered ? "run_sq.png" : "run_sq.gp"));
    assert_int_equal(pic.rendered, plot_have_gnuplot());
    tb_canvas cv;
    assert_int_equal(canvas_init(&cv, 40, 30, err), 0);
    assert_int_equal(canvas_save_at(&cv, prefix, "_c", &pic, err), 0);
    assert_string_equal(pic.path, tmp("run_c.png"));
    assert_int_equal(pic.rendered, 1);
    int w, h;
    png_size(pic.path, &w, &h);
    assert_true(w == 40 && h == 30);
    char *longp = malloc(PLOT_PATHLEN + 10);
    memset(longp, 'a', PLOT_PATHLEN + 9);
    longp[PLOT_PATHLEN + 9] = 0;
    assert_int_equal(canvas_save_at(&cv, longp, "_c", &pic, err), -1);
    assert_int_equal(plot_lines_at(longp, "_sq", &lp, &s, 1, &pic, err), -1);
    assert_non_null(strstr(err, "too long"));
    free(longp);
    canvas_free(&cv);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/tb_test_plot_%ld", (long)getpid());
    mkdir(dir, 0777);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(colormaps),
        cmocka_unit_test(canvas_pixels),
        cmocka_unit_test(heatmaps),
        cmocka_unit_test(line_plots),
        cmocka_unit_test(charts),
        cmocka_unit_test(pictures_at_prefix),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0 && rc == 0) rc = 1;
    return rc;
}
