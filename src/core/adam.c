/* adam.c - gradient clipping and the Adam update, as PyTorch 1.13 does them
 * (torch.nn.utils.clip_grad_norm_ and torch.optim.Adam, single-tensor path). */
#include <math.h>

#include "tempest/train.h"

#define ADAM_BETA1 0.9
#define ADAM_BETA2 0.999
#define ADAM_EPS 1e-8

double tp_clip_grad_norm(float *g, size_t n, double max_norm)
{
    double sq = 0;
    for (size_t i = 0; i < n; i++)
        sq += (double)g[i] * g[i];
    double norm = sqrt(sq), coef = max_norm / (norm + 1e-6);
    if (coef < 1.0)
        for (size_t i = 0; i < n; i++)
            g[i] = (float)(g[i] * coef);
    return norm;
}

void tp_adam_step(float *p, const float *g, float *m, float *v, size_t n, double lr,
                  long step)
{
    double bc1 = 1.0 - pow(ADAM_BETA1, (double)step);
    double bc2_sqrt = sqrt(1.0 - pow(ADAM_BETA2, (double)step));
    float step_size = (float)(lr / bc1), bc2 = (float)bc2_sqrt;
    const float b1 = (float)ADAM_BETA1, b2 = (float)ADAM_BETA2, eps = (float)ADAM_EPS;
    for (size_t i = 0; i < n; i++) {
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
        p[i] -= step_size * m[i] / (sqrtf(v[i]) / bc2 + eps);
    }
}
