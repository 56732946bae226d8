/* SPDX-License-Identifier: MIT */
/* A guest's address: a unicast address of another host, however the
 * guest spells one that is not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ipaddr.h"

static void test_ipv4(void **state)
{
	static const char *const bad[] = { "127.0.0.1", "127.1.2.3", "0.0.0.0", "0.1.2.3", "169.254.1.1",
					   "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
					   "", "1.2.3", "01.2.3.4", "1.2.3.4 ", "1.2.3.4\n", "::1", "-oX=1" };
	char out[IPADDR_TEXT_MAX];

	(void)state;
	assert_true(ipaddr_guest_usable("192.168.122.41", false, out));
	assert_string_equal(out, "192.168.122.41");
	assert_true(ipaddr_guest_usable("10.0.0.5", false, out));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ipaddr_guest_usable(bad[i], false, out))
			fail_msg("IPv4 '%s' taken", bad[i]);
	assert_false(ipaddr_guest_usable(NULL, false, out));
}

static void test_ipv6(void **state)
{
	static const char *const bad[] = { "::", "::1", "0::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1",
					   "::ffff:7f00:1", "::127.0.0.1", "::0.0.0.1", "::ffff:192.168.122.4",
					   "ff02::1", "FF05::2", "fe80::1", "FE80::5054:ff:fe12:3456",
					   "febf::1", "fec0::1", "192.168.122.41", "fd00::1%eth0", "[fd00::1]", "" };
	char out[IPADDR_TEXT_MAX];

	(void)state;
	/* the canonical spelling is what qvm prints and gives ssh */
	assert_true(ipaddr_guest_usable("FD00:0:0:0::0001", true, out));
	assert_string_equal(out, "fd00::1");
	assert_true(ipaddr_guest_usable("2001:db8::42", true, out));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ipaddr_guest_usable(bad[i], true, out))
			fail_msg("IPv6 '%s' taken", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv6),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
