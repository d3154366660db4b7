/* test_report.c -- the HTML page of a run (report.h): base64 against RFC 4648's vectors,
 * escaping, tables from TSV (thinned evenly, first and last kept), PNGs inlined and
 * checked, nothing that loads from elsewhere, and a run folder's page.  Rendering the
 * page in a browser is tests/report.sh (headless Chromium). */
#include "io.h"
#include "plot.h"
#include "report.h"

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
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

/* The whole file as text (malloc'd) into *out. */
static void slurp(const char *path, char **out) {
    char err[TB_ERRLEN];
    size_t n;
    if (read_file(path, out, &n, err)) fail_msg("%s", err);
}

static int count(const char *s, const char *what) {
    int n = 0;
    size_t at = 0, len = strlen(s);
    while (at < len && strstr(s + at, what)) {
        at = (size_t)(strstr(s + at, what) - s) + 1;
        n++;
    }
    return n;
}

static void base64_vectors(void **state) {
    (void)state;
    const char *in[7] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *want[7] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    char out[16];
    for (int i = 0; i < 7; i++) {
        report_base64((const unsigned char *)in[i], strlen(in[i]), out);
        assert_string_equal(out, want[i]);
    }
    unsigned char bin[3] = {0xfb, 0xff, 0x00};
    report_base64(bin, 3, out);
    assert_string_equal(out, "+/8A");
}

static void escaped_tables_and_thinning(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    FILE *f = fopen(tmp("log.tsv"), "w");
    assert_non_null(f);
    fprintf(f, "step\tloss\n");
    for (int i = 1; i <= 100; i++) fprintf(f, "%d\t%g\n", i, 5.0 / i);
    fclose(f);
    tb_report r;
    report_begin(&r, "a <b> & \"c\"");
    report_p(&r, "x < y");
    assert_int_equal(report_tsv(&r, tmp("log.tsv"), 5, err), 0);
    assert_int_equal(report_tsv(&r, tmp("missing.tsv"), 5, err), -1);
    assert_non_null(strstr(err, "missing.tsv"));
    assert_int_equal(r.n_tables, 1);
    assert_int_equal(report_finish(&r, tmp("t.html"), err), 0);
    char *h;
    slurp(tmp("t.html"), &h);
    assert_non_null(strstr(h, "<title>a &lt;b&gt; &amp; &quot;c&quot;</title>"));
    assert_non_null(strstr(h, "<p>x &lt; y</p>"));
    assert_non_null(strstr(h, "5 of 100 rows"));
    /* rows 1, 25.75 -> 25, 50, 75, 100: the first and the last kept */
    assert_int_equal(count(h, "<tr>"), 6);
    assert_non_null(strstr(h, "<td class=\"n\">1</td>"));
    assert_non_null(strstr(h, "<td class=\"n\">100</td>"));
    assert_non_null(strstr(h, "<td class=\"n\">50</td>"));
    assert_null(strstr(h, "<td class=\"n\">2</td>"));
    free(h);
}

static void pictures_inlined(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    float m[6] = {0, 1, 2, 3, 4, 5};
    tb_heatmap opt = {"t", "x", "y", NULL, NULL, NAN, NAN, CMAP_VIRIDIS, "v", 0};
    assert_int_equal(plot_heatmap_png(tmp("h.png"), m, 2, 3, &opt, err), 0);
    FILE *f = fopen(tmp("fake.png"), "w");
    assert_non_null(f);
    fputs("not a picture", f);
    fclose(f);
    tb_report r;
    report_begin(&r, "pictures");
    assert_int_equal(report_png(&r, tmp("h.png"), "heat", err), 0);
    assert_int_equal(report_png(&r, tmp("fake.png"), "fake", err), -1);
    assert_non_null(strstr(err, "not a PNG"));
    assert_int_equal(report_finish(&r, tmp("p.html"), err), 0);
    char *h;
    slurp(tmp("p.html"), &h);
    assert_int_equal(count(h, "src=\"data:image/png;base64,iVBORw0KGgo"), 1);  /* the PNG signature */
    assert_int_equal(count(h, "src="), 1);
    assert_null(strstr(h, "http"));
    free(h);
}

/* A folder like runs/NAME: commands, the checkpoint beside it, numbers and pictures. */
static void run_folder_page(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    assert_int_equal(chdir(dir), 0);
    assert_int_equal(make_dirs("runs/r", err), 0);
    assert_int_equal(make_dirs(TB_PLOTS_DIR, err), 0);
    assert_int_equal(write_text_file("runs/r/commands.sh", "tinybrain train --name r --steps 'a b'\n", err), 0);
    assert_int_equal(write_text_file("runs/r/summary.json", "{\"val_loss\": 2.5, \"name\": \"a, b\", \"v\": [1, 2]}", err), 0);
    assert_int_equal(write_text_file("runs/r.tsv", "step\tloss\n1\t3\n2\t2.5\n", err), 0);
    tb_ckpt c;
    ckpt_init(&c, "gpt");
    assert_int_equal(ckpt_set(&c, "n_layer", "2"), 0);
    assert_int_equal(ckpt_save(&c, "runs/r.ckpt", err), 0);
    ckpt_free(&c);
    float m[4] = {0, 1, 2, 3};
    tb_heatmap opt = {"t", "x", "y", NULL, NULL, NAN, NAN, CMAP_VIRIDIS, "v", 0};
    assert_int_equal(plot_heatmap_png(TB_PLOTS_DIR "/r_map.png", m, 2, 2, &opt, err), 0);
    assert_int_equal(plot_heatmap_png(TB_PLOTS_DIR "/other_map.png", m, 2, 2, &opt, err), 0);
    int np, nt;
    assert_int_equal(report_run("runs/r/", "runs/r/report.html", &np, &nt, err), 0);
    assert_int_equal(np, 1);   /* plots/r_*.png only */
    assert_int_equal(nt, 2);   /* the configuration and runs/r.tsv */
    char *h;
    slurp("runs/r/report.html", &h);
    assert_non_null(strstr(h, "tinybrain train --name r --steps 'a b'"));
    assert_non_null(strstr(h, "runs/r.ckpt: a gpt checkpoint, 1 settings"));
    assert_non_null(strstr(h, "<td>n_layer</td>\n<td class=\"n\">2</td>"));
    assert_non_null(strstr(h, "{&quot;val_loss&quot;: 2.5,\n&quot;name&quot;: &quot;a, b&quot;,\n&quot;v&quot;: [1, 2]}"));
    assert_non_null(strstr(h, "plots/r_map.png"));
    assert_null(strstr(h, "other_map"));
    free(h);
    assert_int_equal(report_run("runs/nosuch", "x.html", &np, &nt, err), -1);
    assert_non_null(strstr(err, "runs/nosuch: not a folder"));
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/tb_test_report_%ld", (long)getpid());
    mkdir(dir, 0777);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(base64_vectors),
        cmocka_unit_test(escaped_tables_and_thinning),
        cmocka_unit_test(pictures_inlined),
        cmocka_unit_test(run_folder_page),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (chdir("/tmp") == 0 && system(cmd) != 0) rc = 1;
    return rc;
}
