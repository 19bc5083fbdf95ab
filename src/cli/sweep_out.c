/* sweep_out.c - a sweep's cells and summaries as CSV and JSON files.
 * Files are written atomically (tp_atomic_file), so a failed write never
 * leaves a half file where a good one was. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tempest/atomic_file.h"
#include "tempest/cli.h"
#include "tempest/sweep.h"

static void csv_metrics(FILE *f, const double *m)
{
    for (int i = 0; i < TP_N_METRICS; i++)
        if (isfinite(m[i]))
            fprintf(f, ",%.9g", m[i]);
        else
            fputc(',', f);
    fputc('\n', f);
}

/* Strategy names may hold ';' or '=' but never a comma or a quote, so they
 * are written as is. */
int tp_sweep_write_csv(const char *path, const tp_sweep_spec *spec, const tp_sweep_cell *cells,
                       tp_error *err)
{
    tp_atomic_file af;
    if (tp_atomic_open(&af, path, err))
        return err->code;
    FILE *f = af.f;
    fprintf(f, "strategy,temperature,seed");
    for (int i = 0; i < TP_N_METRICS; i++)
        fprintf(f, ",%s", tp_metric_get((tp_metric)i)->key);
    fputc('\n', f);
    int n = tp_sweep_n_cells(spec);
    for (int i = 0; i < n; i++) {
        const tp_sweep_cell *c = &cells[i];
        fprintf(f, "%s,%g,%llu", spec->strategies[c->strategy].name,
                spec->temperatures[c->temperature], (unsigned long long)c->seed);
        csv_metrics(f, c->metric);
    }
    for (int s = 0; s < spec->n_strategies; s++)
        for (int t = 0; t < spec->n_temperatures; t++) {
            double mean[TP_N_METRICS], sd[TP_N_METRICS];
            tp_sweep_summary(spec, cells, s, t, mean, sd);
            fprintf(f, "%s,%g,mean", spec->strategies[s].name, spec->temperatures[t]);
            csv_metrics(f, mean);
            fprintf(f, "%s,%g,sd", spec->strategies[s].name, spec->temperatures[t]);
            csv_metrics(f, sd);
        }
    return tp_atomic_commit(&af, err);
}

static cJSON *metrics_json(const double *m)
{
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; o && i < TP_N_METRICS; i++) {
        const char *key = tp_metric_get((tp_metric)i)->key;
        if (isfinite(m[i]))
            cJSON_AddNumberToObject(o, key, m[i]);
        else
            cJSON_AddNullToObject(o, key);
    }
    return o;
}

static cJSON *cells_json(const tp_sweep_spec *spec, const tp_sweep_cell *cells)
{
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; arr && i < tp_sweep_n_cells(spec); i++) {
        const tp_sweep_cell *c = &cells[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "strategy", spec->strategies[c->strategy].name);
        cJSON_AddNumberToObject(o, "temperature", spec->temperatures[c->temperature]);
        cJSON_AddNumberToObject(o, "seed", (double)c->seed);
        cJSON_AddItemToObject(o, "metrics", metrics_json(c->metric));
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

static cJSON *summary_json(const tp_sweep_spec *spec, const tp_sweep_cell *cells)
{
    cJSON *arr = cJSON_CreateArray();
    for (int s = 0; arr && s < spec->n_strategies; s++)
        for (int t = 0; t < spec->n_temperatures; t++) {
            double mean[TP_N_METRICS], sd[TP_N_METRICS];
            tp_sweep_summary(spec, cells, s, t, mean, sd);
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "strategy", spec->strategies[s].name);
            cJSON_AddNumberToObject(o, "temperature", spec->temperatures[t]);
            cJSON_AddNumberToObject(o, "seeds", spec->n_seeds);
            cJSON_AddItemToObject(o, "mean", metrics_json(mean));
            cJSON_AddItemToObject(o, "sd", metrics_json(sd));
            cJSON_AddItemToArray(arr, o);
        }
    return arr;
}

int tp_sweep_write_json(const char *path, const tp_sweep_spec *spec, const tp_sweep_cell *cells,
                        const char *prompt, tp_error *err)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return tp_fail(err, TP_ERR_NOMEM, "out of memory writing JSON");
    cJSON_AddStringToObject(root, "prompt", prompt);
    cJSON_AddNumberToObject(root, "length", spec->length);
    cJSON_AddNumberToObject(root, "seeds", spec->n_seeds);
    cJSON_AddNumberToObject(root, "first_seed", (double)spec->seed0);
    cJSON_AddItemToObject(root, "cells", cells_json(spec, cells));
    cJSON_AddItemToObject(root, "summary", summary_json(spec, cells));
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text)
        return tp_fail(err, TP_ERR_NOMEM, "out of memory writing JSON");
    tp_atomic_file af;
    tp_status rc = tp_atomic_open(&af, path, err);
    if (!rc) {
        fputs(text, af.f);
        fputc('\n', af.f);
        rc = tp_atomic_commit(&af, err);
    }
    free(text);
    return rc;
}
