/* test_model.c - LSTM, GRU and RNN models built in memory, checked against
 * references written from torch.nn's equations (helpers.h), and every refusal. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "tempest/model.h"

/* Feed a fixed token sequence to both the model and the reference and
 * compare every step's logits. */
static void compare_with_reference(const th_lstm *m, th_names nm, const char *what)
{
    tp_error err = {0};
    tp_model *model = th_lstm_model(m, nm, &err);
    cr_assert_not_null(model, "%s: %s", what, err.msg);
    cr_assert_eq(model->n_vocab, m->V, "%s", what);
    cr_assert_eq(model->n_embed, m->E, "%s", what);
    cr_assert_eq(model->n_hidden, m->H, "%s", what);
    cr_assert_eq(model->n_layers, m->L, "%s", what);
    tp_state *s = tp_state_new(model);
    cr_assert_not_null(s);
    th_ref ref;
    memset(&ref, 0, sizeof ref);
    float logits[64];
    double want[64];
    double worst = 0.0;
    for (int step = 0; step < 40; step++) {
        int tok = (step * 7 + 3) % m->V;
        tp_model_step(model, s, tok, logits);
        th_ref_step(m, &ref, tok, want);
        for (int v = 0; v < m->V; v++) {
            double d = fabs(logits[v] - want[v]);
            worst = d > worst ? d : worst;
            cr_assert(d < 1e-5, "%s: step %d logit %d: %.8f vs reference %.8f", what, step, v,
                      logits[v], want[v]);
        }
    }
    /* The test means something only if the logits move with the input. */
    cr_assert(fabs(want[0] - want[1]) > 1e-3 || fabs(want[1] - want[2]) > 1e-3,
              "%s: degenerate logits", what);
    tp_state_free(s);
    tp_model_free(model);
}

Test(model_step, one_layer_embedding)
{
    th_lstm m;
    th_lstm_init(&m, 8, 5, 6, 1, 1, 0.5f);
    compare_with_reference(&m, (th_names){0}, "1 layer, embedding");
    th_lstm_free(&m);
}

Test(model_step, two_layers_embedding_odd_sizes)
{
    th_lstm m;
    th_lstm_init(&m, 11, 13, 37, 2, 2, 0.4f);
    compare_with_reference(&m, (th_names){0}, "2 layers, E 13, H 37");
    th_lstm_free(&m);
}

Test(model_step, three_layers)
{
    th_lstm m;
    th_lstm_init(&m, 9, 4, 9, 3, 3, 0.6f);
    compare_with_reference(&m, (th_names){0}, "3 layers");
    th_lstm_free(&m);
}

Test(model_step, one_hot_input)
{
    th_lstm m;
    th_lstm_init(&m, 10, 0, 7, 1, 4, 0.7f);
    compare_with_reference(&m, (th_names){0}, "1 layer, one-hot");
    th_lstm_free(&m);
    th_lstm_init(&m, 12, 0, 17, 2, 5, 0.5f);
    compare_with_reference(&m, (th_names){0}, "2 layers, one-hot");
    th_lstm_free(&m);
}

Test(model_step, without_biases)
{
    th_lstm m;
    th_lstm_init(&m, 8, 6, 10, 2, 6, 0.5f);
    m.biases = 0;
    compare_with_reference(&m, (th_names){0}, "no LSTM biases");
    m.head_bias = 0;
    compare_with_reference(&m, (th_names){0}, "no biases at all");
    th_lstm_free(&m);
}

Test(model_step, prefixed_and_alternative_names)
{
    th_lstm m;
    th_lstm_init(&m, 8, 5, 6, 2, 7, 0.5f);
    compare_with_reference(&m, (th_names){.prefix = "model."}, "model.lstm.*");
    compare_with_reference(&m, (th_names){.prefix = "module.net.", .embed = "encoder",
                                          .rnn = "rnn", .head = "decoder"},
                           "module.net.encoder/rnn/decoder");
    compare_with_reference(&m, (th_names){.embed = "encoder", .rnn = "rnn", .head = "decoder"},
                           "encoder/rnn/decoder");
    th_lstm_free(&m);
    th_lstm_init(&m, 8, 0, 6, 1, 8, 0.5f);
    compare_with_reference(&m, (th_names){.prefix = "model.", .rnn = "rnn"}, "one-hot rnn.");
    th_lstm_free(&m);
}

/* ---- GRU and vanilla RNN ------------------------------------------------- */

static const tp_cell OTHER_CELLS[] = {TP_CELL_GRU, TP_CELL_RNN_TANH, TP_CELL_RNN_RELU};

/* Each kind with one and three layers, embedding and one-hot input, odd
 * sizes (H not a multiple of 8, so the padded tails are exercised). */
Test(model_cells, gru_and_rnn_match_reference)
{
    for (size_t k = 0; k < 3; k++) {
        tp_cell cell = OTHER_CELLS[k];
        th_lstm m;
        char what[96];
        const int shapes[4][4] = {{8, 5, 6, 1}, {11, 13, 37, 3}, {10, 0, 7, 1}, {12, 0, 17, 2}};
        /* Small enough that float32's rounding stays under the 1e-5 bound:
         * a vanilla RNN has no gate to damp its sums. */
        float scale = cell == TP_CELL_GRU ? 0.45f : 0.3f;
        for (int sh = 0; sh < 4; sh++) {
            th_cell_init(&m, cell, shapes[sh][0], shapes[sh][1], shapes[sh][2], shapes[sh][3],
                         30 + sh, scale);
            snprintf(what, sizeof what, "%s V%d E%d H%d L%d", tp_cell_name(cell), m.V, m.E,
                     m.H, m.L);
            compare_with_reference(&m, (th_names){0}, what);
            th_lstm_free(&m);
        }
        /* PyTorch's word_language_model names every kind rnn.*; no biases. */
        th_cell_init(&m, cell, 9, 4, 10, 2, 40, 0.5f);
        m.biases = 0;
        snprintf(what, sizeof what, "%s encoder/rnn/decoder, no biases", tp_cell_name(cell));
        compare_with_reference(&m, (th_names){.prefix = "model.", .embed = "encoder",
                                              .rnn = "rnn", .head = "decoder"}, what);
        th_lstm_free(&m);
    }
}

/* The kind is read from the file, and a relu RNN really is relu: the same
 * weights run as tanh give other logits (so the metadata matters). */
Test(model_cells, kind_and_nonlinearity_from_the_file)
{
    const tp_cell want[] = {TP_CELL_LSTM, TP_CELL_GRU, TP_CELL_RNN_TANH, TP_CELL_RNN_RELU};
    const char *names[] = {"LSTM", "GRU", "RNN (tanh)", "RNN (relu)"};
    const char *ids[] = {"lstm", "gru", "rnn_tanh", "rnn_relu"};
    for (int k = 0; k < 4; k++) {
        th_lstm m;
        th_cell_init(&m, want[k], 8, 5, 6, 2, 50, 0.5f);
        tp_error err = {0};
        tp_model *model = th_lstm_model(&m, (th_names){0}, &err);
        cr_assert_not_null(model, "%s: %s", names[k], err.msg);
        cr_assert_eq(model->cell, want[k]);
        cr_assert_str_eq(tp_cell_name(model->cell), names[k]);
        cr_assert_str_eq(tp_cell_id(model->cell), ids[k]);
        tp_model_free(model);
        th_lstm_free(&m);
    }
    th_lstm m;
    th_cell_init(&m, TP_CELL_RNN_RELU, 8, 5, 6, 1, 51, 0.8f);
    th_file f;
    th_lstm_file(&m, (th_names){0}, &f);
    tp_model *relu = NULL, *tanh_model = NULL;
    cr_assert_eq(th_file_model(&f, &relu, NULL), TP_OK);
    th_set(&f.nonlinearity, "tanh");
    cr_assert_eq(th_file_model(&f, &tanh_model, NULL), TP_OK);
    cr_assert_eq(tanh_model->cell, TP_CELL_RNN_TANH);
    th_set(&f.nonlinearity, NULL);
    tp_model_free(tanh_model);
    cr_assert_eq(th_file_model(&f, &tanh_model, NULL), TP_OK, "no key: tanh");
    cr_assert_eq(tanh_model->cell, TP_CELL_RNN_TANH);
    tp_state *a = tp_state_new(relu), *b = tp_state_new(tanh_model);
    float la[8], lb[8];
    for (int i = 0; i < 4; i++) {
        tp_model_step(relu, a, i, la);
        tp_model_step(tanh_model, b, i, lb);
    }
    cr_assert_neq(memcmp(la, lb, sizeof la), 0, "relu and tanh gave the same logits");
    tp_state_free(a);
    tp_state_free(b);
    tp_model_free(relu);
    tp_model_free(tanh_model);
    th_file_free(&f);
    th_lstm_free(&m);
}

/* h carries the state of every kind; only an LSTM has a cell state. */
Test(model_cells, c_stays_zero_without_an_lstm)
{
    for (size_t k = 0; k < 3; k++) {
        th_lstm m;
        th_cell_init(&m, OTHER_CELLS[k], 8, 5, 6, 2, 60, 0.5f);
        tp_model *model = th_lstm_model(&m, (th_names){0}, NULL);
        cr_assert_not_null(model);
        tp_state *s = tp_state_new(model);
        for (int i = 0; i < 5; i++)
            tp_model_step(model, s, i, NULL);
        int moved = 0;
        for (int j = 0; j < 2 * 6; j++) {
            cr_assert_eq(s->c[j], 0.0f, "%s: c[%d] = %g", tp_cell_name(model->cell), j, s->c[j]);
            moved |= s->h[j] != 0.0f;
        }
        cr_assert(moved, "%s: h never moved", tp_cell_name(model->cell));
        tp_state_free(s);
        tp_model_free(model);
        th_lstm_free(&m);
    }
}

/* Build a 2-layer model file of the given kind and names, let edit() (when
 * not NULL) break it, expect a one-line TP_ERR_FORMAT holding both needles. */
static void expect_file_refused(tp_cell cell, th_names nm, uint64_t seed,
                                void (*edit)(th_file *), const char *needle1,
                                const char *needle2)
{
    th_lstm m;
    th_cell_init(&m, cell, 8, 5, 6, 2, seed, 0.5f);
    th_file f;
    th_lstm_file(&m, nm, &f);
    if (edit)
        edit(&f);
    tp_model *model = (tp_model *)1;
    tp_error err = {0};
    cr_assert_eq(th_file_model(&f, &model, &err), TP_ERR_FORMAT, "accepted; wanted '%s'",
                 needle1);
    cr_assert_null(model);
    cr_assert(strstr(err.msg, needle1), "message '%s' lacks '%s'", err.msg, needle1);
    cr_assert(strstr(err.msg, needle2), "message '%s' lacks '%s'", err.msg, needle2);
    cr_assert_null(strchr(err.msg, '\n'), "not one line: %s", err.msg);
    th_file_free(&f);
    th_lstm_free(&m);
}

static void expect_cell_refused(tp_cell cell, th_names nm, void (*edit)(th_file *),
                                const char *needle1, const char *needle2)
{
    expect_file_refused(cell, nm, 70, edit, needle1, needle2);
}

static void nl_relu(th_file *f) { th_set(&f->nonlinearity, "relu"); }
static void nl_bad(th_file *f) { th_set(&f->nonlinearity, "sigmoid"); }
static void gru_reverse(th_file *f) { th_file_add(f, "gru.weight_ih_l0_reverse", 2, 18, 5, NULL); }
static void mixed_modules(th_file *f) { th_file_rename(f, "gru.weight_hh_l1", "rnn.weight_hh_l1"); }
static void odd_rows(th_file *f)
{
    th_tensor *t = th_file_find(f, "rnn.weight_hh_l0");
    t->shape[0] = 12, t->shape[1] = 3; /* same count, 2 x 6 would be [12, 6] */
}

Test(model_cells, refusals_name_the_problem)
{
    expect_cell_refused(TP_CELL_GRU, (th_names){.rnn = "lstm"}, NULL,
                        "'lstm.weight_hh_l0' is named like an LSTM", "a GRU");
    expect_cell_refused(TP_CELL_LSTM, (th_names){.rnn = "gru"}, NULL,
                        "'gru.weight_hh_l0' is named like a GRU", "an LSTM");
    expect_cell_refused(TP_CELL_RNN_TANH, (th_names){.rnn = "gru"}, NULL, "named like a GRU",
                        "vanilla RNN");
    expect_cell_refused(TP_CELL_LSTM, (th_names){0}, nl_relu, "nonlinearity", "LSTM");
    expect_cell_refused(TP_CELL_GRU, (th_names){0}, nl_relu, "nonlinearity", "GRU");
    expect_cell_refused(TP_CELL_RNN_TANH, (th_names){0}, nl_bad, "'sigmoid'", "tanh or relu");
    expect_cell_refused(TP_CELL_GRU, (th_names){0}, gru_reverse, "bidirectional GRU",
                        "gru.weight_ih_l0_reverse");
    expect_cell_refused(TP_CELL_GRU, (th_names){0}, mixed_modules, "different recurrent modules",
                        "gru, rnn");
    expect_cell_refused(TP_CELL_RNN_TANH, (th_names){0}, odd_rows, "'rnn.weight_hh_l0' must be",
                        "[3H, H] (GRU)");
}

Test(model_step, logits_null_still_advances)
{
    th_lstm m;
    th_lstm_init(&m, 8, 5, 6, 2, 9, 0.5f);
    tp_model *model = th_lstm_model(&m, (th_names){0}, NULL);
    cr_assert_not_null(model);
    tp_state *a = tp_state_new(model), *b = tp_state_new(model);
    float la[8], lb[8];
    tp_model_step(model, a, 1, NULL);
    tp_model_step(model, a, 2, la);
    tp_model_step(model, b, 1, lb);
    tp_model_step(model, b, 2, lb);
    cr_assert_eq(memcmp(la, lb, sizeof la), 0);
    tp_state_free(a);
    tp_state_free(b);
    tp_model_free(model);
    th_lstm_free(&m);
}

Test(model_state, copy_and_reset_reproduce_logits)
{
    th_lstm m;
    th_lstm_init(&m, 8, 5, 6, 2, 10, 0.5f);
    tp_model *model = th_lstm_model(&m, (th_names){0}, NULL);
    cr_assert_not_null(model);
    tp_state *s = tp_state_new(model), *saved = tp_state_new(model);
    float first[3][8], again[3][8], fresh[8], after_reset[8];
    for (int i = 0; i < 5; i++)
        tp_model_step(model, s, i, NULL);
    tp_state_copy(saved, s);
    for (int i = 0; i < 3; i++)
        tp_model_step(model, s, 7 - i, first[i]);
    tp_state_copy(s, saved);
    for (int i = 0; i < 3; i++)
        tp_model_step(model, s, 7 - i, again[i]);
    cr_assert_eq(memcmp(first, again, sizeof first), 0, "restored state diverged");
    /* Without the restore the logits would differ (the test can fail). */
    float cont[8];
    tp_model_step(model, s, 7, cont);
    cr_assert_neq(memcmp(cont, first[0], sizeof cont), 0);

    tp_state *z = tp_state_new(model);
    tp_model_step(model, z, 3, fresh);
    tp_state_reset(s);
    tp_model_step(model, s, 3, after_reset);
    cr_assert_eq(memcmp(fresh, after_reset, sizeof fresh), 0, "reset is not a zero state");
    for (int i = 0; i < 2 * 6; i++)
        cr_assert_eq(saved->h[i], saved->h[i]); /* finite, not NaN */
    tp_state_free(z);
    tp_state_free(s);
    tp_state_free(saved);
    tp_model_free(model);
    th_lstm_free(&m);
}

Test(model_load, metadata_and_counts)
{
    th_lstm m;
    th_lstm_init(&m, 8, 5, 6, 2, 11, 0.5f);
    th_file f;
    th_lstm_file(&m, (th_names){0}, &f);
    th_set(&f.description, "tiny \"quoted\" model");
    tp_model *model = NULL;
    tp_error err = {0};
    cr_assert_eq(th_file_model(&f, &model, &err), TP_OK, "%s", err.msg);
    size_t params = 8 * 5 + (24 * 5 + 24 * 6 + 24 + 24) + (24 * 6 + 24 * 6 + 24 + 24) + 8 * 6 + 8;
    cr_assert_eq(model->n_params, params, "%zu parameters", model->n_params);
    cr_assert_str_eq(model->description, "tiny \"quoted\" model");
    cr_assert_eq(tp_vocab_size(model->vocab), 8);
    cr_assert_eq(tp_vocab_kind(model->vocab), TP_TOK_CHAR);
    cr_assert_str_eq(tp_vocab_token(model->vocab, 0), "\n");
    cr_assert_str_eq(tp_vocab_token(model->vocab, 1), "a");
    tp_model_free(model);

    /* No tokenizer key: char is assumed; no description: empty. */
    th_set(&f.tokenizer, NULL);
    th_set(&f.description, NULL);
    cr_assert_eq(th_file_model(&f, &model, &err), TP_OK, "%s", err.msg);
    cr_assert_eq(tp_vocab_kind(model->vocab), TP_TOK_CHAR);
    cr_assert_str_eq(model->description, "");
    tp_model_free(model);

    /* A word model. */
    th_set(&f.tokenizer, "word");
    th_set(&f.vocab, "[\"\\n\",\"<unk>\",\"the\",\"cat\",\"sat\",\".\",\",\",\"on\"]");
    cr_assert_eq(th_file_model(&f, &model, &err), TP_OK, "%s", err.msg);
    cr_assert_eq(tp_vocab_kind(model->vocab), TP_TOK_WORD);
    cr_assert_str_eq(tp_vocab_token(model->vocab, 2), "the");
    tp_model_free(model);
    th_file_free(&f);
    th_lstm_free(&m);
}

Test(model_load, from_file_and_errors_name_the_path)
{
    th_lstm m;
    th_lstm_init(&m, 8, 5, 6, 1, 12, 0.5f);
    th_file f;
    th_lstm_file(&m, (th_names){0}, &f);
    size_t size;
    uint8_t *buf = th_file_bytes(&f, &size);
    char path[] = "/tmp/tempest-model-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, buf, size), (ssize_t)size);
    close(fd);
    tp_model *model = NULL;
    tp_error err = {0};
    cr_assert_eq(tp_model_load(&model, path, &err), TP_OK, "%s", err.msg);
    float a[8];
    double want[8];
    tp_state *s = tp_state_new(model);
    th_ref ref;
    memset(&ref, 0, sizeof ref);
    tp_model_step(model, s, 2, a);
    th_ref_step(&m, &ref, 2, want);
    for (int v = 0; v < 8; v++)
        cr_assert_float_eq(a[v], want[v], 1e-5);
    tp_state_free(s);
    tp_model_free(model);

    /* A refusal after the file parsed still names the file. */
    th_file_remove(&f, "head.weight");
    free(buf);
    buf = th_file_bytes(&f, &size);
    FILE *fp = fopen(path, "wb");
    fwrite(buf, 1, size, fp);
    fclose(fp);
    cr_assert_eq(tp_model_load(&model, path, &err), TP_ERR_FORMAT);
    cr_assert_null(model);
    cr_assert(strncmp(err.msg, path, strlen(path)) == 0, "%s", err.msg);
    cr_assert(strstr(err.msg, "head.weight"), "%s", err.msg);
    unlink(path);
    cr_assert_eq(tp_model_load(&model, path, &err), TP_ERR_IO);
    cr_assert(strstr(err.msg, path), "%s", err.msg);
    free(buf);
    th_file_free(&f);
    th_lstm_free(&m);
}

/* ---- refusals ------------------------------------------------------------ */

/* The default 2-layer LSTM file, broken by edit(): see expect_file_refused. */
static void expect_refused(void (*edit)(th_file *), const char *needle1, const char *needle2)
{
    expect_file_refused(TP_CELL_LSTM, (th_names){0}, 13, edit, needle1, needle2);
}

static void no_head(th_file *f) { th_file_remove(f, "head.weight"); }
static void no_head_but_bias(th_file *f)
{
    th_file_remove(f, "head.weight");
    cr_assert(th_file_find(f, "head.bias"));
}
static void no_layers(th_file *f)
{
    const char *names[] = {"weight_ih_l", "weight_hh_l", "bias_ih_l", "bias_hh_l"};
    char n[64];
    for (int l = 0; l < 2; l++)
        for (int k = 0; k < 4; k++) {
            snprintf(n, sizeof n, "lstm.%s%d", names[k], l);
            th_file_remove(f, n);
        }
}
static void no_whh1(th_file *f) { th_file_remove(f, "lstm.weight_hh_l1"); }
static void no_wih0(th_file *f) { th_file_remove(f, "lstm.weight_ih_l0"); }
static void one_bias(th_file *f) { th_file_remove(f, "lstm.bias_hh_l0"); }
static void layer_gap(th_file *f)
{
    th_file_rename(f, "lstm.weight_ih_l1", "lstm.weight_ih_l2");
    th_file_rename(f, "lstm.weight_hh_l1", "lstm.weight_hh_l2");
    th_file_rename(f, "lstm.bias_ih_l1", "lstm.bias_ih_l2");
    th_file_rename(f, "lstm.bias_hh_l1", "lstm.bias_hh_l2");
}

Test(model_refuse, missing_pieces)
{
    expect_refused(no_head, "no output layer", "head.weight");
    expect_refused(no_head_but_bias, "no output layer", "decoder.weight");
    expect_refused(no_layers, "no recurrent layer", "weight_ih_l0");
    expect_refused(no_whh1, "layer 1", "weight_hh_l1");
    expect_refused(no_wih0, "layer 0", "weight_ih_l0");
    expect_refused(one_bias, "only one of bias_ih_l0 and bias_hh_l0", "layer 0");
    expect_refused(layer_gap, "layer 1", "weight_ih_l1");
}

static void reshape(th_file *f, const char *name, int ndim, int64_t d0, int64_t d1)
{
    th_tensor *t = th_file_find(f, name);
    cr_assert_not_null(t, "%s", name);
    float *data = calloc((size_t)d0 * (size_t)(ndim == 2 ? d1 : 1) + 1, sizeof *data);
    th_file_remove(f, name);
    th_file_add(f, name, ndim, d0, d1, data);
    free(data);
}
static void wide_wih0(th_file *f) { reshape(f, "lstm.weight_ih_l0", 2, 24, 6); }
static void tall_whh0(th_file *f) { reshape(f, "lstm.weight_hh_l0", 2, 20, 6); }
static void wih1_as_embed(th_file *f) { reshape(f, "lstm.weight_ih_l1", 2, 24, 5); }
static void bias_short(th_file *f) { reshape(f, "lstm.bias_ih_l1", 1, 23, 0); }
static void bias_2d(th_file *f) { reshape(f, "lstm.bias_hh_l0", 2, 24, 1); }
static void head_b_long(th_file *f) { reshape(f, "head.bias", 1, 9, 0); }
static void head_1d(th_file *f) { reshape(f, "head.weight", 1, 8, 0); }
static void head_hidden(th_file *f) { reshape(f, "head.weight", 2, 8, 7); }
static void embed_rows(th_file *f) { reshape(f, "embed.weight", 2, 9, 5); }
static void embed_3d(th_file *f)
{
    reshape(f, "embed.weight", 2, 8, 5);
    th_file_find(f, "embed.weight")->ndim = 1;
    th_file_find(f, "embed.weight")->shape[0] = 40;
}

Test(model_refuse, wrong_shapes)
{
    expect_refused(wide_wih0, "'lstm.weight_ih_l0' has shape [24, 6]", "expected [24, 5]");
    expect_refused(tall_whh0, "'lstm.weight_hh_l0' has shape [20, 6]", "expected [24, 6]");
    expect_refused(wih1_as_embed, "'lstm.weight_ih_l1'", "expected [24, 6]");
    expect_refused(bias_short, "'lstm.bias_ih_l1' has shape [23]", "expected [24]");
    expect_refused(bias_2d, "'lstm.bias_hh_l0' has shape [24, 1]", "expected [24]");
    expect_refused(head_b_long, "'head.bias' has shape [9]", "expected [8]");
    expect_refused(head_1d, "'head.weight'", "[vocab, hidden]");
    expect_refused(head_hidden, "'lstm.weight_ih_l0' has shape [24, 5]", "expected [28, 5]");
    expect_refused(embed_rows, "'embed.weight' has shape [9, 5]", "expected [8, 5]");
    expect_refused(embed_3d, "'embed.weight'", "[vocab, embed]");
}

static void vocab_short(th_file *f) { th_set(&f->vocab, "[\"\\n\",\"a\",\"b\"]"); }
static void vocab_long(th_file *f)
{
    char *v = th_vocab_json(9);
    th_set(&f->vocab, v);
    free(v);
}
static void vocab_missing(th_file *f) { th_set(&f->vocab, NULL); }
static void meta_missing(th_file *f) { f->has_meta = 0; }
static void vocab_not_json(th_file *f) { th_set(&f->vocab, "abc[\"d"); }
static void vocab_not_list(th_file *f) { th_set(&f->vocab, "{\"a\": 0}"); }
static void vocab_multichar(th_file *f)
{
    th_set(&f->vocab, "[\"\\n\",\"ab\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\"]");
}
static void vocab_dup(th_file *f)
{
    th_set(&f->vocab, "[\"\\n\",\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"a\"]");
}
static void tokenizer_bad(th_file *f) { th_set(&f->tokenizer, "sentencepiece"); }

Test(model_refuse, vocabulary_problems)
{
    expect_refused(vocab_short, "vocabulary has 3 tokens", "head has 8 rows");
    expect_refused(vocab_long, "vocabulary has 9 tokens", "head has 8 rows");
    expect_refused(vocab_missing, "no vocabulary", "vocab");
    expect_refused(meta_missing, "no vocabulary", "__metadata__");
    expect_refused(vocab_not_json, "vocab", "not a JSON list");
    expect_refused(vocab_not_list, "vocab", "not a JSON list");
    expect_refused(vocab_multichar, "vocab entry 1", "2 characters");
    expect_refused(vocab_dup, "vocab entries 1 and 7", "'a'");
    expect_refused(tokenizer_bad, "tokenizer", "'sentencepiece'");
}

static void add(th_file *f, const char *name) { th_file_add(f, name, 2, 24, 6, NULL); }
static void extra_fc(th_file *f) { add(f, "fc.weight"); }
static void extra_noprefix(th_file *f) { add(f, "weights"); }
static void extra_lstm_param(th_file *f) { add(f, "lstm.weight_xx_l0"); }
static void extra_reverse(th_file *f) { add(f, "lstm.weight_ih_l0_reverse"); }
static void extra_reverse_bias(th_file *f) { add(f, "model.lstm.bias_hh_l1_reverse"); }
static void extra_proj(th_file *f) { add(f, "lstm.weight_hr_l0"); }
static void extra_gru(th_file *f) { add(f, "gru.weight_ih_l0"); }
static void extra_layer16(th_file *f) { add(f, "lstm.weight_ih_l16"); }
static void extra_layer_junk(th_file *f) { add(f, "lstm.weight_ih_lx"); }
static void extra_embed(th_file *f) { th_file_add(f, "encoder.weight", 2, 8, 5, NULL); }
static void extra_head_weight(th_file *f) { th_file_add(f, "model.decoder.weight", 2, 8, 6, NULL); }
static void extra_embed_bias(th_file *f) { th_file_add(f, "embed.bias", 1, 5, 0, NULL); }

Test(model_refuse, unknown_and_unsupported_tensors)
{
    expect_refused(extra_fc, "'fc.weight'", "not part of");
    expect_refused(extra_noprefix, "'weights'", "not part of");
    expect_refused(extra_lstm_param, "'lstm.weight_xx_l0'", "not an LSTM/GRU/RNN parameter");
    expect_refused(extra_reverse, "'lstm.weight_ih_l0_reverse'", "bidirectional");
    expect_refused(extra_reverse_bias, "'model.lstm.bias_hh_l1_reverse'", "bidirectional");
    expect_refused(extra_proj, "'lstm.weight_hr_l0'", "proj_size");
    expect_refused(extra_gru, "'gru.weight_ih_l0'", "different recurrent modules");
    expect_refused(extra_layer16, "'lstm.weight_ih_l16'", "layer number");
    expect_refused(extra_layer_junk, "'lstm.weight_ih_lx'", "layer number");
    expect_refused(extra_embed, "'embed.weight' and 'encoder.weight'", "same part");
    expect_refused(extra_head_weight, "'model.decoder.weight'", "same part");
    expect_refused(extra_embed_bias, "'embed.bias'", "not part of");
}

static void nan_weight(th_file *f) { th_file_find(f, "lstm.weight_hh_l1")->data[7] = NAN; }
static void inf_weight(th_file *f) { th_file_find(f, "head.bias")->data[2] = -INFINITY; }
static void inf_embed(th_file *f) { th_file_find(f, "embed.weight")->data[0] = INFINITY; }

Test(model_refuse, non_finite_weights_name_the_tensor)
{
    expect_refused(nan_weight, "'lstm.weight_hh_l1'", "NaN");
    expect_refused(inf_weight, "'head.bias'", "infinite");
    expect_refused(inf_embed, "'embed.weight'", "infinite");
}

/* ---- priming: the start token, then the prompt --------------------------- */

Test(model_prime, start_token_then_prompt)
{
    th_lstm m;
    th_lstm_init(&m, 8, 5, 6, 2, 14, 0.5f);
    tp_model *model = th_lstm_model(&m, (th_names){0}, NULL);
    cr_assert_not_null(model);
    cr_assert_eq(tp_model_start_token(model), 0, "the newline is id 0 in TH_CHARS");
    tp_state *s = tp_state_new(model);
    /* Dirty the state first: prime must reset it. */
    tp_model_step(model, s, 3, NULL);
    const int ids[3] = {2, 5, 1};
    float logits[8];
    tp_model_prime(model, s, ids, 3, logits);
    th_ref ref;
    memset(&ref, 0, sizeof ref);
    double want[8];
    th_ref_step(&m, &ref, 0, want);
    for (int i = 0; i < 3; i++)
        th_ref_step(&m, &ref, ids[i], want);
    for (int v = 0; v < 8; v++)
        cr_assert_float_eq(logits[v], want[v], 1e-5, "logit %d", v);
    tp_model_prime(model, s, NULL, 0, logits);
    memset(&ref, 0, sizeof ref);
    th_ref_step(&m, &ref, 0, want);
    for (int v = 0; v < 8; v++)
        cr_assert_float_eq(logits[v], want[v], 1e-5, "empty prompt, logit %d", v);
    tp_state_free(s);
    tp_model_free(model);

    /* Without a newline token the start token is 0. */
    th_file f;
    th_lstm_file(&m, (th_names){0}, &f);
    th_set(&f.vocab, "[\"x\",\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\"]");
    cr_assert_eq(th_file_model(&f, &model, NULL), TP_OK);
    cr_assert_eq(tp_model_start_token(model), 0);
    tp_model_free(model);
    th_set(&f.vocab, "[\"x\",\"a\",\"b\",\"c\",\"\\n\",\"e\",\"f\",\"g\"]");
    cr_assert_eq(th_file_model(&f, &model, NULL), TP_OK);
    cr_assert_eq(tp_model_start_token(model), 4);
    tp_model_free(model);
    th_file_free(&f);
    th_lstm_free(&m);
}
