/* SPDX-License-Identifier: MIT */
/* The seed ISO, checked with an independent reader (xorriso), and its
 * directory records read byte by byte: the names a reader finds in each
 * tree are exactly cloud-localds' (genisoimage's). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "seed.h"

extern char **environ;

static const char *xorriso(void)
{
	const char *x = getenv("XORRISO");

	return x && *x ? x : "xorriso";
}

/* Runs argv (no shell), stdout and stderr into a temp file; returns the
 * exit status and the output (malloc'd) in *out. */
static int run(char *const argv[], char **out)
{
	char tmp[] = "/tmp/test-seed-out-XXXXXX";
	int fd = mkstemp(tmp), status = -1;
	posix_spawn_file_actions_t fa;
	pid_t pid;
	struct stat st;

	assert_true(fd >= 0);
	unlink(tmp);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd, 1);
	posix_spawn_file_actions_adddup2(&fa, fd, 2);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		close(fd);
		*out = NULL;
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(fstat(fd, &st), 0);
	*out = calloc(1, (size_t)st.st_size + 1);
	assert_non_null(*out);
	assert_int_equal(pread(fd, *out, (size_t)st.st_size, 0), st.st_size);
	close(fd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static char *read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf;

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	buf[st.st_size] = '\0';
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	chmod(path, 0700);
	return remove(path);
}

static void rm_rf(const char *dir)
{
	/* extracted directories are read-only: make them writable first */
	chmod(dir, 0700);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Writes an ISO with the two files and checks it with xorriso. */
static void check_iso(const char *user, size_t ulen, const char *meta, size_t mlen)
{
	char iso[] = "/tmp/test-seed-XXXXXX", dir[] = "/tmp/test-seed-dir-XXXXXX";
	char *out = NULL, *err = NULL, *path = NULL, *got;
	int fd = mkstemp(iso);
	size_t len;
	struct stat st;

	/* the independent reader must be there */
	char *const version[] = { (char *)xorriso(), "-version", NULL };
	if (run(version, &out) != 0) {
		free(out);
		close(fd);
		unlink(iso);
		skip();
	}
	free(out);

	assert_true(fd >= 0);
	assert_int_equal(seed_write_iso(fd, user, ulen, meta, mlen, &err), 0);
	assert_null(err);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size % 2048, 0);
	close(fd);

	/* the label, and an image as large as it says it is */
	char *const pvd[] = { (char *)xorriso(), "-indev", iso, "-pvd_info", NULL };
	assert_int_equal(run(pvd, &out), 0);
	if (!strstr(out, "Volume Id    : cidata\n"))
		fprintf(stderr, "%s", out);
	assert_non_null(strstr(out, "Volume Id    : cidata\n"));
	assert_null(strstr(out, "larger than readable size"));
	free(out);

	/* exactly two files, by their Rock Ridge names, then by Joliet names */
	char *const ls_rr[] = { (char *)xorriso(), "-indev", iso, "-ls", "/", NULL };
	assert_int_equal(run(ls_rr, &out), 0);
	assert_non_null(strstr(out, "\n'meta-data'\n'user-data'\n"));
	free(out);
	char *const ls_joliet[] = { (char *)xorriso(), "-rockridge", "off", "-joliet", "on",
				    "-indev", iso, "-ls", "/", NULL };
	assert_int_equal(run(ls_joliet, &out), 0);
	assert_non_null(strstr(out, "\n'meta-data'\n'user-data'\n"));
	free(out);

	/* the content, byte for byte */
	assert_non_null(mkdtemp(dir));
	assert_int_equal(rmdir(dir), 0);
	char *const extract[] = { (char *)xorriso(), "-osirrox", "on", "-indev", iso, "-extract", "/", dir, NULL };
	if (run(extract, &out) != 0) {
		fprintf(stderr, "%s", out);
		fail();
	}
	free(out);
	assert_true(asprintf(&path, "%s/user-data", dir) > 0);
	got = read_file(path, &len);
	assert_int_equal(len, ulen);
	assert_memory_equal(got, user, ulen);
	free(got);
	free(path);
	assert_true(asprintf(&path, "%s/meta-data", dir) > 0);
	got = read_file(path, &len);
	assert_int_equal(len, mlen);
	assert_memory_equal(got, meta, mlen);
	free(got);
	free(path);

	rm_rf(dir);
	unlink(iso);
}

static void test_small(void **state)
{
	(void)state;
	const char *u = "#cloud-config\nusers:\n- name: admin\n";
	const char *m = "instance-id: web1\nlocal-hostname: web1\n";

	check_iso(u, strlen(u), m, strlen(m));
}

/* ---- the directory records, as ECMA-119 lays them out ---- */

#define SECTOR 2048

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The root directory of the volume descriptor of `type` (1: primary, 2:
 * supplementary with a Joliet escape sequence) in iso[0..len). */
static const unsigned char *root_dir(const unsigned char *iso, size_t len, int type, size_t *dir_len)
{
	for (size_t s = 16; (s + 1) * SECTOR <= len; s++) {
		const unsigned char *vd = iso + s * SECTOR;
		if (vd[0] == 255)
			break;
		if (vd[0] != type || memcmp(vd + 1, "CD001", 5) != 0)
			continue;
		if (type == 2 && !(vd[88] == '%' && vd[89] == '/' && strchr("@CE", vd[90])))
			continue;
		const unsigned char *rec = vd + 156;      /* the root's directory record */
		uint32_t lba = le32(rec + 2);
		*dir_len = le32(rec + 10);
		assert_true((uint64_t)lba * SECTOR + *dir_len <= len);
		return iso + (size_t)lba * SECTOR;
	}
	fail_msg("no volume descriptor of type %d", type);
	return NULL;
}

/* The names in a directory, joined with '|': Joliet names from UCS-2BE,
 * or (rock) the Rock Ridge NM name of each record, else its ISO name. */
static void dir_names(const unsigned char *dir, size_t len, bool joliet, bool rock, char *out, size_t size)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t p = 0; p < len;) {
		unsigned rl = dir[p];
		if (rl == 0) {                   /* the rest of the sector is padding */
			p = (p / SECTOR + 1) * SECTOR;
			continue;
		}
		const unsigned char *r = dir + p;
		unsigned nl = r[32];
		char name[256];
		size_t n = 0;
		p += rl;
		if (nl == 1 && (r[33] == 0 || r[33] == 1))
			continue;                /* "." and ".." */
		if (joliet) {
			for (unsigned i = 0; i + 1 < nl; i += 2)
				name[n++] = r[33 + i] ? '?' : (char)r[34 + i];
		} else {
			memcpy(name, r + 33, nl);
			n = nl;
		}
		if (rock) {
			/* System Use entries after the name (padded to even) */
			for (unsigned su = 33 + nl + !(nl & 1); su + 4 <= rl;) {
				unsigned el = r[su + 2];
				if (el < 4 || su + el > rl)
					break;
				if (r[su] == 'N' && r[su + 1] == 'M') {
					n = el - 5;
					memcpy(name, r + su + 5, n);
				}
				su += el;
			}
		}
		name[n] = '\0';
		o += (size_t)snprintf(out + o, size - o, "%s%s", o ? "|" : "", name);
	}
}

/* Every tree names the files as cloud-localds does: Joliet and Rock Ridge
 * "user-data", no trailing dot, no ";1". */
static void test_names(void **state)
{
	char iso[] = "/tmp/test-seed-XXXXXX", names[512];
	int fd = mkstemp(iso);
	const struct seed_file files[] = {
		{ "user-data", "#cloud-config\n", 14 }, { "meta-data", "a: b\n", 5 },
		{ "network-config", "version: 2\n", 11 }, { "vendor-data", "#cloud-config\n", 14 },
	};
	const unsigned char *dir;
	size_t dir_len;
	struct stat st;

	(void)state;
	assert_true(fd >= 0);
	unlink(iso);
	assert_int_equal(seed_write_files(fd, files, 4, NULL), 0);
	assert_int_equal(fstat(fd, &st), 0);
	unsigned char *img = malloc((size_t)st.st_size);
	assert_non_null(img);
	assert_int_equal(pread(fd, img, (size_t)st.st_size, 0), st.st_size);
	close(fd);

	dir = root_dir(img, (size_t)st.st_size, 2, &dir_len);
	dir_names(dir, dir_len, true, false, names, sizeof(names));
	assert_string_equal(names, "meta-data|network-config|user-data|vendor-data");
	dir = root_dir(img, (size_t)st.st_size, 1, &dir_len);
	dir_names(dir, dir_len, false, true, names, sizeof(names));
	assert_string_equal(names, "meta-data|network-config|user-data|vendor-data");
	free(img);
}

static void test_empty_and_binary(void **state)
{
	(void)state;
	const char m[] = "a\0b\xff\n";

	check_iso("", 0, m, sizeof(m) - 1);
}

static void test_large(void **state)
{
	(void)state;
	/* several blocks, not a multiple of the block size */
	size_t n = 3 * 1024 * 1024 + 12345;
	char *u = malloc(n);

	for (size_t i = 0; i < n; i++)
		u[i] = (char)('a' + (i * 7919) % 26);
	check_iso(u, n, "instance-id: x\n", 15);
	free(u);
}

static void test_write_error(void **state)
{
	(void)state;
	char *err = NULL;
	int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		skip();
	assert_int_equal(seed_write_iso(fd, "a", 1, "b", 1, &err), -ENOSPC);
	assert_string_equal(err, "cannot write the seed image: No space left on device");
	free(err);
	close(fd);

	/* a bad descriptor, and no message wanted */
	assert_int_equal(seed_write_iso(-1, "a", 1, "b", 1, NULL), -EBADF);
}

static void test_twice(void **state)
{
	(void)state;
	/* libisofs is set up and torn down per image */
	test_small(state);
	test_small(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_empty_and_binary),
		cmocka_unit_test(test_large),
		cmocka_unit_test(test_write_error),
		cmocka_unit_test(test_twice),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
