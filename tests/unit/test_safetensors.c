/* test_safetensors.c - the bounds-checked reader, on buffers built in memory. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "tempest/safetensors.h"

/* Parse header + data; expect success. The buffer is returned for freeing. */
static uint8_t *parse_ok(tp_safetensors *st, const char *header, const void *data,
                         size_t dlen)
{
    size_t size;
    uint8_t *buf = th_st_make(header, data, dlen, &size);
    tp_error err = {0};
    cr_assert_eq(tp_st_parse(st, buf, size, &err), TP_OK, "%s: %s", header, err.msg);
    return buf;
}

/* Parse and expect a TP_ERR_FORMAT whose message holds both needles. */
static void parse_fails_buf(const uint8_t *buf, size_t size, const char *needle1,
                            const char *needle2)
{
    tp_safetensors st;
    tp_error err = {0};
    cr_assert_eq(tp_st_parse(&st, buf, size, &err), TP_ERR_FORMAT, "accepted (%s)", needle1);
    cr_assert(strstr(err.msg, needle1), "message '%s' lacks '%s'", err.msg, needle1);
    cr_assert(strstr(err.msg, needle2), "message '%s' lacks '%s'", err.msg, needle2);
    cr_assert_eq(st.n_tensors, 0, "st left non-empty");
    cr_assert_null(st.tensors);
    tp_st_close(&st); /* safe on a failed parse */
}

static void parse_fails(const char *header, const void *data, size_t dlen,
                        const char *needle1, const char *needle2)
{
    size_t size;
    uint8_t *buf = th_st_make(header, data, dlen, &size);
    parse_fails_buf(buf, size, needle1, needle2);
    free(buf);
}

static const float DATA6[6] = {1, 2, 3, 4, 5, 6};

Test(safetensors, valid_parse)
{
    tp_safetensors st;
    const char *h = "{\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[16,24]},"
                    "\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
                    "\"__metadata__\":{\"tokenizer\":\"char\",\"vocab\":\"[\\\"a\\\"]\"}}";
    uint8_t *buf = parse_ok(&st, h, DATA6, 24);
    cr_assert_eq(st.n_tensors, 2);
    const tp_tensor *a = tp_st_find(&st, "a"), *b = tp_st_find(&st, "b");
    cr_assert_not_null(a);
    cr_assert_not_null(b);
    cr_assert_null(tp_st_find(&st, "c"));
    cr_assert_eq(a->ndim, 2);
    cr_assert_eq(a->shape[0], 2);
    cr_assert_eq(a->shape[1], 2);
    cr_assert_eq(a->count, 4);
    cr_assert_eq(a->nbytes, 16);
    cr_assert_eq(a->dtype, TP_DT_F32);
    cr_assert_str_eq(a->dtype_name, "F32");
    cr_assert_eq(b->count, 2);
    float out[4];
    cr_assert_eq(tp_tensor_to_f32(a, out, NULL), TP_OK);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(out[i], DATA6[i]);
    cr_assert_eq(tp_tensor_to_f32(b, out, NULL), TP_OK);
    cr_assert_eq(out[0], 5.0f);
    cr_assert_eq(out[1], 6.0f);
    cr_assert_str_eq(tp_st_meta(&st, "tokenizer"), "char");
    cr_assert_str_eq(tp_st_meta(&st, "vocab"), "[\"a\"]");
    cr_assert_null(tp_st_meta(&st, "description"));
    tp_st_close(&st);
    cr_assert_eq(st.n_tensors, 0);
    free(buf);
}

Test(safetensors, empty_and_scalar_tensors)
{
    tp_safetensors st;
    const char *h = "{\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
                    "\"e\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[4,4]}}";
    uint8_t *buf = parse_ok(&st, h, DATA6, 4);
    cr_assert_eq(tp_st_find(&st, "s")->count, 1);
    cr_assert_eq(tp_st_find(&st, "e")->count, 0);
    tp_st_close(&st);
    free(buf);
    buf = parse_ok(&st, "{}", NULL, 0);
    cr_assert_eq(st.n_tensors, 0);
    tp_st_close(&st);
    free(buf);
}

Test(safetensors, too_short)
{
    const uint8_t buf[7] = {2, 0, 0, 0, 0, 0, 0};
    parse_fails_buf(buf, 7, "too short", "7 bytes");
    parse_fails_buf(buf, 0, "too short", "0 bytes");
}

Test(safetensors, header_length_past_end)
{
    const char *h = "{}";
    size_t size;
    uint8_t *buf = th_st_raw(h, 2, 3, NULL, 0, &size);
    parse_fails_buf(buf, size, "header length 3", "past the end");
    free(buf);
    buf = th_st_raw(h, 2, 0xfffffffffffffffeULL, NULL, 0, &size);
    parse_fails_buf(buf, size, "18446744073709551614", "past the end");
    free(buf);
    /* A text file: its first eight bytes read as a huge length. */
    const char *text = "hello, this is not a model\n";
    parse_fails_buf((const uint8_t *)text, strlen(text), "not a safetensors file",
                    "header length");
}

Test(safetensors, header_not_json)
{
    parse_fails("{not json at all}", NULL, 0, "not valid JSON", "header");
    parse_fails("[1, 2, 3]", NULL, 0, "not a safetensors file", "JSON object");
    parse_fails("x", NULL, 0, "not a safetensors file", "length 1");
    /* Valid JSON followed by junk inside the stated length; padding with
     * spaces (what writers use to align the data) is fine. */
    parse_fails("{} trailing", NULL, 0, "not valid JSON", "header");
    parse_fails("{}}", NULL, 0, "not valid JSON", "header");
    tp_safetensors st;
    size_t sz;
    uint8_t *ok = th_st_make("{}      ", NULL, 0, &sz);
    cr_assert_eq(tp_st_parse(&st, ok, sz, NULL), TP_OK);
    tp_st_close(&st);
    free(ok);
    /* The header is bounded by its length: a NUL-free header that is cut
     * short in the middle of a string is refused, not read past. */
    size_t size;
    const char *h = "{\"a\":{\"dtype\":\"F32\"";
    uint8_t *buf = th_st_raw(h, strlen(h), strlen(h) - 3, NULL, 0, &size);
    parse_fails_buf(buf, size, "not valid JSON", "header");
    free(buf);
}

Test(safetensors, tensor_entry_malformed)
{
    parse_fails("{\"a\":5}", NULL, 0, "'a'", "not an object");
    parse_fails("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", DATA6, 4, "'a'",
                "missing dtype");
    parse_fails("{\"a\":{\"dtype\":\"F32\",\"shape\":3,\"data_offsets\":[0,4]}}", DATA6, 4,
                "'a'", "shape is not a list");
    parse_fails("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", DATA6, 4,
                "'a'", "dimension 0");
    parse_fails("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", DATA6, 4,
                "'a'", "dimension 0");
    parse_fails("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}",
                DATA6, 4, "'a'", "9 dimensions");
    parse_fails("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", DATA6, 4, "'a'",
                "data_offsets");
    parse_fails("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", DATA6, 4,
                "'a'", "data_offsets");
    parse_fails("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":\"0,4\"}}", DATA6, 4,
                "'a'", "data_offsets");
    parse_fails("{\"__metadata__\":[1]}", NULL, 0, "__metadata__", "not an object");
}

Test(safetensors, offsets_outside_data)
{
    parse_fails("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", DATA6, 4,
                "'w'", "outside the 4 bytes");
    parse_fails("{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,8]}}", DATA6, 4,
                "'w'", "outside");
    parse_fails("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", DATA6, 12,
                "'w'", "[8, 4]");
    parse_fails("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],"
                "\"data_offsets\":[9007199254740990,9007199254740994]}}",
                DATA6, 8, "'w'", "data_offsets");
}

Test(safetensors, overlapping_tensors)
{
    parse_fails("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}",
                DATA6, 24, "overlap", "'a' and 'b'");
    parse_fails("{\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
                DATA6, 8, "overlap", "'");
    /* An empty tensor sorted between two overlapping ones does not hide it. */
    parse_fails("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                "\"e\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]},"
                "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
                DATA6, 24, "overlap", "'a' and 'b'");
    /* A long tensor overlapping one that is not its neighbour. */
    parse_fails("{\"a\":{\"dtype\":\"F32\",\"shape\":[6],\"data_offsets\":[0,24]},"
                "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                DATA6, 24, "overlap", "'a' and 'b'");
    /* Adjacent ranges are fine. */
    tp_safetensors st;
    uint8_t *buf = parse_ok(&st, "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]},"
                                 "\"b\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[12,24]}}",
                            DATA6, 24);
    tp_st_close(&st);
    free(buf);
}

Test(safetensors, shape_bytes_mismatch)
{
    parse_fails("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", DATA6, 24,
                "'w'", "8 bytes");
    parse_fails("{\"w\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,12]}}", DATA6, 24,
                "'w'", "3 elements of 2 bytes");
}

Test(safetensors, unknown_dtype)
{
    parse_fails("{\"w\":{\"dtype\":\"Q4_K\",\"shape\":[1],\"data_offsets\":[0,4]}}", DATA6, 4,
                "'w'", "unknown dtype 'Q4_K'");
    parse_fails("{\"w\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", DATA6, 4,
                "'w'", "unknown dtype");
    parse_fails("{\"w\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", DATA6, 4, "'w'",
                "dtype");
}

Test(safetensors, known_dtype_not_convertible)
{
    tp_safetensors st;
    const int64_t i64[2] = {1, 2};
    uint8_t *buf = parse_ok(&st, "{\"idx\":{\"dtype\":\"I64\",\"shape\":[2],"
                                 "\"data_offsets\":[0,16]}}", i64, 16);
    const tp_tensor *t = tp_st_find(&st, "idx");
    cr_assert_eq(t->dtype, TP_DT_I64);
    float out[2];
    tp_error err = {0};
    cr_assert_eq(tp_tensor_to_f32(t, out, &err), TP_ERR_FORMAT);
    cr_assert(strstr(err.msg, "'idx'"), "%s", err.msg);
    cr_assert(strstr(err.msg, "I64"), "%s", err.msg);
    tp_st_close(&st);
    free(buf);
}

Test(safetensors, shape_product_overflow)
{
    parse_fails("{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],"
                "\"data_offsets\":[0,4]}}", DATA6, 4, "'w'", "overflow");
    /* Fits size_t, but times 4 bytes it does not. */
    parse_fails("{\"w\":{\"dtype\":\"F32\",\"shape\":[9007199254740992,1024],"
                "\"data_offsets\":[0,4]}}", DATA6, 4, "'w'", "9223372036854775808 elements");
    /* Dimensions above 2^53 are not exact in JSON: refused. */
    parse_fails("{\"w\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904],"
                "\"data_offsets\":[0,4]}}", DATA6, 4, "'w'", "dimension 0");
    parse_fails("{\"w\":{\"dtype\":\"F32\",\"shape\":[1e300],"
                "\"data_offsets\":[0,4]}}", DATA6, 4, "'w'", "dimension 0");
}

Test(safetensors, duplicate_names)
{
    parse_fails("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                DATA6, 8, "'w'", "twice");
    parse_fails("{\"__metadata__\":{},\"__metadata__\":{}}", NULL, 0, "__metadata__", "twice");
}

Test(safetensors, f16_conversion)
{
    struct { uint16_t h; float f; } cases[] = {
        {0x3c00, 1.0f},        {0xc000, -2.0f},         {0x7bff, 65504.0f},
        {0x3555, 0.333251953125f}, {0x0400, 6.103515625e-05f},
        {0x0001, 5.9604644775390625e-08f}, /* smallest subnormal, 2^-24 */
        {0x03ff, 6.097555160522461e-05f},  /* largest subnormal, 1023 * 2^-24 */
        {0x8001, -5.9604644775390625e-08f}, {0x0000, 0.0f},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_assert_eq(tp_f16_to_f32(cases[i].h), cases[i].f, "0x%04x -> %.10g, want %.10g",
                     cases[i].h, tp_f16_to_f32(cases[i].h), cases[i].f);
    cr_assert(signbit(tp_f16_to_f32(0x8000)) && tp_f16_to_f32(0x8000) == 0.0f, "-0");
    cr_assert(isinf(tp_f16_to_f32(0x7c00)) && tp_f16_to_f32(0x7c00) > 0);
    cr_assert(isinf(tp_f16_to_f32(0xfc00)) && tp_f16_to_f32(0xfc00) < 0);
    cr_assert(isnan(tp_f16_to_f32(0x7e00)));
    cr_assert(isnan(tp_f16_to_f32(0x7c01)));
}

Test(safetensors, bf16_conversion)
{
    cr_assert_eq(tp_bf16_to_f32(0x3f80), 1.0f);
    cr_assert_eq(tp_bf16_to_f32(0xc040), -3.0f);
    cr_assert_eq(tp_bf16_to_f32(0x3eab), 0.333984375f);
    cr_assert_eq(tp_bf16_to_f32(0x0001), ldexpf(1.0f, -133), "subnormal");
    cr_assert_eq(tp_bf16_to_f32(0x0080), ldexpf(1.0f, -126), "smallest normal");
    cr_assert_eq(tp_bf16_to_f32(0x7f7f), 3.3895313892515355e38f);
    cr_assert(isinf(tp_bf16_to_f32(0x7f80)));
    cr_assert(isnan(tp_bf16_to_f32(0x7fc0)));
}

Test(safetensors, f16_bf16_tensors_convert)
{
    /* Little-endian 16-bit values. */
    const uint8_t data[] = {0x00, 0x3c, 0x01, 0x00, 0x00, 0xc0, /* F16 1, 2^-24, -2 */
                            0x80, 0x3f, 0x40, 0xc0};            /* BF16 1, -3 */
    tp_safetensors st;
    uint8_t *buf = parse_ok(&st, "{\"h\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,6]},"
                                 "\"b\":{\"dtype\":\"BF16\",\"shape\":[1,2],\"data_offsets\":[6,10]}}",
                            data, sizeof data);
    float out[3];
    cr_assert_eq(tp_tensor_to_f32(tp_st_find(&st, "h"), out, NULL), TP_OK);
    cr_assert_eq(out[0], 1.0f);
    cr_assert_eq(out[1], ldexpf(1.0f, -24));
    cr_assert_eq(out[2], -2.0f);
    cr_assert_eq(tp_tensor_to_f32(tp_st_find(&st, "b"), out, NULL), TP_OK);
    cr_assert_eq(out[0], 1.0f);
    cr_assert_eq(out[1], -3.0f);
    tp_st_close(&st);
    free(buf);
}

static void expect_nonfinite_refused(const char *dtype, const void *data, size_t n,
                                     const char *kind, const char *index)
{
    char h[256];
    size_t esize = strcmp(dtype, "F32") ? 2 : 4;
    snprintf(h, sizeof h, "{\"lstm.weight_hh_l0\":{\"dtype\":\"%s\",\"shape\":[%zu],"
             "\"data_offsets\":[0,%zu]}}", dtype, n, n * esize);
    tp_safetensors st;
    uint8_t *buf = parse_ok(&st, h, data, n * esize);
    float out[8];
    tp_error err = {0};
    cr_assert_eq(tp_tensor_to_f32(&st.tensors[0], out, &err), TP_ERR_FORMAT, "%s %s", dtype,
                 kind);
    cr_assert(strstr(err.msg, "'lstm.weight_hh_l0'"), "%s", err.msg);
    cr_assert(strstr(err.msg, kind), "%s", err.msg);
    cr_assert(strstr(err.msg, index), "%s", err.msg);
    tp_st_close(&st);
    free(buf);
}

Test(safetensors, nan_inf_refused_naming_the_tensor)
{
    const float fnan[3] = {1, 2, NAN}, finf[2] = {-INFINITY, 0};
    expect_nonfinite_refused("F32", fnan, 3, "NaN", "index 2");
    expect_nonfinite_refused("F32", finf, 2, "infinite", "index 0");
    const uint16_t hnan[2] = {0x3c00, 0x7e00}, hinf[2] = {0xfc00, 0};
    expect_nonfinite_refused("F16", hnan, 2, "NaN", "index 1");
    expect_nonfinite_refused("F16", hinf, 2, "infinite", "index 0");
    const uint16_t bnan[2] = {0x7fc1, 0}, binf[3] = {0, 0, 0x7f80};
    expect_nonfinite_refused("BF16", bnan, 2, "NaN", "index 0");
    expect_nonfinite_refused("BF16", binf, 3, "infinite", "index 2");
}

Test(safetensors, metadata_values)
{
    tp_safetensors st;
    uint8_t *buf = parse_ok(&st, "{\"__metadata__\":{\"s\":\"text \\u00e9\",\"n\":5,"
                                 "\"l\":[1,\"a\"],\"o\":{\"k\":true},\"z\":null}}", NULL, 0);
    cr_assert_eq(st.n_meta, 5);
    cr_assert_str_eq(tp_st_meta(&st, "s"), "text \xc3\xa9");
    cr_assert_str_eq(tp_st_meta(&st, "n"), "5");
    cr_assert_str_eq(tp_st_meta(&st, "l"), "[1,\"a\"]");
    cr_assert_str_eq(tp_st_meta(&st, "o"), "{\"k\":true}");
    cr_assert_str_eq(tp_st_meta(&st, "z"), "null");
    cr_assert_null(tp_st_meta(&st, "missing"));
    tp_st_close(&st);
    free(buf);
}

Test(safetensors, open_files)
{
    tp_safetensors st;
    tp_error err = {0};
    cr_assert_eq(tp_st_open(&st, "/nonexistent/dir/m.safetensors", &err), TP_ERR_IO);
    cr_assert(strstr(err.msg, "/nonexistent/dir/m.safetensors"), "%s", err.msg);
    cr_assert_eq(tp_st_open(&st, "/tmp", &err), TP_ERR_IO);
    cr_assert(strstr(err.msg, "not a regular file"), "%s", err.msg);

    char path[] = "/tmp/tempest-st-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    /* Empty file: refused with the path in front. */
    cr_assert_eq(tp_st_open(&st, path, &err), TP_ERR_FORMAT);
    cr_assert(strstr(err.msg, path) == err.msg, "%s", err.msg);
    cr_assert(strstr(err.msg, "too short"), "%s", err.msg);

    size_t size;
    uint8_t *buf = th_st_make("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}}",
                              DATA6, 24, &size);
    cr_assert_eq(write(fd, buf, size), (ssize_t)size);
    free(buf);
    cr_assert_eq(tp_st_open(&st, path, &err), TP_OK, "%s", err.msg);
    float out[6];
    cr_assert_eq(tp_tensor_to_f32(tp_st_find(&st, "w"), out, NULL), TP_OK);
    cr_assert_eq(out[5], 6.0f);
    tp_st_close(&st);

    /* Cut the file short: the data no longer holds the tensor. */
    cr_assert_eq(ftruncate(fd, (off_t)size - 5), 0);
    cr_assert_eq(tp_st_open(&st, path, &err), TP_ERR_FORMAT);
    cr_assert(strstr(err.msg, "'w'"), "%s", err.msg);
    cr_assert(strstr(err.msg, "outside"), "%s", err.msg);
    close(fd);
    unlink(path);
}

/* The lazy open reads the same values from the file, and refuses the same
 * files with the same messages, as the whole-file open. */
Test(safetensors, lazy_open_matches_whole_file)
{
    char path[] = "/tmp/tempest-st-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    size_t size;
    uint8_t *buf = th_st_make("{\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[16,24]},"
                              "\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
                              "\"__metadata__\":{\"vocab\":\"x\"}}",
                              DATA6, 24, &size);
    cr_assert_eq(write(fd, buf, size), (ssize_t)size);
    free(buf);
    tp_safetensors whole, lazy;
    tp_error err = {0};
    cr_assert_eq(tp_st_open(&whole, path, &err), TP_OK, "%s", err.msg);
    cr_assert_eq(tp_st_open_lazy(&lazy, path, &err), TP_OK, "%s", err.msg);
    cr_assert_eq(lazy.n_tensors, 2);
    cr_assert_str_eq(tp_st_meta(&lazy, "vocab"), "x");
    const char *names[] = {"a", "b"};
    for (int i = 0; i < 2; i++) {
        const tp_tensor *w = tp_st_find(&whole, names[i]), *l = tp_st_find(&lazy, names[i]);
        cr_assert(w && l);
        cr_assert_null(l->data, "a lazy tensor points at no bytes");
        cr_assert_eq(w->offset, l->offset);
        float a[4] = {0}, b[4] = {0};
        cr_assert_eq(tp_tensor_read_f32(&whole, w, 0, w->count, a, &err), TP_OK, "%s", err.msg);
        cr_assert_eq(tp_tensor_read_f32(&lazy, l, 0, l->count, b, &err), TP_OK, "%s", err.msg);
        cr_assert_eq(memcmp(a, b, sizeof a), 0);
    }
    /* a part: elements 1..3 of 'a' */
    float part[2];
    cr_assert_eq(tp_tensor_read_f32(&lazy, tp_st_find(&lazy, "a"), 1, 2, part, &err), TP_OK);
    cr_assert(part[0] == 2.0f && part[1] == 3.0f, "%g %g", part[0], part[1]);
    cr_assert_eq(tp_tensor_read_f32(&lazy, tp_st_find(&lazy, "a"), 3, 2, part, &err),
                 TP_ERR_FORMAT, "a range past the tensor is refused");

    /* Cut short under an open lazy file: the read fails, it does not crash. */
    cr_assert_eq(ftruncate(fd, (off_t)size - 5), 0);
    float b2[2];
    cr_assert_eq(tp_tensor_read_f32(&lazy, tp_st_find(&lazy, "b"), 0, 2, b2, &err), TP_ERR_IO);
    cr_assert(strstr(err.msg, "shrank"), "%s", err.msg);
    tp_st_close(&whole);
    tp_st_close(&lazy);

    /* and now refused at open, as the whole-file open refuses it */
    cr_assert_eq(tp_st_open_lazy(&lazy, path, &err), TP_ERR_FORMAT);
    cr_assert(strstr(err.msg, path) == err.msg, "%s", err.msg);
    cr_assert(strstr(err.msg, "outside"), "%s", err.msg);
    cr_assert_eq(ftruncate(fd, 0), 0);
    cr_assert_eq(tp_st_open_lazy(&lazy, path, &err), TP_ERR_FORMAT);
    cr_assert(strstr(err.msg, "too short"), "%s", err.msg);
    cr_assert_eq(pwrite(fd, "\xff\xff\xff\xff\0\0\0\0{}", 10, 0), 10);
    cr_assert_eq(tp_st_open_lazy(&lazy, path, &err), TP_ERR_FORMAT);
    cr_assert(strstr(err.msg, "runs past the end"), "%s", err.msg);
    close(fd);
    unlink(path);
}
