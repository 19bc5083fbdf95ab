/* tui.c - the playground: options, terminal setup and teardown, signals and
 * the main loop that interleaves generation, keys and throttled redraws. */
#include <curses.h>
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tempest/atomic_file.h"
#include "tempest/cli.h"
#include "tempest/tui.h"
#include "tempest/tui_cmdline.h"
#include "tempest/tui_demo.h"
#include "tempest/tui_explore.h"
#include "tempest/tui_keys.h"
#include "tempest/tui_lanes.h"
#include "tempest/tui_sched.h"
#include "tempest/tui_panes.h"
#include "tempest/tui_sweep.h"


static volatile sig_atomic_t got_signal;

static const char HELP[] =
    "Usage: tempest [--prompt TEXT] [--theme NAME|PATH] [--speed N] [options]\n"
    "The playground: the model writes on the left, the next-token distribution is\n"
    "drawn on the right, and keys turn the sampling knobs while it writes.\n\n"
    "  --prompt TEXT          text to start from (\\n in the editor is a newline)\n"
    "  --theme NAME|PATH      default, light, mono, projector, or an INI file\n"
    "                         (NO_COLOR in the environment turns colour off)\n"
    "  --speed N|max          tokens per second, 1 to 1000 (default 20), or max\n"
    "  --record FILE          write every step, key and command to FILE (JSON\n"
    "                         Lines; 'tempest replay FILE' plays it back)\n"
    "  --script FILE          run a demo hands-free: timed settings, pauses and\n"
    "                         captions (see 'man tempest', DEMO SCRIPTS)\n"
    "  --present              for a room: larger histogram, less clutter, the\n"
    "                         projector theme (unless --theme)\n"
    "  --lanes SPECS          2 to 4 lanes side by side with the same random numbers,\n"
    "                         each T[/kN][/pX][/mX], e.g. 0.2,0.8/p0.9,1.5\n"
    "  --butterfly T [EPS]    two lanes at T and T+EPS (default 0.01) and where they\n"
    "                         split: the step, both tokens, the margin that decided it\n\n";

enum {
    OPT_PROMPT = TP_OPT_FIRST_OWN, OPT_THEME, OPT_SPEED, OPT_RECORD, OPT_SCRIPT, OPT_PRESENT,
    OPT_LANES, OPT_BUTTERFLY
};

void tp_tui_print_help(FILE *out)
{
    fputs(HELP, out);
    fputs(TP_COMMON_HELP, out);
    fputs("\nKeys:\n", out);
    char keys[64];
    for (int i = 0; i < TP_ACTION_HELP_LEN; i++) {
        tp_key_labels_padded(TP_ACTION_HELP[i].action, 16, keys, sizeof keys);
        fprintf(out, "  %s %s\n", keys, TP_ACTION_HELP[i].help);
    }
    fputs("\nCommands (after ':'):\n", out);
    for (int i = 0; TP_COMMANDS[i].name; i++)
        fprintf(out, "  %-6s %-28s %s\n", TP_COMMANDS[i].name, TP_COMMANDS[i].args,
                TP_COMMANDS[i].help);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}
/* ---- what keys and commands call (declared in tui_app.h) ---- */

void tp_app_message(tp_app *a, int is_error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->message, sizeof a->message, fmt, ap);
    va_end(ap);
    a->message_is_error = is_error;
    a->dirty = 1;
}

int tp_app_set_config(tp_app *a, const tp_sampler_config *cfg)
{
    tp_error err = {0};
    tp_sampler_config before = a->session->cfg;
    if (tp_session_set_config(a->session, cfg, &err)) {
        tp_app_message(a, 1, "%s", err.msg);
        return -1;
    }
    char what[96];
    if (tp_knobs_describe_change(&before, cfg, a->ascii, what, sizeof what))
        snprintf(a->last_change, sizeof a->last_change, "%s at step %ld", what,
                 TP_RUN_STEP(a->session, a->session->n_steps));
    a->message[0] = '\0';
    a->show_drawn = 0; /* show the recomputed next-token distribution now */
    a->dirty = 1;
    return 0;
}

int tp_app_restart(tp_app *a, const char *prompt, uint64_t seed)
{
    if (a->lanes)
        return tp_lanes_restart(a, prompt, seed);
    tp_error err = {0};
    if (tp_session_restart(a->session, prompt, seed, &err)) {
        tp_app_message(a, 1, "%s", err.msg);
        return -1;
    }
    a->show_drawn = 0;
    a->last_change[0] = '\0';
    tp_explore_reset(a);
    tp_app_message(a, 0, "restarted, seed %llu", (unsigned long long)seed);
    tp_demo_note_restart(a);
    return 0;
}

int tp_app_step(tp_app *a)
{
    if (a->replay)
        return tp_replay_step(a);
    if (a->lanes)
        return tp_lanes_step(a);
    tp_error err = {0};
    tp_dist_copy(&a->drawn_dist, &a->session->dist);
    int tok = tp_session_step(a->session, &err);
    if (tok < 0) {
        tp_app_message(a, 1, "%s", err.msg);
        a->paused = 1;
        return -1;
    }
    a->drawn_id = tok;
    a->show_drawn = 1;
    a->dirty = 1;
    tp_demo_after_step(a);
    tp_explore_after_step(a);
    return 0;
}

static int make_views(tp_app *a, tp_error *err)
{
    tp_hist_view_free(&a->hist);
    tp_dist_free(&a->drawn_dist);
    if (tp_hist_view_init(&a->hist, a->model->n_vocab, err) ||
        tp_dist_init(&a->drawn_dist, a->model->n_vocab, err))
        return -1;
    a->show_drawn = 0;
    return 0;
}

int tp_app_load_model(tp_app *a, const char *path)
{
    tp_error err = {0};
    tp_model *m = NULL;
    tp_session *s = NULL;
    char *copy = strdup(path);
    if (!copy || tp_model_load(&m, path, &err) ||
        tp_session_new(&s, m, a->session->prompt, &a->session->cfg, a->session->seed, &err)) {
        tp_app_message(a, 1, "%s", copy ? err.msg : "out of memory");
        free(copy);
        tp_model_free(m);
        return -1;
    }
    tp_sweep_stop(a); /* it reads the old model */
    tp_lanes_stop(a); /* so do the lanes; a->session is the selected one now */
    tp_session_free(a->session);
    tp_model_free(a->model);
    free(a->model_path);
    a->session = s;
    a->model = m;
    a->model_path = copy;
    if (make_views(a, &err)) {
        a->quit = 1; /* cannot draw anything without the views */
        tp_app_message(a, 1, "%s", err.msg);
        return -1;
    }
    tp_explore_reset(a);
    tp_app_message(a, 0, "loaded %s", path);
    return 0;
}

static int color_wanted(void)
{
    const char *no = getenv("NO_COLOR");
    return has_colors() && !(no && *no);
}

void tp_app_apply_theme(tp_app *a)
{
    a->use_color = color_wanted();
    tp_theme_apply(&a->theme, a->use_color, a->attrs);
    bkgdset((chtype)' ' | (chtype)a->attrs[TP_ROLE_NORMAL]);
    clearok(curscr, TRUE);
}

int tp_app_set_theme(tp_app *a, const char *name)
{
    tp_error err = {0};
    tp_theme t;
    if (tp_theme_load(&t, name, &err)) {
        tp_app_message(a, 1, "%s", err.msg);
        return -1;
    }
    a->theme = t;
    tp_app_apply_theme(a);
    tp_app_message(a, 0, "theme %s", t.name);
    return 0;
}

static void write_transcript(const tp_app *a, FILE *f)
{
    const tp_session *s = a->session;
    const tp_vocab *v = a->model->vocab;
    char knobs[160], what[96];
    fprintf(f, "# tempest %s transcript\n# model: %s\n# seed: %llu\n", TEMPEST_VERSION,
            a->model_path, (unsigned long long)s->seed);
    tp_knobs_format(s->n_steps ? tp_session_step_config(s, 0) : &s->cfg, knobs, sizeof knobs);
    fprintf(f, "# settings: %s\n", knobs);
    for (int i = 1; i < s->n_steps; i++)
        if (tp_knobs_describe_change(tp_session_step_config(s, i - 1), tp_session_step_config(s, i), 1, what,
                                     sizeof what)) {
            tp_knobs_format(tp_session_step_config(s, i), knobs, sizeof knobs);
            fprintf(f, "# step %ld: %s\n", TP_RUN_STEP(s, i), knobs);
        }
    if (s->n_forgotten) /* the history window */
        fprintf(f, "# steps before %ld: forgotten (the playground keeps the last %d)\n",
                s->n_forgotten, a->history_max);
    fprintf(f, "# steps: %ld\n", TP_RUN_STEP(s, s->n_steps));
    int prev = -1;
    for (int i = 0; i < s->n_tokens; i++) {
        fputs(tp_vocab_separator(v, prev, s->tokens[i]), f);
        fputs(tp_vocab_token(v, s->tokens[i]), f);
        prev = s->tokens[i];
    }
    fputc('\n', f);
}

/* Atomic (tp_atomic_file): a full disk or a read-only directory gives an
 * error and leaves any earlier transcript of that name intact. */
int tp_app_save(tp_app *a, const char *path)
{
    tp_error err = {0};
    tp_atomic_file af;
    if (tp_atomic_open(&af, path, &err) == TP_OK) {
        write_transcript(a, af.f);
        tp_atomic_commit(&af, &err);
    }
    if (err.code) {
        tp_app_message(a, 1, "%s", err.msg);
        return -1;
    }
    tp_app_message(a, 0, "saved %d tokens to %s", a->session->n_steps, path);
    return 0;
}

/* ---- terminal ---- */

static void on_signal(int sig)
{
    got_signal = sig;
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* no SA_RESTART: the input wait returns and the loop sees the flag */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGQUIT, &sa, NULL);
}

static void restore_terminal(void)
{
    if (!isendwin())
        endwin();
}

static void start_curses(tp_app *a)
{
    initscr();
    raw(); /* Ctrl-C arrives as a key: quit here, cancel in the editor */
    noecho();
    nonl();
    intrflush(stdscr, FALSE);
    keypad(stdscr, TRUE);
    curs_set(0);
    set_escdelay(25);
    if (has_colors()) {
        start_color();
        use_default_colors();
    }
    atexit(restore_terminal);
    tp_app_apply_theme(a);
}

static void draw_too_small(const tp_app *a)
{
    erase();
    char msg[96];
    snprintf(msg, sizeof msg, "terminal too small: %dx%d, need %dx%d", COLS, LINES,
             TP_MIN_COLS, TP_MIN_LINES);
    int len = (int)strlen(msg);
    mvaddnstr(LINES / 2, COLS > len ? (COLS - len) / 2 : 0, msg, COLS);
    (void)a;
}

static void draw_divider(const tp_app *a)
{
    const tp_layout *l = &a->layout;
    if (l->stacked) {
        attron(a->attrs[TP_ROLE_BORDER]);
        mvhline(l->hist.y - 1 >= l->text.y ? l->hist.y - 1 : l->hist.y, 0, ACS_HLINE, 0);
        attroff(a->attrs[TP_ROLE_BORDER]);
        return;
    }
    attron(a->attrs[TP_ROLE_BORDER]);
    mvvline(l->text.y, l->text.w, ACS_VLINE, l->text.h);
    attroff(a->attrs[TP_ROLE_BORDER]);
}

static void draw(tp_app *a)
{
    tp_layout_compute(&a->layout, LINES, COLS);
    tp_present_layout(a, &a->layout);
    if (a->layout.too_small) {
        draw_too_small(a);
        refresh();
        return;
    }
    erase();
    const tp_layout *l = &a->layout;
    tp_titlebar_draw(a, l->title);
    if (a->lanes) {
        tp_lanes_draw(a);
    } else if (l->stacked) {
        tp_textpane_draw(a, l->text);
        tp_rect hist = l->hist;
        hist.y++;
        hist.h--;
        draw_divider(a);
        tp_histogram_draw(a, hist);
    } else {
        tp_textpane_draw(a, l->text);
        draw_divider(a);
        tp_histogram_draw(a, l->hist);
    }
    tp_metricsline_draw(a, l->metrics);
    tp_statusbar_draw(a, l->status);
    if (a->show_help)
        tp_help_draw(a, LINES, COLS);
    else if (tp_sweep_showing(a))
        tp_sweep_draw(a, LINES, COLS);
    else {
        tp_demo_draw(a);
        tp_explore_draw(a, LINES, COLS);
    }
    tp_message_draw(a, l->message); /* last: it owns the cursor */
    refresh();
}

/* ---- the loop ---- */

typedef struct clock_state {
    tp_sched sched;
    double rate_since;
    long rate_steps;
} clock_state;

/* A key waiting in the terminal: checked between tokens at full speed so a
 * press ends the slice at once (one poll costs far less than a token). */
static int input_pending(void)
{
    struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
    return poll(&p, 1, 0) > 0;
}

static void generate_full_speed(tp_app *a)
{
    double start = now_ms();
    while (tp_app_step(a) == 0 && !input_pending() && !tp_sched_slice_over(start, now_ms()))
        ;
}

static void generate(tp_app *a, clock_state *c, double now)
{
    if (a->paused || a->quit)
        return;
    long before = TP_RUN_STEP(a->session, a->session->n_steps); /* forgetting keeps it */
    if (a->speed <= 0) {
        generate_full_speed(a);
    } else {
        double interval = 1000.0 / a->speed;
        if (now - c->sched.next_token > 1000.0)
            c->sched.next_token = now; /* fell far behind (e.g. after a pause): no burst */
        while (c->sched.next_token <= now && !a->paused) {
            if (tp_app_step(a) != 0)
                break;
            c->sched.next_token += interval;
        }
    }
    c->rate_steps += TP_RUN_STEP(a->session, a->session->n_steps) - before;
}

static void measure_rate(tp_app *a, clock_state *c, double now)
{
    double span = now - c->rate_since;
    if (span < 500)
        return;
    a->rate = c->rate_steps * 1000.0 / span;
    c->rate_steps = 0;
    c->rate_since = now;
    a->dirty = 1;
}

static int wait_ms(const tp_app *a, const clock_state *c, double now)
{
    tp_sched_state st = {.paused = a->paused, .full_speed = a->speed <= 0,
                         .dirty = a->dirty, .sweep = a->sweep != NULL};
    return tp_sched_wait_ms(&c->sched, &st, now);
}

static void handle_key(tp_app *a, int ch)
{
    if (ch == KEY_RESIZE) {
        a->dirty = 1;
        return;
    }
    if (a->cmdline != TP_CMDLINE_CLOSED) {
        if (ch >= 0 && ch < 256)
            tp_cmdline_feed(a, ch);
        return;
    }
    if (a->show_help) { /* space turns the page, any other key closes */
        a->show_help = ch == ' ' && a->help_more ? a->show_help + 1 : 0;
        a->dirty = 1;
        return;
    }
    if (tp_sweep_showing(a)) {
        tp_sweep_dismiss(a);
        return;
    }
    if (a->layout.too_small && ch != 'q' && ch != 3)
        return;
    if (tp_explore_key(a, ch))
        return;
    tp_action act = tp_key_action(ch);
    if (act != TP_ACT_NONE) {
        tp_demo_note_key(a, ch);
        if (a->message_is_error)
            a->message[0] = '\0';
        tp_app_do(a, act);
    }
}

/* Everything typed so far (a paste or key repeat can queue several), so one
 * redraw shows them all; bounded so a flood cannot stall generation. */
static void handle_keys(tp_app *a, int ch)
{
    timeout(0);
    for (int n = 0; ch != ERR && n < 64 && !a->quit; n++) {
        handle_key(a, ch);
        if (n < 63)
            ch = getch();
    }
}

static void draw_if(tp_app *a, clock_state *c, int urgent)
{
    double now = now_ms();
    if (!tp_sched_should_draw(&c->sched, a->dirty, urgent, now))
        return;
    draw(a);
    a->dirty = 0;
    c->sched.last_draw = now;
}

static void run_loop(tp_app *a)
{
    clock_state c = {0};
    double now = now_ms();
    c.sched.next_token = c.rate_since = now;
    a->dirty = 1;
    draw_if(a, &c, 1); /* the first frame before any token: launch looks instant */
    while (!a->quit && !got_signal) {
        now = now_ms();
        tp_demo_tick(a, now);
        generate(a, &c, now); /* also while a line is edited: the demo goes on */
        now = now_ms();
        measure_rate(a, &c, now);
        tp_sweep_poll(a);
        draw_if(a, &c, 0);
        now = now_ms();
        timeout(tp_demo_wait_cap(a, wait_ms(a, &c, now), now));
        int ch = getch();
        if (ch == ERR)
            continue;
        handle_keys(a, ch);
        draw_if(a, &c, 1); /* what a key changed shows now, not at the next frame */
    }
}

/* ---- setup ---- */

typedef struct tui_options {
    tp_cli_common common;
    const char *prompt;
    const char *theme;
    double speed;
    const char *record, *script;
    int present;
    const char *lanes, *butterfly; /* the last of them given wins */
    tp_lane_request lane_req;
} tui_options;

static int parse_speed(const char *arg, double *out, tp_error *err)
{
    if (strcmp(arg, "max") == 0 || strcmp(arg, "full") == 0) {
        *out = 0;
        return 0;
    }
    return tp_parse_double("--speed", arg, 1, TP_SPEED_MAX, out, err) ? -1 : 0;
}

/* The playground's own options, from the command line or the config file. */
static tp_status tui_option(void *ctx, int opt, const char *arg, tp_error *err)
{
    tui_options *o = ctx;
    if (opt == OPT_PROMPT)
        o->prompt = arg;
    else if (opt == OPT_THEME)
        o->theme = arg;
    else if (opt == OPT_RECORD)
        o->record = arg;
    else if (opt == OPT_SCRIPT)
        o->script = arg;
    else if (opt == OPT_PRESENT)
        o->present = !arg || !(strcmp(arg, "0") == 0 || strcmp(arg, "false") == 0 ||
                               strcmp(arg, "no") == 0);
    else if (opt == OPT_LANES || opt == OPT_BUTTERFLY)
        o->lanes = arg, o->butterfly = opt == OPT_BUTTERFLY ? arg : NULL;
    else if (opt == OPT_SPEED && parse_speed(arg, &o->speed, err))
        return err->code;
    return TP_OK;
}

/* 1: run, 0: done (help/version printed), < 0: exit status negated. */
static int parse_options(int argc, char **argv, tui_options *o)
{
    static const struct option opts[] = {
        TP_COMMON_LONG_OPTIONS,
        {"prompt", required_argument, 0, OPT_PROMPT},
        {"theme", required_argument, 0, OPT_THEME},
        {"speed", required_argument, 0, OPT_SPEED},
        {"record", required_argument, 0, OPT_RECORD},
        {"script", required_argument, 0, OPT_SCRIPT},
        {"present", no_argument, 0, OPT_PRESENT},
        {"lanes", required_argument, 0, OPT_LANES},
        {"butterfly", required_argument, 0, OPT_BUTTERFLY},
        {0, 0, 0, 0},
    };
    tp_error err = {0};
    int opt;
    if (tp_cli_apply_config(&o->common, argc, argv, opts, tui_option, o, &err))
        return -tp_cli_report(NULL, &err);
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int r = tp_cli_common_option(&o->common, opt, optarg, &err);
        if (r < 0)
            return -tp_cli_report(NULL, &err);
        if (r > 0)
            continue;
        if (opt == OPT_PROMPT || opt == OPT_THEME || opt == OPT_SPEED || opt == OPT_RECORD ||
            opt == OPT_SCRIPT || opt == OPT_PRESENT || opt == OPT_LANES ||
            opt == OPT_BUTTERFLY) {
            if (tui_option(o, opt, optarg, &err))
                return -tp_cli_report(NULL, &err);
        } else if (opt == TP_OPT_HELP) {
            tp_tui_print_help(stdout);
            return 0;
        } else if (opt == TP_OPT_VERSION) {
            printf("tempest %s\n", TEMPEST_VERSION);
            return 0;
        } else
            return -tp_cli_bad_option(NULL, argc, argv);
    }
    /* --butterfly T EPS: EPS is the one operand */
    const char *eps = o->butterfly && optind == argc - 1 ? argv[optind++] : NULL;
    if (optind < argc)
        return -tp_cli_usage_error(NULL, "unexpected argument '%s'", argv[optind]);
    if (o->lanes && tp_lanes_option(o->butterfly ? "--butterfly" : "--lanes", o->lanes, eps,
                                    &o->lane_req, &err))
        return -tp_cli_report(NULL, &err);
    return 1;
}

static int terminal_usable(void)
{
    const char *term = getenv("TERM");
    if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO) || !term || !*term ||
        strcmp(term, "dumb") == 0) {
        fputs("tempest: the playground needs a full-screen terminal (stdin and stdout a "
              "tty, TERM not dumb); use 'tempest generate' for plain text\n", stderr);
        return 0;
    }
    return 1;
}

void tp_app_close(tp_app *a)
{
    tp_demo_free(a);
    tp_sweep_stop(a);
    tp_lanes_stop(a);
    tp_explore_close(a);
    tp_hist_view_free(&a->hist);
    tp_dist_free(&a->drawn_dist);
    tp_session_free(a->session);
    tp_model_free(a->model);
    free(a->model_path);
}

int tp_app_open(tp_app *a, const tp_app_setup *o)
{
    tp_error err = {0};
    a->model_path = o->model_path ? strdup(o->model_path) : tp_default_model_path();
    if (!a->model_path)
        return tp_fail(&err, TP_ERR_NOMEM, "out of memory"), tp_cli_report(NULL, &err);
    if (tp_model_load(&a->model, a->model_path, &err) ||
        tp_session_new(&a->session, a->model, o->prompt, &o->cfg, o->seed, &err) ||
        make_views(a, &err))
        return tp_cli_report(NULL, &err);
    const char *fallback = o->present ? "projector" : "default";
    if (tp_explore_open(a))
        return tp_fail(&err, TP_ERR_NOMEM, "out of memory"), tp_cli_report(NULL, &err);
    if (o->theme && tp_theme_load(&a->theme, o->theme, &err))
        return tp_cli_report(NULL, &err);
    if (!o->theme && tp_theme_load(&a->theme, fallback, &err))
        tp_theme_builtin(&a->theme); /* no theme files installed: the built-in table */
    a->speed = o->speed;
    a->last_speed = o->speed > 0 ? o->speed : TP_DEFAULT_SPEED;
    a->saved_temperature = o->cfg.temperature > 0 ? o->cfg.temperature : 0.8;
    a->present = o->present;
    long keep = TP_HISTORY_DEFAULT;
    const char *h = getenv("TEMPEST_HISTORY");
    if (h && *h && tp_parse_long("TEMPEST_HISTORY", h, TP_HISTORY_MIN, TP_HISTORY_MAX, &keep, &err))
        return tp_cli_report(NULL, &err);
    a->history_max = (int)keep;
    return 0;
}

static int open_app(tp_app *a, const tui_options *o)
{
    tp_app_setup s = {.model_path = o->common.model_path, .prompt = o->prompt,
                      .cfg = o->common.cfg, .seed = o->common.seed, .theme = o->theme,
                      .speed = o->speed, .present = o->present};
    int status = tp_app_open(a, &s);
    if (!status && o->lane_req.n)
        tp_lanes_start(a, &o->lane_req);
    if (!status && o->script)
        status = tp_demo_load_script(a, o->script);
    if (!status && o->record && tp_app_record(a, o->record))
        status = (fprintf(stderr, "tempest: %s\n", a->message), TP_EXIT_RUNTIME);
    return status;
}

void tp_app_draw(tp_app *a)
{
    draw(a);
}

int tp_app_run(tp_app *a)
{
    if (!terminal_usable())
        return TP_EXIT_USAGE;
    a->ascii = strcmp(nl_langinfo(CODESET), "UTF-8") != 0;
    install_signals();
    start_curses(a);
    tp_cmdline_init(a);
    run_loop(a);
    tp_cmdline_shutdown();
    restore_terminal();
    if (got_signal == SIGINT || got_signal == SIGTERM || got_signal == SIGHUP)
        return 128 + got_signal;
    return TP_EXIT_OK;
}

int tp_tui_main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    tui_options o = {.prompt = "", .speed = TP_DEFAULT_SPEED};
    tp_cli_common_init(&o.common);
    int r = parse_options(argc, argv, &o);
    if (r <= 0)
        return -r;
    if (!terminal_usable())
        return TP_EXIT_USAGE;
    tp_app a = {0};
    int status = open_app(&a, &o);
    if (!status)
        status = tp_app_run(&a);
    tp_app_close(&a);
    return status;
}
