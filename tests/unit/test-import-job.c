/* SPDX-License-Identifier: MIT */
/* The import job without the command: its checks of the options, the
 * temporary file and a checksum file's reading, the target check, and a
 * whole import (and a rolled-back one) against the ZFS test double. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "import-job.h"
#include "input.h"
#include "report.h"
#include "spool.h"
#include "target.h"
#include "zfs.h"

extern char **environ;

/* What the job told, one "KIND text" line each. */
struct told {
	char text[8192];
};

static void tell(void *ctx, enum report_kind kind, const char *text)
{
	static const char *const kinds[] = { "BEGIN", "DONE", "STEP", "WARNING", "CHILD", "ERROR" };
	struct told *t = ctx;
	size_t len = strlen(t->text);

	snprintf(t->text + len, sizeof(t->text) - len, "%s %s\n", kinds[kind], text);
}

static char dir[] = "/tmp/qvm-test-job-XXXXXX";

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* dir/name holding len bytes of data (NULL: an MBR disk of len bytes). */
static char *make_file(const char *name, const void *data, size_t len)
{
	char *path;
	unsigned char *disk = calloc(1, len);
	int fd;

	assert_non_null(disk);
	assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
	if (data) {
		memcpy(disk, data, len);
	} else {
		disk[446 + 4] = 0x83;
		disk[446 + 8] = 1;
		disk[446 + 12] = 0xff;
		disk[510] = 0x55;
		disk[511] = 0xaa;
		memcpy(disk + 4096, "the data", 8);
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_true(write(fd, disk, len) == (ssize_t)len);
	close(fd);
	free(disk);
	return path;
}

/* import_check() of req: its result, *err its error text, *t what it told. */
static int check(const struct import_request *req, struct told *t, char **err)
{
	const struct report rep = { .say = tell, .ctx = t };
	struct import *im = import_new(req);
	int r;

	assert_non_null(im);
	t->text[0] = '\0';
	free(*err);
	*err = NULL;
	r = import_check(im, &rep, err);
	import_end(im);
	return r;
}

static void test_source_name(void **state)
{
	static const char *const cases[][2] = {
		{ "https://example.org/a/disk.raw?token=1#x", "disk.raw" },
		{ "images/debian.qcow2/", "debian.qcow2" },
		{ "disk.img", "disk.img" },
		{ "http://example.org/", "example.org" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *name = import_source_name(cases[i][0]);
		assert_string_equal(name, cases[i][1]);
		free(name);
	}
}

/* A URL's password is masked in what is shown and recorded. */
static void test_url_redacted(void **state)
{
	static const char *const cases[][2] = {
		{ "http://bob:hunter2@h:8080/d.raw", "http://bob:***@h:8080/d.raw" },
		{ "https://bob@h/d.raw", "https://bob@h/d.raw" },
		{ "https://h/d.raw?u=a:b@c", "https://h/d.raw?u=a:b@c" },
		{ "http://a:b@c:d@h/x", "http://a:***@h/x" },
		{ "disk.raw", "disk.raw" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *shown = fetch_url_redacted(cases[i][0]);
		assert_string_equal(shown, cases[i][1]);
		free(shown);
	}
}

static void test_size(void **state)
{
	uint64_t v = 0;
	char *err = NULL;

	(void)state;
	assert_int_equal(import_size_parse("4GiB", &v, &err), 0);
	assert_true(v == UINT64_C(4) << 30);
	assert_int_equal(import_size_parse("1.5M", &v, &err), 0);
	assert_true(v == UINT64_C(3) << 19);
	assert_int_equal(import_size_parse("2147483648", &v, &err), 0);
	assert_true(v == UINT64_C(2147483648));
	assert_null(err);
	assert_int_equal(import_size_parse("12X", &v, &err), -EINVAL);
	assert_non_null(strstr(err, "invalid --size '12X'"));
	assert_int_equal(import_size_parse("0", &v, &err), -EINVAL);
	assert_string_equal(err, "invalid --size '0' (zero bytes): expected a number of bytes, optionally "
			    "with a K, M, G or T suffix");
	assert_int_equal(import_size_parse("99999999999999999999", &v, &err), -EINVAL);
	assert_non_null(strstr(err, "too large"));
	free(err);
}

/* The options and the checksum are checked before the source is even
 * opened: nothing told, the source need not exist. */
static void test_request(void **state)
{
	char *sums_nul = make_file("NUL.SUMS", "abc\0def\n", 8);
	char *sums = make_file("SUMS", "0123  other.raw\n", 16);
	struct import_request req = { .source = "/nonexistent/disk.raw", .zvol = "tank/images/x" };
	struct told t;
	char *err = NULL;

	(void)state;
	req.size = "12X";
	assert_int_equal(check(&req, &t, &err), -1);
	assert_non_null(strstr(err, "invalid --size '12X'"));
	req.size = NULL;

	req.sha256 = "00";
	req.sha512 = "00";
	assert_int_equal(check(&req, &t, &err), -1);
	assert_string_equal(err, "give one of --sha256, --sha512 and --checksum-file");
	req.sha512 = NULL;
	req.sha256 = "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";
	assert_int_equal(check(&req, &t, &err), -1);
	assert_non_null(strstr(err, "(128 are a SHA-512 digest: give it with --sha512)"));
	req.sha256 = NULL;

	req.checksum_file = "/nonexistent/SUMS";
	assert_int_equal(check(&req, &t, &err), -1);
	assert_string_equal(err, "cannot read checksum file '/nonexistent/SUMS': No such file or directory");
	req.checksum_file = sums_nul;
	assert_int_equal(check(&req, &t, &err), -1);
	assert_non_null(strstr(err, "holds a NUL byte: it is no checksum file"));
	req.checksum_file = sums;
	assert_int_equal(check(&req, &t, &err), -1);
	assert_non_null(strstr(err, "has no entry for 'disk.raw'"));
	assert_string_equal(t.text, "");

	/* then the source: told as the check it is */
	req.checksum_file = NULL;
	assert_int_equal(check(&req, &t, &err), -1);
	assert_string_equal(err, "cannot open image '/nonexistent/disk.raw': No such file or directory");
	assert_string_equal(t.text, "BEGIN Checking image /nonexistent/disk.raw and zvol tank/images/x\n");
	free(err);
	free(sums);
	free(sums_nul);
}

/* The temporary file: zeros left as holes, its size set at the end. */
static void test_spool(void **state)
{
	unsigned char *block = calloc(1, 1u << 20);
	struct spool s;
	struct stat st;
	char *err = NULL, buf[8];

	(void)state;
	assert_non_null(block);
	setenv("TMPDIR", "/nonexistent", 1);
	assert_true(spool_open(&s, "disk.qcow2", &err) < 0);
	assert_string_equal(err, "cannot create a temporary file in /nonexistent: No such file or "
			    "directory (set TMPDIR)");
	setenv("TMPDIR", dir, 1);
	assert_int_equal(spool_open(&s, "disk.qcow2", &err), 0);
	memcpy(block + (900u << 10), "data", 4);
	assert_int_equal(spool_write(&s, block, 1u << 20, 0, &err), 0);
	assert_int_equal(spool_write(&s, block, 1u << 20, 8u << 20, &err), 0);
	assert_int_equal(spool_finish(&s, 16u << 20, &err), 0);
	assert_int_equal(fstat(s.fd, &st), 0);
	assert_true(st.st_size == 16 << 20);
	assert_true(st.st_blocks * 512 <= 2 * (64 << 10));   /* two 64 KiB blocks of data */
	assert_true(pread(s.fd, buf, 4, (8u << 20) + (900u << 10)) == 4);
	assert_memory_equal(buf, "data", 4);
	spool_close(&s);
	assert_int_equal(s.fd, -1);
	unsetenv("TMPDIR");
	free(err);
	free(block);
}

static void test_read_small(void **state)
{
	char *path = make_file("small", "some\0text", 9), *text = NULL, *why = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(input_read_small(path, 1u << 20, &text, &len, &why), 0);
	assert_int_equal(len, 9);
	assert_memory_equal(text, "some\0text\0", 10);
	free(text);
	assert_int_equal(input_read_small(path, 4, &text, &len, &why), -EFBIG);
	assert_int_equal(input_read_small("/nonexistent/x", 1u << 20, &text, &len, &why), -ENOENT);
	assert_string_equal(why, "No such file or directory");
	free(why);
	free(path);
}

/* The words of each role; nothing here exists as a qvm leftover. */
static void test_target(void **state)
{
	struct target t = { .dataset = "tank/images/x", .parent = "tank/images", .pool = "tank",
			    .parent_type = "filesystem", .pool_type = "filesystem" };
	char *err = NULL;

	(void)state;
	assert_int_equal(target_check(&t, TARGET_IMAGE, &err), 0);
	assert_null(err);
	t.type = "volume";
	assert_int_equal(target_check(&t, TARGET_IMAGE, &err), -EEXIST);
	assert_string_equal(err, "zvol tank/images/x already exists");
	t.type = "filesystem";
	assert_int_equal(target_check(&t, TARGET_IMAGE, &err), -EEXIST);
	assert_string_equal(err, "dataset tank/images/x already exists");
	assert_int_equal(target_check(&t, TARGET_CLONE, &err), -EEXIST);
	assert_string_equal(err, "clone target tank/images/x already exists (qvm never replaces a dataset)");
	assert_int_equal(target_check(&t, TARGET_VOLUME, &err), -EEXIST);
	assert_string_equal(err, "zvol target tank/images/x already exists (qvm never replaces a dataset)");
	t.type = NULL;
	t.parent_type = "volume";
	assert_int_equal(target_check(&t, TARGET_CLONE, &err), -ENOTDIR);
	assert_string_equal(err, "parent dataset tank/images of clone tank/images/x is a volume, not a filesystem");
	assert_int_equal(target_check(&t, TARGET_IMAGE, &err), -ENOTDIR);
	assert_string_equal(err, "parent dataset tank/images is a volume, not a filesystem");
	t.parent_type = NULL;
	assert_int_equal(target_check(&t, TARGET_IMAGE, &err), -ENOENT);
	assert_string_equal(err, "parent dataset tank/images does not exist");
	t.pool_type = NULL;
	assert_int_equal(target_check(&t, TARGET_IMAGE, &err), -ENOENT);
	assert_string_equal(err, "pool tank does not exist");
	/* a caller that does not ask about the pool */
	t.pool = NULL;
	assert_int_equal(target_check(&t, TARGET_CLONE, &err), -ENOENT);
	assert_string_equal(err, "parent dataset tank/images of clone tank/images/x does not exist");
	/* a VM's disks each say whose parent is missing */
	assert_int_equal(target_check(&t, TARGET_VOLUME, &err), -ENOENT);
	assert_string_equal(err, "parent dataset tank/images of zvol tank/images/x does not exist");
	free(err);
}

/* Runs the ZFS double (argv[0] "zfs" or "zpool") and waits for it. */
static void zfs_double(const char *const *argv)
{
	pid_t pid;
	int status;

	assert_int_equal(posix_spawnp(&pid, argv[0], NULL, NULL, (char *const *)argv, environ), 0);
	assert_true(waitpid(pid, &status, 0) == pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* A pool "tank" with tank/images, a volume and a volume an interrupted
 * run left, in the double; 0, or 1 if the double is not at hand. */
static int double_pool(void)
{
	const char *bin = getenv("QVM_TEST_ZFS_DOUBLE");
	char *path, *state_dir, *zvol_dir;

	if (!bin || !*bin)
		return 1;
	assert_true(asprintf(&path, "%s:%s", bin, getenv("PATH")) > 0);
	assert_true(asprintf(&state_dir, "%s/zfs", dir) > 0);
	assert_true(asprintf(&zvol_dir, "%s/zvol", dir) > 0);
	assert_int_equal(mkdir(state_dir, 0700), 0);
	assert_int_equal(mkdir(zvol_dir, 0700), 0);
	setenv("PATH", path, 1);
	setenv("ZFS_DOUBLE_STATE", state_dir, 1);
	setenv("QVM_ZVOL_DIR", zvol_dir, 1);
	setenv("QVM_DEVICE_TIMEOUT", "2", 1);
	unsetenv("ZFS_DOUBLE_LOG");
	unsetenv("ZFS_DOUBLE_FAIL");
	unsetenv("ZFS_DOUBLE_FAIL_CALL");
	zfs_double((const char *[]){ "zpool", "create", "tank", NULL });
	zfs_double((const char *[]){ "zfs", "create", "tank/images", NULL });
	zfs_double((const char *[]){ "zfs", "create", "-V", "1M", "tank/images/vol", NULL });
	zfs_double((const char *[]){ "zfs", "create", "-V", "1M", "-o", "qvm:kind=image", "-o",
				     "qvm:state=creating", "-o", "qvm:run=999999999-0", "tank/images/left", NULL });
	free(path);
	free(state_dir);
	free(zvol_dir);
	return 0;
}

/* A dataset's type in the double, or NULL. */
static char *type_of(const char *name)
{
	char *type = NULL, *err = NULL;

	assert_int_equal(zfs_get_types((const char *[]){ name }, 1, &type, NULL, &err), 0);
	free(err);
	return type;
}

static void test_against_double(void **state)
{
	char *disk = make_file("disk.raw", NULL, 3u << 20), *err = NULL, *device, *type;
	struct import_request req = { .source = disk };
	struct told t;
	const struct report rep = { .say = tell, .ctx = &t };
	struct import *im;

	(void)state;
	if (double_pool() != 0) {
		free(disk);
		skip();
	}
	/* the target, as the job checks it: after the source, before any change */
	req.zvol = "tank/images/vol/x";
	assert_int_equal(check(&req, &t, &err), -1);
	assert_string_equal(err, "parent dataset tank/images/vol is a volume, not a filesystem");
	req.zvol = "nopool/images/x";
	assert_int_equal(check(&req, &t, &err), -1);
	assert_string_equal(err, "pool nopool does not exist");
	req.zvol = "tank/images/left";
	assert_int_equal(check(&req, &t, &err), -1);
	assert_string_equal(err, "zvol tank/images/left already exists: it is left over from an "
			    "interrupted qvm run (qvm:state=creating); remove what such runs left with: "
			    "qvm cleanup --yes");

	/* a whole import: the zvol holds the image, its snapshot, marked ready */
	req.zvol = "tank/images/disk";
	t.text[0] = '\0';
	im = import_new(&req);
	assert_int_equal(import_check(im, &rep, &err), 0);
	assert_int_equal(import_run(im, &rep, &err), 0);
	import_end(im);
	assert_non_null(strstr(t.text, "BEGIN Looking for a partition table or file system in "));
	assert_non_null(strstr(t.text, "DONE a dos partition table\n"));
	assert_non_null(strstr(t.text, "BEGIN Creating zvol tank/images/disk (3.0 MiB)\nDONE done\n"));
	assert_non_null(strstr(t.text, "as tank/images/disk@base\n"));
	free(type_of("tank/images/disk@base"));
	assert_true(asprintf(&device, "%s/zvol/tank/images/disk", dir) > 0);
	{
		char buf[8];
		int fd = open(device, O_RDONLY | O_CLOEXEC);
		assert_true(fd >= 0);
		assert_true(pread(fd, buf, 8, 4096) == 8);
		assert_memory_equal(buf, "the data", 8);
		close(fd);
	}
	char *out = NULL;
	assert_int_equal(zfs_get_local("tank/images/disk", "qvm:state", &out, &err), 0);
	assert_non_null(strstr(out, "ready"));
	free(out);

	/* the snapshot fails: told, and import_end() removes the zvol */
	setenv("ZFS_DOUBLE_FAIL", "snapshot", 1);
	req.zvol = "tank/images/fails";
	im = import_new(&req);
	assert_int_equal(import_check(im, &rep, &err), 0);
	assert_int_equal(import_run(im, &rep, &err), -1);
	assert_non_null(strstr(err, "cannot create snapshot tank/images/fails@base: "));
	type = type_of("tank/images/fails");
	assert_string_equal(type, "volume");         /* still there until the error is told */
	free(type);
	import_end(im);
	assert_null(type_of("tank/images/fails"));
	unsetenv("ZFS_DOUBLE_FAIL");
	free(device);
	free(err);
	free(disk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_source_name),
		cmocka_unit_test(test_url_redacted),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_spool),
		cmocka_unit_test(test_read_small),
		cmocka_unit_test(test_target),
		cmocka_unit_test(test_against_double),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
