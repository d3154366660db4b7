/* plot.h -- pictures: PNG heatmaps/rasters drawn by us, line plots through gnuplot.
 *
 * PNGs are written with stb_image_write (Debian libstb-dev) and labelled with
 * stb_easy_font text; colours come from our own perceptual colormaps (viridis-like,
 * and a blue-white-red diverging map for signed data).  Line plots write
 * plots/NAME.dat and plots/NAME.gp and, when gnuplot is installed, render
 * plots/NAME.png; without gnuplot the data and script stay and the caller is told
 * how to render them.  Nothing here blocks or prints.
 */
#ifndef TB_PLOT_H
#define TB_PLOT_H

#include "tb.h"

/* ---- colormaps ----------------------------------------------------------- */
typedef enum { CMAP_VIRIDIS, CMAP_MAGMA, CMAP_DIVERGING, CMAP_GRAY } tb_cmap;
/* t in [0,1] (clamped) -> rgb bytes. */
void cmap_rgb(tb_cmap map, double t, unsigned char rgb[3]);

/* ---- a canvas: an RGB image you draw on, then save ------------------------ */
typedef struct { int w, h; unsigned char *px; /* w*h*3, row-major from the top */ } tb_canvas;
int  canvas_init(tb_canvas *c, int w, int h, char *err);   /* filled white */
void canvas_free(tb_canvas *c);
void canvas_rect(tb_canvas *c, int x, int y, int w, int h, const unsigned char rgb[3]);
void canvas_line(tb_canvas *c, int x0, int y0, int x1, int y1, const unsigned char rgb[3]);
/* Text with its top-left corner at (x, y); scale 1 = ~6x8 px glyphs.  vertical != 0
 * draws bottom-to-top (y-axis labels).  Returns the width in pixels. */
int  canvas_text(tb_canvas *c, int x, int y, const char *s, int scale, int vertical,
                 const unsigned char rgb[3]);
int  canvas_text_width(const char *s, int scale);
int  canvas_save_png(const tb_canvas *c, const char *path, char *err); /* atomic */

/* ---- charts: a data rectangle on a canvas --------------------------------
 * A chart maps data coordinates [x0, x1] x [y0, y1] onto the canvas rectangle whose
 * top-left pixel is (x, y) and whose size is w x h pixels; y grows upwards:
 *     tb_chart c = {70, 30, 900, 430, 0, t_ms, 0, n_neurons};
 *     chart_axes(&cv, &c, "time (ms)", "neuron", "spike raster");
 *     canvas_rect(&cv, chart_px(&c, t), chart_py(&c, i), 2, 2, rgb);   // one dot
 * The neuron and network pictures (snn_plot.h) are drawn this way. */
typedef struct { int x, y, w, h; double x0, x1, y0, y1; } tb_chart;
int  chart_px(const tb_chart *c, double x);   /* data x -> pixel column */
int  chart_py(const tb_chart *c, double y);   /* data y -> pixel row */
/* Frame, ticks at round numbers with their values, axis labels and a title (each label
 * may be NULL). */
void chart_axes(tb_canvas *cv, const tb_chart *c, const char *xlabel, const char *ylabel,
                const char *title);
/* The samples y[k] at x = x_start + k dx, as one min-max bar per pixel column, so a
 * 100k-sample voltage trace keeps every spike; values outside [y0, y1] are clipped. */
void chart_trace(tb_canvas *cv, const tb_chart *c, const float *y, long n, double x_start,
                 double dx, const unsigned char rgb[3]);

/* ---- heatmaps ------------------------------------------------------------ */
typedef struct {
    const char *title;
    const char *xlabel, *ylabel;
    const char *const *row_labels; /* NULL or rows labels (drawn when cells are big enough) */
    const char *const *col_labels;
    double vmin, vmax;             /* colour scale; NAN for the data's min/max */
    tb_cmap cmap;
    const char *cbar_label;        /* colour bar caption, e.g. "1 - Pearson r" */
    int cell_px;                   /* 0: automatic */
} tb_heatmap;

/* A labelled heatmap of M[rows, cols] (row-major) with a colour bar. */
int plot_heatmap_png(const char *path, const float *M, int rows, int cols,
                     const tb_heatmap *opt, char *err);
/* Several heatmaps in a grid (e.g. one panel per attention head, or two RDMs side by
 * side), each with its own title; they share opt's scale, labels and colour bar. */
int plot_heatmap_grid_png(const char *path, const float *const *mats, int n, int grid_cols,
                          int rows, int cols, const char *const *titles,
                          const tb_heatmap *opt, char *err);

/* ---- line plots via gnuplot ----------------------------------------------- */
typedef struct {
    const char *label;    /* legend entry */
    const double *x, *y;  /* n points */
    int n;
    const char *style;    /* "lines" (default), "points", "linespoints", "dashed", "steps" */
} tb_series;

typedef struct {
    const char *title, *xlabel, *ylabel;
    int logx, logy;
    double ymin, ymax;    /* NAN: automatic */
    int width, height;    /* pixels; 0: 800x500 */
} tb_lineplot;

/* Writes DIR/NAME.dat and DIR/NAME.gp, then runs gnuplot if it is on PATH.
 * *rendered = 1 when DIR/NAME.png was produced; 0 when gnuplot is missing (the
 * caller then tells the user: "gnuplot not found: render with gnuplot DIR/NAME.gp").
 * Horizontal reference lines (e.g. the entropy floor) are series with n = 2. */
int plot_lines(const char *dir, const char *name, const tb_lineplot *opt,
               const tb_series *series, int n_series, int *rendered, char *err);
/* Shaded bands (an interval, a baseline's range) under the lines: band j fills between
 * lo and hi over x[n]; mid (may be NULL) is drawn as a dashed line in the band's colour
 * (a baseline's value inside its interval). */
typedef struct {
    const char *label;
    const double *x, *lo, *hi;
    int n;
    const double *mid;
} tb_band;
int plot_lines_bands(const char *dir, const char *name, const tb_lineplot *opt, const tb_series *series,
                     int n_series, const tb_band *bands, int n_bands, int *rendered, char *err);
/* 1 if a gnuplot executable is on PATH (0 when the environment sets TINYBRAIN_GNUPLOT=0:
 * then no gnuplot child is ever started and line plots stay data + script). */
int plot_have_gnuplot(void);

/* ---- pictures named by a prefix -------------------------------------------
 * A command that draws several pictures names them PREFIX + SUFFIX: prefix
 * "plots/snn" and suffix "_rate" give plots/snn_rate.png (and, for line plots,
 * plots/snn_rate.dat and .gp).  Each file written is reported in a tb_picture for
 * the caller to tell the user: rendered 1: path is the PNG; rendered 0: gnuplot is
 * missing and path is the script to render later (`gnuplot PATH`). */
#define PLOT_PATHLEN 1200
typedef struct { char path[PLOT_PATHLEN]; int rendered; } tb_picture;
/* plot_lines() into the folder and name that PREFIX + SUFFIX spell. */
int plot_lines_at(const char *prefix, const char *suffix, const tb_lineplot *opt,
                  const tb_series *series, int n_series, tb_picture *pic, char *err);
/* canvas_save_png() to PREFIX SUFFIX ".png". */
int canvas_save_at(const tb_canvas *c, const char *prefix, const char *suffix, tb_picture *pic,
                   char *err);

#endif
