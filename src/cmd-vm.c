/* SPDX-License-Identifier: MIT */
/* qvm vm FILE (SPEC §3.4): validate everything, then seed, clone,
 * virt-install --dry-run, virt-install. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "commands.h"
#include "cloudinit.h"
#include "device.h"
#include "log.h"
#include "marks.h"
#include "names.h"
#include "qvmfile.h"
#include "seed.h"
#include "settings.h"
#include "signals.h"
#include "process.h"
#include "strv.h"
#include "undo-steps.h"
#include "virtargs.h"
#include "zfs.h"
#include "banned.h"

#define TASK_FILE "reading qvm file"
#define TASK_CHECK "validating virtual machine"
#define TASK "provisioning virtual machine"

struct vm_run {
	const char *path;
	struct qvm_file *file;
	unsigned timeout;
	char *seed_dir;              /* $QVM_STATE_DIR/<name> */
	char *seed_path;             /* .../seed.iso */
	char *device;                /* $QVM_ZVOL_DIR/<clone> */
	struct undo undo;
};

static int interrupted(void)
{
	return log_error(TASK, "interrupted by signal SIG%s", sigabbrev_np(signal_pending()));
}

/* Step 1, host part: everything that can be checked without a change.
 * Reports every problem found, not just the first. */
static int check_host(struct vm_run *run)
{
	const struct qvm_file *f = run->file;
	_cleanup_free_ char *type = NULL, *err = NULL, *parent = NULL;
	struct stat st;
	int bad = 0, r;

	r = zfs_get_type(f->base_snapshot, &type, &err);
	if (r == -ENOENT)
		bad = log_error(TASK_CHECK, "base snapshot %s does not exist", f->base_snapshot);
	else if (r < 0)
		bad = log_error(TASK_CHECK, "cannot check base snapshot %s: %s", f->base_snapshot,
				err ? err : strerror(-r));
	free(TAKE_PTR(type));
	free(TAKE_PTR(err));

	r = zfs_get_type(f->clone, &type, &err);
	if (r == 0) {
		_cleanup_free_ char *state = NULL, *ignored = NULL;
		if (zfs_get(f->clone, MARK_STATE, &state, &ignored) == 0 &&
		    strcmp(state, MARK_STATE_CREATING) == 0)
			bad = log_error(TASK_CHECK, "clone target %s already exists: it is left over from an "
					"interrupted qvm run (qvm:state=creating); remove it with: zfs destroy %s",
					f->clone, f->clone);
		else
			bad = log_error(TASK_CHECK, "clone target %s already exists (qvm never replaces a dataset)",
					f->clone);
	}
	else if (r != -ENOENT)
		bad = log_error(TASK_CHECK, "cannot check clone target %s: %s", f->clone,
				err ? err : strerror(-r));
	free(TAKE_PTR(type));
	free(TAKE_PTR(err));

	parent = dataset_parent(f->clone);
	if (parent) {
		r = zfs_get_type(parent, &type, &err);
		if (r == -ENOENT)
			bad = log_error(TASK_CHECK, "parent dataset %s of clone %s does not exist",
					parent, f->clone);
		else if (r < 0)
			bad = log_error(TASK_CHECK, "cannot check parent dataset %s: %s", parent,
					err ? err : strerror(-r));
		else if (strcmp(type, "filesystem") != 0)
			bad = log_error(TASK_CHECK, "parent dataset %s of clone %s is a %s, not a filesystem",
					parent, f->clone, type);
	}

	if (lstat(run->seed_dir, &st) == 0)
		bad = log_error(TASK_CHECK, "seed directory %s already exists; if no VM uses it, remove it with: rm -r %s",
				run->seed_dir, run->seed_dir);
	else if (errno != ENOENT)
		bad = log_error(TASK_CHECK, "cannot check seed directory %s: %s", run->seed_dir,
				strerror(errno));
	return bad;
}

/* mkdir -p for $QVM_STATE_DIR: infrastructure, not part of any one VM. */
static int make_state_dir(const char *dir)
{
	_cleanup_free_ char *copy = strdup(dir);

	if (!copy)
		return -ENOMEM;
	for (char *p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(copy, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Marks the seed directory as belonging to a run still in progress. */
static int write_creating_marker(const char *dir)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	const char *id = marks_run_id();
	size_t len = strlen(id);

	if (asprintf(&path, "%s/%s", dir, SEED_CREATING_FILE) < 0)
		return -ENOMEM;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, id, len) != (ssize_t)len)
		return -EIO;
	return 0;
}

/* Step 2: $QVM_STATE_DIR/<name>/seed.iso, 0711 directory, 0600 file. */
static int create_seed(struct vm_run *run)
{
	_cleanup_free_ char *user = NULL, *meta = NULL, *err = NULL;
	_cleanup_close_ int fd = -1;
	size_t ulen, mlen;
	int r;

	log_begin("Creating cloud-init seed %s", run->seed_path);
	r = make_state_dir(settings_state_dir());
	if (r < 0)
		return log_error(TASK, "cannot create state directory %s: %s", settings_state_dir(),
				 strerror(-r));
	if (cloudinit_user_data(run->file, &user, &ulen) < 0 ||
	    cloudinit_meta_data(run->file, &meta, &mlen) < 0 ||
	    undo_prepare_seed_dir(&run->undo, run->seed_dir) < 0)
		return log_error(TASK, "cannot prepare the cloud-init seed: %s", strerror(ENOMEM));

	if (mkdir(run->seed_dir, 0711) < 0)
		return log_error(TASK, "cannot create seed directory %s: %s", run->seed_dir,
				 strerror(errno));
	undo_arm(&run->undo);
	/* mkdir's mode is filtered by the umask: set exactly what qemu needs */
	if (chmod(run->seed_dir, 0711) < 0)
		return log_error(TASK, "cannot set the mode of %s: %s", run->seed_dir, strerror(errno));
	r = write_creating_marker(run->seed_dir);
	if (r < 0)
		return log_error(TASK, "cannot create %s/%s: %s", run->seed_dir, SEED_CREATING_FILE,
				 strerror(-r));
	fd = open(run->seed_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return log_error(TASK, "cannot create seed image %s: %s", run->seed_path,
				 strerror(errno));
	if (fchmod(fd, 0600) < 0)
		return log_error(TASK, "cannot set the mode of %s: %s", run->seed_path, strerror(errno));
	r = seed_write_iso(fd, user, ulen, meta, mlen, &err);
	if (r < 0)
		return log_error(TASK, "cannot write seed image %s: %s", run->seed_path,
				 err ? err : strerror(-r));
	if (close(TAKE_FD(fd)) < 0)
		return log_error(TASK, "cannot write seed image %s: %s", run->seed_path, strerror(errno));
	log_done("done");
	return 0;
}

/* Step 3: the clone and its device node. */
static int create_clone(struct vm_run *run)
{
	const struct qvm_file *f = run->file;
	_cleanup_free_ char *err = NULL;
	_cleanup_strv_free_ char **props = NULL;
	int r;

	if (signal_pending())
		return interrupted();
	if (strv_extend(&props, f->clone_props) < 0 || marks_vm_disk(f->name, f->connect, &props) < 0 ||
	    undo_prepare_destroy(&run->undo, f->clone, 0) < 0)
		return log_error(TASK, "%s", strerror(ENOMEM));
	log_begin("Cloning %s to %s", f->base_snapshot, f->clone);
	r = zfs_clone(f->base_snapshot, f->clone, props, &err);
	if (r < 0)
		return log_error(TASK, "cannot clone %s to %s: %s", f->base_snapshot, f->clone,
				 err ? err : strerror(-r));
	undo_arm(&run->undo);
	r = device_wait(run->device, run->timeout);
	if (r == -EINTR)
		return interrupted();
	if (r == -ETIMEDOUT)
		return log_error(TASK, "device %s did not appear within %u seconds", run->device,
				 run->timeout);
	if (r < 0)
		return log_error(TASK, "cannot find device %s: %s", run->device, strerror(-r));
	log_done("done");
	return 0;
}

/* Steps 4 and 5: virt-install, first with --dry-run. */
static int run_virt_install(struct vm_run *run, int dry_run)
{
	_cleanup_strv_free_ char **argv = NULL;
	_cleanup_free_ char *err = NULL, *msg = NULL;
	struct spawn_result res;
	int r;

	if (signal_pending())
		return interrupted();
	r = virt_install_argv(run->file, settings_zvol_dir(), run->seed_path, dry_run, &argv, &err);
	if (r < 0)
		return log_error(TASK, "%s", err ? err : strerror(-r));
	if (!dry_run && undo_prepare_domain(&run->undo, run->file->connect, run->file->name, run->device) < 0)
		return log_error(TASK, "%s", strerror(ENOMEM));

	log_begin(dry_run ? "Validating with virt-install --dry-run" : "Creating VM %s with virt-install",
		  run->file->name);
	r = spawn_run(argv, SPAWN_CAPTURE_STDOUT | SPAWN_CAPTURE_STDERR, &res);
	if (r < 0)
		return log_error(TASK, "cannot run virt-install: %s", strerror(-r));
	/* from here a real run may have defined the domain */
	if (!dry_run)
		undo_arm(&run->undo);
	if (res.status != 0) {
		msg = spawn_error_text(&res);
		spawn_result_clear(&res);
		if (signal_pending())
			return interrupted();
		return log_error(TASK, "virt-install%s failed: %s", dry_run ? " --dry-run" : "",
				 msg ? msg : "unknown error");
	}
	log_done("done");
	if (!dry_run) {
		log_child_warnings(res.out);
		log_child_warnings(res.err);
	}
	spawn_result_clear(&res);
	return 0;
}

static int provision(struct vm_run *run)
{
	_cleanup_free_ char *err = NULL;
	int r;

	if (create_seed(run) < 0 || create_clone(run) < 0 || run_virt_install(run, 1) < 0 ||
	    run_virt_install(run, 0) < 0)
		return -1;
	/* the last change: from here on the clone belongs to a finished VM */
	if (signal_pending())
		return interrupted();
	r = zfs_set(run->file->clone, MARK_STATE "=" MARK_STATE_READY, &err);
	if (r < 0)
		return log_error(TASK, "cannot mark %s as ready: %s", run->file->clone,
				 err ? err : strerror(-r));
	/* a signal during that last step still means "stop": roll back */
	if (signal_pending())
		return interrupted();
	{
		_cleanup_free_ char *marker = NULL;
		if (asprintf(&marker, "%s/%s", run->seed_dir, SEED_CREATING_FILE) < 0)
			return log_error(TASK, "%s", strerror(ENOMEM));
		if (unlink(marker) < 0)
			return log_error(TASK, "cannot remove %s: %s", marker, strerror(errno));
	}
	return 0;
}

static void vm_run_clear(struct vm_run *run)
{
	qvm_file_free(run->file);
	free(run->seed_dir);
	free(run->seed_path);
	free(run->device);
}

int cmd_vm(int argc, char **argv, const struct cmd_opts *opts)
{
	_cleanup_strv_free_ char **errors = NULL;
	struct vm_run run = { .path = argv[0] };
	int r;

	(void)argc;
	(void)opts;
	log_begin("Reading %s", run.path);
	r = qvm_file_load(run.path, &run.file, &errors);
	if (r < 0) {
		if (r == -EINVAL) {
			for (size_t i = 0; errors && errors[i]; i++)
				log_error(TASK_FILE, "%s:%s", run.path, errors[i]);
		} else {
			log_error(TASK_FILE, "%s", errors && errors[0] ? errors[0] : strerror(-r));
		}
		return -1;
	}
	if (settings_device_timeout(&run.timeout) < 0) {
		vm_run_clear(&run);
		return log_error(TASK_CHECK, "QVM_DEVICE_TIMEOUT must be a whole number of seconds (0-86400)");
	}
	if (asprintf(&run.seed_dir, "%s/%s", settings_state_dir(), run.file->name) < 0 ||
	    asprintf(&run.seed_path, "%s/seed.iso", run.seed_dir) < 0 ||
	    !(run.device = settings_zvol_device(run.file->clone))) {
		vm_run_clear(&run);
		return log_error(TASK, "%s", strerror(ENOMEM));
	}
	if (check_host(&run) < 0) {
		vm_run_clear(&run);
		return -1;
	}
	log_done("VM %s, disk %s cloned from %s", run.file->name, run.file->clone,
		 run.file->base_snapshot);

	if (provision(&run) < 0) {
		undo_rollback(&run.undo);
		vm_run_clear(&run);
		return -1;
	}
	undo_commit(&run.undo);
	log_step("VM %s created", run.file->name);
	vm_run_clear(&run);
	return 0;
}
