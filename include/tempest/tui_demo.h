/* tui_demo.h - recordings, replay, demo scripts and presenting in the
 * playground: the hooks tui.c calls, and what `tempest replay` and
 * `tempest export` use to run a playground from a recording.
 *
 *   record.c     --record / :record: every step, key and command to a file
 *   replay.c     steps forced from a recording, checked against it
 *   scriptrun.c  --script: the demo script's clock and instructions
 *   present.c    --present layout and the caption box
 */
#ifndef TEMPEST_TUI_DEMO_H
#define TEMPEST_TUI_DEMO_H

#include "tempest/recording.h"
#include "tempest/script.h"
#include "tempest/tui_app.h"

/* ---- hooks called by tui.c, keys.c and cmdline.c ---- */

/* After a token was drawn (a->drawn_dist holds what it was drawn from). */
void tp_demo_after_step(tp_app *a);
void tp_demo_note_key(tp_app *a, int key);
void tp_demo_note_command(tp_app *a, const char *line);
void tp_demo_note_restart(tp_app *a);
/* Once per turn of the main loop: runs the script's due instructions. */
void tp_demo_tick(tp_app *a, double now_ms);
/* The input wait, shortened so a script's timed instruction is on time. */
int tp_demo_wait_cap(const tp_app *a, int wait_ms, double now_ms);
/* --present reshapes the layout; captions are drawn over the text. */
void tp_present_layout(const tp_app *a, tp_layout *l);
void tp_demo_draw(tp_app *a);
void tp_demo_free(tp_app *a);

/* ---- setting up ---- */

/* --script FILE: parse it and attach a runner. Returns an exit status. */
int tp_demo_load_script(tp_app *a, const char *path);
/* Replay rec (taken over: the app frees it) instead of sampling. */
int tp_replay_attach(tp_app *a, tp_recording *rec);
/* The next recorded step instead of a drawn one; -1 at the end. */
int tp_replay_step(tp_app *a);
/* How many steps differed from the recording by more than the tolerance. */
int tp_replay_mismatches(const tp_app *a);
/* Steps replayed so far, of how many. */
void tp_replay_progress(const tp_app *a, int *done, int *total);
void tp_replay_free(tp_app *a);
void tp_script_run_free(tp_app *a);
void tp_record_free(tp_app *a);

/* ---- a playground without tempest's own options (tui.c) ---- */

typedef struct tp_app_setup {
    const char *model_path; /* NULL: the bundled model */
    const char *prompt;
    tp_sampler_config cfg;
    uint64_t seed;
    const char *theme;      /* NULL: default (projector with present) */
    double speed;           /* tokens per second; 0 = full speed */
    int present;
} tp_app_setup;

/* Load the model and start the session; an exit status (0 = ready), the
 * error already reported on stderr. */
int tp_app_open(tp_app *a, const tp_app_setup *s);
/* Run the full-screen playground until quit; returns the exit status. */
int tp_app_run(tp_app *a);
/* Draw one frame on the current curses screen. */
void tp_app_draw(tp_app *a);
/* Colours and attributes of the theme for the current curses screen. */
void tp_app_apply_theme(tp_app *a);
void tp_app_close(tp_app *a);

/* ---- tempest replay / export (src/cli) ---- */

/* Read and check a recording and fill setup from it (model: --model or
 * NULL for the recorded one); warnings go to stderr. An exit status. */
int tp_cli_load_recording(const char *cmd, const char *path, const char *model,
                          tp_recording *rec, tp_app_setup *setup);
int tp_cmd_replay(int argc, char **argv);
int tp_cmd_export(int argc, char **argv);

#endif
