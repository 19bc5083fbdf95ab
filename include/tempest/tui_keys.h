/* tui_keys.h - the keymap as data: one table drives dispatch and help. */
#ifndef TEMPEST_TUI_KEYS_H
#define TEMPEST_TUI_KEYS_H

#include "tempest/knobs.h"
#include "tempest/tui_app.h"

typedef struct tp_key_binding {
    int key;          /* a character or a curses KEY_ code */
    tp_action action;
    const char *label; /* how the help shows the key */
} tp_key_binding;

typedef struct tp_action_help {
    tp_action action;
    const char *help;
} tp_action_help;

extern const tp_key_binding TP_KEYMAP[];
extern const int TP_KEYMAP_LEN;
extern const tp_action_help TP_ACTION_HELP[];
extern const int TP_ACTION_HELP_LEN;

tp_action tp_key_action(int key);
/* "t T ←" for an action. */
void tp_key_labels(tp_action act, char *out, size_t cap);
/* Do what a key asks. */
void tp_app_do(tp_app *a, tp_action act);
/* Do what a parsed command asks. */
void tp_app_run_command(tp_app *a, const tp_command *cmd);

/* Key labels for act padded with spaces to width display columns (the
 * arrows are one column but three bytes, so printf's %-Ns cannot do it). */
void tp_key_labels_padded(tp_action act, int width, char *out, size_t cap);

#endif
