/* draw.c - text helpers shared by the panes: UTF-8 width and clipping. */
#include <curses.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "tempest/tui_panes.h"

/* Columns of the character at s (n bytes), with control characters as 1. */
static int char_width(const char *s, size_t *n)
{
    mbstate_t st;
    memset(&st, 0, sizeof st);
    wchar_t wc;
    size_t len = mbrtowc(&wc, s, strlen(s), &st);
    if (len == (size_t)-1 || len == (size_t)-2 || len == 0) {
        *n = 1;
        return 1;
    }
    *n = len;
    int w = wcwidth(wc);
    return w < 0 ? 1 : w;
}

int tp_text_width(const char *s)
{
    int w = 0;
    size_t n;
    while (*s) {
        w += char_width(s, &n);
        s += n;
    }
    return w;
}

int tp_put_clipped(int y, int x, const char *s, int w, int attr)
{
    int used = 0;
    size_t bytes = 0, n;
    while (s[bytes]) {
        int cw = char_width(s + bytes, &n);
        if (used + cw > w)
            break;
        used += cw;
        bytes += n;
    }
    if (bytes > 0) {
        attron(attr);
        mvaddnstr(y, x, s, (int)bytes);
        attroff(attr);
    }
    return used;
}
