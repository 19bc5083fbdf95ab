/* st_write.h - writing safetensors files (F32 tensors, string metadata),
 * atomically: a temporary file beside the target, fsync, rename, fsync of
 * the directory, so a crash leaves the old file or the new one, never half. */
#ifndef TEMPEST_ST_WRITE_H
#define TEMPEST_ST_WRITE_H

#include <stddef.h>

#include "tempest/error.h"

typedef struct tp_st_item {
    const char *name;
    int ndim;      /* 1 or 2 */
    long shape[2];
    const float *data; /* shape[0] * shape[1] (or shape[0]) floats */
} tp_st_item;

/* meta holds n_meta key, value pairs (2 * n_meta strings). */
tp_status tp_st_write(const char *path, const tp_st_item *items, int n_items,
                      const char *const *meta, int n_meta, tp_error *err);

#endif
