/* safetensors.h - a bounds-checked reader of the safetensors format.
 *
 * Layout: an 8-byte little-endian header length N, N bytes of JSON mapping
 * tensor names to {dtype, shape, data_offsets} plus an optional
 * "__metadata__" object, then the tensor bytes. Every length, offset, shape
 * product and data range is checked against the file before anything points
 * into it, so a crafted file can only ever be refused.
 */
#ifndef TEMPEST_SAFETENSORS_H
#define TEMPEST_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "tempest/error.h"

#define TP_ST_MAX_DIMS 8
/* A header larger than this is refused before it is parsed. */
#define TP_ST_MAX_HEADER (64u << 20)

typedef enum tp_dtype {
    TP_DT_F32, TP_DT_F16, TP_DT_BF16,
    TP_DT_F64, TP_DT_I64, TP_DT_I32, TP_DT_I16, TP_DT_I8, TP_DT_U8,
    TP_DT_BOOL, TP_DT_OTHER_1, TP_DT_OTHER_2, TP_DT_OTHER_4, TP_DT_OTHER_8,
} tp_dtype;

typedef struct tp_tensor {
    char *name;
    char dtype_name[16];
    tp_dtype dtype;
    int ndim;
    int64_t shape[TP_ST_MAX_DIMS];
    size_t count;        /* product of shape */
    size_t nbytes;
    const uint8_t *data; /* points into the file's bytes; NULL when opened lazily */
    uint64_t offset;     /* where the bytes start in the file */
} tp_tensor;

typedef struct tp_meta_entry {
    char *key;
    char *value; /* a string value as is; any other JSON value printed */
} tp_meta_entry;

typedef struct tp_safetensors {
    void *map;            /* the file read into memory (not mmap'd: a file
                           * truncated on disk must not raise SIGBUS) */
    size_t map_size;
    const uint8_t *bytes; /* the whole file */
    size_t size;
    tp_tensor *tensors;
    int n_tensors;
    tp_meta_entry *meta;
    int n_meta;
    int lazy, fd;         /* tp_st_open_lazy: only the header is in memory */
} tp_safetensors;

/* Read and parse a file. On failure st is left empty and safe to close. */
tp_status tp_st_open(tp_safetensors *st, const char *path, tp_error *err);

/* Read and parse only the header, keeping the file open: tensors are read
 * with tp_tensor_read_f32 when needed, so loading a model never holds the
 * whole file and the weights at once. Reads use pread(), not mmap: a file
 * truncated on disk makes a read come back short, never SIGBUS. */
tp_status tp_st_open_lazy(tp_safetensors *st, const char *path, tp_error *err);
/* Parse a buffer the caller keeps alive (used by tests and fuzzing). */
tp_status tp_st_parse(tp_safetensors *st, const uint8_t *bytes, size_t size,
                      tp_error *err);

void tp_st_close(tp_safetensors *st);

const tp_tensor *tp_st_find(const tp_safetensors *st, const char *name);

/* The metadata value for key, or NULL. */
const char *tp_st_meta(const tp_safetensors *st, const char *key);

/* Convert a F32, F16 or BF16 tensor to out[count]; any other dtype, and any
 * NaN or infinite value, is refused with the tensor's name. */
tp_status tp_tensor_to_f32(const tp_tensor *t, float *out, tp_error *err);

/* Elements [first, first + count) of t as f32, from memory or (lazy) from
 * the file; refused as tp_tensor_to_f32 refuses (the index is counted from
 * first), and a short read is an I/O error. */
tp_status tp_tensor_read_f32(const tp_safetensors *st, const tp_tensor *t, size_t first,
                             size_t count, float *out, tp_error *err);
/* Conversions exposed for tests. */
float tp_f16_to_f32(uint16_t h);
float tp_bf16_to_f32(uint16_t b);

#endif
