/* replay.c - `tempest replay FILE`: a recording played back in the
 * playground, and the loading both replay and export share. */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tempest/cli.h"
#include "tempest/tui_demo.h"

static const char HELP[] =
    "Usage: tempest replay FILE [--speed N|max] [--model PATH] [--theme NAME] [--present]\n"
    "Play a recording (tempest --record FILE, or :record FILE) back in the playground:\n"
    "the same prompt, settings and tokens, step by step, drawing the same screens.\n"
    "The model is run again with the recorded tokens forced; a step whose top\n"
    "candidates differ from the recorded ones is reported (a different model?).\n"
    "A recording cut short (a crash) replays up to its last whole step.\n\n"
    "  --speed N|max          steps per second, 1 to 1000 (default 20), or max\n"
    "  --model PATH           the model (default: the one the recording names)\n"
    "  --theme NAME|PATH      colour theme\n"
    "  --present              larger histogram, projector theme\n"
    "  --help, --version\n"
    "Keys work as in the playground: space pauses, n steps, + - change the speed.\n";

enum { OPT_SPEED = TP_OPT_FIRST_OWN, OPT_THEME, OPT_PRESENT };

int tp_cli_load_recording(const char *cmd, const char *path, const char *model,
                          tp_recording *rec, tp_app_setup *setup)
{
    tp_error err = {0};
    char *text = NULL;
    size_t len;
    if (tp_read_file(path, &text, &len, &err) ||
        tp_recording_parse(rec, text, len, path, &err)) {
        free(text);
        return tp_cli_report(cmd, &err);
    }
    free(text);
    if (rec->warning[0])
        fprintf(stderr, "tempest %s: warning: %s\n", cmd, rec->warning);
    if (!model && access(rec->model_path, R_OK) != 0) {
        int st = tp_cli_usage_error(cmd, "the recorded model '%s' is not readable; give --model",
                                    rec->model_path);
        tp_recording_free(rec);
        return st;
    }
    setup->model_path = model ? model : rec->model_path;
    setup->prompt = rec->prompt;
    setup->cfg = rec->cfg;
    setup->seed = rec->seed;
    long long size;
    char fp[TP_REC_FINGERPRINT_LEN + 1];
    if (tp_file_fingerprint(setup->model_path, &size, fp, &err) == TP_OK &&
        strcmp(fp, rec->fingerprint) != 0)
        fprintf(stderr, "tempest %s: warning: %s is not the model recorded (%s); the "
                "probabilities may differ\n", cmd, setup->model_path, rec->model_path);
    return TP_EXIT_OK;
}

typedef struct replay_args {
    tp_app_setup setup;
    int speed_given;
} replay_args;

static tp_status own_option(void *ctx, int opt, const char *arg, tp_error *err)
{
    replay_args *r = ctx;
    if (opt == OPT_THEME)
        r->setup.theme = arg;
    else if (opt == OPT_PRESENT)
        r->setup.present = 1;
    else if (strcmp(arg, "max") == 0)
        r->setup.speed = 0;
    else
        return tp_parse_double("--speed", arg, 1, TP_SPEED_MAX, &r->setup.speed, err);
    return TP_OK;
}

static const struct option OPTS[] = {
    /* only these: the settings and seed come from the recording */
    {"model", required_argument, 0, TP_OPT_MODEL},
    {"help", no_argument, 0, TP_OPT_HELP},
    {"version", no_argument, 0, TP_OPT_VERSION},
    {"weights", required_argument, 0, TP_OPT_WEIGHTS},
    {"speed", required_argument, 0, OPT_SPEED},
    {"theme", required_argument, 0, OPT_THEME},
    {"present", no_argument, 0, OPT_PRESENT},
    {0, 0, 0, 0},
};

int tp_cmd_replay(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    tp_cli_common c;
    tp_cli_common_init(&c);
    replay_args r = {.setup = {.speed = TP_DEFAULT_SPEED}};
    int st = tp_cli_parse("replay", argc, argv, OPTS, HELP, 0, &c, own_option, &r);
    if (st >= 0)
        return st;
    if (optind != argc - 1)
        return tp_cli_usage_error("replay", optind < argc ? "one recording, please (got '%s')"
                                                          : "which recording? (%s)",
                                  optind < argc ? argv[argc - 1] : "tempest replay FILE");
    tp_recording rec;
    tp_app_setup setup = r.setup;
    if ((st = tp_cli_load_recording("replay", argv[optind], c.model_path, &rec, &setup)))
        return st;
    tp_app a = {0};
    int status = tp_app_open(&a, &setup);
    char warning[sizeof rec.warning];
    snprintf(warning, sizeof warning, "%s", rec.warning);
    if (!status)
        status = tp_replay_attach(&a, &rec);
    else
        tp_recording_free(&rec);
    if (!status) {
        if (warning[0])
            tp_app_message(&a, 1, "%s", warning);
        status = tp_app_run(&a);
        if (!status && tp_replay_mismatches(&a))
            fprintf(stderr, "tempest replay: warning: %d steps differ from the recording "
                    "(a different model?)\n", tp_replay_mismatches(&a));
    }
    tp_app_close(&a);
    return status;
}
