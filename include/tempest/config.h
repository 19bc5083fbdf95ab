/* config.h - the config file: defaults for the command-line options.
 *
 *     # ~/.config/tempest/config.ini
 *     model = /home/me/models/mine.safetensors
 *     theme = light
 *     temperature = 0.7
 *     top_p = 0.9
 *
 * One `name = value` per line (INI, via libinih), optionally under a
 * [tempest] section; '#' or ';' start a comment line; a value may be put in
 * double quotes to keep leading or trailing spaces. Names are the long
 * options without the dashes ('_' or '-' alike). This module checks the
 * syntax, the names and duplicates; each value is checked by the front end
 * exactly as the flag of that name would be, so a file can hold nothing a
 * command line could not. Command line beats config beats built-in.
 * Everything is held in fixed buffers: nothing to free.
 */
#ifndef TEMPEST_CONFIG_H
#define TEMPEST_CONFIG_H

#include <stddef.h>

#include "tempest/error.h"

#define TP_CONFIG_MAX_ENTRIES 32
/* libinih's line limit (200 bytes with the line end); a longer line is an
 * error, not silently cut. */
#define TP_CONFIG_MAX_LINE 197
#define TP_CONFIG_MAX_PATH 4096

typedef struct tp_config_entry {
    const char *key; /* canonical name, from TP_CONFIG_KEYS */
    char value[TP_CONFIG_MAX_LINE + 1];
    int line;
} tp_config_entry;

typedef struct tp_config {
    char path[TP_CONFIG_MAX_PATH]; /* empty: no file was read */
    int n;
    tp_config_entry entries[TP_CONFIG_MAX_ENTRIES];
} tp_config;

/* The names a config file may set, NULL-terminated. */
extern const char *const TP_CONFIG_KEYS[];

/* Parse text[0..len) (need not be NUL-terminated); name is used in messages,
 * which read "name:line: what is wrong". On failure c is empty. */
tp_status tp_config_parse(tp_config *c, const char *name, const char *text, size_t len,
                          tp_error *err);

/* Read and parse a file (at most 64 KiB). */
tp_status tp_config_load(tp_config *c, const char *path, tp_error *err);

/* Where the config file is: $TEMPEST_CONFIG, else
 * $XDG_CONFIG_HOME/tempest/config.ini, else ~/.config/tempest/config.ini.
 * *is_explicit is set when $TEMPEST_CONFIG named it (then a missing file is
 * an error; the default location may simply not exist). Returns TP_OK with
 * out empty when there is no home to look in. */
tp_status tp_config_locate(char *out, size_t cap, int *is_explicit, tp_error *err);

/* The value set for key (canonical name), or NULL. */
const char *tp_config_get(const tp_config *c, const char *key);

#endif
