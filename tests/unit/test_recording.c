/* test_recording.c - recordings: write -> read round trip, cut and corrupt
 * files, and replay determinism (forcing the recorded tokens and settings
 * gives the recorded distributions). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "tempest/recording.h"
#include "tempest/session.h"
#include "tempest/view.h"

static th_lstm M;
static tp_model *MODEL;
static char MODEL_PATH[] = "/tmp/tempest-rec-model-XXXXXX";
static char REC_PATH[] = "/tmp/tempest-rec-XXXXXX";

static void setup(void)
{
    th_lstm_init(&M, 20, 6, 10, 1, 5, 1.5f);
    th_file f;
    th_lstm_file(&M, (th_names){0}, &f);
    size_t size;
    uint8_t *bytes = th_file_bytes(&f, &size);
    int fd = mkstemp(MODEL_PATH);
    cr_assert(fd >= 0 && write(fd, bytes, size) == (ssize_t)size);
    close(fd);
    tp_error err = {0};
    cr_assert_eq(th_file_model(&f, &MODEL, &err), TP_OK, "%s", err.msg);
    free(bytes);
    th_file_free(&f);
    fd = mkstemp(REC_PATH);
    cr_assert(fd >= 0);
    close(fd);
}

static void teardown(void)
{
    tp_model_free(MODEL);
    th_lstm_free(&M);
    unlink(MODEL_PATH);
    unlink(REC_PATH);
}

TestSuite(recording, .init = setup, .fini = teardown);

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    static char buf[1 << 20];
    *len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    char *copy = malloc(*len + 1);
    memcpy(copy, buf, *len);
    copy[*len] = '\0';
    return copy;
}

/* Generate n tokens with the settings changing at step n/2 and a restart at
 * step 3n/4, recording everything; the drawn tokens go to tokens[]. */
static void record_session(int n, int *tokens)
{
    tp_sampler_config cfg;
    tp_sampler_defaults(&cfg);
    tp_session *s = NULL;
    tp_recorder *r = NULL;
    tp_error err = {0};
    tp_dist from;
    cr_assert_eq(tp_session_new(&s, MODEL, "ab", &cfg, 99, &err), TP_OK, "%s", err.msg);
    cr_assert_eq(tp_dist_init(&from, MODEL->n_vocab, &err), TP_OK);
    tp_rec_header h = {MODEL_PATH, "ab", 99, MODEL->n_vocab, &cfg};
    cr_assert_eq(tp_recorder_open(&r, REC_PATH, &h, &err), TP_OK, "%s", err.msg);
    for (int i = 0; i < n; i++) {
        if (i == n / 2) {
            cfg.temperature = 1.7;
            cfg.top_k = 5;
            tp_sampler_parse_order(&cfg, "trunc-first", &err);
            cr_assert_eq(tp_session_set_config(s, &cfg, &err), TP_OK, "%s", err.msg);
            cr_assert_eq(tp_recorder_event(r, "key T", &err), TP_OK);
            cr_assert_eq(tp_recorder_event(r, "cmd topk 5", &err), TP_OK);
        }
        if (i == 3 * n / 4) {
            cr_assert_eq(tp_session_restart(s, "c", 1234567890123456789ull, &err), TP_OK);
            cr_assert_eq(tp_recorder_restart(r, "c", 1234567890123456789ull, &err), TP_OK);
        }
        tp_dist_copy(&from, &s->dist);
        tokens[i] = tp_session_step(s, &err);
        cr_assert(tokens[i] >= 0);
        const tp_step *st = &s->steps[s->n_steps - 1];
        cr_assert_eq(tp_recorder_step(r, s->n_steps - 1, tokens[i],
                                      tp_vocab_token(MODEL->vocab, tokens[i]), tp_session_config_of(s, st), &from,
                                      &err), TP_OK, "%s", err.msg);
    }
    tp_recorder_close(r);
    tp_dist_free(&from);
    tp_session_free(s);
}

static void load(tp_recording *rec, const char *text, size_t len, tp_status want, tp_error *err)
{
    tp_status rc = tp_recording_parse(rec, text, len, "rec.jsonl", err);
    cr_assert_eq(rc, want, "status %d: %s", rc, err->msg);
}

Test(recording, round_trip_gives_the_same_steps)
{
    int tokens[40];
    record_session(40, tokens);
    size_t len;
    char *text = slurp(REC_PATH, &len);
    tp_recording rec;
    tp_error err = {0};
    load(&rec, text, len, TP_OK, &err);
    cr_assert_str_eq(rec.warning, "");
    cr_assert_str_eq(rec.prompt, "ab");
    cr_assert_eq(rec.seed, 99);
    cr_assert_eq(rec.n_vocab, 20);
    cr_assert_str_eq(rec.model_path, MODEL_PATH);
    char fp[TP_REC_FINGERPRINT_LEN + 1];
    long long size;
    cr_assert_eq(tp_file_fingerprint(MODEL_PATH, &size, fp, &err), TP_OK);
    cr_assert_str_eq(rec.fingerprint, fp);
    cr_assert_eq(rec.model_size, size);
    cr_assert_eq(rec.n_steps, 40);
    cr_assert_eq(rec.n_entries, 41);
    int k = 0;
    for (int i = 0; i < rec.n_entries; i++) {
        const tp_rec_entry *e = &rec.entries[i];
        if (e->is_restart) {
            cr_assert_eq(k, 30);
            cr_assert_str_eq(e->prompt, "c");
            cr_assert_eq(e->seed, 1234567890123456789ull);
            continue;
        }
        cr_assert_eq(e->token, tokens[k], "step %d", k);
        cr_assert_eq(e->step, k < 30 ? k : k - 30);
        cr_assert_float_eq(e->cfg.temperature, k < 20 ? 0.8 : 1.7, 1e-12);
        cr_assert_eq(e->cfg.top_k, k < 20 ? 0 : 5);
        cr_assert_eq(tp_sampler_is_temperature_first(&e->cfg), k < 20);
        cr_assert(e->n_top > 0 && e->n_top <= TP_REC_TOP);
        if (k == 20)
            cr_assert_str_eq(e->events, "key T\ncmd topk 5");
        else
            cr_assert_null(e->events);
        k++;
    }
    tp_recording_free(&rec);
    free(text);
}

Test(recording, truncated_file_gives_the_prefix_and_a_warning)
{
    int tokens[12];
    record_session(12, tokens);
    size_t len;
    char *text = slurp(REC_PATH, &len);
    tp_recording rec;
    tp_error err = {0};
    /* cut inside the last line, and then just after its closing brace */
    load(&rec, text, len - 20, TP_OK, &err);
    cr_assert_eq(rec.n_steps, 11);
    cr_assert(strstr(rec.warning, "line 14"), "%s", rec.warning);
    cr_assert(strstr(rec.warning, "cut short"), "%s", rec.warning);
    tp_recording_free(&rec);
    load(&rec, text, len - 1, TP_OK, &err);
    cr_assert_eq(rec.n_steps, 12, "a whole last line without its newline is kept");
    tp_recording_free(&rec);
    free(text);
}

Test(recording, corrupt_middle_line_is_an_error_naming_it)
{
    int tokens[6];
    record_session(6, tokens);
    size_t len;
    char *text = slurp(REC_PATH, &len);
    char *line3 = strchr(strchr(text, '\n') + 1, '\n') + 1;
    char *tok = strstr(line3, "\"token\":");
    cr_assert_not_null(tok);
    memcpy(tok + 8, "99", 2); /* outside the 20-token vocabulary */
    tp_recording rec;
    tp_error err = {0};
    load(&rec, text, len, TP_ERR_FORMAT, &err);
    cr_assert(strstr(err.msg, "rec.jsonl line 3"), "%s", err.msg);
    cr_assert(strstr(err.msg, "token"), "%s", err.msg);
    cr_assert_eq(rec.n_entries, 0);
    free(text);
}

Test(recording, bad_headers_are_errors)
{
    static const char *const BAD[] = {
        "", "{}\n", "[1]\n", "{\"tempest_recording\":2}\n",
        "{\"tempest_recording\":1,\"model\":{\"path\":\"m\",\"size\":1,\"fingerprint\":\"x\"},"
        "\"prompt\":\"\",\"seed\":7,\"vocab\":5}\n",
    };
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        tp_recording rec;
        tp_error err = {0};
        cr_assert_eq(tp_recording_parse(&rec, BAD[i], strlen(BAD[i]), "r", &err), TP_ERR_FORMAT,
                     "case %zu", i);
        cr_assert(err.msg[0]);
    }
}

Test(recording, replay_gives_the_recorded_distributions)
{
    int tokens[60];
    record_session(60, tokens);
    size_t len;
    char *text = slurp(REC_PATH, &len);
    tp_recording rec;
    tp_error err = {0};
    load(&rec, text, len, TP_OK, &err);
    tp_session *s = NULL;
    cr_assert_eq(tp_session_new(&s, MODEL, rec.prompt, &rec.cfg, rec.seed, &err), TP_OK);
    /* a different model (other probabilities) would be noticed */
    tp_rec_entry wrong = rec.entries[0];
    wrong.top[0].p = wrong.top[0].p > 0.5 ? 0.1 : 0.9;
    cr_assert_gt(tp_rec_mismatch(&wrong, &s->dist), TP_REC_TOLERANCE);
    int k = 0;
    for (int i = 0; i < rec.n_entries; i++) {
        const tp_rec_entry *e = &rec.entries[i];
        if (e->is_restart) {
            cr_assert_eq(tp_session_restart(s, e->prompt, e->seed, &err), TP_OK);
            continue;
        }
        cr_assert_eq(tp_session_set_config(s, &e->cfg, &err), TP_OK);
        cr_assert_leq(tp_rec_mismatch(e, &s->dist), 1e-12, "step %d", k);
        cr_assert_float_eq(s->dist.p[e->token], e->p, 1e-12);
        cr_assert_eq(tp_session_push(s, e->token, &err), TP_OK);
        k++;
    }
    cr_assert_eq(k, 60);
    tp_session_free(s);
    tp_recording_free(&rec);
    free(text);
}
