/* inspect.c - `tempest inspect`: what a model file holds. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#include "tempest/cli.h"

static const char HELP[] =
    "Usage: tempest inspect [MODEL] [--json]\n"
    "Describe a model: architecture (LSTM, GRU, RNN (tanh) or RNN (relu)), parameter\n"
    "count, tokenizer, vocabulary and description. MODEL defaults to the bundled\n"
    "model (--model PATH also works).\n\n"
    "  --json                 print {\"path\",\"architecture\",\"layers\",\"embed\",\n"
    "                         \"hidden\",\"vocab_size\",\"tokenizer\",\"parameters\",\n"
    "                         \"description\",\"vocab\"}; architecture is one of\n"
    "                         lstm, gru, rnn_tanh, rnn_relu\n"
    "  --help, --version\n"
    "The sampler options every command takes (--temperature, --top-k, --top-p,\n"
    "--min-p, --order, --repeat-penalty, --repeat-last-n, --seed) are checked but\n"
    "change nothing here: nothing is sampled.\n";

enum { OPT_JSON = TP_OPT_FIRST_OWN };

static int print_json(const tp_model *m, const char *path)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *vocab = cJSON_CreateArray();
    if (!o || !vocab)
        return 0;
    cJSON_AddStringToObject(o, "path", path);
    cJSON_AddStringToObject(o, "architecture", tp_cell_id(m->cell));
    cJSON_AddNumberToObject(o, "layers", m->n_layers);
    cJSON_AddNumberToObject(o, "embed", m->n_embed);
    cJSON_AddNumberToObject(o, "hidden", m->n_hidden);
    cJSON_AddNumberToObject(o, "vocab_size", m->n_vocab);
    cJSON_AddStringToObject(o, "tokenizer", tp_tokenizer_name(tp_vocab_kind(m->vocab)));
    cJSON_AddNumberToObject(o, "parameters", (double)m->n_params);
    cJSON_AddStringToObject(o, "description", m->description);
    for (int i = 0; i < m->n_vocab; i++)
        cJSON_AddItemToArray(vocab, cJSON_CreateString(tp_vocab_token(m->vocab, i)));
    cJSON_AddItemToObject(o, "vocab", vocab);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s)
        return 0;
    puts(s);
    free(s);
    return 1;
}

static void print_text(const tp_model *m, const char *path)
{
    printf("model        %s\n", path);
    printf("architecture %s, %d layer%s, %s %d, hidden %d\n", tp_cell_name(m->cell),
           m->n_layers, m->n_layers == 1 ? "" : "s", m->n_embed ? "embedding" : "one-hot input",
           m->n_embed ? m->n_embed : m->n_vocab, m->n_hidden);
    printf("parameters   %zu (%.2f MB as F32)\n", m->n_params, m->n_params * 4.0 / 1e6);
    printf("tokenizer    %s, %d tokens\n", tp_tokenizer_name(tp_vocab_kind(m->vocab)),
           m->n_vocab);
    printf("description  %s\n", m->description[0] ? m->description : "(none)");
    printf("vocabulary  ");
    for (int i = 0; i < m->n_vocab && i < 200; i++) {
        char shown[64];
        tp_vocab_escape(tp_vocab_token(m->vocab, i), 0, shown, sizeof shown);
        printf(" %s", shown);
    }
    printf("%s\n", m->n_vocab > 200 ? " ..." : "");
}

static tp_status own_option(void *ctx, int opt, const char *arg, tp_error *err)
{
    (void)opt;
    (void)arg;
    (void)err;
    *(int *)ctx = 1; /* --json, the only option of its own */
    return TP_OK;
}

static int describe(const char *path, int json)
{
    tp_error err = {0};
    tp_model *m = NULL;
    if (tp_model_load(&m, path, &err))
        return tp_cli_report("inspect", &err);
    int ok = 1;
    if (json)
        ok = print_json(m, path);
    else
        print_text(m, path);
    tp_model_free(m);
    return ok ? TP_EXIT_OK : TP_EXIT_RUNTIME;
}

int tp_cmd_inspect(int argc, char **argv)
{
    static const struct option opts[] = {
        TP_COMMON_LONG_OPTIONS,
        {"json", no_argument, 0, OPT_JSON},
        {0, 0, 0, 0},
    };
    tp_cli_common c;
    tp_cli_common_init(&c);
    int json = 0;
    int st = tp_cli_parse("inspect", argc, argv, opts, HELP, 0, &c, own_option, &json);
    if (st >= 0)
        return st;
    if (optind < argc)
        c.model_path = argv[optind++];
    if (optind < argc)
        return tp_cli_usage_error("inspect", "unexpected argument '%s'", argv[optind]);
    if (c.model_path)
        return describe(c.model_path, json);
    char *path = tp_default_model_path();
    if (!path) {
        fputs("tempest inspect: out of memory\n", stderr);
        return TP_EXIT_RUNTIME;
    }
    st = describe(path, json);
    free(path);
    return st;
}
