/* chaos.c - `tempest chaos`: how many steps until T and T + eps part, over
 * many seeds, and how that depends on T. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tempest/chaos.h"
#include "tempest/chart.h"
#include "tempest/cli.h"
#include "tempest/sweep.h"

static const char HELP[] =
    "Usage: tempest chaos [--temperature T] [--epsilon E] [--seeds N] [--length N]\n"
    "                     [--temperatures LIST] [--prompt P] [--jobs N] [--json] [options]\n"
    "For each seed, generate at T and at T + E from the same prompt with the same\n"
    "random numbers and find the first step where the two texts differ. Prints the\n"
    "distribution of that step (min, quartiles, median, mean, max and a histogram)\n"
    "and a table of how it depends on T. Seeds are S, S+1, ... (S from --seed);\n"
    "the same seeds give the same numbers for any --jobs. A seed whose texts agree\n"
    "for all --length steps is censored and counts as LENGTH in the statistics\n"
    "(they are then lower bounds); the output says how many.\n\n"
    "  --epsilon E            the temperature difference, above 0 up to 1 (default 0.01)\n"
    "  --seeds N              1 to 100000 (default 200)\n"
    "  --length N             steps before a seed is censored, 1 to 100000 (default 300)\n"
    "  --temperatures LIST    increasing, for the table of T (default 0.5,0.8,1.0,1.5)\n"
    "  --prompt P             text both lanes start from (default: empty)\n"
    "  --jobs N               threads, 1 to 64 (default: the number of CPUs)\n"
    "  --json                 print JSON instead of the tables (see tempest(1))\n\n";

enum { OPT_EPSILON = TP_OPT_FIRST_OWN, OPT_SEEDS, OPT_LENGTH, OPT_TEMPS, OPT_PROMPT, OPT_JOBS,
       OPT_JSON };

#define MAX_TEMPS 16
#define HIST_BINS 10

struct chaos_args {
    double epsilon;
    long seeds, length, jobs;
    double temps[MAX_TEMPS];
    int n_temps, json;
    const char *prompt;
};

/* One temperature's results. */
struct chaos_result {
    double temperature;
    int *steps;
    tp_chaos_stats stats;
};

static tp_status parse_temps(struct chaos_args *a, const char *text, tp_error *err)
{
    tp_status rc = tp_parse_temperatures(text, strlen(text), a->temps, MAX_TEMPS, &a->n_temps,
                                         err);
    if (rc)
        tp_error_prefix(err, "--temperatures");
    return rc;
}

static tp_status own_option(void *ctx, int opt, const char *arg, tp_error *err)
{
    struct chaos_args *a = ctx;
    switch (opt) {
    case OPT_EPSILON:
        if (tp_parse_double("--epsilon", arg, 0, 1, &a->epsilon, err))
            return err->code;
        return a->epsilon > 0 ? TP_OK
                              : tp_fail(err, TP_ERR_USAGE, "--epsilon must be above 0");
    case OPT_SEEDS: return tp_parse_long("--seeds", arg, 1, 100000, &a->seeds, err);
    case OPT_LENGTH: return tp_parse_long("--length", arg, 1, 100000, &a->length, err);
    case OPT_JOBS: return tp_parse_long("--jobs", arg, 1, 64, &a->jobs, err);
    case OPT_TEMPS: return parse_temps(a, arg, err);
    case OPT_PROMPT: a->prompt = arg; break;
    default: a->json = 1; break;
    }
    return TP_OK;
}

static tp_status measure(tp_chaos_spec spec, double t, struct chaos_result *r, tp_error *err)
{
    r->temperature = t;
    r->steps = malloc((size_t)spec.n_seeds * sizeof *r->steps);
    if (!r->steps)
        return tp_fail(err, TP_ERR_NOMEM, "out of memory for %d seeds", spec.n_seeds);
    spec.temperature = t;
    tp_status rc = tp_chaos_run(&spec, r->steps, err);
    if (!rc)
        tp_chaos_stats_compute(r->steps, spec.n_seeds, spec.length, &r->stats);
    return rc;
}

static void print_stats_row(const tp_chaos_stats *s)
{
    printf("%8.0f %8.2f %8.2f %8.2f %8.2f %8.0f\n", s->min, s->q1, s->median, s->mean, s->q3,
           s->max);
}

static void print_text(const struct chaos_args *a, const tp_chaos_spec *spec,
                       const struct chaos_result *main_r, const struct chaos_result *by_t)
{
    const tp_chaos_stats *s = &main_r->stats;
    printf("first divergence of T=%.4g and T=%.4g over %d seeds (%llu to %llu), %d steps\n",
           spec->temperature, spec->temperature + spec->epsilon, spec->n_seeds,
           (unsigned long long)spec->seed0,
           (unsigned long long)(spec->seed0 + (uint64_t)spec->n_seeds - 1), spec->length);
    printf("split: %d, censored (never split): %d%s\n\n", s->n_split, s->n_censored,
           s->n_censored ? " - counted as the length, so the numbers are lower bounds" : "");
    printf("%8s %8s %8s %8s %8s %8s\n", "min", "q1", "median", "mean", "q3", "max");
    print_stats_row(s);
    int counts[HIST_BINS];
    tp_chaos_histogram(main_r->steps, spec->n_seeds, spec->length, HIST_BINS, counts);
    putchar('\n');
    tp_chart_print_histogram(stdout, "seeds by step of first divergence (censored left out)",
                             0, (double)spec->length / HIST_BINS, counts, HIST_BINS, 50);
    printf("\nhow it depends on T (epsilon %.4g, the same seeds):\n", spec->epsilon);
    printf("%6s %8s %8s %8s %8s %8s %8s %9s\n", "T", "min", "q1", "median", "mean", "q3",
           "max", "censored");
    for (int i = 0; i < a->n_temps; i++) {
        printf("%6.2f ", by_t[i].temperature);
        const tp_chaos_stats *b = &by_t[i].stats;
        printf("%8.0f %8.2f %8.2f %8.2f %8.2f %8.0f %9d\n", b->min, b->q1, b->median, b->mean,
               b->q3, b->max, b->n_censored);
    }
}

static cJSON *stats_json(const struct chaos_result *r)
{
    cJSON *o = cJSON_CreateObject();
    const tp_chaos_stats *s = &r->stats;
    cJSON_AddNumberToObject(o, "temperature", r->temperature);
    cJSON_AddNumberToObject(o, "split", s->n_split);
    cJSON_AddNumberToObject(o, "censored", s->n_censored);
    cJSON_AddNumberToObject(o, "min", s->min);
    cJSON_AddNumberToObject(o, "q1", s->q1);
    cJSON_AddNumberToObject(o, "median", s->median);
    cJSON_AddNumberToObject(o, "mean", s->mean);
    cJSON_AddNumberToObject(o, "q3", s->q3);
    cJSON_AddNumberToObject(o, "max", s->max);
    return o;
}

static tp_status print_json(const struct chaos_args *a, const tp_chaos_spec *spec,
                            const struct chaos_result *main_r, const struct chaos_result *by_t,
                            tp_error *err)
{
    cJSON *root = stats_json(main_r);
    cJSON_AddNumberToObject(root, "epsilon", spec->epsilon);
    cJSON_AddNumberToObject(root, "seeds", spec->n_seeds);
    cJSON_AddNumberToObject(root, "seed", (double)spec->seed0);
    cJSON_AddNumberToObject(root, "length", spec->length);
    cJSON_AddStringToObject(root, "prompt", a->prompt);
    cJSON *steps = cJSON_AddArrayToObject(root, "steps");
    for (int i = 0; i < spec->n_seeds && steps; i++)
        cJSON_AddItemToArray(steps, main_r->steps[i] < 0 ? cJSON_CreateNull()
                                                         : cJSON_CreateNumber(main_r->steps[i]));
    int counts[HIST_BINS];
    tp_chaos_histogram(main_r->steps, spec->n_seeds, spec->length, HIST_BINS, counts);
    cJSON *hist = cJSON_AddObjectToObject(root, "histogram");
    cJSON_AddNumberToObject(hist, "bin_width", (double)spec->length / HIST_BINS);
    cJSON_AddItemToObject(hist, "counts", cJSON_CreateIntArray(counts, HIST_BINS));
    cJSON *rows = cJSON_AddArrayToObject(root, "by_temperature");
    for (int i = 0; i < a->n_temps && rows; i++)
        cJSON_AddItemToArray(rows, stats_json(&by_t[i]));
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!text)
        return tp_fail(err, TP_ERR_NOMEM, "out of memory for the JSON");
    puts(text);
    free(text);
    return TP_OK;
}

static int run(const struct chaos_args *a, const tp_cli_common *c)
{
    tp_error err = {0};
    tp_model *m = NULL;
    int *ids = NULL, n_ids = 0;
    struct chaos_result main_r = {0}, by_t[MAX_TEMPS] = {{0}};
    if (tp_cli_load_model(c, &m, &err) ||
        tp_vocab_encode(m->vocab, a->prompt, &ids, &n_ids, &err))
        goto done;
    tp_chaos_spec spec = {
        .model = m, .prompt = ids, .n_prompt = n_ids, .base = c->cfg,
        .temperature = c->cfg.temperature, .epsilon = a->epsilon, .n_seeds = (int)a->seeds,
        .seed0 = c->seed, .length = (int)a->length, .jobs = (int)a->jobs,
    };
    if (measure(spec, spec.temperature, &main_r, &err))
        goto done;
    for (int i = 0; i < a->n_temps; i++) {
        if (a->temps[i] == spec.temperature && (by_t[i].steps = malloc(sizeof *main_r.steps *
                                                                     (size_t)spec.n_seeds))) {
            memcpy(by_t[i].steps, main_r.steps, sizeof *main_r.steps * (size_t)spec.n_seeds);
            by_t[i].temperature = main_r.temperature;
            by_t[i].stats = main_r.stats;
        } else if (measure(spec, a->temps[i], &by_t[i], &err)) {
            goto done;
        }
    }
    if (a->json)
        print_json(a, &spec, &main_r, by_t, &err);
    else
        print_text(a, &spec, &main_r, by_t);
done:;
    int status = err.code ? tp_cli_report("chaos", &err) : TP_EXIT_OK;
    free(main_r.steps);
    for (int i = 0; i < MAX_TEMPS; i++)
        free(by_t[i].steps);
    free(ids);
    tp_model_free(m);
    return status;
}

int tp_cmd_chaos(int argc, char **argv)
{
    static const struct option opts[] = {
        TP_COMMON_LONG_OPTIONS,
        {"epsilon", required_argument, 0, OPT_EPSILON},
        {"seeds", required_argument, 0, OPT_SEEDS},
        {"length", required_argument, 0, OPT_LENGTH},
        {"temperatures", required_argument, 0, OPT_TEMPS},
        {"prompt", required_argument, 0, OPT_PROMPT},
        {"jobs", required_argument, 0, OPT_JOBS},
        {"json", no_argument, 0, OPT_JSON},
        {0, 0, 0, 0},
    };
    tp_cli_common c;
    tp_cli_common_init(&c);
    struct chaos_args a = {.epsilon = 0.01, .seeds = 200, .length = 300, .prompt = ""};
    a.jobs = tp_cli_default_jobs();
    tp_error err = {0};
    if (parse_temps(&a, "0.5,0.8,1.0,1.5", &err))
        return tp_cli_report("chaos", &err);
    int st = tp_cli_parse("chaos", argc, argv, opts, HELP, 1, &c, own_option, &a);
    if (st >= 0)
        return st;
    if (optind < argc)
        return tp_cli_usage_error("chaos", "unexpected argument '%s'", argv[optind]);
    for (int i = 0; i < a.n_temps; i++)
        if (a.temps[i] + a.epsilon > TP_TEMPERATURE_MAX)
            return tp_cli_usage_error("chaos", "--temperatures: %g + epsilon is above %g",
                                      a.temps[i], TP_TEMPERATURE_MAX);
    return run(&a, &c);
}
