/* fuzz_theme.c - theme INI files. tp_theme_parse_file reads a path, so the
 * input goes into an in-memory file reached through /proc/self/fd. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tempest/tui_theme.h"

static int fd = -1;
static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fd < 0) {
        fd = memfd_create("tempest-fuzz-theme", 0);
        if (fd < 0)
            return 0;
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
        return 0;
    tp_theme t;
    tp_theme_builtin(&t);
    tp_error err = {0};
    (void)tp_theme_parse_file(&t, path, &err);
    for (int r = 0; r < TP_N_ROLES; r++)
        (void)tp_role_name((tp_role)r);
    return 0;
}
