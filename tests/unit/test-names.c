/* SPDX-License-Identifier: MIT */
/* Dataset and VM name allow-lists, size rounding and number parsing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "names.h"
#include "size.h"

static void good_dataset(const char *name, bool snap)
{
	const char *why = NULL;

	if (!dataset_name_valid(name, snap, &why))
		fprintf(stderr, "  '%s' refused: %s\n", name, why);
	assert_true(dataset_name_valid(name, snap, &why));
}

static void bad_dataset(const char *name, bool snap, const char *expect_why)
{
	const char *why = NULL;

	if (dataset_name_valid(name, snap, &why))
		fprintf(stderr, "  '%s' accepted\n", name);
	assert_false(dataset_name_valid(name, snap, &why));
	assert_non_null(why);
	assert_string_equal(why, expect_why);
	assert_false(dataset_name_valid(name, snap, NULL));
}

static void test_dataset_good(void **state)
{
	(void)state;
	good_dataset("tank", false);
	good_dataset("tank/images/debian12", false);
	good_dataset("tank/images/debian-12.5_amd64:v1", false);
	good_dataset("Tank2/a/b/c/d/e", false);
	good_dataset("tank/.hidden", false);
	good_dataset("tank/a..b", false);
	good_dataset("tank/images/debian12@base", true);
	good_dataset("tank@snap", true);
	good_dataset("tank/x@2024-01-01_12:00", true);
	good_dataset("logs/x", false);        /* only "log" itself is reserved */
}

static void test_dataset_bad(void **state)
{
	(void)state;
	char *longname = malloc(300);

	bad_dataset("", false, "empty name");
	bad_dataset(NULL, false, "empty name");
	bad_dataset("/tank", false, "name starts with '/'");
	bad_dataset("tank/", false, "name ends with '/'");
	bad_dataset("tank//a", false, "empty component");
	bad_dataset("tank/./a", false, "component '.' or '..'");
	bad_dataset("tank/..", false, "component '.' or '..'");
	bad_dataset("tank/-a", false, "component starts with '-'");
	bad_dataset("-tank", false, "pool name must start with a letter");
	bad_dataset("1tank/a", false, "pool name must start with a letter");
	bad_dataset("_tank", false, "pool name must start with a letter");
	bad_dataset("tank/a b", false, "invalid character (allowed: A-Z a-z 0-9 _ - . :)");
	bad_dataset("tank/a%b", false, "invalid character (allowed: A-Z a-z 0-9 _ - . :)");
	bad_dataset("tank/a,b", false, "invalid character (allowed: A-Z a-z 0-9 _ - . :)");
	bad_dataset("tank/a=b", false, "invalid character (allowed: A-Z a-z 0-9 _ - . :)");
	bad_dataset("tank/a#b", false, "invalid character (allowed: A-Z a-z 0-9 _ - . :)");
	bad_dataset("tank/\xc3\xa9", false, "invalid character (allowed: A-Z a-z 0-9 _ - . :)");
	bad_dataset("tank/a\nb", false, "invalid character (allowed: A-Z a-z 0-9 _ - . :)");
	bad_dataset("tank/a@b", false, "a snapshot ('@') is not allowed here");
	bad_dataset("tank/a@b@c", true, "more than one '@'");
	bad_dataset("tank/a@", true, "empty component");
	bad_dataset("tank/a@-x", true, "component starts with '-'");
	bad_dataset("tank/a@x/y", true, "invalid character (allowed: A-Z a-z 0-9 _ - . :)");
	bad_dataset("tank/a@..", true, "component '.' or '..'");
	bad_dataset("@snap", true, "pool name must start with a letter");

	/* 255 characters are the most zfs takes */
	memset(longname, 'a', 299);
	memcpy(longname, "tank/", 5);
	longname[255] = '\0';
	good_dataset(longname, false);
	longname[255] = 'a';
	longname[256] = '\0';
	bad_dataset(longname, false, "name longer than 255 characters");
	free(longname);
}

static void test_dataset_reserved(void **state)
{
	(void)state;
	/* zpool(8): mirror, raidz, draid, spare and log are reserved, as are
	 * names beginning with mirror, raidz, draid and spare */
	bad_dataset("mirror/a", false, "pool name is reserved");
	bad_dataset("mirror2", false, "pool name is reserved");
	bad_dataset("mirrorless/x", false, "pool name is reserved");
	bad_dataset("raidz", false, "pool name is reserved");
	bad_dataset("raidz1/x", false, "pool name is reserved");
	bad_dataset("draid/x", false, "pool name is reserved");
	bad_dataset("spare", false, "pool name is reserved");
	bad_dataset("spares/x", false, "pool name is reserved");
	bad_dataset("log", false, "pool name is reserved");
	bad_dataset("log/x", false, "pool name is reserved");
	bad_dataset("log@s", true, "pool name is reserved");
	good_dataset("logger", false);
	good_dataset("tank/mirror", false);
}

static void test_vm_names(void **state)
{
	(void)state;
	const char *why = NULL;
	char name[70];

	assert_true(vm_name_valid("web1", &why));
	assert_true(vm_name_valid("Web_1.example-lan", &why));
	assert_true(vm_name_valid("1", &why));
	assert_true(vm_name_valid("a.", &why));
	assert_true(vm_name_valid("a-", &why));
	assert_true(vm_name_valid("_a", &why));

	assert_false(vm_name_valid("", &why));
	assert_string_equal(why, "empty name");
	assert_false(vm_name_valid(NULL, &why));
	assert_false(vm_name_valid(".web", &why));
	assert_string_equal(why, "starts with '.' or '-'");
	assert_false(vm_name_valid("-web", &why));
	assert_string_equal(why, "starts with '.' or '-'");
	assert_false(vm_name_valid("..", NULL));
	static const char *const bad[] = { "a b", "a/b", "a:b", "a@b", "a,b", "a=b", "a;b", "a$b", "a'b",
					   "a\"b", "a\\b", "a\tb", "a\nb", "caf\xc3\xa9", "a*", "~a", NULL };
	for (size_t i = 0; bad[i]; i++) {
		assert_false(vm_name_valid(bad[i], &why));
		assert_string_equal(why, "invalid character (allowed: A-Z a-z 0-9 _ . -)");
	}

	memset(name, 'x', sizeof(name));
	name[64] = '\0';
	assert_true(vm_name_valid(name, &why));
	name[64] = 'x';
	name[65] = '\0';
	assert_false(vm_name_valid(name, &why));
	assert_string_equal(why, "longer than 64 characters");
}

static void test_dataset_parts(void **state)
{
	(void)state;
	char *s;

	s = dataset_parent("tank/images/debian12");
	assert_string_equal(s, "tank/images");
	free(s);
	s = dataset_parent("tank/a");
	assert_string_equal(s, "tank");
	free(s);
	assert_null(dataset_parent("tank"));
	s = dataset_pool("tank/images/debian12");
	assert_string_equal(s, "tank");
	free(s);
	s = dataset_pool("tank@snap");
	assert_string_equal(s, "tank");
	free(s);
	s = dataset_pool("tank");
	assert_string_equal(s, "tank");
	free(s);
}

static void test_size_round_up(void **state)
{
	(void)state;
	uint64_t out = 1;

	assert_true(size_round_up(0, MIB, &out));
	assert_int_equal(out, 0);
	assert_true(size_round_up(1, MIB, &out));
	assert_int_equal(out, MIB);
	assert_true(size_round_up(MIB - 1, MIB, &out));
	assert_int_equal(out, MIB);
	assert_true(size_round_up(MIB, MIB, &out));
	assert_int_equal(out, MIB);
	assert_true(size_round_up(MIB + 1, MIB, &out));
	assert_int_equal(out, 2 * MIB);
	assert_true(size_round_up(2147483648u + 12345, MIB, &out));
	assert_int_equal(out, 2147483648u + MIB);
	assert_true(size_round_up(UINT64_MAX - MIB + 1, MIB, &out));
	assert_int_equal(out, UINT64_MAX - MIB + 1);
	assert_false(size_round_up(UINT64_MAX - MIB + 2, MIB, &out));
	assert_false(size_round_up(UINT64_MAX, MIB, &out));
	assert_true(size_round_up(5, 4096, &out));
	assert_int_equal(out, 4096);
}

static void test_parse_u64(void **state)
{
	(void)state;
	uint64_t v = 7;

	assert_int_equal(parse_u64("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(parse_u64("30", &v), 0);
	assert_int_equal(v, 30);
	assert_int_equal(parse_u64("007", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(parse_u64("18446744073709551615", &v), 0);
	assert_true(v == UINT64_MAX);
	v = 3;
	assert_int_equal(parse_u64("18446744073709551616", &v), -ERANGE);
	assert_int_equal(parse_u64("99999999999999999999", &v), -ERANGE);
	assert_int_equal(v, 3);   /* untouched on failure */
	assert_int_equal(parse_u64("", &v), -EINVAL);
	assert_int_equal(parse_u64(NULL, &v), -EINVAL);
	assert_int_equal(parse_u64("-1", &v), -EINVAL);
	assert_int_equal(parse_u64("+1", &v), -EINVAL);
	assert_int_equal(parse_u64(" 1", &v), -EINVAL);
	assert_int_equal(parse_u64("1 ", &v), -EINVAL);
	assert_int_equal(parse_u64("1k", &v), -EINVAL);
	assert_int_equal(parse_u64("0x10", &v), -EINVAL);
	assert_int_equal(parse_u64("1.5", &v), -EINVAL);
	assert_int_equal(v, 3);
}

static void test_size_format(void **state)
{
	(void)state;
	char buf[32];

	assert_string_equal(size_format(0, buf, sizeof(buf)), "0 B");
	assert_string_equal(size_format(1023, buf, sizeof(buf)), "1023 B");
	assert_string_equal(size_format(1024, buf, sizeof(buf)), "1.0 KiB");
	assert_string_equal(size_format(1536 * MIB, buf, sizeof(buf)), "1.5 GiB");
	assert_string_equal(size_format(UINT64_MAX, buf, sizeof(buf)), "16.0 EiB");
}

static void test_uuid(void **state)
{
	(void)state;
	char out[37], again[37];

	assert_int_equal(uuid_canonical("4B7C5E2A-9D3F-4E1A-8C6B-2F0D1E3A5B7C", out), 0);
	assert_string_equal(out, "4b7c5e2a-9d3f-4e1a-8c6b-2f0d1e3a5b7c");
	assert_int_equal(uuid_canonical("4b7c5e2a9d3f4e1a8c6b2f0d1e3a5b7c", out), 0);
	assert_string_equal(out, "4b7c5e2a-9d3f-4e1a-8c6b-2f0d1e3a5b7c");
	/* dashes elsewhere, too short, too long, not hex, trailing text */
	assert_int_equal(uuid_canonical("4b7c5e2a9-d3f-4e1a-8c6b-2f0d1e3a5b7c", out), -EINVAL);
	assert_int_equal(uuid_canonical("4b7c5e2a-9d3f-4e1a-8c6b-2f0d1e3a5b7", out), -EINVAL);
	assert_int_equal(uuid_canonical("4b7c5e2a-9d3f-4e1a-8c6b-2f0d1e3a5b7c0", out), -EINVAL);
	assert_int_equal(uuid_canonical("4b7c5e2a-9d3f-4e1a-8c6b-2f0d1e3a5b7g", out), -EINVAL);
	assert_int_equal(uuid_canonical("4b7c5e2a 9d3f 4e1a 8c6b 2f0d1e3a5b7c", out), -EINVAL);
	assert_int_equal(uuid_canonical("", out), -EINVAL);
	/* generated: version 4, RFC 4122 variant, canonical, each new */
	assert_int_equal(uuid_generate(out), 0);
	assert_int_equal(uuid_canonical(out, again), 0);
	assert_string_equal(out, again);
	assert_int_equal(out[14], '4');
	assert_non_null(strchr("89ab", out[19]));
	assert_int_equal(uuid_generate(again), 0);
	assert_string_not_equal(out, again);
}

static void test_login_and_osinfo_names(void **state)
{
	(void)state;
	static const char *const logins[] = { "debian", "ubuntu", "ec2-user", "a", "_svc", "Admin.2",
					      "abcdefghijklmnopqrstuvwxyz012345", NULL };
	static const char *const bad_logins[] = { "", "-oProxyCommand=x", "-l", ".hidden", "a b", "a;b", "a/b",
						  "a\nb", "root@host", "abcdefghijklmnopqrstuvwxyz0123456", "a=b",
						  "\xc3\xa9", NULL };
	static const char *const osinfos[] = { "debian12", "ubuntu24.04", "win2k22", "fedora-rawhide",
					       "alpinelinux3.19", "rhel9.4", "centos-stream9", "opensuse15.5",
					       "generic", "c++os", NULL };
	static const char *const bad_osinfos[] = { "", "--foo", "-x", "x,y=z", "detect=on", "Debian12",
						   "debian 12", "http://debian.org/debian/12", ".x", "a\tb", "list", "help",
						   NULL };

	for (size_t i = 0; logins[i]; i++)
		if (!login_name_valid(logins[i], NULL))
			fail_msg("login '%s' refused", logins[i]);
	for (size_t i = 0; bad_logins[i]; i++)
		if (login_name_valid(bad_logins[i], NULL))
			fail_msg("login '%s' taken", bad_logins[i]);
	for (size_t i = 0; osinfos[i]; i++)
		if (!osinfo_name_valid(osinfos[i]))
			fail_msg("osinfo '%s' refused", osinfos[i]);
	for (size_t i = 0; bad_osinfos[i]; i++)
		if (osinfo_name_valid(bad_osinfos[i]))
			fail_msg("osinfo '%s' taken", bad_osinfos[i]);
	assert_false(login_name_valid(NULL, NULL));
	assert_false(osinfo_name_valid(NULL));
	char long_id[70];
	memset(long_id, 'a', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	assert_false(osinfo_name_valid(long_id));
	long_id[64] = '\0';
	assert_true(osinfo_name_valid(long_id));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dataset_good),
		cmocka_unit_test(test_dataset_bad),
		cmocka_unit_test(test_dataset_reserved),
		cmocka_unit_test(test_vm_names),
		cmocka_unit_test(test_dataset_parts),
		cmocka_unit_test(test_size_round_up),
		cmocka_unit_test(test_parse_u64),
		cmocka_unit_test(test_size_format),
		cmocka_unit_test(test_uuid),
		cmocka_unit_test(test_login_and_osinfo_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
