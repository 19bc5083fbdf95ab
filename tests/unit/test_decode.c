/* test_decode.c - strategies, greedy, beam and sampled beam on a tiny
 * hand-made model whose best sequence is known, and sweep determinism. */
#include <criterion/criterion.h>
#include <math.h>

#include "helpers.h"
#include "tempest/decode.h"
#include "tempest/session.h"
#include "tempest/sweep.h"

/* A Markov chain as an LSTM. Input is one-hot, H = V; the gates are
 * saturated so that h = tanh(1) * onehot(token), and the head maps that
 * back to a row of log-probabilities L[token]. Tokens: \n A B C D E.
 *   after \n: B .6, C .4      after B: A, D, E 1/3 each
 *   after C: D 1              after A, D, E: \n 1
 * Greedy takes B (then A): probability .6 * 1/3 = .2. Two beams find
 * C then D: .4 * 1 = .4, the best two-token sequence. */
#define V 6
#define NEG -30.0

static tp_model *markov_model(void)
{
    double L[V][V];
    for (int i = 0; i < V; i++)
        for (int j = 0; j < V; j++)
            L[i][j] = NEG;
    L[0][2] = log(0.6), L[0][3] = log(0.4);
    L[2][1] = L[2][4] = L[2][5] = log(1.0 / 3);
    L[3][4] = 0.0;
    L[1][0] = L[4][0] = L[5][0] = 0.0;
    float w_ih[4 * V * V] = {0}, w_hh[4 * V * V] = {0}, head[V * V], bias[V] = {0};
    for (int j = 0; j < V; j++)
        for (int v = 0; v < V; v++) {
            w_ih[(0 * V + j) * V + v] = 20.0f;           /* input gate open */
            w_ih[(1 * V + j) * V + v] = -20.0f;          /* forget gate shut */
            w_ih[(2 * V + j) * V + v] = j == v ? 10.f : 0; /* cell: the token */
            w_ih[(3 * V + j) * V + v] = 20.0f;           /* output gate open */
        }
    /* h_j = sigmoid(20) * tanh(sigmoid(20) * tanh(10)) for j = token. */
    double s20 = 1.0 / (1.0 + exp(-20.0)), hval = s20 * tanh(s20 * tanh(10.0));
    for (int v = 0; v < V; v++)
        for (int j = 0; j < V; j++)
            head[v * V + j] = (float)(L[j][v] / hval);
    th_file f = {0};
    th_file_add(&f, "lstm.weight_ih_l0", 2, 4 * V, V, w_ih);
    th_file_add(&f, "lstm.weight_hh_l0", 2, 4 * V, V, w_hh);
    th_file_add(&f, "head.weight", 2, V, V, head);
    th_file_add(&f, "head.bias", 1, V, 0, bias);
    f.has_meta = 1;
    th_set(&f.tokenizer, "char");
    th_set(&f.vocab, "[\"\\n\", \"A\", \"B\", \"C\", \"D\", \"E\"]");
    tp_model *m = NULL;
    tp_error err = {0};
    cr_assert_eq(th_file_model(&f, &m, &err), TP_OK, "%s", err.msg);
    th_file_free(&f);
    return m;
}

static tp_sampler_config at_temperature(double T)
{
    tp_sampler_config cfg;
    tp_sampler_defaults(&cfg);
    cfg.temperature = T;
    return cfg;
}

static tp_generation decode(const tp_model *m, double T, int beam, int sampled, uint64_t seed,
                            int length)
{
    tp_sampler_config cfg = at_temperature(T);
    tp_generation g;
    tp_error err = {0};
    cr_assert_eq(tp_decode(m, NULL, 0, &cfg, beam, sampled, seed, length, &g, &err), TP_OK,
                 "%s", err.msg);
    return g;
}

Test(decode, greedy_takes_the_locally_best_path)
{
    tp_model *m = markov_model();
    tp_generation g = decode(m, 0.0, 0, 0, 1, 2);
    cr_assert_eq(g.tokens[0], 2); /* B */
    cr_assert_eq(g.tokens[1], 1); /* A: lowest id of the three-way tie */
    free(g.tokens);
    tp_model_free(m);
}

Test(decode, beam_of_two_finds_the_best_sequence)
{
    tp_model *m = markov_model();
    tp_generation g = decode(m, 1.0, 2, 0, 1, 2);
    cr_assert_eq(g.tokens[0], 3); /* C */
    cr_assert_eq(g.tokens[1], 4); /* D */
    /* length-normalised: the mean log probability per token */
    cr_assert_float_eq(g.score, (log(0.4) + 0.0) / 2, 1e-4);
    free(g.tokens);
    g = decode(m, 1.0, 1, 0, 1, 2); /* a beam of one is greedy */
    cr_assert_eq(g.tokens[0], 2);
    free(g.tokens);
    tp_model_free(m);
}

Test(decode, sampled_beam_is_seeded)
{
    tp_model *m = markov_model();
    tp_generation a = decode(m, 1.0, 3, 1, 42, 12), b = decode(m, 1.0, 3, 1, 42, 12);
    cr_assert_arr_eq(a.tokens, b.tokens, 12 * sizeof(int));
    free(a.tokens);
    free(b.tokens);
    tp_model_free(m);
}

Test(decode, sampling_matches_the_session)
{
    /* Sweeps and `generate` must tell the same story for the same seed. */
    tp_model *m = markov_model();
    tp_generation g = decode(m, 1.0, 0, 0, 7, 30);
    tp_sampler_config cfg = at_temperature(1.0);
    tp_session *s = NULL;
    cr_assert_eq(tp_session_new(&s, m, "", &cfg, 7, NULL), TP_OK);
    for (int i = 0; i < 30; i++)
        cr_assert_eq(tp_session_step(s, NULL), g.tokens[i], "step %d", i);
    tp_session_free(s);
    free(g.tokens);
    tp_model_free(m);
}

Test(decode, entropy_and_self_nll_are_means_over_steps)
{
    tp_model *m = markov_model();
    tp_generation g = decode(m, 1.0, 2, 0, 1, 2);
    /* C then D: entropies H(.6,.4) and 0; -ln p at T = 1: -ln .4 and 0 */
    double h1 = -(0.6 * log2(0.6) + 0.4 * log2(0.4));
    cr_assert_float_eq(g.entropy_bits, h1 / 2, 1e-3);
    cr_assert_float_eq(g.self_nll, -log(0.4) / 2, 1e-4);
    free(g.tokens);
    tp_model_free(m);
}

/* Sequence i's chain in the batch tests: temperatures from greedy to hot,
 * truncations and a repetition penalty on some, all in one batch. */
static tp_sampler_config mixed_config(int i)
{
    static const double T[] = {0.0, 0.5, 1.0, 2.0, 0.8};
    tp_sampler_config cfg = at_temperature(T[i % 5]);
    if (i % 3 == 1)
        cfg.top_k = 3;
    if (i % 4 == 2)
        cfg.top_p = 0.9;
    if (i % 7 == 3)
        cfg.min_p = 0.1;
    if (i % 2 == 1)
        cfg.repeat_penalty = 1.3;
    return cfg;
}

static void same_generation(const tp_generation *a, const tp_generation *b, int i)
{
    cr_assert_eq(a->n, b->n, "sequence %d", i);
    cr_assert_arr_eq(a->tokens, b->tokens, (size_t)a->n * sizeof(int), "sequence %d", i);
    cr_assert(a->entropy_bits == b->entropy_bits, "sequence %d entropy", i);
    cr_assert(a->self_nll == b->self_nll, "sequence %d self nll", i);
    cr_assert(a->score == b->score, "sequence %d score", i);
}

/* n sequences of the batch against tp_decode of each alone: 20 is split
 * between the cores, 70 also runs in chunks of 64. */
static void check_batch(const tp_model *m, const int *prompt, int n_prompt, int n, int length)
{
    tp_sampler_config cfgs[70];
    uint64_t seeds[70];
    tp_generation batch[70];
    cr_assert(n <= 70);
    for (int i = 0; i < n; i++) {
        cfgs[i] = mixed_config(i);
        seeds[i] = 100 + (uint64_t)i;
    }
    tp_error err = {0};
    cr_assert_eq(tp_decode_batch(m, prompt, n_prompt, cfgs, seeds, n, length, batch, &err),
                 TP_OK, "%s", err.msg);
    for (int i = 0; i < n; i++) {
        tp_generation alone;
        cr_assert_eq(tp_decode(m, prompt, n_prompt, &cfgs[i], 0, 0, seeds[i], length, &alone,
                               &err), TP_OK, "%s", err.msg);
        same_generation(&batch[i], &alone, i);
        free(alone.tokens);
        free(batch[i].tokens);
    }
}

Test(decode, batch_gives_each_sequence_what_it_gives_alone)
{
    th_lstm t;
    tp_error err = {0};
    tp_model *m = th_small_model(&t, 17, &err);
    cr_assert_not_null(m, "%s", err.msg);
    const int prompt[] = {3, 1, 4, 1, 5};
    int n[] = {1, 5, 20, 70};
    for (size_t k = 0; k < sizeof n / sizeof n[0]; k++) {
        check_batch(m, prompt, 5, n[k], 40);
        check_batch(m, NULL, 0, n[k], 25);
    }
    check_batch(m, prompt, 5, 3, 0); /* no tokens: means over nothing are 0 */
    check_batch(m, prompt, 5, 3, 1);
    tp_model_free(m);
    th_lstm_free(&t);
}

Test(decode, batch_rejects_an_empty_batch)
{
    tp_model *m = markov_model();
    tp_sampler_config cfg = at_temperature(1.0);
    uint64_t seed = 1;
    tp_generation g;
    tp_error err = {0};
    cr_assert_eq(tp_decode_batch(m, NULL, 0, &cfg, &seed, 0, 10, &g, &err), TP_ERR_USAGE);
    cr_assert_eq(tp_decode_batch(m, NULL, 0, &cfg, &seed, 1, -1, &g, &err), TP_ERR_USAGE);
    tp_model_free(m);
}

Test(strategy, parses_the_sweep_syntax)
{
    tp_strategy s;
    cr_assert_eq(tp_strategy_parse("top_p=0.95+beam=3", &s, NULL), TP_OK);
    cr_assert_eq(s.beam, 3);
    cr_assert(s.has_top_p && s.top_p == 0.95 && s.sampled_beam);
    cr_assert_eq(tp_strategy_parse("beam=3", &s, NULL), TP_OK);
    cr_assert(s.beam == 3 && !s.sampled_beam);
    cr_assert_eq(tp_strategy_parse("greedy", &s, NULL), TP_OK);
    cr_assert(s.greedy);
    cr_assert_eq(tp_strategy_parse("top_k=40", &s, NULL), TP_OK);
    cr_assert(s.has_top_k && s.top_k == 40 && !s.beam);
    tp_error err = {0};
    cr_assert_eq(tp_strategy_parse("bogus", &s, &err), TP_ERR_USAGE);
    cr_assert(strstr(err.msg, "bogus"));
    cr_assert_eq(tp_strategy_parse("beam=0", &s, NULL), TP_ERR_USAGE);
    cr_assert_eq(tp_strategy_parse("top_p=1.5", &s, NULL), TP_ERR_USAGE);
    cr_assert_eq(tp_strategy_parse("top_k=4x", &s, NULL), TP_ERR_USAGE);
}

Test(strategy, config_overrides_only_what_it_names)
{
    tp_strategy s;
    tp_sampler_config base = at_temperature(1.0), out;
    base.min_p = 0.05;
    cr_assert_eq(tp_strategy_parse("top_k=40", &s, NULL), TP_OK);
    tp_strategy_config(&s, 0.7, &base, &out);
    cr_assert(out.temperature == 0.7 && out.top_k == 40 && out.min_p == 0.05);
    cr_assert_eq(tp_strategy_parse("greedy", &s, NULL), TP_OK);
    tp_strategy_config(&s, 0.7, &base, &out);
    cr_assert(out.temperature == 0.0);
}

static void run_sweep(const tp_model *m, int jobs, tp_sweep_cell *cells, int n)
{
    static const double temps[] = {0.5, 1.0, 1.5};
    tp_strategy st[2];
    cr_assert_eq(tp_strategy_parse("sample", &st[0], NULL), TP_OK);
    cr_assert_eq(tp_strategy_parse("beam=2", &st[1], NULL), TP_OK);
    tp_sweep_spec spec = {.model = m, .temperatures = temps, .n_temperatures = 3,
                          .strategies = st, .n_strategies = 2, .n_seeds = 4, .seed0 = 9,
                          .length = 40, .jobs = jobs, .base = at_temperature(1.0)};
    cr_assert_eq(tp_sweep_n_cells(&spec), n);
    cr_assert_eq(tp_sweep_run(&spec, cells, 0, NULL, NULL, NULL), TP_OK);
}

Test(sweep, same_numbers_on_one_or_two_threads)
{
    tp_model *m = markov_model();
    tp_sweep_cell a[24], b[24];
    run_sweep(m, 1, a, 24);
    run_sweep(m, 2, b, 24);
    for (int i = 0; i < 24; i++) {
        cr_assert_eq(a[i].seed, b[i].seed);
        for (int k = 0; k < TP_N_METRICS; k++)
            cr_assert(a[i].metric[k] == b[i].metric[k] ||
                      (isnan(a[i].metric[k]) && isnan(b[i].metric[k])), "cell %d metric %d", i, k);
    }
    cr_assert_eq(a[5].strategy, 0);
    cr_assert_eq(a[5].temperature, 1);
    cr_assert_eq(a[5].seed, 10u);
    tp_model_free(m);
}

/* A sweep steps a sampling strategy's cells together: each cell's numbers
 * are still those of decoding it alone. */
Test(sweep, batched_cells_match_decoding_each_alone)
{
    th_lstm t;
    tp_error err = {0};
    tp_model *m = th_small_model(&t, 23, &err);
    cr_assert_not_null(m, "%s", err.msg);
    double temps[] = {0.0, 0.7, 1.4};
    tp_strategy st[3];
    cr_assert_eq(tp_strategy_parse("sample", &st[0], NULL), TP_OK);
    cr_assert_eq(tp_strategy_parse("top_p=0.8+min_p=0.05", &st[1], NULL), TP_OK);
    cr_assert_eq(tp_strategy_parse("beam=2", &st[2], NULL), TP_OK);
    enum { N = 3 * 3 * 30 };
    static tp_sweep_cell cells[N];
    tp_sweep_spec spec = {.model = m, .temperatures = temps, .n_temperatures = 3,
                          .strategies = st, .n_strategies = 3, .n_seeds = 30, .seed0 = 5,
                          .length = 30, .jobs = 2, .base = at_temperature(1.0)};
    cr_assert_eq(tp_sweep_run(&spec, cells, 0, NULL, NULL, &err), TP_OK, "%s", err.msg);
    for (int i = 0; i < N; i++) {
        const tp_strategy *s = &st[cells[i].strategy];
        tp_sampler_config cfg;
        tp_strategy_config(s, temps[cells[i].temperature], &spec.base, &cfg);
        tp_generation g;
        cr_assert_eq(tp_decode(m, NULL, 0, &cfg, s->beam, s->sampled_beam, cells[i].seed, 30,
                               &g, &err), TP_OK);
        cr_assert(cells[i].metric[TP_M_ENTROPY] == g.entropy_bits, "cell %d", i);
        cr_assert(cells[i].metric[TP_M_SELF_PPL] == exp(g.self_nll), "cell %d", i);
        free(g.tokens);
    }
    tp_sweep_cells_free(cells, N);
    tp_model_free(m);
    th_lstm_free(&t);
}

Test(sweep, summary_is_mean_and_sample_sd)
{
    tp_strategy st;
    cr_assert_eq(tp_strategy_parse("sample", &st, NULL), TP_OK);
    double temps[] = {1.0};
    tp_sweep_spec spec = {.temperatures = temps, .n_temperatures = 1, .strategies = &st,
                          .n_strategies = 1, .n_seeds = 3};
    tp_sweep_cell cells[3] = {0};
    cells[0].metric[TP_M_ENTROPY] = 1.0;
    cells[1].metric[TP_M_ENTROPY] = 2.0;
    cells[2].metric[TP_M_ENTROPY] = 3.0;
    double mean[TP_N_METRICS], sd[TP_N_METRICS];
    tp_sweep_summary(&spec, cells, 0, 0, mean, sd);
    cr_assert_float_eq(mean[TP_M_ENTROPY], 2.0, 1e-12);
    cr_assert_float_eq(sd[TP_M_ENTROPY], 1.0, 1e-12);
}

Test(sweep, playground_request_defaults_and_parsing)
{
    tp_sweep_request r;
    cr_assert_eq(tp_sweep_parse_request("", &r, NULL), TP_OK);
    cr_assert_eq(r.n_temperatures, 5);
    cr_assert_eq(r.n_strategies, 2);
    cr_assert_eq(tp_sweep_parse_request("0.2,1.5 greedy;beam=2", &r, NULL), TP_OK);
    cr_assert_eq(r.n_temperatures, 2);
    cr_assert_float_eq(r.temperatures[1], 1.5, 1e-12);
    cr_assert_eq(r.n_strategies, 2);
    cr_assert_eq(r.strategies[1].beam, 2);
    cr_assert_eq(tp_sweep_parse_request("top_k=40", &r, NULL), TP_OK);
    cr_assert_eq(r.n_temperatures, 5);
    cr_assert(r.strategies[0].has_top_k);
    tp_error err = {0};
    cr_assert_eq(tp_sweep_parse_request("0.5,abc", &r, &err), TP_ERR_USAGE);
    cr_assert(strstr(err.msg, "0.5,abc"));
    cr_assert_eq(tp_sweep_parse_request("1.0,0.5", &r, &err), TP_ERR_USAGE);
    cr_assert(strstr(err.msg, "increase"));
    cr_assert_eq(tp_sweep_parse_request("0.5 nonsense", &r, &err), TP_ERR_USAGE);
}

Test(sweep, cancel_stops_a_sweep)
{
    tp_model *m = markov_model();
    static const double temps[] = {1.0};
    tp_strategy st;
    cr_assert_eq(tp_strategy_parse("sample", &st, NULL), TP_OK);
    volatile int cancel = 1;
    tp_sweep_spec spec = {.model = m, .temperatures = temps, .n_temperatures = 1,
                          .strategies = &st, .n_strategies = 1, .n_seeds = 4, .length = 10,
                          .jobs = 1, .base = at_temperature(1.0), .cancel = &cancel};
    tp_sweep_cell cells[4];
    tp_error err = {0};
    cr_assert_eq(tp_sweep_run(&spec, cells, 0, NULL, NULL, &err), TP_ERR_USAGE);
    cr_assert(strstr(err.msg, "cancelled"));
    tp_model_free(m);
}
