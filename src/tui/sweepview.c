/* sweepview.c - `:sweep` runs a small sweep (3 seeds x 200 tokens per cell)
 * on a background thread so the playground stays live, then draws the mean
 * of a few metrics against temperature, one line per strategy. The worker
 * never touches curses: it only fills the cells and bumps a counter the
 * main loop reads. */
#include <curses.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tempest/chart.h"
#include "tempest/sweep.h"
#include "tempest/tui_app.h"
#include "tempest/tui_panes.h"
#include "tempest/tui_sweep.h"

#define SWEEP_SEEDS 3
#define SWEEP_LENGTH 200

struct tp_sweep_job {
    pthread_t thread;
    tp_sweep_request req;
    tp_sweep_spec spec;
    tp_sweep_cell *cells;
    int *prompt;
    volatile int cancel;
    atomic_int done, finished;
    int joined;
    tp_status rc;
    tp_error err;
    char *chart_text; /* rendered charts, one string with newlines */
    int showing;
};

static void on_progress(void *ctx, int done, int total)
{
    struct tp_sweep_job *j = ctx;
    (void)total;
    atomic_store(&j->done, done);
}

static void *run(void *arg)
{
    struct tp_sweep_job *j = arg;
    j->rc = tp_sweep_run(&j->spec, j->cells, 0, on_progress, j, &j->err);
    atomic_store(&j->finished, 1);
    return NULL;
}

static void job_free(struct tp_sweep_job *j)
{
    if (!j)
        return;
    free(j->cells);
    free(j->prompt);
    free(j->chart_text);
    free(j);
}

static int fill_spec(tp_app *a, struct tp_sweep_job *j)
{
    const tp_session *s = a->session;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    j->prompt = malloc(((size_t)s->n_prompt + 1) * sizeof *j->prompt);
    if (!j->prompt)
        return 0;
    memcpy(j->prompt, s->tokens, (size_t)s->n_prompt * sizeof *j->prompt);
    j->spec = (tp_sweep_spec){
        .model = a->model, .prompt = j->prompt, .n_prompt = s->n_prompt,
        .temperatures = j->req.temperatures, .n_temperatures = j->req.n_temperatures,
        .strategies = j->req.strategies, .n_strategies = j->req.n_strategies,
        .n_seeds = SWEEP_SEEDS, .seed0 = s->seed, .length = SWEEP_LENGTH,
        .jobs = cpus > 1 ? (int)cpus : 1, .base = s->cfg, .cancel = &j->cancel,
    };
    j->cells = calloc((size_t)tp_sweep_n_cells(&j->spec), sizeof *j->cells);
    return j->cells != NULL;
}

void tp_sweep_start(tp_app *a, const tp_sweep_request *req)
{
    if (a->sweep && !atomic_load(&a->sweep->finished)) {
        tp_app_message(a, 1, "a sweep is already running");
        return;
    }
    tp_sweep_stop(a);
    struct tp_sweep_job *j = calloc(1, sizeof *j);
    if (j)
        j->req = *req;
    if (!j || !fill_spec(a, j) || pthread_create(&j->thread, NULL, run, j) != 0) {
        tp_app_message(a, 1, "cannot start the sweep (out of memory)");
        job_free(j);
        return;
    }
    a->sweep = j;
    tp_app_message(a, 0, "sweep: 0/%d cells", tp_sweep_n_cells(&j->spec));
}

/* Render the charts into one string with the same code `tempest sweep`
 * prints with, so the overlay and the command agree. */
static void render(struct tp_sweep_job *j, int width)
{
    static const tp_metric CHARTED[] = {TP_M_ENTROPY, TP_M_DISTINCT2_W, TP_M_REPETITION};
    int S = j->spec.n_strategies, T = j->spec.n_temperatures;
    double ys[3][TP_SWEEP_REQ_STRATEGIES][TP_SWEEP_REQ_TEMPS];
    tp_series series[3][TP_SWEEP_REQ_STRATEGIES];
    size_t len = 0;
    FILE *f = open_memstream(&j->chart_text, &len);
    if (!f)
        return;
    for (int c = 0; c < 3; c++) {
        for (int s = 0; s < S; s++) {
            for (int t = 0; t < T; t++) {
                double mean[TP_N_METRICS], sd[TP_N_METRICS];
                tp_sweep_summary(&j->spec, j->cells, s, t, mean, sd);
                ys[c][s][t] = mean[CHARTED[c]];
            }
            series[c][s] = (tp_series){j->req.strategies[s].name, ys[c][s]};
        }
        tp_chart chart = {tp_metric_get(CHARTED[c])->key, "temperature",
                          j->req.temperatures, T, series[c], S};
        tp_chart_print(f, &chart, width, 6);
    }
    fclose(f);
}

int tp_sweep_poll(tp_app *a)
{
    struct tp_sweep_job *j = a->sweep;
    if (!j || j->showing || j->chart_text)
        return 0;
    int total = tp_sweep_n_cells(&j->spec);
    if (!atomic_load(&j->finished)) {
        tp_app_message(a, 0, "sweep: %d/%d cells (%d seeds x %d tokens each)",
                       atomic_load(&j->done), total, SWEEP_SEEDS, SWEEP_LENGTH);
        a->dirty = 1;
        return 1;
    }
    pthread_join(j->thread, NULL);
    j->joined = 1;
    if (j->rc) {
        tp_app_message(a, 1, "sweep: %s", j->err.msg);
        a->sweep = NULL;
        job_free(j);
        return 0;
    }
    render(j, COLS - 24 > 20 ? (COLS - 24 < 70 ? COLS - 24 : 70) : 20);
    j->showing = j->chart_text != NULL;
    tp_app_message(a, 0, "sweep done: %d cells (any key closes the chart)", total);
    a->dirty = 1;
    return 0;
}

int tp_sweep_showing(const tp_app *a)
{
    return a->sweep && a->sweep->showing;
}

void tp_sweep_draw(tp_app *a, int lines, int cols)
{
    const char *text = a->sweep->chart_text;
    int attr = a->attrs[TP_ROLE_HELP];
    int w = cols - 2, y = 1, h = lines - 3;
    attron(attr);
    for (int r = 0; r < h; r++)
        mvhline(y + r, 1, ' ', w);
    attroff(attr);
    tp_put_clipped(y, 2, "sweep: mean over 3 seeds (any key closes)", w - 2, attr | A_BOLD);
    for (int r = 1; r < h && *text; r++) {
        const char *nl = strchr(text, '\n');
        size_t n = nl ? (size_t)(nl - text) : strlen(text);
        char line[512];
        n = n < sizeof line - 1 ? n : sizeof line - 1;
        memcpy(line, text, n);
        line[n] = '\0';
        tp_put_clipped(y + r, 2, line, w - 2, attr);
        text += n + (nl != NULL);
    }
}

void tp_sweep_dismiss(tp_app *a)
{
    if (a->sweep)
        a->sweep->showing = 0;
    a->dirty = 1;
}

void tp_sweep_stop(tp_app *a)
{
    struct tp_sweep_job *j = a->sweep;
    if (!j)
        return;
    if (!j->joined) {
        j->cancel = 1;
        pthread_join(j->thread, NULL);
    }
    a->sweep = NULL;
    job_free(j);
}
