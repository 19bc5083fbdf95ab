/* test_config.c - the config file's syntax, names, duplicates and limits.
 * Values are checked by the front end as flags (tests/cli/config.sh). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "tempest/config.h"

static tp_status parse(tp_config *c, const char *text, tp_error *err)
{
    return tp_config_parse(c, "c.ini", text, strlen(text), err);
}

Test(config, names_values_and_lines)
{
    tp_config c;
    tp_error err = {0};
    const char *text = "# a comment\n"
                       "temperature = 0.7\n"
                       "\n"
                       "[tempest]\n"
                       "top-p=0.9\n"
                       "PROMPT = \"  ROMEO: \"\n"
                       "model = /m/x.safetensors ; an inline comment\n";
    cr_assert_eq(parse(&c, text, &err), TP_OK, "%s", err.msg);
    cr_assert_eq(c.n, 4);
    cr_assert_str_eq(tp_config_get(&c, "temperature"), "0.7");
    cr_assert_eq(c.entries[0].line, 2);
    cr_assert_str_eq(tp_config_get(&c, "top_p"), "0.9", "'-' and '_' alike");
    cr_assert_eq(c.entries[1].line, 5);
    cr_assert_str_eq(tp_config_get(&c, "prompt"), "  ROMEO: ", "quotes keep spaces");
    cr_assert_str_eq(tp_config_get(&c, "model"), "/m/x.safetensors");
    cr_assert_eq(c.entries[3].line, 7);
    cr_assert_null(tp_config_get(&c, "seed"));
}

Test(config, empty_and_comment_only_files_set_nothing)
{
    tp_config c;
    tp_error err = {0};
    cr_assert_eq(tp_config_parse(&c, "c.ini", "", 0, &err), TP_OK);
    cr_assert_eq(c.n, 0);
    cr_assert_eq(parse(&c, "; nothing\n# here\n\n", &err), TP_OK);
    cr_assert_eq(c.n, 0);
}

static void expect_error(const char *text, const char *want)
{
    tp_config c;
    tp_error err = {0};
    cr_assert_eq(parse(&c, text, &err), TP_ERR_USAGE, "accepted: %s", text);
    cr_assert(strstr(err.msg, want), "'%s' gave '%s', wanted '%s'", text, err.msg, want);
    cr_assert_eq(c.n, 0, "a refused file sets nothing");
}

Test(config, errors_name_the_file_and_line)
{
    expect_error("temperature = 1\ncolour = red\n", "c.ini:2: unknown setting 'colour'");
    expect_error("seed = 1\n\nseed = 2\n", "c.ini:3: seed is set twice");
    expect_error("top_k = 4\n[playground]\nspeed = 3\n", "c.ini:3: unknown section [playground]");
    expect_error("temperature 0.8\n", "c.ini:1: not 'name = value'");
    expect_error("[tempest\n", "c.ini:1:");
    expect_error("seed = 1\n  continued\n", "c.ini:2: seed is set twice");
}

Test(config, long_lines_and_nul_bytes_are_refused_not_cut)
{
    char text[400];
    memset(text, 'x', sizeof text);
    memcpy(text, "prompt = ", 9);
    text[300] = '\0';
    expect_error(text, "c.ini:1: a line longer than 197 bytes");
    tp_config c;
    tp_error err = {0};
    const char nul[] = "seed = 1\nseed\0 = 2\n";
    cr_assert_eq(tp_config_parse(&c, "c.ini", nul, sizeof nul - 1, &err), TP_ERR_USAGE);
    cr_assert(strstr(err.msg, "c.ini:2: a NUL byte"), "%s", err.msg);
    /* 197 bytes exactly is fine */
    memset(text, 'y', sizeof text);
    memcpy(text, "prompt = ", 9);
    text[197] = '\n';
    text[198] = '\0';
    cr_assert_eq(parse(&c, text, &err), TP_OK, "%s", err.msg);
    cr_assert_eq(strlen(tp_config_get(&c, "prompt")), 197 - 9);
}

Test(config, a_missing_file_is_an_io_error)
{
    tp_config c;
    tp_error err = {0};
    cr_assert_eq(tp_config_load(&c, "/nonexistent/tempest.ini", &err), TP_ERR_IO);
    cr_assert(strstr(err.msg, "/nonexistent/tempest.ini"), "%s", err.msg);
}

Test(config, locate_follows_tempest_config_then_xdg_then_home)
{
    char path[256];
    int is_explicit;
    tp_error err = {0};
    setenv("TEMPEST_CONFIG", "/etc/t.ini", 1);
    cr_assert_eq(tp_config_locate(path, sizeof path, &is_explicit, &err), TP_OK);
    cr_assert_str_eq(path, "/etc/t.ini");
    cr_assert(is_explicit);
    unsetenv("TEMPEST_CONFIG");
    setenv("XDG_CONFIG_HOME", "/x", 1);
    setenv("HOME", "/h", 1);
    cr_assert_eq(tp_config_locate(path, sizeof path, &is_explicit, &err), TP_OK);
    cr_assert_str_eq(path, "/x/tempest/config.ini");
    cr_assert(!is_explicit);
    setenv("XDG_CONFIG_HOME", "relative", 1); /* ignored, as the XDG spec says */
    cr_assert_eq(tp_config_locate(path, sizeof path, &is_explicit, &err), TP_OK);
    cr_assert_str_eq(path, "/h/.config/tempest/config.ini");
    cr_assert_eq(tp_config_locate(path, 10, &is_explicit, &err), TP_ERR_USAGE);
}
