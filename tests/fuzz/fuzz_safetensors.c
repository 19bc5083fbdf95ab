/* fuzz_safetensors.c - a safetensors file from a stranger: parse it, then
 * build a model from it (and, when that works, take one step). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tp_safetensors st;
    tp_error err = {0};
    if (tp_st_parse(&st, data, size, &err) != TP_OK)
        return 0;
    for (int i = 0; i < st.n_tensors; i++)
        (void)tp_st_find(&st, st.tensors[i].name);
    (void)tp_st_meta(&st, "vocab");
    fuzz_build_and_step(&st, size);
    tp_st_close(&st);
    return 0;
}
