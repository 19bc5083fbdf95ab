/* test_script.c - the demo script parser. */
#include <criterion/criterion.h>
#include <string.h>

#include "tempest/script.h"

static tp_script parse_ok(const char *text)
{
    tp_script s;
    tp_error err = {0};
    cr_assert_eq(tp_script_parse(&s, text, strlen(text), "demo", &err), TP_OK, "%s", err.msg);
    return s;
}

static void parse_bad(const char *text, const char *want)
{
    tp_script s;
    tp_error err = {0};
    cr_assert_neq(tp_script_parse(&s, text, strlen(text), "demo", &err), TP_OK, "%s", text);
    cr_assert(strstr(err.msg, want), "'%s' not in '%s'", want, err.msg);
    cr_assert_null(s.steps);
}

Test(script, every_instruction)
{
    tp_script s = parse_ok("# a demo\n"
                           "\n"
                           "caption \"Low T: \\\"stiff\\\" # not a comment\"  # a comment\n"
                           "temp 0.3\n"
                           "wait 2s\n"
                           "wait 500ms\n"
                           "wait 40 tokens\n"
                           "pause 1.5\n"
                           "at 20s topk 40\n"
                           "at 300 tokens caption off\n"
                           "restart\n"
                           "restart 42\n"
                           "   quit   \n");
    static const struct { tp_script_op op; int line; double amount; const char *text; } W[] = {
        {TP_SCRIPT_CAPTION, 3, 0, "Low T: \"stiff\" # not a comment"},
        {TP_SCRIPT_COMMAND, 4, 0, "temp 0.3"},
        {TP_SCRIPT_WAIT_MS, 5, 2000, ""},
        {TP_SCRIPT_WAIT_MS, 6, 500, ""},
        {TP_SCRIPT_WAIT_TOKENS, 7, 40, ""},
        {TP_SCRIPT_PAUSE_MS, 8, 1500, ""},
        {TP_SCRIPT_UNTIL_MS, 9, 20000, ""},
        {TP_SCRIPT_COMMAND, 9, 0, "topk 40"},
        {TP_SCRIPT_UNTIL_TOKENS, 10, 300, ""},
        {TP_SCRIPT_CAPTION, 10, 0, ""},
        {TP_SCRIPT_RESTART, 11, -1, ""},
        {TP_SCRIPT_RESTART, 12, 42, ""},
        {TP_SCRIPT_QUIT, 13, 0, ""},
    };
    cr_assert_eq(s.n_steps, (int)(sizeof W / sizeof W[0]));
    for (int i = 0; i < s.n_steps; i++) {
        cr_assert_eq(s.steps[i].op, W[i].op, "step %d", i);
        cr_assert_eq(s.steps[i].line, W[i].line, "step %d", i);
        cr_assert_float_eq(s.steps[i].amount, W[i].amount, 1e-9, "step %d", i);
        cr_assert_str_eq(s.steps[i].text, W[i].text, "step %d", i);
    }
    tp_script_free(&s);
}

Test(script, empty_script_is_fine)
{
    tp_script s = parse_ok("# nothing\n\n   \n");
    cr_assert_eq(s.n_steps, 0);
    tp_script_free(&s);
}

Test(script, errors_name_the_line)
{
    parse_bad("wait 2s\nwait soon\n", "demo line 2: 'soon' is not a duration");
    parse_bad("temp 9000\n", "demo line 1: temp");
    parse_bad("wait 2s\n\nfrobnicate 3\n", "demo line 3: unknown command 'frobnicate'");
    parse_bad("pause 40 tokens\n", "pause takes a duration");
    parse_bad("wait 3h\n", "the unit must be s, ms or tokens");
    parse_bad("wait -1s\n", "not a duration");
    parse_bad("wait 2s now\n", "unexpected 'now'");
    parse_bad("wait 100000s\n", "longer than");
    parse_bad("wait 1.5 tokens\n", "whole number");
    parse_bad("caption \"open\n", "closing '\"'");
    parse_bad("caption \"a\" b\n", "closing '\"'");
    parse_bad("at 5s\n", "what should happen then");
    parse_bad("at 5s at 6s quit\n", "one 'at' per line");
    parse_bad("restart soon\n", "not a seed");
    parse_bad("topk -3\n", "demo line 1: topk");
    char nul[] = "wait 1s\nwa\0t\n";
    tp_script s;
    tp_error err = {0};
    cr_assert_neq(tp_script_parse(&s, nul, sizeof nul - 1, "demo", &err), TP_OK);
    cr_assert(strstr(err.msg, "line 2"), "%s", err.msg);
}

Test(script, long_lines_and_captions_are_refused)
{
    char line[2048];
    memset(line, 'x', sizeof line);
    memcpy(line, "caption ", 8);
    line[sizeof line - 1] = '\0';
    parse_bad(line, "longer than");
    memcpy(line, "caption \"", 9);
    line[600] = '"';
    line[601] = '\0';
    parse_bad(line, "longer than");
}
