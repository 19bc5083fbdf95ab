/* fuzz_sweep.c - sweep requests, strategy lists, single strategies, sampler
 * orders and temperature lists: every one of them gets the same text. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tempest/decode.h"
#include "tempest/sampler.h"
#include "tempest/sweep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    if (size)
        memcpy(text, data, size);
    text[size] = '\0';
    tp_error err = {0};

    tp_sweep_request req;
    (void)tp_sweep_parse_request(text, &req, &err);

    tp_strategy strategies[TP_SWEEP_REQ_STRATEGIES];
    int n = 0;
    (void)tp_parse_strategies(text, strategies, TP_SWEEP_REQ_STRATEGIES, &n, &err);

    tp_strategy s;
    if (tp_strategy_parse(text, &s, &err) == TP_OK) {
        tp_sampler_config base, out;
        tp_sampler_defaults(&base);
        tp_strategy_config(&s, 0.8, &base, &out);
    }

    tp_sampler_config cfg;
    tp_sampler_defaults(&cfg);
    if (tp_sampler_parse_order(&cfg, text, &err) == TP_OK) {
        char label[128];
        tp_sampler_order_label(&cfg, label, sizeof label);
    }

    double temps[TP_SWEEP_REQ_TEMPS];
    (void)tp_parse_temperatures(text, strlen(text), temps, TP_SWEEP_REQ_TEMPS, &n, &err);
    free(text);
    return 0;
}
