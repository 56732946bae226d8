/* SPDX-License-Identifier: MIT */
/* qvm vm FILE (SPEC §3.4, as amended by "Each VM known by its UUID"):
 * validate everything, libvirt included; then seed, clone, one
 * virt-install --print-xml, and define and start the domain through the
 * libvirt API by the UUID qvm chose (an install with a phase of its own -
 * cdrom, location, pxe, cloud-init, unattended - is left to virt-install,
 * with that UUID). */
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
#include "domxml.h"
#include "inventory.h"
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
#include "virtlog.h"
#include "vioptions.h"
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
	struct domains *domains;     /* libvirt connections, kept for the whole command */
	char *uri;                   /* the connection's URI as libvirt names it */
	char uuid[37];               /* the domain's */
	int phases;                  /* 2: an install with a phase of its own (--dry-run) */
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

/* Whose is the domain of that UUID (or, for VMs made before qvm
 * recorded UUIDs, of that name on that URI)? ", which is qvm's VM X" or
 * ", which is not qvm's". */
static void domain_owner(const char *uri, const char *uuid, const char *name, char *buf, size_t size)
{
	struct inventory inv;
	_cleanup_free_ char *err = NULL;
	const char *vm = NULL;

	snprintf(buf, size, ", which is not qvm's");
	if (inventory_load(&inv, &err) < 0)
		return;
	for (size_t i = 0; i < inv.n && !vm; i++) {
		const struct volume *v = &inv.v[i];
		if (!volume_is_disk_of(v, NULL) || v->disk)
			continue;
		if (v->uuid ? uuid && strcasecmp(v->uuid, uuid) == 0 && v->connect && strcmp(v->connect, uri) == 0
			    : v->vm && strcmp(v->vm, name) == 0)
			vm = v->vm;
	}
	if (vm)
		snprintf(buf, size, ", which is qvm's VM %s (remove it with: qvm destroy %s)", vm, vm);
	inventory_clear(&inv);
}

/* The libvirt the VM goes to: the URI as libvirt names it, and neither its
 * name nor its UUID in use there. */
static int check_domain(struct vm_run *run)
{
	const struct qvm_file *f = run->file;
	_cleanup_free_ char *err = NULL;
	struct domain_clash clash;
	char owner[512];
	int bad = 0;

	if (domains_uri(run->domains, f->connect, &run->uri, &err) < 0)
		return log_error(TASK_CHECK, "%s", err ? err : "cannot connect to libvirt");
	if (domain_find(run->domains, f->connect, f->name, run->uuid, &clash, &err) < 0)
		return log_error(TASK_CHECK, "cannot check the domains on %s: %s", run->uri,
				 err ? err : "unknown error");
	if (clash.name_taken) {
		domain_owner(run->uri, clash.name_uuid, f->name, owner, sizeof(owner));
		bad = log_error(TASK_CHECK, "a domain named %s already exists on %s (UUID %s)%s", f->name,
				run->uri, clash.name_uuid, owner);
	}
	if (clash.uuid_taken && !(clash.name_taken && strcmp(clash.uuid_name, f->name) == 0)) {
		domain_owner(run->uri, run->uuid, clash.uuid_name, owner, sizeof(owner));
		bad = log_error(TASK_CHECK, "a domain with UUID %s already exists on %s (named %s)%s", run->uuid,
				run->uri, clash.uuid_name, owner);
	}
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
	if (check_domain(run) < 0)
		bad = -1;

	char live[128];
	if (lstat(run->seed_dir, &st) < 0) {
		if (errno != ENOENT)
			bad = log_error(TASK_CHECK, "cannot check seed directory %s: %s", run->seed_dir,
					strerror(errno));
	} else if (marks_seed_run(run->seed_dir, live, sizeof(live)) == 0 && marks_run_alive(live)) {
		bad = log_error(TASK_CHECK, "seed directory %s is being created by a qvm still running (run %s)",
				run->seed_dir, live);
	} else {
		bad = log_error(TASK_CHECK, "seed directory %s already exists; if no VM uses it, remove it with: rm -r %s",
				run->seed_dir, run->seed_dir);
	}
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
static int disk_props(const struct vm_run *run, char *const *file_props, size_t index, char ***props)
{
	if (strv_extend(props, file_props) < 0 ||
	    marks_vm_disk(run->file->name, run->uri, run->uuid, props) < 0)
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
	if (disk_props(run, d->props, i + 1, &props) < 0 ||
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
	if (disk_props(run, f->clone_props, 0, &props) < 0 ||
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

/* True when the vm document asks for option K the way virt-install takes
 * a flag (K: true, K: yes, K: on, or K alone). */
static bool vm_flag(const struct qvm_file *f, const char *key)
{
	const struct ynode *v = ymap_get(f->vm, key);

	return v && v->kind == YNODE_SCALAR && (yscalar_is_true(v) || yscalar_is_null(v));
}

/* What virt-install would do after writing the XML, done through the API. */
static unsigned create_flags(const struct qvm_file *f)
{
	unsigned flags = 0;

	if (vm_flag(f, "transient"))
		flags |= DOMAIN_TRANSIENT | DOMAIN_START;
	else if (!vm_flag(f, "noreboot"))
		flags |= DOMAIN_START;
	if (vm_flag(f, "autostart") && !(flags & DOMAIN_TRANSIENT))
		flags |= DOMAIN_AUTOSTART;
	return flags;
}

/* virt-install's argv: the file's options, the URI and UUID qvm uses. */
static int vm_argv(const struct vm_run *run, char *const *disk_paths, const char *seed, bool print_xml,
		   char ***argv, char **err)
{
	const struct vi_run vr = { .connect = run->uri, .uuid = run->uuid, .print_xml = print_xml };

	if (disk_paths)
		return virt_install_argv_paths(run->file, disk_paths, seed, &vr, argv, err);
	return virt_install_argv(run->file, settings_zvol_dir(), seed, &vr, argv, err);
}

/* virt-install's failure, in its own words. */
static int virt_install_failed(const char *task, const char *what, struct spawn_result *res, bool debug_log)
{
	_cleanup_free_ char *msg = NULL;

	if (debug_log) {
		/* only what it prints without --debug */
		char *text = virtlog_filter(res->err);
		free(res->err);
		res->err = text;
	}
	msg = spawn_error_text(res);
	return log_error(task, "%s failed: %s", what, msg ? msg : "unknown error");
}

/* A disk entry's own path, as virt-install would write it in the XML (it
 * makes a relative path absolute against its working directory, which is
 * qvm's); only an existing file or device: storage qvm does not make is
 * not made by anyone (virt-install --print-xml creates none). */
static int push_named_path(char ***allowed, const struct ynode *v)
{
	_cleanup_free_ char *cwd = NULL;
	struct stat st;

	if (!v || v->kind != YNODE_SCALAR || strlen(v->value) != v->len || !v->len || stat(v->value, &st) < 0)
		return 0;
	/* absolute only: a relative path in the XML would be resolved by
	 * libvirt and QEMU against their own working directory */
	if (v->value[0] == '/')
		return strv_push(allowed, v->value);
	cwd = getcwd(NULL, 0);
	return cwd ? strv_pushf(allowed, "%s/%s", cwd, v->value) : 0;
}

/* The paths the vm document's disk entries (those without a zvol) and
 * cdrom name themselves. */
static int named_paths(const struct qvm_file *f, char ***allowed)
{
	const struct ynode *disk = ymap_get(f->vm, "disk"), *cd = ymap_get(f->vm, "cdrom");
	int r = push_named_path(allowed, cd);

	for (size_t i = 0; disk && r == 0 && i < (disk->kind == YNODE_SEQUENCE ? disk->n : 1); i++) {
		const struct ynode *m = disk->kind == YNODE_SEQUENCE ? disk->items[i] : disk;
		if (m->kind == YNODE_MAPPING)
			r = push_named_path(allowed, ymap_get(m, "path"));
		else if (m->kind == YNODE_SCALAR && !strchr(m->value, ','))
			r = push_named_path(allowed, m);
	}
	return r;
}

/*
 * virt-install --print-xml --dry-run (it validates as --dry-run does and
 * makes nothing, storage included): the XML(s) virt-install would create,
 * checked - name, UUID, and disks that are exactly paths, and allowed ones
 * the file names (named_paths). *xml is the final
 * domain; *phases 2 when the install has a phase of its own (virt-install
 * then boots another XML first).
 */
static int print_xml(const struct vm_run *run, const char *task, char *const *disk_paths, const char *seed,
		     char *const *paths, char *const *allowed, char **xml, int *phases, char **warnings)
{
	_cleanup_strv_free_ char **argv = NULL, **docs = NULL;
	_cleanup_free_ char *err = NULL, *why = NULL;
	struct spawn_result res;
	struct domxml x;
	size_t n;
	int r;

	*xml = NULL;
	*warnings = NULL;
	r = vm_argv(run, disk_paths, seed, true, &argv, &err);
	if (r < 0)
		return log_error(task, "%s", err ? err : strerror(-r));
	r = spawn_run(argv, SPAWN_CAPTURE_STDOUT | SPAWN_CAPTURE_STDERR, &res);
	if (r < 0)
		return log_error(task, "cannot run virt-install: %s", strerror(-r));
	if (res.status != 0) {
		r = signal_pending() ? interrupted() : virt_install_failed(task, "virt-install --print-xml", &res, true);
		spawn_result_clear(&res);
		return r;
	}
	/* a signal virt-install took for an ending ("aborted at user request", exit 0) */
	if (signal_pending()) {
		spawn_result_clear(&res);
		return interrupted();
	}
	/* shown once the step's line is done */
	*warnings = virtlog_filter(res.err);
	r = domxml_split(res.out ? res.out : "", &docs);
	spawn_result_clear(&res);
	if (r < 0)
		return log_error(task, "virt-install --print-xml printed no domain XML");
	n = strv_length(docs);
	if (n > 2)
		return log_error(task, "virt-install --print-xml printed %zu domains, not one or two", n);
	/* the install-time domain too: it runs first */
	for (size_t i = 0; i < n; i++) {
		free(TAKE_PTR(err));
		r = domxml_parse(docs[i], strlen(docs[i]), &x, &err);
		if (r < 0)
			return log_error(task, "%s", err ? err : strerror(-r));
		r = domxml_check(&x, run->file->name, run->uuid, paths, allowed, &why);
		domxml_clear(&x);
		if (r < 0)
			return log_error(task, "refusing the domain virt-install wrote%s: %s",
					 n == 2 && i == 0 ? " for its install" : "", why ? why : strerror(-r));
	}
	*phases = (int)n;
	*xml = TAKE_PTR(docs[n - 1]);
	return 0;
}

/* The paths the domain must use: the zvols' devices, then the seed. */
static int domain_paths(const struct vm_run *run, char ***paths)
{
	const struct qvm_file *f = run->file;

	if (strv_push(paths, run->device) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < f->n_extra_disks; i++) {
		char *dev = settings_zvol_device(f->extra_disks[i].dataset);
		if (!dev || strv_consume(paths, dev) < 0)
			return -ENOMEM;
	}
	return strv_push(paths, run->seed_path);
}

/* The domain of qvm's UUID as libvirt has it after who (libvirt, or
 * virt-install) defined it: checked as print_xml checks the XML. */
static int check_defined(const struct vm_run *run, const char *who, char *const *paths, char *const *allowed,
			 bool must_exist)
{
	const struct domain_ref ref = { .uri = run->file->connect, .uuid = run->uuid, .name = run->file->name };
	_cleanup_free_ char *err = NULL;
	int r = domain_check_defined(run->domains, &ref, paths, allowed, must_exist, &err);

	if (r < 0)
		return log_error(TASK, "refusing the domain %s defined: %s", who, err ? err : strerror(-r));
	return 0;
}

/* Steps 4 and 5: the XML from virt-install, then the domain. */
static int create_domain(struct vm_run *run)
{
	_cleanup_strv_free_ char **paths = NULL, **allowed = NULL, **argv = NULL;
	_cleanup_free_ char *xml = NULL, *err = NULL, *warnings = NULL;
	struct spawn_result res;
	int phases, r;

	if (signal_pending())
		return interrupted();
	if (domain_paths(run, &paths) < 0 || named_paths(run->file, &allowed) < 0 ||
	    undo_prepare_domain(&run->undo, run->domains, run->uri, run->uuid, run->file->name, run->device) < 0)
		return log_error(TASK, "%s", strerror(ENOMEM));
	log_begin("Writing VM %s's definition with virt-install --print-xml", run->file->name);
	r = print_xml(run, TASK, NULL, run->seed_path, paths, allowed, &xml, &phases, &warnings);
	if (r == 0)
		log_done("done");
	log_child_warnings(warnings);
	if (r < 0)
		return -1;
	if (signal_pending())
		return interrupted();

	if (phases == 1) {
		unsigned flags = create_flags(run->file);
		log_begin("%s VM %s (UUID %s) on %s", flags & DOMAIN_TRANSIENT ? "Starting transient" :
			  flags & DOMAIN_START ? "Defining and starting" : "Defining", run->file->name, run->uuid,
			  run->uri);
		/* from here the domain may exist: libvirt may define it and
		 * then fail (or qvm be signalled) before it answers */
		undo_arm(&run->undo);
		r = domain_create(run->domains, run->file->connect, xml, run->file->name, run->uuid, flags, &err);
		if (r < 0)
			return log_error(TASK, "cannot create VM %s: %s", run->file->name, err ? err : strerror(-r));
		/* what libvirt made of it, read back by the UUID */
		if (check_defined(run, "libvirt", paths, allowed, true) < 0)
			return -1;
		log_done("done");
		return 0;
	}

	/* an install of its own (cdrom, location, ...): virt-install boots
	 * the installer, then defines the final domain, by qvm's UUID */
	r = vm_argv(run, NULL, run->seed_path, false, &argv, &err);
	if (r < 0)
		return log_error(TASK, "%s", err ? err : strerror(-r));
	log_begin("Creating VM %s (UUID %s) with virt-install, which runs its install", run->file->name, run->uuid);
	undo_arm(&run->undo);
	r = spawn_run(argv, SPAWN_CAPTURE_STDOUT | SPAWN_CAPTURE_STDERR, &res);
	if (r < 0)
		return log_error(TASK, "cannot run virt-install: %s", strerror(-r));
	if (res.status != 0) {
		r = signal_pending() ? interrupted() : virt_install_failed(TASK, "virt-install", &res, false);
		spawn_result_clear(&res);
		return r;
	}
	log_done("done");
	log_child_warnings(res.out);
	log_child_warnings(res.err);
	spawn_result_clear(&res);
	/* what virt-install defined, as libvirt has it now; test:///default
	 * keeps no domain beyond the connection that made it (virt-install's):
	 * there is nothing to read back */
	return check_defined(run, "virt-install", paths, allowed, strcmp(run->uri, "test:///default") != 0);
}

static int provision(struct vm_run *run)
{
	_cleanup_free_ char *err = NULL;
	int r;

	if (create_seed(run) < 0 || create_clone(run) < 0 || create_domain(run) < 0)
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
	free(run->uri);
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
	_cleanup_free_ char *tmp = NULL, *base_dev = NULL, *err = NULL, *line = NULL;
	_cleanup_strv_free_ char **props = NULL, **clone = NULL, **real = NULL;
	_cleanup_strv_free_ char **paths = NULL;
	_cleanup_close_ int fd = -1;
	const char *tmpdir = getenv("TMPDIR");
	struct seed_docs docs = { .n = 0 };
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
		_cleanup_strv_free_ char **expect = NULL, **allowed = NULL;
		_cleanup_free_ char *xml = NULL, *warnings = NULL;
		int phases;
		log_done("done");
		if (strv_extend(&expect, paths) < 0 || strv_push(&expect, tmp) < 0 ||
		    named_paths(f, &allowed) < 0) {
			r = log_error(TASK_CHECK, "%s", strerror(ENOMEM));
		} else {
			log_begin("Validating with virt-install --print-xml --dry-run against %s", base_dev);
			r = print_xml(run, TASK_CHECK, paths, tmp, expect, allowed, &xml, &phases, &warnings);
			if (r == 0)
				log_done("%s", phases == 1 ? "done" : "done (an install with a phase of its own)");
			log_child_warnings(warnings);
			run->phases = phases;
		}
	} else {
		log_error(TASK_CHECK, "cannot write the seed image: %s", err ? err : strerror(-r));
	}
	unlink(tmp);
	seed_docs_clear(&docs);
	if (r < 0)
		return -1;

	/* the commands of a real run, exactly */
	if (disk_props(run, f->clone_props, 0, &props) < 0 ||
	    zfs_clone_argv(f->base_snapshot, f->clone, props, &clone) < 0)
		return log_error(TASK_CHECK, "%s", strerror(ENOMEM));
	free(TAKE_PTR(err));
	r = vm_argv(run, NULL, run->seed_path, run->phases == 1, &real, &err);
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
		if (disk_props(run, d->props, i + 1, &dprops) < 0 ||
		    (d->base_snapshot ? zfs_clone_argv(d->base_snapshot, d->dataset, dprops, &cmd)
				      : zfs_create_blank_argv(d->dataset, d->volsize, dprops, &cmd)) < 0 ||
		    !(line = strv_join_shell(cmd)))
			return log_error(TASK_CHECK, "%s", strerror(ENOMEM));
		log_step("  run: %s", line);
		free(line);
	}
	if (!(line = strv_join_shell(real)))
		return log_error(TASK_CHECK, "%s", strerror(ENOMEM));
	log_step("  run: %s", line);
	if (run->phases == 1) {
		unsigned flags = create_flags(f);
		log_step("  %s domain %s (UUID %s) on %s through libvirt, with the XML it prints",
			 flags & DOMAIN_TRANSIENT ? "start the transient" :
			 flags & DOMAIN_START ? "define and start" : "define", f->name, run->uuid, run->uri);
		if (flags & DOMAIN_AUTOSTART)
			log_step("  mark it to start when the host boots");
	}
	for (size_t i = 0; i < f->n_extra_disks; i++)
		log_step("  run: zfs set %s=%s %s", MARK_STATE, MARK_STATE_READY, f->extra_disks[i].dataset);
	log_step("  run: zfs set %s=%s %s", MARK_STATE, MARK_STATE_READY, f->clone);
	log_step("Dry run: VM %s checked; nothing was changed", f->name);
	return 0;
}

/* qvm vm --wait: polls libvirt (DHCP lease, then the guest agent) until
 * the guest has an address. */
static int wait_for_ip(const struct vm_run *run, unsigned seconds)
{
	const struct qvm_file *f = run->file;
	const struct domain_ref ref = { .uri = f->connect, .uuid = run->uuid, .name = f->name };
	_cleanup_free_ char *ip = NULL;

	log_begin("Waiting up to %u seconds for VM %s's address", seconds, f->name);
	for (unsigned waited = 0;; waited++) {
		_cleanup_free_ char *err = NULL;
		if (domain_ip(run->domains, &ref, DOMAIN_IP_LEASE | DOMAIN_IP_AGENT, &ip, &err) < 0)
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
	struct domains *domains;
	struct vi_options *options;  /* the installed virt-install's option names */
	bool dry_run;
	bool wait;
	unsigned wait_seconds;
	struct qvm_template tmpl;
};

/* Every vm-document key is a virt-install option spelled in full: its
 * argparse would take "nam" for --name and "dry" for --dry-run. */
static int check_option_names(const struct vm_run *run, const struct vm_opts *o)
{
	_cleanup_strv_free_ char **errors = NULL;
	int r = vi_options_check_vm(o->options, run->file->vm, &errors);

	if (r == -ENOMEM)
		return log_error(TASK_FILE, "%s", strerror(ENOMEM));
	for (size_t i = 0; errors && errors[i]; i++) {
		unsigned line, col;
		int n = 0;
		char label[64];
		/* a key a --set made has no line: name the --set */
		if (sscanf(errors[i], "%u:%u: %n", &line, &col, &n) == 2 && n > 0 && line == 0)
			log_error(TASK_FILE, "%s: %s", template_set_label(&o->tmpl, col, label, sizeof(label)),
				  errors[i] + n);
		else
			log_error(TASK_FILE, "%s:%s", run->path, errors[i]);
	}
	return r < 0 ? -1 : 0;
}

/* One VM, all or nothing. *name (malloc'd) is its name once the file was
 * read. 0, -1, or WAIT_FAILED when the VM was created but --wait got no
 * address. */
static int vm_one(const char *path, const struct vm_opts *o, char **name)
{
	_cleanup_strv_free_ char **errors = NULL;
	struct vm_run run = { .path = path, .domains = o->domains };
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
	if (check_option_names(&run, o) < 0) {
		vm_run_clear(&run);
		return -1;
	}
	/* the file's UUID, or one qvm makes up: the domain is known by it */
	if (run.file->uuid[0])
		memcpy(run.uuid, run.file->uuid, sizeof(run.uuid));
	else if (uuid_generate(run.uuid) < 0) {
		vm_run_clear(&run);
		return log_error(TASK_CHECK, "cannot make a UUID for the domain: %s", strerror(EIO));
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
	r = o->wait && wait_for_ip(&run, o->wait_seconds) < 0 ? WAIT_FAILED : 0;
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
	_cleanup_(domains_freep) struct domains *domains = o.domains = domains_new(false);
	_cleanup_(vi_options_freep) struct vi_options *options = NULL;
	_cleanup_free_ char *err = NULL;
	const char *count_s = opt_last(opts, OPT_COUNT), *wait_s = opt_last(opts, OPT_WAIT);
	unsigned count = 0, no_address = 0;

	(void)argc;
	if (!domains)
		return log_error(TASK, "%s", strerror(ENOMEM));
	if (vi_options_load(&options, &err) < 0)
		return log_error(TASK_CHECK, "cannot learn virt-install's options: %s", err ? err : strerror(ENOMEM));
	/* hidden from its --help, but what qvm passes the UUID with */
	if (vi_options_add(options, "uuid") < 0)
		return log_error(TASK_CHECK, "%s", strerror(ENOMEM));
	o.options = options;
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
