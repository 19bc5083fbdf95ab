/* generate.c - `tempest generate`: plain text out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tempest/cli.h"
#include "tempest/session.h"

static const char HELP[] =
    "Usage: tempest generate [--prompt TEXT] [--length N] [options]\n"
    "Print the prompt, then N generated tokens (and a final newline when the text\n"
    "does not end with one). The same model, prompt, settings and seed always give\n"
    "the same text.\n\n"
    "  --prompt TEXT          text to start from (default: empty, which starts the\n"
    "                         model from a newline)\n"
    "  --length N             tokens to generate, 0 to 10000000 (default 300)\n\n";

enum { OPT_PROMPT = TP_OPT_FIRST_OWN, OPT_LENGTH };

static void print_token(const tp_vocab *v, int prev, int id, int *ends_nl)
{
    const char *tok = tp_vocab_token(v, id);
    fputs(tp_vocab_separator(v, prev, id), stdout);
    fputs(tok, stdout);
    size_t n = strlen(tok);
    if (n > 0)
        *ends_nl = tok[n - 1] == '\n';
}

static int run(const tp_cli_common *c, const char *prompt, long length)
{
    tp_error err = {0};
    tp_model *m = NULL;
    tp_session *s = NULL;
    if (tp_cli_load_model(c, &m, &err) ||
        tp_session_new(&s, m, prompt, &c->cfg, c->seed, &err)) {
        tp_model_free(m);
        return tp_cli_report("generate", &err);
    }
    fputs(prompt, stdout);
    int ends_nl = prompt[0] ? prompt[strlen(prompt) - 1] == '\n' : 1;
    int prev = s->n_tokens ? s->tokens[s->n_tokens - 1] : -1;
    int status = TP_EXIT_OK;
    for (long i = 0; i < length; i++) {
        int tok = tp_session_step(s, &err);
        if (tok < 0) {
            status = tp_cli_report("generate", &err);
            break;
        }
        print_token(m->vocab, prev, tok, &ends_nl);
        prev = tok;
    }
    if (!ends_nl)
        putchar('\n');
    if (fflush(stdout) != 0 && status == TP_EXIT_OK) {
        tp_fail(&err, TP_ERR_IO, "cannot write the output");
        status = tp_cli_report("generate", &err);
    }
    tp_session_free(s);
    tp_model_free(m);
    return status;
}

struct generate_args {
    const char *prompt;
    long length;
};

static tp_status own_option(void *ctx, int opt, const char *arg, tp_error *err)
{
    struct generate_args *a = ctx;
    if (opt == OPT_PROMPT) {
        a->prompt = arg;
        return TP_OK;
    }
    return tp_parse_long("--length", arg, 0, 10000000, &a->length, err);
}

int tp_cmd_generate(int argc, char **argv)
{
    static const struct option opts[] = {
        TP_COMMON_LONG_OPTIONS,
        {"prompt", required_argument, 0, OPT_PROMPT},
        {"length", required_argument, 0, OPT_LENGTH},
        {0, 0, 0, 0},
    };
    tp_cli_common c;
    tp_cli_common_init(&c);
    struct generate_args a = {.prompt = "", .length = 300};
    int st = tp_cli_parse("generate", argc, argv, opts, HELP, 1, &c, own_option, &a);
    if (st >= 0)
        return st;
    if (optind < argc)
        return tp_cli_usage_error("generate", "unexpected argument '%s'", argv[optind]);
    return run(&c, a.prompt, a.length);
}
