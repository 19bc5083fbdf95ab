/* train_io.c - a trainer's files: the model (what tempest and
 * tools/train_pytorch.py's model class load) and the checkpoint (the model
 * plus everything a bit-identical resume needs), both safetensors. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tempest/safetensors.h"
#include "tempest/st_write.h"
#include "tempest/train.h"

#define CKPT_KEY "tempest_train"
#define CKPT_VERSION 1

/* The vocabulary as Python's json.dumps(vocab, ensure_ascii=False) writes
 * it, so the metadata is byte for byte what train_pytorch.py would write. */
static char *vocab_json(const tp_vocab *v)
{
    size_t cap = 16;
    for (int i = 0; i < tp_vocab_size(v); i++)
        cap += 6 * strlen(tp_vocab_token(v, i)) + 4;
    char *out = malloc(cap), *w = out;
    if (!out)
        return NULL;
    *w++ = '[';
    for (int i = 0; i < tp_vocab_size(v); i++) {
        w += sprintf(w, i ? ", \"" : "\"");
        for (const unsigned char *p = (const unsigned char *)tp_vocab_token(v, i); *p; p++) {
            const char *esc = *p == '"' ? "\\\"" : *p == '\\' ? "\\\\" : *p == '\n' ? "\\n"
                            : *p == '\r' ? "\\r" : *p == '\t' ? "\\t" : *p == '\b' ? "\\b"
                            : *p == '\f' ? "\\f" : NULL;
            if (esc)
                w += sprintf(w, "%s", esc);
            else if (*p < 0x20)
                w += sprintf(w, "\\u%04x", *p);
            else
                *w++ = (char)*p;
        }
        *w++ = '"';
    }
    *w++ = ']';
    *w = '\0';
    return out;
}

static int model_items(const tp_trainer *t, tp_st_item *items)
{
    const tp_train_net *net = &t->net;
    for (int i = 0; i < net->n_tensors; i++) {
        const tp_train_tensor *tt = &net->tensors[i];
        items[i] = (tp_st_item){tt->name, tt->cols ? 2 : 1, {tt->rows, tt->cols},
                                net->params + tt->offset};
    }
    return net->n_tensors;
}

static tp_status save(const tp_trainer *t, const char *path, const char *description,
                      const char *ckpt_json, int with_optimizer, tp_error *err)
{
    tp_st_item items[TP_TRAIN_MAX_TENSORS + 3];
    int n = model_items(t, items);
    if (with_optimizer) {
        long state_len = 2L * t->cfg.layers * t->cfg.batch * t->cfg.hidden;
        items[n++] = (tp_st_item){"adam.exp_avg", 1, {(long)t->net.n_params, 0}, t->adam_m};
        items[n++] = (tp_st_item){"adam.exp_avg_sq", 1, {(long)t->net.n_params, 0}, t->adam_v};
        items[n++] = (tp_st_item){"train.state", 1, {state_len, 0}, t->state};
    }
    char *vocab = vocab_json(t->vocab);
    if (!vocab)
        return tp_fail(err, TP_ERR_NOMEM, "out of memory writing '%s'", path);
    const char *meta[10] = {"tokenizer", tp_tokenizer_name(tp_vocab_kind(t->vocab)), "vocab",
                            vocab, "description", description};
    int n_meta = 3;
    if (t->net.cell->nonlinearity) {
        meta[2 * n_meta] = "nonlinearity"; /* nn.RNN's, which no tensor records */
        meta[2 * n_meta++ + 1] = t->net.cell->nonlinearity;
    }
    if (ckpt_json) {
        meta[2 * n_meta] = CKPT_KEY;
        meta[2 * n_meta++ + 1] = ckpt_json;
    }
    tp_status rc = tp_st_write(path, items, n, meta, n_meta, err);
    free(vocab);
    return rc;
}

tp_status tp_trainer_save_model(const tp_trainer *t, const char *path,
                                const char *description, tp_error *err)
{
    return save(t, path, description, NULL, 0, err);
}

static void add_u64(cJSON *o, const char *key, uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%016" PRIx64, v);
    cJSON_AddStringToObject(o, key, buf);
}

static char *checkpoint_json(const tp_trainer *t)
{
    const tp_train_config *c = &t->cfg;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddNumberToObject(o, "version", CKPT_VERSION);
    cJSON_AddStringToObject(o, "tokenizer", tp_tokenizer_name(c->tokenizer));
    cJSON_AddStringToObject(o, "cell", t->net.cell->name);
    cJSON_AddNumberToObject(o, "vocab_limit", c->vocab_limit);
    cJSON_AddNumberToObject(o, "embed", c->embed);
    cJSON_AddNumberToObject(o, "hidden", c->hidden);
    cJSON_AddNumberToObject(o, "layers", c->layers);
    cJSON_AddNumberToObject(o, "seq", c->seq);
    cJSON_AddNumberToObject(o, "batch", c->batch);
    cJSON_AddNumberToObject(o, "lr", c->lr);
    cJSON_AddNumberToObject(o, "clip", c->clip);
    cJSON_AddNumberToObject(o, "dropout", c->dropout);
    cJSON_AddNumberToObject(o, "dropout_io", c->dropout_io);
    cJSON_AddNumberToObject(o, "val_fraction", c->val_fraction);
    cJSON_AddNumberToObject(o, "steps", (double)c->steps);
    cJSON_AddNumberToObject(o, "eval_every", (double)c->eval_every);
    cJSON_AddNumberToObject(o, "sample_length", c->sample_length);
    add_u64(o, "seed", c->seed);
    cJSON_AddNumberToObject(o, "step", (double)t->step);
    cJSON_AddNumberToObject(o, "pos", (double)t->pos);
    add_u64(o, "text_hash", t->text_hash);
    for (int i = 0; i < 4; i++) {
        char key[8];
        snprintf(key, sizeof key, "rng%d", i);
        add_u64(o, key, t->rng.s[i]);
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

tp_status tp_trainer_save_checkpoint(const tp_trainer *t, const char *path, tp_error *err)
{
    char *js = checkpoint_json(t);
    if (!js)
        return tp_fail(err, TP_ERR_NOMEM, "out of memory writing '%s'", path);
    tp_status rc = save(t, path, "tempest train checkpoint", js, 1, err);
    free(js);
    return rc;
}

/* ---- reading ---------------------------------------------------------- */

static tp_status read_tensor(const tp_safetensors *st, const char *name, float *out,
                             size_t count, tp_error *err)
{
    const tp_tensor *tt = tp_st_find(st, name);
    if (!tt)
        return tp_fail(err, TP_ERR_FORMAT, "no tensor '%s'", name);
    if (tt->count != count)
        return tp_fail(err, TP_ERR_FORMAT, "tensor '%s' has %zu values, expected %zu", name,
                       tt->count, count);
    return tp_tensor_to_f32(tt, out, err);
}

static tp_status read_params(tp_trainer *t, const tp_safetensors *st, tp_error *err)
{
    tp_status rc = TP_OK;
    for (int i = 0; i < t->net.n_tensors && !rc; i++) {
        const tp_train_tensor *tt = &t->net.tensors[i];
        rc = read_tensor(st, tt->name, t->net.params + tt->offset, tt->count, err);
    }
    return rc;
}

/* The vocabulary of st must be the trainer's, entry for entry. */
static tp_status same_vocab(const tp_trainer *t, const tp_safetensors *st, tp_error *err)
{
    char *mine = vocab_json(t->vocab);
    const char *theirs = tp_st_meta(st, "vocab");
    int same = mine && theirs && strcmp(mine, theirs) == 0;
    free(mine);
    return same ? TP_OK : tp_fail(err, TP_ERR_USAGE, "its vocabulary is not the one built "
                                  "from the text");
}

tp_status tp_trainer_load_weights(tp_trainer *t, const char *model_path, tp_error *err)
{
    tp_safetensors st;
    tp_status rc = tp_st_open(&st, model_path, err);
    if (!rc)
        rc = same_vocab(t, &st, err);
    if (!rc)
        rc = read_params(t, &st, err);
    tp_st_close(&st);
    if (rc)
        tp_error_prefix(err, "%s", model_path);
    return rc;
}

static int get_num(const cJSON *o, const char *key, double *out)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble))
        return 0;
    *out = it->valuedouble;
    return 1;
}

static int get_u64(const cJSON *o, const char *key, uint64_t *out)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    char *end;
    if (!cJSON_IsString(it) || !it->valuestring[0])
        return 0;
    *out = strtoull(it->valuestring, &end, 16);
    return *end == '\0';
}

static tp_status parse_config(const char *json, tp_trainer *t, uint64_t *hash, tp_error *err)
{
    cJSON *o = cJSON_Parse(json);
    tp_train_config *c = &t->cfg;
    double v[15];
    static const char *const keys[] = {"version", "vocab_limit", "embed", "hidden", "layers",
                                       "seq", "batch", "lr", "clip", "dropout",
                                       "val_fraction", "steps", "eval_every", "step", "pos"};
    int ok = o != NULL;
    for (int i = 0; ok && i < 15; i++)
        ok = get_num(o, keys[i], &v[i]) && (i >= 7 && i <= 10 ? 1 : v[i] == floor(v[i])) &&
             fabs(v[i]) < 1e15;
    ok = ok && v[0] == CKPT_VERSION && get_u64(o, "seed", &c->seed) &&
         get_u64(o, "text_hash", hash);
    for (int i = 0; ok && i < 4; i++) {
        char key[8];
        snprintf(key, sizeof key, "rng%d", i);
        ok = get_u64(o, key, &t->rng.s[i]);
    }
    const cJSON *tok = o ? cJSON_GetObjectItemCaseSensitive(o, "tokenizer") : NULL;
    ok = ok && cJSON_IsString(tok) && !tp_tokenizer_parse(tok->valuestring, &c->tokenizer, err);
    const cJSON *cell = o ? cJSON_GetObjectItemCaseSensitive(o, "cell") : NULL;
    int kind = cJSON_IsString(cell) ? tp_train_cell_parse(cell->valuestring) : -1;
    ok = ok && kind >= 0;
    c->cell = kind >= 0 ? (tp_train_cell_kind)kind : TP_TRAIN_LSTM;
    double sl = 0, dio = 0;
    ok = ok && get_num(o, "sample_length", &sl);
    /* absent from checkpoints written before --dropout-io: they had none */
    if (ok && cJSON_GetObjectItemCaseSensitive(o, "dropout_io"))
        ok = get_num(o, "dropout_io", &dio);
    cJSON_Delete(o);
    if (!ok)
        return tp_fail(err, TP_ERR_FORMAT, "its training state (%s) is missing or damaged",
                       CKPT_KEY);
    c->vocab_limit = (int)v[1];
    c->embed = (int)v[2];
    c->hidden = (int)v[3];
    c->layers = (int)v[4];
    c->seq = (int)v[5];
    c->batch = (int)v[6];
    c->lr = v[7];
    c->clip = v[8];
    c->dropout = v[9];
    c->dropout_io = dio;
    c->val_fraction = v[10];
    c->steps = (long)v[11];
    c->eval_every = (long)v[12];
    c->sample_length = (int)sl;
    t->step = (long)v[13];
    t->pos = (long)v[14];
    tp_status rc = tp_train_config_check(c, err);
    if (rc || t->step < 0 || t->pos < 0)
        return tp_fail(err, TP_ERR_FORMAT, "its training state is out of range%s%s",
                       rc ? ": " : "", rc ? err->msg : "");
    return TP_OK;
}

static tp_status restore(tp_trainer *t, const tp_safetensors *st, const char *text,
                         size_t len, tp_error *err)
{
    const char *json = tp_st_meta(st, CKPT_KEY), *vocab = tp_st_meta(st, "vocab");
    uint64_t hash = 0;
    if (!json || !vocab)
        return tp_fail(err, TP_ERR_FORMAT, "not a tempest train checkpoint");
    tp_status rc = parse_config(json, t, &hash, err);
    tp_rng saved = t->rng;
    t->text_hash = hash;
    if (!rc)
        rc = tp_vocab_from_json(&t->vocab, t->cfg.tokenizer, vocab, strlen(vocab), err);
    if (!rc)
        rc = tp_trainer_setup(t, text, len, err);
    if (!rc && t->pos + t->cfg.seq + 1 > t->n_train / t->cfg.batch + t->cfg.seq)
        rc = tp_fail(err, TP_ERR_FORMAT, "its data position %ld is past the text", t->pos);
    t->rng = saved; /* setup drew the throwaway initial weights from it */
    size_t P = t->net.n_params;
    size_t state_len = (size_t)2 * t->cfg.layers * t->cfg.batch * t->cfg.hidden;
    if (!rc)
        rc = read_params(t, st, err);
    if (!rc)
        rc = read_tensor(st, "adam.exp_avg", t->adam_m, P, err);
    if (!rc)
        rc = read_tensor(st, "adam.exp_avg_sq", t->adam_v, P, err);
    if (!rc)
        rc = read_tensor(st, "train.state", t->state, state_len, err);
    return rc;
}

tp_status tp_trainer_resume(tp_trainer **out, const char *ckpt_path, const char *text,
                            size_t len, long steps, tp_error *err)
{
    *out = NULL;
    tp_trainer *t = calloc(1, sizeof *t);
    if (!t)
        return tp_fail(err, TP_ERR_NOMEM, "out of memory");
    tp_safetensors st;
    tp_status rc = tp_st_open(&st, ckpt_path, err);
    if (!rc)
        rc = restore(t, &st, text, len, err);
    tp_st_close(&st);
    if (!rc && steps > 0 && steps <= t->step)
        rc = tp_fail(err, TP_ERR_USAGE, "--steps %ld is not beyond the checkpoint's step %ld",
                     steps, t->step);
    if (!rc && steps > 0)
        t->cfg.steps = steps;
    if (rc) {
        tp_error_prefix(err, "checkpoint '%s'", ckpt_path);
        tp_trainer_free(t);
        return rc;
    }
    *out = t;
    return TP_OK;
}
