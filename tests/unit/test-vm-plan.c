/* SPDX-License-Identifier: MIT */
/* The VM jobs' parts that need neither zfs nor libvirt: the plan read from
 * a file, its names, disks and commands, the flags, the seed's files, and
 * what qvm vm --count decides. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cleanup.h"
#include "domain.h"
#include "strv.h"
#include "template.h"
#include "vioptions.h"
#include "vmbatch.h"
#include "vmplan.h"
#include "vmseed.h"
#include "vmxml.h"

#define REST "---\nqvm: user-data\n---\nqvm: meta-data\n"
#define DISKS "disk:\n" \
	"  - bus: virtio\n" \
	"    zvol:\n" \
	"      base: tank/images/deb12\n" \
	"      compression: lz4\n" \
	"  - zvol:\n" \
	"      volsize: 8M\n" \
	"      volblocksize: 64K\n" \
	"  - zvol:\n" \
	"      base: tank/data\n" \
	"      name: tank/vms/extra\n"

static char dir[] = "/tmp/qvm-test-vm-XXXXXX";
static struct vi_options *options;

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	setenv("QVM_STATE_DIR", "/var/lib/qvm-test", 1);
	setenv("QVM_ZVOL_DIR", "/dev/zvol-test", 1);
	unsetenv("QVM_DEVICE_TIMEOUT");
	return vi_options_parse("options:\n  --name NAME\n  --memory MEMORY\n  --disk DISK\n"
				"  --import\n  --uuid UUID\n  --cdrom CDROM\n  --transient\n  --noreboot\n  --autostart\n  --network NET\n",
				&options);
}

static int teardown(void **state)
{
	(void)state;
	vi_options_free(options);
	return rmdir(dir);
}

/* The file's text in dir/NAME; its path (static). */
static const char *write_file(const char *name, const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return path;
}

static struct vm_plan *read_ok(const char *text, const struct qvm_template *t)
{
	const struct vm_request req = { .path = write_file("vm.yaml", text), .tmpl = t, .options = options };
	struct vm_plan *p = NULL;
	char **errors = NULL;
	int r = vm_plan_read(&req, &p, &errors);

	if (r != 0)
		fail_msg("%s", errors && errors[0] ? errors[0] : "no message");
	unlink(req.path);
	assert_non_null(p);
	return p;
}

static void test_read_and_prepare(void **state)
{
	(void)state;
	struct vm_plan *p = read_ok("qvm: vm\nname: web1\nuuid: 4B7C5E2A-9D3F-4E1A-8C6B-2F0D1E3A5B7C\n"
				    DISKS "---\nqvm: user-data\n---\nqvm: meta-data\n", NULL);
	char *err = NULL;

	assert_int_equal(vm_plan_prepare(p, &err), 0);
	assert_null(err);
	/* the file's UUID, as libvirt prints it */
	assert_string_equal(p->uuid, "4b7c5e2a-9d3f-4e1a-8c6b-2f0d1e3a5b7c");
	assert_string_equal(p->seed_dir, "/var/lib/qvm-test/web1");
	assert_string_equal(p->seed_path, "/var/lib/qvm-test/web1/seed.iso");
	assert_string_equal(p->device, "/dev/zvol-test/tank/images/web1");
	/* the disks in file order: boot clone, blank volume, clone */
	assert_int_equal(vm_plan_disks(p), 3);
	assert_string_equal(vm_disk_dataset(p, 0), "tank/images/web1");
	assert_string_equal(vm_disk_base(p, 0), "tank/images/deb12@base");
	assert_string_equal(vm_disk_dataset(p, 1), "tank/images/web1-disk1");
	assert_null(vm_disk_base(p, 1));
	assert_int_equal(p->file->extra_disks[0].volsize_bytes, 8 << 20);
	assert_string_equal(vm_disk_dataset(p, 2), "tank/vms/extra");
	assert_string_equal(vm_disk_base(p, 2), "tank/data@base");
	vm_plan_free(p);

	/* no UUID in the file: one made up, a new one each time */
	p = read_ok("qvm: vm\nname: web1\n" DISKS REST, NULL);
	assert_int_equal(vm_plan_prepare(p, &err), 0);
	assert_int_equal(strlen(p->uuid), 36);
	vm_plan_free(p);

	setenv("QVM_DEVICE_TIMEOUT", "soon", 1);
	p = read_ok("qvm: vm\nname: web1\n" DISKS REST, NULL);
	assert_int_equal(vm_plan_prepare(p, &err), -EINVAL);
	assert_string_equal(err, "QVM_DEVICE_TIMEOUT must be a whole number of seconds (0-86400)");
	unsetenv("QVM_DEVICE_TIMEOUT");
	free(err);
	vm_plan_free(p);
}

static void test_read_errors(void **state)
{
	(void)state;
	const char *path = write_file("bad.yaml", "qvm: vm\nname: web1\nnam: x\n" DISKS REST);
	char *sets[] = { "vm.memori=1", NULL };
	const struct qvm_template t = { .sets = sets };
	const struct vm_request req = { .path = path, .tmpl = &t, .options = options };
	const struct vm_request missing = { .path = "/nonexistent/vm.yaml", .tmpl = &t, .options = options };
	struct vm_plan *p = NULL;
	char **errors = NULL;

	/* a key virt-install would take for another: refused, at its line;
	 * a --set's by its argument. The plan is kept: the VM has a name */
	assert_int_equal(vm_plan_read(&req, &p, &errors), -1);
	assert_non_null(p);
	assert_string_equal(p->file->name, "web1");
	assert_int_equal(strv_length(errors), 2);
	assert_non_null(strstr(errors[0], ":3:1: "));
	assert_int_equal(strncmp(errors[0], path, strlen(path)), 0);
	assert_int_equal(strncmp(errors[1], "--set vm.memori=1: ", 19), 0);
	strv_free(errors);
	vm_plan_free(p);
	unlink(path);

	/* a file that cannot be read: no plan, one message */
	assert_int_equal(vm_plan_read(&missing, &p, &errors), -1);
	assert_null(p);
	assert_int_equal(strv_length(errors), 1);
	assert_string_equal(errors[0], "cannot open '/nonexistent/vm.yaml': No such file or directory");
	strv_free(errors);

	/* the checker's messages get the file's name */
	write_file("bad.yaml", "qvm: vm\nname: web1\ndisk:\n  - zvol: {base: tank/a/b}\n  - zvol: {volsize: 20X}\n"
		   REST);
	assert_int_equal(vm_plan_read(&req, &p, &errors), -1);
	assert_null(p);
	assert_int_equal(strv_length(errors), 1);
	assert_string_equal(strstr(errors[0], ":5:"), ":5:21: invalid volsize '20X': invalid numeric suffix 'X'");
	strv_free(errors);
	unlink(path);
}

static void test_template_names(void **state)
{
	(void)state;
	/* --count's suffix renames the VM and every disk that follows it */
	const struct qvm_template t = { .name = "node", .suffix = "-3" };
	struct vm_plan *p = read_ok("qvm: vm\nname: web1\n" DISKS REST, &t);

	assert_string_equal(p->file->name, "node-3");
	assert_string_equal(vm_disk_dataset(p, 0), "tank/images/node-3");
	assert_string_equal(vm_disk_dataset(p, 1), "tank/images/node-3-disk1");
	assert_string_equal(vm_disk_dataset(p, 2), "tank/vms/extra");
	vm_plan_free(p);
}

static void test_disk_commands(void **state)
{
	(void)state;
	struct vm_plan *p = read_ok("qvm: vm\nname: web1\n" DISKS REST, NULL);
	char **argv = NULL, *line;
	char *err = NULL;

	assert_int_equal(vm_plan_prepare(p, &err), 0);
	memcpy(p->uuid, "4b7c5e2a-9d3f-4e1a-8c6b-2f0d1e3a5b7c", 37);
	p->uri = strdup("qemu:///system");

	/* the boot clone: the file's properties, then the marks, no index */
	assert_int_equal(vm_disk_argv(p, 0, &argv), 0);
	line = strv_join(argv, " ");
	{
		static const char start[] = "zfs clone -o compression=lz4 -o qvm:kind=vm-disk -o qvm:vm=web1 "
			"-o qvm:connect=qemu:///system -o qvm:uuid=4b7c5e2a-9d3f-4e1a-8c6b-2f0d1e3a5b7c ";
		assert_int_equal(strncmp(line, start, strlen(start)), 0);
	}
	assert_null(strstr(line, "qvm:disk="));
	assert_non_null(strstr(line, " tank/images/deb12@base tank/images/web1"));
	free(line);
	strv_free(argv);
	argv = NULL;

	/* the blank volume: the size as written (it was checked), volsize
	 * not repeated as a property, its index */
	assert_int_equal(vm_disk_argv(p, 1, &argv), 0);
	line = strv_join(argv, " ");
	assert_int_equal(strncmp(line, "zfs create -V 8M -o volblocksize=64K -o qvm:kind=vm-disk ", 57), 0);
	assert_null(strstr(line, "volsize="));
	assert_non_null(strstr(line, " -o qvm:disk=1 tank/images/web1-disk1"));
	free(line);
	strv_free(argv);
	argv = NULL;

	assert_int_equal(vm_disk_argv(p, 2, &argv), 0);
	line = strv_join(argv, " ");
	assert_non_null(strstr(line, " -o qvm:disk=2 tank/data@base tank/vms/extra"));
	free(line);
	strv_free(argv);
	vm_plan_free(p);
}

static void test_create_flags(void **state)
{
	(void)state;
	static const struct {
		const char *keys;
		unsigned flags;
	} cases[] = {
		{ "", DOMAIN_START },
		{ "noreboot: true\n", 0 },
		{ "noreboot: false\n", DOMAIN_START },
		{ "transient:\n", DOMAIN_TRANSIENT | DOMAIN_START },
		{ "autostart: yes\n", DOMAIN_START | DOMAIN_AUTOSTART },
		{ "noreboot: on\nautostart: on\n", DOMAIN_AUTOSTART },
		/* a transient domain has no boot to start at */
		{ "transient: on\nautostart: on\n", DOMAIN_TRANSIENT | DOMAIN_START },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[512];
		struct vm_plan *p;
		snprintf(text, sizeof(text), "qvm: vm\nname: web1\n%s" DISKS REST, cases[i].keys);
		p = read_ok(text, NULL);
		if (vm_create_flags(p->file) != cases[i].flags)
			fail_msg("%s: flags %u, not %u", cases[i].keys, vm_create_flags(p->file), cases[i].flags);
		vm_plan_free(p);
	}
}

static void test_seed_docs(void **state)
{
	(void)state;
	struct vm_seed_docs d;
	struct vm_plan *p = read_ok("qvm: vm\nname: web1\n" DISKS REST, NULL);

	assert_int_equal(vm_seed_docs_build(p->file, &d), 0);
	assert_int_equal(d.n, 2);
	assert_string_equal(d.files[0].name, "user-data");
	assert_int_equal(strncmp(d.text[0], "#cloud-config\n", 14), 0);
	assert_string_equal(d.files[1].name, "meta-data");
	assert_non_null(strstr(d.text[1], "instance-id: web1"));
	vm_seed_docs_clear(&d);
	assert_int_equal(d.n, 0);
	vm_plan_free(p);

	p = read_ok("qvm: vm\nname: web1\n" DISKS REST "---\nqvm: vendor-data\na: 1\n"
		    "---\nqvm: network-config\nversion: 2\n", NULL);
	assert_int_equal(vm_seed_docs_build(p->file, &d), 0);
	assert_int_equal(d.n, 4);
	assert_string_equal(d.files[2].name, "network-config");
	assert_string_equal(d.files[3].name, "vendor-data");
	vm_seed_docs_clear(&d);
	vm_plan_free(p);
}

static void test_named_paths(void **state)
{
	(void)state;
	/* paths a disk entry names itself, when they exist: only those may
	 * be in the XML besides qvm's own */
	struct vm_plan *p = read_ok("qvm: vm\nname: web1\ncdrom: /dev/null\n" DISKS
				    "  - path: /nonexistent.img\n  - path: /dev/zero\n    device: disk\n" REST,
				    NULL);
	char **allowed = NULL;

	assert_int_equal(vm_named_paths(p->file, &allowed), 0);
	assert_int_equal(strv_length(allowed), 2);
	assert_string_equal(allowed[0], "/dev/null");
	assert_string_equal(allowed[1], "/dev/zero");
	strv_free(allowed);
	vm_plan_free(p);
}

static void test_batch(void **state)
{
	(void)state;
	struct vm_batch b;
	enum vm_batch_verdict v;
	char *line = NULL, *err = NULL, suffix[16];

	vm_batch_suffix(12, suffix, sizeof(suffix));
	assert_string_equal(suffix, "-12");

	/* every VM made */
	vm_batch_init(&b, 2, false);
	assert_int_equal(vm_batch_record(&b, 1, VM_MADE, "web-1"), 0);
	assert_int_equal(vm_batch_record(&b, 2, VM_MADE, "web-2"), 0);
	assert_int_equal(vm_batch_summary(&b, &line, &err, &v), 0);
	assert_int_equal(v, VM_BATCH_OK);
	assert_string_equal(line, "Created 2 of 2 VMs: web-1, web-2");
	assert_null(err);
	free(line);
	vm_batch_clear(&b);

	/* one failed; one whose file could not be read is named by its number */
	vm_batch_init(&b, 3, false);
	assert_int_equal(vm_batch_record(&b, 1, VM_MADE, "web-1"), 0);
	assert_int_equal(vm_batch_record(&b, 2, VM_FAILED, "web-2"), 0);
	assert_int_equal(vm_batch_record(&b, 3, VM_FAILED, NULL), 0);
	assert_int_equal(vm_batch_summary(&b, &line, &err, &v), 0);
	assert_int_equal(v, VM_BATCH_NOT_ALL);
	assert_string_equal(line, "Created 1 of 3 VMs: web-1");
	assert_string_equal(err, "2 of 3 VMs not created: web-2, 3");
	free(line);
	free(TAKE_PTR(err));
	vm_batch_clear(&b);

	/* a dry run checks; nothing made at all */
	vm_batch_init(&b, 2, true);
	assert_int_equal(vm_batch_record(&b, 1, VM_FAILED, "a-1"), 0);
	assert_int_equal(vm_batch_record(&b, 2, VM_FAILED, "a-2"), 0);
	assert_int_equal(vm_batch_summary(&b, &line, &err, &v), 0);
	assert_string_equal(line, "Checked 0 of 2 VMs");
	assert_string_equal(err, "2 of 2 VMs failed the checks: a-1, a-2");
	free(line);
	free(TAKE_PTR(err));
	vm_batch_clear(&b);

	/* made, then waited for: one ready, one timed out */
	vm_batch_init(&b, 3, false);
	assert_int_equal(vm_batch_record(&b, 1, VM_MADE, "w-1"), 0);
	assert_int_equal(vm_batch_record(&b, 2, VM_MADE, "w-2"), 0);
	assert_int_equal(vm_batch_record(&b, 3, VM_MADE, "w-3"), 0);
	assert_int_equal(vm_batch_waited(&b, "w-2", VM_WAIT_READY), 0);
	assert_int_equal(vm_batch_waited(&b, "w-1", VM_WAIT_TIMEOUT), 0);
	assert_int_equal(vm_batch_waited(&b, "w-3", VM_WAIT_FAILED), 0);
	assert_int_equal(vm_batch_summary(&b, &line, &err, &v), 0);
	assert_int_equal(v, VM_BATCH_NOT_READY);
	assert_string_equal(line, "Created 3 of 3 VMs: w-1, w-2, w-3; ready: w-2");
	assert_string_equal(err, "2 of 3 VMs not ready: w-1 (timed out), w-3 (cloud-init failed)");
	free(line);
	free(TAKE_PTR(err));
	vm_batch_clear(&b);

	/* one not made, the other not ready: both said */
	vm_batch_init(&b, 2, false);
	assert_int_equal(vm_batch_record(&b, 1, VM_FAILED, "w-1"), 0);
	assert_int_equal(vm_batch_record(&b, 2, VM_MADE, "w-2"), 0);
	assert_int_equal(vm_batch_waited(&b, "w-2", VM_WAIT_STOPPED), 0);
	assert_int_equal(vm_batch_summary(&b, &line, &err, &v), 0);
	assert_int_equal(v, VM_BATCH_NOT_ALL);
	assert_string_equal(line, "Created 1 of 2 VMs: w-2; none ready");
	assert_string_equal(err, "1 of 2 VMs not created: w-1; 1 of 2 VMs not ready: w-2 (stopped)");
	free(line);
	free(TAKE_PTR(err));
	vm_batch_clear(&b);

	/* a signal before the third of five */
	vm_batch_init(&b, 5, false);
	assert_int_equal(vm_batch_interrupted(&b, 3, SIGTERM, &err), -EINTR);
	assert_string_equal(err, "interrupted by signal SIGTERM: 3 of 5 VMs not attempted");
	free(err);
	vm_batch_clear(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_and_prepare),
		cmocka_unit_test(test_read_errors),
		cmocka_unit_test(test_template_names),
		cmocka_unit_test(test_disk_commands),
		cmocka_unit_test(test_create_flags),
		cmocka_unit_test(test_seed_docs),
		cmocka_unit_test(test_named_paths),
		cmocka_unit_test(test_batch),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
