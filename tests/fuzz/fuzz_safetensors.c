/* fuzz_safetensors.c - a safetensors file from a stranger: parse it, then
 * build a model from it (and, when that works, take one step). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "tempest/model.h"
#include "tempest/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tp_safetensors st;
    tp_error err = {0};
    if (tp_st_parse(&st, data, size, &err) != TP_OK)
        return 0;
    for (int i = 0; i < st.n_tensors; i++)
        (void)tp_st_find(&st, st.tensors[i].name);
    (void)tp_st_meta(&st, "vocab");
    /* The size picks the weight format and the kernels (NULL: the best the
     * CPU runs), so every storage and both kernel sets see fuzzed models. */
    tp_model_options opt = {(tp_weight_type)(size % TP_W_N),
                            (size / TP_W_N) % 2 ? "portable" : NULL};
    tp_model *m = NULL;
    if (tp_model_from_safetensors_with(&m, &st, &opt, &err) == TP_OK) {
        tp_state *s = tp_state_new(m);
        float *logits = malloc((size_t)m->n_vocab * sizeof *logits);
        if (s && logits)
            tp_model_step(m, s, tp_model_start_token(m), logits);
        free(logits);
        tp_state_free(s);
        tp_model_free(m);
    }
    tp_st_close(&st);
    return 0;
}
