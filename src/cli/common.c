/* common.c - what every subcommand shares: sampler flags, numbers, the
 * bundled model's location, error reporting and file reading. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tempest/cli.h"

#ifndef TEMPEST_DATADIR
#define TEMPEST_DATADIR "/usr/local/share/tempest"
#endif
#define BUNDLED_MODEL "models/shakespeare.safetensors"

#define WEIGHTS_HELP                                                                    \
    "  --weights W            store the weights as f32 (default), f16, bf16 or int8\n" \
    "                         (one scale per row): less memory and bandwidth, logits\n" \
    "                         a little off f32 (see tempest(1) for the cost)\n"

#define CONFIG_HELP                                                                    \
    "  --config FILE          defaults for the options, one 'name = value' a line\n"    \
    "                         (default: $TEMPEST_CONFIG, else\n"                        \
    "                         ${XDG_CONFIG_HOME:-~/.config}/tempest/config.ini)\n"

const char TP_COMMON_HELP[] =
    "Model and sampling options:\n"
    "  --model PATH           safetensors model (default: the bundled Shakespeare model)\n"
    "  --temperature T        0 to 100; 0 is greedy (default 0.8)\n"
    "  --top-k K              keep the K most likely tokens; 0 is off (default 0)\n"
    "  --top-p P              keep the smallest set holding mass P; 1 is off (default 1)\n"
    "  --min-p M              keep tokens with p >= M * p_max; 0 is off (default 0)\n"
    "  --order LIST           stage order, e.g. temperature,top_k,top_p,min_p (default)\n"
    "                         or top_k,top_p,min_p,temperature; also temp-first,\n"
    "                         trunc-first; repeat_penalty may be placed too (default first)\n"
    "  --repeat-penalty R     CTRL-style penalty on recent tokens; 1 is off (default 1)\n"
    "  --repeat-last-n N      how many recent tokens it looks at (default 64)\n"
    "  --seed S               random seed, 0 to 2^64-1 (default 1)\n"
    WEIGHTS_HELP
    CONFIG_HELP
    "  --help, --version\n";

void tp_cli_common_init(tp_cli_common *c)
{
    memset(c, 0, sizeof *c);
    tp_sampler_defaults(&c->cfg);
    c->seed = 1;
    /* Every command reports a bad option itself (tp_cli_bad_option), in one
     * line; getopt's own message would make it two. */
    opterr = 0;
}

tp_status tp_parse_double(const char *flag, const char *arg, double lo, double hi,
                          double *out, tp_error *err)
{
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    if (end == arg || *end != '\0' || !isfinite(v) || errno == ERANGE)
        return tp_fail(err, TP_ERR_USAGE, "%s '%.60s' is not a finite number", flag, arg);
    if (v < lo || v > hi)
        return tp_fail(err, TP_ERR_USAGE, "%s %.60s is out of range (%g to %g)", flag, arg,
                       lo, hi);
    *out = v;
    return TP_OK;
}

tp_status tp_parse_long(const char *flag, const char *arg, long lo, long hi, long *out,
                        tp_error *err)
{
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (end == arg || *end != '\0' || errno == ERANGE)
        return tp_fail(err, TP_ERR_USAGE, "%s '%.60s' is not a whole number", flag, arg);
    if (v < lo || v > hi)
        return tp_fail(err, TP_ERR_USAGE, "%s %ld is out of range (%ld to %ld)", flag, v, lo,
                       hi);
    *out = v;
    return TP_OK;
}

static tp_status parse_seed(const char *arg, uint64_t *out, tp_error *err)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(arg, &end, 10);
    if (arg[0] < '0' || arg[0] > '9' || *end != '\0' || errno == ERANGE)
        return tp_fail(err, TP_ERR_USAGE, "--seed '%.60s' is not a whole number from 0 to "
                       "18446744073709551615", arg);
    *out = (uint64_t)v;
    return TP_OK;
}

int tp_cli_common_option(tp_cli_common *c, int opt, const char *arg, tp_error *err)
{
    tp_sampler_config *cfg = &c->cfg;
    long n;
    tp_status rc = TP_OK;
    switch (opt) {
    case TP_OPT_MODEL: c->model_path = arg; break;
    case TP_OPT_TEMPERATURE:
        rc = tp_parse_double("--temperature", arg, 0, TP_TEMPERATURE_MAX, &cfg->temperature,
                             err);
        break;
    case TP_OPT_TOP_K:
        if (!(rc = tp_parse_long("--top-k", arg, 0, INT_MAX, &n, err)))
            cfg->top_k = (int)n;
        break;
    case TP_OPT_TOP_P: rc = tp_parse_double("--top-p", arg, 0, 1, &cfg->top_p, err); break;
    case TP_OPT_MIN_P: rc = tp_parse_double("--min-p", arg, 0, 1, &cfg->min_p, err); break;
    case TP_OPT_ORDER:
        rc = tp_sampler_parse_order(cfg, arg, err);
        if (rc)
            tp_error_prefix(err, "--order");
        break;
    case TP_OPT_REPEAT_PENALTY:
        rc = tp_parse_double("--repeat-penalty", arg, 1e-6, TP_REPEAT_PENALTY_MAX,
                             &cfg->repeat_penalty, err);
        break;
    case TP_OPT_REPEAT_LAST_N:
        if (!(rc = tp_parse_long("--repeat-last-n", arg, 0, INT_MAX, &n, err)))
            cfg->repeat_last_n = (int)n;
        break;
    case TP_OPT_SEED: rc = parse_seed(arg, &c->seed, err); break;
    case TP_OPT_CONFIG: break; /* read before the other options: tp_cli_apply_config */
    case TP_OPT_WEIGHTS:
        rc = tp_weight_type_parse(arg, &c->weights, err);
        c->weights_given = !rc;
        if (rc)
            tp_error_prefix(err, "--weights");
        /* Front ends that load by path (the playground, probs --logits)
         * read the precision from the environment, as tp_model_load does. */
        if (!rc && setenv("TEMPEST_WEIGHTS", arg, 1) != 0)
            rc = tp_fail(err, TP_ERR_NOMEM, "out of memory for --weights");
        break;
    default: return 0;
    }
    return rc ? -1 : 1;
}

/* The last --config FILE in argv, or NULL: a getopt pass of its own, so
 * that abbreviations and --config=FILE are understood as in the real one. */
static const char *config_flag(int argc, char **argv, const struct option *opts)
{
    const char *path = NULL;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1)
        if (opt == TP_OPT_CONFIG)
            path = optarg;
    optind = 1;
    return path;
}

static const struct option *option_named(const struct option *opts, const char *key)
{
    char name[32];
    snprintf(name, sizeof name, "%s", key);
    for (char *p = name; *p; p++)
        if (*p == '_')
            *p = '-';
    for (; opts->name; opts++)
        if (strcmp(opts->name, name) == 0)
            return opts;
    return NULL;
}

static tp_status apply_entry(tp_cli_common *c, const struct option *o, const char *value,
                             tp_cli_option_fn own, void *ctx, tp_error *err)
{
    int r = tp_cli_common_option(c, o->val, value, err);
    if (r < 0)
        return err->code;
    if (r == 0 && own && o->val >= TP_OPT_FIRST_OWN)
        return own(ctx, o->val, value, err);
    return TP_OK;
}

tp_status tp_cli_apply_config(tp_cli_common *c, int argc, char **argv,
                              const struct option *opts, tp_cli_option_fn own, void *ctx,
                              tp_error *err)
{
    char path[TP_CONFIG_MAX_PATH];
    const char *flag = config_flag(argc, argv, opts);
    int is_explicit = 1;
    if (flag)
        snprintf(path, sizeof path, "%s", flag);
    else if (tp_config_locate(path, sizeof path, &is_explicit, err))
        return err->code;
    if (!path[0] || (!is_explicit && access(path, F_OK) != 0))
        return TP_OK; /* no config file: the built-in defaults */
    tp_status rc = tp_config_load(&c->config, path, err);
    for (int i = 0; !rc && i < c->config.n; i++) {
        const tp_config_entry *e = &c->config.entries[i];
        const struct option *o = option_named(opts, e->key);
        if (o && (rc = apply_entry(c, o, e->value, own, ctx, err)))
            tp_error_prefix(err, "%s:%d", path, e->line);
    }
    return rc;
}

int tp_cli_parse(const char *cmd, int argc, char **argv, const struct option *opts,
                 const char *help, int common_help, tp_cli_common *c, tp_cli_option_fn own,
                 void *ctx)
{
    tp_error err = {0};
    int opt;
    if (tp_cli_apply_config(c, argc, argv, opts, own, ctx, &err))
        return tp_cli_report(cmd, &err);
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int r = tp_cli_common_option(c, opt, optarg, &err);
        if (r < 0)
            return tp_cli_report(cmd, &err);
        if (r > 0)
            continue;
        if (opt == TP_OPT_HELP) {
            /* Commands without the common help still take --weights
             * and --config; common_help < 0: the command's own help only. */
            printf("%s%s", help, common_help > 0    ? TP_COMMON_HELP
                                 : common_help == 0 ? WEIGHTS_HELP CONFIG_HELP
                                                    : "");
            return TP_EXIT_OK;
        }
        if (opt == TP_OPT_VERSION) {
            printf("tempest %s\n", TEMPEST_VERSION);
            return TP_EXIT_OK;
        }
        if (opt < TP_OPT_FIRST_OWN || !own)
            return tp_cli_bad_option(cmd, argc, argv);
        if (own(ctx, opt, optarg, &err))
            return tp_cli_report(cmd, &err);
    }
    return -1;
}

double tp_cli_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

long tp_cli_default_jobs(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    return cpus < 1 ? 1 : cpus > 64 ? 64 : cpus;
}

static int readable(const char *path)
{
    return access(path, R_OK) == 0;
}

char *tp_default_model_path(void)
{
    const char *env = getenv("TEMPEST_MODEL");
    if (env && *env)
        return strdup(env);
    char exe[PATH_MAX], path[PATH_MAX + 64];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
        const char *candidates[] = {"%s/" BUNDLED_MODEL, "%s/../" BUNDLED_MODEL,
                                    "%s/../share/tempest/" BUNDLED_MODEL};
        for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
            snprintf(path, sizeof path, candidates[i], exe);
            if (readable(path))
                return strdup(path);
        }
    }
    snprintf(path, sizeof path, "%s/%s", TEMPEST_DATADIR, BUNDLED_MODEL);
    return strdup(path);
}

tp_status tp_cli_load_model(const tp_cli_common *c, tp_model **out, tp_error *err)
{
    tp_model_options opt;
    *out = NULL;
    tp_status rc = tp_model_options_from_env(&opt, err);
    if (rc)
        return rc;
    if (c->weights_given)
        opt.weights = c->weights;
    if (c->model_path)
        return tp_model_load_with(out, c->model_path, &opt, err);
    char *path = tp_default_model_path();
    if (!path)
        return tp_fail(err, TP_ERR_NOMEM, "out of memory");
    rc = tp_model_load_with(out, path, &opt, err);
    free(path);
    return rc;
}

int tp_cli_report(const char *cmd, const tp_error *err)
{
    fprintf(stderr, "tempest%s%s: %s\n", cmd ? " " : "", cmd ? cmd : "", err->msg);
    return err->code == TP_ERR_USAGE ? TP_EXIT_USAGE : TP_EXIT_RUNTIME;
}

int tp_cli_usage_error(const char *cmd, const char *fmt, ...)
{
    char msg[TP_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "tempest%s%s: %s (see 'tempest%s%s --help')\n", cmd ? " " : "",
            cmd ? cmd : "", msg, cmd ? " " : "", cmd ? cmd : "");
    return TP_EXIT_USAGE;
}

int tp_cli_bad_option(const char *cmd, int argc, char **argv)
{
    const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
    if (optopt && optopt < 256)
        return tp_cli_usage_error(cmd, "unknown option or missing value: '-%c'", optopt);
    return tp_cli_usage_error(cmd, "unknown option or missing value: '%s'", arg);
}

tp_status tp_read_file(const char *path, char **out, size_t *len, tp_error *err)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return tp_fail(err, TP_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    tp_status rc = buf ? TP_OK : tp_fail(err, TP_ERR_NOMEM, "out of memory reading '%s'", path);
    while (!rc) {
        if (n + 1 >= cap) {
            char *nb = cap < SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
            if (!nb) {
                rc = tp_fail(err, TP_ERR_NOMEM, "out of memory reading '%s'", path);
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) {
            if (ferror(f))
                rc = tp_fail(err, TP_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
            break;
        }
    }
    if (f != stdin)
        fclose(f);
    if (rc) {
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return TP_OK;
}
