/* knobs.h - the playground's settings as pure functions: stepping the
 * sampler knobs, describing a change, formatting the status line and parsing
 * `:` commands. No terminal here, so unit tests reach every rule.
 */
#ifndef TEMPEST_KNOBS_H
#define TEMPEST_KNOBS_H

#include <stddef.h>
#include <stdint.h>

#include "tempest/error.h"
#include "tempest/lanes.h"
#include "tempest/sampler.h"
#include "tempest/sweep.h"

#define TP_KNOB_TEMP_MAX 5.0
#define TP_KNOB_TEMP_STEP 0.05
#define TP_KNOB_TEMP_BIG_STEP 0.5
#define TP_KNOB_TOP_P_STEP 0.05
#define TP_KNOB_MIN_P_STEP 0.01
#define TP_SPEED_MAX 1000.0
#define TP_DICE_DEFAULT 100 /* samples `D` draws */
#define TP_DICE_MAX 1000000

/* Temperature moved by delta, snapped to the 0.01 grid, clamped to 0..5. */
double tp_knob_temperature(double t, double delta);
/* One rung along the ladder off, 1, 2, 3, 5, 10, 20, 40, 100, 200 (dir < 0:
 * towards off). A value between rungs moves to the neighbouring rung. */
int tp_knob_top_k(int k, int dir);
/* top-p moved by dir * 0.05 within 0.05..1 (1 = off). */
double tp_knob_top_p(double p, int dir);
/* min-p moved by dir * 0.01 within 0..1 (0 = off). */
double tp_knob_min_p(double m, int dir);
/* temp-first <-> trunc-first. */
void tp_knob_cycle_order(tp_sampler_config *cfg);

/* "T=0.80  top-k=40  top-p=0.95  min-p=off  order=temp-first" */
void tp_knobs_format(const tp_sampler_config *cfg, char *out, size_t cap);
/* Name the first setting that differs from a to b, e.g. "T 0.80→1.50"
 * (ascii: "->"). Returns 0 (and writes "") when nothing differs. */
int tp_knobs_describe_change(const tp_sampler_config *a, const tp_sampler_config *b,
                             int ascii, char *out, size_t cap);

/* Everything a key or a `:` command can ask the playground to do. */
typedef enum tp_action {
    TP_ACT_NONE,
    TP_ACT_TEMP_DOWN, TP_ACT_TEMP_UP, TP_ACT_TEMP_DOWN_BIG, TP_ACT_TEMP_UP_BIG,
    TP_ACT_GREEDY, TP_ACT_TOPK_DOWN, TP_ACT_TOPK_UP, TP_ACT_TOPP_DOWN, TP_ACT_TOPP_UP,
    TP_ACT_MINP_DOWN, TP_ACT_MINP_UP, TP_ACT_ORDER,
    TP_ACT_PAUSE, TP_ACT_STEP, TP_ACT_FASTER, TP_ACT_SLOWER, TP_ACT_FULL_SPEED,
    TP_ACT_RESTART, TP_ACT_RESTART_NEW_SEED, TP_ACT_EDIT_PROMPT, TP_ACT_COLOR_MODE,
    TP_ACT_COMMAND_LINE, TP_ACT_HELP, TP_ACT_QUIT, TP_ACT_REDRAW,
    TP_ACT_LANE_1, TP_ACT_LANE_2, TP_ACT_LANE_3, TP_ACT_LANE_4, /* select a lane */
    /* exploring (tui_explore.h) */
    TP_ACT_FOCUS, TP_ACT_LIVE, TP_ACT_MATH, TP_ACT_STAGES, TP_ACT_DICE, TP_ACT_DICE_SAMPLE,
    TP_ACT_QUIZ, TP_ACT_LSTM, TP_ACT_BRANCHES,
    /* only from commands: they carry an argument */
    TP_ACT_SET_CONFIG, TP_ACT_SET_SEED, TP_ACT_SET_PROMPT, TP_ACT_SET_MODEL,
    TP_ACT_SET_THEME, TP_ACT_SET_SPEED, TP_ACT_SAVE, TP_ACT_SHOW, TP_ACT_SET_LENGTH,
    TP_ACT_SWEEP, TP_ACT_RECORD, TP_ACT_LANES,
    TP_N_ACTIONS
} tp_action;

typedef struct tp_command {
    tp_action action;
    tp_sampler_config cfg; /* TP_ACT_SET_CONFIG: the whole new config */
    uint64_t seed;         /* TP_ACT_SET_SEED */
    double speed;          /* TP_ACT_SET_SPEED: tokens/s, 0 = full speed */
    long length;           /* TP_ACT_SET_LENGTH; TP_ACT_DICE_SAMPLE: how many */
    char text[1024];       /* prompt, path or theme name */
    tp_sweep_request sweep; /* TP_ACT_SWEEP: parsed here, run by the front end */
    tp_lane_request lanes;  /* TP_ACT_LANES (`:lanes`, `:butterfly`); n = 0: off */
} tp_command;

typedef struct tp_command_info {
    const char *name;
    const char *args;
    const char *help;
} tp_command_info;

/* The commands, for completion and help; ends with a NULL name. */
extern const tp_command_info TP_COMMANDS[];

/* Parse one command line (a leading ':' is allowed) against the current
 * config. On error out->action is TP_ACT_NONE and err names the problem; the
 * caller changes nothing. An empty line is TP_ACT_NONE with TP_OK. */
tp_status tp_command_parse(const char *line, const tp_sampler_config *current,
                           tp_command *out, tp_error *err);

/* Turn "\n" and "\t" typed in a one-line editor into the characters, and
 * back. out gets at most cap - 1 bytes. */
void tp_unescape_line(const char *in, char *out, size_t cap);
void tp_escape_line(const char *in, char *out, size_t cap);

#endif
