/* SPDX-License-Identifier: MIT */
/* qvm vm FILE (SPEC §3.4): validate everything, then seed, clone,
 * virt-install --dry-run, virt-install. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
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
#include "domain.h"
#include "log.h"
#include "marks.h"
#include "names.h"
#include "qvmfile.h"
#include "seed.h"
#include "settings.h"
#include "signals.h"
#include "size.h"
#include "template.h"
#include "process.h"
#include "strv.h"
#include "undo-steps.h"
#include "virtargs.h"
#include "zfs.h"
#include "banned.h"

#define TASK_FILE "reading qvm file"
#define TASK_CHECK "validating virtual machine"
#define TASK "provisioning virtual machine"
#define TASK_WAIT "waiting for virtual machine"

#define DEFAULT_WAIT 300             /* seconds qvm vm --wait waits */
#define MAX_COUNT 1000               /* qvm vm --count */
#define WAIT_FAILED (-2)             /* vm_one: created, but no address */

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

static int check_base(const char *snapshot, const char *type)
{
	if (!type)
		return log_error(TASK_CHECK, "base snapshot %s does not exist", snapshot);
	return 0;
}

/* A disk qvm is to create: it must not exist, its parent must. */
static int check_target(const char *dataset, const char *what, const char *type,
			const char *parent, const char *parent_type)
{
	int bad = 0;

	if (type) {
		/* only qvm's own marks count, not ones inherited from a parent */
		if (marks_leftover(dataset))
			bad = log_error(TASK_CHECK, "%s target %s already exists: it is left over from an "
					"interrupted qvm run (qvm:state=creating); remove it with: zfs destroy %s",
					what, dataset, dataset);
		else
			bad = log_error(TASK_CHECK, "%s target %s already exists (qvm never replaces a dataset)",
					what, dataset);
	}
	if (parent && !parent_type)
		bad = log_error(TASK_CHECK, "parent dataset %s of %s %s does not exist",
				parent, what, dataset);
	else if (parent && strcmp(parent_type, "filesystem") != 0)
		bad = log_error(TASK_CHECK, "parent dataset %s of %s %s is a %s, not a filesystem",
				parent, what, dataset, parent_type);
	return bad;
}

/* Every disk's base, target and target's parent, asked in one zfs call:
 * names[3i..3i+2] for disk i (0: the clone of the file's base), NULL where
 * there is nothing to ask (a blank volume's base, a target with no parent). */
static int check_disks(const struct qvm_file *f)
{
	size_t n = 3 * (1 + f->n_extra_disks);
	_cleanup_free_ const char **names = calloc(n, sizeof(*names));
	_cleanup_free_ char **types = calloc(n, sizeof(*types));
	_cleanup_strv_free_ char **parents = NULL;
	_cleanup_free_ char *err = NULL;
	int bad = 0, r;

	if (!names || !types)
		return log_error(TASK_CHECK, "%s", strerror(ENOMEM));
	for (size_t i = 0; i <= f->n_extra_disks; i++) {
		const struct qvm_disk *d = i ? &f->extra_disks[i - 1] : NULL;
		const char *dataset = d ? d->dataset : f->clone;
		char *parent = dataset_parent(dataset);
		if (parent && strv_consume(&parents, parent) < 0)
			return log_error(TASK_CHECK, "%s", strerror(ENOMEM));
		names[3 * i] = d ? d->base_snapshot : f->base_snapshot;
		names[3 * i + 1] = dataset;
		names[3 * i + 2] = parent;
	}
	r = zfs_get_types(names, n, types, &err);
	if (r < 0)
		return log_error(TASK_CHECK, "cannot check the base snapshots and target datasets: %s",
				 err ? err : strerror(-r));
	for (size_t i = 0; i <= f->n_extra_disks; i++) {
		const char *what = i == 0 || names[3 * i] ? "clone" : "zvol";
		if (names[3 * i] && check_base(names[3 * i], types[3 * i]) < 0)
			bad = -1;
		if (check_target(names[3 * i + 1], what, types[3 * i + 1], names[3 * i + 2],
				 types[3 * i + 2]) < 0)
			bad = -1;
	}
	for (size_t i = 0; i < n; i++)
		free(types[i]);
	return bad;
}

/* Step 1, host part: everything that can be checked without a change.
 * Reports every problem found, not just the first. */
static int check_host(struct vm_run *run)
{
	const struct qvm_file *f = run->file;
	struct stat st;
	int bad = 0;

	if (check_disks(f) < 0)
		bad = -1;

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

/* The seed's files: user-data, meta-data, and network-config and
 * vendor-data when the file has them. */
struct seed_docs {
	struct seed_file files[4];
	char *text[4];
	size_t n;
};

static void seed_docs_clear(struct seed_docs *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->text[i]);
	d->n = 0;
}

static int seed_docs_build(const struct qvm_file *f, struct seed_docs *d)
{
	static const struct {
		const char *name;
		int (*fn)(const struct qvm_file *, char **, size_t *);
	} docs[] = {
		{ "user-data", cloudinit_user_data },
		{ "meta-data", cloudinit_meta_data },
		{ "network-config", cloudinit_network_config },
		{ "vendor-data", cloudinit_vendor_data },
	};

	d->n = 0;
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		size_t len;
		int r = docs[i].fn(f, &d->text[d->n], &len);
		if (r == -ENOENT)
			continue;
		if (r < 0) {
			seed_docs_clear(d);
			return r;
		}
		d->files[d->n] = (struct seed_file){ docs[i].name, d->text[d->n], len };
		d->n++;
	}
	return 0;
}

/* Step 2: $QVM_STATE_DIR/<name>/seed.iso, 0711 directory, 0600 file. */
static int create_seed(struct vm_run *run)
{
	_cleanup_free_ char *err = NULL;
	_cleanup_close_ int fd = -1;
	struct seed_docs docs = { .n = 0 };
	int r;

	log_begin("Creating cloud-init seed %s", run->seed_path);
	r = make_state_dir(settings_state_dir());
	if (r < 0)
		return log_error(TASK, "cannot create state directory %s: %s", settings_state_dir(),
				 strerror(-r));
	if (undo_prepare_seed_dir(&run->undo, run->seed_dir) < 0)
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
	r = seed_docs_build(run->file, &docs);
	if (r < 0)
		return log_error(TASK, "cannot prepare the cloud-init seed: %s", strerror(-r));
	r = seed_write_files(fd, docs.files, docs.n, &err);
	seed_docs_clear(&docs);
	if (r < 0)
		return log_error(TASK, "cannot write seed image %s: %s", run->seed_path,
				 err ? err : strerror(-r));
	if (close(TAKE_FD(fd)) < 0)
		return log_error(TASK, "cannot write seed image %s: %s", run->seed_path, strerror(errno));
	log_done("done");
	return 0;
}

static int wait_device(const char *device, unsigned timeout)
{
	int r = device_wait(device, timeout);

	if (r == -EINTR)
		return interrupted();
	if (r == -ETIMEDOUT)
		return log_error(TASK, "device %s did not appear within %u seconds", device, timeout);
	if (r < 0)
		return log_error(TASK, "cannot find device %s: %s", device, strerror(-r));
	return 0;
}

/* The -o properties of a VM disk: the file's, then qvm's marks; index > 0
 * marks a disk after the boot disk. */
static int disk_props(const struct qvm_file *f, char *const *file_props, size_t index, char ***props)
{
	if (strv_extend(props, file_props) < 0 || marks_vm_disk(f->name, f->connect, props) < 0)
		return -ENOMEM;
	if (index > 0 && strv_pushf(props, MARK_DISK "=%zu", index) < 0)
		return -ENOMEM;
	return 0;
}

/* A zvol disk after the boot disk: cloned or created, and its device. */
static int create_extra_disk(struct vm_run *run, size_t i)
{
	const struct qvm_disk *d = &run->file->extra_disks[i];
	_cleanup_free_ char *err = NULL, *device = NULL;
	_cleanup_strv_free_ char **props = NULL;
	int r;

	if (signal_pending())
		return interrupted();
	if (disk_props(run->file, d->props, i + 1, &props) < 0 ||
	    !(device = settings_zvol_device(d->dataset)) ||
	    undo_prepare_destroy(&run->undo, d->dataset, 0) < 0)
		return log_error(TASK, "%s", strerror(ENOMEM));
	if (d->base_snapshot) {
		log_begin("Cloning %s to %s", d->base_snapshot, d->dataset);
		r = zfs_clone(d->base_snapshot, d->dataset, props, &err);
	} else {
		log_begin("Creating zvol %s of %s", d->dataset, d->volsize);
		r = zfs_create_blank(d->dataset, d->volsize, props, &err);
	}
	if (r < 0)
		return log_error(TASK, "cannot create zvol %s: %s", d->dataset, err ? err : strerror(-r));
	undo_arm(&run->undo);
	if (wait_device(device, run->timeout) < 0)
		return -1;
	log_done("done");
	return 0;
}

/* Step 3: the clone and its device node, then any further zvol disks. */
static int create_clone(struct vm_run *run)
{
	const struct qvm_file *f = run->file;
	_cleanup_free_ char *err = NULL;
	_cleanup_strv_free_ char **props = NULL;
	int r;

	if (signal_pending())
		return interrupted();
	if (disk_props(f, f->clone_props, 0, &props) < 0 ||
	    undo_prepare_destroy(&run->undo, f->clone, 0) < 0)
		return log_error(TASK, "%s", strerror(ENOMEM));
	log_begin("Cloning %s to %s", f->base_snapshot, f->clone);
	r = zfs_clone(f->base_snapshot, f->clone, props, &err);
	if (r < 0)
		return log_error(TASK, "cannot clone %s to %s: %s", f->base_snapshot, f->clone,
				 err ? err : strerror(-r));
	undo_arm(&run->undo);
	if (wait_device(run->device, run->timeout) < 0)
		return -1;
	log_done("done");
	for (size_t i = 0; i < f->n_extra_disks; i++)
		if (create_extra_disk(run, i) < 0)
			return -1;
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
	for (size_t i = 0; i < run->file->n_extra_disks; i++) {
		const char *ds = run->file->extra_disks[i].dataset;
		r = zfs_set(ds, MARK_STATE "=" MARK_STATE_READY, &err);
		if (r < 0)
			return log_error(TASK, "cannot mark %s as ready: %s", ds, err ? err : strerror(-r));
	}
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

/* qvm vm --dry-run: builds the seed in a temporary file, runs
 * virt-install --dry-run against the base image's device (the clone does
 * not exist), and prints the commands a real run would run. */
static int dry_run(struct vm_run *run)
{
	const struct qvm_file *f = run->file;
	_cleanup_free_ char *tmp = NULL, *base_dev = NULL, *err = NULL, *msg = NULL, *line = NULL;
	_cleanup_strv_free_ char **check = NULL, **props = NULL, **clone = NULL, **real = NULL;
	_cleanup_strv_free_ char **paths = NULL;
	_cleanup_close_ int fd = -1;
	const char *tmpdir = getenv("TMPDIR");
	struct seed_docs docs = { .n = 0 };
	struct spawn_result res;
	int r;

	base_dev = settings_zvol_device(f->base_snapshot);
	if (!base_dev || asprintf(&tmp, "%s/qvm-seed-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp") < 0)
		return log_error(TASK_CHECK, "%s", strerror(ENOMEM));
	base_dev[strcspn(base_dev, "@")] = '\0';
	/* a clone is checked as its base; a new volume, which does not exist
	 * either, as the boot disk's base */
	if (strv_push(&paths, base_dev) < 0)
		return log_error(TASK_CHECK, "%s", strerror(ENOMEM));
	for (size_t i = 0; i < f->n_extra_disks; i++) {
		char *dev = settings_zvol_device(f->extra_disks[i].base_snapshot ?
						 f->extra_disks[i].base_snapshot : f->base_snapshot);
		if (!dev || strv_consume(&paths, dev) < 0)
			return log_error(TASK_CHECK, "%s", strerror(ENOMEM));
		dev[strcspn(dev, "@")] = '\0';
	}

	log_begin("Building the cloud-init seed in a temporary file");
	r = seed_docs_build(f, &docs);
	if (r < 0)
		return log_error(TASK_CHECK, "cannot prepare the cloud-init seed: %s", strerror(-r));
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		seed_docs_clear(&docs);
		return log_error(TASK_CHECK, "cannot create a temporary file in %s: %s",
				 tmpdir && *tmpdir ? tmpdir : "/tmp", strerror(errno));
	}
	r = seed_write_files(fd, docs.files, docs.n, &err);
	if (r == 0) {
		log_done("done");
		r = virt_install_argv_paths(f, paths, tmp, true, &check, &err);
		if (r < 0)
			log_error(TASK_CHECK, "%s", err ? err : strerror(-r));
	} else {
		log_error(TASK_CHECK, "cannot write the seed image: %s", err ? err : strerror(-r));
	}
	if (r == 0) {
		log_begin("Validating with virt-install --dry-run against %s", base_dev);
		r = spawn_run(check, SPAWN_CAPTURE_STDOUT | SPAWN_CAPTURE_STDERR, &res);
		if (r < 0) {
			log_error(TASK_CHECK, "cannot run virt-install: %s", strerror(-r));
		} else {
			if (res.status != 0) {
				msg = spawn_error_text(&res);
				r = log_error(TASK_CHECK, "virt-install --dry-run failed: %s",
					      msg ? msg : "unknown error");
			} else {
				log_done("done");
			}
			spawn_result_clear(&res);
		}
	}
	unlink(tmp);
	seed_docs_clear(&docs);
	if (r < 0)
		return -1;

	/* the commands of a real run, exactly */
	if (disk_props(f, f->clone_props, 0, &props) < 0 ||
	    zfs_clone_argv(f->base_snapshot, f->clone, props, &clone) < 0)
		return log_error(TASK_CHECK, "%s", strerror(ENOMEM));
	free(TAKE_PTR(err));
	r = virt_install_argv(f, settings_zvol_dir(), run->seed_path, false, &real, &err);
	if (r < 0)
		return log_error(TASK_CHECK, "%s", err ? err : strerror(-r));
	log_step("A real run would:");
	log_step("  create %s (mode 0711) and %s (0600) holding %s%s%s", run->seed_dir, run->seed_path,
		 "user-data, meta-data", f->network_config ? ", network-config" : "",
		 f->vendor_data ? ", vendor-data" : "");
	if (!(line = strv_join_shell(clone)))
		return log_error(TASK_CHECK, "%s", strerror(ENOMEM));
	log_step("  run: %s", line);
	free(line);
	for (size_t i = 0; i < f->n_extra_disks; i++) {
		const struct qvm_disk *d = &f->extra_disks[i];
		_cleanup_strv_free_ char **dprops = NULL, **cmd = NULL;
		if (disk_props(f, d->props, i + 1, &dprops) < 0 ||
		    (d->base_snapshot ? zfs_clone_argv(d->base_snapshot, d->dataset, dprops, &cmd)
				      : zfs_create_blank_argv(d->dataset, d->volsize, dprops, &cmd)) < 0 ||
		    !(line = strv_join_shell(cmd)))
			return log_error(TASK_CHECK, "%s", strerror(ENOMEM));
		log_step("  run: %s", line);
		free(line);
	}
	if (strv_push(&real, "--dry-run") < 0 || !(line = strv_join_shell(real)))
		return log_error(TASK_CHECK, "%s", strerror(ENOMEM));
	log_step("  run: %s", line);
	free(real[strv_length(real) - 1]);
	real[strv_length(real) - 1] = NULL;
	free(line);
	if (!(line = strv_join_shell(real)))
		return log_error(TASK_CHECK, "%s", strerror(ENOMEM));
	log_step("  run: %s", line);
	for (size_t i = 0; i < f->n_extra_disks; i++)
		log_step("  run: zfs set %s=%s %s", MARK_STATE, MARK_STATE_READY, f->extra_disks[i].dataset);
	log_step("  run: zfs set %s=%s %s", MARK_STATE, MARK_STATE_READY, f->clone);
	log_step("Dry run: VM %s checked; nothing was changed", f->name);
	return 0;
}

/* qvm vm --wait: polls libvirt (DHCP lease, then the guest agent) until
 * the guest has an address. */
static int wait_for_ip(const struct qvm_file *f, unsigned seconds)
{
	_cleanup_(domains_freep) struct domains *d = domains_new(false);
	_cleanup_free_ char *ip = NULL;

	if (!d)
		return log_error(TASK_WAIT, "%s", strerror(ENOMEM));
	log_begin("Waiting up to %u seconds for VM %s's address", seconds, f->name);
	for (unsigned waited = 0;; waited++) {
		_cleanup_free_ char *err = NULL;
		if (domain_ip(d, f->connect, f->name, DOMAIN_IP_LEASE | DOMAIN_IP_AGENT, &ip, &err) < 0)
			return log_error(TASK_WAIT, "VM %s: %s", f->name, err ? err : "unknown error");
		if (ip)
			break;
		if (signal_pending())
			return log_error(TASK_WAIT, "interrupted by signal %s", sigabbrev_np(signal_pending()));
		if (waited >= seconds)
			return log_error(TASK_WAIT, "VM %s has no IP address after %u seconds (it stays created)",
					 f->name, seconds);
		sleep(1);
	}
	log_done("%s", ip);
	/* no user name: nothing of user-data is ever printed */
	log_step("VM %s has address %s; connect with: ssh USER@%s (a user its user-data creates)", f->name,
		 ip, ip);
	return 0;
}

struct vm_opts {
	bool dry_run;
	bool wait;
	unsigned wait_seconds;
	struct qvm_template tmpl;
};

/* One VM, all or nothing. *name (malloc'd) is its name once the file was
 * read. 0, -1, or WAIT_FAILED when the VM was created but --wait got no
 * address. */
static int vm_one(const char *path, const struct vm_opts *o, char **name)
{
	_cleanup_strv_free_ char **errors = NULL;
	struct vm_run run = { .path = path };
	int r;

	*name = NULL;
	log_begin("Reading %s", run.path);
	r = qvm_file_load_template(run.path, &o->tmpl, &run.file, &errors);
	if (r < 0) {
		if (r == -EINVAL) {
			for (size_t i = 0; errors && errors[i]; i++)
				log_error(TASK_FILE, "%s%s%s", errors[i][0] == '-' ? "" : run.path,
					  errors[i][0] == '-' ? "" : ":", errors[i]);
		} else {
			log_error(TASK_FILE, "%s", errors && errors[0] ? errors[0] : strerror(-r));
		}
		return -1;
	}
	*name = strdup(run.file->name);
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

	if (o->dry_run) {
		r = dry_run(&run);
		vm_run_clear(&run);
		return r;
	}
	if (provision(&run) < 0) {
		undo_rollback(&run.undo);
		vm_run_clear(&run);
		return -1;
	}
	undo_commit(&run.undo);
	log_step("VM %s created", run.file->name);
	r = o->wait && wait_for_ip(run.file, o->wait_seconds) < 0 ? WAIT_FAILED : 0;
	vm_run_clear(&run);
	return r;
}

/* A whole number in [min, max] from an option. */
static int option_number(const char *opt, const char *s, unsigned min, unsigned max, unsigned *out)
{
	uint64_t v;

	if (parse_u64(s, &v) < 0 || v < min || v > max)
		return log_error(TASK_CHECK, "%s must be a whole number from %u to %u, not '%s'", opt, min,
				 max, s);
	*out = (unsigned)v;
	return 0;
}

int cmd_vm(int argc, char **argv, const struct cmd_opts *opts)
{
	struct vm_opts o = {
		.dry_run = opt_has(opts, OPT_DRY_RUN),
		.wait = opt_has(opts, OPT_WAIT),
		.wait_seconds = DEFAULT_WAIT,
		.tmpl = { .name = opt_last(opts, OPT_NAME), .sets = opts->values[OPT_SET] },
	};
	_cleanup_strv_free_ char **created = NULL, **failed = NULL;
	const char *count_s = opt_last(opts, OPT_COUNT), *wait_s = opt_last(opts, OPT_WAIT);
	unsigned count = 0, no_address = 0;

	(void)argc;
	if (o.tmpl.name) {
		const char *why;
		if (!vm_name_valid(o.tmpl.name, &why))
			return log_error(TASK_CHECK, "invalid VM name '%s' for --name: %s", o.tmpl.name, why);
	}
	if (count_s && option_number("--count", count_s, 1, MAX_COUNT, &count) < 0)
		return -1;
	if (wait_s && *wait_s && option_number("--wait", wait_s, 0, 86400, &o.wait_seconds) < 0)
		return -1;
	if (!count_s) {
		_cleanup_free_ char *name = NULL;
		return vm_one(argv[0], &o, &name) == 0 ? 0 : -1;
	}

	for (unsigned i = 1; i <= count; i++) {
		_cleanup_free_ char *name = NULL;
		char suffix[16];
		int r;

		snprintf(suffix, sizeof(suffix), "-%u", i);
		o.tmpl.suffix = suffix;
		if (signal_pending()) {
			log_error(TASK, "interrupted by signal %s: %u of %u VMs not attempted",
				  sigabbrev_np(signal_pending()), count - i + 1, count);
			break;
		}
		r = vm_one(argv[0], &o, &name);
		no_address += r == WAIT_FAILED;
		if (strv_pushf(r == 0 || r == WAIT_FAILED ? &created : &failed, "%s", name ? name : suffix + 1) < 0)
			return log_error(TASK, "%s", strerror(ENOMEM));
	}
	{
		_cleanup_free_ char *ok = strv_join(created, ", "), *bad = strv_join(failed, ", ");
		size_t n_ok = strv_length(created);
		log_step("%s %zu of %u VMs%s%s", o.dry_run ? "Checked" : "Created", n_ok, count,
			 n_ok ? ": " : "", n_ok && ok ? ok : "");
		if (n_ok != count)
			return log_error(o.dry_run ? TASK_CHECK : TASK, "%zu of %u VMs %s%s%s",
					 (size_t)count - n_ok, count,
					 o.dry_run ? "failed the checks" : "not created",
					 failed ? ": " : "", failed && bad ? bad : "");
	}
	if (no_address)
		return log_error(TASK_WAIT, "%u of %u VMs created without a known address", no_address, count);
	return 0;
}
