/* present.c - --present (a wider histogram, no metrics line), the caption
 * box of demo scripts, the replay's progress, and freeing all of it. */
#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "tempest/tui_demo.h"
#include "tempest/tui_panes.h"

#define CAPTION_MAX_ROWS 3

static void present(tp_layout *l);

static int caption_rows(const tp_app *a)
{
    int rows = a->caption[0] != '\0';
    for (const char *p = a->caption; *p; p++)
        rows += *p == '\n';
    return rows < CAPTION_MAX_ROWS ? rows : CAPTION_MAX_ROWS;
}

/* A caption gets its own rows above the text, so it hides none of it. */
static void make_room_for_caption(const tp_app *a, tp_layout *l)
{
    int rows = caption_rows(a);
    if (rows && l->text.h > rows + 2) {
        l->text.y += rows;
        l->text.h -= rows;
    }
}

void tp_present_layout(const tp_app *a, tp_layout *l)
{
    if (l->too_small)
        return;
    if (a->present)
        present(l);
    make_room_for_caption(a, l);
}

static void present(tp_layout *l)
{
    /* the metrics line is clutter to a room: its line goes to the panes */
    int top = l->title.h;
    int body = l->message.y - top;
    l->metrics.h = 0;
    if (l->stacked) {
        int hist_h = body * 3 / 5;
        l->text = (tp_rect){top, 0, body - hist_h, l->text.w};
        l->hist = (tp_rect){top + body - hist_h, 0, hist_h, l->hist.w};
        return;
    }
    /* the histogram is what the room looks at: give it more than half */
    int cols = l->text.w + 1 + l->hist.w;
    int hist_w = cols * 11 / 20;
    l->text = (tp_rect){top, 0, body, cols - hist_w - 1};
    l->hist = (tp_rect){top, cols - hist_w, body, hist_w};
}

/* The caption centred in the rows above the text pane, one per line. */
static void draw_caption(tp_app *a)
{
    const tp_rect t = a->layout.text;
    int w = t.w - 2, rows = caption_rows(a);
    if (!rows || w < 8 || t.y - rows < a->layout.title.h)
        return;
    int attr = a->attrs[TP_ROLE_TITLE] | A_BOLD;
    const char *line = a->caption;
    for (int row = 0; *line && row < rows; row++) {
        const char *nl = strchr(line, '\n');
        char part[sizeof a->caption];
        snprintf(part, sizeof part, "%.*s", nl ? (int)(nl - line) : (int)strlen(line), line);
        int tw = tp_text_width(part);
        int box = tw + 2 < w ? tw + 2 : w;
        int x = t.x + 1 + (w - box) / 2;
        attron(attr);
        mvhline(t.y - rows + row, x, ' ', box);
        attroff(attr);
        tp_put_clipped(t.y - rows + row, x + 1, part, box - 2, attr);
        line = nl ? nl + 1 : line + strlen(line);
    }
}

static void draw_replay_progress(tp_app *a)
{
    const tp_rect r = a->layout.title;
    if (!a->replay || r.h == 0)
        return;
    int done, total;
    tp_replay_progress(a, &done, &total);
    char text[64];
    snprintf(text, sizeof text, " replay %d/%d ", done, total);
    int w = tp_text_width(text);
    if (w < r.w)
        tp_put_clipped(r.y, r.x + r.w - w, text, w, a->attrs[TP_ROLE_TITLE] | A_REVERSE);
}

void tp_demo_draw(tp_app *a)
{
    draw_caption(a);
    draw_replay_progress(a);
}

void tp_demo_free(tp_app *a)
{
    tp_record_free(a);
    tp_replay_free(a);
    tp_script_run_free(a);
}
