/* fuzz_script.c - demo scripts for `tempest --script`. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tempest/script.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tp_script s;
    tp_error err = {0};
    if (tp_script_parse(&s, (const char *)data, size, "fuzz", &err) != TP_OK) {
        if (!err.msg[0] || s.steps)
            abort();
        return 0;
    }
    for (int i = 0; i < s.n_steps; i++) {
        const tp_script_step *st = &s.steps[i];
        if ((unsigned)st->op > TP_SCRIPT_COMMAND || st->line < 1 ||
            memchr(st->text, '\0', sizeof st->text) == NULL)
            abort();
        if (st->op <= TP_SCRIPT_UNTIL_TOKENS &&
            (st->amount < 0 || st->amount > TP_SCRIPT_MAX_SECONDS * 1000.0))
            abort();
        (void)tp_script_op_name(st->op);
    }
    tp_script_free(&s);
    return 0;
}
