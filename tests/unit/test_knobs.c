/* test_knobs.c - knob stepping, change descriptions, the status format and
 * `:` command parsing, all without a terminal. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "tempest/knobs.h"

Test(knobs, temperature_steps_and_clamps)
{
    cr_assert_float_eq(tp_knob_temperature(0.80, 0.05), 0.85, 1e-9);
    cr_assert_float_eq(tp_knob_temperature(0.80, -0.05), 0.75, 1e-9);
    cr_assert_float_eq(tp_knob_temperature(0.02, -0.05), 0.0, 1e-12);
    cr_assert_float_eq(tp_knob_temperature(4.9, 0.5), 5.0, 1e-12);
    double t = 0.0;
    for (int i = 0; i < 16; i++)
        t = tp_knob_temperature(t, 0.05);
    cr_assert_float_eq(t, 0.80, 1e-12, "repeated steps must not drift: %.17g", t);
}

Test(knobs, top_k_ladder)
{
    static const int up[] = {0, 1, 2, 3, 5, 10, 20, 40, 100, 200, 200};
    int k = 0;
    for (int i = 1; i < 11; i++) {
        k = tp_knob_top_k(k, +1);
        cr_assert_eq(k, up[i], "step %d: got %d", i, k);
    }
    cr_assert_eq(tp_knob_top_k(1, -1), 0);
    cr_assert_eq(tp_knob_top_k(0, -1), 0);
    cr_assert_eq(tp_knob_top_k(7, +1), 10, "between rungs goes to the next rung");
    cr_assert_eq(tp_knob_top_k(7, -1), 5);
    cr_assert_eq(tp_knob_top_k(500, -1), 200);
}

Test(knobs, top_p_and_min_p)
{
    cr_assert_float_eq(tp_knob_top_p(1.0, -1), 0.95, 1e-12);
    cr_assert_float_eq(tp_knob_top_p(0.95, +1), 1.0, 1e-12);
    cr_assert_float_eq(tp_knob_top_p(1.0, +1), 1.0, 1e-12);
    cr_assert_float_eq(tp_knob_top_p(0.05, -1), 0.05, 1e-12);
    cr_assert_float_eq(tp_knob_min_p(0.0, -1), 0.0, 1e-12);
    cr_assert_float_eq(tp_knob_min_p(0.0, +1), 0.01, 1e-12);
    cr_assert_float_eq(tp_knob_min_p(1.0, +1), 1.0, 1e-12);
}

Test(knobs, status_format)
{
    tp_sampler_config c;
    tp_sampler_defaults(&c);
    c.top_k = 40;
    c.top_p = 0.95;
    char out[160];
    tp_knobs_format(&c, out, sizeof out);
    cr_assert_str_eq(out, "T=0.80  top-k=40  top-p=0.95  min-p=off  order=temp-first");
    tp_knob_cycle_order(&c);
    c.top_k = 0;
    c.top_p = 1.0;
    c.min_p = 0.05;
    tp_knobs_format(&c, out, sizeof out);
    cr_assert_str_eq(out, "T=0.80  top-k=off  top-p=off  min-p=0.05  order=trunc-first");
}

Test(knobs, describe_change)
{
    tp_sampler_config a, b;
    tp_sampler_defaults(&a);
    b = a;
    char out[96];
    cr_assert_eq(tp_knobs_describe_change(&a, &b, 1, out, sizeof out), 0);
    cr_assert_str_eq(out, "");
    b.temperature = 1.5;
    cr_assert_eq(tp_knobs_describe_change(&a, &b, 1, out, sizeof out), 1);
    cr_assert_str_eq(out, "T 0.80->1.50");
    b = a;
    b.top_k = 3;
    tp_knobs_describe_change(&a, &b, 0, out, sizeof out);
    cr_assert_str_eq(out, "top-k off→3");
}

static tp_command parse_ok(const char *line)
{
    tp_sampler_config c;
    tp_sampler_defaults(&c);
    tp_command cmd;
    tp_error err = {0};
    cr_assert_eq(tp_command_parse(line, &c, &cmd, &err), TP_OK, "%s: %s", line, err.msg);
    return cmd;
}

static void parse_bad(const char *line, const char *needle)
{
    tp_sampler_config c;
    tp_sampler_defaults(&c);
    tp_command cmd;
    tp_error err = {0};
    cr_assert_neq(tp_command_parse(line, &c, &cmd, &err), TP_OK, "%s parsed", line);
    cr_assert_eq(cmd.action, TP_ACT_NONE);
    cr_assert_float_eq(cmd.cfg.temperature, 0.8, 1e-12, "nothing changes on error");
    cr_assert(strstr(err.msg, needle), "%s: message '%s' lacks '%s'", line, err.msg, needle);
}

Test(commands, sampler_settings)
{
    tp_command c = parse_ok(":temp 1.3");
    cr_assert_eq(c.action, TP_ACT_SET_CONFIG);
    cr_assert_float_eq(c.cfg.temperature, 1.3, 1e-12);
    cr_assert_eq(parse_ok("topk 40").cfg.top_k, 40);
    cr_assert_eq(parse_ok("topk off").cfg.top_k, 0);
    cr_assert_float_eq(parse_ok("topp 0.9  ").cfg.top_p, 0.9, 1e-12);
    cr_assert_float_eq(parse_ok("topp off").cfg.top_p, 1.0, 1e-12);
    cr_assert_float_eq(parse_ok("minp 0.05").cfg.min_p, 0.05, 1e-12);
    tp_command o = parse_ok("order trunc-first");
    cr_assert_eq(tp_sampler_is_temperature_first(&o.cfg), 0);
}

Test(commands, other_commands)
{
    cr_assert_eq(parse_ok("seed 42").seed, 42);
    tp_command c = parse_ok("prompt ROMEO:\\nO");
    cr_assert_eq(c.action, TP_ACT_SET_PROMPT);
    cr_assert_str_eq(c.text, "ROMEO:\nO");
    cr_assert_eq(parse_ok("theme light").action, TP_ACT_SET_THEME);
    cr_assert_eq(parse_ok("model /x.safetensors").action, TP_ACT_SET_MODEL);
    cr_assert_eq(parse_ok("save out.txt").action, TP_ACT_SAVE);
    cr_assert_float_eq(parse_ok("speed 50").speed, 50.0, 1e-12);
    cr_assert_float_eq(parse_ok("speed max").speed, 0.0, 1e-12);
    cr_assert_eq(parse_ok("help").action, TP_ACT_HELP);
    cr_assert_eq(parse_ok("quit").action, TP_ACT_QUIT);
    cr_assert_eq(parse_ok("   ").action, TP_ACT_NONE);
}

Test(commands, errors_change_nothing)
{
    parse_bad("temp abc", "not a number");
    parse_bad("temp -1", "out of range");
    parse_bad("temp", "needs a value");
    parse_bad("topk -3", "whole number");
    parse_bad("topp 1.5", "out of range");
    parse_bad("minp 2", "out of range");
    parse_bad("seed x", "whole number");
    parse_bad("speed 0", "out of range");
    parse_bad("order sideways", "order");
    parse_bad("frobnicate 3", "unknown command");
    parse_bad("model", "needs a value");
}

Test(commands, escape_round_trip)
{
    char esc[64], back[64];
    tp_escape_line("a\nb\tc\\d", esc, sizeof esc);
    cr_assert_str_eq(esc, "a\\nb\\tc\\\\d");
    tp_unescape_line(esc, back, sizeof back);
    cr_assert_str_eq(back, "a\nb\tc\\d");
}

Test(commands, sweep_is_parsed_once_here)
{
    tp_command c = parse_ok(":sweep 0.5,1.5 greedy;top_p=0.9");
    cr_assert_eq(c.action, TP_ACT_SWEEP);
    cr_assert_eq(c.sweep.n_temperatures, 2);
    cr_assert_float_eq(c.sweep.temperatures[1], 1.5, 1e-12);
    cr_assert_eq(c.sweep.n_strategies, 2);
    cr_assert(c.sweep.strategies[0].greedy);
    cr_assert(c.sweep.strategies[1].has_top_p);
    c = parse_ok(":sweep");
    cr_assert_eq(c.sweep.n_temperatures, 5); /* the defaults */
    parse_bad(":sweep 0.5,abc", "0.5,abc");
}

Test(commands, dice_counts_default_and_range)
{
    tp_command c = parse_ok(":dice");
    cr_assert_eq(c.action, TP_ACT_DICE_SAMPLE);
    cr_assert_eq(c.length, TP_DICE_DEFAULT);
    cr_assert_eq(parse_ok("dice 500").length, 500);
    parse_bad("dice 0", "at least 1");
    parse_bad("dice -3", "whole number");
    parse_bad("dice 99999999", "whole number");
    parse_bad("dice many", "whole number");
}
