/* fuzz_command.c - `:` command lines typed into the playground. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tempest/knobs.h"
#include "tempest/sampler.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = malloc(size + 1);
    if (!line)
        return 0;
    if (size)
        memcpy(line, data, size);
    line[size] = '\0';
    tp_sampler_config cfg;
    tp_sampler_defaults(&cfg);
    tp_command cmd;
    tp_error err = {0};
    if (tp_command_parse(line, &cfg, &cmd, &err) == TP_OK && cmd.action == TP_ACT_SET_CONFIG) {
        char out[256];
        tp_knobs_format(&cmd.cfg, out, sizeof out);
        tp_knobs_describe_change(&cfg, &cmd.cfg, 0, out, sizeof out);
    }
    char buf[512], back[512];
    tp_unescape_line(line, buf, sizeof buf);
    tp_escape_line(buf, back, sizeof back);
    free(line);
    return 0;
}
