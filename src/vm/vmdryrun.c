/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cleanup.h"
#include "domain.h"
#include "marks.h"
#include "report.h"
#include "settings.h"
#include "strv.h"
#include "vmdryrun.h"
#include "vmplan.h"
#include "vmseed.h"
#include "remote.h"
#include "vmxml.h"
#include "banned.h"

/* The device a disk is checked against: a clone's base's (the clone does
 * not exist); a new volume, which does not exist either, the boot disk's
 * base's. */
static int base_devices(const struct vm_plan *p, char ***paths)
{
	for (size_t i = 0; i < vm_plan_disks(p); i++) {
		const char *base = vm_disk_base(p, i);
		char *dev = settings_zvol_device(base ? base : p->file->base_snapshot);
		if (!dev || strv_consume(paths, dev) < 0)
			return -ENOMEM;
		dev[strcspn(dev, "@")] = '\0';
	}
	return 0;
}

/* virt-install's XML for the seed at seed, checked: *phases as vm_print_xml. */
static int validate(struct vm_plan *p, char *const *paths, const char *seed, int *phases,
		    const struct report *rep, char **err)
{
	_cleanup_strv_free_ char **expect = NULL, **allowed = NULL;
	_cleanup_free_ char *xml = NULL, *warnings = NULL;
	int r;

	if (strv_extend(&expect, paths) < 0 || strv_push(&expect, seed) < 0 ||
	    vm_named_paths(p->file, &allowed) < 0)
		return report_error(err, -ENOMEM, "%s", strerror(ENOMEM));
	report(rep, REPORT_BEGIN, "Validating with virt-install --print-xml --dry-run against %s", paths[0]);
	r = vm_print_xml(p, paths, seed, expect, allowed, &xml, phases, &warnings, err);
	if (r == 0)
		report(rep, REPORT_DONE, "%s", *phases == 1 ? "done" : "done (an install with a phase of its own)");
	if (warnings)
		report(rep, REPORT_CHILD, "%s", warnings);
	return r;
}

/* The seed written to a temporary file (here: virt-install reads it), or
 * in memory for another host (virt-install gets a stand-in there, and the
 * XML the seed's path to be), and virt-install's XML checked against it. */
static int check_xml(struct vm_plan *p, char *const *paths, int *phases, const struct report *rep, char **err)
{
	const char *tmpdir = getenv("TMPDIR");
	_cleanup_free_ char *tmp = NULL, *why = NULL;
	_cleanup_close_ int fd = -1;
	struct vm_seed_docs docs = { .n = 0 };
	bool remote = remote_current() != NULL;
	int r;

	if (!tmpdir || !*tmpdir)
		tmpdir = "/tmp";
	if (!remote && asprintf(&tmp, "%s/qvm-seed-XXXXXX", tmpdir) < 0)
		return report_error(err, -ENOMEM, "%s", strerror(ENOMEM));
	report(rep, REPORT_BEGIN, "Building the cloud-init seed %s", remote ? "in memory" : "in a temporary file");
	r = vm_seed_docs_build(p->file, &docs);
	if (r < 0)
		return report_error(err, r, "cannot prepare the cloud-init seed: %s", strerror(-r));
	fd = remote ? memfd_create("qvm-seed", MFD_CLOEXEC) : mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		vm_seed_docs_clear(&docs);
		return report_error(err, -errno, "cannot create a temporary file in %s: %s", tmpdir, strerror(errno));
	}
	r = seed_write_files(fd, docs.files, docs.n, &why);
	vm_seed_docs_clear(&docs);
	if (r < 0) {
		report_error(err, r, "cannot write the seed image: %s", why ? why : strerror(-r));
	} else {
		report(rep, REPORT_DONE, "done");
		r = validate(p, paths, remote ? p->seed_path : tmp, phases, rep, err);
	}
	if (!remote)
		unlink(tmp);
	return r;
}

/* "  run: CMD", the command as a shell would take it. */
static int say_command(const struct report *rep, char *const *argv, char **err)
{
	_cleanup_free_ char *line = strv_join_shell(argv);

	if (!line)
		return report_error(err, -ENOMEM, "%s", strerror(ENOMEM));
	report(rep, REPORT_STEP, "  run: %s", line);
	return 0;
}

/* The commands of a real run, exactly. */
static int say_real_run(const struct vm_plan *p, int phases, const struct report *rep, char **err)
{
	const struct qvm_file *f = p->file;
	_cleanup_strv_free_ char **real = NULL;
	int r;

	r = vm_virt_install_argv(p, NULL, p->seed_path, phases == 1, &real, err);
	if (r < 0)
		return *err ? r : report_error(err, r, "%s", strerror(-r));
	report(rep, REPORT_STEP, "A real run would:");
	report(rep, REPORT_STEP, "  create %s (mode 0711) and %s (0600) holding %s%s%s", p->seed_dir, p->seed_path,
	       "user-data, meta-data", f->network_config ? ", network-config" : "",
	       f->vendor_data ? ", vendor-data" : "");
	for (size_t i = 0; i < vm_plan_disks(p); i++) {
		_cleanup_strv_free_ char **cmd = NULL;
		if (vm_disk_argv(p, i, &cmd) < 0)
			return report_error(err, -ENOMEM, "%s", strerror(ENOMEM));
		if ((r = say_command(rep, cmd, err)) < 0)
			return r;
	}
	if ((r = say_command(rep, real, err)) < 0)
		return r;
	if (phases == 1) {
		unsigned flags = vm_create_flags(f);
		report(rep, REPORT_STEP, "  %s domain %s (UUID %s) on %s through libvirt, with the XML it prints%s%s%s%s",
		       flags & DOMAIN_TRANSIENT ? "start the transient" :
		       flags & DOMAIN_START ? "define and start" : "define", f->name, p->uuid, p->uri,
		       remote_current() ? " (the seed " : "", remote_current() ? p->seed_path : "",
		       remote_current() ? " in place of " VM_SEED_STAND_IN : "", remote_current() ? ")" : "");
		if (flags & DOMAIN_AUTOSTART)
			report(rep, REPORT_STEP, "  mark it to start when the host boots");
	}
	if (p->console_ours)
		report(rep, REPORT_STEP, "  (libvirt then logs its serial console to %s)", p->console_log);
	for (size_t k = 1; k <= vm_plan_disks(p); k++)
		report(rep, REPORT_STEP, "  run: zfs set %s=%s %s", MARK_STATE, MARK_STATE_READY,
		       vm_disk_dataset(p, k % vm_plan_disks(p)));
	report(rep, REPORT_STEP, "Dry run: VM %s checked; nothing was changed", f->name);
	return 0;
}

int vm_dry_run(struct vm_plan *p, const struct report *rep, char **err)
{
	_cleanup_strv_free_ char **paths = NULL;
	int phases = 0, r;

	if (base_devices(p, &paths) < 0)
		return report_error(err, -ENOMEM, "%s", strerror(ENOMEM));
	r = check_xml(p, paths, &phases, rep, err);
	if (r < 0)
		return r;
	return say_real_run(p, phases, rep, err);
}
