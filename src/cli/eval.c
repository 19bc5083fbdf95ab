/* eval.c - `tempest eval`: how well the model predicts a text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include "tempest/cli.h"
#include "tempest/metrics.h"

static const char HELP[] =
    "Usage: tempest eval --text FILE [--json] [--dump-logits FILE] [--model PATH]\n"
    "Score FILE from a zero state, predicting token i+1 from tokens 0..i, and print\n"
    "the number of predictions, nats and bits per token, and perplexity.\n\n"
    "  --text FILE            UTF-8 text to score ('-' is stdin)\n"
    "  --json                 print {\"tokens\",\"nats_per_token\",\"bits_per_token\",\n"
    "                         \"perplexity\"}\n"
    "  --dump-logits FILE     also write the raw logits of every prediction, one line\n"
    "                         of whitespace-separated numbers per position\n"
    "  --model PATH           safetensors model (default: the bundled model)\n"
    "  --help, --version\n"
    "The sampler options every command takes (--temperature, --top-k, --top-p,\n"
    "--min-p, --order, --repeat-penalty, --repeat-last-n, --seed) are checked but\n"
    "change nothing here: scoring uses the model's raw distribution.\n";

enum { OPT_TEXT = TP_OPT_FIRST_OWN, OPT_JSON, OPT_DUMP };

static void dump_logits(void *ctx, long pos, const float *logits, int n)
{
    FILE *f = ctx;
    (void)pos;
    for (int i = 0; i < n; i++)
        fprintf(f, i ? " %.9g" : "%.9g", logits[i]);
    fputc('\n', f);
}

static int score(const tp_model *m, const char *text, FILE *dump, int json)
{
    tp_error err = {0};
    int *ids = NULL, n = 0;
    tp_eval_result r;
    if (tp_vocab_encode(m->vocab, text, &ids, &n, &err) ||
        tp_eval_ids(m, ids, n, dump ? dump_logits : NULL, dump, &r, &err)) {
        free(ids);
        return tp_cli_report("eval", &err);
    }
    free(ids);
    if (json)
        printf("{\"tokens\":%ld,\"nats_per_token\":%.10g,\"bits_per_token\":%.10g,"
               "\"perplexity\":%.10g}\n", r.tokens, r.nats_per_token, r.bits_per_token,
               r.perplexity);
    else
        printf("tokens          %ld\nnats/token      %.6f\nbits/token      %.6f\n"
               "perplexity      %.6f\n", r.tokens, r.nats_per_token, r.bits_per_token,
               r.perplexity);
    return TP_EXIT_OK;
}

static int run(const tp_cli_common *c, const char *path, const char *dump_path, int json)
{
    tp_error err = {0};
    tp_model *m = NULL;
    char *text = NULL;
    size_t len;
    if (tp_read_file(path, &text, &len, &err) || tp_cli_load_model(c, &m, &err)) {
        free(text);
        return tp_cli_report("eval", &err);
    }
    if (strlen(text) != len) {
        tp_fail(&err, TP_ERR_FORMAT, "%s holds a NUL byte at offset %zu", path, strlen(text));
        free(text);
        tp_model_free(m);
        return tp_cli_report("eval", &err);
    }
    FILE *dump = dump_path ? fopen(dump_path, "w") : NULL;
    int status;
    if (dump_path && !dump) {
        tp_fail(&err, TP_ERR_IO, "cannot write '%s': %s", dump_path, strerror(errno));
        status = tp_cli_report("eval", &err);
    } else {
        status = score(m, text, dump, json);
    }
    if (dump && fclose(dump) != 0 && status == TP_EXIT_OK) {
        tp_fail(&err, TP_ERR_IO, "cannot write '%s'", dump_path);
        status = tp_cli_report("eval", &err);
    }
    free(text);
    tp_model_free(m);
    return status;
}

struct eval_args {
    const char *path, *dump;
    int json;
};

static tp_status own_option(void *ctx, int opt, const char *arg, tp_error *err)
{
    struct eval_args *a = ctx;
    (void)err;
    if (opt == OPT_TEXT)
        a->path = arg;
    else if (opt == OPT_DUMP)
        a->dump = arg;
    else
        a->json = 1;
    return TP_OK;
}

int tp_cmd_eval(int argc, char **argv)
{
    static const struct option opts[] = {
        TP_COMMON_LONG_OPTIONS,
        {"text", required_argument, 0, OPT_TEXT},
        {"json", no_argument, 0, OPT_JSON},
        {"dump-logits", required_argument, 0, OPT_DUMP},
        {0, 0, 0, 0},
    };
    tp_cli_common c;
    tp_cli_common_init(&c);
    struct eval_args a = {0};
    int st = tp_cli_parse("eval", argc, argv, opts, HELP, 0, &c, own_option, &a);
    if (st >= 0)
        return st;
    if (optind < argc)
        return tp_cli_usage_error("eval", "unexpected argument '%s'", argv[optind]);
    if (!a.path)
        return tp_cli_usage_error("eval", "--text FILE is required");
    return run(&c, a.path, a.dump, a.json);
}
