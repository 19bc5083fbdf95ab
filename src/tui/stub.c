/* stub.c - placeholder until the playground lands: prints a sample. */
#include <stdio.h>

#include "tempest/cli.h"
#include "tempest/tui.h"

int tp_tui_main(int argc, char **argv)
{
    char *args[] = {"generate", "--prompt", "ROMEO:", "--length", "400", NULL};
    (void)argc;
    (void)argv;
    optind = 1;
    return tp_cmd_generate(5, args);
}

void tp_tui_print_help(FILE *out)
{
    fputs("The playground is not built yet; 'tempest' prints a generated sample.\n", out);
}

int tp_repl_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fputs("tempest repl: not built yet\n", stderr);
    return TP_EXIT_RUNTIME;
}
