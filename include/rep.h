/* rep.h -- representations on disk, as `align`, `compare` and `localize` read them.
 *
 * A representation is an array of activations: stimuli x units (2-D), or trials x
 * stimuli x units (3-D, repeated presentations with noise, as a brain recording or a
 * spiking network gives).  It comes from a .npy file (float32 or float64), a numeric
 * TSV file, or, for a whole model, a folder of per-layer .npy files (taken in name
 * order; `tinybrain record` numbers them 00_..., 01_... so that order is depth).
 */
#ifndef TB_REP_H
#define TB_REP_H

#include "io.h"

typedef struct {
    char name[256];   /* layer name: the file name without .npy, or the file's base name */
    char path[1024];
    int trials;       /* 1 for 2-D input */
    int n, p;         /* stimuli, units */
    double *mean;     /* [n, p] the trial mean (the 2-D data itself when trials == 1) */
    double *trial;    /* [trials, n, p] when trials > 1, else NULL */
    int dropped;      /* constant units removed (with drop_constant) */
    int dropped_nan;  /* units removed for a NaN or inf value (REP_DROP_NAN) */
} rep_layer;

typedef struct {
    int n_layers;
    rep_layer *layer;
    int is_folder;
} rep_set;

/* Load PATH (file or folder).  Checks: 2-D or 3-D only, finite values, and no unit
 * constant across stimuli (such a unit has no variance to compare: it is an error
 * naming the unit unless drop_constant, which removes it and counts it in ->dropped).
 * Errors name the file. */
int  rep_load(const char *path, int drop_constant, rep_set *s, char *err);
/* Or'ed into drop_constant: units with a NaN or inf value anywhere (a voxel outside the
 * brain mask, a dead electrode) are removed first instead of refused. */
#define REP_DROP_NAN 4
void rep_free(rep_set *s);

/* Load one array (used by rep_load and localize): 2-D or 3-D, finite.  drop_constant:
 * 0 = constant units are an error, 1 = drop them, 2 = keep them (the localizer). */
int  rep_load_layer(const char *path, const char *name, int drop_constant, rep_layer *L, char *err);
void rep_layer_free(rep_layer *L);

/* Remove units constant across stimuli (in the trial mean) from L, in place; returns
 * how many were removed (none when every unit is constant). */
int  rep_drop_constant(rep_layer *L);

/* Keep only the first k trials of L (lesson 12: fewer trials, a lower ceiling) and
 * recompute its mean; k == 0 keeps the mean and drops the trials (2-D data: no ceiling).
 * -1 when L has fewer than k trials (err says how many it has). */
int  rep_keep_trials(rep_layer *L, int k, char *err);

/* Allocate L's arrays (zeroed; trial only when trials > 1) and set its fields; -1 when
 * out of memory (free with rep_layer_free). */
int  rep_layer_alloc(rep_layer *L, const char *name, const char *path, int trials, int n, int p);
/* Split a line at tabs in place into at most max cells; returns the number of cells. */
int  rep_split_tabs(char *line, char **cells, int max);

/* Feature-count control: L's trial mean replaced by its first k principal components
 * (align_pca) when it has more than k units (and k < stimuli); the trials, which the
 * components do not describe, are dropped.  Returns 1 when L was reduced, 0 when it was
 * already narrow enough, -1 on error. */
int  rep_layer_pca(rep_layer *L, int k, char *err);

/* 1 if path is a folder. */
int  rep_is_dir(const char *path);
/* The step_*.ckpt files of a run folder (runs/NAME/ from --save-at), in step order;
 * *paths malloc'd (free each and the array; NULL when there are none).  -1 when the folder
 * cannot be read or memory runs out. */
int  rep_list_steps(const char *dir, char ***paths, int *n);

/* Read a list of labels, one per line (blank lines and '#' comments skipped); *n set. */
int  rep_read_labels(const char *path, char ***labels, int *n, char *err);
void rep_free_labels(char **labels, int n);

#endif
