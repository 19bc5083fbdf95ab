/* help.c - the `?` overlay, generated from the keymap and command tables. */
#include <curses.h>
#include <stdio.h>

#include "tempest/tui_keys.h"
#include "tempest/tui_panes.h"

static void box_line(int y, int x, int w, const char *text, int attr)
{
    attron(attr);
    mvhline(y, x, ' ', w);
    attroff(attr);
    tp_put_clipped(y, x + 1, text, w - 2, attr);
}

void tp_help_draw(tp_app *a, int lines, int cols)
{
    int w = cols - 4 < 76 ? cols - 4 : 76;
    int h = lines - 2;
    int x = (cols - w) / 2, y = 1, row = 0;
    int attr = a->attrs[TP_ROLE_HELP];
    char text[256], keys[64];
    box_line(y + row++, x, w, "tempest keys (any key closes this)", attr | A_BOLD);
    for (int i = 0; i < TP_ACTION_HELP_LEN && row < h - 1; i++) {
        tp_key_labels_padded(TP_ACTION_HELP[i].action, 14, keys, sizeof keys);
        snprintf(text, sizeof text, "%s %s", keys, TP_ACTION_HELP[i].help);
        box_line(y + row++, x, w, text, attr);
    }
    if (row < h - 1)
        box_line(y + row++, x, w, "commands after ':' (Tab completes, Up/Down history)", attr | A_BOLD);
    for (int i = 0; TP_COMMANDS[i].name && row < h; i++) {
        snprintf(text, sizeof text, ":%s %-10s %s", TP_COMMANDS[i].name, TP_COMMANDS[i].args,
                 TP_COMMANDS[i].help);
        box_line(y + row++, x, w, text, attr);
    }
}
