/* main.c - option dispatch only: a subcommand, or the playground. */
#include <stdio.h>
#include <string.h>

#include "tempest/cli.h"
#include "tempest/tui.h"
#include "tempest/tui_demo.h"

static const char USAGE[] =
    "Usage: tempest [options]                 the playground (full-screen)\n"
    "       tempest COMMAND [options]\n\n"
    "Watch a language model's next-token distribution while temperature, top-k,\n"
    "top-p and min-p reshape it.\n\n"
    "Commands:\n"
    "  generate   print generated text\n"
    "  probs      show one next-token distribution (table or JSON)\n"
    "  eval       score a text: nats and bits per token, perplexity\n"
    "  inspect    describe a model file\n"
    "  chaos      how soon T and T + epsilon part, over many seeds\n"
    "  repl       the playground as a line-mode session (readline)\n"
    "  replay     play a recording back in the playground\n"
    "  export     turn a recording into an asciicast (asciinema) file\n"
    "  train      train a model on a text (LSTM, GRU or RNN; char or word tokens)\n\n"
    "'tempest COMMAND --help' shows a command's options; 'tempest --help' with no\n"
    "command also lists the playground's. 'man tempest' has the whole story.\n";

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
};

static const struct command COMMANDS[] = {
    {"generate", tp_cmd_generate}, {"probs", tp_cmd_probs}, {"eval", tp_cmd_eval},
    {"inspect", tp_cmd_inspect},   {"sweep", tp_cmd_sweep},        {"repl", tp_repl_main},
    {"replay", tp_cmd_replay},     {"export", tp_cmd_export},
    {"chaos", tp_cmd_chaos},
    {"train", tp_cmd_train},
};

int main(int argc, char **argv)
{
    if (argc > 1 && argv[1][0] != '-') {
        for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
            if (strcmp(argv[1], COMMANDS[i].name) == 0)
                return COMMANDS[i].run(argc - 1, argv + 1);
        fprintf(stderr, "tempest: unknown command '%s' (see 'tempest --help')\n", argv[1]);
        return TP_EXIT_USAGE;
    }
    if (argc > 1 && strcmp(argv[1], "--help") == 0) {
        fputs(USAGE, stdout);
        putchar('\n');
        tp_tui_print_help(stdout);
        return TP_EXIT_OK;
    }
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("tempest %s\n", TEMPEST_VERSION);
        return TP_EXIT_OK;
    }
    return tp_tui_main(argc, argv);
}
