/* test_train.c - the trainer's pieces: vocabulary builders, learning-rate
 * schedule, clipping, Adam, configuration ranges, and a checkpoint that
 * resumes bit-identically. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tempest/train.h"

Test(vocab_build, char_is_sorted_set_of_code_points)
{
    tp_vocab *v = NULL;
    tp_error err = {0};
    const char *text = "ba\xc3\xa9\nab ";
    cr_assert_eq(tp_vocab_build_char(&v, text, strlen(text), &err), TP_OK, "%s", err.msg);
    cr_assert_eq(tp_vocab_size(v), 5);
    const char *want[] = {"\n", " ", "a", "b", "\xc3\xa9"};
    for (int i = 0; i < 5; i++)
        cr_expect_str_eq(tp_vocab_token(v, i), want[i]);
    tp_vocab_free(v);
}

Test(vocab_build, char_refuses_invalid_utf8)
{
    tp_vocab *v = NULL;
    tp_error err = {0};
    cr_expect_eq(tp_vocab_build_char(&v, "ab\xff", 3, &err), TP_ERR_FORMAT);
    cr_expect(strstr(err.msg, "not valid UTF-8 at byte 2"), "%s", err.msg);
}

Test(vocab_build, word_most_frequent_first_with_newline_and_unk)
{
    tp_vocab *v = NULL;
    tp_error err = {0};
    const char *text = "the cat, the dog.\nthe cat!  a b\n";
    cr_assert_eq(tp_vocab_build_word(&v, text, 6, &err), TP_OK, "%s", err.msg);
    cr_assert_eq(tp_vocab_size(v), 6);
    cr_expect_str_eq(tp_vocab_token(v, 0), "\n");
    cr_expect_str_eq(tp_vocab_token(v, 1), "<unk>");
    cr_expect_str_eq(tp_vocab_token(v, 2), "the"); /* 3 times */
    cr_expect_str_eq(tp_vocab_token(v, 3), "cat"); /* twice */
    /* then once each, in byte order: "!" "," "." "a" "b" "dog": two fit */
    cr_expect_str_eq(tp_vocab_token(v, 4), "!");
    cr_expect_str_eq(tp_vocab_token(v, 5), ",");
    int *ids = NULL, n = 0;
    cr_assert_eq(tp_vocab_encode(v, text, &ids, &n, &err), TP_OK, "%s", err.msg);
    cr_expect_eq(n, 13);
    cr_expect_eq(ids[4], 1, "'dog' beyond the limit is <unk>");
    cr_expect_eq(ids[6], 0, "the newline is a token");
    free(ids);
    tp_vocab_free(v);
}

Test(vocab_build, word_text_round_trips_through_the_separator)
{
    tp_vocab *v = NULL;
    tp_error err = {0};
    const char *text = "O Romeo, Romeo! wherefore art thou Romeo?\nDeny thy father (and name).\n";
    cr_assert_eq(tp_vocab_build_word(&v, text, 1000, &err), TP_OK, "%s", err.msg);
    int *ids = NULL, n = 0;
    cr_assert_eq(tp_vocab_encode(v, text, &ids, &n, &err), TP_OK);
    char *back = tp_vocab_join(v, -1, ids, n);
    cr_expect_str_eq(back, text);
    free(back);
    free(ids);
    tp_vocab_free(v);
}

Test(train, cosine_schedule_like_lambdalr)
{
    tp_train_config c;
    tp_train_defaults(&c);
    c.lr = 0.01;
    c.steps = 100;
    cr_expect_float_eq(tp_train_lr(&c, 1), 0.01, 1e-12);
    cr_expect_float_eq(tp_train_lr(&c, 51), 0.01 * (0.05 + 0.95 * 0.5), 1e-12);
    cr_expect_float_eq(tp_train_lr(&c, 101), 0.0005, 1e-12);
    cr_expect_float_eq(tp_train_lr(&c, 500), 0.0005, 1e-12);
}

Test(train, clip_scales_to_the_limit)
{
    float g[2] = {3, 4};
    cr_expect_float_eq(tp_clip_grad_norm(g, 2, 1.0), 5.0, 1e-9);
    cr_expect_float_eq(g[0], 0.6f, 1e-6);
    cr_expect_float_eq(g[1], 0.8f, 1e-6);
    float h[2] = {0.3f, 0.4f};
    tp_clip_grad_norm(h, 2, 1.0);
    cr_expect_eq(h[0], 0.3f, "below the limit nothing changes");
}

Test(train, adam_first_step_moves_by_lr)
{
    /* Step 1: m = 0.1 g, v = 0.001 g^2, so the update is lr * sign(g). */
    float p[2] = {1, 1}, g[2] = {0.5f, -2}, m[2] = {0}, v[2] = {0};
    tp_adam_step(p, g, m, v, 2, 0.01, 1);
    cr_expect_float_eq(p[0], 0.99f, 1e-6);
    cr_expect_float_eq(p[1], 1.01f, 1e-6);
}

Test(train, config_ranges_name_the_flag)
{
    tp_train_config c;
    tp_error err = {0};
    tp_train_defaults(&c);
    cr_expect_eq(tp_train_config_check(&c, &err), TP_OK);
    c.dropout = 1;
    cr_expect_eq(tp_train_config_check(&c, &err), TP_ERR_USAGE);
    cr_expect(strstr(err.msg, "--dropout"), "%s", err.msg);
    tp_train_defaults(&c);
    c.hidden = 0;
    cr_expect_eq(tp_train_config_check(&c, &err), TP_ERR_USAGE);
    cr_expect(strstr(err.msg, "--hidden 0"), "%s", err.msg);
}

static char *make_text(void)
{
    size_t cap = 20000, n = 0;
    char *t = malloc(cap);
    while (n + 64 < cap)
        n += (size_t)snprintf(t + n, cap - n, "to be or not to be, %zu.\n", n % 13);
    return t;
}

Test(train, checkpoint_resumes_bit_identically)
{
    tp_train_config c;
    tp_train_defaults(&c);
    c.embed = 4;
    c.hidden = 8;
    c.seq = 8;
    c.batch = 3;
    c.dropout = 0.2;
    c.dropout_io = 0.15; /* the checkpoint must carry it, or the losses part */
    c.steps = 10;
    char *text = make_text();
    size_t len = strlen(text);
    tp_trainer *a = NULL, *b = NULL;
    tp_error err = {0};
    cr_assert_eq(tp_trainer_new(&a, &c, text, len, &err), TP_OK, "%s", err.msg);
    double la[10], lb[10];
    for (int i = 0; i < 10; i++)
        cr_assert_eq(tp_trainer_step(a, &la[i], &err), TP_OK);
    tp_trainer_free(a);
    cr_assert_eq(tp_trainer_new(&a, &c, text, len, &err), TP_OK);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(tp_trainer_step(a, &lb[i], &err), TP_OK);
    char path[] = "/tmp/tempest-ckpt-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
    cr_assert_eq(tp_trainer_save_checkpoint(a, path, &err), TP_OK, "%s", err.msg);
    tp_trainer_free(a);
    cr_assert_eq(tp_trainer_resume(&b, path, text, len, 0, &err), TP_OK, "%s", err.msg);
    cr_expect_eq(b->step, 4);
    for (int i = 4; i < 10; i++)
        cr_assert_eq(tp_trainer_step(b, &lb[i], &err), TP_OK);
    for (int i = 0; i < 10; i++)
        cr_expect_eq(la[i], lb[i], "step %d: %.17g vs %.17g", i + 1, la[i], lb[i]);
    tp_trainer_free(b);
    unlink(path);
    free(text);
}
