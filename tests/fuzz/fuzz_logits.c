/* fuzz_logits.c - logits files for `tempest probs --logits`, then the
 * sampling chain over what they hold. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "tempest/logits.h"
#include "tempest/sampler.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    float *logits = NULL;
    int n = 0;
    tp_error err = {0};
    if (tp_logits_parse((const char *)data, size, &logits, &n, &err) != TP_OK)
        return 0;
    if (n < 1)
        abort();
    tp_sampler_config cfg;
    tp_sampler_defaults(&cfg);
    tp_dist d;
    if (n <= 4096 && tp_dist_init(&d, n, &err) == TP_OK) {
        tp_sampler_apply(&cfg, logits, NULL, 0, &d);
        tp_dist_free(&d);
    }
    free(logits);
    return 0;
}
