/* fuzz_recording.c - recordings for `tempest replay` and `tempest export`:
 * the parser, then what replay reads of every entry. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tempest/recording.h"

static void check_entry(const tp_recording *rec, const tp_rec_entry *e, tp_dist *d)
{
    if (e->is_restart) {
        if (!e->prompt)
            abort();
        return;
    }
    if (e->token < 0 || e->token >= rec->n_vocab || e->n_top < 0 || e->n_top > TP_REC_TOP)
        abort();
    for (int i = 0; i < e->n_top; i++)
        if (e->top[i].id < 0 || e->top[i].id >= rec->n_vocab)
            abort();
    if (e->events)
        (void)strlen(e->events);
    if (d)
        (void)tp_rec_mismatch(e, d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tp_recording rec;
    tp_error err = {0};
    if (tp_recording_parse(&rec, (const char *)data, size, "fuzz", &err) != TP_OK) {
        if (!err.msg[0])
            abort();
        return 0;
    }
    tp_dist d;
    int have_dist = rec.n_vocab <= 4096 && tp_dist_init(&d, rec.n_vocab, &err) == TP_OK;
    int steps = 0;
    for (int i = 0; i < rec.n_entries; i++) {
        check_entry(&rec, &rec.entries[i], have_dist ? &d : NULL);
        steps += !rec.entries[i].is_restart;
    }
    if (steps != rec.n_steps || !rec.model_path || !rec.prompt)
        abort();
    if (have_dist)
        tp_dist_free(&d);
    tp_recording_free(&rec);
    return 0;
}
