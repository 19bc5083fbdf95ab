/* probs.c - `tempest probs`: one next-token distribution, as a table or JSON. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tempest/cli.h"
#include "tempest/logits.h"
#include "tempest/session.h"

static const char HELP[] =
    "Usage: tempest probs (--context TEXT | --logits FILE) [--top N] [--json] [options]\n"
    "Show the next-token distribution after TEXT, or for raw logits, through the\n"
    "sampling chain: each token's raw logit, its plain softmax probability (p_base)\n"
    "and its probability after the chain (p; 0 when cut). Sorted by p_base.\n\n"
    "  --context TEXT         text the model reads first\n"
    "  --logits FILE          a JSON array or whitespace-separated numbers; '-' is\n"
    "                         stdin. Token texts come from --model when it is given\n"
    "                         (its vocabulary must be as long), else they are null\n"
    "  --top N                show the N most likely tokens only (default: all in JSON,\n"
    "                         20 in the table)\n"
    "  --json                 print one JSON object:\n"
    "                         {\"vocab_size\",\"order\",\"entropy_bits\",\"tokens\":[{\"id\",\n"
    "                         \"text\",\"logit\",\"p_base\",\"p\",\"kept\"}]}\n\n";

enum { OPT_CONTEXT = TP_OPT_FIRST_OWN, OPT_LOGITS, OPT_TOP, OPT_JSON };

#define MAX_LOGITS TP_LOGITS_MAX

static tp_status read_logits(const char *path, float **out, int *n, tp_error *err)
{
    char *text;
    size_t len;
    tp_status rc = tp_read_file(path, &text, &len, err);
    if (rc)
        return rc;
    rc = tp_logits_parse(text, len, out, n, err);
    free(text);
    if (rc)
        tp_error_prefix(err, "%s", path);
    return rc;
}

static cJSON *order_json(const tp_sampler_config *cfg)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < cfg->n_order; i++)
        if (cfg->order[i] != TP_STAGE_REPEAT || cfg->repeat_penalty != 1.0)
            cJSON_AddItemToArray(a, cJSON_CreateString(tp_stage_name(cfg->order[i])));
    return a;
}

static cJSON *token_json(const tp_dist *d, const tp_vocab *v, int id)
{
    cJSON *t = cJSON_CreateObject();
    if (!t)
        return NULL;
    cJSON_AddNumberToObject(t, "id", id);
    if (v)
        cJSON_AddStringToObject(t, "text", tp_vocab_token(v, id));
    else
        cJSON_AddNullToObject(t, "text");
    cJSON_AddNumberToObject(t, "logit", d->logits[id]);
    cJSON_AddNumberToObject(t, "p_base", d->p_base[id]);
    cJSON_AddNumberToObject(t, "p", d->p[id]);
    cJSON_AddBoolToObject(t, "kept", d->kept[id]);
    return t;
}

static int print_json(const tp_sampler_config *cfg, const tp_dist *d, const tp_vocab *v,
                      const int *order, int top)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *toks = cJSON_CreateArray();
    if (!root || !toks)
        return 0;
    cJSON_AddNumberToObject(root, "vocab_size", d->n);
    cJSON_AddItemToObject(root, "order", order_json(cfg));
    cJSON_AddNumberToObject(root, "entropy_bits", d->entropy_bits);
    for (int i = 0; i < top; i++)
        cJSON_AddItemToArray(toks, token_json(d, v, order[i]));
    cJSON_AddItemToObject(root, "tokens", toks);
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!s)
        return 0;
    puts(s);
    free(s);
    return 1;
}

static void print_table(const tp_sampler_config *cfg, const tp_dist *d, const tp_vocab *v,
                        const int *order, int top)
{
    char label[128];
    tp_sampler_order_label(cfg, label, sizeof label);
    printf("entropy %.3f bits, kept %d of %d, T=%g, order %s\n", d->entropy_bits, d->n_kept,
           d->n, cfg->temperature, label);
    printf("%5s %6s  %-10s %10s %9s %9s\n", "rank", "id", "token", "logit", "p_base", "p");
    for (int i = 0; i < top; i++) {
        int id = order[i];
        char shown[64];
        if (v)
            tp_vocab_escape(tp_vocab_token(v, id), 0, shown, sizeof shown);
        else
            snprintf(shown, sizeof shown, "-");
        printf("%5d %6d  %-10s %10.4f %8.4f%% %8.4f%%", i + 1, id, shown, d->logits[id],
               100 * d->p_base[id], 100 * d->p[id]);
        if (!d->kept[id])
            printf("  cut by %s", tp_stage_name((tp_stage)d->cut_by[id]));
        putchar('\n');
    }
}

struct probs_args {
    tp_cli_common c;
    const char *context, *logits_path;
    long top;
    int json;
};

static int show(const struct probs_args *a, const tp_dist *d, const tp_vocab *v)
{
    int *order = malloc((size_t)d->n * sizeof *order);
    if (!order) {
        tp_error err;
        tp_fail(&err, TP_ERR_NOMEM, "out of memory");
        return tp_cli_report("probs", &err);
    }
    tp_dist_order(d, 0, order);
    long top = a->top >= 0 ? a->top : (a->json ? d->n : 20);
    if (top > d->n)
        top = d->n;
    int ok = 1;
    if (a->json)
        ok = print_json(&a->c.cfg, d, v, order, (int)top);
    else
        print_table(&a->c.cfg, d, v, order, (int)top);
    free(order);
    if (!ok) {
        fprintf(stderr, "tempest probs: out of memory printing JSON\n");
        return TP_EXIT_RUNTIME;
    }
    return TP_EXIT_OK;
}

static int run_logits(const struct probs_args *a)
{
    tp_error err = {0};
    float *logits = NULL;
    int n = 0;
    tp_model *m = NULL;
    if (tp_sampler_validate(&a->c.cfg, &err) || read_logits(a->logits_path, &logits, &n, &err) ||
        (a->c.model_path && tp_model_load(&m, a->c.model_path, &err)))
        goto fail;
    if (m && m->n_vocab != n) {
        tp_fail(&err, TP_ERR_USAGE, "%d logits but the model's vocabulary has %d tokens", n,
                m->n_vocab);
        goto fail;
    }
    tp_dist d;
    if (tp_dist_init(&d, n, &err))
        goto fail;
    tp_sampler_apply(&a->c.cfg, logits, NULL, 0, &d);
    int status = show(a, &d, m ? m->vocab : NULL);
    tp_dist_free(&d);
    free(logits);
    tp_model_free(m);
    return status;
fail:
    free(logits);
    tp_model_free(m);
    return tp_cli_report("probs", &err);
}

static int run_context(const struct probs_args *a)
{
    tp_error err = {0};
    tp_model *m = NULL;
    tp_session *s = NULL;
    if (tp_cli_load_model(&a->c, &m, &err) ||
        tp_session_new(&s, m, a->context, &a->c.cfg, a->c.seed, &err)) {
        tp_model_free(m);
        return tp_cli_report("probs", &err);
    }
    int status = show(a, &s->dist, m->vocab);
    tp_session_free(s);
    tp_model_free(m);
    return status;
}

static tp_status own_option(void *ctx, int opt, const char *arg, tp_error *err)
{
    struct probs_args *a = ctx;
    switch (opt) {
    case OPT_CONTEXT: a->context = arg; break;
    case OPT_LOGITS: a->logits_path = arg; break;
    case OPT_JSON: a->json = 1; break;
    default: return tp_parse_long("--top", arg, 1, MAX_LOGITS, &a->top, err);
    }
    return TP_OK;
}

int tp_cmd_probs(int argc, char **argv)
{
    static const struct option opts[] = {
        TP_COMMON_LONG_OPTIONS,
        {"context", required_argument, 0, OPT_CONTEXT},
        {"logits", required_argument, 0, OPT_LOGITS},
        {"top", required_argument, 0, OPT_TOP},
        {"json", no_argument, 0, OPT_JSON},
        {0, 0, 0, 0},
    };
    struct probs_args a = {.top = -1};
    tp_cli_common_init(&a.c);
    int st = tp_cli_parse("probs", argc, argv, opts, HELP, 1, &a.c, own_option, &a);
    if (st >= 0)
        return st;
    if (optind < argc)
        return tp_cli_usage_error("probs", "unexpected argument '%s'", argv[optind]);
    if (!a.context == !a.logits_path)
        return tp_cli_usage_error("probs", "give exactly one of --context TEXT and "
                                  "--logits FILE");
    return a.logits_path ? run_logits(&a) : run_context(&a);
}
