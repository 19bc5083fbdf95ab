/* cmdline.c - GNU readline's callback interface inside the message line.
 *
 * ncurses owns the terminal: readline never touches termios or signals, it
 * gets bytes from the main loop one at a time and draws through
 * redisplay(). Readline's callbacks carry no user pointer, hence the one
 * static app pointer of this module.
 */
#include <curses.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <wchar.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "tempest/tui_cmdline.h"
#include "tempest/tui_demo.h"
#include "tempest/tui_keys.h"
#include "tempest/tui_panes.h"

#define HISTORY_MAX 500

static tp_app *app;
static int pending_byte = -1;
static char *accepted;  /* the line readline handed over, run by the main loop */
static int line_done;
static char *history_file;
static FILE *devnull;

static int get_byte(FILE *f)
{
    (void)f;
    int c = pending_byte;
    pending_byte = -1;
    return c < 0 ? EOF : c;
}

static int byte_waiting(void)
{
    return pending_byte >= 0;
}

static void on_line(char *line)
{
    free(accepted);
    accepted = line;
    line_done = 1;
    /* keep readline from redrawing the prompt after the line ends */
    rl_callback_handler_remove();
}

static void redisplay(void)
{
    if (app && app->cmdline != TP_CMDLINE_CLOSED) {
        tp_message_draw(app, app->layout.message);
        refresh();
    }
}

/* Matches go to the message line, not to readline's stdout listing. */
static void show_matches(char **matches, int n, int longest)
{
    (void)longest;
    char line[512];
    size_t o = 0;
    for (int i = 1; i <= n && o + 2 < sizeof line; i++)
        o += (size_t)snprintf(line + o, sizeof line - o, "%s ", matches[i]);
    tp_app_message(app, 0, "%s", line);
}

static char *command_generator(const char *text, int state)
{
    static int i;
    static size_t len;
    if (!state) {
        i = 0;
        len = strlen(text);
    }
    while (TP_COMMANDS[i].name) {
        const char *name = TP_COMMANDS[i++].name;
        if (strncmp(name, text, len) == 0)
            return strdup(name);
    }
    return NULL;
}

static char *theme_generator(const char *text, int state)
{
    static char names[64][64];
    static int n, i;
    static size_t len;
    if (!state) {
        n = tp_theme_names(names, 64);
        i = 0;
        len = strlen(text);
    }
    while (i < n) {
        const char *name = names[i++];
        if (strncmp(name, text, len) == 0)
            return strdup(name);
    }
    return NULL;
}

static char **complete(const char *text, int start, int end)
{
    (void)end;
    rl_attempted_completion_over = 1;
    const char *line = rl_line_buffer;
    while (*line == ' ' || *line == ':')
        line++;
    if (start <= (int)(line - rl_line_buffer))
        return rl_completion_matches(text, command_generator);
    if (strncmp(line, "theme ", 6) == 0)
        return rl_completion_matches(text, theme_generator);
    if (strncmp(line, "model ", 6) == 0 || strncmp(line, "save ", 5) == 0 ||
        strncmp(line, "theme ", 6) == 0) {
        rl_attempted_completion_over = 0;
        return rl_completion_matches(text, rl_filename_completion_function);
    }
    return NULL;
}

char *tp_history_path(void)
{
    const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    char dir[4096];
    if (state && *state)
        snprintf(dir, sizeof dir, "%s/tempest", state);
    else if (home && *home)
        snprintf(dir, sizeof dir, "%s/.local/state/tempest", home);
    else
        return NULL;
    /* create the parents one level at a time; failure just means no history */
    for (char *p = dir + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(dir, 0700);
            *p = '/';
        }
    mkdir(dir, 0700);
    size_t n = strlen(dir) + sizeof "/history";
    char *path = malloc(n);
    if (path)
        snprintf(path, n, "%s/history", dir);
    return path;
}

/* Readline 8.2 can free an undo record twice: when a line recalled from
 * the history is edited, the entry and the line share undo records, and
 * undoing commands (undo, revert-line, a repeated yank-last-arg) or a line
 * abandoned midway later free them from both sides. A storm of random keys
 * found it. So readline's own history commands are unbound, and Up/Down
 * (and C-p/C-n) recall entries through recall(), which replaces the line
 * and starts a fresh undo list: no entry is ever edited in place. */
static int recall_pos = -1; /* index into the history; -1: the new line */

static int recall(int count, int key)
{
    (void)key;
    int n = history_length, pos = recall_pos < 0 ? n : recall_pos;
    pos -= count; /* count > 0: older */
    if (pos < 0 || n == 0)
        pos = 0;
    if (pos >= n) {
        recall_pos = -1;
        rl_replace_line("", 1);
        return 0;
    }
    HIST_ENTRY *e = history_get(history_base + pos);
    if (!e)
        return 0;
    recall_pos = pos;
    rl_replace_line(e->line, 1);
    rl_point = rl_end;
    return 0;
}

static int recall_older(int count, int key)
{
    return recall(count, key);
}

static int recall_newer(int count, int key)
{
    return recall(-count, key);
}

static void bind_history_keys(void)
{
    rl_command_func_t *const fns[] = {
        rl_undo_command, rl_revert_line, rl_yank_last_arg, rl_yank_nth_arg, rl_vi_undo,
        rl_get_previous_history, rl_get_next_history, rl_beginning_of_history,
        rl_end_of_history, rl_reverse_search_history, rl_forward_search_history,
        rl_noninc_reverse_search, rl_noninc_forward_search, rl_history_search_backward,
        rl_history_search_forward, rl_operate_and_get_next};
    Keymap const maps[] = {emacs_standard_keymap, emacs_meta_keymap, emacs_ctlx_keymap,
                           vi_movement_keymap, vi_insertion_keymap};
    for (size_t m = 0; m < sizeof maps / sizeof maps[0]; m++)
        for (size_t f = 0; f < sizeof fns / sizeof fns[0]; f++)
            rl_unbind_function_in_map(fns[f], maps[m]);
    static const char *const older[] = {"\\e[A", "\\eOA", "\\C-p"};
    static const char *const newer[] = {"\\e[B", "\\eOB", "\\C-n"};
    for (size_t i = 0; i < 3; i++) {
        rl_bind_keyseq_in_map(older[i], recall_older, emacs_standard_keymap);
        rl_bind_keyseq_in_map(newer[i], recall_newer, emacs_standard_keymap);
    }
}

void tp_cmdline_init(tp_app *a)
{
    app = a;
    rl_readline_name = "tempest";
    rl_catch_signals = 0;
    rl_catch_sigwinch = 0;
    rl_change_environment = 0;
    rl_prep_term_function = NULL;
    rl_deprep_term_function = NULL;
    rl_getc_function = get_byte;
    rl_input_available_hook = byte_waiting;
    rl_redisplay_function = redisplay;
    rl_attempted_completion_function = complete;
    rl_completion_display_matches_hook = show_matches;
    /* the user's inputrc is read at the first install: read it now so the
     * unbinding below is not undone by it */
    rl_initialize();
    bind_history_keys();
    /* readline's own output (bells, listings) must not reach the screen */
    devnull = fopen("/dev/null", "w");
    if (devnull)
        rl_outstream = devnull;
    using_history();
    stifle_history(HISTORY_MAX);
    history_file = tp_history_path();
    if (history_file)
        read_history(history_file);
}

void tp_cmdline_shutdown(void)
{
    if (app && app->cmdline != TP_CMDLINE_CLOSED)
        rl_callback_handler_remove();
    if (history_file) {
        write_history(history_file);
        free(history_file);
        history_file = NULL;
    }
    free(accepted);
    accepted = NULL;
    if (devnull) {
        rl_outstream = NULL;
        fclose(devnull);
        devnull = NULL;
    }
    app = NULL;
}

void tp_cmdline_open(tp_app *a, tp_cmdline_mode mode, const char *initial)
{
    a->cmdline = mode;
    a->message[0] = '\0';
    line_done = 0;
    /* the line editor needs the raw escape sequences of arrow keys */
    keypad(stdscr, FALSE);
    rl_callback_handler_install(mode == TP_CMDLINE_PROMPT ? "prompt> " : ":", on_line);
    recall_pos = -1;
    if (initial && *initial) {
        rl_replace_line(initial, 0);
        rl_point = rl_end;
    }
    curs_set(1);
    a->dirty = 1;
}

static void close_line(tp_app *a)
{
    a->cmdline = TP_CMDLINE_CLOSED;
    keypad(stdscr, TRUE);
    curs_set(0);
    a->dirty = 1;
}

/* A line abandoned midway: drop its undo records (no history entry shares
 * them, see recall()). */
static void forget_line(void)
{
    if (rl_undo_list)
        rl_free_undo_list();
}

void tp_cmdline_cancel(tp_app *a)
{
    if (a->cmdline == TP_CMDLINE_CLOSED)
        return;
    rl_callback_sigcleanup();
    forget_line();
    rl_callback_handler_remove();
    close_line(a);
    tp_app_message(a, 0, "cancelled");
}

static void remember(const char *line)
{
    HIST_ENTRY *last = history_length > 0 ? history_get(history_base + history_length - 1) : NULL;
    if (*line && (!last || strcmp(last->line, line) != 0))
        add_history(line);
}

static void run_line(tp_app *a, tp_cmdline_mode mode, const char *line)
{
    if (mode == TP_CMDLINE_PROMPT) {
        char text[1024];
        tp_unescape_line(line, text, sizeof text);
        if (tp_app_restart(a, text, a->session->seed) == 0)
            tp_app_message(a, 0, "restarted from the new prompt");
        return;
    }
    remember(line);
    tp_demo_note_command(a, line);
    tp_command cmd;
    tp_error err = {0};
    if (tp_command_parse(line, &a->session->cfg, &cmd, &err)) {
        tp_app_message(a, 1, "%s", err.msg);
        return;
    }
    tp_app_run_command(a, &cmd);
}

void tp_cmdline_feed(tp_app *a, int byte)
{
    if (byte == 3 || byte == 7) { /* Ctrl-C, Ctrl-G: abandon the line */
        tp_cmdline_cancel(a);
        return;
    }
    pending_byte = byte & 0xff;
    rl_callback_read_char();
    a->dirty = 1;
    if (!line_done)
        return;
    tp_cmdline_mode mode = a->cmdline;
    close_line(a);
    line_done = 0;
    if (!accepted) { /* Ctrl-D on an empty line */
        tp_app_message(a, 0, "cancelled");
        return;
    }
    char *line = accepted;
    accepted = NULL;
    run_line(a, mode, line);
    free(line);
}

/* Columns from the start of the buffer to rl_point: readline does not say. */
static int cursor_column(void)
{
    mbstate_t st;
    memset(&st, 0, sizeof st);
    int col = 0;
    for (int i = 0; i < rl_point && i < rl_end;) {
        wchar_t wc;
        size_t n = mbrtowc(&wc, rl_line_buffer + i, (size_t)(rl_end - i), &st);
        if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
            memset(&st, 0, sizeof st);
            n = 1;
            col += 1;
        } else {
            int w = wcwidth(wc);
            col += wc < 32 ? 2 : w < 0 ? 1 : w;
        }
        i += (int)n;
    }
    return col;
}

void tp_cmdline_draw(tp_app *a, tp_rect r)
{
    const char *prompt = rl_display_prompt ? rl_display_prompt : ":";
    int pw = tp_put_clipped(r.y, r.x, prompt, r.w, a->attrs[TP_ROLE_HEADER]);
    int col = cursor_column();
    /* scroll horizontally so the cursor stays visible */
    int room = r.w - pw - 1, skip = 0;
    if (col > room)
        skip = col - room;
    const char *text = rl_line_buffer ? rl_line_buffer : "";
    int skipped = 0;
    while (*text && skipped < skip) {
        skipped++;
        text++;
        while ((*text & 0xC0) == 0x80)
            text++;
    }
    tp_put_clipped(r.y, r.x + pw, text, r.w - pw, a->attrs[TP_ROLE_NORMAL]);
    move(r.y, r.x + pw + col - skip);
}
