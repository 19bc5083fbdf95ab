/* tui_theme.h - colour themes: semantic roles as data, loaded from INI.
 *
 * A theme maps each role (what a thing on screen means) to a foreground,
 * background and attributes. The parse is terminal-free; tp_theme_apply
 * turns a theme into curses attributes.
 */
#ifndef TEMPEST_TUI_THEME_H
#define TEMPEST_TUI_THEME_H

#include "tempest/error.h"

typedef enum tp_role {
    TP_ROLE_NORMAL, TP_ROLE_TITLE, TP_ROLE_BORDER, TP_ROLE_STATUS, TP_ROLE_MESSAGE,
    TP_ROLE_ERROR, TP_ROLE_PROMPT, TP_ROLE_NEWEST, TP_ROLE_MARKER,
    TP_ROLE_HEAT0, TP_ROLE_HEAT1, TP_ROLE_HEAT2, TP_ROLE_HEAT3, TP_ROLE_HEAT4,
    TP_ROLE_HEADER, TP_ROLE_LABEL, TP_ROLE_BAR, TP_ROLE_BASE_MARK, TP_ROLE_CUT,
    TP_ROLE_DRAWN, TP_ROLE_RULE, TP_ROLE_SPARK, TP_ROLE_HELP,
    TP_N_ROLES
} tp_role;

enum { TP_ATTR_BOLD = 1, TP_ATTR_DIM = 2, TP_ATTR_REVERSE = 4, TP_ATTR_UNDERLINE = 8,
       TP_ATTR_ITALIC = 16 };

#define TP_COLOR_DEFAULT (-1)

typedef struct tp_style {
    short fg, bg; /* TP_COLOR_DEFAULT, or 0..255 (8..15 are the bright ones) */
    unsigned attrs;
} tp_style;

typedef struct tp_theme {
    char name[64];
    tp_style roles[TP_N_ROLES];
} tp_theme;

/* The built-in dark theme, used when no theme file is found. */
void tp_theme_builtin(tp_theme *t);
/* Load NAME (looked up in the theme directories) or a PATH (contains '/' or
 * ends in ".ini"). Errors name the file and line. */
tp_status tp_theme_load(tp_theme *t, const char *name_or_path, tp_error *err);
/* Parse an INI file over the values already in t. */
tp_status tp_theme_parse_file(tp_theme *t, const char *path, tp_error *err);
/* Names of the installed themes (sorted, deduplicated); returns how many. */
int tp_theme_names(char names[][64], int max);
const char *tp_role_name(tp_role r);

/* Init colour pairs and fill attrs[role] with curses attributes. Without
 * colour (NO_COLOR, a mono terminal) only the attributes are used. */
void tp_theme_apply(const tp_theme *t, int use_color, int *attrs);

#endif
