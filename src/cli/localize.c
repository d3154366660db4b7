/* localize.c -- `tinybrain localize CKPT` or `localize SENT CONTROL`: find a model's
 * "language units".  Lesson 14.  From a GPT checkpoint: record the sentences and the
 * control (by default their scrambled twins, localizer.h) at one residual layer.  From two
 * arrays: activations (stimuli x units; .npy or TSV, or 3-D with trials, which are
 * averaged) to sentences and to a control condition.  Prints the contrast used and the
 * top units by Welch t, writes their indices (one per line, best first) with --out for
 * `tinybrain eval --ablate` with --units-out FILE, and plots every unit's t.
 */
#include "cli.h"
#include "commands.h"
#include "figures.h"
#include "localize.h"
#include "localizer.h"
#include "rep.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The selected units, one per line, best first, under a comment saying where they came from. */
static void write_units(const char *out, const char *contrast, double top, int is_signed, const int *idx, int k) {
    char err[TB_ERRLEN];
    char *head = cli_strf("# language units from tinybrain localize: %s (top %g%%, %s), best first\n", contrast, top,
                          is_signed ? "signed" : "|activation|");
    size_t len = strlen(head);
    char *text = malloc(len + (size_t)k * 12 + 1); /* an int and its newline: at most 12 characters */
    if (!text) cli_die(1, "out of memory");
    memcpy(text, head, len + 1);
    for (int r = 0; r < k; r++) len += (size_t)sprintf(text + len, "%d\n", idx[r]);
    if (write_text_file(out, text, err)) cli_die(1, "%s", err);
    free(head);
    free(text);
}

static void print_table(const rep_layer *S, const rep_layer *C, const char *contrast, double top, int is_signed,
                        const double *t, const int *idx, int k) {
    printf("contrast: %s\n", contrast);
    printf("%d sentences vs %d control stimuli, %d units; Welch t on %s\n", S->n, C->n, S->p,
           is_signed ? "the signed activation" : "|activation|");
    printf("top %g%% = %d units (sentences > control):\n", top, k);
    int w[3] = {6, 6, 10};
    const char *head[3] = {"rank", "unit", "t"};
    cli_table_row(3, w, head);
    cli_table_rule(3, w);
    for (int r = 0; r < k && r < 20; r++) {
        char a[CLI_NUMLEN], b[CLI_NUMLEN], c[CLI_NUMLEN];
        snprintf(a, sizeof a, "%d", r + 1);
        snprintf(b, sizeof b, "%d", idx[r]);
        snprintf(c, sizeof c, "%.3f", t[idx[r]]);
        const char *cells[3] = {a, b, c};
        cli_table_row(3, w, cells);
    }
    if (k > 20) printf("... (%d more; --units-out FILE or --json lists them all)\n", k - 20);
}

typedef struct { const char *contrast, *control, *sentences; int layer; } source_opts;

/* The two conditions: recorded from a checkpoint (one positional) or read from two arrays;
 * contrast (1200 bytes) says which. */
static void load_conditions(char **pos, int npos, const source_opts *so, rep_layer *S, rep_layer *C, char *contrast) {
    char err[TB_ERRLEN], layer_name[256];
    if (npos == 1) {
        loc_opts lo;
        loc_opts_default(&lo);
        lo.sentences = so->sentences;
        lo.control = *so->control ? so->control : !strcmp(so->contrast, "nonwords") ? TB_DATA_DIR "/probes_nonwords.txt" : lo.control;
        lo.layer = so->layer;
        if (loc_record(pos[0], &lo, S, C, layer_name, err)) cli_die(1, "%s", err);
        loc_contrast(lo.sentences, lo.control, contrast, 1200);
        size_t len = strlen(contrast);
        snprintf(contrast + len, 1200 - len, ", %s layer %s", pos[0], layer_name);
    } else {
        /* constant units are kept (REP_KEEP_CONSTANT): both conditions need the same units,
         * and zero variance gives t = +-inf, never NaN */
        if (rep_load_layer(pos[0], "sentences", 2, S, err)) cli_die(1, "%s", err);
        if (rep_load_layer(pos[1], "control", 2, C, err)) cli_die(1, "%s", err);
        loc_contrast(pos[0], pos[1], contrast, 1200);
    }
    if (S->p != C->p)
        cli_die(1, "%s has %d units but %s has %d: both conditions must come from the same units", S->path, S->p, C->path, C->p);
}

static void print_json(const char *contrast, const double *t, int p, const int *idx, int k) {
    long long *li = malloc((size_t)k * sizeof(long long));
    if (!li) cli_die(1, "out of memory");
    for (int r = 0; r < k; r++) li[r] = idx[r];
    json_begin();
    json_str("contrast", contrast);
    json_int("k", k);
    json_int("units", p);
    json_int_array("top_indices", li, k);
    json_num_array("t", t, p);
    json_end();
    free(li);
}

/* accept "--top 1%" as well as "--top 1" */
static void strip_percent(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (!strncmp(a, "--top", 5) && (a[5] == '=' || (a[5] == 0 && i + 1 < argc))) {
            char *v = a[5] == '=' ? a + 6 : argv[i + 1];
            size_t l = strlen(v);
            if (l > 1 && v[l - 1] == '%') v[l - 1] = 0;
        }
    }
}

int cmd_localize(int argc, char **argv) {
    double top;
    int is_signed, json;
    const char *out, *plots, *name;
    source_opts so;
    cli_opt opts[] = {
        {"contrast", 'c', &so.contrast, "scrambled", "", "from a checkpoint: the control condition", 0, 0, "scrambled|nonwords"},
        {"control", 's', &so.control, "", "", "from a checkpoint: control stimuli file (overrides --contrast)", 0, 0, NULL},
        {"stimuli", 's', &so.sentences, TB_DATA_DIR "/probes_sentences.txt", "", "from a checkpoint: the sentences", 0, 0, NULL},
        {"layer", 'i', &so.layer, "-1", "", "from a checkpoint: residual layer (0 = embedding; -1 = the last)", -1, 1000, NULL},
        {"top", 'f', &top, "1", "%", "share of units to select, in (0, 100]: k = floor(top/100 x units)", 0, 0, NULL},
        {"signed", 'b', &is_signed, NULL, "", "t on signed activations (default: on |activation|)", 0, 0, NULL},
        {"json", 'b', &json, NULL, "", "print one JSON object: k, top_indices, t", 0, 0, NULL},
        {"units-out", 's', &out, NULL, "", "write the selected unit indices to this file (one per line, best first)", 0, 0, NULL},
        {"plots", 's', &plots, TB_PLOTS_DIR, "", "folder for the t-by-unit plot", 0, 0, NULL},
        {"name", 's', &name, "localizer_t", "", "file name of the plot", 0, 0, NULL},
    };
    cli_cmd cmd = {"localize", "CKPT | SENT CONTROL",
                   "the language localizer: units that respond more to sentences than to a control",
                   "CKPT: a GPT checkpoint, recorded here on --stimuli and the control (default: the sentences' "
                   "scrambled twins, the same words shuffled; --contrast nonwords for pronounceable nonwords) at "
                   "--layer.  Or SENT and CONTROL: activations (stimuli x units, .npy or TSV; 3-D arrays are averaged "
                   "over trials) to sentences and to a control, from the same units. "
                   "Welch t per unit on |activation| (--signed: on the activation), the top k = floor(top% x "
                   "units) units by t (ties to the lower index). A unit with zero variance in both conditions "
                   "gets t = +-inf by the sign of the mean difference (0 if equal).",
                   "tinybrain localize runs/gpt.ckpt --top 25 --units-out runs/lang_units.txt"};
    char *pos[2];
    strip_percent(argc, argv);
    int npos = cli_parse(&cmd, opts, NOPT(opts), argc, argv, pos, 1, 2);
    if (!(top > 0 && top <= 100)) cli_die(2, "--top must be a percentage in (0, 100] (got %g)", top);
    char err[TB_ERRLEN], contrast[1200];
    rep_layer S, C;
    load_conditions(pos, npos, &so, &S, &C, contrast);
    int p = S.p, k = localize_k(top, p, err);
    if (k < 0) cli_die(2, "%s", err);
    double *t = malloc((size_t)p * 8);
    int *idx = malloc((size_t)k * sizeof(int));
    if (!t || !idx) cli_die(1, "out of memory");
    if (localize_t(S.mean, S.n, C.mean, C.n, p, !is_signed, t, err)) cli_die(1, "%s", err);
    localize_top(t, p, k, idx);
    if (out) {
        write_units(out, contrast, top, is_signed, idx, k);
        if (!json) cli_note("wrote %s (%d unit indices)", out, k);
    }
    if (json) print_json(contrast, t, p, idx, k);
    else print_table(&S, &C, contrast, top, is_signed, t, idx, k);
    int rendered;
    if (fig_localizer_t(plots, name, contrast, t, p, idx, k, &rendered, err)) cli_note("plot: %s", err);
    else cli_note_plot(plots, name, rendered);
    free(t); free(idx);
    rep_layer_free(&S);
    rep_layer_free(&C);
    return 0;
}
