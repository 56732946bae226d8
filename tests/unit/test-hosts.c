/* SPDX-License-Identifier: MIT */
/* Host names as [USER@]HOST[:PORT] and the hosts file: only names that
 * ssh, libvirt and a shell read the same way. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hosts.h"

static void test_spec(void **state)
{
	struct host_spec h;
	char *err = NULL;

	(void)state;
	assert_int_equal(host_spec_parse("kvm1", &h, &err), 0);
	assert_null(h.user);
	assert_string_equal(h.address, "kvm1");
	assert_int_equal(h.port, 0);
	assert_string_equal(h.connect, "qemu+ssh://kvm1/system");
	host_spec_clear(&h);
	assert_int_equal(host_spec_parse("admin@10.0.0.11:2222", &h, &err), 0);
	assert_string_equal(h.user, "admin");
	assert_string_equal(h.address, "10.0.0.11");
	assert_int_equal(h.port, 2222);
	assert_string_equal(h.connect, "qemu+ssh://admin@10.0.0.11:2222/system");
	host_spec_clear(&h);
	assert_int_equal(host_spec_parse("root@[fd00::5]:22", &h, &err), 0);
	assert_string_equal(h.address, "fd00::5");
	assert_string_equal(h.connect, "qemu+ssh://root@[fd00::5]:22/system");
	host_spec_clear(&h);
}

static void test_spec_refused(void **state)
{
	/* options of ssh, shell words, URI syntax, ports out of range */
	static const char *const bad[] = { "", "-oProxyCommand=x", "@kvm1", "a@", "kvm1:", "kvm1:0", "kvm1:65536",
					   "kvm1:22x", "kvm1;id", "kvm 1", "$(id)", "kvm1/x", "fd00::1", "[kvm1]",
					   "[fd00::1", "[fd00::1]x", "-u@kvm1", "root@-kvm1", "kvm1?x", "kvm1#",
					   "k\nvm", ".kvm1", "_kvm1" };
	struct host_spec h;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *err = NULL;
		if (host_spec_parse(bad[i], &h, &err) != -EINVAL)
			fail_msg("'%s' taken", bad[i]);
		assert_non_null(err);
		free(err);
	}
}

static void test_file(void **state)
{
	static const char text[] = "kvm1:\n  ssh: root@10.0.0.11\nkvm2:\n  ssh: admin@kvm2.lan:2222\n"
				   "  connect: qemu+ssh://admin@kvm2.lan:2222/system?keyfile=/k\nkvm3:\n";
	struct host_list l = { 0 };
	struct host_spec h;
	char *err = NULL;

	(void)state;
	assert_int_equal(hosts_parse(&l, "hosts", text, strlen(text), &err), 0);
	assert_int_equal(l.n, 3);
	assert_int_equal(hosts_resolve(&l, "kvm1", &h, &err), 0);
	assert_string_equal(h.name, "kvm1");
	assert_string_equal(h.user, "root");
	assert_string_equal(h.address, "10.0.0.11");
	assert_string_equal(h.connect, "qemu+ssh://root@10.0.0.11/system");
	host_spec_clear(&h);
	assert_int_equal(hosts_resolve(&l, "kvm2", &h, &err), 0);
	assert_int_equal(h.port, 2222);
	assert_string_equal(h.connect, "qemu+ssh://admin@kvm2.lan:2222/system?keyfile=/k");
	host_spec_clear(&h);
	assert_int_equal(hosts_resolve(&l, "kvm3", &h, &err), 0);
	assert_string_equal(h.address, "kvm3");
	host_spec_clear(&h);
	/* not in the file: a host as written */
	assert_int_equal(hosts_resolve(&l, "root@kvm9", &h, &err), 0);
	assert_string_equal(h.address, "kvm9");
	host_spec_clear(&h);
	hosts_clear(&l);
}

static void test_file_errors(void **state)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
		{ "- a\n", "hosts:1:1: a hosts file is a mapping" },
		{ "kvm1:\n  sshh: x\n", "hosts:2:3: unknown key 'sshh'" },
		{ "kvm1:\n  ssh: '-oProxyCommand=x'\n", "hosts:2:3: invalid host '-oProxyCommand=x'" },
		{ "'k;1':\n", "hosts:1:1: invalid host name 'k;1'" },
		{ "auto:\n  ssh: h1\n", "hosts:1:1: 'auto' is not a host name: --host auto lets qvm pick the host" },
		{ "kvm1:\n  connect: 'qemu:///system x'\n", "hosts:2:3: host 'kvm1': connect URI refused" },
		{ "kvm1: [a]\n", "hosts:1:7: host 'kvm1' must be a mapping" },
		{ "a: {}\n---\nb: {}\n", "a hosts file is one YAML document" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct host_list l = { 0 };
		char *err = NULL;
		assert_int_equal(hosts_parse(&l, "hosts", cases[i].text, strlen(cases[i].text), &err), -1);
		assert_non_null(err);
		if (!strstr(err, cases[i].msg))
			fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].msg);
		free(err);
		hosts_clear(&l);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec),
		cmocka_unit_test(test_spec_refused),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_file_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
