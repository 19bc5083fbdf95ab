/* fuzz_vocab.c - vocabulary metadata and the tokenizers.
 *
 * Input: one byte choosing char (even) or word (odd), the vocabulary JSON up
 * to the first NUL byte, then the text to encode. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tempest/vocab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    tp_tokenizer kind = (data[0] & 1) ? TP_TOK_WORD : TP_TOK_CHAR;
    const char *json = (const char *)data + 1;
    size_t rest = size - 1;
    const char *nul = memchr(json, '\0', rest);
    size_t json_len = nul ? (size_t)(nul - json) : rest;
    size_t text_len = nul ? rest - json_len - 1 : 0;
    char *text = malloc(text_len + 1);
    if (!text)
        return 0;
    if (text_len)
        memcpy(text, nul + 1, text_len);
    text[text_len] = '\0';

    tp_vocab *v = NULL;
    tp_error err = {0};
    if (tp_vocab_from_json(&v, kind, json, json_len, &err) == TP_OK) {
        int n = tp_vocab_size(v);
        for (int i = 0; i < n && i < 64; i++) {
            char shown[64];
            const char *tok = tp_vocab_token(v, i);
            tp_vocab_escape(tok, i & 1, shown, sizeof shown);
            if (tp_vocab_find(v, tok, strlen(tok)) != i)
                abort();
        }
        int *ids = NULL, n_ids = 0;
        if (tp_vocab_encode(v, text, &ids, &n_ids, &err) == TP_OK) {
            char *joined = tp_vocab_join(v, -1, ids, n_ids);
            free(joined);
        }
        free(ids);
        tp_vocab_free(v);
    }
    free(text);
    return 0;
}
