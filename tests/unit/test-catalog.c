/* SPDX-License-Identifier: MIT */
/* The image catalog (config/catalog.c) and virt-install's osinfo names
 * (config/osinfo.c); the shipped data/images.yaml read as qvm reads it. */
#include <errno.h>
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

#include "catalog.h"
#include "names.h"
#include "osinfo.h"
#include "strv.h"

#define ENTRY(name, extra) \
	"  " name ":\n" \
	"    url: https://example.org/img/" name ".qcow2\n" \
	"    checksum: https://example.org/img/SHA512SUMS\n" \
	"    osinfo: [debian12, linux2022]\n" \
	"    user: debian\n" \
	"    arch: x86_64\n" extra

static int parse(struct catalog *c, const char *text, char **err)
{
	return catalog_parse(c, "cat.yaml", text, strlen(text), err);
}

static void test_parse(void **state)
{
	struct catalog c = { 0 };
	char *err = NULL;
	const struct catalog_entry *e;

	(void)state;
	assert_int_equal(parse(&c, "images:\n" ENTRY("debian-12", "") ENTRY("ubuntu-24.04", ""), &err), 0);
	assert_null(err);
	assert_int_equal(c.n, 2);
	e = catalog_find(&c, "debian-12");
	assert_non_null(e);
	assert_string_equal(e->url, "https://example.org/img/debian-12.qcow2");
	assert_string_equal(e->checksum, "https://example.org/img/SHA512SUMS");
	assert_string_equal(e->osinfo[0], "debian12");
	assert_string_equal(e->osinfo[1], "linux2022");
	assert_null(e->osinfo[2]);
	assert_string_equal(e->user, "debian");
	assert_string_equal(e->arch, "x86_64");
	assert_string_equal(e->where, "cat.yaml:2:3");
	assert_null(catalog_find(&c, "debian"));

	/* a later entry of a name replaces the earlier one, in its place */
	assert_int_equal(parse(&c, "images:\n  debian-12:\n    url: /srv/d12.raw\n    checksum: /srv/SUMS\n"
			     "    osinfo: debian12\n    user: admin\n    arch: aarch64\n", &err), 0);
	assert_int_equal(c.n, 2);
	e = catalog_find(&c, "debian-12");
	assert_string_equal(e->url, "/srv/d12.raw");
	assert_string_equal(e->osinfo[0], "debian12");
	assert_null(e->osinfo[1]);
	assert_string_equal(e->user, "admin");
	assert_string_equal(c.e[0].name, "debian-12");

	char *names = catalog_names(&c);
	assert_string_equal(names, "debian-12, ubuntu-24.04");
	free(names);

	/* empty files and an empty images: add nothing */
	assert_int_equal(parse(&c, "", &err), 0);
	assert_int_equal(parse(&c, "# nothing\n", &err), 0);
	assert_int_equal(parse(&c, "images:\n", &err), 0);
	assert_int_equal(c.n, 2);
	catalog_clear(&c);

	names = catalog_names(&c);
	assert_string_equal(names, "");
	free(names);
}

/* Each wrong catalog: its error, with the file and the place. */
static void test_errors(void **state)
{
	static const struct { const char *text, *msg; } cases[] = {
		{ "images: [a]\n", "cat.yaml:1:9: 'images' must be a mapping" },
		{ "[1]\n", "cat.yaml:1:1: a catalog is a mapping with the key 'images'" },
		{ "image:\n  x: {}\n", "cat.yaml:1:1: unknown key 'image' (a catalog has only 'images')" },
		{ "images:\n  Debian:\n", "cat.yaml:2:3: invalid image name 'Debian'" },
		{ "images:\n  a/b:\n", "cat.yaml:2:3: invalid image name 'a/b'" },
		{ "images:\n  -x:\n", "cat.yaml:2:3: invalid image name '-x'" },
		{ "images:\n  x: 1\n", "cat.yaml:2:6: image 'x' must be a mapping" },
		{ "images:\n" ENTRY("x", "    extra: 1\n"), "cat.yaml:8:5: unknown key 'extra' in image 'x'" },
		{ "images:\n  x:\n    url: https://a/b\n", "cat.yaml:2:3: image 'x' has no 'checksum'" },
		{ "images:\n  x:\n    url: ftp://a/b\n", "cat.yaml:3:10: invalid url of image 'x': expected an http" },
		{ "images:\n  x:\n    url: \"https://a/b c\"\n", "cat.yaml:3:10: invalid url of image 'x': holds white space" },
		{ "images:\n  x:\n    url: \"https://a/\xe2\x80\xae" "gpj.img\"\n", "cat.yaml:3:10: invalid url of image 'x': holds white space, a control character or a byte that is not ASCII" },
		{ "images:\n  x:\n    checksum: relative/SUMS\n", "cat.yaml:3:15: invalid checksum of image 'x'" },
		{ "images:\n  x:\n    osinfo: []\n", "cat.yaml:3:13: 'osinfo' must be a name or a list" },
		{ "images:\n  x:\n    osinfo: [\"-debian\"]\n", "cat.yaml:3:14: invalid osinfo name '-debian'" },
		{ "images:\n  x:\n    osinfo: {a: b}\n", "cat.yaml:3:13: 'osinfo' must be a name or a list" },
		{ "images:\n  x:\n    user: -root\n", "cat.yaml:3:11: invalid user of image 'x'" },
		{ "images:\n  x:\n    user: \"\"\n", "cat.yaml:3:11: 'user' must be a non-empty string" },
		{ "images:\n  x:\n    user: [a]\n", "cat.yaml:3:11: 'user' must be a non-empty string" },
		{ "images:\n  x:\n    arch: \"x86 64\"\n", "cat.yaml:3:11: invalid arch of image 'x'" },
		{ "images:\n  x:\n    url: /a\n    url: /b\n", "cat.yaml:4:5: duplicate key 'url'" },
		{ "images: {\n", "cat.yaml:" },
		{ "images:\n---\nimages:\n", "cat.yaml:3:1: a catalog is one YAML document" },
		{ "images:\n  \"x\\e\":\n", "cat.yaml:2:3: invalid image name 'x\\x1b'" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct catalog c = { 0 };
		char *err = NULL;
		int r = parse(&c, cases[i].text, &err);
		if (r != -1 || !err || strncmp(err, cases[i].msg, strlen(cases[i].msg)) != 0)
			fail_msg("case %zu: r=%d err=%s (expected %s)", i, r, err ? err : "(null)", cases[i].msg);
		free(err);
		catalog_clear(&c);
	}
}

static void test_names(void **state)
{
	(void)state;
	assert_true(catalog_name_valid("debian-12"));
	assert_true(catalog_name_valid("ubuntu-24.04"));
	assert_true(catalog_name_valid("arch"));
	assert_true(catalog_name_valid("9x_y"));
	assert_false(catalog_name_valid(""));
	assert_false(catalog_name_valid(".x"));
	assert_false(catalog_name_valid("a:b"));
	assert_false(catalog_name_valid("a/b"));
	assert_false(catalog_name_valid("Debian"));
	assert_false(catalog_name_valid("0123456789012345678901234567890123456789012345678901234567890123x"));

	assert_true(osinfo_name_valid("debian12"));
	assert_true(osinfo_name_valid("fedora-unknown"));
	assert_true(osinfo_name_valid("ubuntu24.04"));
	assert_true(osinfo_name_valid("win2k3r2"));
	assert_false(osinfo_name_valid("--help"));
	assert_false(osinfo_name_valid("a b"));
	assert_false(osinfo_name_valid(""));

}

static void test_osinfo_list(void **state)
{
	const char *text =
		"almalinux9\n"
		"debian11, debianbullseye\n"
		"debian10, debianbuster\n"
		"linux2022\n"
		"bad name\n"
		"\n"
		"  Note: not all OS are listed, see\n"
		"  osinfo-query os\n";
	char **names = NULL;

	(void)state;
	assert_int_equal(osinfo_list_parse(text, &names), 0);
	assert_int_equal(strv_length(names), 6);
	assert_true(osinfo_known(names, "debianbullseye"));
	assert_true(osinfo_known(names, "linux2022"));
	assert_false(osinfo_known(names, "osinfo-query"));
	assert_false(osinfo_known(names, "debian12"));
	char *cand[] = { (char *)"debian12", (char *)"debian11", (char *)"linux2022", NULL };
	assert_int_equal(osinfo_pick(names, cand), 1);
	char *none[] = { (char *)"debian13", NULL };
	assert_int_equal(osinfo_pick(names, none), -1);
	strv_free(names);
	assert_int_equal(osinfo_list_parse("\n\n", &names), -ENODATA);
	assert_null(names);
}

/* Files and directories: sorted, later wins, missing ones as asked. */
static void test_load(void **state)
{
	char dir[] = "/tmp/qvm-catalog-XXXXXX", path[256], sub[256];
	struct catalog c = { 0 };
	char *err = NULL;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/d", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	snprintf(path, sizeof(path), "%s/base.yaml", dir);
	f = fopen(path, "w");
	fputs("images:\n" ENTRY("a", "") ENTRY("b", ""), f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/d/20-late.yaml", dir);
	f = fopen(path, "w");
	fputs("images:\n  a:\n    url: /late\n    checksum: /SUMS\n    osinfo: x\n    user: u\n    arch: x86_64\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/d/10-early.yaml", dir);
	f = fopen(path, "w");
	fputs("images:\n  a:\n    url: /early\n    checksum: /SUMS\n    osinfo: x\n    user: u\n    arch: x86_64\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/d/ignored.yml", dir);
	f = fopen(path, "w");
	fputs("not: a catalog\n", f);
	fclose(f);

	char env[600];
	snprintf(env, sizeof(env), "%s/base.yaml:%s/d", dir, dir);
	setenv("QVM_IMAGES", env, 1);
	assert_int_equal(catalog_load(&c, &err), 0);
	assert_int_equal(c.n, 2);
	assert_string_equal(catalog_find(&c, "a")->url, "/late");
	assert_int_equal(strv_length(c.files), 3);
	catalog_clear(&c);

	/* a place QVM_IMAGES names must be there */
	snprintf(env, sizeof(env), "%s/nosuch.yaml", dir);
	setenv("QVM_IMAGES", env, 1);
	assert_int_equal(catalog_load(&c, &err), -1);
	assert_non_null(strstr(err, "nosuch.yaml: No such file or directory"));
	free(err);
	err = NULL;
	catalog_clear(&c);

	/* default places may be missing */
	char *paths[] = { env, sub, NULL };
	assert_int_equal(catalog_load_paths(&c, paths, true, &err), 0);
	assert_int_equal(c.n, 1);
	catalog_clear(&c);
	unsetenv("QVM_IMAGES");

	snprintf(path, sizeof(path), "%s/d/20-late.yaml", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/d/10-early.yaml", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/d/ignored.yml", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/base.yaml", dir);
	unlink(path);
	rmdir(sub);
	rmdir(dir);
}

/* The catalog qvm ships: it parses, and has the images issue 14 names. */
static void test_shipped(void **state)
{
	static const char *const want[] = {
		"debian-11", "debian-12", "debian-13", "ubuntu-22.04", "ubuntu-24.04",
		"fedora-44", "almalinux-9", "rocky-9", "alpine-3.23", "arch",
	};
	const char *file = getenv("QVM_SHIPPED_CATALOG");
	char *paths[] = { (char *)file, NULL }, *err = NULL;
	struct catalog c = { 0 };

	(void)state;
	assert_non_null(file);
	if (catalog_load_paths(&c, paths, false, &err) != 0)
		fail_msg("%s", err ? err : "ENOMEM");
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct catalog_entry *e = catalog_find(&c, want[i]);
		if (!e)
			fail_msg("no %s in %s", want[i], file);
		assert_true(strncmp(e->url, "https://", 8) == 0);
		assert_true(strncmp(e->checksum, "https://", 8) == 0);
		assert_non_null(e->osinfo[0]);
	}
	catalog_clear(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_osinfo_list),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_shipped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
