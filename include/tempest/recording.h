/* recording.h - a playground session as JSON Lines, written and read back.
 *
 * Line 1 is the header: {"tempest_recording":1, "model":{"path","size",
 * "fingerprint"}, "prompt", "seed" (a string: JSON numbers lose 64-bit
 * seeds), "vocab", "settings"}. Every later line is one entry:
 *   a step     {"step", "token", "text", "p", "entropy", "settings",
 *               "top":[[id, p], ...], "events":["key T", "cmd temp 1.5"]}
 *   a restart  {"restart":{"prompt", "seed"}}
 * Each line is built in memory, written with one call and flushed, so a
 * crash leaves a file whose whole lines are all valid. The reader treats the
 * file as untrusted: every value is type- and range-checked; a bad or cut
 * last line is dropped with a warning, any other bad line is an error that
 * names it.
 */
#ifndef TEMPEST_RECORDING_H
#define TEMPEST_RECORDING_H

#include <stddef.h>
#include <stdint.h>

#include "tempest/error.h"
#include "tempest/sampler.h"

#define TP_RECORDING_VERSION 1
#define TP_REC_TOP 10          /* candidates kept per step */
#define TP_REC_FINGERPRINT_LEN 16
#define TP_REC_MAX_LINE (1 << 20)
#define TP_REC_TOLERANCE 1e-4  /* |p replayed - p recorded| still "the same" */

typedef struct tp_rec_candidate {
    int id;
    double p;
} tp_rec_candidate;

typedef struct tp_rec_entry {
    int is_restart;
    /* a step */
    int step; /* index since the last restart */
    int token;
    double p;
    tp_sampler_config cfg;
    int n_top;
    tp_rec_candidate top[TP_REC_TOP];
    char *events; /* key events and commands since the previous step, one per
                   * line; NULL when none */
    /* a restart */
    char *prompt;
    uint64_t seed;
} tp_rec_entry;

typedef struct tp_recording {
    int version;
    char *model_path;
    long long model_size;
    char fingerprint[TP_REC_FINGERPRINT_LEN + 1];
    char *prompt;
    uint64_t seed;
    int n_vocab;
    tp_sampler_config cfg;
    tp_rec_entry *entries;
    int n_entries, cap_entries;
    int n_steps;
    char warning[TP_ERROR_MSG_MAX]; /* "" or why the tail was dropped */
} tp_recording;

/* Parse a whole recording; name (the file) prefixes messages. On error the
 * recording is left empty. */
tp_status tp_recording_parse(tp_recording *rec, const char *data, size_t len, const char *name,
                             tp_error *err);
void tp_recording_free(tp_recording *rec);

/* How far d's probabilities are from what the entry recorded: the largest
 * |p| difference over the recorded top candidates (0 for a restart). */
double tp_rec_mismatch(const tp_rec_entry *e, const tp_dist *d);

/* A cheap identity of a file: FNV-1a over its size and its first and last
 * 64 KiB, as 16 hex digits. */
tp_status tp_file_fingerprint(const char *path, long long *size,
                              char out[TP_REC_FINGERPRINT_LEN + 1], tp_error *err);

/* ---- writing ---- */

typedef struct tp_recorder tp_recorder;

typedef struct tp_rec_header {
    const char *model_path;
    const char *prompt;
    uint64_t seed;
    int n_vocab;
    const tp_sampler_config *cfg;
} tp_rec_header;

/* Create (truncate) path and write the header. */
tp_status tp_recorder_open(tp_recorder **out, const char *path, const tp_rec_header *h,
                           tp_error *err);
/* Remember a key event or command for the next step line. */
tp_status tp_recorder_event(tp_recorder *r, const char *event, tp_error *err);
/* One step: the token drawn (text is its vocabulary string), the settings in
 * force and the distribution it was drawn from. */
tp_status tp_recorder_step(tp_recorder *r, int step, int token, const char *text,
                           const tp_sampler_config *cfg, const tp_dist *from, tp_error *err);
tp_status tp_recorder_restart(tp_recorder *r, const char *prompt, uint64_t seed,
                              tp_error *err);
const char *tp_recorder_path(const tp_recorder *r);
/* Stop: the steps, written to PATH.partial as they came, become PATH (fsync,
 * rename). After a failed write PATH.partial is kept and PATH left as it
 * was; the error says so. Frees r. */
tp_status tp_recorder_finish(tp_recorder *r, tp_error *err);
/* tp_recorder_finish without the error; NULL is fine. */
void tp_recorder_close(tp_recorder *r);

#endif
