/* recording.c - JSON Lines recordings of a session: writer and reader. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tempest/recording.h"

/* ---- settings as JSON ---- */

static cJSON *settings_json(const tp_sampler_config *cfg)
{
    char order[128];
    tp_sampler_order_label(cfg, order, sizeof order);
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddNumberToObject(o, "temperature", cfg->temperature);
    cJSON_AddNumberToObject(o, "top_k", cfg->top_k);
    cJSON_AddNumberToObject(o, "top_p", cfg->top_p);
    cJSON_AddNumberToObject(o, "min_p", cfg->min_p);
    cJSON_AddNumberToObject(o, "repeat_penalty", cfg->repeat_penalty);
    cJSON_AddNumberToObject(o, "repeat_last_n", cfg->repeat_last_n);
    cJSON_AddStringToObject(o, "order", order);
    return o;
}

static tp_status need(const cJSON *item, const char *key, tp_error *err)
{
    if (!item)
        return tp_fail(err, TP_ERR_FORMAT, "\"%s\" is missing", key);
    return TP_OK;
}

static tp_status get_double(const cJSON *obj, const char *key, double lo, double hi, double *out,
                            tp_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    tp_status rc = need(v, key, err);
    if (rc)
        return rc;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < lo ||
        v->valuedouble > hi)
        return tp_fail(err, TP_ERR_FORMAT, "\"%s\" must be a number from %g to %g", key, lo, hi);
    *out = v->valuedouble;
    return TP_OK;
}

static tp_status get_int(const cJSON *obj, const char *key, int lo, int hi, int *out,
                         tp_error *err)
{
    double d;
    tp_status rc = get_double(obj, key, lo, hi, &d, err);
    if (rc)
        return rc;
    if (d != floor(d))
        return tp_fail(err, TP_ERR_FORMAT, "\"%s\" must be a whole number", key);
    *out = (int)d;
    return TP_OK;
}

/* A copy of a string member; NULL allowed when optional. */
static tp_status get_string(const cJSON *obj, const char *key, int optional, char **out,
                            tp_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    if (!v && optional)
        return TP_OK;
    tp_status rc = need(v, key, err);
    if (rc)
        return rc;
    if (!cJSON_IsString(v) || !v->valuestring)
        return tp_fail(err, TP_ERR_FORMAT, "\"%s\" must be a string", key);
    *out = strdup(v->valuestring);
    return *out ? TP_OK : tp_fail(err, TP_ERR_NOMEM, "out of memory");
}

static tp_status get_seed(const cJSON *obj, uint64_t *out, tp_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "seed");
    tp_status rc = need(v, "seed", err);
    if (rc)
        return rc;
    const char *s = cJSON_IsString(v) ? v->valuestring : NULL;
    char *end = NULL;
    errno = 0;
    unsigned long long x = s && *s >= '0' && *s <= '9' ? strtoull(s, &end, 10) : 0;
    if (!end || *end || errno == ERANGE)
        return tp_fail(err, TP_ERR_FORMAT, "\"seed\" must be a string of digits");
    *out = (uint64_t)x;
    return TP_OK;
}

static tp_status get_settings(const cJSON *obj, tp_sampler_config *cfg, tp_error *err)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(obj, "settings");
    tp_status rc = need(s, "settings", err);
    if (rc)
        return rc;
    if (!cJSON_IsObject(s))
        return tp_fail(err, TP_ERR_FORMAT, "\"settings\" must be an object");
    tp_sampler_defaults(cfg);
    const cJSON *order = cJSON_GetObjectItemCaseSensitive(s, "order");
    if ((rc = get_double(s, "temperature", 0, TP_TEMPERATURE_MAX, &cfg->temperature, err)) ||
        (rc = get_int(s, "top_k", 0, INT_MAX, &cfg->top_k, err)) ||
        (rc = get_double(s, "top_p", 0, 1, &cfg->top_p, err)) ||
        (rc = get_double(s, "min_p", 0, 1, &cfg->min_p, err)) ||
        (rc = get_double(s, "repeat_penalty", 0, TP_REPEAT_PENALTY_MAX, &cfg->repeat_penalty,
                         err)) ||
        (rc = get_int(s, "repeat_last_n", 0, INT_MAX, &cfg->repeat_last_n, err)) ||
        (rc = need(order, "order", err)))
        return rc;
    if (!cJSON_IsString(order) || !order->valuestring)
        return tp_fail(err, TP_ERR_FORMAT, "\"order\" must be a string");
    if ((rc = tp_sampler_parse_order(cfg, order->valuestring, err)))
        return rc;
    return tp_sampler_validate(cfg, err);
}

/* ---- reading ---- */

static void free_entry(tp_rec_entry *e)
{
    free(e->events);
    free(e->prompt);
}

void tp_recording_free(tp_recording *rec)
{
    for (int i = 0; i < rec->n_entries; i++)
        free_entry(&rec->entries[i]);
    free(rec->entries);
    free(rec->model_path);
    free(rec->prompt);
    memset(rec, 0, sizeof *rec);
}

static tp_status parse_header(tp_recording *rec, const cJSON *root, tp_error *err)
{
    double version, size;
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    tp_status rc;
    if ((rc = get_double(root, "tempest_recording", 1, TP_RECORDING_VERSION, &version, err)))
        return tp_fail(err, TP_ERR_FORMAT,
                       "not a tempest recording of a known version (format %d)",
                       TP_RECORDING_VERSION);
    rec->version = (int)version;
    if (!cJSON_IsObject(model))
        return tp_fail(err, TP_ERR_FORMAT, "\"model\" must be an object");
    char *fp = NULL;
    if ((rc = get_string(model, "path", 0, &rec->model_path, err)) ||
        (rc = get_double(model, "size", 0, 9e15, &size, err)) ||
        (rc = get_string(model, "fingerprint", 0, &fp, err)))
        return rc;
    rec->model_size = (long long)size;
    snprintf(rec->fingerprint, sizeof rec->fingerprint, "%s", fp);
    free(fp);
    if ((rc = get_string(root, "prompt", 0, &rec->prompt, err)) ||
        (rc = get_seed(root, &rec->seed, err)) ||
        (rc = get_int(root, "vocab", 1, 1 << 24, &rec->n_vocab, err)))
        return rc;
    return get_settings(root, &rec->cfg, err);
}

static tp_status parse_events(const cJSON *root, tp_rec_entry *e, tp_error *err)
{
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(root, "events");
    if (!ev)
        return TP_OK;
    if (!cJSON_IsArray(ev))
        return tp_fail(err, TP_ERR_FORMAT, "\"events\" must be a list of strings");
    size_t total = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, ev) {
        if (!cJSON_IsString(it) || !it->valuestring)
            return tp_fail(err, TP_ERR_FORMAT, "\"events\" must be a list of strings");
        total += strlen(it->valuestring) + 1;
    }
    if (!total)
        return TP_OK;
    e->events = malloc(total);
    if (!e->events)
        return tp_fail(err, TP_ERR_NOMEM, "out of memory");
    size_t o = 0;
    cJSON_ArrayForEach(it, ev) {
        size_t n = strlen(it->valuestring);
        memcpy(e->events + o, it->valuestring, n);
        o += n;
        e->events[o++] = '\n';
    }
    e->events[o - 1] = '\0';
    return TP_OK;
}

static tp_status parse_top(const cJSON *root, int n_vocab, tp_rec_entry *e, tp_error *err)
{
    const cJSON *top = cJSON_GetObjectItemCaseSensitive(root, "top");
    tp_status rc = need(top, "top", err);
    if (rc)
        return rc;
    if (!cJSON_IsArray(top) || cJSON_GetArraySize(top) > TP_REC_TOP)
        return tp_fail(err, TP_ERR_FORMAT, "\"top\" must be a list of at most %d [id, p] pairs",
                       TP_REC_TOP);
    const cJSON *pair;
    cJSON_ArrayForEach(pair, top) {
        const cJSON *id = cJSON_GetArrayItem(pair, 0), *p = cJSON_GetArrayItem(pair, 1);
        if (!cJSON_IsArray(pair) || cJSON_GetArraySize(pair) != 2 || !cJSON_IsNumber(id) ||
            !cJSON_IsNumber(p) || id->valuedouble != floor(id->valuedouble) ||
            id->valuedouble < 0 || id->valuedouble >= n_vocab || !(p->valuedouble >= 0) ||
            !(p->valuedouble <= 1))
            return tp_fail(err, TP_ERR_FORMAT,
                           "\"top\" must hold [id, p] pairs with 0 <= id < %d, 0 <= p <= 1",
                           n_vocab);
        e->top[e->n_top++] = (tp_rec_candidate){(int)id->valuedouble, p->valuedouble};
    }
    return TP_OK;
}

static tp_status parse_step(const tp_recording *rec, const cJSON *root, tp_rec_entry *e,
                            tp_error *err)
{
    tp_status rc;
    if ((rc = get_int(root, "step", 0, INT_MAX - 1, &e->step, err)) ||
        (rc = get_int(root, "token", 0, rec->n_vocab - 1, &e->token, err)) ||
        (rc = get_double(root, "p", 0, 1, &e->p, err)) ||
        (rc = get_settings(root, &e->cfg, err)) ||
        (rc = parse_top(root, rec->n_vocab, e, err)))
        return rc;
    return parse_events(root, e, err);
}

static tp_status parse_entry(const tp_recording *rec, const cJSON *root, tp_rec_entry *e,
                             tp_error *err)
{
    memset(e, 0, sizeof *e);
    const cJSON *restart = cJSON_GetObjectItemCaseSensitive(root, "restart");
    tp_status rc;
    if (!restart)
        rc = parse_step(rec, root, e, err);
    else if (!cJSON_IsObject(restart))
        rc = tp_fail(err, TP_ERR_FORMAT, "\"restart\" must be an object");
    else {
        e->is_restart = 1;
        if (!(rc = get_string(restart, "prompt", 0, &e->prompt, err)))
            rc = get_seed(restart, &e->seed, err);
    }
    if (rc)
        free_entry(e);
    return rc;
}

static tp_status add_entry(tp_recording *rec, const tp_rec_entry *e, tp_error *err)
{
    if (rec->n_entries == rec->cap_entries) {
        int cap = rec->cap_entries ? rec->cap_entries * 2 : 64;
        tp_rec_entry *n = cap < INT_MAX / 2 ? realloc(rec->entries, (size_t)cap * sizeof *n) : NULL;
        if (!n)
            return tp_fail(err, TP_ERR_NOMEM, "out of memory for the recording");
        rec->entries = n;
        rec->cap_entries = cap;
    }
    rec->entries[rec->n_entries++] = *e;
    rec->n_steps += !e->is_restart;
    return TP_OK;
}

/* Line number line (1-based) of text[0..len): the header or an entry. */
static tp_status parse_line(tp_recording *rec, int line, const char *text, size_t len,
                            tp_error *err)
{
    if (len > TP_REC_MAX_LINE)
        return tp_fail(err, TP_ERR_FORMAT, "the line is longer than %d bytes", TP_REC_MAX_LINE);
    cJSON *root = cJSON_ParseWithLength(text, len);
    tp_status rc;
    if (!cJSON_IsObject(root))
        rc = tp_fail(err, TP_ERR_FORMAT, "not a JSON object");
    else if (line == 1)
        rc = parse_header(rec, root, err);
    else {
        tp_rec_entry e;
        rc = parse_entry(rec, root, &e, err);
        if (!rc && (rc = add_entry(rec, &e, err)))
            free_entry(&e);
    }
    cJSON_Delete(root);
    return rc;
}

tp_status tp_recording_parse(tp_recording *rec, const char *data, size_t len, const char *name,
                             tp_error *err)
{
    memset(rec, 0, sizeof *rec);
    size_t pos = 0;
    int line = 0;
    while (pos < len) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - data) : len;
        line++;
        tp_status rc = parse_line(rec, line, data + pos, end - pos, err);
        int last = !nl || end + 1 >= len;
        if (rc == TP_ERR_FORMAT && last && line > 1) {
            /* a crash mid-write: keep every whole step before it */
            snprintf(rec->warning, sizeof rec->warning,
                     "%.120s line %d: %s%.300s; replaying the %d whole steps before it", name, line,
                     nl ? "" : "cut short: ", err ? err->msg : "bad line", rec->n_steps);
            tp_error_clear(err);
            return TP_OK;
        }
        if (rc) {
            tp_error_prefix(err, "%s line %d", name, line);
            tp_recording_free(rec);
            return rc;
        }
        pos = end + 1;
    }
    if (line == 0) {
        tp_recording_free(rec);
        return tp_fail(err, TP_ERR_FORMAT, "%s: empty file, not a tempest recording", name);
    }
    return TP_OK;
}

double tp_rec_mismatch(const tp_rec_entry *e, const tp_dist *d)
{
    double worst = 0;
    for (int i = 0; !e->is_restart && i < e->n_top; i++) {
        int id = e->top[i].id;
        double diff = id < d->n ? fabs(d->p[id] - e->top[i].p) : 1.0;
        if (diff > worst)
            worst = diff;
    }
    return worst;
}

/* ---- fingerprint ---- */

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

tp_status tp_file_fingerprint(const char *path, long long *size,
                              char out[TP_REC_FINGERPRINT_LEN + 1], tp_error *err)
{
    enum { CHUNK = 1 << 16 };
    FILE *f = fopen(path, "rb");
    if (!f)
        return tp_fail(err, TP_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    unsigned char *buf = malloc(CHUNK);
    long end = -1;
    if (buf && fseek(f, 0, SEEK_END) == 0)
        end = ftell(f);
    uint64_t h = 14695981039346656037ull;
    int ok = buf && end >= 0;
    if (ok) {
        h = fnv1a(h, (const unsigned char *)&end, sizeof end);
        rewind(f);
        size_t got = fread(buf, 1, CHUNK, f);
        h = fnv1a(h, buf, got);
        ok = fseek(f, end > CHUNK ? end - CHUNK : 0, SEEK_SET) == 0;
        got = ok ? fread(buf, 1, CHUNK, f) : 0;
        h = fnv1a(h, buf, got);
        ok = ok && !ferror(f);
    }
    free(buf);
    fclose(f);
    if (!ok)
        return tp_fail(err, TP_ERR_IO, "cannot read '%s'", path);
    *size = end;
    snprintf(out, TP_REC_FINGERPRINT_LEN + 1, "%016" PRIx64, h);
    return TP_OK;
}

/* ---- writing ---- */

/* The steps go to PATH.partial, renamed to PATH when the recording stops
 * whole: a crash or a full disk leaves an earlier PATH as it was, and the
 * steps so far in PATH.partial (whole lines, which replay). */
struct tp_recorder {
    FILE *f;
    char *path;
    char *partial;
    int failed;    /* a write failed: PATH.partial is kept, PATH untouched */
    cJSON *events; /* since the last step */
    int *order;    /* scratch: ids by p */
    int n_vocab;
};

/* One whole line in one write, flushed: a crash cannot split it in the
 * stdio buffer. */
static tp_status write_line(tp_recorder *r, cJSON *obj, tp_error *err)
{
    char *text = obj ? cJSON_PrintUnformatted(obj) : NULL;
    cJSON_Delete(obj);
    if (!text)
        return tp_fail(err, TP_ERR_NOMEM, "out of memory writing '%s'", r->path);
    size_t n = strlen(text);
    text[n] = '\n'; /* over the terminator: the buffer is written by length */
    int ok = fwrite(text, 1, n + 1, r->f) == n + 1 && fflush(r->f) == 0;
    free(text);
    if (!ok) {
        r->failed = 1;
        return tp_fail(err, TP_ERR_IO, "cannot write '%s': %s (the steps so far are in "
                       "'%s'; '%s' is unchanged)", r->partial, strerror(errno), r->partial,
                       r->path);
    }
    return TP_OK;
}

static void add_seed(cJSON *obj, uint64_t seed)
{
    char s[24];
    snprintf(s, sizeof s, "%" PRIu64, seed);
    cJSON_AddStringToObject(obj, "seed", s);
}

static cJSON *header_json(const tp_rec_header *h, long long size, const char *fp)
{
    cJSON *o = cJSON_CreateObject(), *m = cJSON_CreateObject();
    if (!o || !m) {
        cJSON_Delete(o);
        cJSON_Delete(m);
        return NULL;
    }
    cJSON_AddNumberToObject(o, "tempest_recording", TP_RECORDING_VERSION);
    cJSON_AddStringToObject(m, "path", h->model_path);
    cJSON_AddNumberToObject(m, "size", (double)size);
    cJSON_AddStringToObject(m, "fingerprint", fp);
    cJSON_AddItemToObject(o, "model", m);
    cJSON_AddStringToObject(o, "prompt", h->prompt ? h->prompt : "");
    add_seed(o, h->seed);
    cJSON_AddNumberToObject(o, "vocab", h->n_vocab);
    cJSON_AddItemToObject(o, "settings", settings_json(h->cfg));
    return o;
}

tp_status tp_recorder_open(tp_recorder **out, const char *path, const tp_rec_header *h,
                           tp_error *err)
{
    *out = NULL;
    long long size = 0;
    char fp[TP_REC_FINGERPRINT_LEN + 1];
    tp_status rc = tp_file_fingerprint(h->model_path, &size, fp, err);
    if (rc)
        return rc;
    tp_recorder *r = calloc(1, sizeof *r);
    size_t plen = strlen(path) + sizeof ".partial";
    if (!r || !(r->path = strdup(path)) || !(r->partial = malloc(plen)) ||
        !(r->order = malloc((size_t)h->n_vocab * sizeof *r->order))) {
        tp_recorder_close(r);
        return tp_fail(err, TP_ERR_NOMEM, "out of memory for a recording");
    }
    r->n_vocab = h->n_vocab;
    snprintf(r->partial, plen, "%s.partial", path);
    r->f = fopen(r->partial, "w");
    if (!r->f) {
        rc = tp_fail(err, TP_ERR_IO, "cannot write '%s': %s", r->partial, strerror(errno));
        r->failed = 1;
        tp_recorder_close(r);
        return rc;
    }
    if ((rc = write_line(r, header_json(h, size, fp), err))) {
        remove(r->partial); /* not even the header: nothing worth keeping */
        tp_recorder_close(r);
        return rc;
    }
    *out = r;
    return TP_OK;
}

tp_status tp_recorder_event(tp_recorder *r, const char *event, tp_error *err)
{
    if (!r->events && !(r->events = cJSON_CreateArray()))
        return tp_fail(err, TP_ERR_NOMEM, "out of memory for a recording");
    cJSON *s = cJSON_CreateString(event);
    if (!s || !cJSON_AddItemToArray(r->events, s)) {
        cJSON_Delete(s);
        return tp_fail(err, TP_ERR_NOMEM, "out of memory for a recording");
    }
    return TP_OK;
}

static cJSON *top_json(tp_recorder *r, const tp_dist *d)
{
    cJSON *top = cJSON_CreateArray();
    tp_dist_order(d, 1, r->order);
    for (int i = 0; top && i < TP_REC_TOP && i < d->n && d->p[r->order[i]] > 0; i++) {
        cJSON *pair = cJSON_CreateArray();
        cJSON_AddItemToArray(pair, cJSON_CreateNumber(r->order[i]));
        cJSON_AddItemToArray(pair, cJSON_CreateNumber(d->p[r->order[i]]));
        cJSON_AddItemToArray(top, pair);
    }
    return top;
}

tp_status tp_recorder_step(tp_recorder *r, int step, int token, const char *text,
                           const tp_sampler_config *cfg, const tp_dist *from, tp_error *err)
{
    cJSON *o = cJSON_CreateObject();
    if (o) {
        cJSON_AddNumberToObject(o, "step", step);
        cJSON_AddNumberToObject(o, "token", token);
        cJSON_AddStringToObject(o, "text", text);
        cJSON_AddNumberToObject(o, "p", from->p[token]);
        cJSON_AddNumberToObject(o, "entropy", from->entropy_bits);
        cJSON_AddItemToObject(o, "settings", settings_json(cfg));
        cJSON_AddItemToObject(o, "top", top_json(r, from));
        if (r->events)
            cJSON_AddItemToObject(o, "events", r->events);
        r->events = NULL;
    }
    return write_line(r, o, err);
}

tp_status tp_recorder_restart(tp_recorder *r, const char *prompt, uint64_t seed, tp_error *err)
{
    cJSON *o = cJSON_CreateObject(), *what = cJSON_CreateObject();
    if (o && what) {
        cJSON_AddStringToObject(what, "prompt", prompt ? prompt : "");
        add_seed(what, seed);
        cJSON_AddItemToObject(o, "restart", what);
        what = NULL;
    }
    cJSON_Delete(what);
    return write_line(r, o, err);
}

const char *tp_recorder_path(const tp_recorder *r)
{
    return r->path;
}

/* Durable, then in place: fsync the steps before the rename makes them PATH.
 * After a failed write the partial file stays where it is. */
static tp_status finish_file(tp_recorder *r, tp_error *err)
{
    int bad = fflush(r->f) != 0 || fsync(fileno(r->f)) != 0;
    int e = errno;
    bad = fclose(r->f) != 0 || bad;
    r->f = NULL;
    if (r->failed)
        return tp_fail(err, TP_ERR_IO, "'%s' is unchanged; the steps recorded are in '%s'",
                       r->path, r->partial);
    if (bad)
        return tp_fail(err, TP_ERR_IO, "cannot finish '%s': %s ('%s' is unchanged)",
                       r->partial, strerror(e), r->path);
    if (rename(r->partial, r->path) != 0)
        return tp_fail(err, TP_ERR_IO, "cannot rename '%s' to '%s': %s", r->partial, r->path,
                       strerror(errno));
    return TP_OK;
}

tp_status tp_recorder_finish(tp_recorder *r, tp_error *err)
{
    tp_status rc = r && r->f ? finish_file(r, err) : TP_OK;
    tp_recorder_close(r);
    return rc;
}

void tp_recorder_close(tp_recorder *r)
{
    if (!r)
        return;
    if (r->f)
        finish_file(r, NULL);
    cJSON_Delete(r->events);
    free(r->order);
    free(r->partial);
    free(r->path);
    free(r);
}
