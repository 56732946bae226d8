/* SPDX-License-Identifier: MIT */
/* qvm ssh's pieces that need no VM (sshplan.c): the login names ssh is
 * given, the known_hosts alias and path, and ssh's argv exactly. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "names.h"
#include "sshplan.h"
#include "strv.h"

static void test_login_names(void **state)
{
	static const char *const good[] = { "admin", "debian", "ec2-user", "a", "A.b_c-9", "_svc", "1user" };
	static const char *const bad[] = { "", "-oProxyCommand=x", "-l", "root@host", "a b", "a:b", "a/b",
					   "a\nb", "é", "u$", "a'b", "%d", "~x", "a\tb" };
	char longest[257];
	const char *why;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(login_name_valid(good[i], &why));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(login_name_valid(bad[i], &why));
	assert_false(login_name_valid(NULL, &why));
	assert_false(login_name_valid("-x", &why));
	assert_string_equal(why, "starts with '-'");
	memset(longest, 'a', 32);
	longest[32] = '\0';
	assert_true(login_name_valid(longest, &why));
	longest[32] = 'a';
	longest[33] = '\0';
	assert_false(login_name_valid(longest, &why));
}

static void test_alias(void **state)
{
	char *a;

	(void)state;
	a = ssh_host_alias("Web-1.x_Y");
	assert_string_equal(a, "qvm-web-1.x_y");
	free(a);
}

static void test_plain_paths(void **state)
{
	(void)state;
	assert_true(ssh_path_plain("/var/lib/qvm/web1/known_hosts"));
	assert_true(ssh_path_plain("/tmp/qvm-t.Ab12/001/qvm-state/a+b,c:d@e=f/known_hosts"));
	assert_false(ssh_path_plain(""));
	assert_false(ssh_path_plain("/srv/my vms/x/known_hosts"));
	assert_false(ssh_path_plain("/srv/100%/x/known_hosts"));
	assert_false(ssh_path_plain("/srv/${HOME}/x/known_hosts"));
	assert_false(ssh_path_plain("~/x/known_hosts"));
	assert_false(ssh_path_plain("/srv/\"q\"/known_hosts"));
	assert_false(ssh_path_plain("/srv/a\\b/known_hosts"));
	assert_false(ssh_path_plain("/srv/a\tb/known_hosts"));
}

static void expect_argv(char **argv, const char *const *want)
{
	size_t i;

	for (i = 0; want[i]; i++) {
		assert_non_null(argv[i]);
		assert_string_equal(argv[i], want[i]);
	}
	assert_null(argv[i]);
}

static void test_argv(void **state)
{
	static const char *const cmd[] = { "ls", "-la", "--", "-oProxyCommand=x", NULL };
	static const char *const strict[] = {
		"ssh", "-o", "UserKnownHostsFile=/var/lib/qvm/web1/known_hosts", "-o",
		"GlobalKnownHostsFile=/dev/null", "-o", "HostKeyAlias=qvm-web1", "-o",
		"StrictHostKeyChecking=yes", "-l", "admin", "--", "192.168.122.7", "ls", "-la", "--",
		"-oProxyCommand=x", NULL,
	};
	static const char *const first_use[] = {
		"ssh", "-o", "UserKnownHostsFile=/k", "-o", "GlobalKnownHostsFile=/dev/null", "-o",
		"HostKeyAlias=qvm-a", "-o", "StrictHostKeyChecking=accept-new", "-l", "debian", "--", "fd00::5",
		NULL,
	};
	char **argv;

	(void)state;
	assert_int_equal(ssh_argv("/var/lib/qvm/web1/known_hosts", "qvm-web1", true, "admin", "192.168.122.7",
				  (char *const *)cmd, &argv), 0);
	expect_argv(argv, strict);
	strv_free(argv);
	assert_int_equal(ssh_argv("/k", "qvm-a", false, "debian", "fd00::5", NULL, &argv), 0);
	expect_argv(argv, first_use);
	strv_free(argv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_login_names),
		cmocka_unit_test(test_alias),
		cmocka_unit_test(test_plain_paths),
		cmocka_unit_test(test_argv),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
