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
#include "tempest/train_kernel.h"

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
    float *panels; /* [G*H][H]: W_hh packed for tp_tk_gemm (train_kernel.h), made the
                    * first time the time loops run on several threads */
    float *bias_row; /* [G*H]: what every position's gates start from */
    double *row_loss; /* [rows]: each position's loss, summed in order after */
    float *table; /* [V][G*H]: the embedding through layer 0's W_ih forward, the
                   * per-token sums of its gate gradients backward (fold_tokens);
                   * NULL when the vocabulary is too large for that to pay */
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
    free(w->panels);
    free(w->table);
    free(w->bias_row);
    free(w->row_loss);
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
    w->bias_row = floats(GH, &ok);
    w->row_loss = calloc(rows ? rows : 1, sizeof *w->row_loss);
    ok = ok && w->row_loss;
    if ((size_t)net->n_vocab * 4 <= rows)
        w->table = floats((size_t)net->n_vocab * GH, &ok);
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
static void fill_rows(float *y, const float *bias, int rows, int n, int threads)
{
#pragma omp parallel for num_threads(threads) if (threads > 1) schedule(static)
    for (int r = 0; r < rows; r++)
        memcpy(y + (size_t)r * n, bias, (size_t)n * sizeof(float));
}

/* Row r of y (rows x n) := row tokens[r] of table: the folded projection. */
static void gather_rows(float *y, const float *table, const int *tokens, int rows, int n,
                        int threads)
{
#pragma omp parallel for num_threads(threads) if (threads > 1) schedule(static)
    for (int r = 0; r < rows; r++)
        memcpy(y + (size_t)r * n, table + (size_t)tokens[r] * n, (size_t)n * sizeof(float));
}

/* The time loops go step by step (each step's recurrent product needs the
 * last step's h). With two threads the hidden units are split between them:
 * each thread computes its units' gate rows forward (its rows of W_hh) and
 * its units' part of d h_prev backward (its columns of W_hh), with a barrier
 * per step. Each core then reads half of W_hh per step, packed once per
 * chunk into panels that stay in its L2 (train_kernel.h); splitting the
 * streams instead made each core's sgemm repack all of W_hh for half the
 * columns, and two threads gained only 1.3-1.5x. One thread keeps one
 * sgemm over all the gates, as fast when the whole W_hh is one core's. */
struct time_job {
    const tp_train_net *net;
    tp_train_work *w;
    int l, seq, batch;
    const float *w_hh, *b_hh;
};

/* Thread id of n takes units [bound(id), bound(id + 1)): multiples of 16
 * where possible, so the gate loops keep whole vectors. */
static int unit_bound(int H, int id, int n)
{
    if (id >= n)
        return H;
    int j = (int)((long)H * id / n);
    return H >= 16 * n ? j & ~15 : j;
}

static void for_unit_blocks(int threads, int H, void (*fn)(struct time_job *, int, int),
                            struct time_job *job)
{
#ifdef _OPENMP
    if (threads > 1 && H >= 2 * threads) {
        /* Inside the parallel region OpenBLAS runs each call on one thread. */
#pragma omp parallel num_threads(threads)
        {
            int n = omp_get_num_threads(), id = omp_get_thread_num();
            fn(job, unit_bound(H, id, n), unit_bound(H, id + 1, n));
        }
        return;
    }
#else
    (void)threads; /* built without OpenMP: one block */
#endif
    fn(job, 0, H);
}

/* Every thread of the time loop has finished the step (no-op alone). */
static void step_barrier(void)
{
#ifdef _OPENMP
#pragma omp barrier
#endif
}

/* Whether a thread of a split time loop (units j0..j1) uses the packed
 * panels: alone, sgemm over all the gates at once is as fast. */
static int use_panels(const tp_train_work *w, int H, int j0, int j1)
{
    return w->panels && !(j0 == 0 && j1 == H) && H % 16 == 0 && tp_tk_usable(j1 - j0, j0);
}

/* The panels' room, before the threads start; without it (out of memory)
 * the split loops use sgemm. */
static void make_panels(const tp_train_net *net, tp_train_work *w)
{
    if (net->threads > 1 && !w->panels)
        w->panels = malloc((size_t)net->cell->gates * net->n_hidden * net->n_hidden *
                           sizeof *w->panels);
}

/* gh[:, gate columns of units j0..j1) += h_prev W_hh[those rows]^T, over the
 * whole batch: from the packed panels, or one product per gate, or one for
 * all when j0..j1 is all. */
static void recurrent_rows(const struct time_job *job, const float *h_prev, float *gh, int j0,
                           int j1, int panels)
{
    int H = job->net->n_hidden, G = job->net->cell->gates, GH = G * H;
    if (panels) {
        for (int g = 0; g < G; g++) {
            int col = g * H + j0;
            tp_tk_gemm(job->batch, j1 - j0, H, h_prev, H, job->w->panels + (size_t)col * H,
                       gh + col, GH);
        }
        return;
    }
    if (j0 == 0 && j1 == H) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, job->batch, GH, H, 1.0f, h_prev,
                    H, job->w_hh, H, 1.0f, gh, GH);
        return;
    }
    for (int g = 0; g < G; g++) {
        int col = g * H + j0;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, job->batch, j1 - j0, H, 1.0f,
                    h_prev, H, job->w_hh + (size_t)col * H, H, 1.0f, gh + col, GH);
    }
}

/* Each row's gate columns of units j0..j1) set to b_hh (non-fused cells). */
static void recurrent_bias(const struct time_job *job, float *gh, int j0, int j1)
{
    int H = job->net->n_hidden, G = job->net->cell->gates, GH = G * H;
    for (int b = 0; b < job->batch; b++)
        for (int g = 0; g < G; g++)
            memcpy(gh + (size_t)b * GH + g * H + j0, job->b_hh + g * H + j0,
                   (size_t)(j1 - j0) * sizeof(float));
}

/* Forward through time for hidden units [j0, j1) of layer job->l. */
static void forward_units(struct time_job *job, int j0, int j1)
{
    const tp_train_cell *cell = job->net->cell;
    tp_train_work *w = job->w;
    int H = job->net->n_hidden, GH = cell->gates * H, batch = job->batch;
    size_t bh = (size_t)batch * H;
    float *const *hs = w->hs, *const *cs = w->cs;
    int panels = use_panels(w, H, j0, j1);
    if (panels) /* this thread's gate rows; it alone reads them */
        for (int g = 0; g < cell->gates; g++)
            tp_tk_pack_rows(w->panels, job->w_hh, H, g * H + j0, j1 - j0, H);
    for (int t = 0; t < job->seq; t++) {
        size_t row = (size_t)t * batch;
        float *git = w->dz + row * GH;
        const float *h_prev = hs[job->l] + (size_t)t * bh;
        float *gh = cell->fused ? git : w->gh;
        if (!cell->fused)
            recurrent_bias(job, gh, j0, j1);
        recurrent_rows(job, h_prev, gh, j0, j1, panels);
        cell->forward(git, cell->fused ? NULL : gh, h_prev, cs[job->l] + (size_t)t * bh,
                      hs[job->l] + (size_t)(t + 1) * bh, cs[job->l] + (size_t)(t + 1) * bh,
                      w->saved[job->l] + row * 4 * H, batch, H, j0, j1);
        step_barrier(); /* h_{t+1} whole before the next step's product reads it */
    }
}

/* Layer 0 sees embedding rows; without dropout on them its input
 * projection only depends on the token, so it is folded: the V rows of
 * embedding x W_ih^T once, then one row per position, instead of a product
 * over every position (with 65 tokens and 4,096 positions a chunk, 63 times
 * less work; the backward products fold the same way). Returns the tokens
 * to fold by, or NULL. */
static const int *fold_tokens(const tp_train_work *w, const int *in, tp_train_dropout dropout)
{
    return w->table && dropout.io == 0 ? in : NULL;
}

static void layer_forward(const tp_train_net *net, tp_train_work *w, int l, const float *x,
                          int n_in, int seq, int batch, const int *fold)
{
    const tp_train_cell *cell = net->cell;
    int H = net->n_hidden, GH = cell->gates * H, rows = seq * batch;
    const float *w_ih = net->params + layer_tensor(net, l, 0)->offset;
    const float *w_hh = net->params + layer_tensor(net, l, 1)->offset;
    const float *b_ih = net->params + layer_tensor(net, l, 2)->offset;
    const float *b_hh = net->params + layer_tensor(net, l, 3)->offset;
    float *gi = w->dz; /* free until backward: the input pre-activations (forward_units) */
    float *bias = w->bias_row;
    for (int j = 0; j < GH; j++)
        bias[j] = cell->fused ? b_ih[j] + b_hh[j] : b_ih[j];
    if (fold) {
        float *table = w->table;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, net->n_vocab, GH, n_in, 1.0f,
                    net->params + net->tensors[0].offset, n_in, w_ih, n_in, 0.0f, table, GH);
        for (int v = 0; v < net->n_vocab; v++)
            for (int j = 0; j < GH; j++)
                table[(size_t)v * GH + j] += bias[j];
        gather_rows(gi, table, fold, rows, GH, net->threads);
    } else {
        fill_rows(gi, bias, rows, GH, net->threads);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, GH, n_in, 1.0f, x, n_in,
                    w_ih, n_in, 1.0f, gi, GH);
    }
    struct time_job job = {net, w, l, seq, batch, w_hh, b_hh};
    make_panels(net, w);
    for_unit_blocks(net->threads, H, forward_units, &job);
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
static double softmax_xent(float *logits, const int *target, int rows, int V, int backward,
                           double *row_loss, int threads)
{
#pragma omp parallel for num_threads(threads) if (threads > 1) schedule(static)
    for (int r = 0; r < rows; r++) {
        float *z = logits + (size_t)r * V;
        float mx = z[0];
        for (int v = 1; v < V; v++)
            mx = z[v] > mx ? z[v] : mx;
        double sum = 0;
        for (int v = 0; v < V; v++)
            sum += exp((double)(z[v] - mx));
        row_loss[r] = log(sum) - (double)(z[target[r]] - mx);
        if (!backward)
            continue;
        double scale = 1.0 / (sum * rows);
        for (int v = 0; v < V; v++)
            z[v] = (float)(exp((double)(z[v] - mx)) * scale);
        z[target[r]] -= 1.0f / (float)rows;
    }
    double total = 0; /* in order: the same sum on any number of threads */
    for (int r = 0; r < rows; r++)
        total += row_loss[r];
    return total;
}

/* ---- backward --------------------------------------------------------- */

/* Back through time for hidden units [j0, j1) of layer job->l. */
static void backward_units(struct time_job *job, int j0, int j1)
{
    const tp_train_cell *cell = job->net->cell;
    tp_train_work *w = job->w;
    int H = job->net->n_hidden, GH = cell->gates * H, batch = job->batch, l = job->l;
    int n = j1 - j0;
    size_t bh = (size_t)batch * H;
    float *dh_next = w->dh_next, *dc_next = w->dc_next;
    int panels = use_panels(w, H, j0, j1);
    if (panels) /* this thread's columns of W_hh; it alone reads them */
        tp_tk_pack_cols(w->panels, job->w_hh, H, j0, n, GH);
    for (int b = 0; b < batch; b++) {
        memset(dh_next + (size_t)b * H + j0, 0, (size_t)n * sizeof(float));
        memset(dc_next + (size_t)b * H + j0, 0, (size_t)n * sizeof(float));
    }
    for (int t = job->seq - 1; t >= 0; t--) {
        size_t row = (size_t)t * batch, at = (size_t)t * bh, next = at + bh;
        const float *dht = w->dh + at;
        for (int b = 0; b < batch; b++)
            for (int j = j0; j < j1; j++)
                dh_next[(size_t)b * H + j] += dht[(size_t)b * H + j];
        float *dgi = w->dz + row * GH;
        float *dgh = cell->fused ? dgi : w->dzh + row * GH;
        cell->backward(w->saved[l] + row * 4 * H, w->hs[l] + at, w->cs[l] + at,
                       w->cs[l] + next, w->hs[l] + next, dh_next, dc_next, dgi, dgh, batch, H,
                       j0, j1);
        step_barrier(); /* every unit's dgh before the product reads them all */
        if (t > 0 && panels)
            tp_tk_gemm(batch, n, GH, dgh, GH, w->panels + (size_t)j0 * GH, dh_next + j0, H);
        else if (t > 0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, n, GH, 1.0f, dgh, GH,
                        job->w_hh + j0, H, 1.0f, dh_next + j0, H);
    }
}

/* Back through time for one layer: w->dh holds d loss / d h_t from above;
 * fills w->dz (and w->dzh) with d loss / d pre-activations. */
static void layer_backward_time(const tp_train_net *net, tp_train_work *w, int l, int seq,
                                int batch)
{
    struct time_job job = {net, w, l, seq, batch, net->params + layer_tensor(net, l, 1)->offset,
                           NULL};
    make_panels(net, w);
    for_unit_blocks(net->threads, net->n_hidden, backward_units, &job);
}

/* Column sums of d (rows x n) into g. */
static void column_sums(const float *d, int rows, int n, float *g, int threads)
{
    memset(g, 0, (size_t)n * sizeof(float));
    /* threads take column blocks; each column is summed in row order */
    int blocks = threads > 1 && n >= 64 ? threads : 1;
#pragma omp parallel for num_threads(blocks) if (blocks > 1) schedule(static)
    for (int b = 0; b < blocks; b++) {
        int j0 = (int)((long)n * b / blocks), j1 = (int)((long)n * (b + 1) / blocks);
        for (int r = 0; r < rows; r++)
            for (int j = j0; j < j1; j++)
                g[j] += d[(size_t)r * n + j];
    }
}

/* sums[v] := the sum of the rows r of d (rows x n) with tokens[r] = v, in
 * row order; threads take column blocks. */
static void token_sums(float *sums, const float *d, const int *tokens, int rows, int V, int n,
                       int threads)
{
    memset(sums, 0, (size_t)V * n * sizeof(float));
    int blocks = threads > 1 && n >= 64 ? threads : 1;
#pragma omp parallel for num_threads(blocks) if (blocks > 1) schedule(static)
    for (int b = 0; b < blocks; b++) {
        int j0 = (int)((long)n * b / blocks), j1 = (int)((long)n * (b + 1) / blocks);
        for (int r = 0; r < rows; r++) {
            const float *dr = d + (size_t)r * n;
            float *sr = sums + (size_t)tokens[r] * n;
            for (int j = j0; j < j1; j++)
                sr[j] += dr[j];
        }
    }
}

/* Weight gradients of layer l over the whole chunk, and d loss / d input
 * into w->dx; folded (layer 0, see fold_tokens): the gate gradients summed
 * per token, and from them W_ih's gradient and the embedding's directly
 * (w->dx is then not filled). */
static void layer_backward_weights(tp_train_net *net, tp_train_work *w, int l, const float *x,
                                   int n_in, int seq, int batch, const int *fold)
{
    int H = net->n_hidden, GH = net->cell->gates * H, rows = seq * batch, V = net->n_vocab;
    const float *w_ih = net->params + layer_tensor(net, l, 0)->offset;
    const float *dzh = net->cell->fused ? w->dz : w->dzh;
    float *g_ih = net->grads + layer_tensor(net, l, 0)->offset;
    float *g_hh = net->grads + layer_tensor(net, l, 1)->offset;
    if (fold) {
        const float *embed = net->params + net->tensors[0].offset;
        token_sums(w->table, w->dz, fold, rows, V, GH, net->threads);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, GH, n_in, V, 1.0f, w->table, GH,
                    embed, n_in, 0.0f, g_ih, n_in);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, V, n_in, GH, 1.0f, w->table, GH,
                    w_ih, n_in, 0.0f, net->grads + net->tensors[0].offset, n_in);
    } else {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, GH, n_in, rows, 1.0f, w->dz, GH, x,
                    n_in, 0.0f, g_ih, n_in);
    }
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, GH, H, rows, 1.0f, dzh, GH, w->hs[l],
                H, 0.0f, g_hh, H);
    float *g_bih = net->grads + layer_tensor(net, l, 2)->offset;
    float *g_bhh = net->grads + layer_tensor(net, l, 3)->offset;
    column_sums(w->dz, rows, GH, g_bih, net->threads);
    if (dzh == w->dz) /* fused: both biases get the same gradient */
        memcpy(g_bhh, g_bih, (size_t)GH * sizeof(float));
    else
        column_sums(dzh, rows, GH, g_bhh, net->threads);
    if (!fold)
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
    column_sums(w->logits, rows, V, net->grads + hb->offset, net->threads);
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
    const int *fold = fold_tokens(w, in, dropout);
    for (int r = 0; !fold && r < rows; r++) /* folded, layer 0 reads the tokens */
        memcpy(w->x0 + (size_t)r * E, embed + (size_t)in[r] * E, (size_t)E * sizeof(float));
    const float *x = w->x0;
    if (dropout.io > 0)
        x = drop(x, w->dropped_in, w->mask_in, re, dropout.io, rng);
    const float *inputs[16];
    for (int l = 0; l < L; l++) {
        inputs[l] = x;
        memcpy(w->hs[l], state + (size_t)l * bh, bh * sizeof(float));
        memcpy(w->cs[l], state + (size_t)(L + l) * bh, bh * sizeof(float));
        layer_forward(net, w, l, x, l ? H : E, seq, batch, l ? NULL : fold);
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
    fill_rows(w->logits, net->params + hb->offset, rows, V, net->threads);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, V, H, 1.0f, x, H,
                net->params + hw->offset, H, 1.0f, w->logits, V);
    double loss = softmax_xent(w->logits, target, rows, V, backward, w->row_loss, net->threads);
    if (!backward)
        return loss;
    head_backward(net, w, x, rows);
    if (dropout.io > 0)
        scale_by_mask(w->dh, w->mask[L - 1], rh);
    for (int l = L - 1; l >= 0; l--) {
        layer_backward_time(net, w, l, seq, batch);
        layer_backward_weights(net, w, l, inputs[l], l ? H : E, seq, batch, l ? NULL : fold);
        if (l > 0) {
            /* d loss / d output of layer l - 1, through its dropout mask */
            memcpy(w->dh, w->dx, rh * sizeof(float));
            if (dropout.between > 0)
                scale_by_mask(w->dh, w->mask[l - 1], rh);
        }
    }
    if (fold)
        return loss; /* the embedding's gradient came with layer 0's */
    if (dropout.io > 0)
        scale_by_mask(w->dx, w->mask_in, re);
    embed_backward(net, w, in, rows);
    return loss;
}
