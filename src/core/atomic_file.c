/* atomic_file.c - temporary beside the target, fsync, rename, fsync dir.
 *
 * The caller writes into memory (open_memstream) and commit write()s it to
 * the temporary: stdio would keep only an error flag for a failed write,
 * while write() tells us it was ENOSPC or EROFS, which the user needs. */
#include "tempest/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static tp_status write_error(tp_error *err, const char *path, int e)
{
    return tp_fail(err, e == ENOMEM ? TP_ERR_NOMEM : TP_ERR_IO, "cannot write '%s': %s",
                   path, strerror(e));
}

/* O_EXCL with a name no one else uses: pid and clock make a clash unlikely,
 * and a clash only costs another try. Mode 0666 lets the umask decide, as
 * for any new file. */
static int create_temp(const char *path, char *tmp, size_t cap)
{
    for (int attempt = 0; attempt < 16; attempt++) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        snprintf(tmp, cap, "%s.tmp-%ld-%lx", path, (long)getpid(),
                 (unsigned long)ts.tv_nsec + (unsigned long)attempt);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    errno = EEXIST;
    return -1;
}

static void release(tp_atomic_file *af)
{
    free(af->path);
    free(af->tmp);
    memset(af, 0, sizeof *af);
    af->fd = -1;
}

tp_status tp_atomic_open(tp_atomic_file *af, const char *path, tp_error *err)
{
    memset(af, 0, sizeof *af);
    af->fd = -1;
    size_t cap = strlen(path) + 48;
    af->path = strdup(path);
    af->tmp = malloc(cap);
    if (!af->path || !af->tmp) {
        release(af);
        return write_error(err, path, ENOMEM);
    }
    int fd = create_temp(path, af->tmp, cap);
    if (fd < 0) {
        int e = errno;
        release(af);
        return write_error(err, path, e);
    }
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode))
        (void)fchmod(fd, sb.st_mode & 07777); /* best effort: keep the old mode */
    af->fd = fd;
    af->f = open_memstream(&af->buf, &af->len);
    if (!af->f) {
        tp_atomic_abort(af);
        return write_error(err, path, ENOMEM);
    }
    return TP_OK;
}

void tp_atomic_abort(tp_atomic_file *af)
{
    if (af->f)
        fclose(af->f);
    if (af->fd >= 0) {
        close(af->fd);
        unlink(af->tmp);
    }
    free(af->buf);
    release(af);
}

/* All of buf, through short writes and signals; 0 or the errno. */
static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? errno : EIO;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* The rename is only durable once the directory entry is on disk too.
 * Filesystems that cannot fsync a directory say EINVAL: nothing to do. */
static int sync_directory(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!dir)
        return ENOMEM;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    if (fd < 0)
        return errno;
    int e = fsync(fd) == 0 || errno == EINVAL ? 0 : errno;
    close(fd);
    return e;
}

tp_status tp_atomic_commit(tp_atomic_file *af, tp_error *err)
{
    if (!af->f)
        return tp_fail(err, TP_ERR_IO, "cannot write: the file was not opened");
    /* Only a failed allocation can make a memory stream fail. */
    int e = ferror(af->f) ? ENOMEM : 0;
    if (fclose(af->f) != 0 && !e)
        e = ENOMEM;
    af->f = NULL;
    if (!e)
        e = write_all(af->fd, af->buf, af->len);
    if (!e && fsync(af->fd) != 0)
        e = errno;
    if (close(af->fd) != 0 && !e)
        e = errno;
    af->fd = -1;
    if (!e && rename(af->tmp, af->path) != 0)
        e = errno;
    free(af->buf);
    af->buf = NULL;
    if (e) {
        unlink(af->tmp);
        tp_status rc = write_error(err, af->path, e);
        release(af);
        return rc;
    }
    e = sync_directory(af->path);
    tp_status rc = e ? write_error(err, af->path, e) : TP_OK;
    release(af);
    return rc;
}

tp_status tp_atomic_write(const char *path, const void *data, size_t len, tp_error *err)
{
    tp_atomic_file af;
    tp_status rc = tp_atomic_open(&af, path, err);
    if (rc)
        return rc;
    if (len && fwrite(data, 1, len, af.f) != len) {
        tp_atomic_abort(&af);
        return write_error(err, path, ENOMEM);
    }
    return tp_atomic_commit(&af, err);
}
