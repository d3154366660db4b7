/* localizer.c -- recording the localizer's two conditions and naming the contrast.
 * Lesson 14; see include/localizer.h. */
#include "localizer.h"
#include "io.h"
#include "recording.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void loc_opts_default(loc_opts *o) {
    o->sentences = TB_DATA_DIR "/probes_sentences.txt";
    o->control = TB_DATA_DIR "/probes_scrambled.txt";
    o->layer = -1;
    o->pool_last = 0;
}

/* Record one stimulus file and keep layer l (the rest is freed). */
static int record_layer(lm_model *m, const char *stimuli, int l, int pool_last, rep_layer *out, char *err) {
    rec_stimuli s;
    rep_set r;
    rec_opts ro = {pool_last, 1, 0, 1, -1, {NULL, NULL}};
    if (rec_stimuli_load(stimuli, &m->tok, &s, err)) return -1;
    int rc = rec_record(m, &s, &ro, &r, err);
    rec_stimuli_free(&s);
    if (rc) return -1;
    *out = r.layer[l];
    memset(&r.layer[l], 0, sizeof r.layer[l]);
    rep_free(&r);
    return 0;
}

int loc_record(const char *ckpt, const loc_opts *o, rep_layer *S, rep_layer *C, char *layer_name, char *err) {
    lm_model m;
    char e[TB_ERRLEN];
    if (lm_open(ckpt, &m, err)) return -1;
    int n = rec_n_resid(&m), l = o->layer < 0 ? n - 1 : o->layer, rc = 0;
    if (strcmp(m.kind, "gpt")) rc = tb_fail(err, "%s: the localizer needs a GPT checkpoint (this is '%s')", ckpt, m.kind);
    else if (l >= n) rc = tb_fail(err, "layer %d: %s has residual layers 0..%d", l, ckpt, n - 1);
    if (!rc && record_layer(&m, o->sentences, l, o->pool_last, S, e)) rc = tb_fail(err, "%s: %s", ckpt, e);
    if (!rc && record_layer(&m, o->control, l, o->pool_last, C, e)) {
        rep_layer_free(S);
        rc = tb_fail(err, "%s: %s", ckpt, e);
    }
    if (!rc) snprintf(layer_name, 256, "%s", S->name);
    lm_close(&m);
    return rc;
}

/* The stimuli a recorded array was made from: its folder's manifest.json "stimuli", or
 * the path itself (into buf). */
static void stimuli_of(const char *path, char *buf, size_t n) {
    snprintf(buf, n, "%s", path);
    const char *slash = strrchr(path, '/');
    char *man = slash ? tb_strf("%.*s/manifest.json", (int)(slash - path), path) : tb_strf("manifest.json");
    char *text = NULL, err[TB_ERRLEN];
    size_t len;
    if (man && strstr(path, ".npy") && !read_file(man, &text, &len, err)) {
        const char *k = strstr(text, "\"stimuli\": \"");
        if (k) {
            k += 12;
            const char *q = strchr(k, '"');
            if (q) snprintf(buf, n, "%.*s", (int)(q - k), k);
        }
    }
    free(text);
    free(man);
}

void loc_contrast(const char *sent_path, const char *ctrl_path, char *buf, size_t n) {
    char s[1024], c[1024];
    stimuli_of(sent_path, s, sizeof s);
    stimuli_of(ctrl_path, c, sizeof c);
    const char *base_s = strrchr(s, '/') ? strrchr(s, '/') + 1 : s, *base_c = strrchr(c, '/') ? strrchr(c, '/') + 1 : c;
    if (strstr(base_c, "scrambled"))
        snprintf(buf, n, "sentences (%s) vs scrambled word lists (%s: the same words, shuffled)", base_s, base_c);
    else if (strstr(base_c, "nonword"))
        snprintf(buf, n, "sentences (%s) vs nonword strings (%s: words the model never trained on)", base_s, base_c);
    else
        snprintf(buf, n, "%s vs %s", base_s, base_c);
}
