/* export.c - `tempest export FILE --asciicast OUT.cast`: the replayed
 * screens as an asciicast v2 file. The playground draws, headless, into a
 * curses screen whose output is a temporary file; each frame's new bytes
 * become one ["time", "o", data] event. */
#include <cjson/cJSON.h>
#include <curses.h>
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tempest/cli.h"
#include "tempest/tui_demo.h"

static const char HELP[] =
    "Usage: tempest export FILE --asciicast OUT.cast [--cols C] [--rows R] [--speed N]\n"
    "                      [--model PATH] [--theme NAME] [--present]\n"
    "Replay a recording without a terminal and write its screens as an asciicast v2\n"
    "file (asciinema play OUT.cast; for slides and web pages). Frame i is shown at\n"
    "i / N seconds.\n\n"
    "  --asciicast OUT.cast   where to write ('-' is stdout)\n"
    "  --cols C, --rows R     the terminal size, 40 to 500 and 12 to 200 (100 x 30)\n"
    "  --speed N              steps per second, 1 to 1000 (default 20)\n"
    "  --model PATH           the model (default: the one the recording names)\n"
    "  --theme NAME|PATH      colour theme (default: default; projector with --present)\n"
    "  --present              larger histogram, projector theme\n"
    "  --help, --version\n";

enum { OPT_CAST = TP_OPT_FIRST_OWN, OPT_COLS, OPT_ROWS, OPT_SPEED, OPT_THEME, OPT_PRESENT };

typedef struct export_args {
    const char *out;
    long cols, rows;
    tp_app_setup setup;
} export_args;

static tp_status own_option(void *ctx, int opt, const char *arg, tp_error *err)
{
    export_args *e = ctx;
    switch (opt) {
    case OPT_CAST: e->out = arg; return TP_OK;
    case OPT_COLS: return tp_parse_long("--cols", arg, 40, 500, &e->cols, err);
    case OPT_ROWS: return tp_parse_long("--rows", arg, 12, 200, &e->rows, err);
    case OPT_SPEED: return tp_parse_double("--speed", arg, 1, TP_SPEED_MAX, &e->setup.speed, err);
    case OPT_THEME: e->setup.theme = arg; return TP_OK;
    default: e->setup.present = 1; return TP_OK;
    }
}

/* The headless terminal: curses writes to tmp, we read what it wrote. */
typedef struct headless {
    SCREEN *screen;
    FILE *tmp, *in;
    long read_to;
} headless;

static int headless_open(headless *h, int cols, int rows)
{
    char num[16];
    snprintf(num, sizeof num, "%d", cols);
    setenv("COLUMNS", num, 1);
    snprintf(num, sizeof num, "%d", rows);
    setenv("LINES", num, 1);
    use_env(TRUE);
    h->tmp = tmpfile();
    h->in = fopen("/dev/null", "r");
    h->screen = h->tmp && h->in ? newterm("xterm-256color", h->tmp, h->in) : NULL;
    if (!h->screen)
        return -1;
    set_term(h->screen);
    noecho();
    curs_set(0);
    if (has_colors()) {
        start_color();
        use_default_colors();
    }
    return 0;
}

static void headless_close(headless *h)
{
    if (h->screen) {
        endwin();
        delscreen(h->screen);
    }
    if (h->tmp)
        fclose(h->tmp);
    if (h->in)
        fclose(h->in);
}

/* The bytes curses wrote since the last call, as one event line. */
static int write_frame(headless *h, double t, FILE *out)
{
    int fd = fileno(h->tmp);
    off_t end = lseek(fd, 0, SEEK_END);
    if (end < 0 || end == h->read_to)
        return end < 0 ? -1 : 0;
    size_t n = (size_t)(end - h->read_to);
    char *buf = malloc(n + 1);
    if (!buf || pread(fd, buf, n, h->read_to) != (ssize_t)n) {
        free(buf);
        return -1;
    }
    buf[n] = '\0';
    h->read_to = end;
    cJSON *ev = cJSON_CreateArray();
    cJSON_AddItemToArray(ev, cJSON_CreateNumber(round(t * 1e6) / 1e6));
    cJSON_AddItemToArray(ev, cJSON_CreateString("o"));
    cJSON_AddItemToArray(ev, cJSON_CreateString(buf));
    free(buf);
    char *line = cJSON_PrintUnformatted(ev);
    cJSON_Delete(ev);
    int ok = line && fprintf(out, "%s\n", line) > 0;
    free(line);
    return ok ? 0 : -1;
}

static int write_header(FILE *out, const export_args *e, const char *path)
{
    cJSON *h = cJSON_CreateObject(), *env = cJSON_CreateObject();
    char title[512];
    snprintf(title, sizeof title, "tempest replay %s", path);
    cJSON_AddNumberToObject(h, "version", 2);
    cJSON_AddNumberToObject(h, "width", (double)e->cols);
    cJSON_AddNumberToObject(h, "height", (double)e->rows);
    cJSON_AddNumberToObject(h, "timestamp", (double)time(NULL));
    cJSON_AddStringToObject(h, "title", title);
    cJSON_AddStringToObject(env, "TERM", "xterm-256color");
    cJSON_AddItemToObject(h, "env", env);
    char *line = cJSON_PrintUnformatted(h);
    cJSON_Delete(h);
    int ok = line && fprintf(out, "%s\n", line) > 0;
    free(line);
    return ok ? 0 : -1;
}

/* Every step drawn into the headless screen, one frame per step. */
static int record_frames(tp_app *a, headless *h, double speed, FILE *out)
{
    long frame = 0;
    tp_app_draw(a);
    if (write_frame(h, 0, out))
        return -1;
    while (tp_app_step(a) == 0) {
        tp_app_draw(a);
        if (write_frame(h, ++frame / speed, out))
            return -1;
    }
    tp_app_draw(a); /* the closing message */
    return write_frame(h, ++frame / speed, out);
}

static int export_cast(tp_app *a, const export_args *e, const char *path)
{
    int to_stdout = strcmp(e->out, "-") == 0;
    FILE *out = to_stdout ? stdout : fopen(e->out, "w");
    if (!out) {
        fprintf(stderr, "tempest export: cannot write '%s': %s\n", e->out, strerror(errno));
        return TP_EXIT_RUNTIME;
    }
    headless h = {0};
    int bad = headless_open(&h, (int)e->cols, (int)e->rows);
    if (bad)
        fputs("tempest export: cannot start a headless xterm-256color screen (terminfo?)\n",
              stderr);
    if (!bad) {
        a->ascii = strcmp(nl_langinfo(CODESET), "UTF-8") != 0;
        tp_app_apply_theme(a);
        bad = write_header(out, e, path) || record_frames(a, &h, e->setup.speed, out);
        if (bad)
            fprintf(stderr, "tempest export: cannot write '%s': %s\n", e->out,
                    strerror(errno));
    }
    headless_close(&h);
    if (!to_stdout && fclose(out) != 0 && !bad) {
        fprintf(stderr, "tempest export: cannot write '%s': %s\n", e->out, strerror(errno));
        bad = 1;
    }
    return bad ? TP_EXIT_RUNTIME : TP_EXIT_OK;
}

static const struct option OPTS[] = {
    /* only these: the settings and seed come from the recording */
    {"model", required_argument, 0, TP_OPT_MODEL},
    {"help", no_argument, 0, TP_OPT_HELP},
    {"version", no_argument, 0, TP_OPT_VERSION},
    {"weights", required_argument, 0, TP_OPT_WEIGHTS},
    {"asciicast", required_argument, 0, OPT_CAST},
    {"cols", required_argument, 0, OPT_COLS},
    {"rows", required_argument, 0, OPT_ROWS},
    {"speed", required_argument, 0, OPT_SPEED},
    {"theme", required_argument, 0, OPT_THEME},
    {"present", no_argument, 0, OPT_PRESENT},
    {0, 0, 0, 0},
};

/* Screens are drawn in UTF-8 whatever the caller's locale, so the cast
 * plays the same everywhere. */
static void utf8_locale(void)
{
    setlocale(LC_ALL, "");
    if (strcmp(nl_langinfo(CODESET), "UTF-8") != 0)
        setlocale(LC_ALL, "C.UTF-8");
}

int tp_cmd_export(int argc, char **argv)
{
    tp_cli_common c;
    tp_cli_common_init(&c);
    export_args e = {.cols = 100, .rows = 30, .setup = {.speed = TP_DEFAULT_SPEED}};
    int st = tp_cli_parse("export", argc, argv, OPTS, HELP, 0, &c, own_option, &e);
    if (st >= 0)
        return st;
    if (optind != argc - 1)
        return tp_cli_usage_error("export", "give one recording (tempest export FILE "
                                  "--asciicast OUT.cast)");
    if (!e.out)
        return tp_cli_usage_error("export", "--asciicast OUT.cast is required");
    utf8_locale();
    tp_recording rec;
    tp_app_setup setup = e.setup;
    if ((st = tp_cli_load_recording("export", argv[optind], c.model_path, &rec, &setup)))
        return st;
    tp_app a = {0};
    st = tp_app_open(&a, &setup);
    if (!st)
        st = tp_replay_attach(&a, &rec);
    else
        tp_recording_free(&rec);
    if (!st)
        st = export_cast(&a, &e, argv[optind]);
    if (!st && tp_replay_mismatches(&a))
        fprintf(stderr, "tempest export: warning: %d steps differ from the recording "
                "(a different model?)\n", tp_replay_mismatches(&a));
    tp_app_close(&a);
    return st;
}
