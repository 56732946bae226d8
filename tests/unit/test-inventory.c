/* SPDX-License-Identifier: MIT */
/* Reading what qvm made from zfs's output (inventory.c): qvm's marks only
 * where they are set on a volume itself, output that does not add up
 * refused, and what counts as a leftover of an interrupted run. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "inventory.h"
#include "marks.h"
#include "strv.h"

/* The zfs get lines of one volume, its properties in the order qvm asks
 * for them; marks given as "prop=value" (set locally) or
 * "prop=value@inherited". */
static void volume_lines(char ***out, const char *name, const char *volsize, const char *used,
			 const char *origin, char *const *marks)
{
	static const char *const props[] = { "qvm:kind", "qvm:vm", "qvm:connect", "qvm:uuid", "qvm:state",
					      "qvm:source", "qvm:sha256", "qvm:sha512", "qvm:disk", "qvm:run",
					      "qvm:osinfo", "qvm:user" };

	assert_int_equal(strv_pushf(out, "%s\tvolsize\t%s\t-\n", name, volsize), 0);
	assert_int_equal(strv_pushf(out, "%s\tused\t%s\t-\n", name, used), 0);
	assert_int_equal(strv_pushf(out, "%s\torigin\t%s\t-\n", name, origin ? origin : "-"), 0);
	for (size_t i = 0; i < sizeof(props) / sizeof(props[0]); i++) {
		const char *value = "-", *source = "-";
		char buf[256];
		size_t len = strlen(props[i]);
		for (size_t j = 0; marks && marks[j]; j++) {
			if (strncmp(marks[j], props[i], len) != 0 || marks[j][len] != '=')
				continue;
			snprintf(buf, sizeof(buf), "%s", marks[j] + len + 1);
			char *at = strchr(buf, '@');
			source = at ? "inherited from tank" : "local";
			if (at)
				*at = '\0';
			value = buf;
		}
		assert_int_equal(strv_pushf(out, "%s\t%s\t%s\t%s\n", name, props[i], value, source), 0);
	}
}

static int parse(char **lines, const char *names_text, struct inventory *inv, char **err)
{
	char *out = strv_join(lines, ""), *names = strdup(names_text);
	int r;

	assert_non_null(out);
	assert_non_null(names);
	r = inventory_parse(inv, names, out, err);
	free(out);
	free(names);
	return r;
}

static void test_marks(void **state)
{
	(void)state;
	char **lines = NULL, *err = NULL;
	struct inventory inv;

	volume_lines(&lines, "tank/images/deb", "2147483648", "1000", NULL,
		     (char *[]){ "qvm:kind=image", "qvm:state=ready", "qvm:source=/tmp/deb.raw",
				 "qvm:sha256=abc", NULL });
	volume_lines(&lines, "tank/images/web1", "2147483648", "500", "tank/images/deb@base",
		     (char *[]){ "qvm:kind=vm-disk", "qvm:vm=web1", "qvm:uuid=U1", "qvm:state=creating",
				 "qvm:run=1-00", NULL });
	/* marks it only inherits from its parent say nothing about it */
	volume_lines(&lines, "tank/vms/other", "1024", "10", "tank/images/deb@base",
		     (char *[]){ "qvm:kind=vm-disk@", "qvm:vm=other@", NULL });
	assert_int_equal(parse(lines, "tank/images/deb\ntank/images/web1\ntank/vms/other\n", &inv, &err), 0);
	assert_null(err);
	assert_int_equal(inv.n, 3);
	assert_string_equal(inv.v[0].name, "tank/images/deb");
	assert_int_equal(inv.v[0].volsize, 2147483648u);
	assert_int_equal(inv.v[0].used, 1000);
	assert_null(inv.v[0].origin);
	assert_true(volume_is_image(&inv.v[0]));
	assert_string_equal(inv.v[0].source, "/tmp/deb.raw");
	assert_string_equal(inv.v[0].sha256, "abc");
	assert_null(inv.v[0].sha512);
	assert_false(volume_is_creating(&inv.v[0]));

	assert_string_equal(inv.v[1].origin, "tank/images/deb@base");
	assert_true(volume_is_disk_of(&inv.v[1], "web1"));
	assert_true(volume_is_disk_of(&inv.v[1], NULL));
	assert_false(volume_is_disk_of(&inv.v[1], "web2"));
	assert_string_equal(inv.v[1].uuid, "U1");
	assert_null(inv.v[1].connect);
	/* run 1 is no qvm: the run is over */
	assert_true(volume_is_creating(&inv.v[1]));
	assert_true(volume_is_leftover(&inv.v[1]));

	assert_null(inv.v[2].kind);
	assert_null(inv.v[2].vm);
	assert_false(volume_is_disk_of(&inv.v[2], NULL));
	assert_false(volume_is_leftover(&inv.v[2]));

	assert_int_equal(inventory_clones(&inv, "tank/images/deb"), 2);
	assert_int_equal(inventory_clones(&inv, "tank/images/de"), 0);
	inventory_clear(&inv);
	assert_int_equal(inv.n, 0);
	strv_free(lines);
}

/* qvm writes no control character into a mark: one holding C0, DEL or C1
 * (UTF-8 or a raw byte) is not taken. Names are kept as zfs has them
 * (they are what zfs must be told; printing escapes them). */
static void test_controls(void **state)
{
	(void)state;
	char **lines = NULL, *err = NULL;
	struct inventory inv;

	volume_lines(&lines, "tank/images/\033[31mweb1", "1024", "10", "tank/images/\xc2\x9b" "deb@base",
		     (char *[]){ "qvm:kind=vm-disk", "qvm:vm=web1", "qvm:user=ad\xc2\x9bmin",
				 "qvm:osinfo=deb\x9b" "ian", "qvm:source=/srv/\033]0;t\a", "qvm:state=r\x7f",
				 "qvm:run=caf\xc3\xa9", NULL });
	assert_int_equal(parse(lines, "tank/images/\033[31mweb1\n", &inv, &err), 0);
	assert_null(err);
	assert_int_equal(inv.n, 1);
	assert_string_equal(inv.v[0].name, "tank/images/\033[31mweb1");
	assert_string_equal(inv.v[0].origin, "tank/images/\xc2\x9b" "deb@base");
	assert_string_equal(inv.v[0].kind, "vm-disk");
	assert_string_equal(inv.v[0].vm, "web1");
	assert_null(inv.v[0].user);
	assert_null(inv.v[0].osinfo);
	assert_null(inv.v[0].source);
	assert_null(inv.v[0].state);
	/* UTF-8 that is no control stays */
	assert_string_equal(inv.v[0].run, "caf\xc3\xa9");
	inventory_clear(&inv);
	strv_free(lines);
}

/* Whether a run id's liveness can be checked from here: this process's
 * own run id (of this boot), an older qvm's id without "@", and one of
 * another boot or machine (taken as running, but not local). */
static void test_run_local(void **state)
{
	(void)state;
	const char *me = marks_run_id(), *at = strchr(me, '@');
	char other[128];

	assert_true(marks_run_local(me));
	assert_true(marks_run_local("1-00"));
	if (!at)
		return;     /* no boot id here: every run is this machine's */
	snprintf(other, sizeof(other), "%.*s@000000000000-1", (int)(at - me), me);
	assert_false(marks_run_local(other));
	assert_true(marks_run_alive(other));
}

static void test_empty(void **state)
{
	(void)state;
	char *err = NULL, empty[] = "", none[] = "";
	struct inventory inv;

	assert_int_equal(inventory_parse(&inv, none, empty, &err), 0);
	assert_int_equal(inv.n, 0);
	inventory_clear(&inv);
}

static void expect_refused(char **lines, const char *names)
{
	char *err = NULL;
	struct inventory inv;

	assert_int_equal(parse(lines, names, &inv, &err), -EPROTO);
	assert_non_null(err);
	assert_non_null(strstr(err, "unexpected output of zfs get"));
	assert_int_equal(inv.n, 0);
	free(err);
}

static void test_forged_lines_refused(void **state)
{
	(void)state;
	char **lines = NULL;

	/* a value holding a line break that reads as another volume's marks */
	volume_lines(&lines, "tank/a", "1", "1", NULL,
		     (char *[]){ "qvm:source=x\ntank/b\tqvm:kind\tvm-disk\tlocal", NULL });
	expect_refused(lines, "tank/a\n");
	strv_free(lines);
	lines = NULL;

	/* a volume zfs list did not name, or one it named missing */
	volume_lines(&lines, "tank/a", "1", "1", NULL, NULL);
	expect_refused(lines, "tank/a\ntank/b\n");
	expect_refused(lines, "tank/b\n");
	/* the same volume twice */
	volume_lines(&lines, "tank/a", "1", "1", NULL, NULL);
	expect_refused(lines, "tank/a\ntank/a\n");
	strv_free(lines);
	lines = NULL;

	/* a volume cut short */
	volume_lines(&lines, "tank/a", "1", "1", NULL, NULL);
	for (size_t i = 12; lines[i]; i++)
		free(lines[i]);
	lines[12] = NULL;
	expect_refused(lines, "tank/a\n");
	strv_free(lines);
	lines = NULL;

	/* a size that is not a number */
	volume_lines(&lines, "tank/a", "big", "1", NULL, NULL);
	expect_refused(lines, "tank/a\n");
	strv_free(lines);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_marks),
		cmocka_unit_test(test_controls),
		cmocka_unit_test(test_run_local),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_forged_lines_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
