/* fuzz_model.h - what the model fuzz targets do once a file has parsed:
 * build a model from it and, when that works, take one step. The input's
 * size picks the weight format and the kernels (NULL: the best the CPU
 * runs), so every storage and both kernel sets see fuzzed models. */
#ifndef TEMPEST_FUZZ_MODEL_H
#define TEMPEST_FUZZ_MODEL_H

#include <stdlib.h>

#include "tempest/model.h"
#include "tempest/safetensors.h"

static inline void fuzz_build_and_step(const tp_safetensors *st, size_t size)
{
    tp_error err = {0};
    tp_model_options opt = {(tp_weight_type)(size % TP_W_N),
                            (size / TP_W_N) % 2 ? "portable" : NULL};
    tp_model *m = NULL;
    if (tp_model_from_safetensors_with(&m, st, &opt, &err) != TP_OK)
        return;
    tp_state *s = tp_state_new(m);
    float *logits = malloc((size_t)m->n_vocab * sizeof *logits);
    if (s && logits)
        tp_model_step(m, s, tp_model_start_token(m), logits);
    free(logits);
    tp_state_free(s);
    tp_model_free(m);
}

#endif
