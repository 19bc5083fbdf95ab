/* test_vocab.c - char and word tokenizers, and display escaping. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tempest/vocab.h"

static const char *const CHARS[] = {"\n", "a", "b", " ", "\xc3\xa9" /* é */,
                                    "\xe2\x82\xac" /* € */, "\xf0\x9f\x98\x80" /* 😀 */, "c"};
#define N_CHARS ((int)(sizeof CHARS / sizeof CHARS[0]))

static tp_vocab *char_vocab(void)
{
    tp_vocab *v = NULL;
    tp_error err = {0};
    cr_assert_eq(tp_vocab_create(&v, TP_TOK_CHAR, CHARS, N_CHARS, &err), TP_OK, "%s", err.msg);
    return v;
}

/* Decode ids the way generate prints them. */
static char *decode(const tp_vocab *v, const int *ids, int n)
{
    size_t cap = 1024, w = 0;
    char *out = malloc(cap);
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        const char *sep = tp_vocab_separator(v, i ? ids[i - 1] : -1, ids[i]);
        const char *tok = tp_vocab_token(v, ids[i]);
        w += (size_t)snprintf(out + w, cap - w, "%s%s", sep, tok);
    }
    return out;
}

Test(vocab_char, round_trip_multibyte)
{
    tp_vocab *v = char_vocab();
    cr_assert_eq(tp_vocab_size(v), N_CHARS);
    cr_assert_eq(tp_vocab_kind(v), TP_TOK_CHAR);
    const char *text = "ab \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\ncab";
    int *ids, n;
    tp_error err = {0};
    cr_assert_eq(tp_vocab_encode(v, text, &ids, &n, &err), TP_OK, "%s", err.msg);
    const int want[] = {1, 2, 3, 4, 5, 6, 0, 7, 1, 2};
    cr_assert_eq(n, 10, "one id per code point, got %d", n);
    for (int i = 0; i < n; i++)
        cr_assert_eq(ids[i], want[i], "id %d is %d", i, ids[i]);
    char *back = decode(v, ids, n);
    cr_assert_str_eq(back, text);
    free(back);
    free(ids);

    for (int i = 0; i < N_CHARS; i++) {
        cr_assert_str_eq(tp_vocab_token(v, i), CHARS[i]);
        cr_assert_eq(tp_vocab_find(v, CHARS[i], strlen(CHARS[i])), i);
    }
    cr_assert_eq(tp_vocab_find(v, "z", 1), -1);
    cr_assert_eq(tp_vocab_find(v, "ab", 2), -1);
    cr_assert_str_eq(tp_vocab_token(v, -1), "");
    cr_assert_str_eq(tp_vocab_token(v, N_CHARS), "");
    tp_vocab_free(v);
}

Test(vocab_char, empty_text)
{
    tp_vocab *v = char_vocab();
    int *ids = (int *)1, n = -1;
    cr_assert_eq(tp_vocab_encode(v, "", &ids, &n, NULL), TP_OK);
    cr_assert_eq(n, 0);
    free(ids);
    tp_vocab_free(v);
}

Test(vocab_char, unknown_characters_named)
{
    tp_vocab *v = char_vocab();
    int *ids = NULL, n = 7;
    tp_error err = {0};
    cr_assert_eq(tp_vocab_encode(v, "aXb\xc3\xb1", &ids, &n, &err), TP_ERR_USAGE);
    cr_assert_eq(err.code, TP_ERR_USAGE);
    cr_assert(strstr(err.msg, "'X' (U+0058)"), "%s", err.msg);
    cr_assert(strstr(err.msg, "'\xc3\xb1' (U+00F1)"), "%s", err.msg);
    cr_assert(strstr(err.msg, "2 character"), "%s", err.msg);
    cr_assert(strstr(err.msg, "vocabulary"), "%s", err.msg);
    cr_assert_null(ids);
    cr_assert_eq(n, 0);

    /* A control character is shown escaped, an emoji by its code point. */
    cr_assert_eq(tp_vocab_encode(v, "\t\xf0\x9f\x92\xa9", &ids, &n, &err), TP_ERR_USAGE);
    cr_assert(strstr(err.msg, "U+0009"), "%s", err.msg);
    cr_assert(strstr(err.msg, "U+1F4A9"), "%s", err.msg);
    cr_assert_null(strchr(err.msg, '\t'), "raw tab in message: %s", err.msg);

    /* Many unknowns: the first few are named, then "...". */
    cr_assert_eq(tp_vocab_encode(v, "qrstuvw", &ids, &n, &err), TP_ERR_USAGE);
    cr_assert(strstr(err.msg, "7 character"), "%s", err.msg);
    cr_assert(strstr(err.msg, "U+0071"), "%s", err.msg);
    cr_assert(strstr(err.msg, "..."), "%s", err.msg);
    cr_assert_null(strchr(err.msg, '\n'));
    tp_vocab_free(v);
}

Test(vocab_char, invalid_utf8_text)
{
    tp_vocab *v = char_vocab();
    const char *bad[] = {"a\xff", "ab\xe2\x82", "\xc0\xaf", "a\xed\xa0\x80", "\x80",
                         "\xf4\x90\x80\x80"};
    const char *at[] = {"byte 1", "byte 2", "byte 0", "byte 1", "byte 0", "byte 0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int *ids = NULL, n = 0;
        tp_error err = {0};
        cr_assert_eq(tp_vocab_encode(v, bad[i], &ids, &n, &err), TP_ERR_USAGE, "case %zu", i);
        cr_assert(strstr(err.msg, "UTF-8"), "case %zu: %s", i, err.msg);
        cr_assert(strstr(err.msg, at[i]), "case %zu: %s", i, err.msg);
    }
    tp_vocab_free(v);
}

Test(vocab_char, utf8_len)
{
    unsigned cp = 0;
    cr_assert_eq(tp_utf8_len((const unsigned char *)"A", 1, &cp), 1);
    cr_assert_eq(cp, 0x41u);
    cr_assert_eq(tp_utf8_len((const unsigned char *)"\xc3\xa9", 2, &cp), 2);
    cr_assert_eq(cp, 0xe9u);
    cr_assert_eq(tp_utf8_len((const unsigned char *)"\xe2\x82\xac", 3, &cp), 3);
    cr_assert_eq(cp, 0x20acu);
    cr_assert_eq(tp_utf8_len((const unsigned char *)"\xf0\x9f\x98\x80", 4, &cp), 4);
    cr_assert_eq(cp, 0x1f600u);
    cr_assert_eq(tp_utf8_len((const unsigned char *)"\xe2\x82\xac", 2, &cp), 0, "short");
    cr_assert_eq(tp_utf8_len((const unsigned char *)"\xc1\xbf", 2, &cp), 0, "overlong");
    cr_assert_eq(tp_utf8_len((const unsigned char *)"\xed\xbf\xbf", 3, &cp), 0, "surrogate");
    cr_assert_eq(tp_utf8_len((const unsigned char *)"\xf8\x88\x80\x80\x80", 5, &cp), 0);
    cr_assert_eq(tp_utf8_len((const unsigned char *)"x", 0, &cp), 0);
}

static void expect_create_fails(tp_tokenizer kind, const char *const *toks, int n,
                                const char *needle1, const char *needle2)
{
    tp_vocab *v = (tp_vocab *)1;
    tp_error err = {0};
    cr_assert_eq(tp_vocab_create(&v, kind, toks, n, &err), TP_ERR_FORMAT, "accepted (%s)",
                 needle1);
    cr_assert_null(v);
    cr_assert(strstr(err.msg, needle1), "%s", err.msg);
    cr_assert(strstr(err.msg, needle2), "%s", err.msg);
}

Test(vocab_create, refuses_bad_entries)
{
    const char *dup[] = {"a", "b", "c", "b"};
    expect_create_fails(TP_TOK_CHAR, dup, 4, "1 and 3", "'b'");
    const char *dup_nl[] = {"\n", "x", "\n"};
    expect_create_fails(TP_TOK_CHAR, dup_nl, 3, "0 and 2", "\xe2\x8f\x8e");
    const char *multi[] = {"a", "th", "c"};
    expect_create_fails(TP_TOK_CHAR, multi, 3, "entry 1", "2 characters");
    const char *multi_utf8[] = {"a", "\xc3\xa9\xc3\xa9"};
    expect_create_fails(TP_TOK_CHAR, multi_utf8, 2, "entry 1", "2 characters");
    const char *empty[] = {"a", ""};
    expect_create_fails(TP_TOK_CHAR, empty, 2, "entry 1", "empty");
    expect_create_fails(TP_TOK_WORD, empty, 2, "entry 1", "empty");
    const char *bad_utf8[] = {"a", "\xff"};
    expect_create_fails(TP_TOK_CHAR, bad_utf8, 2, "entry 1", "UTF-8");
    const char *word_dup[] = {"the", "cat", "the"};
    expect_create_fails(TP_TOK_WORD, word_dup, 3, "0 and 2", "'the'");
    expect_create_fails(TP_TOK_CHAR, dup, 0, "0 tokens", "vocabulary");
    char longtok[TP_VOCAB_MAX_TOKEN + 2];
    memset(longtok, 'x', sizeof longtok - 1);
    longtok[sizeof longtok - 1] = '\0';
    const char *toolong[] = {longtok};
    expect_create_fails(TP_TOK_WORD, toolong, 1, "entry 0", "longer");

    /* A word vocabulary takes multi-character entries. */
    const char *words[] = {"the", "th", "\xc3\xa9t\xc3\xa9"};
    tp_vocab *v;
    cr_assert_eq(tp_vocab_create(&v, TP_TOK_WORD, words, 3, NULL), TP_OK);
    cr_assert_eq(tp_vocab_find(v, "th", 2), 1);
    tp_vocab_free(v);
}

Test(vocab_create, from_json)
{
    tp_vocab *v = NULL;
    tp_error err = {0};
    const char *json = "[\"\\n\", \"a\", \"\\u00e9\", \" \"]";
    cr_assert_eq(tp_vocab_from_json(&v, TP_TOK_CHAR, json, strlen(json), &err), TP_OK, "%s",
                 err.msg);
    cr_assert_eq(tp_vocab_size(v), 4);
    cr_assert_str_eq(tp_vocab_token(v, 0), "\n");
    cr_assert_str_eq(tp_vocab_token(v, 2), "\xc3\xa9");
    tp_vocab_free(v);

    /* len bounds the text: the trailing garbage is never read. */
    const char *padded = "[\"x\",\"y\"]GARBAGE";
    cr_assert_eq(tp_vocab_from_json(&v, TP_TOK_CHAR, padded, 9, &err), TP_OK, "%s", err.msg);
    cr_assert_eq(tp_vocab_size(v), 2);
    tp_vocab_free(v);

    const char *bad[] = {"abc[", "{\"a\": 1}", "\"a\"", "", "[\"a\", 3]", "[\"a\", null]", "[]",
                         "[\"ab\"]"};
    const char *why[] = {"not a JSON list", "not a JSON list", "not a JSON list",
                         "not a JSON list", "entry 1 is not a string", "entry 1 is not a string",
                         "0 tokens", "2 characters"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = (tp_vocab *)1;
        cr_assert_eq(tp_vocab_from_json(&v, TP_TOK_CHAR, bad[i], strlen(bad[i]), &err),
                     TP_ERR_FORMAT, "'%s' accepted", bad[i]);
        cr_assert_null(v);
        cr_assert(strstr(err.msg, why[i]), "'%s': %s", bad[i], err.msg);
    }
}

Test(vocab_create, tokenizer_names)
{
    tp_tokenizer k = TP_TOK_WORD;
    cr_assert_eq(tp_tokenizer_parse("char", &k, NULL), TP_OK);
    cr_assert_eq(k, TP_TOK_CHAR);
    cr_assert_eq(tp_tokenizer_parse("word", &k, NULL), TP_OK);
    cr_assert_eq(k, TP_TOK_WORD);
    tp_error err = {0};
    cr_assert_eq(tp_tokenizer_parse("bpe", &k, &err), TP_ERR_FORMAT);
    cr_assert(strstr(err.msg, "'bpe'"), "%s", err.msg);
    cr_assert_str_eq(tp_tokenizer_name(TP_TOK_CHAR), "char");
    cr_assert_str_eq(tp_tokenizer_name(TP_TOK_WORD), "word");
}

/* ---- word tokenizer ------------------------------------------------------ */

static const char *const WORDS[] = {"\n", "<unk>", "the", "cat", ",", ".", "sat", "don't",
                                    "(", ")", "caf\xc3\xa9", "!"};
#define N_WORDS ((int)(sizeof WORDS / sizeof WORDS[0]))

static void expect_ids(const tp_vocab *v, const char *text, const int *want, int n_want)
{
    int *ids, n;
    tp_error err = {0};
    cr_assert_eq(tp_vocab_encode(v, text, &ids, &n, &err), TP_OK, "'%s': %s", text, err.msg);
    cr_assert_eq(n, n_want, "'%s': %d ids, want %d", text, n, n_want);
    for (int i = 0; i < n; i++)
        cr_assert_eq(ids[i], want[i], "'%s': id %d is %d, want %d", text, i, ids[i], want[i]);
    free(ids);
}

Test(vocab_word, splitting)
{
    tp_vocab *v;
    cr_assert_eq(tp_vocab_create(&v, TP_TOK_WORD, WORDS, N_WORDS, NULL), TP_OK);
    cr_assert_eq(tp_vocab_kind(v), TP_TOK_WORD);
    const int a[] = {2, 3, 6, 4, 2, 1, 5, 0, 7, 0};
    expect_ids(v, "the cat sat, the dog.\ndon't\n", a, 10);
    /* Blanks other than newline are skipped; punctuation splits words. */
    const int b[] = {8, 2, 3, 9, 11, 11};
    expect_ids(v, "  (the\t\tcat)!!  ", b, 6);
    const int c[] = {10, 1};
    expect_ids(v, "caf\xc3\xa9 Cat", c, 2);
    tp_vocab_free(v);
}

Test(vocab_word, unknown_without_unk_named)
{
    const char *const words[] = {"\n", "the", "cat", "."};
    tp_vocab *v;
    cr_assert_eq(tp_vocab_create(&v, TP_TOK_WORD, words, 4, NULL), TP_OK);
    int *ids = NULL, n = 0;
    tp_error err = {0};
    cr_assert_eq(tp_vocab_encode(v, "the dog. the cat; the", &ids, &n, &err), TP_ERR_USAGE);
    cr_assert(strstr(err.msg, "'dog'"), "%s", err.msg);
    cr_assert(strstr(err.msg, "';'"), "%s", err.msg);
    cr_assert(strstr(err.msg, "2 word"), "%s", err.msg);
    cr_assert_null(strstr(err.msg, "U+"), "words are not given code points: %s", err.msg);
    cr_assert_null(ids);
    tp_vocab_free(v);
}

Test(vocab_word, separators)
{
    tp_vocab *v;
    cr_assert_eq(tp_vocab_create(&v, TP_TOK_WORD, WORDS, N_WORDS, NULL), TP_OK);
    cr_assert_str_eq(tp_vocab_separator(v, -1, 2), "", "nothing before the first");
    cr_assert_str_eq(tp_vocab_separator(v, 2, 3), " ", "word word");
    cr_assert_str_eq(tp_vocab_separator(v, 3, 4), "", "no space before ','");
    cr_assert_str_eq(tp_vocab_separator(v, 3, 5), "", "no space before '.'");
    cr_assert_str_eq(tp_vocab_separator(v, 4, 2), " ", "space after ','");
    cr_assert_str_eq(tp_vocab_separator(v, 3, 0), "", "no space before newline");
    cr_assert_str_eq(tp_vocab_separator(v, 0, 2), "", "no space after newline");
    cr_assert_str_eq(tp_vocab_separator(v, 8, 2), "", "no space after '('");
    cr_assert_str_eq(tp_vocab_separator(v, 2, 9), "", "no space before ')'");
    cr_assert_str_eq(tp_vocab_separator(v, 2, 8), " ", "space before '('");
    cr_assert_str_eq(tp_vocab_separator(v, 3, 11), "", "no space before '!'");

    const int ids[] = {2, 3, 6, 4, 2, 1, 5, 0, 8, 7, 9};
    char *text = decode(v, ids, 11);
    cr_assert_str_eq(text, "the cat sat, the <unk>.\n(don't)");
    free(text);
    tp_vocab_free(v);

    tp_vocab *c;
    cr_assert_eq(tp_vocab_create(&c, TP_TOK_CHAR, CHARS, N_CHARS, NULL), TP_OK);
    for (int a = -1; a < N_CHARS; a++)
        for (int b = 0; b < N_CHARS; b++)
            cr_assert_str_eq(tp_vocab_separator(c, a, b), "");
    tp_vocab_free(c);
}

/* Word output reads naturally: tokens given as a space-separated sequence
 * (written as the model would emit them) must join into want. */
static void expect_joined(const char *tokens, const char *want)
{
    const char *toks[64];
    char buf[512];
    int n = 0;
    snprintf(buf, sizeof buf, "%s", tokens);
    for (char *save = NULL, *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
        toks[n++] = strcmp(t, "NL") == 0 ? "\n" : t;
    /* One vocabulary entry per distinct token, ids in order of appearance. */
    const char *uniq[64];
    int ids[64], nu = 0;
    for (int i = 0; i < n; i++) {
        int id = -1;
        for (int k = 0; k < nu && id < 0; k++)
            if (strcmp(uniq[k], toks[i]) == 0)
                id = k;
        if (id < 0) {
            uniq[nu] = toks[i];
            id = nu++;
        }
        ids[i] = id;
    }
    tp_vocab *v;
    cr_assert_eq(tp_vocab_create(&v, TP_TOK_WORD, uniq, nu, NULL), TP_OK);
    char *got = tp_vocab_join(v, -1, ids, n);
    cr_assert_str_eq(got, want, "joining '%s'", tokens);
    free(got);
    tp_vocab_free(v);
}

Test(vocab_word, natural_spacing)
{
    /* punctuation hugs the word before it */
    expect_joined("Hello , world ; yes : no ! why ? done .", "Hello, world; yes: no! why? done.");
    expect_joined("wait . . . 50 %", "wait... 50%");
    /* nothing after a newline, none before it */
    expect_joined("ROMEO : NL But soft NL NL O", "ROMEO:\nBut soft\n\nO");
    /* split contractions join their word; apostrophe-first words do not */
    expect_joined("I do n't think it 's mine , they 're sure",
                  "I don't think it's mine, they're sure");
    expect_joined("we 've I 'm he 'll she 'd on 't", "we've I'm he'll she'd on't");
    expect_joined("and 'tis so", "and 'tis so");
    expect_joined("the boys ' books", "the boys' books");
    /* hyphens join compounds and dashes as the text had them */
    expect_joined("to - morrow , my lord - - I go", "to-morrow, my lord--I go");
    /* brackets and other openers */
    expect_joined("a ( b ) [ c ] { d } $ 5 # 1", "a (b) [c] {d} $5 #1");
    expect_joined("\xe2\x80\x9c Hi \xe2\x80\x9d she said \xc2\xab oui \xc2\xbb",
                  "\xe2\x80\x9cHi\xe2\x80\x9d she said \xc2\xaboui\xc2\xbb");
    /* plain words: one space */
    expect_joined("the cat sat", "the cat sat");
}

/* ---- escaping ------------------------------------------------------------ */

static void expect_escape(const char *tok, int ascii, const char *want)
{
    char out[64];
    size_t n = tp_vocab_escape(tok, ascii, out, sizeof out);
    cr_assert_str_eq(out, want, "escape(%s, ascii=%d)", want, ascii);
    cr_assert_eq(n, strlen(want));
}

Test(vocab_escape, symbols_and_bytes)
{
    expect_escape(" ", 0, "\xe2\x90\xa3");
    expect_escape("\n", 0, "\xe2\x8f\x8e");
    expect_escape("\t", 0, "\xe2\x87\xa5");
    expect_escape("a b\n", 0, "a\xe2\x90\xa3" "b\xe2\x8f\x8e");
    expect_escape("\x01", 0, "\\x01");
    expect_escape("\x1b[0m", 0, "\\x1B[0m");
    expect_escape("\x7f", 0, "\\x7F");
    expect_escape("\xc2\x85", 0, "\\x85"); /* U+0085, a C1 control */
    expect_escape("\xff" "a", 0, "\\xFFa");
    expect_escape("\xe2\x82", 0, "\\xE2\\x82");
    expect_escape("\xc3\xa9\xe2\x82\xac", 0, "\xc3\xa9\xe2\x82\xac");
    expect_escape("", 0, "");
}

Test(vocab_escape, ascii_variant)
{
    expect_escape(" ", 1, "_");
    expect_escape("\n", 1, "\\n");
    expect_escape("\t", 1, "\\t");
    expect_escape("a b\n", 1, "a_b\\n");
    expect_escape("\x01", 1, "\\x01");
    expect_escape("\xff", 1, "\\xFF");
}

Test(vocab_escape, respects_capacity)
{
    char out[8];
    memset(out, 'Z', sizeof out);
    size_t n = tp_vocab_escape("abcdefghij", 0, out, 4);
    cr_assert_eq(n, 3);
    cr_assert_str_eq(out, "abc");
    cr_assert_eq(out[4], 'Z', "wrote past cap");
    /* A symbol never gets cut in half. */
    n = tp_vocab_escape("a  ", 0, out, 6);
    cr_assert_str_eq(out, "a\xe2\x90\xa3");
    cr_assert_eq(n, 4);
    n = tp_vocab_escape("\x01", 0, out, 4);
    cr_assert_str_eq(out, "");
    cr_assert_eq(tp_vocab_escape("abc", 0, out, 0), 0);
    cr_assert_eq(out[0], '\0');
}

Test(vocab_word, join)
{
    tp_vocab *v;
    cr_assert_eq(tp_vocab_create(&v, TP_TOK_WORD, WORDS, N_WORDS, NULL), TP_OK);
    const int ids[] = {3, 6, 4, 2, 1, 5, 0, 8, 7, 9};
    char *s = tp_vocab_join(v, 2, ids, 10);
    cr_assert_str_eq(s, " cat sat, the <unk>.\n(don't)");
    free(s);
    s = tp_vocab_join(v, -1, ids, 10);
    cr_assert_str_eq(s, "cat sat, the <unk>.\n(don't)");
    free(s);
    s = tp_vocab_join(v, -1, ids, 0);
    cr_assert_str_eq(s, "");
    free(s);
    tp_vocab_free(v);
    tp_vocab *c = char_vocab();
    const int cids[] = {1, 3, 4, 0, 6};
    s = tp_vocab_join(c, 1, cids, 5);
    cr_assert_str_eq(s, "a \xc3\xa9\n\xf0\x9f\x98\x80");
    free(s);
    tp_vocab_free(c);
}
