/* SPDX-License-Identifier: MIT */
/* qvm vm as a template: --set paths and values, --name and what follows
 * the name, --count's suffix; the optional network-config and vendor-data
 * documents. */
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

#include "cloudinit.h"
#include "qvmfile.h"
#include "strv.h"
#include "template.h"
#include "virtargs.h"

#define VM "qvm: vm\nname: web\nmemory: 256\ndisk:\n  zvol:\n    base: tank/images/deb12\n"
#define UD "---\nqvm: user-data\nusers:\n  - name: admin\nhostname: web\nfqdn: web.example.com\n"
#define MD "---\nqvm: meta-data\ninstance-id: web\nlocal-hostname: other\n"

static struct qvm_file *parse_t(const char *yaml, const struct qvm_template *t)
{
	struct qvm_file *f = NULL;
	char **errors = NULL;
	int r = qvm_file_parse_template(yaml, strlen(yaml), t, &f, &errors);

	for (size_t i = 0; r != 0 && errors && errors[i]; i++)
		fprintf(stderr, "    got: %s\n", errors[i]);
	assert_int_equal(r, 0);
	strv_free(errors);
	return f;
}

static char **parse_t_bad(const char *yaml, const struct qvm_template *t)
{
	struct qvm_file *f = NULL;
	char **errors = NULL;

	assert_int_equal(qvm_file_parse_template(yaml, strlen(yaml), t, &f, &errors), -EINVAL);
	assert_null(f);
	assert_non_null(errors);
	return errors;
}

static char *args_of(const struct qvm_file *f)
{
	char **argv = NULL, *s;

	assert_int_equal(virt_install_argv(f, "/dev/zvol", "/s/seed.iso", &(struct vi_run){ 0 }, &argv, NULL), 0);
	s = strv_join(argv, " ");
	strv_free(argv);
	return s;
}

static char *meta_of(const struct qvm_file *f)
{
	char *s;
	size_t len;

	assert_int_equal(cloudinit_meta_data(f, &s, &len), 0);
	return s;
}

static void test_no_template(void **state)
{
	struct qvm_template t = { 0 };
	struct qvm_file *f = parse_t(VM UD MD, &t);
	(void)state;
	assert_string_equal(f->name, "web");
	assert_string_equal(f->clone, "tank/images/web");
	qvm_file_free(f);
}

static void test_set(void **state)
{
	char *sets[] = { "vm.memory=4096", "vm.cpu.mode=host-passthrough", "meta-data.local-hostname=db1",
			 "vm.disk.zvol.volsize=20G", "user-data.users.0.name=bob", "vm.noreboot=yes",
			 "vm.memory=512", NULL };
	struct qvm_template t = { .sets = sets };
	struct qvm_file *f = parse_t(VM UD MD, &t);
	char *args = args_of(f), *meta = meta_of(f);
	(void)state;
	assert_string_equal(args, "virt-install --name web --memory 512 "
			    "--disk path=/dev/zvol/tank/images/web --cpu mode=host-passthrough --noreboot "
			    "--import --noautoconsole --disk path=/s/seed.iso,device=cdrom");
	assert_string_equal(f->clone_props[0], "volsize=20G");
	assert_non_null(strstr(meta, "local-hostname: db1\n"));
	assert_string_equal(ymap_get(ymap_get(f->user_data, "users")->items[0], "name")->value, "bob");
	free(args);
	free(meta);
	qvm_file_free(f);
}

static void test_set_quoted(void **state)
{
	char *sets[] = { "vm.description='007'", "vm.autostart=false", "vm.quiet=", NULL };
	struct qvm_template t = { .sets = sets };
	struct qvm_file *f = parse_t(VM UD MD, &t);
	char *args = args_of(f);
	(void)state;
	/* quoted: a string; false: nothing; empty: a flag */
	assert_non_null(strstr(args, " --description 007 "));
	assert_null(strstr(args, "autostart"));
	assert_non_null(strstr(args, " --quiet "));
	free(args);
	qvm_file_free(f);
}

static void test_set_errors(void **state)
{
	char *sets[] = { "vm", "=1", "vm=1", "x.y=1", "vm.memory.x=1", "user-data.users.1=x",
			 "user-data.users.a=x", "vendor-data.a=1", "vm..a=1", "vm.a=[", NULL };
	/* a --set is quoted only where it sets a document known not to be
	 * secret: the others by number (user-data's keys are not shown) */
	static const char *const want[] = {
		"--set #1: expected PATH=VALUE",
		"--set #2: expected PATH=VALUE",
		"--set #3: PATH must name a document and a key, e.g. vm.memory",
		"--set #4: unknown document (expected vm, user-data, meta-data, network-config or vendor-data)",
		"--set vm.memory.x=1: 'x' is inside a scalar",
		"--set #6 (user-data): key 2 of the path is not an index of a sequence of 1 items",
		"--set #7 (user-data): key 2 of the path is not an index of a sequence of 1 items",
		"--set #8 (vendor-data): the file has no such document",
		"--set vm..a=1: empty key in PATH",
	};
	struct qvm_template t = { .sets = sets };
	char **errors = parse_t_bad(VM UD MD, &t);
	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_string_equal(errors[i], want[i]);
	assert_non_null(strstr(errors[9], "--set vm.a=[: the value is not valid YAML: "));
	assert_null(errors[10]);
	strv_free(errors);
}

static void test_name(void **state)
{
	struct qvm_template t = { .name = "db1" };
	struct qvm_file *f = parse_t(VM UD MD, &t);
	char *meta = meta_of(f);
	(void)state;
	assert_string_equal(f->name, "db1");
	assert_string_equal(f->clone, "tank/images/db1");
	/* instance-id was the old name: follows; local-hostname was not: kept */
	assert_string_equal(meta, "instance-id: db1\nlocal-hostname: other\n");
	assert_string_equal(ymap_get(f->user_data, "hostname")->value, "db1");
	assert_string_equal(ymap_get(f->user_data, "fqdn")->value, "db1.example.com");
	free(meta);
	qvm_file_free(f);
}

static void test_name_zvol(void **state)
{
	struct qvm_template t = { .name = "db1" };
	struct qvm_file *f = parse_t("qvm: vm\nname: web\ndisk:\n  - zvol:\n      base: tank/a/deb\n"
				     "      name: tank/vms/web\n" UD MD, &t);
	(void)state;
	assert_string_equal(f->clone, "tank/vms/db1");
	qvm_file_free(f);
	f = parse_t("qvm: vm\nname: web\ndisk:\n  zvol:\n    base: tank/a/deb\n    name: tank/vms/web-root\n"
		    UD MD, &t);
	assert_string_equal(f->clone, "tank/vms/db1-root");
	qvm_file_free(f);
	/* not the old name as a word of its own: kept */
	f = parse_t("qvm: vm\nname: web\ndisk:\n  zvol:\n    base: tank/a/deb\n    name: tank/vms/webroot\n"
		    UD MD, &t);
	assert_string_equal(f->clone, "tank/vms/webroot");
	qvm_file_free(f);
}

static void test_name_style(void **state)
{
	struct qvm_template t = { .name = "123" };
	struct qvm_file *f = parse_t(VM UD MD, &t);
	char *meta = meta_of(f);
	(void)state;
	/* a number-like name stays a string for cloud-init */
	assert_string_equal(meta, "instance-id: '123'\nlocal-hostname: other\n");
	free(meta);
	qvm_file_free(f);
}

static void test_count_suffix(void **state)
{
	struct qvm_template t = { .suffix = "-2" };
	struct qvm_file *f = parse_t(VM UD MD, &t);
	(void)state;
	assert_string_equal(f->name, "web-2");
	assert_string_equal(f->clone, "tank/images/web-2");
	qvm_file_free(f);
	t.name = "node";
	f = parse_t(VM UD MD, &t);
	assert_string_equal(f->name, "node-2");
	qvm_file_free(f);
}

static void test_name_checked(void **state)
{
	struct qvm_template t = { .name = "db1", .suffix = "-x/y" };
	char **errors = parse_t_bad(VM UD MD, &t);
	(void)state;
	assert_non_null(strstr(errors[0], "invalid VM name 'db1-x/y'"));
	strv_free(errors);
}

static void test_optional_docs(void **state)
{
	struct qvm_template t = { 0 };
	struct qvm_file *f = parse_t(VM UD MD "---\nqvm: network-config\nversion: 2\nethernets: {}\n"
				     "---\nqvm: vendor-data\nruncmd: [ls]\n", &t);
	char *s;
	size_t len;
	(void)state;
	assert_int_equal(cloudinit_network_config(f, &s, &len), 0);
	assert_string_equal(s, "version: 2\nethernets: {}\n");
	free(s);
	assert_int_equal(cloudinit_vendor_data(f, &s, &len), 0);
	assert_string_equal(s, "#cloud-config\nruncmd:\n- ls\n");
	free(s);
	qvm_file_free(f);
	f = parse_t(VM UD MD, &t);
	assert_int_equal(cloudinit_network_config(f, &s, &len), -ENOENT);
	assert_int_equal(cloudinit_vendor_data(f, &s, &len), -ENOENT);
	qvm_file_free(f);
}

static void test_network_config_version(void **state)
{
	struct qvm_template t = { 0 };
	char **errors = parse_t_bad(VM UD MD "---\nqvm: network-config\nversion: 3\n", &t);
	(void)state;
	assert_string_equal(errors[0], "19:10: network-config 'version' must be 1 or 2");
	strv_free(errors);
	errors = parse_t_bad(VM UD MD "---\nqvm: network-config\nethernets: {}\n", &t);
	assert_non_null(strstr(errors[0], "network-config has no 'version'"));
	strv_free(errors);
	qvm_file_free(parse_t(VM UD MD "---\nqvm: network-config\nnetwork:\n  version: 1\n  config: []\n", &t));
}

static void test_extra_disks(void **state)
{
	struct qvm_template t = { .name = "db" };
	struct qvm_file *f = parse_t("qvm: vm\nname: web\ndisk:\n"
				     "  - zvol: {base: tank/a/deb, volsize: 20G}\n    bus: virtio\n"
				     "  - path: /x.iso\n    device: cdrom\n"
				     "  - zvol: {volsize: 50G, volblocksize: 64K}\n"
				     "  - zvol: {base: tank/a/data@v1, name: tank/b/web-data, compression: lz4}\n"
				     "    cache: none\n" UD MD, &t);
	char *args = args_of(f);
	(void)state;
	assert_string_equal(f->clone, "tank/a/db");
	assert_int_equal(f->n_extra_disks, 2);
	assert_null(f->extra_disks[0].base_snapshot);
	assert_string_equal(f->extra_disks[0].dataset, "tank/a/db-disk1");
	assert_string_equal(f->extra_disks[0].volsize, "50G");
	assert_int_equal(strv_length(f->extra_disks[0].props), 1);
	assert_string_equal(f->extra_disks[0].props[0], "volblocksize=64K");
	assert_string_equal(f->extra_disks[1].base_snapshot, "tank/a/data@v1");
	assert_string_equal(f->extra_disks[1].dataset, "tank/b/db-data");
	assert_string_equal(f->extra_disks[1].props[0], "compression=lz4");
	assert_string_equal(args, "virt-install --name db "
			    "--disk path=/dev/zvol/tank/a/db,bus=virtio --disk path=/x.iso,device=cdrom "
			    "--disk path=/dev/zvol/tank/a/db-disk1 --disk path=/dev/zvol/tank/b/db-data,cache=none "
			    "--import --noautoconsole --disk path=/s/seed.iso,device=cdrom");
	free(args);
	qvm_file_free(f);
}

static void expand_ok(const char *in, unsigned n, const char *name, const char *want, bool want_n)
{
	char *out = NULL;
	const char *why = NULL;
	bool has_n = !want_n;

	assert_int_equal(template_expand(in, n, name, &out, &has_n, &why), 0);
	assert_string_equal(out, want);
	assert_int_equal(has_n, want_n);
	free(out);
}

static void expand_bad(const char *in, const char *name, const char *want)
{
	char *out = NULL;
	const char *why = NULL;

	assert_int_equal(template_expand(in, 2, name, &out, NULL, &why), -EINVAL);
	assert_null(out);
	assert_string_equal(why, want);
}

static void test_expand(void **state)
{
	(void)state;
	expand_ok("web{n}", 3, "x", "web3", true);
	expand_ok("web-{n}-{n}", 12, NULL, "web-12-12", true);
	expand_ok("{n}", 0, NULL, "1", true);           /* without --count: 1 */
	expand_ok("{name}.example.com", 2, "db-2", "db-2.example.com", false);
	expand_ok("plain", 2, NULL, "plain", false);
	expand_ok("", 2, NULL, "", false);
	/* literal braces; flow YAML passes untouched */
	expand_ok("{{n}", 2, NULL, "{n}", false);
	expand_ok("{{name}={name}", 2, "a", "{name}=a", false);
	expand_ok("{{n}}", 2, NULL, "{n}}", false);
	expand_ok("{a: {b: c}}", 2, NULL, "{a: {b: c}}", false);
	expand_ok("{a: {b: {n}}}", 2, NULL, "{a: {b: 2}}", true);
	expand_ok("{a: b, c: [1]}", 2, NULL, "{a: b, c: [1]}", false);
	expand_ok("{}", 2, NULL, "{}", false);
	expand_ok("{ n }", 2, NULL, "{ n }", false);
	expand_ok("{n", 2, NULL, "{n", false);
	expand_ok("n}", 2, NULL, "n}", false);
	/* {name} is put in once, never read again: a name holding "{n}" stays */
	expand_ok("{name}", 2, "{n}{name}", "{n}{name}", false);
	expand_bad("{x}", "a", "unknown placeholder (expected {n} or {name}; {{ for a literal brace)");
	expand_bad("{N}", "a", "unknown placeholder (expected {n} or {name}; {{ for a literal brace)");
	expand_bad("{names}", "a", "unknown placeholder (expected {n} or {name}; {{ for a literal brace)");
	expand_bad("web{name}", NULL, "{name} is the VM's final name: it cannot be part of that name");
}

/* {n} and {name} per instance, in --name and --set values. */
static void test_instance_values(void **state)
{
	(void)state;
	char *sets[] = { "meta-data.local-hostname={name}", "user-data.hostname=h{n}", "vm.memory={n}00",
			 "vm.description='{{n} of {name}'", NULL };
	struct qvm_template t = { .name = "db{n}", .sets = sets, .suffix = "-3", .n = 3 };
	struct qvm_file *f = parse_t(VM UD MD, &t);
	char *meta = meta_of(f), *args = args_of(f);

	/* {n} in --name: no "-3" suffix */
	assert_string_equal(f->name, "db3");
	assert_string_equal(f->clone, "tank/images/db3");
	assert_non_null(strstr(meta, "local-hostname: db3\n"));
	assert_non_null(strstr(meta, "instance-id: db3\n"));
	assert_string_equal(ymap_get(f->user_data, "hostname")->value, "h3");
	assert_non_null(strstr(args, "--memory 300 "));
	assert_non_null(strstr(args, "--description {n} of db3 "));
	free(meta);
	free(args);
	qvm_file_free(f);

	/* --name without {n}: the suffix stays; {name} is the suffixed name */
	t.name = "db";
	f = parse_t(VM UD MD, &t);
	meta = meta_of(f);
	assert_string_equal(f->name, "db-3");
	assert_non_null(strstr(meta, "local-hostname: db-3\n"));
	free(meta);
	qvm_file_free(f);

	/* no --name: the file's name (+ suffix); vm.name by --set with {n} */
	t.name = NULL;
	f = parse_t(VM UD MD, &t);
	assert_string_equal(f->name, "web-3");
	qvm_file_free(f);
	char *sets2[] = { "vm.name=node{n}", "meta-data.local-hostname={name}", NULL };
	t.sets = sets2;
	f = parse_t(VM UD MD, &t);
	meta = meta_of(f);
	assert_string_equal(f->name, "node3");
	assert_non_null(strstr(meta, "local-hostname: node3\n"));
	free(meta);
	qvm_file_free(f);

	/* without --count: {n} is 1 */
	t = (struct qvm_template){ .sets = sets };
	f = parse_t(VM UD MD, &t);
	assert_string_equal(f->name, "web");
	assert_string_equal(ymap_get(f->user_data, "hostname")->value, "h1");
	qvm_file_free(f);
}

static void test_instance_value_errors(void **state)
{
	(void)state;
	char *sets[] = { "vm.memory={x}", "user-data.password={secret}", "vm.name={name}1", NULL };
	struct qvm_template t = { .sets = sets, .n = 2 };
	char **errors = parse_t_bad(VM UD MD, &t);

	/* vm.name first (it makes {name}), then the others in order; the
	 * secret document's value is never quoted */
	assert_int_equal(strv_length(errors), 3);
	assert_string_equal(errors[0], "--set vm.name={name}1: {name} is the VM's final name: it cannot be part "
			    "of that name");
	assert_string_equal(errors[1], "--set vm.memory={x}: unknown placeholder (expected {n} or {name}; {{ for a "
			    "literal brace)");
	assert_string_equal(errors[2], "--set #2 (user-data): unknown placeholder (expected {n} or {name}; {{ for a "
			    "literal brace)");
	strv_free(errors);

	struct qvm_template tn = { .name = "a{name}" };
	errors = parse_t_bad(VM UD MD, &tn);
	assert_string_equal(errors[0], "--name: {name} is the VM's final name: it cannot be part of that name");
	assert_null(errors[1]);
	strv_free(errors);

	/* {n} where it makes an invalid name: the name check says so */
	char *sets3[] = { "vm.name={n}", NULL };
	struct qvm_template t3 = { .sets = sets3, .n = 2 };
	struct qvm_file *f = parse_t(VM UD MD, &t3);
	assert_string_equal(f->name, "2");
	qvm_file_free(f);
	/* a placeholder in a PATH is no placeholder: an unknown key */
	char *sets4[] = { "vm.{n}=1", NULL };
	struct qvm_template t4 = { .sets = sets4 };
	errors = parse_t_bad(VM UD MD, &t4);
	assert_non_null(strstr(errors[0], "invalid option name '{n}'"));
	strv_free(errors);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_template),
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_instance_values),
		cmocka_unit_test(test_instance_value_errors),
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_set_quoted),
		cmocka_unit_test(test_set_errors),
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_name_zvol),
		cmocka_unit_test(test_name_style),
		cmocka_unit_test(test_count_suffix),
		cmocka_unit_test(test_name_checked),
		cmocka_unit_test(test_optional_docs),
		cmocka_unit_test(test_network_config_version),
		cmocka_unit_test(test_extra_disks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
