/* fuzz_config.c - config files (tp_config_parse). Beyond "no crash, no
 * sanitizer report", every accepted file must keep the module's promises:
 * known names only, each once, values NUL-terminated within their buffer,
 * line numbers inside the text. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tempest/config.h"

static int count_lines(const uint8_t *data, size_t size)
{
    int n = 1;
    for (size_t i = 0; i < size; i++)
        n += data[i] == '\n';
    return n;
}

static int known(const char *key)
{
    for (int i = 0; TP_CONFIG_KEYS[i]; i++)
        if (key == TP_CONFIG_KEYS[i])
            return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static tp_config c; /* 7 KB: not on the fuzzer's stack */
    tp_error err = {0};
    if (tp_config_parse(&c, "fuzz.ini", (const char *)data, size, &err) != TP_OK) {
        if (c.n != 0 || !err.msg[0])
            __builtin_trap();
        return 0;
    }
    int lines = count_lines(data, size);
    for (int i = 0; i < c.n; i++) {
        const tp_config_entry *e = &c.entries[i];
        if (!known(e->key) || e->line < 1 || e->line > lines ||
            memchr(e->value, '\0', sizeof e->value) == NULL)
            __builtin_trap();
        if (tp_config_get(&c, e->key) != e->value) /* each name once */
            __builtin_trap();
    }
    return 0;
}
