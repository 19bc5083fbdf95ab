/* weights.c - weight matrices stored for streaming (see kernels.h): padded,
 * aligned rows in f32, f16, bf16 or int8, and the number conversions. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tempest/kernels.h"
#include "tempest/safetensors.h"

static const char *const TYPE_NAMES[TP_W_N] = {"f32", "f16", "bf16", "int8"};

tp_status tp_weight_type_parse(const char *text, tp_weight_type *out, tp_error *err)
{
    for (int t = 0; t < TP_W_N; t++)
        if (strcmp(text, TYPE_NAMES[t]) == 0) {
            *out = (tp_weight_type)t;
            return TP_OK;
        }
    return tp_fail(err, TP_ERR_USAGE, "weight type '%.60s' is not one of f32, f16, bf16, int8",
                   text);
}

const char *tp_weight_type_name(tp_weight_type t)
{
    return t < TP_W_N ? TYPE_NAMES[t] : "?";
}

static uint32_t float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float bits_float(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

uint16_t tp_f32_to_bf16(float f)
{
    uint32_t u = float_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) /* NaN: keep it a (quiet) NaN */
        return (uint16_t)((u >> 16) | 0x40);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

/* Rounding to nearest even falls out of adding half an ulp of the target
 * and truncating, with the tie broken by the kept bit. */
uint16_t tp_f32_to_f16(float f)
{
    uint32_t u = float_bits(f);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    uint32_t a = u & 0x7fffffffu;
    if (a > 0x7f800000u)
        return sign | 0x7e00u;
    if (a >= 0x477ff000u) /* rounds to 65520 or more: infinity */
        return sign | 0x7c00u;
    if (a < 0x38800000u) { /* below 2^-14: a subnormal half (or zero) */
        float scaled = bits_float(a) * 16777216.0f; /* in units of 2^-24 */
        return sign | (uint16_t)lrintf(scaled);
    }
    uint32_t r = a + 0xfffu + ((a >> 13) & 1u);
    return sign | (uint16_t)((r - 0x38000000u) >> 13);
}

/* Where element (r, c) lives: panel r / TP_PANEL, column c, lane r % TP_PANEL. */
static size_t elem_index(const tp_matrix *m, int r, int c)
{
    return ((size_t)(r / TP_PANEL) * (size_t)m->ld + (size_t)c) * TP_PANEL +
           (size_t)(r % TP_PANEL);
}

static void store_row(tp_matrix *m, int r, const float *src)
{
    switch (m->type) {
    case TP_W_F16:
        for (int c = 0; c < m->cols; c++)
            ((uint16_t *)m->data)[elem_index(m, r, c)] = tp_f32_to_f16(src[c]);
        break;
    case TP_W_BF16:
        for (int c = 0; c < m->cols; c++)
            ((uint16_t *)m->data)[elem_index(m, r, c)] = tp_f32_to_bf16(src[c]);
        break;
    case TP_W_INT8: {
        float amax = 0.0f;
        for (int c = 0; c < m->cols; c++)
            amax = fmaxf(amax, fabsf(src[c]));
        float scale = amax > 0.0f ? amax / 127.0f : 1.0f;
        m->scale[r] = scale;
        for (int c = 0; c < m->cols; c++)
            ((int8_t *)m->data)[elem_index(m, r, c)] = (int8_t)lrintf(src[c] / scale);
        break;
    }
    default:
        for (int c = 0; c < m->cols; c++)
            ((float *)m->data)[elem_index(m, r, c)] = src[c];
        break;
    }
}

tp_status tp_matrix_alloc(tp_matrix *m, int rows, int cols, tp_weight_type type,
                          tp_error *err)
{
    memset(m, 0, sizeof *m);
    m->rows = rows;
    m->cols = cols;
    m->ld = (cols + TP_PAD - 1) / TP_PAD * TP_PAD;
    m->type = type;
    size_t panels = ((size_t)rows + TP_PANEL - 1) / TP_PANEL;
    size_t bytes = panels * TP_PANEL * (size_t)m->ld * tp_weight_type_size(type);
    size_t rounded = (bytes + 63) / 64 * 64; /* aligned_alloc wants a multiple */
    m->data = aligned_alloc(64, rounded ? rounded : 64);
    if (type == TP_W_INT8)
        m->scale = malloc((size_t)(rows ? rows : 1) * sizeof *m->scale);
    if (!m->data || (type == TP_W_INT8 && !m->scale)) {
        tp_matrix_free(m);
        return tp_fail(err, TP_ERR_NOMEM, "out of memory for a %d x %d weight matrix", rows,
                       cols);
    }
    memset(m->data, 0, rounded ? rounded : 64); /* the padding must read as zeros */
    return TP_OK;
}

void tp_matrix_set_row(tp_matrix *m, int r, const float *src)
{
    store_row(m, r, src);
}

tp_status tp_matrix_init(tp_matrix *m, const float *W, int rows, int cols, tp_weight_type type,
                         tp_error *err)
{
    tp_status rc = tp_matrix_alloc(m, rows, cols, type, err);
    for (int r = 0; !rc && r < rows; r++)
        store_row(m, r, W + (size_t)r * (size_t)cols);
    return rc;
}

void tp_matrix_free(tp_matrix *m)
{
    free(m->data);
    free(m->scale);
    m->data = NULL;
    m->scale = NULL;
}

float tp_matrix_get(const tp_matrix *m, int r, int c)
{
    size_t i = elem_index(m, r, c);
    switch (m->type) {
    case TP_W_F16: return tp_f16_to_f32(((const uint16_t *)m->data)[i]);
    case TP_W_BF16: return tp_bf16_to_f32(((const uint16_t *)m->data)[i]);
    case TP_W_INT8: return m->scale[r] * (float)((const int8_t *)m->data)[i];
    default: return ((const float *)m->data)[i];
    }
}
