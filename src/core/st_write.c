/* st_write.c - an atomic safetensors writer (see st_write.h). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tempest/st_write.h"

static size_t item_count(const tp_st_item *it)
{
    return (size_t)it->shape[0] * (size_t)(it->ndim == 2 ? it->shape[1] : 1);
}

/* The JSON header, padded with spaces to a multiple of 8 bytes as
 * tools/safetensors_io.py does; malloc'd, or NULL when out of memory. */
static char *header_json(const tp_st_item *items, int n_items, const char *const *meta,
                         int n_meta, size_t *len)
{
    cJSON *root = cJSON_CreateObject();
    size_t offset = 0;
    int ok = root != NULL;
    for (int i = 0; ok && i < n_items; i++) {
        cJSON *t = cJSON_AddObjectToObject(root, items[i].name);
        double shape[2] = {(double)items[i].shape[0], (double)items[i].shape[1]};
        size_t bytes = item_count(&items[i]) * sizeof(float);
        double offs[2] = {(double)offset, (double)(offset + bytes)};
        ok = t && cJSON_AddStringToObject(t, "dtype", "F32") &&
             cJSON_AddItemToObject(t, "shape", cJSON_CreateDoubleArray(shape, items[i].ndim)) &&
             cJSON_AddItemToObject(t, "data_offsets", cJSON_CreateDoubleArray(offs, 2));
        offset += bytes;
    }
    if (ok && n_meta > 0) {
        cJSON *m = cJSON_AddObjectToObject(root, "__metadata__");
        for (int i = 0; ok && i < n_meta; i++)
            ok = m && cJSON_AddStringToObject(m, meta[2 * i], meta[2 * i + 1]);
    }
    char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!text)
        return NULL;
    size_t n = strlen(text), padded = (n + 7) / 8 * 8;
    char *out = realloc(text, padded + 1);
    if (!out) {
        free(text);
        return NULL;
    }
    memset(out + n, ' ', padded - n);
    out[padded] = '\0';
    *len = padded;
    return out;
}

static int write_all(FILE *f, const void *p, size_t n)
{
    return fwrite(p, 1, n, f) == n;
}

static tp_status write_file(const char *tmp, const char *header, size_t hlen,
                            const tp_st_item *items, int n_items, tp_error *err)
{
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return tp_fail(err, TP_ERR_IO, "cannot write '%s': %s", tmp, strerror(errno));
    unsigned char len8[8];
    for (int i = 0; i < 8; i++)
        len8[i] = (unsigned char)((unsigned long long)hlen >> (8 * i));
    int ok = write_all(f, len8, 8) && write_all(f, header, hlen);
    /* Little-endian hosts only, as the rest of tempest assumes. */
    for (int i = 0; ok && i < n_items; i++)
        ok = write_all(f, items[i].data, item_count(&items[i]) * sizeof(float));
    ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
    int saved = errno;
    if (fclose(f) != 0 && ok) {
        ok = 0;
        saved = errno;
    }
    if (!ok) {
        unlink(tmp);
        return tp_fail(err, TP_ERR_IO, "cannot write '%s': %s", tmp, strerror(saved));
    }
    return TP_OK;
}

static void sync_dir_of(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash == path ? 1 : slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

tp_status tp_st_write(const char *path, const tp_st_item *items, int n_items,
                      const char *const *meta, int n_meta, tp_error *err)
{
    size_t hlen = 0;
    char *header = header_json(items, n_items, meta, n_meta, &hlen);
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 5);
    if (!header || !tmp) {
        free(header);
        free(tmp);
        return tp_fail(err, TP_ERR_NOMEM, "out of memory writing '%s'", path);
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    tp_status rc = write_file(tmp, header, hlen, items, n_items, err);
    if (!rc && rename(tmp, path) != 0) {
        rc = tp_fail(err, TP_ERR_IO, "cannot rename '%s' to '%s': %s", tmp, path,
                     strerror(errno));
        unlink(tmp);
    }
    if (!rc)
        sync_dir_of(path);
    free(header);
    free(tmp);
    return rc;
}
