/* SPDX-License-Identifier: MIT */
/* The host keys cloud-init prints on a guest's console (hostkeys.c): key
 * lines checked to the last bit, the first complete block winning, a
 * console log read within its bound, and the known_hosts file written
 * whole or not at all. The keys are real ones (ssh-keygen), public. */
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

#include "hostkeys.h"

#define ED "AAAAC3NzaC1lZDI1NTE5AAAAIAZW+U0IvAHqGZy/cX0PxBI1UC6jzVkaY3qqOGnSMLru"
#define ED2 "AAAAC3NzaC1lZDI1NTE5AAAAINlglC8oBtjq6ByJqX69XAu2FwSL+YwCeVMkqYRbjzyr"
#define E256 "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBOCHEnILFCAtzWPtyerQizOEMxwc+tua5DyuTfArk4Gp" \
	"GyP7SPkiTYDT1XbQH3xtg1YC3edij7wZgpfAr06zHhk="
#define E384 "AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBBtFzvVUuLq4t7cwnhEn2L2vuY87vqJa1VSKRWIcaG68" \
	"cFleA5A4I2Zz1S559fa1ymsFPNHZPa9doUDxptssuG7OubSqzZBQhUye5GRG/57tEoBdTQ3yZFost1RYUcGJUw=="
#define E521 "AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBAFCUciNvSXVQSpn0tJ7yhD/5yx9PjclFL9kxVr8ISSP" \
	"cCYtoEDIZ1OXZXtYVQmWnuY529qN2lVSSWlerCTNx2bBIADZTL9cvl9ap9pWi4Vqhbcag+KSn8+OU/u9Bv+VZIQP81Ik5dyPMAfF" \
	"4AkTa1COl6rdwwU4qPod8OmjD76ObiJ1BA=="
#define RSA "AAAAB3NzaC1yc2EAAAADAQABAAABgQCrZ7mgZfWguQwnhElutBa1kV8nZPyf8+Kl98Y2Fw/cusceisetKVHB57iOyFOvWazo" \
	"5p1E+uU/wB5VWU+iXaF1Sa32u9hZ3lPgzmySA//UgLOIS9M03PllFVcFWP4LRfFAK/cxUHY2GRcuU7qFLLEZYKWdkmrhnVpmM06x" \
	"2kEg+172ChAmOlFl9W7/pKjedJNV8a/Fh33u4Luz1alktiZMxncUBNJjEuLbptAYhsAQ48YNH1NLQ/ykfotVezkErwgKgjOigH0w" \
	"UvgTIAzS42qERP1F9YyuQhfcJ5UkoMS1pONexjl7tTFY0MiSlH+6/9c0UVpnEEWhZ9LCU93xyav1SGMjh4wiO3Kz3SthhxxKipvf" \
	"+zv2YWkFxujGOfWKI9iXA49sPaGEIAdbL0G8bB2tQzsqGUUgwKX09NdHkK1TtG5r6cFpNrq/vmmH1HwdHUqq3X3vbCEeVpYGKaPb" \
	"fgq2fY60Lz406LJD8ejaFCEA2RdqYdx3y33UQUmsB/16RQk="
#define RSA1024 "AAAAB3NzaC1yc2EAAAADAQABAAAAgQDJ9pUIJVB//9ua5mmclatAE1MWjZElHyUzuKFCdAC4gfeH92EiJ9INrNzMK43b7Gqy" \
	"NsbKcQZCHOj+52tuVV+6kpdQbHe0oGQrmcqrJo+uHx66Y1CXHdqY9p3kORE3EEzipsOQinN/A+vI4gtPBWevip2M3GV1eHMJdNdG" \
	"6VRoAw=="
/* the same key as E256 with the bits its padding leaves over not zero */
#define E256_NONCANONICAL "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBOCHEnILFCAtzWPtyerQizOEMxwc+tua5Dyu" \
	"TfArk4GpGyP7SPkiTYDT1XbQH3xtg1YC3edij7wZgpfAr06zHhl="
/* ED with a byte after its fields */
#define ED_TRAILING "AAAAC3NzaC1lZDI1NTE5AAAAIAZW+U0IvAHqGZy/cX0PxBI1UC6jzVkaY3qqOGnSMLruAA=="
/* an RSA key of 512 bits: OpenSSH refuses those */
#define RSA512 "AAAAB3NzaC1yc2EAAAADAQABAAAAQQDDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PD" \
	"w8PDw8PDw8PDw8PDw8PD"

#define BEGIN "-----BEGIN SSH HOST KEY KEYS-----"
#define END "-----END SSH HOST KEY KEYS-----"

static bool line_ok(const char *line, const char *type, const char *b64)
{
	struct hostkey k = { 0 };
	bool ok = hostkey_line_parse(line, strlen(line), &k);

	if (ok) {
		assert_string_equal(k.type, type);
		assert_string_equal(k.base64, b64);
		free(k.base64);
	}
	return ok;
}

static bool line_bad(const char *line)
{
	struct hostkey k = { .type = "untouched", .base64 = NULL };
	bool ok = hostkey_line_parse(line, strlen(line), &k);

	if (ok)
		free(k.base64);
	else
		assert_string_equal(k.type, "untouched");
	return !ok;
}

static void test_key_lines(void **state)
{
	(void)state;
	assert_true(line_ok("ssh-ed25519 " ED " root@deb", "ssh-ed25519", ED));
	assert_true(line_ok("ssh-ed25519 " ED, "ssh-ed25519", ED));
	assert_true(line_ok("ecdsa-sha2-nistp256 " E256 " root@deb\r", "ecdsa-sha2-nistp256", E256));
	assert_true(line_ok("ecdsa-sha2-nistp384 " E384 " root@deb", "ecdsa-sha2-nistp384", E384));
	assert_true(line_ok("ecdsa-sha2-nistp521 " E521 " root@deb", "ecdsa-sha2-nistp521", E521));
	assert_true(line_ok("ssh-rsa " RSA " root@deb", "ssh-rsa", RSA));
	assert_true(line_ok("ssh-rsa " RSA1024 " x", "ssh-rsa", RSA1024));
	/* the prefixes of logger, the journal, a kernel timestamp; the
	 * comment may have words; trailing blanks and \r\r */
	assert_true(line_ok("<14>Dec  5 10:00:00 ec2: ssh-ed25519 " ED " root@deb", "ssh-ed25519", ED));
	assert_true(line_ok("[   12.345678] cloud-init[400]: ssh-ed25519 " ED " root@deb  \r\r", "ssh-ed25519",
			    ED));
	assert_true(line_ok("ssh-ed25519\t" ED "\tmy key, for now", "ssh-ed25519", ED));
}

static void test_bad_key_lines(void **state)
{
	(void)state;
	assert_true(line_bad(""));
	assert_true(line_bad("ssh-ed25519"));
	assert_true(line_bad("ssh-ed25519 "));
	assert_true(line_bad("256 SHA256:abc root@deb (ED25519)"));
	/* the blob names another type than the line */
	assert_true(line_bad("ssh-rsa " ED " root@deb"));
	assert_true(line_bad("ecdsa-sha2-nistp384 " E256 " root@deb"));
	/* types OpenSSH no longer uses, or that are no host keys here */
	assert_true(line_bad("ssh-dss AAAAB3NzaC1kc3MAAACBAP root@deb"));
	assert_true(line_bad("ssh-ed25519-cert-v01@openssh.com " ED " root@deb"));
	assert_true(line_bad("SSH-ED25519 " ED));
	/* base64 that is not the canonical text of a key, or not base64 */
	assert_true(line_bad("ecdsa-sha2-nistp256 " E256_NONCANONICAL));
	assert_true(line_bad("ssh-ed25519 " ED_TRAILING));
	assert_true(line_bad("ssh-rsa " RSA512));
	assert_true(line_bad("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAZW+U0IvAHqGZy/cX0PxBI1UC6jzVkaY3qqOGnSMLr"));
	assert_true(line_bad("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAZW+U0IvAHqGZy/cX0PxBI1UC6jzVkaY3qqOGnSML=u"));
	assert_true(line_bad("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAZW-U0IvAHqGZy_cX0PxBI1UC6jzVkaY3qqOGnSMLru"));
	assert_true(line_bad("ssh-ed25519 ====" ED));
	/* a comment with what a terminal acts on */
	assert_true(line_bad("ssh-ed25519 " ED " root@deb\033[2J"));
	assert_true(line_bad("ssh-ed25519 " ED " root\x7f"));
	/* a NUL in the key */
	{
		char line[] = "ssh-ed25519 " ED;
		line[20] = '\0';
		struct hostkey k;
		assert_false(hostkey_line_parse(line, sizeof(line) - 1, &k));
	}
	/* longer than any key line */
	{
		size_t len = HOSTKEYS_LINE_MAX + 1;
		char *line = malloc(len);
		struct hostkey k;
		assert_non_null(line);
		memset(line, ' ', len);
		memcpy(line, "ssh-ed25519 " ED, strlen("ssh-ed25519 " ED));
		assert_false(hostkey_line_parse(line, len, &k));
		free(line);
	}
}

static void parse(const char *text, struct hostkeys *k)
{
	assert_int_equal(hostkeys_parse(text, strlen(text), k), 0);
}

static void test_block(void **state)
{
	struct hostkeys k;

	(void)state;
	/* as a Debian guest prints it: the fingerprints first (through
	 * logger), then the keys; kernel lines around */
	parse("[    1.0] Linux version 6.1\r\n"
	      "<14>Dec  5 10:00:00 ec2: \r\n"
	      "<14>Dec  5 10:00:00 ec2: #############################################################\r\n"
	      "<14>Dec  5 10:00:00 ec2: -----BEGIN SSH HOST KEY FINGERPRINTS-----\r\n"
	      "<14>Dec  5 10:00:00 ec2: 256 SHA256:x root@deb (ECDSA)\r\n"
	      "<14>Dec  5 10:00:00 ec2: -----END SSH HOST KEY FINGERPRINTS-----\r\n"
	      "<14>Dec  5 10:00:00 ec2: " BEGIN "\r\n"
	      "<14>Dec  5 10:00:00 ec2: ecdsa-sha2-nistp256 " E256 " root@deb\r\n"
	      "<14>Dec  5 10:00:00 ec2: ssh-ed25519 " ED " root@deb\r\n"
	      "<14>Dec  5 10:00:00 ec2: " END "\r\n"
	      "[   20.0] cloud-init[500]: Cloud-init v. 22.4.2 finished\r\n", &k);
	assert_true(k.complete);
	assert_int_equal(k.n, 2);
	assert_string_equal(k.k[0].type, "ecdsa-sha2-nistp256");
	assert_string_equal(k.k[0].base64, E256);
	assert_string_equal(k.k[1].type, "ssh-ed25519");
	assert_string_equal(k.k[1].base64, ED);
	assert_int_equal(k.skipped, 0);
	hostkeys_clear(&k);

	/* no prefixes, \n only; lines of other output inside are skipped */
	parse(BEGIN "\nssh-ed25519 " ED " root@deb\n[   5.1] random: crng init done\nssh-rsa garbage\n"
	      "ssh-rsa " RSA " root@deb\n" END "\n", &k);
	assert_true(k.complete);
	assert_int_equal(k.n, 2);
	assert_string_equal(k.k[1].base64, RSA);
	assert_int_equal(k.skipped, 2);
	hostkeys_clear(&k);
}

static void test_first_block_wins(void **state)
{
	struct hostkeys k;

	(void)state;
	/* a later block is not read: printed after the first boot's */
	parse(BEGIN "\nssh-ed25519 " ED "\n" END "\n" BEGIN "\nssh-ed25519 " ED2 "\n" END "\n", &k);
	assert_true(k.complete);
	assert_int_equal(k.n, 1);
	assert_string_equal(k.k[0].base64, ED);
	hostkeys_clear(&k);

	/* a block cut off (a reset) is started again by the next BEGIN */
	parse(BEGIN "\nssh-ed25519 " ED2 "\n" BEGIN "\nssh-ed25519 " ED "\n" END "\n", &k);
	assert_true(k.complete);
	assert_int_equal(k.n, 1);
	assert_string_equal(k.k[0].base64, ED);
	hostkeys_clear(&k);

	/* a complete block without a valid key decides too: no keys */
	parse(BEGIN "\nssh-ed25519 nonsense\n" END "\n" BEGIN "\nssh-ed25519 " ED2 "\n" END "\n", &k);
	assert_true(k.complete);
	assert_int_equal(k.n, 0);
	assert_int_equal(k.skipped, 1);
	hostkeys_clear(&k);

	/* the same key twice is one key */
	parse(BEGIN "\nssh-ed25519 " ED "\nssh-ed25519 " ED " again\n" END "\n", &k);
	assert_int_equal(k.n, 1);
	hostkeys_clear(&k);
}

static void test_incomplete(void **state)
{
	struct hostkeys k;

	(void)state;
	parse("", &k);
	assert_false(k.complete);
	assert_int_equal(k.n, 0);
	parse(BEGIN "\nssh-ed25519 " ED "\n", &k);
	assert_false(k.complete);
	assert_int_equal(k.n, 0);
	/* the END line not yet whole (still being written) */
	parse(BEGIN "\nssh-ed25519 " ED "\n" END, &k);
	assert_false(k.complete);
	assert_int_equal(k.n, 0);
	/* an END without a BEGIN, the markers inside a longer line */
	parse(END "\nssh-ed25519 " ED "\n" END "\n", &k);
	assert_false(k.complete);
	parse(BEGIN " and more\nssh-ed25519 " ED "\n" END "\n", &k);
	assert_false(k.complete);
}

static void test_nul_bytes(void **state)
{
	static const char text[] = BEGIN "\nssh-ed25519 " ED "\0\nssh-ed25519 \0" ED2 "\n\0\n" END "\n";
	struct hostkeys k;

	(void)state;
	assert_int_equal(hostkeys_parse(text, sizeof(text) - 1, &k), 0);
	assert_true(k.complete);
	assert_int_equal(k.n, 0);
	assert_int_equal(k.skipped, 3);
	hostkeys_clear(&k);
}

/* base64 of len bytes (the test's own encoder, for keys it makes up) */
static void b64(const unsigned char *in, size_t len, char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0) |
			     (i + 2 < len ? in[i + 2] : 0);
		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		out[o++] = i + 1 < len ? a[v >> 6 & 63] : '=';
		out[o++] = i + 2 < len ? a[v & 63] : '=';
	}
	out[o] = '\0';
}

static void test_at_most(void **state)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	struct hostkeys k;

	(void)state;
	assert_non_null(f);
	fputs(BEGIN "\n", f);
	/* more distinct ED25519 keys than are kept */
	for (int i = 0; i < HOSTKEYS_MAX + 4; i++) {
		unsigned char blob[51] = { 0, 0, 0, 11, 's', 's', 'h', '-', 'e', 'd', '2', '5', '5', '1', '9', 0, 0, 0, 32 };
		char enc[80];
		blob[19] = (unsigned char)i;
		b64(blob, sizeof(blob), enc);
		fprintf(f, "ssh-ed25519 %s\n", enc);
	}
	fputs(END "\n", f);
	fclose(f);
	parse(text, &k);
	assert_true(k.complete);
	assert_int_equal(k.n, HOSTKEYS_MAX);
	assert_int_equal(k.skipped, 4);
	hostkeys_clear(&k);
	free(text);
}

static char *tmp_dir(void)
{
	char tmpl[] = "/tmp/qvm-test-hostkeys-XXXXXX";
	char *d = mkdtemp(tmpl);

	assert_non_null(d);
	return strdup(d);
}

static char *path_in(const char *dir, const char *name)
{
	char *p;

	assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
	return p;
}

static void write_text(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void test_read(void **state)
{
	static const char block[] = BEGIN "\r\nssh-ed25519 " ED " root@deb\r\n" END "\r\n";
	char *dir = tmp_dir(), *log = path_in(dir, "console.log"), *link = path_in(dir, "link");
	char *fifo = path_in(dir, "fifo"), *err = NULL;
	struct hostkeys k;
	FILE *f;

	(void)state;
	assert_int_equal(hostkeys_read(log, &k, &err), -ENOENT);
	write_text(log, block, sizeof(block) - 1);
	assert_int_equal(hostkeys_read(log, &k, &err), 0);
	assert_true(k.complete);
	assert_int_equal(k.n, 1);
	hostkeys_clear(&k);

	/* a symlink is not followed; a FIFO is not waited on */
	assert_int_equal(symlink(log, link), 0);
	assert_int_equal(hostkeys_read(link, &k, &err), -ELOOP);
	assert_non_null(err);
	free(err);
	err = NULL;
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(hostkeys_read(fifo, &k, &err), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
	free(err);
	err = NULL;

	/* a line longer than the limit, then a block: the long line is
	 * one line (its end is not read as a line of its own) */
	f = fopen(log, "w");
	assert_non_null(f);
	fputs(BEGIN "\n", f);
	for (int i = 0; i < 3 * HOSTKEYS_LINE_MAX; i++)
		fputc('x', f);
	fputs("ssh-ed25519 " ED2 "\n", f);
	fputs("ssh-ed25519 " ED "\n" END "\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(hostkeys_read(log, &k, &err), 0);
	assert_true(k.complete);
	assert_int_equal(k.n, 1);
	assert_string_equal(k.k[0].base64, ED);
	assert_int_equal(k.skipped, 1);
	hostkeys_clear(&k);

	/* only the first HOSTKEYS_READ_MAX bytes are read: a block after
	 * them is not seen, one within them is */
	f = fopen(log, "w");
	assert_non_null(f);
	for (size_t n = 0; n < HOSTKEYS_READ_MAX;)
		n += (size_t)fprintf(f, "[    0.000000] kernel line %zu\n", n);
	fputs(block, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(hostkeys_read(log, &k, &err), 0);
	assert_false(k.complete);
	assert_int_equal(k.n, 0);
	assert_int_equal(truncate(log, HOSTKEYS_READ_MAX - sizeof(block) - 64), 0);
	f = fopen(log, "a");
	assert_non_null(f);
	fputs("\n", f);
	fputs(block, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(hostkeys_read(log, &k, &err), 0);
	assert_true(k.complete);
	assert_int_equal(k.n, 1);
	hostkeys_clear(&k);

	unlink(log);
	unlink(link);
	unlink(fifo);
	rmdir(dir);
	free(fifo);
	free(link);
	free(log);
	free(dir);
}

static void test_known_hosts(void **state)
{
	struct hostkeys k;
	char *text;

	(void)state;
	parse(BEGIN "\necdsa-sha2-nistp256 " E256 " root@deb\nssh-ed25519 " ED " root@deb\n" END "\n", &k);
	text = hostkeys_known_hosts(&k, "qvm-web1");
	assert_non_null(text);
	assert_string_equal(text, "qvm-web1 ecdsa-sha2-nistp256 " E256 "\nqvm-web1 ssh-ed25519 " ED "\n");
	free(text);
	hostkeys_clear(&k);
}

static void test_write_file(void **state)
{
	char *dir = tmp_dir(), *path = path_in(dir, "known_hosts"), *err = NULL;
	char buf[64] = { 0 };
	struct stat st;
	mode_t old = umask(0);
	int dfd, fd;

	(void)state;
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(dfd >= 0);
	assert_int_equal(hostkeys_write_file(dfd, "known_hosts", "a b c\n", &err), 0);
	umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf) - 1), 6);
	close(fd);
	assert_string_equal(buf, "a b c\n");
	/* never replaced */
	assert_int_equal(hostkeys_write_file(dfd, "known_hosts", "x y z\n", &err), -EEXIST);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(read(fd, buf, sizeof(buf) - 1), 6);
	close(fd);
	assert_string_equal(buf, "a b c\n");
	unlink(path);
	/* no temporary file is left in the directory */
	assert_int_equal(rmdir(dir), 0);
	close(dfd);
	free(path);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_lines),
		cmocka_unit_test(test_bad_key_lines),
		cmocka_unit_test(test_block),
		cmocka_unit_test(test_first_block_wins),
		cmocka_unit_test(test_incomplete),
		cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_at_most),
		cmocka_unit_test(test_read),
		cmocka_unit_test(test_known_hosts),
		cmocka_unit_test(test_write_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
