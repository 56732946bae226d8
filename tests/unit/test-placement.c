/* SPDX-License-Identifier: MIT */
/* qvm vm --host auto's choice: the bases first, then free memory, the
 * hosts file's order on a tie; and the words that say why. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "placement.h"

#define GIB (UINT64_C(1) << 30)

static void test_most_memory(void **state)
{
	const struct placement_host h[] = {
		{ "kvm1", true, true, 4 * GIB },
		{ "kvm2", true, true, 12 * GIB + 3 * GIB / 10 },
		{ "kvm3", true, true, 8 * GIB },
	};
	size_t with;
	char *why;

	(void)state;
	assert_int_equal(placement_choose(h, 3, &with), 1);
	assert_int_equal(with, 3);
	why = placement_reason(h, 3, 1, "tank/images/debian12@base");
	assert_string_equal(why, "it has tank/images/debian12@base and the most free memory "
				 "(12.3 GiB, of 3 hosts with the image)");
	free(why);
}

/* More memory without the image, or without an answer, does not count. */
static void test_image_first(void **state)
{
	const struct placement_host h[] = {
		{ "big", true, false, 0 },
		{ "gone", false, false, 0 },
		{ "small", true, true, 2 * GIB },
		{ "bigger", false, true, 64 * GIB },  /* has_bases without an answer: not believed */
	};
	size_t with;
	char *why;

	(void)state;
	assert_int_equal(placement_choose(h, 4, &with), 2);
	assert_int_equal(with, 1);
	why = placement_reason(h, 4, 2, "tank/a@base, tank/b@base");
	assert_string_equal(why, "the only host that has tank/a@base, tank/b@base (2.0 GiB free)");
	free(why);
}

/* As much free memory: the first in the hosts file, and the words say so. */
static void test_tie(void **state)
{
	const struct placement_host h[] = {
		{ "kvm1", true, false, 0 },
		{ "kvm2", true, true, 3 * GIB },
		{ "kvm3", true, true, 3 * GIB },
		{ "kvm4", true, true, 1 * GIB },
	};
	size_t with;
	char *why;

	(void)state;
	assert_int_equal(placement_choose(h, 4, &with), 1);
	assert_int_equal(with, 3);
	why = placement_reason(h, 4, 1, "tank/i@base");
	assert_string_equal(why, "it has tank/i@base and the most free memory (3.0 GiB, as much as kvm3: the "
				 "first in the hosts file)");
	free(why);
}

static void test_none(void **state)
{
	const struct placement_host h[] = {
		{ "kvm1", true, false, 0 },
		{ "kvm2", false, false, 0 },
	};
	size_t with = 99;

	(void)state;
	assert_int_equal(placement_choose(h, 2, &with), -1);
	assert_int_equal(with, 0);
	assert_int_equal(placement_choose(h, 0, &with), -1);
	assert_int_equal(with, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_most_memory),
		cmocka_unit_test(test_image_first),
		cmocka_unit_test(test_tie),
		cmocka_unit_test(test_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
