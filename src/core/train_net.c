/* train_net.c - the trainable embedding -> recurrent layers -> linear
 * network: parameter layout and initialisation, and a chunk's forward and
 * backward pass around the cell's own step (train_cell.h).
 *
 * Rows are time-major (row t * batch + b) so that one time step's rows are
 * contiguous: the input projection of a whole chunk is one sgemm, each time
 * step's recurrent product one more, and the weight gradients are summed
 * over the whole chunk by one sgemm each.
 */
#include <cblas.h>
#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tempest/train.h"

struct tp_train_work {
    int max_seq, max_batch, n_vocab;
    float *x0;           /* [rows][E] embedded input */
    float *hs[16], *cs[16]; /* per layer [(seq + 1) * batch][H]: start state, then each step */
    float *saved[16];    /* per layer [rows][4H]: what the cell keeps for backward */
    float *gh;           /* [batch][G*H]: one step's recurrent product (unfused cells) */
    float *dzh;          /* [rows][G*H]: d loss / d recurrent pre-activations (unfused) */
    float *dropped[16];  /* per layer [rows][H]: dropped-out output (input of the next) */
    float *mask[16];     /* per layer [rows][H]: 0 or 1 / (1 - p) */
    float *dropped_in, *mask_in; /* [rows][E]: the embedding's output with --dropout-io */
    float *logits;       /* [rows][V], then d loss / d logits */
    float *dz;           /* [rows][G*H]: d loss / d input pre-activations */
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
    int V = net->n_vocab, E = net->n_embed, H = net->n_hidden, G = net->cell->gates;
    const char *mod = net->cell->module;
    char name[48];
    add_tensor(net, "embed.weight", V, E);
    for (int l = 0; l < net->n_layers; l++) {
        snprintf(name, sizeof name, "%s.weight_ih_l%d", mod, l);
        add_tensor(net, name, G * H, l ? H : E);
        snprintf(name, sizeof name, "%s.weight_hh_l%d", mod, l);
        add_tensor(net, name, G * H, H);
        snprintf(name, sizeof name, "%s.bias_ih_l%d", mod, l);
        add_tensor(net, name, G * H, 0);
        snprintf(name, sizeof name, "%s.bias_hh_l%d", mod, l);
        add_tensor(net, name, G * H, 0);
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

tp_status tp_train_net_init(tp_train_net *net, tp_train_cell_kind cell, int vocab, int embed,
                            int hidden, int layers, tp_rng *rng, tp_error *err)
{
    memset(net, 0, sizeof *net);
    net->cell = tp_train_cell_of(cell);
    net->threads = 1;
    if (!net->cell)
        return tp_fail(err, TP_ERR_USAGE, "unknown cell kind %d", (int)cell);
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
    /* PyTorch's ranges: embedding N(0, 1); recurrent layers and Linear
     * U(-1/sqrt(H), 1/sqrt(H)). */
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
    free(w->dropped_in);
    free(w->mask_in);
    for (int l = 0; l < 16; l++) {
        free(w->hs[l]);
        free(w->cs[l]);
        free(w->saved[l]);
        free(w->dropped[l]);
        free(w->mask[l]);
    }
    free(w->logits);
    free(w->dz);
    free(w->dzh);
    free(w->gh);
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
    size_t GH = (size_t)net->cell->gates * H;
    size_t wide = (size_t)(net->n_embed > net->n_hidden ? net->n_embed : net->n_hidden);
    w->max_seq = max_seq;
    w->max_batch = max_batch;
    w->n_vocab = net->n_vocab;
    w->x0 = floats(rows * (size_t)net->n_embed, &ok);
    w->dropped_in = floats(rows * (size_t)net->n_embed, &ok);
    w->mask_in = floats(rows * (size_t)net->n_embed, &ok);
    for (int l = 0; l < net->n_layers; l++) {
        w->hs[l] = floats((rows + (size_t)max_batch) * H, &ok);
        w->cs[l] = floats((rows + (size_t)max_batch) * H, &ok);
        w->saved[l] = floats(rows * 4 * H, &ok);
        w->dropped[l] = floats(rows * H, &ok);
        w->mask[l] = floats(rows * H, &ok);
    }
    w->logits = floats(rows * (size_t)net->n_vocab, &ok);
    w->dz = floats(rows * GH, &ok);
    if (!net->cell->fused) {
        w->dzh = floats(rows * GH, &ok);
        w->gh = floats((size_t)max_batch * GH, &ok);
    }
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

/* Each row of y (rows x n) set to bias: the products then add onto it. */
static void fill_rows(float *y, const float *bias, int rows, int n)
{
    for (int r = 0; r < rows; r++)
        memcpy(y + (size_t)r * n, bias, (size_t)n * sizeof(float));
}

/* The recurrence of each batch row is independent of the others, so the
 * time loops run on blocks of rows, one block per thread: each step's
 * product is then one single-threaded sgemm per block instead of one small
 * product split by the BLAS (which costs more than it gains). */
struct rows_job {
    const tp_train_net *net;
    tp_train_work *w;
    int l, seq, batch;
    const float *w_hh, *b_hh;
};

static void for_row_blocks(int threads, int batch, void (*fn)(struct rows_job *, int, int),
                           struct rows_job *job)
{
#ifdef _OPENMP
    if (threads > 1 && batch > 1) {
        /* Inside the parallel region OpenBLAS runs each call on one thread. */
#pragma omp parallel num_threads(threads < batch ? threads : batch)
        {
            int n = omp_get_num_threads(), id = omp_get_thread_num();
            fn(job, batch * id / n, batch * (id + 1) / n);
        }
        return;
    }
#else
    (void)threads; /* built without OpenMP: one block */
#endif
    fn(job, 0, batch);
}

/* Forward through time for batch rows [b0, b1) of layer job->l. */
static void forward_rows(struct rows_job *job, int b0, int b1)
{
    const tp_train_cell *cell = job->net->cell;
    tp_train_work *w = job->w;
    int H = job->net->n_hidden, GH = cell->gates * H, batch = job->batch, nb = b1 - b0;
    size_t bh = (size_t)batch * H;
    for (int t = 0; t < job->seq; t++) {
        size_t row = (size_t)t * batch + b0;
        float *git = w->dz + row * GH;
        const float *h_prev = w->hs[job->l] + (size_t)t * bh + (size_t)b0 * H;
        const float *c_prev = w->cs[job->l] + (size_t)t * bh + (size_t)b0 * H;
        float *gh = cell->fused ? git : w->gh + (size_t)b0 * GH;
        if (!cell->fused)
            fill_rows(gh, job->b_hh, nb, GH);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, GH, H, 1.0f, h_prev, H,
                    job->w_hh, H, 1.0f, gh, GH);
        cell->forward(git, cell->fused ? NULL : gh, h_prev, c_prev,
                      w->hs[job->l] + (size_t)(t + 1) * bh + (size_t)b0 * H,
                      w->cs[job->l] + (size_t)(t + 1) * bh + (size_t)b0 * H,
                      w->saved[job->l] + row * 4 * H, nb, H);
    }
}

static void layer_forward(const tp_train_net *net, tp_train_work *w, int l, const float *x,
                          int n_in, int seq, int batch)
{
    const tp_train_cell *cell = net->cell;
    int H = net->n_hidden, GH = cell->gates * H, rows = seq * batch;
    const float *w_ih = net->params + layer_tensor(net, l, 0)->offset;
    const float *w_hh = net->params + layer_tensor(net, l, 1)->offset;
    const float *b_ih = net->params + layer_tensor(net, l, 2)->offset;
    const float *b_hh = net->params + layer_tensor(net, l, 3)->offset;
    float *gi = w->dz; /* free until backward: the input pre-activations (forward_rows) */
    fill_rows(gi, b_ih, rows, GH);
    if (cell->fused)
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < GH; j++)
                gi[(size_t)r * GH + j] += b_hh[j];
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, GH, n_in, 1.0f, x, n_in,
                w_ih, n_in, 1.0f, gi, GH);
    struct rows_job job = {net, w, l, seq, batch, w_hh, b_hh};
    for_row_blocks(net->threads, batch, forward_rows, &job);
}

/* Inverted dropout of n values of x into out, the mask kept for backward:
 * what nn.LSTM applies between layers and nn.Dropout elsewhere. */
static const float *drop(const float *x, float *out, float *mask, size_t n, double p,
                         tp_rng *rng)
{
    float keep = (float)(1.0 / (1.0 - p));
    for (size_t i = 0; i < n; i++) {
        mask[i] = tp_rng_uniform(rng) < p ? 0.0f : keep;
        out[i] = x[i] * mask[i];
    }
    return out;
}

static void scale_by_mask(float *d, const float *mask, size_t n)
{
    for (size_t i = 0; i < n; i++)
        d[i] *= mask[i];
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

/* Back through time for batch rows [b0, b1) of layer job->l. */
static void backward_rows(struct rows_job *job, int b0, int b1)
{
    const tp_train_cell *cell = job->net->cell;
    tp_train_work *w = job->w;
    int H = job->net->n_hidden, GH = cell->gates * H, batch = job->batch, nb = b1 - b0, l = job->l;
    size_t bh = (size_t)batch * H, sub = (size_t)nb * H, off = (size_t)b0 * H;
    float *dh_next = w->dh_next + off, *dc_next = w->dc_next + off;
    memset(dh_next, 0, sub * sizeof(float));
    memset(dc_next, 0, sub * sizeof(float));
    for (int t = job->seq - 1; t >= 0; t--) {
        size_t row = (size_t)t * batch + b0;
        const float *dht = w->dh + (size_t)t * bh + off;
        for (size_t k = 0; k < sub; k++)
            dh_next[k] += dht[k];
        float *dgi = w->dz + row * GH;
        float *dgh = cell->fused ? dgi : w->dzh + row * GH;
        cell->backward(w->saved[l] + row * 4 * H, w->hs[l] + (size_t)t * bh + off,
                       w->cs[l] + (size_t)t * bh + off, w->cs[l] + (size_t)(t + 1) * bh + off,
                       w->hs[l] + (size_t)(t + 1) * bh + off, dh_next, dc_next, dgi, dgh, nb,
                       H);
        if (t > 0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nb, H, GH, 1.0f, dgh, GH,
                        job->w_hh, H, 1.0f, dh_next, H);
    }
}

/* Back through time for one layer: w->dh holds d loss / d h_t from above;
 * fills w->dz (and w->dzh) with d loss / d pre-activations. */
static void layer_backward_time(const tp_train_net *net, tp_train_work *w, int l, int seq,
                                int batch)
{
    struct rows_job job = {net, w, l, seq, batch, net->params + layer_tensor(net, l, 1)->offset,
                           NULL};
    for_row_blocks(net->threads, batch, backward_rows, &job);
}

/* Column sums of d (rows x n) into g. */
static void column_sums(const float *d, int rows, int n, float *g)
{
    memset(g, 0, (size_t)n * sizeof(float));
    for (int r = 0; r < rows; r++)
        for (int j = 0; j < n; j++)
            g[j] += d[(size_t)r * n + j];
}

/* Weight gradients of layer l over the whole chunk, and d loss / d input
 * into w->dx. */
static void layer_backward_weights(tp_train_net *net, tp_train_work *w, int l, const float *x,
                                   int n_in, int seq, int batch)
{
    int H = net->n_hidden, GH = net->cell->gates * H, rows = seq * batch;
    const float *w_ih = net->params + layer_tensor(net, l, 0)->offset;
    const float *dzh = net->cell->fused ? w->dz : w->dzh;
    float *g_ih = net->grads + layer_tensor(net, l, 0)->offset;
    float *g_hh = net->grads + layer_tensor(net, l, 1)->offset;
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, GH, n_in, rows, 1.0f, w->dz, GH, x,
                n_in, 0.0f, g_ih, n_in);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, GH, H, rows, 1.0f, dzh, GH, w->hs[l],
                H, 0.0f, g_hh, H);
    column_sums(w->dz, rows, GH, net->grads + layer_tensor(net, l, 2)->offset);
    column_sums(dzh, rows, GH, net->grads + layer_tensor(net, l, 3)->offset);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, n_in, GH, 1.0f, w->dz, GH,
                w_ih, n_in, 0.0f, w->dx, n_in);
}

static void head_backward(tp_train_net *net, tp_train_work *w, const float *top, int rows)
{
    int V = net->n_vocab, H = net->n_hidden;
    const tp_train_tensor *hw = &net->tensors[net->n_tensors - 2];
    const tp_train_tensor *hb = &net->tensors[net->n_tensors - 1];
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, V, H, rows, 1.0f, w->logits, V, top,
                H, 0.0f, net->grads + hw->offset, H);
    column_sums(w->logits, rows, V, net->grads + hb->offset);
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
                          tp_train_dropout dropout, tp_rng *rng, int backward)
{
    int E = net->n_embed, H = net->n_hidden, V = net->n_vocab, L = net->n_layers;
    int rows = seq * batch;
    size_t bh = (size_t)batch * H, rh = (size_t)rows * H, re = (size_t)rows * E;
    const float *embed = net->params + net->tensors[0].offset;
    for (int r = 0; r < rows; r++)
        memcpy(w->x0 + (size_t)r * E, embed + (size_t)in[r] * E, (size_t)E * sizeof(float));
    const float *x = w->x0;
    if (dropout.io > 0)
        x = drop(x, w->dropped_in, w->mask_in, re, dropout.io, rng);
    const float *inputs[16];
    for (int l = 0; l < L; l++) {
        inputs[l] = x;
        memcpy(w->hs[l], state + (size_t)l * bh, bh * sizeof(float));
        memcpy(w->cs[l], state + (size_t)(L + l) * bh, bh * sizeof(float));
        layer_forward(net, w, l, x, l ? H : E, seq, batch);
        memcpy(state + (size_t)l * bh, w->hs[l] + (size_t)seq * bh, bh * sizeof(float));
        memcpy(state + (size_t)(L + l) * bh, w->cs[l] + (size_t)seq * bh, bh * sizeof(float));
        x = w->hs[l] + bh;
        /* mask[L - 1] is free for the last layer's output: nothing drops after it
         * but the decoder's input */
        double p = l < L - 1 ? dropout.between : dropout.io;
        if (p > 0)
            x = drop(x, w->dropped[l], w->mask[l], rh, p, rng);
    }
    const tp_train_tensor *hw = &net->tensors[net->n_tensors - 2];
    const tp_train_tensor *hb = &net->tensors[net->n_tensors - 1];
    fill_rows(w->logits, net->params + hb->offset, rows, V);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, V, H, 1.0f, x, H,
                net->params + hw->offset, H, 1.0f, w->logits, V);
    double loss = softmax_xent(w->logits, target, rows, V, backward);
    if (!backward)
        return loss;
    head_backward(net, w, x, rows);
    if (dropout.io > 0)
        scale_by_mask(w->dh, w->mask[L - 1], rh);
    for (int l = L - 1; l >= 0; l--) {
        layer_backward_time(net, w, l, seq, batch);
        layer_backward_weights(net, w, l, inputs[l], l ? H : E, seq, batch);
        if (l > 0) {
            /* d loss / d output of layer l - 1, through its dropout mask */
            memcpy(w->dh, w->dx, rh * sizeof(float));
            if (dropout.between > 0)
                scale_by_mask(w->dh, w->mask[l - 1], rh);
        }
    }
    if (dropout.io > 0)
        scale_by_mask(w->dx, w->mask_in, re);
    embed_backward(net, w, in, rows);
    return loss;
}
