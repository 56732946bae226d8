/* SPDX-License-Identifier: MIT */
/* What raw data holds: libblkid's findings on disks it knows (a partition
 * table, a file system made by mkfs.ext4, a LUKS header), for a whole file
 * and for a stream's first bytes, and what a file that is no disk looks
 * like. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "content.h"

extern char **environ;

#define DISK (8u << 20)

static void test_probe(void **state)
{
	unsigned char *disk = calloc(1, DISK);
	char what[160];

	(void)state;
	assert_non_null(disk);
	/* nothing: zeros */
	assert_int_equal(content_probe_head(disk, CONTENT_HEAD, DISK, what, sizeof(what)), 0);
	/* an MBR with one partition */
	disk[446 + 4] = 0x83;
	disk[446 + 8] = 1;
	disk[446 + 12] = 0xff;
	disk[510] = 0x55;
	disk[511] = 0xaa;
	assert_int_equal(content_probe_head(disk, CONTENT_HEAD, DISK, what, sizeof(what)), 1);
	assert_string_equal(what, "a dos partition table");
	/* a LUKS1 header */
	memset(disk, 0, 512);
	memcpy(disk, "LUKS\xba\xbe\x00\x01", 8);
	assert_int_equal(content_probe_head(disk, CONTENT_HEAD, DISK, what, sizeof(what)), 1);
	assert_string_equal(what, "a crypto_LUKS signature");
	free(disk);
}

static void test_probe_fs(void **state)
{
	char path[] = "/tmp/test-content-XXXXXX", what[160];
	int fd = mkstemp(path), status;
	char *argv[] = { "mkfs.ext4", "-q", "-F", path, NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 16 << 20), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (posix_spawnp(&pid, "mkfs.ext4", &fa, NULL, argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		close(fd);
		unlink(path);
		skip();
	}
	posix_spawn_file_actions_destroy(&fa);
	waitpid(pid, &status, 0);
	assert_int_equal(status, 0);
	/* the whole file, and its first MiB as a stream's head */
	assert_int_equal(content_probe_fd(fd, 16 << 20, what, sizeof(what)), 1);
	assert_string_equal(what, "an ext4 file system");
	unsigned char *head = malloc(CONTENT_HEAD);
	assert_non_null(head);
	assert_int_equal(pread(fd, head, CONTENT_HEAD, 0), CONTENT_HEAD);
	assert_int_equal(content_probe_head(head, CONTENT_HEAD, 16 << 20, what, sizeof(what)), 1);
	assert_string_equal(what, "an ext4 file system");
	free(head);
	close(fd);
	unlink(path);
}

#define DESCRIBE(text, want) do { \
	const char *got_ = content_describe((const unsigned char *)(text), sizeof(text) - 1); \
	if ((want) == NULL ? got_ != NULL : !got_ || strcmp(got_, (want) ? (want) : "") != 0) \
		fail_msg("%s: got '%s'", text, got_ ? got_ : "(null)"); \
} while (0)

static void test_describe(void **state)
{
	unsigned char zeros[4096] = { 0 }, bin[256], tar[512] = { 0 };

	(void)state;
	DESCRIBE("<!DOCTYPE html>\n<html><body>404</body></html>\n", "an HTML page");
	DESCRIBE("\xef\xbb\xbf  \n<HTML>\n<HEAD><TITLE>x</TITLE></HEAD>", "an HTML page");
	DESCRIBE("<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code></Error>", "an XML document");
	DESCRIBE("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n", "a PGP message (a signed checksum file?)");
	DESCRIBE("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef  disk.raw\n",
		 "a checksum list (SHA256SUMS or the like)");
	DESCRIBE("just some notes\n\twith tabs\r\nand UTF-8: caf\xc3\xa9\n", "text");
	DESCRIBE("PK\x03\x04\x14\x00\x00\x00", "a zip archive");
	DESCRIBE("!<arch>\ndebian-binary   ", "an ar archive (a .deb package?)");
	DESCRIBE("\x7f" "ELF\x02\x01\x01", "an ELF executable");
	assert_string_equal(content_describe(zeros, sizeof(zeros)), "nothing but zeros");
	assert_null(content_describe(zeros, 0));
	for (int i = 0; i < 256; i++)
		bin[i] = (unsigned char)(i * 37 + 1);
	assert_null(content_describe(bin, sizeof(bin)));
	/* an old tar header, without "ustar": its checksum says what it is */
	memcpy(tar, "disk.raw", 8);
	unsigned sum = 0;
	memset(tar + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += tar[i];
	snprintf((char *)tar + 148, 8, "%06o", sum);
	assert_string_equal(content_describe(tar, sizeof(tar)), "a tar archive qvm could not read");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_probe_fs),
		cmocka_unit_test(test_describe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
