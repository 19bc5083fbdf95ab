/* atomic_file.h - replace a file all at once, or not at all.
 *
 * The new content goes to a temporary file beside the target (same
 * directory, so the same filesystem), is flushed and fsync'd, then renamed
 * over the target and the directory fsync'd. A full disk, a read-only
 * directory or a failed write leaves the previous file exactly as it was and
 * no temporary behind. For transcripts, checkpoints, recordings, sweep files.
 * The content is held in memory until commit, so that a write error comes
 * back with its cause (ENOSPC, EROFS) rather than stdio's bare error flag.
 *
 *     tp_atomic_file af;
 *     if (tp_atomic_open(&af, path, err)) return err->code;
 *     fwrite(..., af.f);                  // or fprintf(af.f, ...)
 *     return tp_atomic_commit(&af, err);  // or tp_atomic_abort(&af)
 */
#ifndef TEMPEST_ATOMIC_FILE_H
#define TEMPEST_ATOMIC_FILE_H

#include <stddef.h>
#include <stdio.h>

#include "tempest/error.h"

typedef struct tp_atomic_file {
    FILE *f;    /* write the content here (it collects in memory) */
    char *path; /* the target */
    char *tmp;  /* the temporary beside it, created by open */
    int fd;     /* the temporary, written by commit */
    char *buf;  /* what was written to f */
    size_t len;
} tp_atomic_file;

/* Create the temporary (mode 0666 less the umask, or the target's mode when
 * it exists). On failure af is empty and nothing was created. */
tp_status tp_atomic_open(tp_atomic_file *af, const char *path, tp_error *err);

/* Flush, fsync, rename over the target, fsync the directory. Any write error
 * met on af->f since open is reported here. Always releases af; on failure
 * the temporary is removed and the target untouched. */
tp_status tp_atomic_commit(tp_atomic_file *af, tp_error *err);

/* Give up: close and remove the temporary. Safe on an empty af. */
void tp_atomic_abort(tp_atomic_file *af);

/* The whole of data[0..len) as the new content of path. */
tp_status tp_atomic_write(const char *path, const void *data, size_t len, tp_error *err);

#endif
