/* train.c - `tempest train`: train a model on a text, with a live progress
 * line, a sample and a checkpoint at every evaluation, and resume. */
#include <cblas.h>
#include <libgen.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tempest/cli.h"
#include "tempest/train.h"

static const char HELP[] =
    "Usage: tempest train --text FILE --out MODEL [options]\n"
    "Train an embedding -> LSTM (or GRU, RNN) -> linear language model on FILE, as\n"
    "tools/train_pytorch.py does (truncated BPTT over --batch contiguous streams,\n"
    "Adam, gradient clipping, cosine learning-rate decay to 5%), and write MODEL,\n"
    "a safetensors file every tempest command and train_pytorch.py's model class\n"
    "load. The last --val-fraction of the text is held out for validation.\n\n"
    "  --text FILE            UTF-8 training text\n"
    "  --out MODEL            the model, rewritten at every evaluation\n"
    "  --cell C               lstm (default), gru, rnn_tanh or rnn_relu: PyTorch's\n"
    "                         nn.LSTM, nn.GRU, nn.RNN (module lstm., gru., rnn.)\n"
    "  --tokenizer char|word  characters (default), or words and punctuation marks\n"
    "  --vocab-limit N        word: keep the N-2 most frequent words, plus a newline\n"
    "                         token and <unk> for the rest (default 8000)\n"
    "  --embed E              embedding width, 1 to 65536 (default 64)\n"
    "  --hidden H             recurrent width, 1 to 65536 (default 256)\n"
    "  --layers L             recurrent layers, 1 to 16 (default 2)\n"
    "  --seq N                tokens per truncated-BPTT chunk (default 128)\n"
    "  --batch N              parallel streams of the text (default 32)\n"
    "  --lr R                 Adam learning rate (default 0.002)\n"
    "  --clip R               gradient norm limit (default 5)\n"
    "  --dropout P            dropout between recurrent layers, 0 to 0.99, as nn.LSTM\n"
    "                         applies it (not on the last layer's output; default 0)\n"
    "  --dropout-io P         dropout on the embedding's output and on the last\n"
    "                         layer's output (the decoder's input), 0 to 0.99, as\n"
    "                         PyTorch's word_language_model example adds (default 0)\n"
    "  --steps N              optimisation steps, the schedule's length (default 3000)\n"
    "  --minutes M            stop after M minutes (then a last evaluation on all\n"
    "                         the held-out text); without --steps, the schedule is\n"
    "                         sized to fit M minutes from the speed of the first steps\n"
    "  --eval-every N         validate, show a sample and checkpoint every N steps\n"
    "                         (default 500)\n"
    "  --val-fraction F       held-out fraction at the end of the text, 0 to 0.9\n"
    "                         (default 0.1)\n"
    "  --threads N            threads, 1 to 256 (default: every CPU): the BLAS's for\n"
    "                         whole-chunk products, a share of the hidden units each\n"
    "                         for the time steps; the same count gives the same\n"
    "                         numbers (on a busy machine 1 can be faster)\n"
    "  --seed S               seed of the initial weights and dropout (default 1)\n"
    "  --checkpoint PATH      where checkpoints go (default MODEL.ckpt)\n"
    "  --resume CKPT          continue a run from its checkpoint, bit-identically\n"
    "                         (the same --text; --steps may lengthen it)\n"
    "  --init MODEL           start from MODEL's weights (same shapes and vocabulary)\n"
    "  --stop-after N         write a checkpoint and stop after N steps of this run\n"
    "  --log-every N          without a terminal, a progress line every N steps\n"
    "                         (default 50)\n"
    "  --sample-length N      tokens in each evaluation's sample (default 160\n"
    "                         characters or 40 words; 0 for the default)\n"
    "  --help, --version\n"
    "Ctrl-C or SIGTERM writes a checkpoint and stops; --resume continues from it.\n";

enum {
    OPT_TEXT = TP_OPT_FIRST_OWN, OPT_OUT, OPT_TOKENIZER, OPT_VOCAB_LIMIT, OPT_EMBED,
    OPT_HIDDEN, OPT_LAYERS, OPT_SEQ, OPT_BATCH, OPT_LR, OPT_CLIP, OPT_DROPOUT, OPT_DROPOUT_IO, OPT_STEPS,
    OPT_MINUTES, OPT_EVAL_EVERY, OPT_VAL_FRACTION, OPT_THREADS, OPT_CHECKPOINT, OPT_RESUME,
    OPT_INIT, OPT_STOP_AFTER, OPT_LOG_EVERY, OPT_SAMPLE_LENGTH, OPT_CELL,
};

struct train_args {
    tp_train_config cfg;
    const char *text, *out, *checkpoint, *resume, *init;
    double minutes;
    long steps_given, stop_after, log_every, threads;
    char ckpt_buf[4096];
};

static tp_status set_int(const char *flag, const char *arg, long lo, long hi, int *out,
                         tp_error *err)
{
    long v;
    tp_status rc = tp_parse_long(flag, arg, lo, hi, &v, err);
    if (!rc)
        *out = (int)v;
    return rc;
}

static tp_status own_option(void *ctx, int opt, const char *arg, tp_error *err)
{
    struct train_args *a = ctx;
    tp_train_config *c = &a->cfg;
    switch (opt) {
    case OPT_TEXT: a->text = arg; return TP_OK;
    case OPT_OUT: a->out = arg; return TP_OK;
    case OPT_CHECKPOINT: a->checkpoint = arg; return TP_OK;
    case OPT_RESUME: a->resume = arg; return TP_OK;
    case OPT_INIT: a->init = arg; return TP_OK;
    case OPT_TOKENIZER: {
        tp_status rc = tp_tokenizer_parse(arg, &c->tokenizer, err);
        if (rc)
            tp_fail(err, TP_ERR_USAGE, "--tokenizer '%.40s' is not char or word", arg);
        return rc ? TP_ERR_USAGE : TP_OK;
    }
    case OPT_CELL: {
        int kind = tp_train_cell_parse(arg);
        if (kind < 0)
            return tp_fail(err, TP_ERR_USAGE, "--cell '%.40s' is not lstm, gru, rnn_tanh or "
                           "rnn_relu", arg);
        c->cell = (tp_train_cell_kind)kind;
        return TP_OK;
    }
    case OPT_VOCAB_LIMIT:
        return set_int("--vocab-limit", arg, 3, TP_VOCAB_MAX_SIZE, &c->vocab_limit, err);
    case OPT_EMBED: return set_int("--embed", arg, 1, 65536, &c->embed, err);
    case OPT_HIDDEN: return set_int("--hidden", arg, 1, 65536, &c->hidden, err);
    case OPT_LAYERS: return set_int("--layers", arg, 1, 16, &c->layers, err);
    case OPT_SEQ: return set_int("--seq", arg, 1, 100000, &c->seq, err);
    case OPT_BATCH: return set_int("--batch", arg, 1, 100000, &c->batch, err);
    case OPT_SAMPLE_LENGTH:
        return set_int("--sample-length", arg, 0, 100000, &c->sample_length, err);
    case OPT_LR: return tp_parse_double("--lr", arg, 1e-9, 10, &c->lr, err);
    case OPT_CLIP: return tp_parse_double("--clip", arg, 1e-9, 1e9, &c->clip, err);
    case OPT_DROPOUT: return tp_parse_double("--dropout", arg, 0, 0.99, &c->dropout, err);
    case OPT_DROPOUT_IO:
        return tp_parse_double("--dropout-io", arg, 0, 0.99, &c->dropout_io, err);
    case OPT_VAL_FRACTION:
        return tp_parse_double("--val-fraction", arg, 0, 0.9, &c->val_fraction, err);
    case OPT_MINUTES: return tp_parse_double("--minutes", arg, 0.001, 1e6, &a->minutes, err);
    case OPT_STEPS: {
        tp_status rc = tp_parse_long("--steps", arg, 1, 1000000000L, &c->steps, err);
        a->steps_given = !rc;
        return rc;
    }
    case OPT_EVAL_EVERY:
        return tp_parse_long("--eval-every", arg, 1, 1000000000L, &c->eval_every, err);
    case OPT_THREADS: return tp_parse_long("--threads", arg, 1, 256, &a->threads, err);
    case OPT_STOP_AFTER:
        return tp_parse_long("--stop-after", arg, 1, 1000000000L, &a->stop_after, err);
    case OPT_LOG_EVERY:
        return tp_parse_long("--log-every", arg, 1, 1000000000L, &a->log_every, err);
    }
    return tp_fail(err, TP_ERR_USAGE, "unknown option");
}

/* ---- the run ---------------------------------------------------------- */

/* Set by SIGINT/SIGTERM; the loop checkpoints and stops at the next step. */
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct run {
    struct train_args *a;
    tp_trainer *t;
    int tty;
    double start, last_draw, val;
    long first_step; /* steps done before this run (resume) */
    char desc[512];
};

static void progress(struct run *r, double loss, int force)
{
    double now = now_s(), el = now - r->start;
    long done = r->t->step - r->first_step;
    double rate = el > 0 ? (double)done * r->t->cfg.batch * r->t->cfg.seq / el : 0;
    double eta = done > 0 ? (double)(r->t->cfg.steps - r->t->step) * el / (double)done : 0;
    char val[32] = "-";
    if (!isnan(r->val))
        snprintf(val, sizeof val, "%.4f", r->val);
    if (r->tty) {
        if (!force && now - r->last_draw < 0.2)
            return;
        r->last_draw = now;
        fprintf(stderr, "\r\033[Kstep %ld/%ld  loss %.4f  val %s  %.0f tok/s  eta %.1f min",
                r->t->step, r->t->cfg.steps, loss, val, rate, eta / 60);
        fflush(stderr);
    } else if (force || r->t->step % r->a->log_every == 0) {
        printf("step %ld/%ld loss %.6f val %s %.0f tok/s eta %.1f min\n", r->t->step,
               r->t->cfg.steps, loss, val, rate, eta / 60);
        fflush(stdout);
    }
}

static void end_line(struct run *r)
{
    if (r->tty)
        fputs("\r\033[K", stderr);
}

static int save_all(struct run *r, tp_error *err)
{
    return tp_trainer_save_model(r->t, r->a->out, r->desc, err) ||
           tp_trainer_save_checkpoint(r->t, r->a->checkpoint, err);
}

static int evaluate(struct run *r, int final, tp_error *err)
{
    /* One stream, one token at a time: products too small to share, and
     * a second thread only waits (badly, on a busy machine). */
    openblas_set_num_threads(1);
    r->val = tp_trainer_validate(r->t, final ? 0 : TP_TRAIN_EVAL_TOKENS);
    char *sample = tp_trainer_sample(r->t, r->t->cfg.seed + (uint64_t)r->t->step);
    openblas_set_num_threads((int)r->a->threads);
    end_line(r);
    printf("step %ld val %.6f (%.0f s)\n%s\n", r->t->step, r->val, now_s() - r->start,
           sample ? sample : "");
    fflush(stdout);
    free(sample);
    return save_all(r, err);
}

/* With --minutes and no --steps: the schedule that fits, from the speed of
 * the first steps (5% left for evaluations). */
static void size_schedule(struct run *r)
{
    long done = r->t->step - r->first_step;
    double el = now_s() - r->start;
    double fit = r->a->minutes * 60 * 0.95 / (el / (double)done);
    r->t->cfg.steps = fit > (double)r->t->step + 1 ? (long)fit : r->t->step + 1;
}

static int train_loop(struct run *r)
{
    tp_error err = {0};
    tp_trainer *t = r->t;
    struct train_args *a = r->a;
    int sized = !(a->minutes > 0 && !a->steps_given && !a->resume);
    while (t->step < t->cfg.steps) {
        double loss;
        if (tp_trainer_step(t, &loss, &err))
            return end_line(r), tp_cli_report("train", &err);
        long done = t->step - r->first_step;
        if (!sized && (done >= 20 || now_s() - r->start > 10)) {
            size_schedule(r);
            sized = 1;
        }
        int out_of_time = a->minutes > 0 && now_s() - r->start > a->minutes * 60;
        if (out_of_time)
            t->cfg.steps = t->step;
        progress(r, loss, 0);
        if ((t->step % t->cfg.eval_every == 0 || t->step == t->cfg.steps) &&
            evaluate(r, t->step == t->cfg.steps, &err))
            return end_line(r), tp_cli_report("train", &err);
        if (stop_requested || (a->stop_after && done >= a->stop_after)) {
            end_line(r);
            if (save_all(r, &err))
                return tp_cli_report("train", &err);
            printf("stopped at step %ld; checkpoint %s (continue with --resume %s)\n",
                   t->step, a->checkpoint, a->checkpoint);
            return stop_requested ? 128 + 2 : TP_EXIT_OK;
        }
    }
    end_line(r);
    printf("done: %ld steps in %.0f s, val %.6f nats/token; wrote %s\n", t->step,
           now_s() - r->start, r->val, a->out);
    return TP_EXIT_OK;
}

static int run(struct train_args *a)
{
    tp_error err = {0};
    char *text = NULL;
    size_t len;
    tp_trainer *t = NULL;
    if (tp_read_file(a->text, &text, &len, &err))
        return tp_cli_report("train", &err);
    tp_status rc = a->resume ? tp_trainer_resume(&t, a->resume, text, len,
                                                 a->steps_given ? a->cfg.steps : 0, &err)
                             : tp_trainer_new(&t, &a->cfg, text, len, &err);
    free(text);
    if (!rc && a->init && !a->resume)
        rc = tp_trainer_load_weights(t, a->init, &err);
    if (rc) {
        tp_trainer_free(t);
        return tp_cli_report("train", &err);
    }
    openblas_set_num_threads((int)a->threads);
    t->net.threads = (int)a->threads;
    struct run r = {.a = a, .t = t, .tty = isatty(STDERR_FILENO), .start = now_s(),
                    .val = NAN, .first_step = t->step};
    char tbuf[4096];
    snprintf(tbuf, sizeof tbuf, "%s", a->text);
    snprintf(r.desc, sizeof r.desc, "%s %s embed=%d hidden=%d layers=%d trained on %s by "
             "tempest train", tp_tokenizer_name(t->cfg.tokenizer), t->net.cell->label,
             t->cfg.embed,
             t->cfg.hidden, t->cfg.layers, basename(tbuf));
    printf("train: %d tokens in the vocabulary, %ld training and %ld held-out tokens, "
           "%zu parameters, %d thread(s), step %ld of ", tp_vocab_size(t->vocab), t->n_train,
           t->n_ids - t->n_train, t->net.n_params, (int)a->threads, t->step);
    if (a->minutes > 0 && !a->steps_given && !a->resume)
        printf("as many as fit in %g minutes\n", a->minutes);
    else
        printf("%ld\n", t->cfg.steps);
    fflush(stdout);
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    int status = train_loop(&r);
    tp_trainer_free(t);
    return status;
}

int tp_cmd_train(int argc, char **argv)
{
    static const struct option opts[] = {
        {"seed", required_argument, 0, TP_OPT_SEED},
        {"help", no_argument, 0, TP_OPT_HELP},
        {"version", no_argument, 0, TP_OPT_VERSION},
        {"text", required_argument, 0, OPT_TEXT},
        {"out", required_argument, 0, OPT_OUT},
        {"tokenizer", required_argument, 0, OPT_TOKENIZER},
        {"vocab-limit", required_argument, 0, OPT_VOCAB_LIMIT},
        {"embed", required_argument, 0, OPT_EMBED},
        {"hidden", required_argument, 0, OPT_HIDDEN},
        {"layers", required_argument, 0, OPT_LAYERS},
        {"seq", required_argument, 0, OPT_SEQ},
        {"batch", required_argument, 0, OPT_BATCH},
        {"lr", required_argument, 0, OPT_LR},
        {"clip", required_argument, 0, OPT_CLIP},
        {"dropout", required_argument, 0, OPT_DROPOUT},
        {"dropout-io", required_argument, 0, OPT_DROPOUT_IO},
        {"steps", required_argument, 0, OPT_STEPS},
        {"minutes", required_argument, 0, OPT_MINUTES},
        {"eval-every", required_argument, 0, OPT_EVAL_EVERY},
        {"val-fraction", required_argument, 0, OPT_VAL_FRACTION},
        {"threads", required_argument, 0, OPT_THREADS},
        {"checkpoint", required_argument, 0, OPT_CHECKPOINT},
        {"resume", required_argument, 0, OPT_RESUME},
        {"init", required_argument, 0, OPT_INIT},
        {"stop-after", required_argument, 0, OPT_STOP_AFTER},
        {"log-every", required_argument, 0, OPT_LOG_EVERY},
        {"sample-length", required_argument, 0, OPT_SAMPLE_LENGTH},
        {"cell", required_argument, 0, OPT_CELL},
        {0, 0, 0, 0},
    };
    tp_cli_common c;
    tp_cli_common_init(&c);
    struct train_args a = {.log_every = 50};
    tp_train_defaults(&a.cfg);
    int st = tp_cli_parse("train", argc, argv, opts, HELP, -1, &c, own_option, &a);
    if (st >= 0)
        return st;
    a.cfg.seed = c.seed;
    if (optind < argc)
        return tp_cli_usage_error("train", "unexpected argument '%s'", argv[optind]);
    if (!a.text || !a.out)
        return tp_cli_usage_error("train", "--text FILE and --out MODEL are required");
    if (a.resume && a.init)
        return tp_cli_usage_error("train", "--resume and --init do not go together");
    if (!a.threads) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        a.threads = n >= 1 && n <= 256 ? n : 1;
    }
    if (!a.checkpoint) {
        snprintf(a.ckpt_buf, sizeof a.ckpt_buf, "%s.ckpt", a.out);
        a.checkpoint = a.ckpt_buf;
    }
    return run(&a);
}
