/* tui_app.h - the playground's state, shared by its components. */
#ifndef TEMPEST_TUI_APP_H
#define TEMPEST_TUI_APP_H

#include <stdint.h>

#include "tempest/knobs.h"
#include "tempest/session.h"
#include "tempest/tui_layout.h"
#include "tempest/tui_theme.h"
#include "tempest/view.h"

#define TP_DEFAULT_SPEED 20.0

typedef enum tp_color_mode { TP_COLOR_BY_PROB, TP_COLOR_BY_RANK, TP_COLOR_PLAIN } tp_color_mode;
typedef enum tp_cmdline_mode { TP_CMDLINE_CLOSED, TP_CMDLINE_COMMAND, TP_CMDLINE_PROMPT } tp_cmdline_mode;

typedef struct tp_app {
    tp_model *model;
    char *model_path;
    tp_session *session;
    tp_dist drawn_dist;  /* the distribution the newest token was drawn from */
    int show_drawn;      /* histogram shows drawn_dist (else the live one) */
    int drawn_id;
    tp_hist_view hist;
    tp_theme theme;
    int attrs[TP_N_ROLES];
    int use_color, ascii;
    double speed;        /* tokens per second; 0 = full speed */
    double last_speed;   /* to come back from full speed */
    int paused;
    double saved_temperature; /* for the greedy toggle */
    tp_color_mode color_mode;
    tp_cmdline_mode cmdline;
    int show_help;       /* 0: closed, else the help page shown (from 1) */
    int help_more;       /* the help has a page after this one */
    int quit;
    char message[256];
    int message_is_error;
    char last_change[128];
    double rate;         /* measured tokens per second */
    uint64_t seed_counter;
    tp_layout layout;
    int dirty;
    struct tp_sweep_job *sweep; /* `:sweep`, running or showing its charts */
    struct tp_lanes_ui *lanes;  /* `--lanes`, `:lanes`, `:butterfly`; NULL: one text */
    int divergence_mark;        /* text pane: 1 + the step where this lane first
                                 * differs from another; 0: none */
    struct tp_explore *explore; /* time travel, branches, overlays (tui_explore.h) */
    int metrics_steps;          /* the step the live text metrics are for */
    int history_max;            /* generated steps kept for time travel; past it
                                 * the older half is forgotten ($TEMPEST_HISTORY) */
    char metrics_line[160];
    /* recordings, replay, scripts and presenting: tui_demo.h */
    struct tp_app_recorder *recorder; /* --record / :record, or NULL */
    struct tp_replay *replay;       /* `tempest replay`: steps come from a file */
    struct tp_script_run *script;   /* --script, or NULL */
    int present;                    /* --present */
    char caption[512];              /* a script's on-screen caption, or "" */
} tp_app;

/* Steps kept by default: about 3 MB of history (60 bytes a step), so the
 * playground stays within its model's size + 16 MB however long it runs. */
#define TP_HISTORY_DEFAULT 50000
#define TP_HISTORY_MIN 2048
#define TP_HISTORY_MAX 10000000

/* The step number of the run (steps forgotten included) of s->steps[i]. */
#define TP_RUN_STEP(s, i) ((s)->n_forgotten + (long)(i))

/* Show a message (or an error) in the message line. */
void tp_app_message(tp_app *a, int is_error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Apply a new sampler config now; on a bad value the message says why. */
int tp_app_set_config(tp_app *a, const tp_sampler_config *cfg);
/* Restart from prompt (NULL: the same) with seed. */
int tp_app_restart(tp_app *a, const char *prompt, uint64_t seed);
/* Draw one token, keeping the distribution it came from for the histogram. */
int tp_app_step(tp_app *a);
int tp_app_load_model(tp_app *a, const char *path);
int tp_app_set_theme(tp_app *a, const char *name);
int tp_app_save(tp_app *a, const char *path);
/* Start recording to path ("off": stop); the message says what happened. */
int tp_app_record(tp_app *a, const char *path);

#endif
