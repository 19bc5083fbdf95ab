/* repl.c - `tempest repl`: the playground as a line-mode session on GNU
 * readline, for screen readers, logs and terminals where full screen is
 * unwelcome. A line of text is a prompt to continue; an empty line goes on;
 * a line starting with ':' is a command (the same ones as the playground). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "tempest/cli.h"
#include "tempest/knobs.h"
#include "tempest/session.h"
#include "tempest/tui.h"
#include "tempest/tui_cmdline.h"
#include "tempest/view.h"

#define SHOW_ROWS 10

static const char HELP[] =
    "Usage: tempest repl [--prompt TEXT] [--length N] [options]\n"
    "A line-mode playground: type a prompt and get its continuation; an empty line\n"
    "continues; ':' starts a command (:help lists them; :show prints the next-token\n"
    "distribution as a table).\n\n"
    "  --prompt TEXT          generate from TEXT first\n"
    "  --length N             tokens per continuation, 1 to 100000 (default 200)\n\n";

enum { OPT_PROMPT = TP_OPT_FIRST_OWN, OPT_LENGTH };

typedef struct repl {
    tp_model *model;
    tp_session *session;
    tp_hist_view view;
    long length;
    int interactive;
    int quit;
} repl;

static void generate(repl *r, long n)
{
    tp_error err = {0};
    const tp_vocab *v = r->model->vocab;
    int prev = r->session->n_tokens ? r->session->tokens[r->session->n_tokens - 1] : -1;
    for (long i = 0; i < n; i++) {
        int tok = tp_session_step(r->session, &err);
        if (tok < 0) {
            fprintf(stderr, "tempest repl: %s\n", err.msg);
            break;
        }
        fputs(tp_vocab_separator(v, prev, tok), stdout);
        fputs(tp_vocab_token(v, tok), stdout);
        prev = tok;
    }
    fputc('\n', stdout);
    fflush(stdout);
}

/* Print s left-aligned in width columns: ␣ is one column but three bytes,
 * so printf's %-8s would misalign the table. */
static void print_padded(const char *s, int width)
{
    int cols = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        cols += (*p & 0xc0) != 0x80;
    fputs(s, stdout);
    for (; cols < width; cols++)
        putchar(' ');
}

static void show(repl *r)
{
    char knobs[160], pct[16], base[16];
    tp_knobs_format(&r->session->cfg, knobs, sizeof knobs);
    tp_hist_view_build(&r->view, &r->session->dist, r->model->vocab, SHOW_ROWS, 20, -1, 0);
    printf("%s  step=%d\n", knobs, r->session->n_steps);
    printf("entropy %.2f bits, kept %d of %d\n", r->view.entropy_bits, r->view.n_kept,
           r->view.n_vocab);
    printf("%-4s  %-8s  %7s  %7s  %s\n", "rank", "token", "p", "p(T=1)", "cut by");
    for (int i = 0; i < r->view.n_rows; i++) {
        const tp_hist_row *row = &r->view.rows[i];
        tp_format_percent(row->p, pct, sizeof pct);
        tp_format_percent(row->p_base, base, sizeof base);
        printf("%-4d  ", i + 1);
        print_padded(row->label, 8);
        printf("  %7s  %7s  %s\n", pct, base,
               row->cut_by >= 0 ? tp_stage_name((tp_stage)row->cut_by) : "-");
    }
    tp_format_percent(r->view.others_p, pct, sizeof pct);
    printf("others (%d tokens, %d cut)  %s\n", r->view.others_count, r->view.others_cut, pct);
}

static void help(void)
{
    puts("A line of text: continue from it. An empty line: go on. Commands:");
    for (int i = 0; TP_COMMANDS[i].name; i++)
        printf("  :%-6s %-28s %s\n", TP_COMMANDS[i].name, TP_COMMANDS[i].args,
               TP_COMMANDS[i].help);
}

static void report(const tp_error *err)
{
    fflush(stdout); /* keep the error after the output it follows */
    fprintf(stderr, "tempest repl: %s\n", err->msg);
}

static void restart(repl *r, const char *prompt, uint64_t seed)
{
    tp_error err = {0};
    if (tp_session_restart(r->session, prompt, seed, &err)) {
        report(&err);
        return;
    }
    fputs(r->session->prompt, stdout);
    generate(r, r->length);
}

static void command(repl *r, const char *line)
{
    tp_command c;
    tp_error err = {0};
    if (tp_command_parse(line, &r->session->cfg, &c, &err)) {
        report(&err);
        return;
    }
    switch (c.action) {
    case TP_ACT_SET_CONFIG:
        if (tp_session_set_config(r->session, &c.cfg, &err))
            report(&err);
        break;
    case TP_ACT_SET_SEED: restart(r, NULL, c.seed); break;
    case TP_ACT_SET_PROMPT: restart(r, c.text, r->session->seed); break;
    case TP_ACT_SET_LENGTH: r->length = c.length; break;
    case TP_ACT_SHOW: show(r); break;
    case TP_ACT_HELP: help(); break;
    case TP_ACT_QUIT: r->quit = 1; break;
    case TP_ACT_NONE: break;
    default: fprintf(stderr, "tempest repl: that command is for the playground\n"); break;
    }
    if (c.action == TP_ACT_SET_CONFIG) {
        char knobs[160];
        tp_knobs_format(&r->session->cfg, knobs, sizeof knobs);
        puts(knobs);
    }
}

static void handle(repl *r, char *line)
{
    size_t n = strlen(line);
    if (n > 0 && line[n - 1] == '\n')
        line[--n] = '\0';
    if (line[0] == ':')
        command(r, line);
    else if (line[0] == '\0')
        generate(r, r->length);
    else
        restart(r, line, r->session->seed);
}

static void loop(repl *r)
{
    char *hist = NULL;
    if (r->interactive) {
        rl_readline_name = "tempest";
        using_history();
        stifle_history(500);
        hist = tp_history_path();
        if (hist)
            read_history(hist);
    }
    char *buf = NULL;
    size_t cap = 0;
    while (!r->quit) {
        char *line;
        if (r->interactive) {
            line = readline("tempest> ");
            if (line && *line)
                add_history(line);
        } else {
            line = getline(&buf, &cap, stdin) < 0 ? NULL : buf;
        }
        if (!line)
            break;
        handle(r, line);
        if (r->interactive)
            free(line);
    }
    free(buf);
    if (hist) {
        write_history(hist);
        free(hist);
    }
}

static int run(const tp_cli_common *c, const char *prompt, long length)
{
    tp_error err = {0};
    repl r = {.length = length, .interactive = isatty(STDIN_FILENO)};
    if (tp_cli_load_model(c, &r.model, &err) ||
        tp_session_new(&r.session, r.model, prompt ? prompt : "", &c->cfg, c->seed, &err) ||
        tp_hist_view_init(&r.view, r.model->n_vocab, &err)) {
        tp_session_free(r.session);
        tp_model_free(r.model);
        return tp_cli_report("repl", &err);
    }
    if (r.interactive)
        puts("tempest repl: type a prompt, Enter to go on, :help for commands, :quit to leave");
    if (prompt) {
        fputs(prompt, stdout);
        generate(&r, r.length);
    }
    loop(&r);
    tp_hist_view_free(&r.view);
    tp_session_free(r.session);
    tp_model_free(r.model);
    return TP_EXIT_OK;
}

/* From the config file: the repl shares the playground's prompt. */
static tp_status repl_option(void *ctx, int opt, const char *arg, tp_error *err)
{
    (void)err;
    if (opt == OPT_PROMPT)
        *(const char **)ctx = arg;
    return TP_OK;
}

int tp_repl_main(int argc, char **argv)
{
    static const struct option opts[] = {
        TP_COMMON_LONG_OPTIONS,
        {"prompt", required_argument, 0, OPT_PROMPT},
        {"length", required_argument, 0, OPT_LENGTH},
        {0, 0, 0, 0},
    };
    tp_cli_common c;
    tp_cli_common_init(&c);
    const char *prompt = NULL;
    long length = 200;
    tp_error err = {0};
    int opt;
    if (tp_cli_apply_config(&c, argc, argv, opts, repl_option, &prompt, &err))
        return tp_cli_report("repl", &err);
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int r = tp_cli_common_option(&c, opt, optarg, &err);
        if (r < 0)
            return tp_cli_report("repl", &err);
        if (r > 0)
            continue;
        if (opt == OPT_PROMPT)
            prompt = optarg;
        else if (opt == OPT_LENGTH) {
            if (tp_parse_long("--length", optarg, 1, 100000, &length, &err))
                return tp_cli_report("repl", &err);
        } else if (opt == TP_OPT_HELP) {
            printf("%s%s", HELP, TP_COMMON_HELP);
            return TP_EXIT_OK;
        } else if (opt == TP_OPT_VERSION) {
            printf("tempest %s\n", TEMPEST_VERSION);
            return TP_EXIT_OK;
        } else
            return tp_cli_bad_option("repl", argc, argv);
    }
    if (optind < argc)
        return tp_cli_usage_error("repl", "unexpected argument '%s'", argv[optind]);
    return run(&c, prompt, length);
}
