/* tui.h - the full-screen playground and its line-mode twin. */
#ifndef TEMPEST_TUI_H
#define TEMPEST_TUI_H

#include <stdio.h>

/* `tempest [options]`: returns the exit status. */
int tp_tui_main(int argc, char **argv);
/* The playground's options and keys, for `tempest --help`. */
void tp_tui_print_help(FILE *out);
/* `tempest repl`. */
int tp_repl_main(int argc, char **argv);

#endif
