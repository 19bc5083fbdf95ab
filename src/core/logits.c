/* logits.c - the logits-file parser behind `tempest probs --logits`. */
#include "tempest/logits.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static tp_status parse_json_logits(const char *text, size_t len, float **out, int *n,
                                   tp_error *err)
{
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!cJSON_IsArray(root)) {
        cJSON_Delete(root);
        return tp_fail(err, TP_ERR_FORMAT, "the logits are not a JSON array of numbers");
    }
    int count = cJSON_GetArraySize(root), i = 0;
    tp_status rc = count > TP_LOGITS_MAX ? tp_fail(err, TP_ERR_FORMAT, "%d logits (at most %d)",
                                                   count, TP_LOGITS_MAX) : TP_OK;
    float *v = rc ? NULL : malloc((size_t)(count ? count : 1) * sizeof *v);
    if (!rc && !v)
        rc = tp_fail(err, TP_ERR_NOMEM, "out of memory for %d logits", count);
    for (const cJSON *it = root->child; it && !rc; it = it->next, i++) {
        if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) ||
            fabs(it->valuedouble) > 3e38)
            rc = tp_fail(err, TP_ERR_FORMAT, "logit %d is not a finite number", i);
        else
            v[i] = (float)it->valuedouble;
    }
    cJSON_Delete(root);
    if (rc) {
        free(v);
        return rc;
    }
    *out = v;
    *n = count;
    return TP_OK;
}

/* text is NUL-terminated. */
static tp_status parse_plain_logits(const char *text, float **out, int *n, tp_error *err)
{
    int count = 0, cap = 64;
    float *v = malloc((size_t)cap * sizeof *v);
    if (!v)
        return tp_fail(err, TP_ERR_NOMEM, "out of memory for logits");
    const char *p = text;
    while (1) {
        while (isspace((unsigned char)*p) || *p == ',')
            p++;
        if (!*p)
            break;
        char *end;
        double x = strtod(p, &end);
        if (end == p || !isfinite(x) || fabs(x) > 3e38 ||
            (*end && !isspace((unsigned char)*end) && *end != ',')) {
            free(v);
            /* Show the offending word only: the rest of the line (and its
             * newline) would break the one-line message. */
            size_t wl = strcspn(p, " \t\r\n\v\f,");
            return tp_fail(err, TP_ERR_FORMAT, "logit %d ('%.*s') is not a finite number",
                           count, (int)(wl > 20 ? 20 : wl), p);
        }
        if (count == TP_LOGITS_MAX) {
            free(v);
            return tp_fail(err, TP_ERR_FORMAT, "more than %d logits", TP_LOGITS_MAX);
        }
        if (count == cap) {
            float *nv = realloc(v, (size_t)(cap *= 2) * sizeof *v);
            if (!nv) {
                free(v);
                return tp_fail(err, TP_ERR_NOMEM, "out of memory for logits");
            }
            v = nv;
        }
        v[count++] = (float)x;
        p = end;
    }
    *out = v;
    *n = count;
    return TP_OK;
}

tp_status tp_logits_parse(const char *text, size_t len, float **out, int *n, tp_error *err)
{
    *out = NULL;
    *n = 0;
    /* A NUL-terminated copy: the plain form is read with strtod. */
    char *copy = malloc(len + 1);
    if (!copy)
        return tp_fail(err, TP_ERR_NOMEM, "out of memory for logits");
    if (len)
        memcpy(copy, text, len);
    copy[len] = '\0';
    const char *p = copy;
    while (isspace((unsigned char)*p))
        p++;
    tp_status rc = *p == '[' ? parse_json_logits(copy, len, out, n, err)
                             : parse_plain_logits(copy, out, n, err);
    free(copy);
    if (!rc && *n == 0) {
        free(*out);
        rc = tp_fail(err, TP_ERR_FORMAT, "no numbers in the logits file");
    }
    if (rc) {
        *out = NULL;
        *n = 0;
    }
    return rc;
}
