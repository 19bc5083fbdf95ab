/* model.c - build an LSTM, GRU or RNN language model from a safetensors file.
 *
 * Tensors are found by their PyTorch state_dict names after any prefix
 * ("model.", "module.", ...): the module name is the next-to-last dotted
 * component and the parameter name the last. Every tensor must have a role,
 * so a file built for another architecture is refused rather than run.
 * The cell kind comes from weight_hh_l0's shape (4H, 3H or H rows), which
 * the module name (lstm, gru; rnn is any) must agree with; an RNN's
 * nonlinearity, which no tensor records, from the "nonlinearity" metadata.
 */
#include "tempest/model.h"
#include "tempest/pool.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tempest/kernels.h"

enum role { ROLE_EMBED, ROLE_HEAD_W, ROLE_HEAD_B, ROLE_W_IH, ROLE_W_HH, ROLE_B_IH,
            ROLE_B_HH, N_ROLES };

/* The tensors found for each role; recurrent roles are per layer. */
struct found {
    const tp_safetensors *st; /* where the tensors' bytes are read from */
    const tp_tensor *embed, *head_w, *head_b;
    const tp_tensor *rec[TP_MAX_LAYERS][4];
    int n_layers;
    char rec_module[64];       /* "lstm", "gru" or "rnn": one for all layers */
    const tp_tensor *rec_seen; /* the first recurrent tensor, for messages */
};

static const char *const CELL_NAMES[TP_CELL_N] = {"LSTM", "GRU", "RNN (tanh)", "RNN (relu)"};
static const char *const CELL_IDS[TP_CELL_N] = {"lstm", "gru", "rnn_tanh", "rnn_relu"};
static const int CELL_GATES[TP_CELL_N] = {4, 3, 1, 1};

const char *tp_cell_name(tp_cell c) { return c < TP_CELL_N ? CELL_NAMES[c] : "?"; }
const char *tp_cell_id(tp_cell c) { return c < TP_CELL_N ? CELL_IDS[c] : "?"; }
int tp_cell_gates(tp_cell c) { return c < TP_CELL_N ? CELL_GATES[c] : 4; }

/* Split "a.b.module.param" into module and param (pointers into name). */
static int split_name(const char *name, char *module, size_t cap, const char **param)
{
    const char *dot = strrchr(name, '.');
    if (!dot)
        return 0;
    const char *start = dot;
    while (start > name && start[-1] != '.')
        start--;
    size_t len = (size_t)(dot - start);
    if (len == 0 || len >= cap)
        return 0;
    memcpy(module, start, len);
    module[len] = '\0';
    *param = dot + 1;
    return 1;
}

static tp_status place(const tp_tensor **slot, const tp_tensor *t, tp_error *err)
{
    if (*slot)
        return tp_fail(err, TP_ERR_FORMAT, "tensors '%s' and '%s' play the same part",
                       (*slot)->name, t->name);
    *slot = t;
    return TP_OK;
}

static tp_status classify_recurrent(struct found *f, const tp_tensor *t, const char *param,
                                    tp_error *err)
{
    static const char *const kinds[4] = {"weight_ih_l", "weight_hh_l", "bias_ih_l",
                                         "bias_hh_l"};
    if (strstr(param, "_reverse"))
        return tp_fail(err, TP_ERR_FORMAT, "tensor '%s': a bidirectional %s cannot "
                       "generate text left to right", t->name,
                       strcmp(f->rec_module, "gru") ? "LSTM/RNN" : "GRU");
    if (strncmp(param, "weight_hr_l", 11) == 0)
        return tp_fail(err, TP_ERR_FORMAT, "tensor '%s': LSTM projections (proj_size) "
                       "are not supported", t->name);
    for (int k = 0; k < 4; k++) {
        size_t kl = strlen(kinds[k]);
        if (strncmp(param, kinds[k], kl) != 0)
            continue;
        const char *digits = param + kl;
        char *end;
        long layer = strtol(digits, &end, 10);
        /* Plain decimal only: "l+1", "l 1" and "l01" are not PyTorch names. */
        int canonical = digits[0] >= '0' && digits[0] <= '9' &&
                        !(digits[0] == '0' && digits[1] != '\0');
        if (!canonical || *end || layer >= TP_MAX_LAYERS)
            return tp_fail(err, TP_ERR_FORMAT, "tensor '%s': layer number must be 0 to %d",
                           t->name, TP_MAX_LAYERS - 1);
        if (layer + 1 > f->n_layers)
            f->n_layers = (int)layer + 1;
        return place(&f->rec[layer][k], t, err);
    }
    return tp_fail(err, TP_ERR_FORMAT, "tensor '%s' is not an LSTM/GRU/RNN parameter",
                   t->name);
}

/* All recurrent tensors belong to one module: lstm.*, gru.* or rnn.*. */
static tp_status note_rec_module(struct found *f, const tp_tensor *t, const char *module,
                                 tp_error *err)
{
    if (!f->rec_seen) {
        snprintf(f->rec_module, sizeof f->rec_module, "%s", module);
        f->rec_seen = t;
        return TP_OK;
    }
    if (strcmp(f->rec_module, module) == 0)
        return TP_OK;
    return tp_fail(err, TP_ERR_FORMAT, "tensors '%s' and '%s' belong to different recurrent "
                   "modules (%s, %s)", f->rec_seen->name, t->name, f->rec_module, module);
}

static tp_status classify(struct found *f, const tp_tensor *t, tp_error *err)
{
    char module[64];
    const char *param;
    if (!split_name(t->name, module, sizeof module, &param))
        return tp_fail(err, TP_ERR_FORMAT, "tensor '%s' is not part of an embedding/LSTM/"
                       "head language model", t->name);
    if ((!strcmp(module, "embed") || !strcmp(module, "encoder")) && !strcmp(param, "weight"))
        return place(&f->embed, t, err);
    if (!strcmp(module, "head") || !strcmp(module, "decoder")) {
        if (!strcmp(param, "weight"))
            return place(&f->head_w, t, err);
        if (!strcmp(param, "bias"))
            return place(&f->head_b, t, err);
    }
    if (!strcmp(module, "lstm") || !strcmp(module, "gru") || !strcmp(module, "rnn")) {
        tp_status rc = note_rec_module(f, t, module, err);
        return rc ? rc : classify_recurrent(f, t, param, err);
    }
    return tp_fail(err, TP_ERR_FORMAT, "tensor '%s' is not part of an embedding/LSTM/head "
                   "language model", t->name);
}

static tp_status expect_shape(const tp_tensor *t, int ndim, int64_t d0, int64_t d1,
                              tp_error *err)
{
    int ok = t->ndim == ndim && t->shape[0] == d0 && (ndim == 1 || t->shape[1] == d1);
    if (ok)
        return TP_OK;
    char want[64], got[96] = "";
    if (ndim == 1)
        snprintf(want, sizeof want, "[%lld]", (long long)d0);
    else
        snprintf(want, sizeof want, "[%lld, %lld]", (long long)d0, (long long)d1);
    for (int i = 0; i < t->ndim && strlen(got) < 70; i++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", i ? ", " : "",
                 (long long)t->shape[i]);
    return tp_fail(err, TP_ERR_FORMAT, "tensor '%s' has shape [%s], expected %s", t->name,
                   got, want);
}

/* The cell kind from weight_hh_l0's rows over H, checked against the module
 * name; RNN's nonlinearity is settled later from the metadata. */
static tp_status infer_cell(tp_model *m, const struct found *f, tp_error *err)
{
    const tp_tensor *hh0 = f->rec[0][1];
    int64_t H = m->n_hidden;
    int64_t rows = hh0->ndim == 2 && hh0->shape[1] == H ? hh0->shape[0] : -1;
    int lstm_named = !strcmp(f->rec_module, "lstm"), gru_named = !strcmp(f->rec_module, "gru");
    int found = 1;
    if (rows == 4 * H)
        m->cell = TP_CELL_LSTM;
    else if (rows == 3 * H)
        m->cell = TP_CELL_GRU;
    else if (rows == H)
        m->cell = TP_CELL_RNN_TANH;
    else
        found = 0;
    if (!found && (lstm_named || gru_named)) {
        /* check_shapes names the shape the module name asks for */
        m->cell = lstm_named ? TP_CELL_LSTM : TP_CELL_GRU;
        return TP_OK;
    }
    if (!found)
        return tp_fail(err, TP_ERR_FORMAT, "tensor '%s' must be [4H, H] (LSTM), [3H, H] (GRU) "
                       "or [H, H] (RNN) with H = %lld, the head's width", hh0->name,
                       (long long)H);
    if ((lstm_named && m->cell != TP_CELL_LSTM) || (gru_named && m->cell != TP_CELL_GRU))
        return tp_fail(err, TP_ERR_FORMAT, "tensor '%s' is named like %s but its %lld rows "
                       "make it %s", hh0->name, lstm_named ? "an LSTM" : "a GRU",
                       (long long)rows, m->cell == TP_CELL_GRU ? "a GRU" :
                       m->cell == TP_CELL_LSTM ? "an LSTM" : "a vanilla RNN");
    return TP_OK;
}

/* Work out V, E and H from the head and the first layer, and check that all
 * the pieces are present. */
static tp_status infer_sizes(tp_model *m, const struct found *f, tp_error *err)
{
    if (!f->head_w)
        return tp_fail(err, TP_ERR_FORMAT, "no output layer: expected 'head.weight' or "
                       "'decoder.weight'");
    if (f->n_layers == 0)
        return tp_fail(err, TP_ERR_FORMAT, "no recurrent layer: expected "
                       "'lstm.weight_ih_l0' and friends");
    for (int l = 0; l < f->n_layers; l++) {
        if (!f->rec[l][0] || !f->rec[l][1])
            return tp_fail(err, TP_ERR_FORMAT, "layer %d lacks weight_ih_l%d or "
                           "weight_hh_l%d", l, l, l);
        if (!f->rec[l][2] != !f->rec[l][3])
            return tp_fail(err, TP_ERR_FORMAT, "layer %d has only one of bias_ih_l%d and "
                           "bias_hh_l%d", l, l, l);
    }
    if (f->head_w->ndim != 2 || f->head_w->shape[0] < 1 || f->head_w->shape[1] < 1 ||
        f->head_w->shape[0] > TP_VOCAB_MAX_SIZE || f->head_w->shape[1] > 65536)
        return tp_fail(err, TP_ERR_FORMAT, "tensor '%s' must be [vocab, hidden] with vocab "
                       "<= %d and hidden <= 65536", f->head_w->name, TP_VOCAB_MAX_SIZE);
    m->n_vocab = (int)f->head_w->shape[0];
    m->n_hidden = (int)f->head_w->shape[1];
    m->n_layers = f->n_layers;
    tp_status rc = infer_cell(m, f, err);
    if (rc)
        return rc;
    if (f->embed) {
        if (f->embed->ndim != 2 || f->embed->shape[1] < 1 || f->embed->shape[1] > 65536)
            return tp_fail(err, TP_ERR_FORMAT, "tensor '%s' must be [vocab, embed] with "
                           "embed <= 65536", f->embed->name);
        m->n_embed = (int)f->embed->shape[1];
    }
    return TP_OK;
}

static tp_status check_shapes(const tp_model *m, const struct found *f, tp_error *err)
{
    int V = m->n_vocab, H = m->n_hidden;
    int64_t G = tp_cell_gates(m->cell) * (int64_t)H;
    tp_status rc = TP_OK;
    if (f->embed)
        rc = expect_shape(f->embed, 2, V, m->n_embed, err);
    if (!rc && f->head_b)
        rc = expect_shape(f->head_b, 1, V, 0, err);
    for (int l = 0; l < m->n_layers && !rc; l++) {
        int in = l > 0 ? H : (m->n_embed ? m->n_embed : V);
        rc = expect_shape(f->rec[l][0], 2, G, in, err);
        if (!rc)
            rc = expect_shape(f->rec[l][1], 2, G, H, err);
        for (int k = 2; k < 4 && !rc; k++)
            if (f->rec[l][k])
                rc = expect_shape(f->rec[l][k], 1, G, 0, err);
    }
    return rc;
}

static float *alloc_floats(size_t n, tp_error *err)
{
    float *p = calloc(n ? n : 1, sizeof *p);
    if (!p)
        tp_fail(err, TP_ERR_NOMEM, "out of memory for %zu weights", n);
    return p;
}

/* Read a tensor into a fresh buffer. */
static float *read_tensor(const struct found *f, const tp_tensor *t, tp_error *err)
{
    float *p = alloc_floats(t->count, err);
    if (p && tp_tensor_read_f32(f->st, t, 0, t->count, p, err) != TP_OK) {
        free(p);
        return NULL;
    }
    return p;
}

/* The error a whole-tensor read of w_ih, then w_hh, reports. */
static tp_status report_bad_layer(const struct found *f, const tp_tensor *w_ih,
                                  const tp_tensor *w_hh, tp_error *err)
{
    float *a = read_tensor(f, w_ih, err);
    float *b = a ? read_tensor(f, w_hh, err) : NULL;
    tp_status rc = a && b ? tp_fail(err, TP_ERR_FORMAT, "tensor '%s' cannot be read", w_ih->name)
                          : (err ? err->code : TP_ERR_FORMAT);
    free(a);
    free(b);
    return rc;
}

/* Rows read and packed at a time: the weights go from the file to their
 * panels through a buffer of this many rows, never through a copy of a
 * whole tensor or file (peak memory is the model's panels, not twice). */
#define LOAD_ROWS 32

/* Rows [r0, r0 + n) of layer ly's recurrent weights into its matrices: an
 * LSTM's or RNN's fused row is [w_ih row | w_hh row]; a GRU keeps w_ih's rows
 * in w and w_hh's in w_hh. A one-hot input (n_in 0) has no w_ih rows here. */
static int pack_row_block(tp_layer *ly, const struct found *f, int l, int r0, int n, int H,
                          int gru, float *ih, float *hh, float *row)
{
    int n_in = ly->n_in;
    if ((n_in && tp_tensor_read_f32(f->st, f->rec[l][0], (size_t)r0 * n_in,
                                    (size_t)n * n_in, ih, NULL)) ||
        tp_tensor_read_f32(f->st, f->rec[l][1], (size_t)r0 * H, (size_t)n * H, hh, NULL))
        return -1;
    for (int i = 0; i < n; i++) {
        const float *x = ih + (size_t)i * n_in, *h = hh + (size_t)i * H;
        if (gru) {
            if (n_in)
                tp_matrix_set_row(&ly->w, r0 + i, x);
            tp_matrix_set_row(&ly->w_hh, r0 + i, h);
            continue;
        }
        memcpy(row, x, (size_t)n_in * sizeof *row);
        memcpy(row + n_in, h, (size_t)H * sizeof *row);
        tp_matrix_set_row(&ly->w, r0 + i, row);
    }
    return 0;
}

static tp_status pack_layer(tp_layer *ly, const struct found *f, int l, int G, int H, int gru,
                            tp_error *err)
{
    int n_in = ly->n_in;
    float *ih = alloc_floats((size_t)LOAD_ROWS * n_in, err);
    float *hh = ih ? alloc_floats((size_t)LOAD_ROWS * H, err) : NULL;
    float *row = hh ? alloc_floats((size_t)n_in + H, err) : NULL;
    tp_status rc = row ? TP_OK : (err ? err->code : TP_ERR_NOMEM);
    for (int r0 = 0; r0 < G && !rc; r0 += LOAD_ROWS) {
        int n = G - r0 < LOAD_ROWS ? G - r0 : LOAD_ROWS;
        if (pack_row_block(ly, f, l, r0, n, H, gru, ih, hh, row))
            rc = report_bad_layer(f, f->rec[l][0], f->rec[l][1], err);
    }
    free(ih);
    free(hh);
    free(row);
    return rc;
}

static void transpose_one_hot(float *w_ih_t, const float *w_ih, int G, int V)
{
    for (int r = 0; r < G; r++)
        for (int v = 0; v < V; v++)
            w_ih_t[(size_t)v * G + r] = w_ih[(size_t)r * V + v];
}

/* bias_ih + bias_hh into bias, except a GRU's bias_hh, which stays apart. */
static tp_status add_biases(tp_layer *ly, int l, const struct found *f, int G, tp_error *err)
{
    for (int k = 2; k < 4 && f->rec[l][k]; k++) {
        float *b = read_tensor(f, f->rec[l][k], err);
        if (!b)
            return err ? err->code : TP_ERR_NOMEM;
        tp_vec_add(k == 3 && ly->bias_hh ? ly->bias_hh : ly->bias, b, G);
        free(b);
    }
    return TP_OK;
}

static tp_status load_layer(tp_model *m, int l, const struct found *f, tp_error *err)
{
    tp_layer *ly = &m->layers[l];
    int H = m->n_hidden, G = tp_cell_gates(m->cell) * H;
    int gru = m->cell == TP_CELL_GRU;
    int one_hot = l == 0 && m->n_embed == 0;
    ly->n_in = one_hot ? 0 : (l == 0 ? m->n_embed : H);
    int cols = gru ? ly->n_in : ly->n_in + H; /* of w */
    /* Only a one-hot input needs w_ih whole (transposed); it is V x G, small. */
    float *w_ih = one_hot ? read_tensor(f, f->rec[l][0], err) : NULL;
    tp_status rc = one_hot && !w_ih ? (err ? err->code : TP_ERR_NOMEM) : TP_OK;
    if (!rc && !(ly->bias = alloc_floats((size_t)G, err)))
        rc = err ? err->code : TP_ERR_NOMEM;
    if (!rc && gru && !(ly->bias_hh = alloc_floats((size_t)G, err)))
        rc = err ? err->code : TP_ERR_NOMEM;
    if (!rc && one_hot && !(ly->w_ih_t = alloc_floats((size_t)G * (size_t)m->n_vocab, err)))
        rc = err ? err->code : TP_ERR_NOMEM;
    if (!rc)
        rc = tp_matrix_alloc(&ly->w, G, cols, m->weights, err);
    if (!rc && gru)
        rc = tp_matrix_alloc(&ly->w_hh, G, H, m->weights, err);
    if (!rc)
        rc = pack_layer(ly, f, l, G, H, gru, err);
    if (!rc && one_hot)
        transpose_one_hot(ly->w_ih_t, w_ih, G, m->n_vocab);
    if (!rc)
        rc = add_biases(ly, l, f, G, err);
    free(w_ih);
    return rc;
}

static size_t count_params(const tp_safetensors *st)
{
    size_t n = 0;
    for (int i = 0; i < st->n_tensors; i++)
        n += st->tensors[i].count;
    return n;
}

static tp_status load_vocab(tp_model *m, const tp_safetensors *st, tp_error *err)
{
    const char *tok_name = tp_st_meta(st, "tokenizer");
    const char *vocab_json = tp_st_meta(st, "vocab");
    tp_tokenizer kind = TP_TOK_CHAR;
    if (!vocab_json)
        return tp_fail(err, TP_ERR_FORMAT, "no vocabulary: __metadata__ needs \"vocab\", a "
                       "JSON list of the tokens in id order");
    tp_status rc = tok_name ? tp_tokenizer_parse(tok_name, &kind, err) : TP_OK;
    if (!rc)
        rc = tp_vocab_from_json(&m->vocab, kind, vocab_json, strlen(vocab_json), err);
    if (!rc && tp_vocab_size(m->vocab) != m->n_vocab)
        rc = tp_fail(err, TP_ERR_FORMAT, "the vocabulary has %d tokens but the head has %d "
                     "rows", tp_vocab_size(m->vocab), m->n_vocab);
    const char *desc = tp_st_meta(st, "description");
    if (!rc && !(m->description = strdup(desc ? desc : "")))
        rc = tp_fail(err, TP_ERR_NOMEM, "out of memory for the description");
    return rc;
}

/* nn.RNN's nonlinearity is an argument of the module, not a tensor: the
 * metadata carries it ("tanh", the default, or "relu"). Any other cell
 * given one is refused rather than run with a setting it cannot honour. */
static tp_status load_nonlinearity(tp_model *m, const tp_safetensors *st, tp_error *err)
{
    const char *nl = tp_st_meta(st, "nonlinearity");
    if (!nl)
        return TP_OK;
    int relu = strcmp(nl, "relu") == 0;
    if (!relu && strcmp(nl, "tanh") != 0)
        return tp_fail(err, TP_ERR_FORMAT, "metadata \"nonlinearity\" is '%.40s'; expected "
                       "tanh or relu", nl);
    if (m->cell != TP_CELL_RNN_TANH)
        return tp_fail(err, TP_ERR_FORMAT, "metadata \"nonlinearity\" is for a vanilla RNN, "
                       "but this model's layers are %s", tp_cell_name(m->cell));
    m->cell = relu ? TP_CELL_RNN_RELU : TP_CELL_RNN_TANH;
    return TP_OK;
}

/* Sequences handled per pass over the weights. */
#define TP_BATCH_CHUNK 64

/* Largest per-token table of layer 0's input sums kept: a character
 * model's is 0.25-0.5 MB; a word model's vocabulary would make it hundreds. */
#define TP_INPUT_SUMS_MAX_BYTES (8u << 20)

/* For every token v, the running sums of layer 0's w over its input columns
 * against embed[v], computed by the model's own kernel without bias or
 * scale, so a step that starts from them continues exactly the sum it would
 * have taken (kernels.h). Saves n_in / (n_in + H) of layer 0's work. */
static tp_status build_input_sums(tp_model *m, tp_error *err)
{
    tp_layer *ly = &m->layers[0];
    size_t V = (size_t)m->n_vocab, G = (size_t)ly->w.rows;
    if (!m->embed || ly->n_in == 0 || V * G * sizeof(float) > TP_INPUT_SUMS_MAX_BYTES)
        return TP_OK;
    if (!(ly->input_sums = alloc_floats(V * G, err)))
        return err ? err->code : TP_ERR_NOMEM;
    tp_matrix input = tp_matrix_columns(&ly->w, 0, ly->n_in);
    input.scale = NULL;
    const float *x[TP_BATCH_CHUNK];
    float *y[TP_BATCH_CHUNK];
    for (size_t v0 = 0; v0 < V; v0 += TP_BATCH_CHUNK) {
        int n = V - v0 < TP_BATCH_CHUNK ? (int)(V - v0) : TP_BATCH_CHUNK;
        for (int i = 0; i < n; i++) {
            x[i] = m->embed + (v0 + (size_t)i) * (size_t)ly->n_in;
            y[i] = ly->input_sums + (v0 + (size_t)i) * G;
        }
        m->kernels->matmul[input.type](&input, NULL, x, NULL, y, n, 0, (int)G);
    }
    return TP_OK;
}

static tp_status load_weights(tp_model *m, const struct found *f, tp_error *err)
{
    if (f->embed && !(m->embed = read_tensor(f, f->embed, err)))
        return err ? err->code : TP_ERR_NOMEM;
    float *head = read_tensor(f, f->head_w, err);
    if (!head)
        return err ? err->code : TP_ERR_NOMEM;
    tp_status head_rc = tp_matrix_init(&m->head_w, head, m->n_vocab, m->n_hidden, m->weights,
                                       err);
    free(head);
    if (head_rc)
        return head_rc;
    if (f->head_b)
        m->head_b = read_tensor(f, f->head_b, err);
    else
        m->head_b = alloc_floats((size_t)m->n_vocab, err);
    if (!m->head_b)
        return err ? err->code : TP_ERR_NOMEM;
    for (int l = 0; l < m->n_layers; l++) {
        tp_status rc = load_layer(m, l, f, err);
        if (rc)
            return rc;
    }
    return TP_OK;
}

tp_status tp_model_options_from_env(tp_model_options *opt, tp_error *err)
{
    opt->weights = TP_W_F32;
    opt->kernel = getenv("TEMPEST_KERNEL");
    opt->no_input_sums = 0;
    const char *w = getenv("TEMPEST_WEIGHTS");
    if (w && *w && tp_weight_type_parse(w, &opt->weights, err) != TP_OK) {
        tp_error_prefix(err, "TEMPEST_WEIGHTS");
        return err ? err->code : TP_ERR_USAGE;
    }
    return TP_OK;
}

/* Two threads pay off only on a machine with two cores to give;
 * TEMPEST_THREADS=1 keeps a batched step on one (for benchmarks). */
static int cores_to_use(void)
{
    const char *env = getenv("TEMPEST_THREADS");
    if (env && strcmp(env, "1") == 0)
        return 1;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n >= 2 ? 2 : 1;
}

tp_status tp_model_from_safetensors_with(tp_model **out, const tp_safetensors *st,
                                         const tp_model_options *opt, tp_error *err)
{
    *out = NULL;
    struct found f;
    memset(&f, 0, sizeof f);
    f.st = st;
    tp_status rc = TP_OK;
    for (int i = 0; i < st->n_tensors && !rc; i++)
        rc = classify(&f, &st->tensors[i], err);
    tp_model *m = calloc(1, sizeof *m);
    if (!m)
        return rc ? rc : tp_fail(err, TP_ERR_NOMEM, "out of memory for the model");
    m->weights = opt->weights;
    m->threads = cores_to_use();
    if (!rc)
        rc = tp_kernels_find(opt->kernel, &m->kernels, err);
    if (!rc && m->threads > 1)
        rc = tp_pool_new(&m->pool, err);
    if (!rc)
        rc = infer_sizes(m, &f, err);
    if (!rc)
        rc = check_shapes(m, &f, err);
    if (!rc)
        rc = load_nonlinearity(m, st, err);
    if (!rc)
        rc = load_vocab(m, st, err);
    if (!rc)
        rc = load_weights(m, &f, err);
    if (!rc && !opt->no_input_sums)
        rc = build_input_sums(m, err);
    if (rc) {
        tp_model_free(m);
        return rc;
    }
    m->n_params = count_params(st);
    *out = m;
    return TP_OK;
}

tp_status tp_model_from_safetensors(tp_model **out, const tp_safetensors *st, tp_error *err)
{
    tp_model_options opt;
    *out = NULL;
    tp_status rc = tp_model_options_from_env(&opt, err);
    return rc ? rc : tp_model_from_safetensors_with(out, st, &opt, err);
}

tp_status tp_model_load_with(tp_model **out, const char *path, const tp_model_options *opt,
                             tp_error *err)
{
    tp_safetensors st;
    *out = NULL;
    tp_status rc = tp_st_open_lazy(&st, path, err);
    if (rc)
        return rc;
    rc = tp_model_from_safetensors_with(out, &st, opt, err);
    if (rc)
        tp_error_prefix(err, "%s", path);
    /* Weights were copied out, so the file can be closed: one replaced or
     * truncated on disk later cannot reach us. */
    tp_st_close(&st);
    return rc;
}

tp_status tp_model_load(tp_model **out, const char *path, tp_error *err)
{
    tp_model_options opt;
    *out = NULL;
    tp_status rc = tp_model_options_from_env(&opt, err);
    return rc ? rc : tp_model_load_with(out, path, &opt, err);
}

void tp_model_free(tp_model *m)
{
    if (!m)
        return;
    free(m->embed);
    for (int l = 0; l < TP_MAX_LAYERS; l++) {
        tp_matrix_free(&m->layers[l].w);
        tp_matrix_free(&m->layers[l].w_hh);
        free(m->layers[l].w_ih_t);
        free(m->layers[l].input_sums);
        free(m->layers[l].bias);
        free(m->layers[l].bias_hh);
    }
    tp_matrix_free(&m->head_w);
    free(m->head_b);
    tp_vocab_free(m->vocab);
    free(m->description);
    tp_pool_free(m->pool);
    free(m);
}

tp_state *tp_state_new(const tp_model *m)
{
    tp_state *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    size_t LH = (size_t)m->n_layers * (size_t)m->n_hidden;
    int widest = m->head_w.ld;
    for (int l = 0; l < m->n_layers; l++) {
        int need = m->layers[l].w.ld + m->layers[l].w_hh.ld; /* w_hh: GRU only */
        widest = need > widest ? need : widest;
    }
    s->n_layers = m->n_layers;
    s->n_hidden = m->n_hidden;
    s->xh_len = widest;
    s->h = calloc(LH, sizeof *s->h);
    s->c = calloc(LH, sizeof *s->c);
    s->xh = calloc((size_t)widest, sizeof *s->xh);
    s->gates = calloc((m->cell == TP_CELL_GRU ? 6 : 4) * (size_t)m->n_hidden, sizeof *s->gates);
    if (!s->h || !s->c || !s->xh || !s->gates) {
        tp_state_free(s);
        return NULL;
    }
    return s;
}

void tp_state_free(tp_state *s)
{
    if (!s)
        return;
    free(s->h);
    free(s->c);
    free(s->xh);
    free(s->gates);
    free(s->gate_log);
    free(s);
}

void tp_state_reset(tp_state *s)
{
    size_t LH = (size_t)s->n_layers * (size_t)s->n_hidden;
    memset(s->h, 0, LH * sizeof *s->h);
    memset(s->c, 0, LH * sizeof *s->c);
}

void tp_state_copy(tp_state *dst, const tp_state *src)
{
    size_t LH = (size_t)src->n_layers * (size_t)src->n_hidden;
    memcpy(dst->h, src->h, LH * sizeof *dst->h);
    memcpy(dst->c, src->c, LH * sizeof *dst->c);
}

tp_status tp_state_log_gates(tp_state *s, int on, tp_error *err)
{
    if (!on) {
        free(s->gate_log);
        s->gate_log = NULL;
        return TP_OK;
    }
    if (s->gate_log)
        return TP_OK;
    s->gate_log = calloc(3 * (size_t)s->n_layers * (size_t)s->n_hidden, sizeof *s->gate_log);
    return s->gate_log ? TP_OK : tp_fail(err, TP_ERR_NOMEM, "out of memory for the gate log");
}

/* i, f and o of layer l: sigmoid of the pre-activations (gate order i, f, g, o). */
static void log_gates(tp_state *s, int l, int H)
{
    static const int WHICH[3] = {0, 1, 3};
    float *out = s->gate_log + (size_t)l * 3 * H;
    for (int g = 0; g < 3; g++)
        for (int j = 0; j < H; j++)
            out[g * H + j] = 1.0f / (1.0f + expf(-s->gates[WHICH[g] * H + j]));
}

/* ---- the step ------------------------------------------------------------ */

/* Below this many multiply-adds handing half to the helper thread costs
 * more than it saves (the hand-over takes about a microsecond). */
#define TP_THREAD_MIN_WORK (1L << 17)

struct matmul_job {
    const tp_model *m;
    const tp_matrix *W;
    const float *b;
    const float *const *x;
    const float *const *from;
    float *const *y;
    int n, r0, r1;
};

static void matmul_job_run(void *arg)
{
    const struct matmul_job *j = arg;
    j->m->kernels->matmul[j->W->type](j->W, j->b, j->x, j->from, j->y, j->n, j->r0, j->r1);
}

/* y[s] = W x[s] + b for s < n, the rows split with the helper thread when
 * the work is large enough. Rows are independent, so the split changes no
 * result. */
static void matmul(const tp_model *m, const tp_matrix *W, const float *b, const float *const *x,
                   const float *const *from, float *const *y, int n)
{
    struct matmul_job all = {m, W, b, x, from, y, n, 0, W->rows};
    long work = (long)n * W->rows * W->cols;
    if (!m->pool || work < TP_THREAD_MIN_WORK || W->rows < 2 * TP_PANEL) {
        matmul_job_run(&all);
        return;
    }
    struct matmul_job upper = all;
    all.r1 = upper.r0 = W->rows / 2 / TP_PANEL * TP_PANEL;
    if (!tp_pool_start(m->pool, matmul_job_run, &upper)) {
        all.r1 = W->rows; /* the helper works for another caller: do it all here */
        matmul_job_run(&all);
        return;
    }
    matmul_job_run(&all);
    tp_pool_finish(m->pool);
}

/* xh = [layer input ; h_prev ; zeros up to the padded row width], or for a
 * GRU [input ; zeros to w.ld ; h_prev ; zeros to w.ld + w_hh.ld], so that
 * w and w_hh each read their own zero-padded vector. Layer 0's embedding is
 * left out when its input sums stand in for it: nothing reads it then. */
static void fill_layer_input(const tp_model *m, int l, tp_state *s, int token)
{
    const tp_layer *ly = &m->layers[l];
    int H = m->n_hidden;
    if (l == 0 && ly->n_in > 0 && !ly->input_sums)
        memcpy(s->xh, m->embed + (size_t)token * m->n_embed, (size_t)ly->n_in * sizeof(float));
    else if (l > 0)
        memcpy(s->xh, s->h + (size_t)(l - 1) * H, (size_t)H * sizeof(float));
    int h_at = ly->w_hh.ld ? ly->w.ld : ly->n_in;
    memset(s->xh + ly->n_in, 0, (size_t)(h_at - ly->n_in) * sizeof(float));
    memcpy(s->xh + h_at, s->h + (size_t)l * H, (size_t)H * sizeof(float));
    int used = h_at + H, end = ly->w_hh.ld ? ly->w.ld + ly->w_hh.ld : ly->w.ld;
    memset(s->xh + used, 0, (size_t)(end - used) * sizeof(float));
}

static tp_cell_fn cell_kernel(const tp_model *m)
{
    switch (m->cell) {
    case TP_CELL_GRU: return m->kernels->gru_cell;
    case TP_CELL_RNN_TANH: return m->kernels->rnn_tanh_cell;
    case TP_CELL_RNN_RELU: return m->kernels->rnn_relu_cell;
    default: return m->kernels->lstm_cell;
    }
}

static void layer_step(const tp_model *m, int l, tp_state **states, const int *tokens, int n)
{
    const tp_layer *ly = &m->layers[l];
    int H = m->n_hidden;
    const float *x[TP_BATCH_CHUNK] = {0}; /* n <= chunk: set below; zeroed for -O1 warnings */
    const float *from[TP_BATCH_CHUNK] = {0};
    float *y[TP_BATCH_CHUNK] = {0};
    for (int i = 0; i < n; i++) {
        fill_layer_input(m, l, states[i], tokens[i]);
        x[i] = states[i]->xh;
        y[i] = states[i]->gates;
    }
    if (l == 0 && ly->input_sums) {
        /* Continue each token's sums over the input columns with the rest
         * of w (h's columns for an LSTM or RNN; none for a GRU's w). */
        tp_matrix rest = tp_matrix_columns(&ly->w, ly->n_in, ly->w.cols);
        for (int i = 0; i < n; i++) {
            x[i] += ly->n_in;
            from[i] = ly->input_sums + (size_t)tokens[i] * (size_t)ly->w.rows;
        }
        matmul(m, &rest, ly->bias, x, from, y, n);
    } else {
        matmul(m, &ly->w, ly->bias, x, NULL, y, n);
    }
    if (ly->w_hh.ld) { /* GRU: the hidden part, apart, after the input part */
        for (int i = 0; i < n; i++) {
            x[i] = states[i]->xh + ly->w.ld;
            y[i] = states[i]->gates + 3 * H;
        }
        matmul(m, &ly->w_hh, ly->bias_hh, x, NULL, y, n);
    }
    int G = tp_cell_gates(m->cell) * H;
    tp_cell_fn cell = cell_kernel(m);
    for (int i = 0; i < n; i++) {
        tp_state *s = states[i];
        if (ly->w_ih_t)
            tp_vec_add(s->gates, ly->w_ih_t + (size_t)tokens[i] * G, G);
        if (s->gate_log && m->cell == TP_CELL_LSTM)
            log_gates(s, l, H);
        cell(s->gates, s->h + (size_t)l * H, s->c + (size_t)l * H, H);
    }
}

static void head_step(const tp_model *m, tp_state **states, int n, float *logits)
{
    int H = m->n_hidden, ld = m->head_w.ld;
    const float *x[TP_BATCH_CHUNK] = {0}; /* n <= chunk: set below; zeroed for -O1 warnings */
    float *y[TP_BATCH_CHUNK] = {0};
    for (int i = 0; i < n; i++) {
        tp_state *s = states[i];
        memcpy(s->xh, s->h + (size_t)(m->n_layers - 1) * H, (size_t)H * sizeof(float));
        memset(s->xh + H, 0, (size_t)(ld - H) * sizeof(float));
        x[i] = s->xh;
        y[i] = logits + (size_t)i * (size_t)m->n_vocab;
    }
    matmul(m, &m->head_w, m->head_b, x, NULL, y, n);
}

/* From this many sequences a batch is split between the two cores by
 * sequence, each running whole steps for its half: one hand-over per step
 * instead of one per product, and the cells run on both cores too. Below
 * it the products' rows are split instead, which keeps each core's half of
 * the weights in its own cache (what batch 1 needs). */
#define TP_SPLIT_SEQUENCES 12

/* The sequences [first, first + n) of a batch, `steps` times: every layer,
 * the head, then each sequence's `after`, on the core that computed it,
 * TP_BATCH_CHUNK sequences at a time. */
struct chunk_job {
    const tp_model *m;
    tp_state **states;
    const int *tokens;
    float *logits;
    int first, n;
    long steps;
    tp_after_step_fn after;
    void *ctx;
};

static void step_chunk(const struct chunk_job *j, int first, int n)
{
    tp_state **states = j->states + first;
    const int *tokens = j->tokens + first;
    size_t V = (size_t)j->m->n_vocab;
    float *logits = j->logits ? j->logits + (size_t)first * V : NULL;
    for (int l = 0; l < j->m->n_layers; l++)
        layer_step(j->m, l, states, tokens, n);
    if (logits)
        head_step(j->m, states, n, logits);
    for (int i = 0; j->after && i < n; i++)
        j->after(j->ctx, first + i, logits ? logits + (size_t)i * V : NULL);
}

static void chunk_job_run(void *arg)
{
    const struct chunk_job *j = arg;
    for (long t = 0; t < j->steps; t++)
        for (int done = 0; done < j->n; done += TP_BATCH_CHUNK)
            step_chunk(j, j->first + done,
                       j->n - done < TP_BATCH_CHUNK ? j->n - done : TP_BATCH_CHUNK);
}

/* Sequences are independent and every kernel computes a sequence's sums
 * the same way whatever its neighbours, so the split changes no result.
 * While the helper runs the upper half, the products of the lower half
 * find it busy and run on this core alone. */
static void step_split(struct chunk_job *all)
{
    const tp_model *m = all->m;
    struct chunk_job upper = *all;
    upper.first = all->first + all->n / 2;
    upper.n = all->n - all->n / 2;
    int alone = !m->pool || all->n < TP_SPLIT_SEQUENCES;
    if (alone || !tp_pool_start(m->pool, chunk_job_run, &upper)) {
        chunk_job_run(all);
        return;
    }
    struct chunk_job lower = *all;
    lower.n = all->n / 2;
    chunk_job_run(&lower);
    tp_pool_finish(m->pool);
}

void tp_model_step_batch_then(const tp_model *m, tp_state **states, const int *tokens, int n,
                              float *logits, tp_after_step_fn after, void *ctx)
{
    struct chunk_job job = {m, states, tokens, logits, 0, n, 1, after, ctx};
    if (n > 0)
        step_split(&job);
}

/* One split for the whole run: a core that falls behind (another job took
 * it for a while) delays only the end, where a split per step makes the
 * other core wait for it at every step. */
void tp_model_run_batch(const tp_model *m, tp_state **states, int *tokens, int n,
                        float *logits, long steps, tp_after_step_fn after, void *ctx)
{
    struct chunk_job job = {m, states, tokens, logits, 0, n, steps, after, ctx};
    if (steps > 0 && n > 0)
        step_split(&job);
}

void tp_model_step_batch(const tp_model *m, tp_state **states, const int *tokens, int n,
                         float *logits)
{
    tp_model_step_batch_then(m, states, tokens, n, logits, NULL, NULL);
}

/* One sequence is a batch of one: the same code, so the same bits. */
void tp_model_step(const tp_model *m, tp_state *s, int token, float *logits)
{
    tp_model_step_batch(m, &s, &token, 1, logits);
}

int tp_model_start_token(const tp_model *m)
{
    int nl = tp_vocab_find(m->vocab, "\n", 1);
    return nl >= 0 ? nl : 0;
}

void tp_model_prime(const tp_model *m, tp_state *s, const int *ids, int n, float *logits)
{
    tp_state_reset(s);
    tp_model_step(m, s, tp_model_start_token(m), n == 0 ? logits : NULL);
    for (int i = 0; i < n; i++)
        tp_model_step(m, s, ids[i], i == n - 1 ? logits : NULL);
}
