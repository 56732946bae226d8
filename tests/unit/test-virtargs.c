/* SPDX-License-Identifier: MIT */
/* The vm document rendered as virt-install arguments (SPEC §3.1). */
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

#include "qvmfile.h"
#include "strv.h"
#include "virtargs.h"

#define REST "---\nqvm: user-data\n---\nqvm: meta-data\n"
#define VM "qvm: vm\nname: web1\ndisk:\n  zvol:\n    base: tank/images/deb12\n"
#define ZVOL_DIR "/dev/zvol"
#define SEED "/var/lib/qvm/web1/seed.iso"

static struct qvm_file *load(const char *yaml)
{
	struct qvm_file *f = NULL;
	char **errors = NULL;
	int r = qvm_file_parse(yaml, strlen(yaml), &f, &errors);

	for (size_t i = 0; errors && errors[i]; i++)
		fprintf(stderr, "  error: %s\n", errors[i]);
	assert_int_equal(r, 0);
	return f;
}

static void assert_argv(char **argv, const char *const *exp)
{
	size_t n = strv_length(argv), m = 0;
	bool same;

	while (exp[m])
		m++;
	same = n == m;
	for (size_t i = 0; same && i < n; i++)
		same = strcmp(argv[i], exp[i]) == 0;
	if (!same) {
		char *got = strv_join(argv, "|"), *want = strv_join((char *const *)exp, "|");
		fprintf(stderr, "  expected: %s\n       got: %s\n", want, got);
		free(got);
		free(want);
		fail();
	}
}

/* Renders a whole file. */
static void check_file(const char *yaml, bool dry_run, const char *const *exp)
{
	struct qvm_file *f = load(yaml);
	char **argv = NULL, *err = NULL;

	const struct vi_run run = { .connect = dry_run ? "test:///default" : NULL,
				    .uuid = dry_run ? "4b7c5e2a-9d3f-4e1a-8c6b-2f0d1e3a5b7c" : NULL,
				    .print_xml = dry_run };
	assert_int_equal(virt_install_argv(f, ZVOL_DIR, SEED, &run, &argv, &err), 0);
	assert_null(err);
	assert_argv(argv, exp);
	strv_free(argv);
	qvm_file_free(f);
}

/* VM + extra keys; exp lists only what the extra keys render to. */
static void check_extra(const char *extra, ...)
{
	char *yaml = NULL;
	const char *exp[64] = { "virt-install", "--name", "web1", "--disk",
				"path=/dev/zvol/tank/images/web1" };
	size_t n = 5;
	va_list ap;
	const char *s;

	va_start(ap, extra);
	while ((s = va_arg(ap, const char *)) && n < 60)
		exp[n++] = s;
	va_end(ap);
	/* no install source named: qvm adds --import */
	if (!strstr(extra, "import") && !strstr(extra, "location") && !strstr(extra, "cdrom:") &&
	    !strstr(extra, "pxe") && !strstr(extra, "install"))
		exp[n++] = "--import";
	exp[n++] = "--noautoconsole";
	exp[n++] = "--disk";
	exp[n++] = "path=" SEED ",device=cdrom";
	exp[n] = NULL;
	assert_true(asprintf(&yaml, VM "%s" REST, extra) > 0);
	check_file(yaml, false, exp);
	free(yaml);
}

static void test_spec_example(void **state)
{
	(void)state;
	const char *y =
		"---\n"
		"qvm: vm\n"
		"name: web1\n"
		"memory: 1024\n"
		"vcpus: 2\n"
		"import: true\n"
		"osinfo: debian12\n"
		"graphics: none\n"
		"network:\n"
		"  network: default\n"
		"  model: virtio\n"
		"disk:\n"
		"  bus: virtio\n"
		"  zvol:\n"
		"    base: tank/images/debian12      # clones tank/images/debian12@base\n"
		"    volsize: 20G                    # any zfs property for the clone\n"
		"...\n"
		"---\n"
		"qvm: user-data\n"
		"users:\n"
		"  - name: admin\n"
		"...\n"
		"---\n"
		"qvm: meta-data\n"
		"instance-id: web1\n"
		"local-hostname: web1\n";
	const char *const exp[] = {
		"virt-install", "--name", "web1", "--memory", "1024", "--vcpus", "2", "--import",
		"--osinfo", "debian12", "--graphics", "none", "--network", "network=default,model=virtio",
		"--disk", "path=/dev/zvol/tank/images/web1,bus=virtio",
		"--noautoconsole", "--disk", "path=" SEED ",device=cdrom", NULL };
	/* what qvm adds: the URI and UUID it uses, and --print-xml */
	const char *const exp_dry[] = {
		"virt-install", "--name", "web1", "--memory", "1024", "--vcpus", "2", "--import",
		"--osinfo", "debian12", "--graphics", "none", "--network", "network=default,model=virtio",
		"--disk", "path=/dev/zvol/tank/images/web1,bus=virtio",
		"--connect", "test:///default", "--uuid", "4b7c5e2a-9d3f-4e1a-8c6b-2f0d1e3a5b7c",
		"--noautoconsole", "--disk", "path=" SEED ",device=cdrom", "--print-xml", "--dry-run", "--debug",
		NULL };

	check_file(y, false, exp);
	check_file(y, true, exp_dry);
}

/* What the image knows: --import when the file names no install source,
 * the image's osinfo when the file names none. */
static void check_defaults(const char *extra, const char *osinfo, const char *const *exp)
{
	char *yaml = NULL, **argv = NULL, *err = NULL;
	struct qvm_file *f;
	const struct vi_run run = { .osinfo = osinfo };

	assert_true(asprintf(&yaml, VM "%s" "---\nqvm: user-data\n", extra) > 0);
	f = load(yaml);
	assert_int_equal(virt_install_argv(f, ZVOL_DIR, SEED, &run, &argv, &err), 0);
	assert_argv(argv, exp);
	strv_free(argv);
	qvm_file_free(f);
	free(yaml);
}

static void test_image_defaults(void **state)
{
	(void)state;
#define HEAD "virt-install", "--name", "web1", "--disk", "path=/dev/zvol/tank/images/web1"
#define TAIL "--noautoconsole", "--disk", "path=" SEED ",device=cdrom", NULL
	check_defaults("", "debian12", (const char *const[]){ HEAD, "--import", "--osinfo", "debian12", TAIL });
	check_defaults("", NULL, (const char *const[]){ HEAD, "--import", TAIL });
	/* the file's own osinfo (or its alias) wins */
	check_defaults("osinfo: alpinelinux3.19\n", "debian12",
		       (const char *const[]){ HEAD, "--osinfo", "alpinelinux3.19", "--import", TAIL });
	check_defaults("os-variant: debian11\n", "debian12",
		       (const char *const[]){ HEAD, "--os-variant", "debian11", "--import", TAIL });
	/* an install source of the file's: no --import */
	check_defaults("cdrom: /iso/d.iso\n", NULL, (const char *const[]){ HEAD, "--cdrom", "/iso/d.iso", TAIL });
	check_defaults("location: http://x/\n", NULL,
		       (const char *const[]){ HEAD, "--location", "http://x/", TAIL });
	check_defaults("pxe: true\n", NULL, (const char *const[]){ HEAD, "--pxe", TAIL });
	check_defaults("install: debian12\n", NULL, (const char *const[]){ HEAD, "--install", "debian12", TAIL });
	check_defaults("import: false\n", NULL, (const char *const[]){ HEAD, TAIL });
	/* direct kernel boot is no install source: --import still */
	check_defaults("boot:\n  kernel: /k\n", NULL,
		       (const char *const[]){ HEAD, "--boot", "kernel=/k", "--import", TAIL });
#undef HEAD
#undef TAIL
}

static void test_true_booleans(void **state)
{
	(void)state;
	const char *words[] = { "true", "True", "TRUE", "tRUE", "yes", "Yes", "YES", "yEs", "on", "On", "ON", "oN",
				"!!bool yes" };
	char line[64];

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		snprintf(line, sizeof(line), "import: %s\n", words[i]);
		check_extra(line, "--import", NULL);
	}
}

static void test_false_booleans(void **state)
{
	(void)state;
	const char *words[] = { "false", "False", "FALSE", "fAlSe", "no", "No", "NO", "nO", "off", "Off", "OFF",
				"oFF" };
	char line[64];

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		snprintf(line, sizeof(line), "import: %s\nvcpus: 2\n", words[i]);
		check_extra(line, "--vcpus", "2", NULL);
	}
}

/* A quoted boolean is a string: for an option that takes a value it is
 * that value; for one of virt-install's flags it is an error of qvm's (it
 * would be "--import true", an unrecognized argument to virt-install). */
static void check_flag_refused(const char *extra, const char *want)
{
	struct qvm_file *f = NULL;
	char **errors = NULL, *yaml = NULL;

	assert_true(asprintf(&yaml, VM "%s" REST, extra) > 0);
	assert_int_equal(qvm_file_parse(yaml, strlen(yaml), &f, &errors), -EINVAL);
	assert_non_null(errors);
	assert_string_equal(errors[0], want);
	assert_null(errors[1]);
	strv_free(errors);
	free(yaml);
}

static void test_quoted_booleans_are_values(void **state)
{
	(void)state;
	check_extra("description: 'yes'\n", "--description", "yes", NULL);
	check_extra("description: !!str true\n", "--description", "true", NULL);
	check_flag_refused("autostart: 'yes'\n", "6:12: 'autostart' is a flag: write true or false without quotes");
	check_flag_refused("import: \"true\"\n", "6:9: 'import' is a flag: write true or false without quotes");
	check_flag_refused("noreboot: !!str true\n", "6:11: 'noreboot' is a flag: write true or false without quotes");
	/* YAML 1.1's y/n are not booleans for qvm */
	check_flag_refused("autostart: y\n", "6:12: 'autostart' is a flag: write true or false without quotes");
	check_flag_refused("transient: 1\n", "6:12: 'transient' is a flag: write true or false without quotes");
	check_extra("autostart: true\n", "--autostart", NULL);
	check_extra("autostart: off\n", NULL);
}

static void test_empty_values(void **state)
{
	(void)state;
	check_extra("import:\n", "--import", NULL);
	check_extra("import: ~\n", "--import", NULL);
	check_extra("import: null\n", "--import", NULL);
	check_extra("import: Null\n", "--import", NULL);
	check_extra("import: NULL\n", "--import", NULL);
	/* quoted: a value, even if empty */
	check_extra("description: ''\n", "--description", "", NULL);
	check_extra("description: '~'\n", "--description", "~", NULL);
}

static void test_scalars_as_written(void **state)
{
	(void)state;
	check_extra("memory: 1024\n", "--memory", "1024", NULL);
	check_extra("memory: 0x10\n", "--memory", "0x10", NULL);
	check_extra("memory: 010\n", "--memory", "010", NULL);
	check_extra("memory: 1_024\n", "--memory", "1_024", NULL);
	check_extra("memory: 1e3\n", "--memory", "1e3", NULL);
	check_extra("memory: 2.50\n", "--memory", "2.50", NULL);
	check_extra("memory: +12\n", "--memory", "+12", NULL);
	check_extra("osinfo: detect=on,require=off\n", "--osinfo", "detect=on,require=off", NULL);
	check_extra("description: \"a, b and 'c'\"\n", "--description", "a, b and 'c'", NULL);
	check_extra("description: two words\n", "--description", "two words", NULL);
	/* a value that argparse would take for an option is glued to it */
	check_extra("extra-args: -x\n", "--extra-args=-x", NULL);
	check_extra("extra-args: \"--foo bar\"\n", "--extra-args=--foo bar", NULL);
	check_extra("extra-args: |\n  a\n  b\n", "--extra-args", "a\nb\n", NULL);
	check_extra("os-variant: debian11\n", "--os-variant", "debian11", NULL);
}

static void test_mappings(void **state)
{
	(void)state;
	check_extra("network:\n  network: default\n  model: virtio\n", "--network", "network=default,model=virtio",
		    NULL);
	check_extra("cpu: {mode: host-passthrough}\n", "--cpu", "mode=host-passthrough", NULL);
	/* nested mappings flatten with dots */
	check_extra("network:\n  source: br0\n  driver:\n    name: vhost\n    queues: 4\n  model: {type: virtio}\n",
		    "--network", "source=br0,driver.name=vhost,driver.queues=4,model.type=virtio", NULL);
	check_extra("x:\n  a:\n    b:\n      c: 1\n", "--x", "a.b.c=1", NULL);
	/* dotted keys as written */
	check_extra("network: {driver.queues: 2}\n", "--network", "driver.queues=2", NULL);
	/* every scalar as written: booleans and numbers too */
	check_extra("graphics:\n  type: vnc\n  listen: 0.0.0.0\n  password: yes\n  port: 05900\n"
		    "  autoport: off\n  keymap: 'no'\n  x: TRUE\n",
		    "--graphics", "type=vnc,listen=0.0.0.0,password=yes,port=05900,autoport=off,keymap=no,x=TRUE",
		    NULL);
	/* quoted and empty strings */
	check_extra("boot: {kernel_args: \"root=/dev/vda console=ttyS0 rw\", extra: ''}\n", "--boot",
		    "kernel_args=root=/dev/vda console=ttyS0 rw,extra=", NULL);
	check_extra("serial: {type: file, path: /var/log/x.log}\n", "--serial", "type=file,path=/var/log/x.log",
		    NULL);
}

static void test_subvalue_quoting(void **state)
{
	(void)state;
	/* virt-install splits sub-options with shlex (POSIX, whitespace ","):
	 * values holding , " ' \ go in double quotes, " and \ escaped */
	check_extra("boot: {kernel_args: \"console=ttyS0,115200 rw\"}\n", "--boot",
		    "kernel_args=\"console=ttyS0,115200 rw\"", NULL);
	check_extra("x: {a: it's}\n", "--x", "a=\"it's\"", NULL);
	check_extra("x: {a: 'say \"hi\"'}\n", "--x", "a=\"say \\\"hi\\\"\"", NULL);
	check_extra("x: {a: 'C:\\dir'}\n", "--x", "a=\"C:\\\\dir\"", NULL);
	check_extra("x: {a: \"1,2\", b: 3}\n", "--x", "a=\"1,2\",b=3", NULL);
}

static void test_sequences(void **state)
{
	(void)state;
	check_extra("network:\n  - network: default\n  - bridge: br0\n    model: e1000\n",
		    "--network", "network=default", "--network", "bridge=br0,model=e1000", NULL);
	check_extra("host-device: [pci_0000_01_00_0, 001.003]\n",
		    "--host-device", "pci_0000_01_00_0", "--host-device", "001.003", NULL);
	/* items follow the top-level rules */
	check_extra("x: [yes, no, ~, 'yes', {a: 1}]\n", "--x", "--x", "--x", "yes", "--x", "a=1", NULL);
	check_extra("x: []\n", NULL);
}

static void test_key_order_and_disks(void **state)
{
	(void)state;
	/* keys keep file order, including several disks; the boot disk gets
	 * its path first, then its other keys in order */
	const char *y =
		"qvm: vm\n"
		"vcpus: 2\n"
		"disk:\n"
		"  - device: cdrom\n"
		"    path: /iso/tools.iso\n"
		"  - bus: virtio\n"
		"    zvol:\n"
		"      base: tank/images/deb12@v1\n"
		"      volsize: 20G\n"
		"    cache: none\n"
		"    driver: {discard: unmap}\n"
		"  - size: 10\n"
		"name: db1\n"
		"memory: 512\n"
		"connect: test:///default\n"
		REST;
	const char *const exp[] = {
		"virt-install", "--vcpus", "2",
		"--disk", "device=cdrom,path=/iso/tools.iso",
		"--disk", "path=/dev/zvol/tank/images/db1,bus=virtio,cache=none,driver.discard=unmap",
		"--disk", "size=10",
		"--name", "db1", "--memory", "512", "--connect", "test:///default",
		"--import", "--noautoconsole", "--disk", "path=" SEED ",device=cdrom", NULL };

	check_file(y, false, exp);
}

static void test_boot_disk_only_zvol(void **state)
{
	(void)state;
	check_extra("", NULL);
}

static void test_paths_quoted(void **state)
{
	(void)state;
	struct qvm_file *f = load(VM REST);
	char **argv = NULL, *err = NULL;
	const char *const exp[] = {
		"virt-install", "--name", "web1", "--disk", "path=\"/dev/z,vol/tank/images/web1\"",
		"--import", "--noautoconsole", "--disk", "path=\"/var/lib/q,vm/seed.iso\",device=cdrom", NULL };

	assert_int_equal(virt_install_argv(f, "/dev/z,vol", "/var/lib/q,vm/seed.iso", &(struct vi_run){ 0 }, &argv, &err), 0);
	assert_argv(argv, exp);
	strv_free(argv);
	qvm_file_free(f);
}

/* The console qvm adds: a pty whose log libvirt writes, quoted like any
 * path. */
static void test_console_log(void **state)
{
	(void)state;
	struct qvm_file *f = load(VM REST);
	char **argv = NULL, *err = NULL;
	const char *const exp[] = {
		"virt-install", "--name", "web1", "--disk", "path=/dev/zvol/tank/images/web1", "--import",
		"--noautoconsole", "--disk", "path=" SEED ",device=cdrom",
		"--serial", "pty,log.file=\"/var/lib/q,vm/web1/console.log\"", NULL };

	assert_int_equal(virt_install_argv(f, ZVOL_DIR, SEED,
					   &(struct vi_run){ .console_log = "/var/lib/q,vm/web1/console.log" }, &argv,
					   &err), 0);
	assert_argv(argv, exp);
	strv_free(argv);
	qvm_file_free(f);
}

/* What the file's own console says: a file qvm can follow, or not. */
static void check_console(const char *extra, int want, const char *want_path)
{
	char *yaml = NULL, *path = NULL;
	const char *why = NULL;
	struct qvm_file *f;

	assert_true(asprintf(&yaml, VM "%s" REST, extra) > 0);
	f = load(yaml);
	assert_int_equal(virt_args_console(f->vm, &path, &why), want);
	if (want_path)
		assert_string_equal(path, want_path);
	else
		assert_null(path);
	assert_true(want == 2 ? why != NULL : why == NULL);
	free(path);
	free(yaml);
	qvm_file_free(f);
}

static void test_console_own(void **state)
{
	(void)state;
	check_console("", 0, NULL);
	check_console("serial: {type: file, path: /var/log/g.log}\n", 1, "/var/log/g.log");
	check_console("serial: file,path=/var/log/g.log\n", 1, "/var/log/g.log");
	check_console("serial: type=file,path=/var/log/g.log\n", 1, "/var/log/g.log");
	check_console("serial: pty,log.file=/var/log/p.log\n", 1, "/var/log/p.log");
	check_console("serial: {type: pty, log: {file: /var/log/p.log}}\n", 1, "/var/log/p.log");
	check_console("serial: {type: pty, log.file: /var/log/p.log}\n", 1, "/var/log/p.log");
	check_console("serial:\n  - file,path=/a.log\n  - pty\n", 1, "/a.log");
	check_console("console: {type: file, path: /c.log}\n", 1, "/c.log");
	/* defined, but nothing qvm can read */
	check_console("serial: pty\n", 2, NULL);
	check_console("console: pty,target_type=virtio\n", 2, NULL);
	check_console("serial: {type: file, path: \"/var/log/a&b.log\"}\n", 2, NULL);
	check_console("serial: {type: file, path: \"/var/log/it's.log\"}\n", 2, NULL);
	check_console("serial: {type: file, path: rel.log}\n", 2, NULL);
	check_console("serial: 'file,path=\"/a,b.log\"'\n", 2, NULL);
	check_console("serial: {type: tcp, path: /x}\n", 2, NULL);
}

static void test_render_error_from_tree(void **state)
{
	(void)state;
	/* virt_install_argv on a tree changed after validation: one message */
	struct qvm_file *f = load(VM REST);
	char **argv = NULL, *err = NULL;

	assert_int_equal(ymap_append(f->vm, "graphics", ynode_new_scalar("x", YSTYLE_PLAIN)), 0);
	f->vm->items[f->vm->n - 1]->kind = YNODE_MAPPING;   /* an empty mapping */
	free(f->vm->items[f->vm->n - 1]->value);
	f->vm->items[f->vm->n - 1]->value = NULL;
	f->vm->items[f->vm->n - 1]->len = 0;
	assert_int_equal(virt_install_argv(f, ZVOL_DIR, SEED, &(struct vi_run){ 0 }, &argv, &err), -EINVAL);
	assert_null(argv);
	assert_string_equal(err, "0:0: 'graphics' is an empty mapping");
	free(err);
	qvm_file_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_example),
		cmocka_unit_test(test_true_booleans),
		cmocka_unit_test(test_false_booleans),
		cmocka_unit_test(test_quoted_booleans_are_values),
		cmocka_unit_test(test_image_defaults),
		cmocka_unit_test(test_empty_values),
		cmocka_unit_test(test_scalars_as_written),
		cmocka_unit_test(test_mappings),
		cmocka_unit_test(test_subvalue_quoting),
		cmocka_unit_test(test_sequences),
		cmocka_unit_test(test_key_order_and_disks),
		cmocka_unit_test(test_boot_disk_only_zvol),
		cmocka_unit_test(test_paths_quoted),
		cmocka_unit_test(test_render_error_from_tree),
		cmocka_unit_test(test_console_log),
		cmocka_unit_test(test_console_own),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
