/* safetensors.c - read and bounds-checked parse of safetensors files.
 *
 * Nothing in the header is trusted: the JSON is parsed with an explicit
 * length (the header is not NUL-terminated), every number must be a
 * non-negative integer that fits, every shape product is computed with
 * overflow checks, each tensor's byte range must match its shape and dtype
 * and lie inside the data section, and no two ranges may overlap.
 */
#include "tempest/safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct dtype_info {
    const char *name;
    tp_dtype dtype;
    size_t size;
};

static const struct dtype_info DTYPES[] = {
    {"F32", TP_DT_F32, 4},    {"F16", TP_DT_F16, 2},     {"BF16", TP_DT_BF16, 2},
    {"F64", TP_DT_F64, 8},    {"I64", TP_DT_I64, 8},     {"I32", TP_DT_I32, 4},
    {"I16", TP_DT_I16, 2},    {"I8", TP_DT_I8, 1},       {"U8", TP_DT_U8, 1},
    {"BOOL", TP_DT_BOOL, 1},  {"U16", TP_DT_OTHER_2, 2}, {"U32", TP_DT_OTHER_4, 4},
    {"U64", TP_DT_OTHER_8, 8}, {"F8_E4M3", TP_DT_OTHER_1, 1},
    {"F8_E5M2", TP_DT_OTHER_1, 1},
};

static const struct dtype_info *dtype_lookup(const char *name)
{
    for (size_t i = 0; i < sizeof DTYPES / sizeof DTYPES[0]; i++)
        if (strcmp(DTYPES[i].name, name) == 0)
            return &DTYPES[i];
    return NULL;
}

/* A JSON number that is an integer in [0, 2^53]. */
static int json_uint(const cJSON *item, uint64_t *out)
{
    if (!cJSON_IsNumber(item))
        return 0;
    double v = item->valuedouble;
    if (!(v >= 0.0) || v > 9007199254740992.0 || v != floor(v))
        return 0;
    *out = (uint64_t)v;
    return 1;
}

static int mul_overflows(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return 1;
    *out = a * b;
    return 0;
}

static tp_status parse_shape(tp_tensor *t, const cJSON *shape, tp_error *err)
{
    if (!cJSON_IsArray(shape))
        return tp_fail(err, TP_ERR_FORMAT, "tensor '%s': shape is not a list", t->name);
    int ndim = cJSON_GetArraySize(shape);
    if (ndim > TP_ST_MAX_DIMS)
        return tp_fail(err, TP_ERR_FORMAT, "tensor '%s': %d dimensions (at most %d)",
                       t->name, ndim, TP_ST_MAX_DIMS);
    size_t count = 1;
    int i = 0;
    for (const cJSON *d = shape->child; d; d = d->next, i++) {
        uint64_t v;
        if (!json_uint(d, &v) || v > (uint64_t)INT64_MAX)
            return tp_fail(err, TP_ERR_FORMAT, "tensor '%s': dimension %d is not a "
                           "non-negative integer", t->name, i);
        t->shape[i] = (int64_t)v;
        if ((uint64_t)(size_t)v != v || mul_overflows(count, (size_t)v, &count))
            return tp_fail(err, TP_ERR_FORMAT, "tensor '%s': shape product overflows",
                           t->name);
    }
    t->ndim = ndim;
    t->count = count;
    return TP_OK;
}

static tp_status parse_tensor(tp_tensor *t, const cJSON *info, const uint8_t *data,
                              uint64_t data_start, size_t data_size, tp_error *err)
{
    if (!cJSON_IsObject(info))
        return tp_fail(err, TP_ERR_FORMAT, "tensor '%s': entry is not an object", t->name);
    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(info, "dtype");
    if (!cJSON_IsString(dtype))
        return tp_fail(err, TP_ERR_FORMAT, "tensor '%s': missing dtype", t->name);
    const struct dtype_info *di = dtype_lookup(dtype->valuestring);
    if (!di)
        return tp_fail(err, TP_ERR_FORMAT, "tensor '%s': unknown dtype '%.15s'", t->name,
                       dtype->valuestring);
    snprintf(t->dtype_name, sizeof t->dtype_name, "%s", di->name);
    t->dtype = di->dtype;
    tp_status rc = parse_shape(t, cJSON_GetObjectItemCaseSensitive(info, "shape"), err);
    if (rc)
        return rc;
    const cJSON *offs = cJSON_GetObjectItemCaseSensitive(info, "data_offsets");
    uint64_t begin, end;
    if (!cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2 ||
        !json_uint(offs->child, &begin) || !json_uint(offs->child->next, &end))
        return tp_fail(err, TP_ERR_FORMAT, "tensor '%s': data_offsets is not two "
                       "non-negative integers", t->name);
    if (begin > end || end > data_size)
        return tp_fail(err, TP_ERR_FORMAT, "tensor '%s': data_offsets [%llu, %llu] lie "
                       "outside the %zu bytes of data", t->name, (unsigned long long)begin,
                       (unsigned long long)end, data_size);
    if (mul_overflows(t->count, di->size, &t->nbytes) || t->nbytes != end - begin)
        return tp_fail(err, TP_ERR_FORMAT, "tensor '%s': %llu bytes of data for a shape "
                       "needing %zu elements of %zu bytes", t->name,
                       (unsigned long long)(end - begin), t->count, di->size);
    t->data = data ? data + begin : NULL;
    t->offset = data_start + begin;
    return TP_OK;
}

static int by_offset(const void *a, const void *b)
{
    const tp_tensor *x = a, *y = b;
    return (x->offset > y->offset) - (x->offset < y->offset);
}

static tp_status check_overlaps(tp_safetensors *st, tp_error *err)
{
    tp_tensor *sorted = malloc((size_t)st->n_tensors * sizeof *sorted + 1);
    if (!sorted)
        return tp_fail(err, TP_ERR_NOMEM, "out of memory checking tensor offsets");
    memcpy(sorted, st->tensors, (size_t)st->n_tensors * sizeof *sorted);
    qsort(sorted, (size_t)st->n_tensors, sizeof *sorted, by_offset);
    /* Compare each tensor with the one reaching furthest so far, not just
     * its neighbour: an empty tensor between two overlapping ones must not
     * hide the overlap. */
    tp_status rc = TP_OK;
    const tp_tensor *reach = NULL;
    for (int i = 0; i < st->n_tensors && !rc; i++) {
        const tp_tensor *cur = &sorted[i];
        if (cur->nbytes == 0)
            continue;
        if (reach && reach->offset + reach->nbytes > cur->offset)
            rc = tp_fail(err, TP_ERR_FORMAT, "tensors '%s' and '%s' overlap in the data",
                         reach->name, cur->name);
        if (!reach || cur->offset + cur->nbytes > reach->offset + reach->nbytes)
            reach = cur;
    }
    free(sorted);
    return rc;
}

static tp_status parse_metadata(tp_safetensors *st, const cJSON *meta, tp_error *err)
{
    if (!cJSON_IsObject(meta))
        return tp_fail(err, TP_ERR_FORMAT, "__metadata__ is not an object");
    int n = cJSON_GetArraySize(meta);
    st->meta = calloc((size_t)n + 1, sizeof *st->meta);
    if (!st->meta)
        return tp_fail(err, TP_ERR_NOMEM, "out of memory reading metadata");
    for (const cJSON *m = meta->child; m; m = m->next) {
        tp_meta_entry *e = &st->meta[st->n_meta++];
        e->key = strdup(m->string ? m->string : "");
        e->value = cJSON_IsString(m) ? strdup(m->valuestring) : cJSON_PrintUnformatted(m);
        if (!e->key || !e->value)
            return tp_fail(err, TP_ERR_NOMEM, "out of memory reading metadata");
    }
    return TP_OK;
}

static tp_status parse_entries(tp_safetensors *st, const cJSON *root, const uint8_t *data,
                               uint64_t data_start, size_t data_size, tp_error *err)
{
    int n = cJSON_GetArraySize(root);
    st->tensors = calloc((size_t)n + 1, sizeof *st->tensors);
    if (!st->tensors)
        return tp_fail(err, TP_ERR_NOMEM, "out of memory for %d tensors", n);
    for (const cJSON *item = root->child; item; item = item->next) {
        const char *name = item->string ? item->string : "";
        if (strcmp(name, "__metadata__") == 0) {
            if (st->meta)
                return tp_fail(err, TP_ERR_FORMAT, "__metadata__ appears twice");
            tp_status rc = parse_metadata(st, item, err);
            if (rc)
                return rc;
            continue;
        }
        if (tp_st_find(st, name))
            return tp_fail(err, TP_ERR_FORMAT, "tensor '%s' appears twice", name);
        tp_tensor *t = &st->tensors[st->n_tensors];
        t->name = strdup(name);
        if (!t->name)
            return tp_fail(err, TP_ERR_NOMEM, "out of memory for tensor names");
        st->n_tensors++;
        tp_status rc = parse_tensor(t, item, data, data_start, data_size, err);
        if (rc)
            return rc;
    }
    return check_overlaps(st, err);
}

/* The header's length: the file's first 8 bytes, little-endian. */
static uint64_t header_length(const uint8_t *b)
{
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = (n << 8) | b[i];
    return n;
}

/* Parse a file of size bytes whose first have bytes are in memory: all of
 * it, or (lazy) at least the header. */
static tp_status parse(tp_safetensors *st, const uint8_t *bytes, size_t have, size_t size,
                       tp_error *err)
{
    memset(st, 0, sizeof *st);
    st->bytes = have == size ? bytes : NULL;
    st->size = size;
    if (size < 8 || have < 8)
        return tp_fail(err, TP_ERR_FORMAT, "not a safetensors file: %zu bytes, too short "
                       "for the 8-byte header length", size);
    uint64_t n = header_length(bytes);
    if (n > size - 8)
        return tp_fail(err, TP_ERR_FORMAT, "not a safetensors file (or a truncated one): "
                       "header length %llu runs past the end of the file (%zu bytes)",
                       (unsigned long long)n, size);
    if (n < 2 || n > TP_ST_MAX_HEADER || n > have - 8 || bytes[8] != '{')
        return tp_fail(err, TP_ERR_FORMAT, "not a safetensors file: the header is not a "
                       "JSON object (length %llu)", (unsigned long long)n);
    const char *text = (const char *)bytes + 8, *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, (size_t)n, &end, 0);
    /* Only whitespace (the writers' alignment padding) may follow the JSON. */
    while (root && end && end < text + n && strchr(" \t\r\n", *end) && *end)
        end++;
    if (root && (!end || end != text + n)) {
        cJSON_Delete(root);
        root = NULL;
    }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return tp_fail(err, TP_ERR_FORMAT, "the safetensors header is not valid JSON");
    }
    tp_status rc = parse_entries(st, root, have == size ? bytes + 8 + n : NULL, 8 + n,
                                 size - 8 - (size_t)n, err);
    cJSON_Delete(root);
    if (rc)
        tp_st_close(st); /* st->map is still NULL here: the caller owns it */
    return rc;
}

tp_status tp_st_parse(tp_safetensors *st, const uint8_t *bytes, size_t size, tp_error *err)
{
    return parse(st, bytes, size, size, err);
}

/* Bytes [off, off + n) of the file; a short read means it changed. */
static tp_status pread_all(int fd, uint8_t *buf, size_t n, uint64_t off, tp_error *err)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, buf + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return tp_fail(err, TP_ERR_IO, "cannot read the model: %s", strerror(errno));
        if (r == 0)
            return tp_fail(err, TP_ERR_IO, "the model file shrank while being read (%zu of %zu bytes)", got, n);
        got += (size_t)r;
    }
    return TP_OK;
}

/* The whole file into memory with pread(), not mmap: a mapped file that
 * is truncated on disk while we read it raises SIGBUS, a read just comes
 * back short. A file that changes size while being read is refused. */
static tp_status read_whole(int fd, const char *path, size_t size, uint8_t **out,
                            tp_error *err)
{
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return tp_fail(err, TP_ERR_NOMEM, "out of memory reading model '%s' (%zu bytes)",
                       path, size);
    tp_status rc = pread_all(fd, buf, size, 0, err);
    if (rc) {
        free(buf);
        tp_error_prefix(err, "%s", path);
        return rc;
    }
    *out = buf;
    return TP_OK;
}

/* Open a regular file for reading; *size is its length. */
static tp_status open_model_file(const char *path, int *fd, size_t *size, tp_error *err)
{
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0)
        return tp_fail(err, TP_ERR_IO, "cannot open model '%s': %s", path, strerror(errno));
    struct stat sb;
    if (fstat(*fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(*fd);
        return tp_fail(err, TP_ERR_IO, "model '%s' is not a regular file", path);
    }
    *size = (size_t)sb.st_size;
    return TP_OK;
}

tp_status tp_st_open(tp_safetensors *st, const char *path, tp_error *err)
{
    memset(st, 0, sizeof *st);
    int fd;
    size_t size;
    tp_status rc = open_model_file(path, &fd, &size, err);
    if (rc)
        return rc;
    uint8_t *bytes = NULL;
    rc = read_whole(fd, path, size, &bytes, err);
    close(fd);
    if (rc)
        return rc;
    rc = tp_st_parse(st, bytes, size, err);
    st->map = bytes;
    st->map_size = size;
    if (rc) {
        tp_error_prefix(err, "%s", path);
        tp_st_close(st);
    }
    return rc;
}

/* The header's length from the first 8 bytes, and how many bytes to read:
 * the header when it fits the file and the limit, else only the 8 (parse
 * then refuses them with the usual message). */
static size_t header_extent(const uint8_t len[8], size_t size)
{
    uint64_t n = header_length(len);
    if (size < 8)
        return size;
    return n <= TP_ST_MAX_HEADER && n <= size - 8 ? 8 + (size_t)n : 8;
}

tp_status tp_st_open_lazy(tp_safetensors *st, const char *path, tp_error *err)
{
    memset(st, 0, sizeof *st);
    int fd;
    size_t size, have = 0;
    tp_status rc = open_model_file(path, &fd, &size, err);
    if (rc)
        return rc;
    uint8_t len[8] = {0}, *head = NULL;
    rc = pread_all(fd, len, size < 8 ? size : 8, 0, err);
    if (!rc) {
        have = header_extent(len, size);
        if (!(head = malloc(have ? have : 1)))
            rc = tp_fail(err, TP_ERR_NOMEM, "out of memory for the header of '%s'", path);
    }
    if (!rc)
        rc = pread_all(fd, head, have, 0, err);
    if (!rc)
        rc = parse(st, head, have, size, err);
    if (rc) {
        tp_error_prefix(err, "%s", path);
        free(head);
        close(fd);
        return rc;
    }
    st->map = head;
    st->map_size = have;
    st->lazy = 1;
    st->fd = fd;
    return TP_OK;
}

tp_status tp_tensor_read_f32(const tp_safetensors *st, const tp_tensor *t, size_t first,
                             size_t count, float *out, tp_error *err)
{
    if (first > t->count || count > t->count - first)
        return tp_fail(err, TP_ERR_FORMAT, "tensor '%s': elements %zu..%zu of %zu", t->name,
                       first, first + count, t->count);
    size_t esize = t->count ? t->nbytes / t->count : 1;
    tp_tensor part = *t;
    part.count = count;
    part.nbytes = count * esize;
    if (!st->lazy) {
        part.data = t->data + first * esize;
        return tp_tensor_to_f32(&part, out, err);
    }
    uint8_t *buf = malloc(part.nbytes ? part.nbytes : 1);
    if (!buf)
        return tp_fail(err, TP_ERR_NOMEM, "out of memory reading tensor '%s'", t->name);
    tp_status rc = pread_all(st->fd, buf, part.nbytes, t->offset + first * esize, err);
    part.data = buf;
    if (!rc)
        rc = tp_tensor_to_f32(&part, out, err);
    free(buf);
    return rc;
}

void tp_st_close(tp_safetensors *st)
{
    if (st->lazy)
        close(st->fd);

    for (int i = 0; i < st->n_tensors; i++)
        free(st->tensors[i].name);
    free(st->tensors);
    for (int i = 0; i < st->n_meta; i++) {
        free(st->meta[i].key);
        free(st->meta[i].value);
    }
    free(st->meta);
    free(st->map);
    memset(st, 0, sizeof *st);
}

const tp_tensor *tp_st_find(const tp_safetensors *st, const char *name)
{
    for (int i = 0; i < st->n_tensors; i++)
        if (strcmp(st->tensors[i].name, name) == 0)
            return &st->tensors[i];
    return NULL;
}

const char *tp_st_meta(const tp_safetensors *st, const char *key)
{
    for (int i = 0; i < st->n_meta; i++)
        if (strcmp(st->meta[i].key, key) == 0)
            return st->meta[i].value;
    return NULL;
}

float tp_f16_to_f32(uint16_t h)
{
    int sign = h >> 15, exp = (h >> 10) & 0x1f, frac = h & 0x3ff;
    float v;
    if (exp == 0)
        v = ldexpf((float)frac, -24);
    else if (exp == 31)
        v = frac ? NAN : INFINITY;
    else
        v = ldexpf((float)(frac | 0x400), exp - 25);
    return sign ? -v : v;
}

float tp_bf16_to_f32(uint16_t b)
{
    uint32_t bits = (uint32_t)b << 16;
    float v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

tp_status tp_tensor_to_f32(const tp_tensor *t, float *out, tp_error *err)
{
    const uint8_t *p = t->data;
    for (size_t i = 0; i < t->count; i++) {
        float v;
        if (t->dtype == TP_DT_F32) {
            memcpy(&v, p + 4 * i, 4);
        } else if (t->dtype == TP_DT_F16 || t->dtype == TP_DT_BF16) {
            uint16_t h = (uint16_t)(p[2 * i] | (p[2 * i + 1] << 8));
            v = t->dtype == TP_DT_F16 ? tp_f16_to_f32(h) : tp_bf16_to_f32(h);
        } else {
            return tp_fail(err, TP_ERR_FORMAT, "tensor '%s' has dtype %s; tempest reads "
                           "F32, F16 and BF16", t->name, t->dtype_name);
        }
        if (!isfinite(v))
            return tp_fail(err, TP_ERR_FORMAT, "tensor '%s' holds %s value at index %zu",
                           t->name, isnan(v) ? "a NaN" : "an infinite", i);
        out[i] = v;
    }
    return TP_OK;
}
