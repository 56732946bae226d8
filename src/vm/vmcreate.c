/* SPDX-License-Identifier: MIT */
/* vm_create: the seed, the disks, one virt-install --print-xml, and the
 * domain defined and started through the libvirt API by the UUID qvm chose
 * (an install with a phase of its own - cdrom, location, pxe, cloud-init,
 * unattended - is left to virt-install, with that UUID). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "device.h"
#include "dirs.h"
#include "domain.h"
#include "marks.h"
#include "process.h"
#include "report.h"
#include "seed.h"
#include "hostfs.h"
#include "remote.h"
#include "settings.h"
#include "signals.h"
#include "strv.h"
#include "undo-steps.h"
#include "vmconsole.h"
#include "vmcreate.h"
#include "vmplan.h"
#include "vmseed.h"
#include "vmxml.h"
#include "zfs.h"
#include "banned.h"

#define ENOMEM_ERROR(err) report_error((err), -ENOMEM, "%s", strerror(ENOMEM))

/* The document's own console log, before the domain starts: what it
 * holds then is an earlier boot's (qvm's own log is new). */
static void note_console(struct vm_plan *p)
{
	struct stat st;
	int fd;

	p->console_before = false;
	/* a remote host's console file is there (--wait asks for the address) */
	if (p->console_ours || !p->console_log || remote_current())
		return;
	fd = open(p->console_log, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		p->console_before = true;
		p->console_dev = st.st_dev;
		p->console_ino = st.st_ino;
		p->console_size = (uint64_t)st.st_size;
		p->console_tail_len = console_log_tail(fd, p->console_size, p->console_tail);
	}
	close(fd);
}

/* The moment the domain started: --wait's "ready in N s" counts from it. */
static void note_started(struct vm_plan *p)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	p->started = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Step 2: $QVM_STATE_DIR/<name>/seed.iso, 0711 directory, 0600 file, on
 * the host the run works on (hostfs.h): built here in memory, then placed. */
static int create_seed(struct vm_plan *p, const struct report *rep, char **err)
{
	_cleanup_free_ char *why = NULL;
	_cleanup_close_ int fd = -1;
	struct vm_seed_docs docs = { .n = 0 };
	const char *id = marks_run_id();
	int r, step;

	report(rep, REPORT_BEGIN, "Creating cloud-init seed %s", p->seed_path);
	if (undo_prepare_seed_dir(&p->undo, p->seed_dir) < 0)
		return report_error(err, -ENOMEM, "cannot prepare the cloud-init seed: %s", strerror(ENOMEM));
	fd = memfd_create("qvm-seed", MFD_CLOEXEC);
	if (fd < 0)
		return report_error(err, -errno, "cannot prepare the cloud-init seed: %s", strerror(errno));
	r = vm_seed_docs_build(p->file, &docs);
	if (r < 0)
		return report_error(err, r, "cannot prepare the cloud-init seed: %s", strerror(-r));
	r = seed_write_files(fd, docs.files, docs.n, &why);
	vm_seed_docs_clear(&docs);
	if (r < 0)
		return report_error(err, r, "cannot write seed image %s: %s", p->seed_path,
				    why ? why : strerror(-r));
	free(TAKE_PTR(why));
	/* the state directory (infrastructure: no undo step), the seed
	 * directory (0711: qemu reaches the ISO), the marker of a run in
	 * progress and the ISO (0600): one round trip to a remote host */
	r = hostfs_new_dir_files(settings_state_dir(), p->seed_dir, 0711, SEED_CREATING_FILE, id, "seed.iso", fd,
				 0600, &step, &why);
	/* the directory is the run's once made, whatever failed after (and
	 * when the connection was lost: removing it removes only qvm's files) */
	if (r == 0 || step == 0 || step >= HOSTFS_STEP_MARKER)
		undo_arm(&p->undo);
	if (r < 0 && step == HOSTFS_STEP_STATE_DIR)
		return report_error(err, r, "cannot create state directory %s: %s", settings_state_dir(), why);
	if (r < 0 && step == HOSTFS_STEP_DIR)
		return report_error(err, r, "cannot create seed directory %s: %s", p->seed_dir, why);
	if (r < 0 && step == HOSTFS_STEP_MARKER)
		return report_error(err, r, "cannot create %s/%s: %s", p->seed_dir, SEED_CREATING_FILE, why);
	if (r < 0)
		return report_error(err, r, "cannot write seed image %s: %s", p->seed_path, why);
	report(rep, REPORT_DONE, "done");
	return 0;
}

static int device_missing(const char *device, unsigned timeout, int r, const char *why, char **err)
{
	if (r == -EINTR)
		return vm_interrupted(err);
	if (r == -ETIMEDOUT)
		return report_error(err, r, "device %s did not appear within %u seconds", device, timeout);
	return report_error(err, r, "cannot find device %s: %s", device, why ? why : strerror(-r));
}

/* Step 3: disk i (0: the boot clone) and its device node. */
static int create_disk(struct vm_plan *p, size_t i, const struct report *rep, char **err)
{
	const char *base = vm_disk_base(p, i), *dataset = vm_disk_dataset(p, i);
	_cleanup_free_ char *why = NULL, *device = NULL;
	_cleanup_strv_free_ char **props = NULL;
	char **argv = NULL;
	int r, wait_r;

	if (signal_pending())
		return vm_interrupted(err);
	if (vm_disk_props(p, i, &props) < 0 || !(device = settings_zvol_device(dataset)) ||
	    undo_prepare_destroy(&p->undo, dataset, 0) < 0)
		return ENOMEM_ERROR(err);
	if (base) {
		report(rep, REPORT_BEGIN, "Cloning %s to %s", base, dataset);
		r = zfs_clone_argv(base, dataset, props, &argv);
	} else {
		const char *volsize = p->file->extra_disks[i - 1].volsize;
		report(rep, REPORT_BEGIN, "Creating zvol %s of %s", dataset, volsize);
		r = zfs_create_blank_argv(dataset, volsize, props, &argv);
	}
	/* the device node waited for where it appears (one round trip to
	 * another host) */
	const struct hostfs_then wait = { .op = HOSTFS_THEN_WAIT, .path = device, .timeout = p->timeout };
	r = zfs_then(r, argv, &wait, &wait_r, &why);
	/* the connection lost: the zvol may be there (marked, for qvm cleanup) */
	if (r == 0 || wait_r || r == -EHOSTUNREACH)
		undo_arm(&p->undo);
	if (r < 0 && !wait_r && i == 0)
		return report_error(err, r, "cannot clone %s to %s: %s", base, dataset, why ? why : strerror(-r));
	if (r < 0 && !wait_r)
		return report_error(err, r, "cannot create zvol %s: %s", dataset, why ? why : strerror(-r));
	if (r < 0)
		return device_missing(device, p->timeout, r, why, err);
	report(rep, REPORT_DONE, "done");
	return 0;
}

/* The paths the domain must use: the zvols' devices, then the seed. */
static int domain_paths(const struct vm_plan *p, char ***paths)
{
	for (size_t i = 0; i < vm_plan_disks(p); i++) {
		char *dev = settings_zvol_device(vm_disk_dataset(p, i));
		if (!dev || strv_consume(paths, dev) < 0)
			return -ENOMEM;
	}
	return strv_push(paths, p->seed_path);
}

/* The domain of qvm's UUID as libvirt has it after who (libvirt, or
 * virt-install) defined it: checked as vm_print_xml checks the XML. */
static int check_defined(const struct vm_plan *p, const char *who, char *const *paths, char *const *allowed,
			 bool must_exist, char **err)
{
	const struct domain_ref ref = { .uri = p->file->connect, .uuid = p->uuid, .name = p->file->name };
	_cleanup_free_ char *why = NULL;
	int r = domain_check_defined(p->domains, &ref, paths, allowed, must_exist, &why);

	if (r < 0)
		return report_error(err, r, "refusing the domain %s defined: %s", who, why ? why : strerror(-r));
	return 0;
}

/* Step 5, the usual way: the XML virt-install wrote, defined (and
 * started) through the API. */
static int define_domain(struct vm_plan *p, const char *xml, char *const *paths, char *const *allowed,
			 const struct report *rep, char **err)
{
	const struct qvm_file *f = p->file;
	_cleanup_free_ char *why = NULL;
	unsigned flags = vm_create_flags(f);
	int r;

	report(rep, REPORT_BEGIN, "%s VM %s (UUID %s) on %s", flags & DOMAIN_TRANSIENT ? "Starting transient" :
	       flags & DOMAIN_START ? "Defining and starting" : "Defining", f->name, p->uuid, p->uri);
	/* from here the domain may exist: libvirt may define it and then
	 * fail (or qvm be signalled) before it answers */
	note_console(p);
	undo_arm(&p->undo);
	r = domain_create(p->domains, f->connect, xml, f->name, p->uuid, flags, &why);
	if (r < 0)
		return report_error(err, r, "cannot create VM %s: %s", f->name, why ? why : strerror(-r));
	note_started(p);
	/* what libvirt made of it, read back by the UUID */
	r = check_defined(p, "libvirt", paths, allowed, true, err);
	if (r < 0)
		return r;
	report(rep, REPORT_DONE, "done");
	return 0;
}

/* Step 5, an install of its own (cdrom, location, ...): virt-install
 * boots the installer, then defines the final domain, by qvm's UUID. */
static int install_domain(struct vm_plan *p, char *const *paths, char *const *allowed,
			  const struct report *rep, char **err)
{
	_cleanup_strv_free_ char **argv = NULL;
	struct spawn_result res;
	int r;

	r = vm_virt_install_argv(p, NULL, p->seed_path, false, &argv, err);
	if (r < 0)
		return *err ? r : report_error(err, r, "%s", strerror(-r));
	report(rep, REPORT_BEGIN, "Creating VM %s (UUID %s) with virt-install, which runs its install",
	       p->file->name, p->uuid);
	note_console(p);
	undo_arm(&p->undo);
	note_started(p);
	struct vm_pool_watch pools;
	vm_pools_note(p, p->seed_path, &pools);
	r = spawn_check(argv, SPAWN_CAPTURE_STDOUT | SPAWN_CAPTURE_STDERR, &res, err);
	vm_pools_drop_new(p, &pools);
	if (r < 0)
		return vm_virt_install_failed(p, "virt-install", r, &res, false, err);
	report(rep, REPORT_DONE, "done");
	report(rep, REPORT_CHILD, "%s", res.out ? res.out : "");
	report(rep, REPORT_CHILD, "%s", res.err ? res.err : "");
	spawn_result_clear(&res);
	/* what virt-install defined, as libvirt has it now; test:///default
	 * keeps no domain beyond the connection that made it (virt-install's):
	 * there is nothing to read back */
	return check_defined(p, "virt-install", paths, allowed, strcmp(p->uri, "test:///default") != 0, err);
}

/* Steps 4 and 5: the XML from virt-install, then the domain. */
static int create_domain(struct vm_plan *p, const struct report *rep, char **err)
{
	_cleanup_strv_free_ char **paths = NULL, **allowed = NULL;
	_cleanup_free_ char *xml = NULL, *warnings = NULL;
	int phases, r;

	if (signal_pending())
		return vm_interrupted(err);
	if (domain_paths(p, &paths) < 0 || vm_named_paths(p->file, &allowed) < 0 ||
	    undo_prepare_domain(&p->undo, p->domains, p->uri, p->uuid, p->file->name, p->device) < 0)
		return ENOMEM_ERROR(err);
	/* a domain the rollback cannot remove is found by its clone's marks
	 * (qvm cleanup): the clone and the seed stay with it */
	undo_keep_older(&p->undo);
	report(rep, REPORT_BEGIN, "Writing VM %s's definition with virt-install --print-xml", p->file->name);
	r = vm_print_xml(p, NULL, p->seed_path, paths, allowed, &xml, &phases, &warnings, err);
	if (r == 0)
		report(rep, REPORT_DONE, "done");
	if (warnings)
		report(rep, REPORT_CHILD, "%s", warnings);
	if (r < 0)
		return r;
	if (signal_pending())
		return vm_interrupted(err);
	if (phases == 1)
		return define_domain(p, xml, paths, allowed, rep, err);
	return install_domain(p, paths, allowed, rep, err);
}

/* The last change: from here on the disks belong to a finished VM. */
static int mark_ready(struct vm_plan *p, char **err)
{
	_cleanup_free_ char *marker = NULL;

	if (signal_pending())
		return vm_interrupted(err);
	if (asprintf(&marker, "%s/%s", p->seed_dir, SEED_CREATING_FILE) < 0)
		return ENOMEM_ERROR(err);
	/* the boot clone last: lists show a VM once its boot disk is ready;
	 * then the run's marker goes (in the same round trip to another host) */
	for (size_t k = 1; k <= vm_plan_disks(p); k++) {
		const char *ds = vm_disk_dataset(p, k % vm_plan_disks(p));
		const struct hostfs_then unmark = { .op = HOSTFS_THEN_UNLINK, .path = marker };
		_cleanup_free_ char *why = NULL;
		char **argv = NULL;
		int unmark_r, r = zfs_set_argv(ds, MARK_STATE "=" MARK_STATE_READY, &argv);
		r = zfs_then(r, argv, k == vm_plan_disks(p) ? &unmark : NULL, &unmark_r, &why);
		if (r < 0 && unmark_r)
			return report_error(err, r, "cannot remove %s: %s", marker, why);
		if (r < 0)
			return report_error(err, r, "cannot mark %s as ready: %s", ds, why ? why : strerror(-r));
	}
	/* a signal during that last step still means "stop": roll back */
	if (signal_pending())
		return vm_interrupted(err);
	return 0;
}

int vm_create(struct vm_plan *p, const struct report *rep, char **err)
{
	/* a signal during the checks (a zfs call runs to its end) */
	int r = signal_pending() ? vm_interrupted(err) : create_seed(p, rep, err);

	for (size_t i = 0; r == 0 && i < vm_plan_disks(p); i++)
		r = create_disk(p, i, rep, err);
	if (r == 0)
		r = create_domain(p, rep, err);
	if (r == 0)
		r = mark_ready(p, err);
	if (r < 0)
		return r;
	undo_commit(&p->undo);
	report(rep, REPORT_STEP, "VM %s created", p->file->name);
	return 0;
}

void vm_rollback(struct vm_plan *p, const struct report *rep)
{
	undo_rollback(&p->undo, rep);
}
