/* fuzz_logits.c - logits files for `tempest probs --logits`, then the
 * sampling chain over what they hold: the default chain, then top-k chains
 * run several times on one dist (a small vocabulary's top-k carries a hint
 * from call to call), each call checked for a consistent kept set. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "tempest/logits.h"
#include "tempest/sampler.h"

/* At least one token kept; kept, cut_by and n_kept agree; p is zero
 * wherever a token was cut. */
static void check_kept(const tp_dist *d)
{
    int kept = 0;
    for (int i = 0; i < d->n; i++) {
        if (d->kept[i] != (d->cut_by[i] == -1))
            abort();
        if (!d->kept[i] && d->p[i] != 0.0)
            abort();
        kept += d->kept[i];
    }
    if (kept != d->n_kept || kept < 1)
        abort();
}

/* k of a quarter of the vocabulary and of half of it (the hinted path and
 * the one over every token), each three times, a k that does not cut
 * being off; views off, as a plain generator runs it. */
static void top_k_chains(const float *logits, int n, tp_dist *d)
{
    tp_sampler_config cfg;
    tp_sampler_defaults(&cfg);
    d->views = 0;
    const int ks[] = {n / 4, n / 2};
    for (int a = 0; a < 2; a++) {
        cfg.top_k = ks[a] < 1 ? 1 : ks[a];
        for (int rep = 0; rep < 3; rep++) {
            tp_sampler_apply(&cfg, logits, NULL, 0, d);
            check_kept(d);
            if (cfg.top_k < n && d->n_kept > cfg.top_k)
                abort();
        }
    }
}

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
        check_kept(&d);
        top_k_chains(logits, n, &d);
        tp_dist_free(&d);
    }
    free(logits);
    return 0;
}
