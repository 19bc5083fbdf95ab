/* train_net.c - the trainable embedding -> LSTM -> linear network: parameter
 * layout and initialisation, and a chunk's forward and backward pass.
 *
 * Rows are time-major (row t * batch + b) so that one time step's rows are
 * contiguous: the input projection of a whole chunk is one sgemm, each time
 * step's recurrent product one more, and the weight gradients are summed
 * over the whole chunk by one sgemm each.
 */
#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tempest/train.h"

struct tp_train_work {
    int max_seq, max_batch, n_vocab;
    float *x0;           /* [rows][E] embedded input */
    float *hs[16], *cs[16]; /* per layer [(seq + 1) * batch][H]: start state, then each step */
    float *gates[16];    /* per layer [rows][4H]: activated i, f, g, o */
    float *dropped[16];  /* per layer [rows][H]: dropped-out output (input of the next) */
    float *mask[16];     /* per layer [rows][H]: 0 or 1 / (1 - p) */
    float *logits;       /* [rows][V], then d loss / d logits */
    float *dz;           /* [rows][4H] */
    float *dh;           /* [rows][H]: d loss / d layer output */
    float *dx;           /* [rows][max(E, H)] */
    float *dh_next, *dc_next; /* [batch][H] */
};

/* ---- layout and initialisation ---------------------------------------- */

static void add_tensor(tp_train_net *net, const char *name, int rows, int cols)
{
    tp_train_tensor *t = &net->tensors[net->n_tensors++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->rows = rows;
    t->cols = cols;
    t->offset = net->n_params;
    t->count = (size_t)rows * (size_t)(cols ? cols : 1);
    net->n_params += t->count;
}

static void layout(tp_train_net *net)
{
    int V = net->n_vocab, E = net->n_embed, H = net->n_hidden;
    char name[48];
    add_tensor(net, "embed.weight", V, E);
    for (int l = 0; l < net->n_layers; l++) {
        snprintf(name, sizeof name, "lstm.weight_ih_l%d", l);
        add_tensor(net, name, 4 * H, l ? H : E);
        snprintf(name, sizeof name, "lstm.weight_hh_l%d", l);
        add_tensor(net, name, 4 * H, H);
        snprintf(name, sizeof name, "lstm.bias_ih_l%d", l);
        add_tensor(net, name, 4 * H, 0);
        snprintf(name, sizeof name, "lstm.bias_hh_l%d", l);
        add_tensor(net, name, 4 * H, 0);
    }
    add_tensor(net, "head.weight", V, H);
    add_tensor(net, "head.bias", V, 0);
}

static void fill_uniform(float *p, size_t n, double bound, tp_rng *rng)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (float)((2 * tp_rng_uniform(rng) - 1) * bound);
}

/* N(0, 1) by Box-Muller, as nn.Embedding initialises. */
static void fill_normal(float *p, size_t n, tp_rng *rng)
{
    for (size_t i = 0; i < n; i++) {
        double u = 1.0 - tp_rng_uniform(rng), v = tp_rng_uniform(rng);
        p[i] = (float)(sqrt(-2.0 * log(u)) * cos(2 * M_PI * v));
    }
}

tp_status tp_train_net_init(tp_train_net *net, int vocab, int embed, int hidden, int layers,
                            tp_rng *rng, tp_error *err)
{
    memset(net, 0, sizeof *net);
    net->n_vocab = vocab;
    net->n_embed = embed;
    net->n_hidden = hidden;
    net->n_layers = layers;
    layout(net);
    net->params = malloc(net->n_params * sizeof(float));
    net->grads = calloc(net->n_params, sizeof(float));
    if (!net->params || !net->grads) {
        tp_train_net_free(net);
        return tp_fail(err, TP_ERR_NOMEM, "out of memory for %zu parameters", net->n_params);
    }
    /* PyTorch's ranges: embedding N(0, 1); LSTM and Linear U(-1/sqrt(H), 1/sqrt(H)). */
    double bound = 1.0 / sqrt((double)hidden);
    for (int i = 0; i < net->n_tensors; i++) {
        const tp_train_tensor *t = &net->tensors[i];
        if (i == 0)
            fill_normal(net->params + t->offset, t->count, rng);
        else
            fill_uniform(net->params + t->offset, t->count, bound, rng);
    }
    return TP_OK;
}

void tp_train_net_free(tp_train_net *net)
{
    free(net->params);
    free(net->grads);
    net->params = net->grads = NULL;
}

const tp_train_tensor *tp_train_net_find(const tp_train_net *net, const char *name)
{
    for (int i = 0; i < net->n_tensors; i++)
        if (strcmp(net->tensors[i].name, name) == 0)
            return &net->tensors[i];
    return NULL;
}

/* The tensors of layer l: w_ih, w_hh, b_ih, b_hh. */
static const tp_train_tensor *layer_tensor(const tp_train_net *net, int l, int k)
{
    return &net->tensors[1 + 4 * l + k];
}

/* ---- scratch space ---------------------------------------------------- */

void tp_train_work_free(tp_train_work *w)
{
    if (!w)
        return;
    free(w->x0);
    for (int l = 0; l < 16; l++) {
        free(w->hs[l]);
        free(w->cs[l]);
        free(w->gates[l]);
        free(w->dropped[l]);
        free(w->mask[l]);
    }
    free(w->logits);
    free(w->dz);
    free(w->dh);
    free(w->dx);
    free(w->dh_next);
    free(w->dc_next);
    free(w);
}

static float *floats(size_t n, int *ok)
{
    float *p = calloc(n ? n : 1, sizeof(float));
    if (!p)
        *ok = 0;
    return p;
}

tp_train_work *tp_train_work_new(const tp_train_net *net, int max_seq, int max_batch)
{
    tp_train_work *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    int ok = 1;
    size_t rows = (size_t)max_seq * (size_t)max_batch, H = (size_t)net->n_hidden;
    size_t wide = (size_t)(net->n_embed > net->n_hidden ? net->n_embed : net->n_hidden);
    w->max_seq = max_seq;
    w->max_batch = max_batch;
    w->n_vocab = net->n_vocab;
    w->x0 = floats(rows * (size_t)net->n_embed, &ok);
    for (int l = 0; l < net->n_layers; l++) {
        w->hs[l] = floats((rows + (size_t)max_batch) * H, &ok);
        w->cs[l] = floats((rows + (size_t)max_batch) * H, &ok);
        w->gates[l] = floats(rows * 4 * H, &ok);
        w->dropped[l] = floats(rows * H, &ok);
        w->mask[l] = floats(rows * H, &ok);
    }
    w->logits = floats(rows * (size_t)net->n_vocab, &ok);
    w->dz = floats(rows * 4 * H, &ok);
    w->dh = floats(rows * H, &ok);
    w->dx = floats(rows * wide, &ok);
    w->dh_next = floats((size_t)max_batch * H, &ok);
    w->dc_next = floats((size_t)max_batch * H, &ok);
    if (!ok) {
        tp_train_work_free(w);
        return NULL;
    }
    return w;
}

const float *tp_train_work_logits(const tp_train_work *w, int seq, int batch, int b)
{
    return w->logits + ((size_t)(seq - 1) * batch + b) * w->n_vocab;
}

/* ---- forward ---------------------------------------------------------- */

/* e^x for the gate math, branch-free so that the compiler vectorises the
 * gate loops (libm's expf and tanhf were a third of a training step):
 * x = n ln2 + r, a degree-6 polynomial for e^r, 2^n put in the exponent
 * bits; relative error about 2e-7, clamped where 2^n stays normal. */
static inline float exp_approx(float x)
{
    x = x < -87.0f ? -87.0f : x > 88.0f ? 88.0f : x;
    /* round to nearest by the 1.5 * 2^23 trick: no libm call */
    float n = (x * 1.44269504f + 12582912.0f) - 12582912.0f;
    float r = x - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float e = p * r * r + r + 1.0f;
    union {
        int32_t i;
        float f;
    } scale = {.i = ((int32_t)n + 127) << 23};
    return e * scale.f;
}

static inline float sigmoidf(float x)
{
    return 1.0f / (1.0f + exp_approx(-x));
}

static inline float tanh_approx(float x)
{
    return 1.0f - 2.0f / (exp_approx(2.0f * x) + 1.0f);
}

/* The gate loops are compiled twice, for AVX2 and for any x86-64, and
 * the loader picks one for the CPU (the same one every run on a machine). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define GATE_LOOP __attribute__((target_clones("avx2", "default")))
#else
#define GATE_LOOP
#endif

/* One row's gate math, fused; the gates are separate restrict pointers so
 * that the compiler vectorises the loop. */
GATE_LOOP static void cell_row_forward(float *restrict zi, float *restrict zf, float *restrict zg,
                             float *restrict zo, const float *restrict cp, float *restrict c,
                             float *restrict h, int H)
{
    for (int j = 0; j < H; j++) {
        float i = sigmoidf(zi[j]), f = sigmoidf(zf[j]);
        float g = tanh_approx(zg[j]), o = sigmoidf(zo[j]);
        zi[j] = i;
        zf[j] = f;
        zg[j] = g;
        zo[j] = o;
        c[j] = f * cp[j] + i * g;
        h[j] = o * tanh_approx(c[j]);
    }
}

/* Gate math of one time step: z (pre-activations, [batch][4H]) is replaced
 * by the activations; c and h are the step's new state. */
static void lstm_cell_forward(float *z, const float *c_prev, float *c, float *h, int batch,
                              int H)
{
    for (int b = 0; b < batch; b++) {
        float *zb = z + (size_t)b * 4 * H;
        cell_row_forward(zb, zb + H, zb + 2 * H, zb + 3 * H, c_prev + (size_t)b * H,
                         c + (size_t)b * H, h + (size_t)b * H, H);
    }
}

static void layer_forward(const tp_train_net *net, tp_train_work *w, int l, const float *x,
                          int n_in, int seq, int batch)
{
    int H = net->n_hidden, rows = seq * batch;
    const float *w_ih = net->params + layer_tensor(net, l, 0)->offset;
    const float *w_hh = net->params + layer_tensor(net, l, 1)->offset;
    const float *b_ih = net->params + layer_tensor(net, l, 2)->offset;
    const float *b_hh = net->params + layer_tensor(net, l, 3)->offset;
    float *z = w->gates[l];
    for (int r = 0; r < rows; r++)
        for (int j = 0; j < 4 * H; j++)
            z[(size_t)r * 4 * H + j] = b_ih[j] + b_hh[j];
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, 4 * H, n_in, 1.0f, x, n_in,
                w_ih, n_in, 1.0f, z, 4 * H);
    for (int t = 0; t < seq; t++) {
        float *zt = z + (size_t)t * batch * 4 * H;
        const float *h_prev = w->hs[l] + (size_t)t * batch * H;
        const float *c_prev = w->cs[l] + (size_t)t * batch * H;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, 4 * H, H, 1.0f, h_prev, H,
                    w_hh, H, 1.0f, zt, 4 * H);
        lstm_cell_forward(zt, c_prev, w->cs[l] + (size_t)(t + 1) * batch * H,
                          w->hs[l] + (size_t)(t + 1) * batch * H, batch, H);
    }
}

/* Inverted dropout, as nn.LSTM applies between layers. */
static const float *drop(tp_train_work *w, int l, int rows, int H, double p, tp_rng *rng)
{
    size_t n = (size_t)rows * H;
    float keep = (float)(1.0 / (1.0 - p));
    for (size_t i = 0; i < n; i++)
        w->mask[l][i] = tp_rng_uniform(rng) < p ? 0.0f : keep;
    return w->mask[l];
}

/* Softmax cross-entropy of every row; logits become d(mean loss)/d logits
 * when backward is set. Returns the summed loss. */
static double softmax_xent(float *logits, const int *target, int rows, int V, int backward)
{
    double total = 0;
    for (int r = 0; r < rows; r++) {
        float *z = logits + (size_t)r * V;
        float mx = z[0];
        for (int v = 1; v < V; v++)
            mx = z[v] > mx ? z[v] : mx;
        double sum = 0;
        for (int v = 0; v < V; v++)
            sum += exp((double)(z[v] - mx));
        total += log(sum) - (double)(z[target[r]] - mx);
        if (!backward)
            continue;
        double scale = 1.0 / (sum * rows);
        for (int v = 0; v < V; v++)
            z[v] = (float)(exp((double)(z[v] - mx)) * scale);
        z[target[r]] -= 1.0f / (float)rows;
    }
    return total;
}

/* ---- backward --------------------------------------------------------- */

/* One row of one step back: from d loss / d h (from above, dh_up, and from
 * the next step, dh_next) and d loss / d c from the next step (dc, updated
 * in place to the previous step's), d loss / d each gate's pre-activation. */
GATE_LOOP static void cell_row_backward(const float *restrict i_, const float *restrict f_,
                              const float *restrict g_, const float *restrict o_,
                              const float *restrict c, const float *restrict cp,
                              const float *restrict dh_up, const float *restrict dh_next,
                              float *restrict dc_io, float *restrict di, float *restrict df,
                              float *restrict dg, float *restrict d_o, int H)
{
    for (int j = 0; j < H; j++) {
        float i = i_[j], f = f_[j], g = g_[j], o = o_[j];
        float tc = tanh_approx(c[j]);
        float dh = dh_up[j] + dh_next[j];
        float dc = dc_io[j] + dh * o * (1 - tc * tc);
        di[j] = dc * g * i * (1 - i);
        df[j] = dc * cp[j] * f * (1 - f);
        dg[j] = dc * i * (1 - g * g);
        d_o[j] = dh * tc * o * (1 - o);
        dc_io[j] = dc * f;
    }
}

/* Back through time for one layer: w->dh holds d loss / d h_t from above;
 * fills w->dz with d loss / d pre-activations. */
static void layer_backward_time(const tp_train_net *net, tp_train_work *w, int l, int seq,
                                int batch)
{
    int H = net->n_hidden;
    const float *w_hh = net->params + layer_tensor(net, l, 1)->offset;
    size_t bh = (size_t)batch * H;
    memset(w->dh_next, 0, bh * sizeof(float));
    memset(w->dc_next, 0, bh * sizeof(float));
    for (int t = seq - 1; t >= 0; t--) {
        const float *gt = w->gates[l] + (size_t)t * batch * 4 * H;
        const float *c = w->cs[l] + (size_t)(t + 1) * bh, *cp = w->cs[l] + (size_t)t * bh;
        const float *dht = w->dh + (size_t)t * bh;
        float *dzt = w->dz + (size_t)t * batch * 4 * H;
        for (int b = 0; b < batch; b++) {
            const float *g4 = gt + (size_t)b * 4 * H;
            float *d4 = dzt + (size_t)b * 4 * H;
            size_t k = (size_t)b * H;
            cell_row_backward(g4, g4 + H, g4 + 2 * H, g4 + 3 * H, c + k, cp + k, dht + k,
                              w->dh_next + k, w->dc_next + k, d4, d4 + H, d4 + 2 * H,
                              d4 + 3 * H, H);
        }
        if (t > 0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, H, 4 * H, 1.0f, dzt,
                        4 * H, w_hh, H, 0.0f, w->dh_next, H);
    }
}

/* Weight gradients of layer l over the whole chunk, and d loss / d input
 * into w->dx. */
static void layer_backward_weights(tp_train_net *net, tp_train_work *w, int l, const float *x,
                                   int n_in, int seq, int batch)
{
    int H = net->n_hidden, rows = seq * batch;
    const float *w_ih = net->params + layer_tensor(net, l, 0)->offset;
    float *g_ih = net->grads + layer_tensor(net, l, 0)->offset;
    float *g_hh = net->grads + layer_tensor(net, l, 1)->offset;
    float *gb_ih = net->grads + layer_tensor(net, l, 2)->offset;
    float *gb_hh = net->grads + layer_tensor(net, l, 3)->offset;
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, 4 * H, n_in, rows, 1.0f, w->dz,
                4 * H, x, n_in, 0.0f, g_ih, n_in);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, 4 * H, H, rows, 1.0f, w->dz, 4 * H,
                w->hs[l], H, 0.0f, g_hh, H);
    for (int j = 0; j < 4 * H; j++)
        gb_ih[j] = 0;
    for (int r = 0; r < rows; r++)
        for (int j = 0; j < 4 * H; j++)
            gb_ih[j] += w->dz[(size_t)r * 4 * H + j];
    memcpy(gb_hh, gb_ih, (size_t)4 * H * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, n_in, 4 * H, 1.0f, w->dz,
                4 * H, w_ih, n_in, 0.0f, w->dx, n_in);
}

static void head_backward(tp_train_net *net, tp_train_work *w, const float *top, int rows)
{
    int V = net->n_vocab, H = net->n_hidden;
    const tp_train_tensor *hw = &net->tensors[net->n_tensors - 2];
    const tp_train_tensor *hb = &net->tensors[net->n_tensors - 1];
    float *gb = net->grads + hb->offset;
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, V, H, rows, 1.0f, w->logits, V, top,
                H, 0.0f, net->grads + hw->offset, H);
    for (int v = 0; v < V; v++)
        gb[v] = 0;
    for (int r = 0; r < rows; r++)
        for (int v = 0; v < V; v++)
            gb[v] += w->logits[(size_t)r * V + v];
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, H, V, 1.0f, w->logits, V,
                net->params + hw->offset, H, 0.0f, w->dh, H);
}

static void embed_backward(tp_train_net *net, const tp_train_work *w, const int *in, int rows)
{
    int E = net->n_embed;
    float *ge = net->grads + net->tensors[0].offset;
    memset(ge, 0, net->tensors[0].count * sizeof(float));
    for (int r = 0; r < rows; r++)
        for (int e = 0; e < E; e++)
            ge[(size_t)in[r] * E + e] += w->dx[(size_t)r * E + e];
}

/* ---- a chunk ---------------------------------------------------------- */

double tp_train_net_chunk(tp_train_net *net, tp_train_work *w, const int *in,
                          const int *target, int seq, int batch, float *state,
                          double dropout, tp_rng *rng, int backward)
{
    int E = net->n_embed, H = net->n_hidden, V = net->n_vocab, L = net->n_layers;
    int rows = seq * batch;
    size_t bh = (size_t)batch * H;
    const float *embed = net->params + net->tensors[0].offset;
    for (int r = 0; r < rows; r++)
        memcpy(w->x0 + (size_t)r * E, embed + (size_t)in[r] * E, (size_t)E * sizeof(float));
    const float *x = w->x0;
    const float *inputs[16];
    for (int l = 0; l < L; l++) {
        inputs[l] = x;
        memcpy(w->hs[l], state + (size_t)l * bh, bh * sizeof(float));
        memcpy(w->cs[l], state + (size_t)(L + l) * bh, bh * sizeof(float));
        layer_forward(net, w, l, x, l ? H : E, seq, batch);
        memcpy(state + (size_t)l * bh, w->hs[l] + (size_t)seq * bh, bh * sizeof(float));
        memcpy(state + (size_t)(L + l) * bh, w->cs[l] + (size_t)seq * bh, bh * sizeof(float));
        x = w->hs[l] + bh;
        if (dropout > 0 && l < L - 1) {
            const float *mask = drop(w, l, rows, H, dropout, rng);
            for (size_t i = 0; i < (size_t)rows * H; i++)
                w->dropped[l][i] = x[i] * mask[i];
            x = w->dropped[l];
        }
    }
    const tp_train_tensor *hw = &net->tensors[net->n_tensors - 2];
    const tp_train_tensor *hb = &net->tensors[net->n_tensors - 1];
    for (int r = 0; r < rows; r++)
        memcpy(w->logits + (size_t)r * V, net->params + hb->offset, (size_t)V * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, V, H, 1.0f, x, H,
                net->params + hw->offset, H, 1.0f, w->logits, V);
    double loss = softmax_xent(w->logits, target, rows, V, backward);
    if (!backward)
        return loss;
    head_backward(net, w, x, rows);
    for (int l = L - 1; l >= 0; l--) {
        layer_backward_time(net, w, l, seq, batch);
        layer_backward_weights(net, w, l, inputs[l], l ? H : E, seq, batch);
        if (l > 0) {
            /* d loss / d output of layer l - 1, through its dropout mask */
            for (size_t i = 0; i < (size_t)rows * H; i++)
                w->dh[i] = dropout > 0 ? w->dx[i] * w->mask[l - 1][i] : w->dx[i];
        }
    }
    embed_backward(net, w, in, rows);
    return loss;
}
