/* help.c - the `?` overlay, generated from the keymap and command tables;
 * when it does not fit the terminal, space turns to the next page. */
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

/* Item i of the help: the keys, a heading, then the commands. Returns 0
 * past the end; *bold marks the heading. */
static int help_item(int i, char *text, size_t cap, int *bold)
{
    char keys[64];
    *bold = 0;
    if (i < TP_ACTION_HELP_LEN) {
        tp_key_labels_padded(TP_ACTION_HELP[i].action, 14, keys, sizeof keys);
        snprintf(text, cap, "%s %s", keys, TP_ACTION_HELP[i].help);
        return 1;
    }
    i -= TP_ACTION_HELP_LEN;
    if (i == 0) {
        *bold = 1;
        snprintf(text, cap, "commands after ':' (Tab completes, Up/Down history)");
        return 1;
    }
    i--;
    for (int c = 0; TP_COMMANDS[c].name; c++)
        if (c == i) {
            snprintf(text, cap, ":%s %-10s %s", TP_COMMANDS[c].name, TP_COMMANDS[c].args,
                     TP_COMMANDS[c].help);
            return 1;
        }
    return 0;
}

void tp_help_draw(tp_app *a, int lines, int cols)
{
    int w = cols - 4 < 76 ? cols - 4 : 76;
    int h = lines - 2;
    int x = (cols - w) / 2, y = 1, row = 0, bold;
    int attr = a->attrs[TP_ROLE_HELP];
    int per_page = h - 1 > 1 ? h - 1 : 1;
    int first = (a->show_help - 1) * per_page;
    char text[256];
    a->help_more = help_item(first + per_page, text, sizeof text, &bold);
    box_line(y + row++, x, w,
             a->help_more ? "tempest keys (space: next page, any other key closes)"
                          : "tempest keys (any key closes this)", attr | A_BOLD);
    for (int i = first; row < h && help_item(i, text, sizeof text, &bold); i++)
        box_line(y + row++, x, w, text, bold ? (int)(attr | A_BOLD) : attr);
}
