/* report.c -- `tinybrain report RUN_DIR`: a run as one self-contained HTML page (the
 * commands, the configuration, the numbers and every picture inlined), which opens
 * offline.  The page itself is built by the library (include/report.h). */
#include "cli.h"
#include "io.h"
#include "commands.h"
#include "report.h"

#include <stdlib.h>
#include <sys/stat.h>

int cmd_report(int argc, char **argv) {
    const char *out;
    int json;
    cli_opt opts[] = {
        {"out", 's', &out, "", "", "folder for report.html (default: RUN_DIR itself)", 0, 0, NULL},
        {"json", 'b', &json, NULL, "", "print one JSON object: report, pictures, tables, bytes", 0, 0, NULL},
    };
    cli_cmd cmd = {"report", "RUN_DIR", "a run as one self-contained HTML page (opens offline)",
                   "RUN_DIR is a folder a command wrote: a training run's runs/NAME (its snapshots; the page adds "
                   "runs/NAME.ckpt's configuration, the runs/NAME.tsv log and plots/NAME_*.png), a recording "
                   "(runs/rec/gpt) or runs/compare. The page shows the commands that made the folder (commands.sh, "
                   "which train, train-snn, record and compare append to), the checkpoint's configuration, every "
                   ".json and .tsv, and every picture inlined as a base64 PNG with the gnuplot script that drew it.",
                   "tinybrain report runs/gpt && xdg-open runs/gpt/report.html"};
    char *pos[1], err[TB_ERRLEN];
    cli_parse(&cmd, opts, NOPT(opts), argc, argv, pos, 1, 1);
    if (*out && make_dirs(out, err)) cli_die(1, "%s", err);
    char *path = cli_strf("%s/report.html", *out ? out : pos[0]);
    int pictures = 0, tables = 0;
    if (report_run(pos[0], path, &pictures, &tables, err)) cli_die(1, "%s", err);
    struct stat st;
    long long bytes = stat(path, &st) == 0 ? (long long)st.st_size : -1;
    if (json) {
        json_begin();
        json_str("report", path);
        json_int("pictures", pictures);
        json_int("tables", tables);
        json_int("bytes", bytes);
        json_end();
    } else {
        printf("wrote %s: %d picture%s, %d table%s, %.1f kB, self-contained (opens offline)\n", path, pictures,
               pictures == 1 ? "" : "s", tables, tables == 1 ? "" : "s", bytes / 1e3);
    }
    free(path);
    return 0;
}
