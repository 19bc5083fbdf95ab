/* cli.h - the command-line front end: subcommands and what they share.
 *
 * Each subcommand returns the process exit status: 0 on success, 1 for a
 * runtime error (a file that cannot be read, a corrupt model), 2 for a usage
 * error (a bad flag or value). Errors are one line on stderr.
 */
#ifndef TEMPEST_CLI_H
#define TEMPEST_CLI_H

#include <getopt.h>
#include <stdint.h>

#include "tempest/config.h"
#include "tempest/error.h"
#include "tempest/model.h"
#include "tempest/sampler.h"

#define TEMPEST_VERSION "0.1.0"

enum { TP_EXIT_OK = 0, TP_EXIT_RUNTIME = 1, TP_EXIT_USAGE = 2 };

/* Options every model-using command takes. */
typedef struct tp_cli_common {
    const char *model_path; /* NULL: the bundled model */
    tp_sampler_config cfg;
    uint64_t seed;
    tp_weight_type weights; /* --weights: how the model's matrices are stored */
    int weights_given;      /* else $TEMPEST_WEIGHTS, or f32 */
    tp_config config;       /* the config file read; option values point into it */
} tp_cli_common;

/* Long option ids of the common options (above any short option). */
enum {
    TP_OPT_MODEL = 1000, TP_OPT_TEMPERATURE, TP_OPT_TOP_K, TP_OPT_TOP_P, TP_OPT_MIN_P,
    TP_OPT_ORDER, TP_OPT_REPEAT_PENALTY, TP_OPT_REPEAT_LAST_N, TP_OPT_SEED, TP_OPT_HELP,
    TP_OPT_VERSION, TP_OPT_WEIGHTS, TP_OPT_CONFIG, TP_OPT_FIRST_OWN,
};

#define TP_COMMON_LONG_OPTIONS                                                   \
    {"model", required_argument, 0, TP_OPT_MODEL},                               \
    {"temperature", required_argument, 0, TP_OPT_TEMPERATURE},                   \
    {"top-k", required_argument, 0, TP_OPT_TOP_K},                               \
    {"top-p", required_argument, 0, TP_OPT_TOP_P},                               \
    {"min-p", required_argument, 0, TP_OPT_MIN_P},                               \
    {"order", required_argument, 0, TP_OPT_ORDER},                               \
    {"repeat-penalty", required_argument, 0, TP_OPT_REPEAT_PENALTY},             \
    {"repeat-last-n", required_argument, 0, TP_OPT_REPEAT_LAST_N},               \
    {"seed", required_argument, 0, TP_OPT_SEED},                                 \
    {"weights", required_argument, 0, TP_OPT_WEIGHTS},                           \
    {"config", required_argument, 0, TP_OPT_CONFIG},                             \
    {"help", no_argument, 0, TP_OPT_HELP},                                       \
    {"version", no_argument, 0, TP_OPT_VERSION}

/* The help text for the common options, for each command's --help. */
extern const char TP_COMMON_HELP[];

void tp_cli_common_init(tp_cli_common *c);
/* Handle a common option; 1 if handled, 0 if not common, -1 on a bad value
 * (err filled). */
int tp_cli_common_option(tp_cli_common *c, int opt, const char *arg, tp_error *err);

/* A command's own options: return TP_OK, or an error (err filled). */
typedef tp_status (*tp_cli_option_fn)(void *ctx, int opt, const char *arg, tp_error *err);

/* The option loop every command shares: common options into c, --help
 * (prints help, then the common options' help when common_help is set),
 * --version (common_help < 0: the help text alone), unknown options, and the command's own options through own.
 * Returns -1 when the command should go on (optind at the first operand),
 * else the exit status to return now. */
int tp_cli_parse(const char *cmd, int argc, char **argv, const struct option *opts,
                 const char *help, int common_help, tp_cli_common *c, tp_cli_option_fn own,
                 void *ctx);

/* The config file (config.h) as defaults under the command line: the file
 * named by --config in argv, else $TEMPEST_CONFIG, else the XDG location
 * (which may be absent). Each setting goes through the option of that name
 * in opts, common ones into c, the command's own through own(ctx), so it is
 * checked as the flag would be; settings for options this command does not
 * have are left to the commands that do. Errors read "FILE:LINE: ...".
 * tp_cli_parse calls it; front ends with their own option loop call it
 * before theirs. */
tp_status tp_cli_apply_config(tp_cli_common *c, int argc, char **argv,
                              const struct option *opts, tp_cli_option_fn own, void *ctx,
                              tp_error *err);

/* Number parsing for flags: the whole string must be a finite number in
 * [lo, hi]; the message names the flag and the value. */
tp_status tp_parse_double(const char *flag, const char *arg, double lo, double hi,
                          double *out, tp_error *err);
tp_status tp_parse_long(const char *flag, const char *arg, long lo, long hi, long *out,
                        tp_error *err);

/* Seconds on the monotonic clock, for elapsed times. */
double tp_cli_now(void);

/* The default of --jobs: the number of CPUs, 1 to 64. */
long tp_cli_default_jobs(void);

/* The bundled model: $TEMPEST_MODEL, beside the binary, in the source tree or
 * under the install prefix. Returns a malloc'd path or NULL. */
char *tp_default_model_path(void);
/* Load c->model_path or the bundled model, weights stored as c->weights. */
tp_status tp_cli_load_model(const tp_cli_common *c, tp_model **out, tp_error *err);

/* Print "tempest CMD: message" and return the exit status for err. */
int tp_cli_report(const char *cmd, const tp_error *err);
int tp_cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* For getopt's unknown option or missing argument. */
int tp_cli_bad_option(const char *cmd, int argc, char **argv);

/* Read a whole file ("-" is stdin) into a NUL-terminated buffer. */
tp_status tp_read_file(const char *path, char **out, size_t *len, tp_error *err);

int tp_cmd_generate(int argc, char **argv);
int tp_cmd_probs(int argc, char **argv);
int tp_cmd_eval(int argc, char **argv);
int tp_cmd_inspect(int argc, char **argv);
int tp_cmd_sweep(int argc, char **argv);
int tp_cmd_chaos(int argc, char **argv);
int tp_cmd_train(int argc, char **argv);

/* Forward declaration: sweep.h has the definition. */
struct tp_sweep_spec;
struct tp_sweep_cell;
/* A sweep's cells and summary rows, written atomically. */
int tp_sweep_write_csv(const char *path, const struct tp_sweep_spec *spec,
                       const struct tp_sweep_cell *cells, tp_error *err);
int tp_sweep_write_json(const char *path, const struct tp_sweep_spec *spec,
                        const struct tp_sweep_cell *cells, const char *prompt, tp_error *err);

#endif
