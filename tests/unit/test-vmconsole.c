/* SPDX-License-Identifier: MIT */
/* The console log follower and what it reads of cloud-init (vmconsole.c),
 * fed console logs as a Debian guest writes them. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "vmconsole.h"
#include "vmwait.h"

#define FINAL "Cloud-init v. 22.4.2 finished at Sat, 05 Dec 2026 02:00:00 +0000. Datasource " \
	"DataSourceNoCloud [seed=/dev/sr0][dsmode=net].  Up 61.32 seconds"

static const char boot[] =
	"\x1b" "c\x1b[?7l[    0.000000] Linux version 6.1.0-28-amd64\r\n"
	"[    1.234567] virtio_blk virtio1: [vda] 1843200 512-byte logical blocks\r\n"
	"[  \x1b[0;32mOK\x1b[0m  ] Started cloud-init.service - Initial cloud-init job (metadata service crawler).\r\n"
	"[   40.100000] cloud-init[480]: Cloud-init v. 22.4.2 running 'modules:config' at Sat, 05 Dec 2026 01:59:40 +0000. Up 40.00 seconds.\r\n";

static void feed(struct console_log *c, const char *s)
{
	assert_int_equal(console_log_feed(c, s, strlen(s)), 0);
}

static void test_success(void **state)
{
	(void)state;
	struct console_log c;

	assert_int_equal(console_log_init(&c, "/nonexistent"), 0);
	feed(&c, boot);
	assert_null(c.final);
	feed(&c, "[   61.400000] cloud-init[512]: " FINAL "\r\n");
	assert_non_null(c.final);
	assert_string_equal(c.final, "[   61.400000] cloud-init[512]: " FINAL);
	assert_int_equal(c.n_failures, 0);
	assert_null(c.failures);
	/* the bare message, as cloud-init writes it to the console itself */
	console_log_clear(&c);
	assert_int_equal(console_log_init(&c, "/nonexistent"), 0);
	feed(&c, FINAL "\n");
	assert_string_equal(c.final, FINAL);
	/* a mention that is not the message does not count */
	console_log_clear(&c);
	assert_int_equal(console_log_init(&c, "/nonexistent"), 0);
	feed(&c, "Cloud-init v. 22.4.2 running 'modules:final' at Sat, 05 Dec 2026\n");
	assert_null(c.final);
	console_log_clear(&c);
}

static void test_failures(void **state)
{
	(void)state;
	struct console_log c;

	assert_int_equal(console_log_init(&c, "/nonexistent"), 0);
	feed(&c, boot);
	feed(&c, "[   58.1] cloud-init[512]: /var/lib/cloud/instance/scripts/runcmd: 2: false: not found\r\n");
	feed(&c, "[   58.2] cloud-init[512]: 2026-12-05 02:00:00,100 - cc_scripts_user.py[WARNING]: Failed to run "
		 "module scripts-user (scripts in /var/lib/cloud/instance/scripts)\r\n");
	feed(&c, "[   58.3] cloud-init[512]: 2026-12-05 02:00:00,200 - util.py[WARNING]: Running module "
		 "scripts-user (<module 'cloudinit.config.cc_scripts_user' from '/usr/lib/python3/dist-packages/"
		 "cloudinit/config/cc_scripts_user.py'>) failed\r\n");
	feed(&c, "2026-12-05 02:00:00,300 - handlers.py[ERROR]: failed posting event\n");
	feed(&c, "[   58.4] cloud-init[512]: 2026-12-05 02:00:00,400 - util.py[CRITICAL]: boom\r\n");
	/* not cloud-init's */
	feed(&c, "[   59.0] systemd[1]: [ERROR] something else\r\n");
	feed(&c, "[   61.4] cloud-init[512]: " FINAL "\r\n");
	assert_non_null(c.final);
	assert_int_equal(c.n_failures, 4);
	assert_non_null(strstr(c.failures[0], "Failed to run module scripts-user"));
	assert_non_null(strstr(c.failures[1], "Running module scripts-user"));
	assert_non_null(strstr(c.failures[2], "handlers.py[ERROR]"));
	assert_non_null(strstr(c.failures[3], "util.py[CRITICAL]"));
	assert_null(c.failures[4]);
	console_log_clear(&c);

	/* many: all counted, a bounded number kept */
	assert_int_equal(console_log_init(&c, "/nonexistent"), 0);
	for (int i = 0; i < 100; i++)
		feed(&c, "Failed to run module x\n");
	assert_int_equal(c.n_failures, 100);
	assert_int_equal(c.failures[CONSOLE_FAILURES_MAX - 1] != NULL, 1);
	assert_null(c.failures[CONSOLE_FAILURES_MAX]);
	console_log_clear(&c);
}

/* No final message: what was seen last, for the timeout's error. */
static void test_timeout(void **state)
{
	(void)state;
	struct console_log c;

	assert_int_equal(console_log_init(&c, "/nonexistent"), 0);
	assert_null(c.last);
	feed(&c, boot);
	feed(&c, "   \r\n\r\n");
	assert_null(c.final);
	assert_string_equal(c.last, "[   40.100000] cloud-init[480]: Cloud-init v. 22.4.2 running 'modules:config' at "
				    "Sat, 05 Dec 2026 01:59:40 +0000. Up 40.00 seconds.");
	/* an unfinished line is not a line yet */
	feed(&c, "[   45.0] half a li");
	assert_non_null(strstr(c.last, "modules:config"));
	console_log_clear(&c);
}

/* The final message arriving in pieces, one byte at a time. */
static void test_partial(void **state)
{
	(void)state;
	struct console_log c;
	const char *msg = "[   61.4] cloud-init[512]: " FINAL "\r\n";

	assert_int_equal(console_log_init(&c, "/nonexistent"), 0);
	for (size_t i = 0; msg[i]; i++) {
		assert_null(c.final);
		assert_int_equal(console_log_feed(&c, msg + i, 1), 0);
	}
	assert_non_null(c.final);
	console_log_clear(&c);
}

/* Control characters, NULs and escape sequences never leave escaped;
 * a huge line is cut. */
static void test_garbage(void **state)
{
	(void)state;
	struct console_log c;
	char big[100000];

	assert_int_equal(console_log_init(&c, "/nonexistent"), 0);
	static const char junk[] = "a\0b\x1b]0;title\x07\x1b[2J\x9b" "31m \xc2\x9b" "1m \xc3\xa9t\xc3\xa9\n";
	assert_int_equal(console_log_feed(&c, junk, sizeof(junk) - 1), 0);
	assert_non_null(c.last);
	for (const char *p = c.last; *p; p++)
		assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
	/* C0 escaped, C1 and stray bytes made '?', UTF-8 text kept */
	assert_string_equal(c.last, "a\\x00b\\x1b]0;title\\x07\\x1b[2J?31m ??1m \xc3\xa9t\xc3\xa9");
	/* overlong forms, a surrogate, past U+10FFFF, bidi overrides: '?' per byte */
	feed(&c, "x \xe0\x80\xaf \xed\xa0\x80 \xf4\x90\x80\x80 \xe2\x80\xae" "evil\xe2\x80\xac \xe2\x81\xa6 "
		 "\xd8\x9c \xf0\x9f\x99\x82\n");
	assert_string_equal(c.last, "x ??? ??? ???? ???evil??? ??? ?? \xf0\x9f\x99\x82");
	/* a failure line with an escape in it is kept escaped */
	feed(&c, "Failed to run module \x1b[31mred\n");
	assert_string_equal(c.failures[0], "Failed to run module \\x1b[31mred");
	memset(big, 'x', sizeof(big));
	assert_int_equal(console_log_feed(&c, big, sizeof(big)), 0);
	feed(&c, "\n");
	assert_true(strlen(c.last) <= 2 * CONSOLE_LINE_MAX);
	assert_non_null(strstr(c.last, "xxx..."));
	/* the final message past the kept length is not seen: nothing of a
	 * line is read beyond it */
	memset(big, ' ', CONSOLE_LINE_MAX);
	assert_int_equal(console_log_feed(&c, big, CONSOLE_LINE_MAX), 0);
	feed(&c, FINAL "\n");
	assert_null(c.final);
	console_log_clear(&c);
}

static char *temp_path(void)
{
	char *dir = strdup("/tmp/qvm-test-console.XXXXXX"), *path;

	assert_non_null(mkdtemp(dir));
	assert_true(asprintf(&path, "%s/console.log", dir) > 0);
	free(dir);
	return path;
}

static void append(const char *path, const char *s)
{
	FILE *f = fopen(path, "a");

	assert_non_null(f);
	fputs(s, f);
	fclose(f);
}

static void remove_all(char *path)
{
	char *rot;

	assert_true(asprintf(&rot, "%s.1", path) > 0);
	unlink(rot);
	unlink(path);
	free(rot);
	*strrchr(path, '/') = '\0';
	rmdir(path);
	free(path);
}

/* The file: not there yet, growing, read a bounded amount at a time. */
static void test_poll(void **state)
{
	(void)state;
	char *path = temp_path(), *err = NULL;
	struct console_log c;

	assert_int_equal(console_log_init(&c, path), 0);
	assert_int_equal(console_log_poll(&c, 1 << 20, &err), 0);
	assert_int_equal(c.fd, -1);
	append(path, boot);
	append(path, "[   61.4] cloud-init[512]: Cloud-init v. 22.4.2 fin");
	assert_int_equal(console_log_poll(&c, 1 << 20, &err), 0);
	assert_null(c.final);
	/* at most max bytes a call */
	append(path, "ished at Sat, 05 Dec 2026 02:00:00 +0000. Datasource DataSourceNoCloud.  Up 61.32 seconds\r\n");
	assert_int_equal(console_log_poll(&c, 10, &err), 1);
	assert_null(c.final);
	while (console_log_poll(&c, 10, &err) == 1)
		;
	assert_null(err);
	assert_non_null(c.final);
	console_log_clear(&c);

	/* not a file */
	*strrchr(path, '/') = '\0';
	assert_int_equal(console_log_init(&c, path), 0);
	assert_int_equal(console_log_poll(&c, 1 << 20, &err), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
	free(err);
	err = NULL;
	console_log_clear(&c);
	path[strlen(path)] = '/';
	remove_all(path);
}

/* Truncated: read again from 0; rotated: the old file to its end, then
 * the new one. */
static void test_rotation(void **state)
{
	(void)state;
	char *path = temp_path(), *rot, *err = NULL;
	struct console_log c;
	int fd;

	assert_true(asprintf(&rot, "%s.1", path) > 0);
	assert_int_equal(console_log_init(&c, path), 0);
	append(path, boot);
	append(path, "more boot noise, long enough to be longer than what follows\n");
	assert_int_equal(console_log_poll(&c, 1 << 20, &err), 0);
	/* truncated, then a shorter text: read from its start */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	close(fd);
	append(path, "Failed to run module a\n");
	assert_int_equal(console_log_poll(&c, 1 << 20, &err), 0);
	assert_int_equal(c.n_failures, 1);
	assert_string_equal(c.last, "Failed to run module a");

	/* rotated: console.log renamed, more written to it, a new one made */
	assert_int_equal(rename(path, rot), 0);
	append(rot, "[   61.4] cloud-init[512]: Cloud-init v. 22.4.2 ");
	append(path, "finished at Sat, 05 Dec 2026. Datasource DataSourceNoCloud.  Up 61.32 seconds\n");
	assert_int_equal(console_log_poll(&c, 1 << 20, &err), 0);
	assert_null(err);
	assert_non_null(c.final);
	assert_non_null(strstr(c.final, "Cloud-init v. 22.4.2 finished at"));
	console_log_clear(&c);
	free(rot);
	remove_all(path);
}

/* Where libvirt writes the log: on this machine, unless the URI names a
 * host. */
static void test_uri_remote(void **state)
{
	(void)state;
	assert_false(vm_uri_remote("qemu:///system"));
	assert_false(vm_uri_remote("qemu+unix:///system?socket=/run/x"));
	assert_false(vm_uri_remote("test:///default"));
	assert_false(vm_uri_remote(NULL));
	assert_false(vm_uri_remote("qemu:"));
	assert_true(vm_uri_remote("qemu+ssh://root@host/system"));
	assert_true(vm_uri_remote("qemu+tcp://10.0.0.1:16509/system"));
	assert_true(vm_uri_remote("test+ssh://root@127.0.0.1:22/default?socket=/x"));
}

/* A lone \r ends its line, as systemd's status redraws do on a serial
 * console; \r\n (also split between reads, or as \r\r\n) is one end. */
static void test_carriage_return(void **state)
{
	(void)state;
	struct console_log c;

	assert_int_equal(console_log_init(&c, "/nonexistent"), 0);
	for (int i = 0; i < 12; i++)
		feed(&c, "\r\x1b[K[ ***  ] A start job is running for Wait for Network to be Configured (1s / no limit)");
	assert_null(c.final);
	feed(&c, "\r\x1b[K[ 12.3] cloud-init[601]: " FINAL "\r");
	assert_null(c.final);
	feed(&c, "\n");
	assert_non_null(c.final);
	assert_string_equal(c.final, "\\x1b[K[ 12.3] cloud-init[601]: " FINAL);
	console_log_clear(&c);
	/* \r\r\n and a \r\n split between two reads leave the line whole */
	assert_int_equal(console_log_init(&c, "/nonexistent"), 0);
	feed(&c, "one line\r\r\n");
	assert_string_equal(c.last, "one line");
	feed(&c, "another\r");
	feed(&c, "\nthird");
	assert_string_equal(c.last, "another");
	feed(&c, "\r\n");
	assert_string_equal(c.last, "third");
	/* a lone \r between two texts: two lines, the failure in the first kept */
	feed(&c, "1 - util.py[WARNING]: Running module runcmd (x) failed\rover it\n");
	assert_int_equal(c.n_failures, 1);
	assert_string_equal(c.last, "over it");
	console_log_clear(&c);
}

/* cloud-init that fell back to DataSourceNone never read the seed: a
 * failure, though it finished. */
static void test_datasource_none(void **state)
{
	(void)state;
	struct console_log c;

	assert_int_equal(console_log_init(&c, "/nonexistent"), 0);
	feed(&c, "Cloud-init v. 22.4.2 finished at Sat, 05 Dec 2026 02:00:00 +0000. Datasource DataSourceNone.  "
		 "Up 61.32 seconds\n");
	assert_non_null(c.final);
	assert_int_equal(c.n_failures, 1);
	console_log_clear(&c);
}

/* console_log_skip_existing of path as it is now. */
static void skip_as_now(struct console_log *c, const char *path)
{
	struct stat st;
	unsigned char tail[CONSOLE_TAIL_MAX];
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	size_t n = console_log_tail(fd, (uint64_t)st.st_size, tail);
	close(fd);
	assert_int_equal(console_log_init(c, path), 0);
	console_log_skip_existing(c, st.st_dev, st.st_ino, (uint64_t)st.st_size, tail, n);
}

/* A log appended to: what it held before the domain started is an
 * earlier boot's, its final message too. */
static void test_skip_existing(void **state)
{
	(void)state;
	char *path = temp_path(), *err = NULL;
	struct console_log c;

	append(path, FINAL "\n");
	skip_as_now(&c, path);
	assert_int_equal(console_log_poll(&c, 1 << 20, &err), 0);
	assert_null(c.final);
	append(path, boot);
	append(path, FINAL "\n");
	assert_int_equal(console_log_poll(&c, 1 << 20, &err), 0);
	assert_non_null(c.final);
	console_log_clear(&c);
	/* truncated when the domain started (no append): read from its
	 * start, also once it has grown past the old size */
	skip_as_now(&c, path);
	assert_int_equal(truncate(path, 0), 0);
	append(path, FINAL "\n");
	assert_int_equal(console_log_poll(&c, 1 << 20, &err), 0);
	assert_non_null(c.final);
	console_log_clear(&c);
	skip_as_now(&c, path);
	assert_int_equal(truncate(path, 0), 0);
	append(path, boot);
	append(path, boot);
	append(path, FINAL "\n");
	assert_int_equal(console_log_poll(&c, 1 << 20, &err), 0);
	assert_non_null(c.final);
	assert_null(err);
	console_log_clear(&c);
	remove_all(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_success),
		cmocka_unit_test(test_failures),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_partial),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_poll),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_uri_remote),
		cmocka_unit_test(test_carriage_return),
		cmocka_unit_test(test_datasource_none),
		cmocka_unit_test(test_skip_existing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
