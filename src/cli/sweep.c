/* sweep.c - `tempest sweep`: metrics over temperatures, strategies and seeds. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tempest/chart.h"
#include "tempest/cli.h"
#include "tempest/sweep.h"

static const char HELP[] =
    "Usage: tempest sweep --temperatures LIST [--strategies LIST] [--seeds N]\n"
    "                     [--length L] [--prompt P] [--reference FILE] [--csv F]\n"
    "                     [--json F] [--plot F.svg|F.png] [--jobs N] [options]\n"
    "Generate a sample for every strategy x temperature x seed, measure it, and\n"
    "print mean +- standard deviation per metric, charts of metric against\n"
    "temperature (one line per strategy), and optionally CSV, JSON and a plot.\n"
    "Seeds are S, S+1, ... (S from --seed): the same seeds give the same numbers.\n\n"
    "  --temperatures LIST    comma-separated, e.g. 0.2,0.5,0.8,1.2 (default)\n"
    "  --strategies LIST      ';'-separated: sample, greedy, top_k=K, top_p=P,\n"
    "                         min_p=M, beam=N, or joined with '+', e.g.\n"
    "                         \"sample;top_p=0.9;top_k=40;beam=3;top_p=0.95+beam=3\"\n"
    "                         (default: sample)\n"
    "  --seeds N              seeds per cell, 1 to 10000 (default 5)\n"
    "  --length L             tokens per sample, 1 to 100000 (default 200)\n"
    "  --prompt P             text every sample starts from (default: empty)\n"
    "  --reference FILE       corpus for novelty and word validity\n"
    "  --csv F, --json F      one row per cell and seed, plus summary rows\n"
    "  --plot F               charts to F.svg or F.png (may be given up to 4 times)\n"
    "  --jobs N               threads, 1 to 64 (default: the number of CPUs)\n"
    "  --progress             draw the progress bar even when stderr is not a terminal\n\n"
    "Metrics: entropy_bits (mean entropy of the distributions drawn from),\n"
    "self_perplexity (the sample scored by the model at T = 1), distinct-1/2/3 over\n"
    "words and characters (unique n-grams / all n-grams), repetition (share of word\n"
    "4-grams occurring more than once), novelty (share of word 4-grams absent from\n"
    "the reference), word_validity (share of words found in the reference).\n\n";

enum { OPT_TEMPS = TP_OPT_FIRST_OWN, OPT_STRATEGIES, OPT_SEEDS, OPT_LENGTH, OPT_PROMPT,
       OPT_REFERENCE, OPT_CSV, OPT_JSON, OPT_PLOT, OPT_JOBS, OPT_PROGRESS };

#define MAX_TEMPS 64
#define MAX_STRATEGIES 16

struct sweep_args {
    double temps[MAX_TEMPS];
    int n_temps;
    tp_strategy strategies[MAX_STRATEGIES];
    int n_strategies;
    long seeds, length, jobs;
    const char *prompt, *reference, *csv, *json;
    const char *plots[4];
    int n_plots, progress;
};

static tp_status parse_temps(struct sweep_args *a, const char *text, tp_error *err)
{
    tp_status rc = tp_parse_temperatures(text, strlen(text), a->temps, MAX_TEMPS, &a->n_temps,
                                         err);
    if (rc)
        tp_error_prefix(err, "--temperatures");
    return rc;
}

static tp_status parse_strategies(struct sweep_args *a, const char *text, tp_error *err)
{
    tp_status rc = tp_parse_strategies(text, a->strategies, MAX_STRATEGIES, &a->n_strategies,
                                       err);
    if (rc)
        tp_error_prefix(err, "--strategies");
    return rc;
}

static tp_status own_option(void *ctx, int opt, const char *arg, tp_error *err)
{
    struct sweep_args *a = ctx;
    switch (opt) {
    case OPT_TEMPS: return parse_temps(a, arg, err);
    case OPT_STRATEGIES: return parse_strategies(a, arg, err);
    case OPT_SEEDS: return tp_parse_long("--seeds", arg, 1, 10000, &a->seeds, err);
    case OPT_LENGTH: return tp_parse_long("--length", arg, 1, 100000, &a->length, err);
    case OPT_JOBS: return tp_parse_long("--jobs", arg, 1, 64, &a->jobs, err);
    case OPT_PROMPT: a->prompt = arg; break;
    case OPT_REFERENCE: a->reference = arg; break;
    case OPT_CSV: a->csv = arg; break;
    case OPT_JSON: a->json = arg; break;
    case OPT_PLOT:
        if (a->n_plots == 4)
            return tp_fail(err, TP_ERR_USAGE, "--plot: at most 4 files");
        a->plots[a->n_plots++] = arg;
        break;
    default: a->progress = 1; break;
    }
    return TP_OK;
}

/* Progress bar with ETA on stderr. */
struct progress {
    double start; /* tp_cli_now() */
    int show;
};

static void on_progress(void *ctx, int done, int total)
{
    struct progress *p = ctx;
    if (!p->show)
        return;
    double el = tp_cli_now() - p->start;
    double eta = done ? el * (total - done) / done : 0;
    char bar[31];
    int fill = (int)(30.0 * done / total);
    for (int i = 0; i < 30; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[30] = '\0';
    fprintf(stderr, "\r[%s] %d/%d cells  %.1f s, ETA %.0f s ", bar, done, total, el, eta);
    if (done == total)
        fputc('\n', stderr);
    fflush(stderr);
}

static const tp_metric TABLE_METRICS[] = {TP_M_ENTROPY, TP_M_SELF_PPL, TP_M_DISTINCT2_W,
                                          TP_M_DISTINCT3_W, TP_M_DISTINCT2_C, TP_M_REPETITION,
                                          TP_M_NOVELTY, TP_M_VALIDITY};
#define N_TABLE (int)(sizeof TABLE_METRICS / sizeof TABLE_METRICS[0])

static void print_table(const tp_sweep_spec *spec, const tp_sweep_cell *cells, int has_ref)
{
    int n_cols = has_ref ? N_TABLE : N_TABLE - 2;
    printf("%-20s %5s", "strategy", "T");
    for (int i = 0; i < n_cols; i++)
        printf(" %14s", tp_metric_get(TABLE_METRICS[i])->label);
    putchar('\n');
    for (int s = 0; s < spec->n_strategies; s++)
        for (int t = 0; t < spec->n_temperatures; t++) {
            double mean[TP_N_METRICS], sd[TP_N_METRICS];
            tp_sweep_summary(spec, cells, s, t, mean, sd);
            printf("%-20.20s %5.2f", spec->strategies[s].name, spec->temperatures[t]);
            for (int i = 0; i < n_cols; i++) {
                tp_metric m = TABLE_METRICS[i];
                printf(m == TP_M_SELF_PPL || m == TP_M_ENTROPY ? " %7.3f±%-6.3f" : " %7.4f±%-6.4f",
                       mean[m], sd[m]);
            }
            putchar('\n');
        }
}

/* The charts: one per charted metric, one series per strategy, y = mean. */
static int build_charts(const tp_sweep_spec *spec, const tp_sweep_cell *cells, int has_ref,
                        tp_chart *charts, tp_series *series, double *ys)
{
    static const tp_metric CHARTED[] = {TP_M_ENTROPY, TP_M_DISTINCT2_W, TP_M_REPETITION,
                                        TP_M_SELF_PPL, TP_M_VALIDITY, TP_M_NOVELTY};
    int n = has_ref ? 6 : 4, S = spec->n_strategies, T = spec->n_temperatures;
    for (int c = 0; c < n; c++) {
        for (int s = 0; s < S; s++) {
            double *y = ys + ((size_t)c * S + s) * T;
            for (int t = 0; t < T; t++) {
                double mean[TP_N_METRICS], sd[TP_N_METRICS];
                tp_sweep_summary(spec, cells, s, t, mean, sd);
                y[t] = mean[CHARTED[c]];
            }
            series[c * S + s] = (tp_series){spec->strategies[s].name, y};
        }
        charts[c] = (tp_chart){tp_metric_get(CHARTED[c])->key, "temperature",
                               spec->temperatures, T, series + c * S, S};
    }
    return n;
}

static int report(const struct sweep_args *a, const tp_sweep_spec *spec,
                  const tp_sweep_cell *cells)
{
    tp_error err = {0};
    int has_ref = a->reference != NULL;
    print_table(spec, cells, has_ref);
    tp_chart charts[6];
    tp_series series[6 * MAX_STRATEGIES];
    double ys[6 * MAX_STRATEGIES * MAX_TEMPS];
    int n = build_charts(spec, cells, has_ref, charts, series, ys);
    for (int c = 0; c < n && spec->n_temperatures > 1; c++) {
        putchar('\n');
        tp_chart_print(stdout, &charts[c], 56, 10);
    }
    if ((a->csv && tp_sweep_write_csv(a->csv, spec, cells, &err)) ||
        (a->json && tp_sweep_write_json(a->json, spec, cells, a->prompt, &err)))
        return tp_cli_report("sweep", &err);
    for (int i = 0; i < a->n_plots; i++)
        if (tp_chart_write(a->plots[i], charts, n, &err))
            return tp_cli_report("sweep", &err);
    return TP_EXIT_OK;
}

static int run(const struct sweep_args *a, const tp_cli_common *c)
{
    tp_error err = {0};
    tp_model *m = NULL;
    tp_reference *ref = NULL;
    int *ids = NULL, n_ids = 0;
    char *ref_text = NULL;
    size_t ref_len;
    tp_sweep_cell *cells = NULL;
    int status = TP_EXIT_RUNTIME;
    if (tp_sampler_validate(&c->cfg, &err) || tp_cli_load_model(c, &m, &err) ||
        tp_vocab_encode(m->vocab, a->prompt, &ids, &n_ids, &err) ||
        (a->reference && (tp_read_file(a->reference, &ref_text, &ref_len, &err) ||
                          tp_reference_build(&ref, ref_text, &err))))
        goto done;
    tp_sweep_spec spec = {
        .model = m, .prompt = ids, .n_prompt = n_ids, .temperatures = a->temps,
        .n_temperatures = a->n_temps, .strategies = a->strategies,
        .n_strategies = a->n_strategies, .n_seeds = (int)a->seeds, .seed0 = c->seed,
        .length = (int)a->length, .jobs = (int)a->jobs, .reference = ref, .base = c->cfg,
    };
    cells = calloc((size_t)tp_sweep_n_cells(&spec), sizeof *cells);
    if (!cells) {
        tp_fail(&err, TP_ERR_NOMEM, "out of memory for %d cells", tp_sweep_n_cells(&spec));
        goto done;
    }
    struct progress prog = {.show = a->progress || isatty(STDERR_FILENO)};
    prog.start = tp_cli_now();
    if (tp_sweep_run(&spec, cells, 0, on_progress, &prog, &err))
        goto done;
    status = report(a, &spec, cells);
    err.code = TP_OK;
done:
    if (err.code)
        status = tp_cli_report("sweep", &err);
    free(cells);
    free(ids);
    free(ref_text);
    tp_reference_free(ref);
    tp_model_free(m);
    return status;
}

int tp_cmd_sweep(int argc, char **argv)
{
    static const struct option opts[] = {
        TP_COMMON_LONG_OPTIONS,
        {"temperatures", required_argument, 0, OPT_TEMPS},
        {"strategies", required_argument, 0, OPT_STRATEGIES},
        {"seeds", required_argument, 0, OPT_SEEDS},
        {"length", required_argument, 0, OPT_LENGTH},
        {"prompt", required_argument, 0, OPT_PROMPT},
        {"reference", required_argument, 0, OPT_REFERENCE},
        {"csv", required_argument, 0, OPT_CSV},
        {"json", required_argument, 0, OPT_JSON},
        {"plot", required_argument, 0, OPT_PLOT},
        {"jobs", required_argument, 0, OPT_JOBS},
        {"progress", no_argument, 0, OPT_PROGRESS},
        {0, 0, 0, 0},
    };
    tp_cli_common c;
    tp_cli_common_init(&c);
    struct sweep_args a = {.seeds = 5, .length = 200, .prompt = ""};
    a.jobs = tp_cli_default_jobs();
    tp_error err = {0};
    if (parse_temps(&a, "0.2,0.5,0.8,1.2", &err) || parse_strategies(&a, "sample", &err))
        return tp_cli_report("sweep", &err);
    int st = tp_cli_parse("sweep", argc, argv, opts, HELP, 1, &c, own_option, &a);
    if (st >= 0)
        return st;
    if (optind < argc)
        return tp_cli_usage_error("sweep", "unexpected argument '%s'", argv[optind]);
    return run(&a, &c);
}
