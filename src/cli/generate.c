/* generate.c - `tempest generate`: plain text out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tempest/cli.h"
#include "tempest/decode.h"
#include "tempest/session.h"

static const char HELP[] =
    "Usage: tempest generate [--prompt TEXT] [--length N] [options]\n"
    "Print the prompt, then N generated tokens (and a final newline when the text\n"
    "does not end with one). The same model, prompt, settings and seed always give\n"
    "the same text.\n\n"
    "  --prompt TEXT          text to start from (default: empty). The model reads a\n"
    "                         newline first, as at the start of a line of its corpus\n"
    "  --length N             tokens to generate, 0 to 10000000 (default 300)\n"
    "  --beam N               beam search with N beams (1 to 64): keep the N sequences\n"
    "                         with the highest sum of log probabilities under the\n"
    "                         chain. With top-k, top-p or min-p on, each beam expands\n"
    "                         by N draws from its filtered distribution (sampled beam)\n\n";

enum { OPT_PROMPT = TP_OPT_FIRST_OWN, OPT_LENGTH, OPT_BEAM };

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
    long length, beam;
};

static int truncating(const tp_sampler_config *cfg)
{
    return cfg->top_k > 0 || cfg->top_p < 1.0 || cfg->min_p > 0.0;
}

static int run_beam(const tp_cli_common *c, const struct generate_args *a)
{
    tp_error err = {0};
    tp_model *m = NULL;
    int *ids = NULL, n = 0;
    tp_generation g = {0};
    char *text = NULL;
    int status = TP_EXIT_OK;
    if (tp_sampler_validate(&c->cfg, &err) || tp_cli_load_model(c, &m, &err) ||
        tp_vocab_encode(m->vocab, a->prompt, &ids, &n, &err) ||
        tp_decode(m, ids, n, &c->cfg, (int)a->beam, truncating(&c->cfg), c->seed,
                  (int)a->length, &g, &err)) {
        status = tp_cli_report("generate", &err);
    } else if (!(text = tp_vocab_join(m->vocab, n ? ids[n - 1] : -1, g.tokens, g.n))) {
        fputs("tempest generate: out of memory\n", stderr);
        status = TP_EXIT_RUNTIME;
    } else {
        size_t tl = strlen(text), pl = strlen(a->prompt);
        printf("%s%s", a->prompt, text);
        int ends_nl = tl ? text[tl - 1] == '\n' : (pl ? a->prompt[pl - 1] == '\n' : 1);
        if (!ends_nl)
            putchar('\n');
    }
    free(text);
    free(g.tokens);
    free(ids);
    tp_model_free(m);
    return status;
}

static tp_status own_option(void *ctx, int opt, const char *arg, tp_error *err)
{
    struct generate_args *a = ctx;
    if (opt == OPT_PROMPT) {
        a->prompt = arg;
        return TP_OK;
    }
    if (opt == OPT_BEAM)
        return tp_parse_long("--beam", arg, 1, TP_BEAM_MAX, &a->beam, err);
    return tp_parse_long("--length", arg, 0, 10000000, &a->length, err);
}

int tp_cmd_generate(int argc, char **argv)
{
    static const struct option opts[] = {
        TP_COMMON_LONG_OPTIONS,
        {"prompt", required_argument, 0, OPT_PROMPT},
        {"length", required_argument, 0, OPT_LENGTH},
        {"beam", required_argument, 0, OPT_BEAM},
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
    return a.beam ? run_beam(&c, &a) : run(&c, a.prompt, a.length);
}
