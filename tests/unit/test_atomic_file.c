/* test_atomic_file.c - replace a file all at once or not at all. Disk full
 * and read-only filesystems are tested in tests/cli/faults.sh (they need a
 * mount); here: the content, the mode, and that no temporary is left. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tempest/atomic_file.h"

static char dir[64];
static char path[128];

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/tp_atomic_XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/out.txt", dir);
}

static int entries(void)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void read_back(char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
}

static void remove_dir(void)
{
    unlink(path);
    rmdir(dir);
}

TestSuite(atomic_file, .init = make_dir, .fini = remove_dir);

Test(atomic_file, writes_and_replaces_leaving_no_temporary)
{
    tp_error err = {0};
    char buf[64];
    cr_assert_eq(tp_atomic_write(path, "first\n", 6, &err), TP_OK, "%s", err.msg);
    read_back(buf, sizeof buf);
    cr_assert_str_eq(buf, "first\n");
    tp_atomic_file af;
    cr_assert_eq(tp_atomic_open(&af, path, &err), TP_OK, "%s", err.msg);
    fprintf(af.f, "second %d\n", 2);
    /* Until commit the old content stays in place. */
    read_back(buf, sizeof buf);
    cr_assert_str_eq(buf, "first\n");
    cr_assert_eq(tp_atomic_commit(&af, &err), TP_OK, "%s", err.msg);
    read_back(buf, sizeof buf);
    cr_assert_str_eq(buf, "second 2\n");
    cr_assert_eq(entries(), 1);
}

Test(atomic_file, abort_keeps_the_old_file)
{
    tp_error err = {0};
    char buf[64];
    cr_assert_eq(tp_atomic_write(path, "old", 3, &err), TP_OK);
    tp_atomic_file af;
    cr_assert_eq(tp_atomic_open(&af, path, &err), TP_OK);
    fputs("half-written", af.f);
    cr_assert_eq(entries(), 2, "the temporary lives beside the target");
    tp_atomic_abort(&af);
    read_back(buf, sizeof buf);
    cr_assert_str_eq(buf, "old");
    cr_assert_eq(entries(), 1);
    tp_atomic_abort(&af); /* twice is harmless */
}

Test(atomic_file, keeps_the_mode_of_the_file_it_replaces)
{
    tp_error err = {0};
    cr_assert_eq(tp_atomic_write(path, "a", 1, &err), TP_OK);
    cr_assert_eq(chmod(path, 0640), 0);
    cr_assert_eq(tp_atomic_write(path, "b", 1, &err), TP_OK);
    struct stat sb;
    cr_assert_eq(stat(path, &sb), 0);
    cr_assert_eq(sb.st_mode & 0777, 0640);
}

Test(atomic_file, a_missing_directory_is_an_io_error_naming_the_path)
{
    tp_error err = {0};
    char bad[160];
    snprintf(bad, sizeof bad, "%s/no/such/dir/file", dir);
    cr_assert_eq(tp_atomic_write(bad, "x", 1, &err), TP_ERR_IO);
    cr_assert(strstr(err.msg, bad) && strstr(err.msg, "No such file"), "%s", err.msg);
    tp_atomic_file af;
    cr_assert_eq(tp_atomic_open(&af, bad, &err), TP_ERR_IO);
    cr_assert_null(af.f);
    tp_atomic_abort(&af);
    cr_assert_eq(entries(), 0);
}

Test(atomic_file, a_directory_as_target_is_refused_and_kept)
{
    tp_error err = {0};
    char sub[160];
    snprintf(sub, sizeof sub, "%s/sub", dir);
    cr_assert_eq(mkdir(sub, 0755), 0);
    cr_assert_eq(tp_atomic_write(sub, "x", 1, &err), TP_ERR_IO);
    struct stat sb;
    cr_assert_eq(stat(sub, &sb), 0);
    cr_assert(S_ISDIR(sb.st_mode));
    cr_assert_eq(entries(), 1, "no temporary left behind");
    rmdir(sub);
}

Test(atomic_file, a_relative_path_works_in_the_current_directory)
{
    tp_error err = {0};
    char old[4096];
    cr_assert_not_null(getcwd(old, sizeof old));
    cr_assert_eq(chdir(dir), 0);
    cr_assert_eq(tp_atomic_write("out.txt", "rel", 3, &err), TP_OK, "%s", err.msg);
    cr_assert_eq(chdir(old), 0);
    char buf[16];
    read_back(buf, sizeof buf);
    cr_assert_str_eq(buf, "rel");
}
