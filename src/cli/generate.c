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
    "                         by N draws from its filtered distribution (sampled beam)\n"
    "  --batch N              N samples (1 to 256) with seeds S, S+1, ..., S+N-1 (S from\n"
    "                         --seed), computed together; each is exactly the text\n"
    "                         --seed alone would give. They are printed one after\n"
    "                         another, each but the first preceded by the line\n"
    "                         \"--- seed K ---\" naming its seed. Not with --beam\n"
    "  --timing               after the text, print on standard error how long the\n"
    "                         model took to load and the tokens to generate, and the\n"
    "                         tokens per second (a single sequence's printing is\n"
    "                         timed too; --batch and --beam print after the timing)\n\n";

enum { OPT_PROMPT = TP_OPT_FIRST_OWN, OPT_LENGTH, OPT_BEAM, OPT_BATCH, OPT_TIMING };

#define BATCH_MAX 256

struct generate_args {
    const char *prompt;
    long length, beam, batch;
    int timing;
};

/* When the model started loading, finished loading, and the tokens started
 * and were done (tp_cli_now()). */
struct clock {
    double start, loaded, generating, done;
};

/* --timing's line: `tokens` in all, `n` sequences of them at once. */
static void print_timing(const struct clock *t, long tokens, long n)
{
    double gen = t->done - t->generating;
    fprintf(stderr, "tempest generate: model loaded in %.1f ms; %ld tokens",
            (t->loaded - t->start) * 1e3, tokens);
    if (n > 1)
        fprintf(stderr, " (%ld x %ld)", n, tokens / n);
    fprintf(stderr, " in %.4f s: %.0f tokens/s\n", gen, gen > 0 ? (double)tokens / gen : 0.0);
}

static void print_token(const tp_vocab *v, int prev, int id, int *ends_nl)
{
    const char *tok = tp_vocab_token(v, id);
    fputs(tp_vocab_separator(v, prev, id), stdout);
    fputs(tok, stdout);
    size_t n = strlen(tok);
    if (n > 0)
        *ends_nl = tok[n - 1] == '\n';
}

static int run(const tp_cli_common *c, const struct generate_args *a)
{
    tp_error err = {0};
    tp_model *m = NULL;
    tp_session *s = NULL;
    const char *prompt = a->prompt;
    struct clock t = {.start = tp_cli_now()};
    tp_status rc = tp_cli_load_model(c, &m, &err);
    t.loaded = t.generating = tp_cli_now();
    if (rc || tp_session_new(&s, m, prompt, &c->cfg, c->seed, &err)) {
        tp_model_free(m);
        return tp_cli_report("generate", &err);
    }
    tp_session_set_views(s, 0); /* only tokens are printed: skip p_base and snapshots */
    tp_session_set_streaming(s, 1); /* and forgotten: memory stays flat */
    fputs(prompt, stdout);
    int ends_nl = prompt[0] ? prompt[strlen(prompt) - 1] == '\n' : 1;
    int prev = s->n_tokens ? s->tokens[s->n_tokens - 1] : -1;
    int status = TP_EXIT_OK;
    long i = 0;
    for (; i < a->length; i++) {
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
    t.done = tp_cli_now();
    if (a->timing && status == TP_EXIT_OK)
        print_timing(&t, i, 1);
    tp_session_free(s);
    tp_model_free(m);
    return status;
}

/* One sample of a batch: what a session keeps, minus the history. */
struct sample {
    tp_state *state;
    tp_rng rng;
    tp_dist dist;
    int *tokens; /* prompt then generated */
    int n_tokens;
};

struct batch {
    const tp_model *m;
    const tp_sampler_config *cfg;
    int n, n_prompt;
    struct sample *samples;
    tp_state **states;
    int *next;     /* the token each sample feeds next */
    float *logits; /* n x V */
};

static void batch_free(struct batch *b)
{
    for (int i = 0; b->samples && i < b->n; i++) {
        tp_state_free(b->samples[i].state);
        tp_dist_free(&b->samples[i].dist);
        free(b->samples[i].tokens);
    }
    free(b->samples);
    free(b->states);
    free(b->next);
    free(b->logits);
}

/* Prime every sample as a session would: start token, then the prompt. */
static tp_status batch_init(struct batch *b, const int *ids, int n_ids, uint64_t seed,
                            long length, tp_error *err)
{
    size_t V = (size_t)b->m->n_vocab, cap = (size_t)n_ids + (size_t)length;
    b->samples = calloc((size_t)b->n, sizeof *b->samples);
    b->states = calloc((size_t)b->n, sizeof *b->states);
    b->next = calloc((size_t)b->n, sizeof *b->next);
    b->logits = calloc((size_t)b->n * V, sizeof *b->logits);
    if (!b->samples || !b->states || !b->next || !b->logits)
        return tp_fail(err, TP_ERR_NOMEM, "out of memory for %d samples", b->n);
    for (int i = 0; i < b->n; i++) {
        struct sample *s = &b->samples[i];
        s->state = tp_state_new(b->m);
        s->tokens = malloc((cap ? cap : 1) * sizeof *s->tokens);
        if (!s->state || !s->tokens)
            return tp_fail(err, TP_ERR_NOMEM, "out of memory for %d samples of %ld tokens",
                           b->n, length);
        tp_status rc = tp_dist_init(&s->dist, (int)V, err);
        if (rc)
            return rc;
        s->dist.views = 0; /* only the drawn tokens are used */
        tp_rng_seed(&s->rng, seed + (uint64_t)i); /* wraps like any uint64_t */
        if (n_ids)
            memcpy(s->tokens, ids, (size_t)n_ids * sizeof *ids);
        s->n_tokens = n_ids;
        b->states[i] = s->state;
        /* Every sample reads the same prompt: prime one, copy it to the
         * rest (the same bits; priming each cost n times the prompt). */
        if (i == 0) {
            tp_model_prime(b->m, s->state, ids, n_ids, b->logits);
        } else {
            tp_state_copy(s->state, b->states[0]);
            memcpy(b->logits + (size_t)i * V, b->logits, V * sizeof *b->logits);
        }
    }
    return TP_OK;
}

/* Sample i's next token from its logits, into its text and b->next[i]. */
static void draw_next(void *ctx, int i, float *logits)
{
    struct batch *b = ctx;
    struct sample *s = &b->samples[i];
    tp_sampler_apply(b->cfg, logits, s->tokens, s->n_tokens, &s->dist);
    int tok = tp_sampler_draw(&s->dist, &s->rng);
    s->tokens[s->n_tokens++] = tok;
    b->next[i] = tok;
}

/* `length` tokens for every sample: each draws from its primed logits, then
 * batched steps (bit-identical to stepping each alone) feed the tokens
 * drawn, each sample drawing its next on the core that stepped it. */
static void batch_run(struct batch *b, long length)
{
    size_t V = (size_t)b->m->n_vocab;
    for (int i = 0; length > 0 && i < b->n; i++)
        draw_next(b, i, b->logits + (size_t)i * V);
    tp_model_run_batch(b->m, b->states, b->next, b->n, b->logits, length - 1, draw_next, b);
}

/* The text `generate --seed` would print for one sample. */
static void print_sample(const tp_vocab *v, const char *prompt, const struct sample *s,
                         int n_prompt)
{
    fputs(prompt, stdout);
    int ends_nl = prompt[0] ? prompt[strlen(prompt) - 1] == '\n' : 1;
    int prev = n_prompt ? s->tokens[n_prompt - 1] : -1;
    for (int i = n_prompt; i < s->n_tokens; i++) {
        print_token(v, prev, s->tokens[i], &ends_nl);
        prev = s->tokens[i];
    }
    if (!ends_nl)
        putchar('\n');
}

static int run_batch(const tp_cli_common *c, const struct generate_args *a)
{
    tp_error err = {0};
    tp_model *m = NULL;
    int *ids = NULL, n_ids = 0;
    struct batch b = {.cfg = &c->cfg, .n = (int)a->batch};
    struct clock t = {.start = tp_cli_now()};
    tp_status rc = tp_sampler_validate(&c->cfg, &err);
    if (!rc)
        rc = tp_cli_load_model(c, &m, &err);
    t.loaded = t.generating = tp_cli_now();
    if (!rc)
        rc = tp_vocab_encode(m->vocab, a->prompt, &ids, &n_ids, &err);
    b.m = m;
    b.n_prompt = n_ids;
    if (!rc)
        rc = batch_init(&b, ids, n_ids, c->seed, a->length, &err);
    int status = rc ? tp_cli_report("generate", &err) : TP_EXIT_OK;
    if (!rc)
        batch_run(&b, a->length);
    t.done = tp_cli_now();
    for (int i = 0; !rc && i < b.n; i++) {
        if (i > 0)
            printf("--- seed %llu ---\n", (unsigned long long)(c->seed + (uint64_t)i));
        print_sample(m->vocab, a->prompt, &b.samples[i], n_ids);
    }
    if (!rc && fflush(stdout) != 0) {
        tp_fail(&err, TP_ERR_IO, "cannot write the output");
        status = tp_cli_report("generate", &err);
    }
    if (status == TP_EXIT_OK && a->timing)
        print_timing(&t, b.n * a->length, b.n);
    batch_free(&b);
    free(ids);
    tp_model_free(m);
    return status;
}

static int truncating(const tp_sampler_config *cfg)
{
    return cfg->top_k > 0 || cfg->top_p < 1.0 || cfg->min_p > 0.0;
}

/* The prompt and the best beam's text, with the final newline. */
static int print_beam(const tp_model *m, const char *prompt, const int *ids, int n,
                      const tp_generation *g)
{
    char *text = tp_vocab_join(m->vocab, n ? ids[n - 1] : -1, g->tokens, g->n);
    if (!text) {
        fputs("tempest generate: out of memory\n", stderr);
        return TP_EXIT_RUNTIME;
    }
    size_t tl = strlen(text), pl = strlen(prompt);
    printf("%s%s", prompt, text);
    int ends_nl = tl ? text[tl - 1] == '\n' : (pl ? prompt[pl - 1] == '\n' : 1);
    if (!ends_nl)
        putchar('\n');
    free(text);
    return TP_EXIT_OK;
}

static int run_beam(const tp_cli_common *c, const struct generate_args *a)
{
    tp_error err = {0};
    tp_model *m = NULL;
    int *ids = NULL, n = 0;
    tp_generation g = {0};
    struct clock t = {.start = tp_cli_now()};
    int failed = tp_sampler_validate(&c->cfg, &err) || tp_cli_load_model(c, &m, &err);
    t.loaded = t.generating = tp_cli_now();
    int status = TP_EXIT_OK;
    if (failed || tp_vocab_encode(m->vocab, a->prompt, &ids, &n, &err) ||
        tp_decode(m, ids, n, &c->cfg, (int)a->beam, truncating(&c->cfg), c->seed,
                  (int)a->length, &g, &err)) {
        status = tp_cli_report("generate", &err);
    } else {
        t.done = tp_cli_now();
        status = print_beam(m, a->prompt, ids, n, &g);
        if (a->timing && status == TP_EXIT_OK)
            print_timing(&t, g.n, 1);
    }
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
    if (opt == OPT_BATCH)
        return tp_parse_long("--batch", arg, 1, BATCH_MAX, &a->batch, err);
    if (opt == OPT_TIMING) {
        a->timing = 1;
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
        {"beam", required_argument, 0, OPT_BEAM},
        {"batch", required_argument, 0, OPT_BATCH},
        {"timing", no_argument, 0, OPT_TIMING},
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
    if (a.beam && a.batch)
        return tp_cli_usage_error("generate", "--batch %ld cannot be combined with --beam %ld",
                                  a.batch, a.beam);
    if (a.batch)
        return run_batch(&c, &a);
    return a.beam ? run_beam(&c, &a) : run(&c, &a);
}
