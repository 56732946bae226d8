/* SPDX-License-Identifier: MIT */
/* qvm vm as a template: --set paths and values, --name and what follows
 * the name, --count's suffix; the optional network-config and vendor-data
 * documents. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_template),
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
