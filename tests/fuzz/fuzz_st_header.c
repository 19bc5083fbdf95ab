/* fuzz_st_header.c - safetensors headers with a data section made to fit.
 *
 * Random bytes rarely keep a header length, its JSON and the data offsets
 * consistent, so here the input is only the JSON header: the target writes
 * the 8-byte length, then as many data bytes as the largest data_offsets end
 * asks for (at most 1 MiB; more and the file is simply too short), filled
 * with small finite numbers in every float format. Then the same path as
 * fuzz_safetensors: parse, build a model, take a step. */
#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_model.h"

#define MAX_DATA (1u << 20)

static size_t data_needed(const uint8_t *json, size_t len)
{
    cJSON *root = cJSON_ParseWithLength((const char *)json, len);
    size_t need = 0;
    for (const cJSON *t = root ? root->child : NULL; t; t = t->next) {
        const cJSON *offs = cJSON_GetObjectItemCaseSensitive(t, "data_offsets");
        const cJSON *end = cJSON_IsArray(offs) ? cJSON_GetArrayItem(offs, 1) : NULL;
        if (cJSON_IsNumber(end) && end->valuedouble > (double)need)
            need = end->valuedouble >= MAX_DATA ? MAX_DATA : (size_t)end->valuedouble;
    }
    cJSON_Delete(root);
    return need;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t dlen = data_needed(data, size);
    uint8_t *buf = malloc(8 + size + dlen);
    if (!buf)
        return 0;
    for (int i = 0; i < 8; i++)
        buf[i] = (uint8_t)((uint64_t)size >> (8 * i));
    if (size)
        memcpy(buf + 8, data, size);
    /* 0x3c00 3c00: 1.0 as F16, 1.0078125 as BF16; as F32 about 0.0078 */
    static const uint8_t pattern[4] = {0x00, 0x3c, 0x00, 0x3c};
    for (size_t i = 0; i < dlen; i++)
        buf[8 + size + i] = pattern[i & 3];

    tp_safetensors st;
    tp_error err = {0};
    if (tp_st_parse(&st, buf, 8 + size + dlen, &err) == TP_OK) {
        fuzz_build_and_step(&st, size);
        tp_st_close(&st);
    }
    free(buf);
    return 0;
}
