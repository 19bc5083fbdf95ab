/* keys.c - the keymap as data (dispatch and help read the same table) and
 * what each action does to the session. */
#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "tempest/tui_cmdline.h"
#include "tempest/tui_explore.h"
#include "tempest/tui_keys.h"
#include "tempest/tui_lanes.h"
#include "tempest/tui_sweep.h"

#define CTRL(c) ((c) & 0x1f)

const tp_key_binding TP_KEYMAP[] = {
    {'t', TP_ACT_TEMP_DOWN, "t"},       {KEY_LEFT, TP_ACT_TEMP_DOWN, "←"},
    {'T', TP_ACT_TEMP_UP, "T"},         {KEY_RIGHT, TP_ACT_TEMP_UP, "→"},
    {'{', TP_ACT_TEMP_DOWN_BIG, "{"},   {'}', TP_ACT_TEMP_UP_BIG, "}"},
    {'0', TP_ACT_GREEDY, "0"},          {'k', TP_ACT_TOPK_DOWN, "k"},
    {'K', TP_ACT_TOPK_UP, "K"},         {'p', TP_ACT_TOPP_DOWN, "p"},
    {'P', TP_ACT_TOPP_UP, "P"},         {'m', TP_ACT_MINP_DOWN, "m"},
    {'M', TP_ACT_MINP_UP, "M"},         {'o', TP_ACT_ORDER, "o"},
    {' ', TP_ACT_PAUSE, "space"},       {'n', TP_ACT_STEP, "n"},
    {'+', TP_ACT_FASTER, "+"},          {'=', TP_ACT_FASTER, "="},
    {'-', TP_ACT_SLOWER, "-"},          {'f', TP_ACT_FULL_SPEED, "f"},
    {'r', TP_ACT_RESTART, "r"},         {'R', TP_ACT_RESTART_NEW_SEED, "R"},
    {'e', TP_ACT_EDIT_PROMPT, "e"},     {'c', TP_ACT_COLOR_MODE, "c"},
    {':', TP_ACT_COMMAND_LINE, ":"},    {'?', TP_ACT_HELP, "?"},
    {'q', TP_ACT_QUIT, "q"},            {CTRL('c'), TP_ACT_QUIT, "Ctrl-C"},
    {CTRL('l'), TP_ACT_REDRAW, "Ctrl-L"},
    {'1', TP_ACT_LANE_1, "1-4"},        {'2', TP_ACT_LANE_2, "2"},
    {'3', TP_ACT_LANE_3, "3"},          {'4', TP_ACT_LANE_4, "4"},
    {'\t', TP_ACT_FOCUS, "Tab"},         {27, TP_ACT_LIVE, "Esc"},
    {'x', TP_ACT_MATH, "x"},            {'s', TP_ACT_STAGES, "s"},
    {'d', TP_ACT_DICE, "d"},            {'D', TP_ACT_DICE_SAMPLE, "D"},
    {'g', TP_ACT_QUIZ, "g"},            {'l', TP_ACT_LSTM, "l"},
    {'b', TP_ACT_BRANCHES, "b"},
};
const int TP_KEYMAP_LEN = (int)(sizeof TP_KEYMAP / sizeof TP_KEYMAP[0]);

const tp_action_help TP_ACTION_HELP[] = {
    {TP_ACT_TEMP_DOWN, "temperature -0.05"},  {TP_ACT_TEMP_UP, "temperature +0.05"},
    {TP_ACT_TEMP_DOWN_BIG, "temperature -0.5"}, {TP_ACT_TEMP_UP_BIG, "temperature +0.5"},
    {TP_ACT_GREEDY, "greedy (T=0) on/off"},
    {TP_ACT_TOPK_DOWN, "top-k down: 200 100 40 20 10 5 3 2 1 off"},
    {TP_ACT_TOPK_UP, "top-k up: off 1 2 3 5 10 20 40 100 200"},
    {TP_ACT_TOPP_DOWN, "top-p -0.05"},        {TP_ACT_TOPP_UP, "top-p +0.05 (1.00 is off)"},
    {TP_ACT_MINP_DOWN, "min-p -0.01 (0 is off)"}, {TP_ACT_MINP_UP, "min-p +0.01"},
    {TP_ACT_ORDER, "sampler order: temp-first / trunc-first"},
    {TP_ACT_PAUSE, "pause / resume"},         {TP_ACT_STEP, "one token (paused)"},
    {TP_ACT_FASTER, "faster"},                {TP_ACT_SLOWER, "slower"},
    {TP_ACT_FULL_SPEED, "full speed / back"},
    {TP_ACT_RESTART, "restart from the prompt, same seed"},
    {TP_ACT_RESTART_NEW_SEED, "restart with a new seed"},
    {TP_ACT_EDIT_PROMPT, "edit the prompt (Enter restarts)"},
    {TP_ACT_COLOR_MODE, "text colour: probability / rank / plain"},
    {TP_ACT_COMMAND_LINE, "command line"},   {TP_ACT_HELP, "this help"},
    {TP_ACT_QUIT, "quit"},                    {TP_ACT_REDRAW, "redraw"},
    {TP_ACT_LANE_1, "lanes: select lane 1-4 (settings keys act on it)"},
    {TP_ACT_FOCUS, "focus: live / text (arrows: past steps) / histogram (Enter forces)"},
    {TP_ACT_LIVE, "back to live; closes an overlay"},
    {TP_ACT_MATH, "math of the selected candidate: z, z/T, exp, sum, p"},
    {TP_ACT_STAGES, "the sampler chain stage by stage"},
    {TP_ACT_DICE, "the dice: the last draw's u on the cumulative bar"},
    {TP_ACT_DICE_SAMPLE, "draw 100 samples without advancing (:dice N)"},
    {TP_ACT_QUIZ, "quiz: guess the next token, then reveal"},
    {TP_ACT_LSTM, "inside the LSTM: h, c and gates per layer"},
    {TP_ACT_BRANCHES, "branches: list and switch"},
};
const int TP_ACTION_HELP_LEN = (int)(sizeof TP_ACTION_HELP / sizeof TP_ACTION_HELP[0]);

tp_action tp_key_action(int key)
{
    for (int i = 0; i < TP_KEYMAP_LEN; i++)
        if (TP_KEYMAP[i].key == key)
            return TP_KEYMAP[i].action;
    return TP_ACT_NONE;
}

void tp_key_labels(tp_action act, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    for (int i = 0; i < TP_KEYMAP_LEN && o < cap; i++)
        if (TP_KEYMAP[i].action == act)
            o += (size_t)snprintf(out + o, cap - o, "%s%s", o ? " " : "", TP_KEYMAP[i].label);
}

void tp_key_labels_padded(tp_action act, int width, char *out, size_t cap)
{
    tp_key_labels(act, out, cap);
    int cols = 0;
    size_t len = strlen(out);
    for (size_t i = 0; i < len; i++)
        cols += ((unsigned char)out[i] & 0xc0) != 0x80; /* count lead bytes */
    while (cols < width && len + 1 < cap) {
        out[len++] = ' ';
        cols++;
    }
    out[len] = '\0';
}

static void change(tp_app *a, void (*edit)(tp_sampler_config *, int), int dir)
{
    tp_sampler_config cfg = a->session->cfg;
    edit(&cfg, dir);
    tp_app_set_config(a, &cfg);
}

static void edit_temp(tp_sampler_config *c, int dir)
{
    c->temperature = tp_knob_temperature(c->temperature, dir * TP_KNOB_TEMP_STEP);
}
static void edit_temp_big(tp_sampler_config *c, int dir)
{
    c->temperature = tp_knob_temperature(c->temperature, dir * TP_KNOB_TEMP_BIG_STEP);
}
static void edit_top_k(tp_sampler_config *c, int dir) { c->top_k = tp_knob_top_k(c->top_k, dir); }
static void edit_top_p(tp_sampler_config *c, int dir) { c->top_p = tp_knob_top_p(c->top_p, dir); }
static void edit_min_p(tp_sampler_config *c, int dir) { c->min_p = tp_knob_min_p(c->min_p, dir); }
static void edit_order(tp_sampler_config *c, int dir)
{
    (void)dir;
    tp_knob_cycle_order(c);
}

static void toggle_greedy(tp_app *a)
{
    tp_sampler_config cfg = a->session->cfg;
    if (cfg.temperature > 0) {
        a->saved_temperature = cfg.temperature;
        cfg.temperature = 0;
    } else {
        cfg.temperature = a->saved_temperature > 0 ? a->saved_temperature : 0.8;
    }
    tp_app_set_config(a, &cfg);
}

/* Speeds move along 1 2 5 10 20 50 100 200 500 1000 tokens per second. */
static void change_speed(tp_app *a, int dir)
{
    static const double LADDER[] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000};
    const int n = (int)(sizeof LADDER / sizeof LADDER[0]);
    double s = a->speed > 0 ? a->speed : LADDER[n - 1];
    double next = s;
    if (dir > 0) {
        for (int i = 0; i < n && next == s; i++)
            if (LADDER[i] > s)
                next = LADDER[i];
    } else {
        for (int i = n - 1; i >= 0 && next == s; i--)
            if (LADDER[i] < s)
                next = LADDER[i];
    }
    a->speed = next;
    tp_app_message(a, 0, "speed %.0f tokens/s", next);
}

static void toggle_full_speed(tp_app *a)
{
    if (a->speed > 0) {
        a->last_speed = a->speed;
        a->speed = 0;
        tp_app_message(a, 0, "full speed");
    } else {
        a->speed = a->last_speed > 0 ? a->last_speed : TP_DEFAULT_SPEED;
        tp_app_message(a, 0, "speed %.0f tokens/s", a->speed);
    }
}

static void edit_prompt(tp_app *a)
{
    char text[1024];
    tp_escape_line(a->session->prompt, text, sizeof text);
    tp_cmdline_open(a, TP_CMDLINE_PROMPT, text);
}

static const char *const COLOR_MODE_NAMES[] = {"probability", "rank", "plain"};

static void knob_action(tp_app *a, tp_action act)
{
    switch (act) {
    case TP_ACT_TEMP_DOWN: change(a, edit_temp, -1); break;
    case TP_ACT_TEMP_UP: change(a, edit_temp, +1); break;
    case TP_ACT_TEMP_DOWN_BIG: change(a, edit_temp_big, -1); break;
    case TP_ACT_TEMP_UP_BIG: change(a, edit_temp_big, +1); break;
    case TP_ACT_TOPK_DOWN: change(a, edit_top_k, -1); break;
    case TP_ACT_TOPK_UP: change(a, edit_top_k, +1); break;
    case TP_ACT_TOPP_DOWN: change(a, edit_top_p, -1); break;
    case TP_ACT_TOPP_UP: change(a, edit_top_p, +1); break;
    case TP_ACT_MINP_DOWN: change(a, edit_min_p, -1); break;
    case TP_ACT_MINP_UP: change(a, edit_min_p, +1); break;
    case TP_ACT_ORDER: change(a, edit_order, 0); break;
    case TP_ACT_GREEDY: toggle_greedy(a); break;
    default: break;
    }
}

void tp_app_do(tp_app *a, tp_action act)
{
    a->dirty = 1;
    switch (act) {
    case TP_ACT_PAUSE:
        a->paused = !a->paused;
        tp_app_message(a, 0, a->paused ? "paused (n: one token, space: resume)" : "running");
        break;
    case TP_ACT_STEP:
        if (!a->paused)
            a->paused = 1;
        tp_app_step(a);
        break;
    case TP_ACT_FASTER: change_speed(a, +1); break;
    case TP_ACT_SLOWER: change_speed(a, -1); break;
    case TP_ACT_FULL_SPEED: toggle_full_speed(a); break;
    case TP_ACT_RESTART: tp_app_restart(a, NULL, a->session->seed); break;
    case TP_ACT_RESTART_NEW_SEED: tp_app_restart(a, NULL, a->session->seed + ++a->seed_counter); break;
    case TP_ACT_EDIT_PROMPT: edit_prompt(a); break;
    case TP_ACT_COLOR_MODE:
        a->color_mode = (a->color_mode + 1) % 3;
        tp_app_message(a, 0, "text coloured by %s", COLOR_MODE_NAMES[a->color_mode]);
        break;
    case TP_ACT_COMMAND_LINE: tp_cmdline_open(a, TP_CMDLINE_COMMAND, ""); break;
    case TP_ACT_HELP: a->show_help = !a->show_help; break;
    case TP_ACT_QUIT: a->quit = 1; break;
    case TP_ACT_REDRAW: clearok(curscr, TRUE); break;
    case TP_ACT_LANE_1: case TP_ACT_LANE_2: case TP_ACT_LANE_3: case TP_ACT_LANE_4:
        tp_lanes_select(a, (int)(act - TP_ACT_LANE_1));
        break;
    case TP_ACT_FOCUS: case TP_ACT_LIVE: case TP_ACT_MATH: case TP_ACT_STAGES:
    case TP_ACT_DICE: case TP_ACT_DICE_SAMPLE: case TP_ACT_QUIZ: case TP_ACT_LSTM:
    case TP_ACT_BRANCHES:
        tp_explore_do(a, act, 0);
        break;
    default: knob_action(a, act); break;
    }
}

void tp_app_run_command(tp_app *a, const tp_command *cmd)
{
    a->dirty = 1;
    switch (cmd->action) {
    case TP_ACT_SET_CONFIG: tp_app_set_config(a, &cmd->cfg); break;
    case TP_ACT_SET_SEED: tp_app_restart(a, NULL, cmd->seed); break;
    case TP_ACT_SET_PROMPT: tp_app_restart(a, cmd->text, a->session->seed); break;
    case TP_ACT_SET_MODEL: tp_app_load_model(a, cmd->text); break;
    case TP_ACT_SET_THEME: tp_app_set_theme(a, cmd->text); break;
    case TP_ACT_SET_SPEED:
        if (cmd->speed > 0) {
            a->speed = cmd->speed;
        } else if (a->speed > 0) {
            a->last_speed = a->speed;
            a->speed = 0;
        }
        tp_app_message(a, 0, a->speed > 0 ? "speed %.0f tokens/s" : "full speed", a->speed);
        break;
    case TP_ACT_SAVE: tp_app_save(a, cmd->text); break;
    case TP_ACT_HELP: a->show_help = 1; break;
    case TP_ACT_QUIT: a->quit = 1; break;
    case TP_ACT_SWEEP: tp_sweep_start(a, &cmd->sweep); break;
    case TP_ACT_RECORD: tp_app_record(a, cmd->text); break;
    case TP_ACT_LANES: tp_lanes_start(a, &cmd->lanes); break;
    case TP_ACT_DICE_SAMPLE: tp_explore_do(a, cmd->action, cmd->length); break;
    case TP_ACT_SHOW:
    case TP_ACT_SET_LENGTH:
        tp_app_message(a, 1, "that command is for 'tempest repl'");
        break;
    default: break;
    }
}
