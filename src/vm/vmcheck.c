/* SPDX-License-Identifier: MIT */
/* vm_plan_check: the host asked, nothing changed. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "domain.h"
#include "inventory.h"
#include "marks.h"
#include "msgtext.h"
#include "names.h"
#include "remote.h"
#include "strv.h"
#include "target.h"
#include "virtargs.h"
#include "vmplan.h"
#include "hostfs.h"
#include "remote.h"
#include "zfs.h"
#include "banned.h"

/* Each check adds its problems to *errors: -1 when it found one, -ENOMEM
 * (which ends the checks) when a message could not be kept. */
#define problem(errors, ...) (strv_pushf((errors), __VA_ARGS__) < 0 ? -ENOMEM : -1)

/* A volume block size (a power of two) as zfs prints one: "512B", "16K",
 * "1M". */
static const char *block_size_text(uint64_t bs, char *buf, size_t size)
{
	if (bs >= (1u << 20) && bs % (1u << 20) == 0)
		snprintf(buf, size, "%" PRIu64 "M", bs >> 20);
	else if (bs >= 1024 && bs % 1024 == 0)
		snprintf(buf, size, "%" PRIu64 "K", bs >> 10);
	else
		snprintf(buf, size, "%" PRIu64 "B", bs);
	return buf;
}

/* A clone's new volsize: zfs reads it as it reads -V, and it must be a
 * whole number of the base volume's blocks (the clone keeps them). */
static int check_clone_volsize(struct vm_plan *p, size_t i, uint64_t blocksize, char ***errors)
{
	char *const *props = i ? p->file->extra_disks[i - 1].props : p->file->clone_props;
	int bad = 0;

	for (size_t j = 0; props && props[j] && bad != -ENOMEM; j++) {
		char buf[300], bs[32];
		uint64_t bytes;
		const char *why;
		if (strncmp(props[j], "volsize=", 8) != 0)
			continue;
		if ((why = qvm_volsize_why(props[j] + 8, &bytes, buf, sizeof(buf))))
			bad = problem(errors, "invalid volsize '%s' for clone %s: %s", props[j] + 8,
				      vm_disk_dataset(p, i), why);
		else if (blocksize && bytes % blocksize)
			/* zfs's words (zfs_nicebytes: "16K", "512B") */
			bad = problem(errors, "invalid volsize '%s' for clone %s: 'volsize' must be a multiple "
				      "of volume block size (%s)", props[j] + 8, vm_disk_dataset(p, i),
				      block_size_text(blocksize, bs, sizeof(bs)));
	}
	return bad;
}

/* The image's qvm:osinfo and qvm:user as the VM's defaults: --osinfo when
 * the vm document names none, and the ssh user when user-data names none
 * (or names cloud-init's "default"). Both come from the image, which is
 * untrusted: the osinfo goes into virt-install's argv, the user into
 * zfs's and later ssh's. */
static int check_image_defaults(struct vm_plan *p, char ***errors)
{
	const struct qvm_file *f = p->file;
	char t[160];
	int bad = 0;

	if (!virt_args_has_osinfo(f->vm)) {
		if (!p->image_osinfo)
			bad = problem(errors, "the vm document names no osinfo and image %s records none: add "
				      "'osinfo: NAME' (virt-install --osinfo list) or re-import with qvm import --osinfo",
				      f->base_snapshot);
		else if (!osinfo_name_valid(p->image_osinfo)) {
			msg_text(t, sizeof(t), p->image_osinfo, strlen(p->image_osinfo));
			bad = problem(errors, "image %s records " MARK_OSINFO " '%s', which is not an osinfo "
				      "short-id: add 'osinfo: NAME' to the vm document (virt-install --osinfo list)",
				      f->base_snapshot, t);
		}
		else
			p->osinfo = p->image_osinfo;
	}
	if (bad == -ENOMEM)
		return bad;
	if (f->first_user) {
		p->ssh_user = f->first_user;
	} else if (p->image_user) {
		if (login_name_valid(p->image_user, NULL))
			p->ssh_user = p->image_user;
		else {
			msg_text(t, sizeof(t), p->image_user, strlen(p->image_user));
			bad = problem(errors, "image %s records " MARK_USER " '%s', which is not a login name",
				      f->base_snapshot, t);
		}
	}
	return bad;
}

/* A base missing on the remote host that qvm imported here: how to copy
 * it there (qvm images copy sends IMAGE@base), into buf; "" otherwise. */
static const char *copy_hint(const char *snapshot, char *buf, size_t size)
{
	static const char *const props[] = { MARK_KIND, NULL };
	const struct host_spec *h = remote_current();
	_cleanup_free_ char *err = NULL, *volume = NULL;
	const char *at = strchr(snapshot, '@');
	char *types[2] = { NULL, NULL }, *values[2] = { NULL, NULL };
	bool here;
	int r;

	buf[0] = '\0';
	if (!h || !at || strcmp(at, "@base") != 0 || !(volume = strndup(snapshot, (size_t)(at - snapshot))))
		return buf;
	/* asked of this host's zfs, not the remote's */
	here = remote_here(true);
	r = zfs_get_types_props((const char *[]){ volume, snapshot }, 2, props, types, NULL, values, &err);
	remote_here(here);
	if (r == 0 && types[0] && types[1] && strcmp(types[0], "volume") == 0 && values[0] &&
	    strcmp(values[0], "image") == 0)
		snprintf(buf, size, " on %s; image %s is on this host: copy it with: qvm images copy %s %s", h->name,
			 volume, volume, h->name);
	for (int i = 0; i < 2; i++) {
		free(types[i]);
		free(values[i]);
	}
	return buf;
}

/* Every disk's base snapshot, target, target's parent and base volume,
 * asked in one zfs call: names[4i..4i+3] for disk i, NULL where there is
 * nothing to ask (a blank volume's base, a target with no parent). */
static int check_disks(struct vm_plan *p, char ***errors)
{
	size_t n = 4 * vm_plan_disks(p);
	_cleanup_free_ const char **names = calloc(n, sizeof(*names));
	_cleanup_free_ char **types = calloc(n, sizeof(*types));
	_cleanup_free_ uint64_t *blocksizes = calloc(n, sizeof(*blocksizes));
	/* the image's defaults, read with the types (a snapshot inherits its
	 * volume's user properties); and whose VM a dataset is (qvm:vm) */
	static const char *const props[] = { MARK_OSINFO, MARK_USER, "qvm:vm", NULL };
	_cleanup_free_ char **values = calloc(3 * n, sizeof(*values));
	_cleanup_strv_free_ char **owned = NULL;
	_cleanup_free_ char *err = NULL;
	int bad = 0, r;

	if (!names || !types || !blocksizes || !values)
		return -ENOMEM;
	for (size_t i = 0; i < vm_plan_disks(p); i++) {
		const char *base = vm_disk_base(p, i);
		char *parent = dataset_parent(vm_disk_dataset(p, i));
		char *volume = base ? strndup(base, strcspn(base, "@")) : NULL;
		if ((parent && strv_consume(&owned, parent) < 0) || (base && strv_consume(&owned, volume) < 0))
			return -ENOMEM;
		names[4 * i] = base;
		names[4 * i + 1] = vm_disk_dataset(p, i);
		names[4 * i + 2] = parent;
		names[4 * i + 3] = volume;
	}
	r = zfs_get_types_props(names, n, props, types, blocksizes, values, &err);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return problem(errors, "cannot check the base snapshots and target datasets: %s",
			       err ? err : strerror(-r));
	/* the boot disk's base is names[0] */
	p->image_osinfo = TAKE_PTR(values[0]);
	p->image_user = TAKE_PTR(values[1]);
	/* the boot clone (names[1]) of a VM of this name: qvm destroy removes
	 * it; any other dataset there is not qvm's to advise on
	 * (the same value on its parent, names[2]: inherited, not the clone's
	 * own) */
	bool own_clone = types[1] && values[3 + 2] && strcmp(values[3 + 2], p->file->name) == 0 &&
			 !(values[6 + 2] && strcmp(values[6 + 2], values[3 + 2]) == 0) &&
			 /* a leftover of an interrupted run: target_check says so */
			 !marks_leftover(names[1]);
	if (own_clone)
		p->exists |= VM_EXISTS_CLONE;
	for (size_t i = 0; i < vm_plan_disks(p) && bad != -ENOMEM; i++) {
		struct target t = { .dataset = names[4 * i + 1], .type = types[4 * i + 1],
				    .parent = names[4 * i + 2], .parent_type = types[4 * i + 2] };
		_cleanup_free_ char *why = NULL;
		char hint[1200];
		if (names[4 * i] && !types[4 * i])
			bad = problem(errors, "base snapshot %s does not exist%s", names[4 * i],
				      copy_hint(names[4 * i], hint, sizeof(hint)));
		else if (names[4 * i] && types[4 * i + 3] && strcmp(types[4 * i + 3], "volume") != 0)
			bad = problem(errors, "base %s is a snapshot of a %s, not of a volume", names[4 * i],
				      types[4 * i + 3]);
		/* an existing boot clone is said with the rest of the VM (vm_plan_check) */
		if (bad != -ENOMEM && !(i == 0 && own_clone) &&
		    target_check(&t, i == 0 || names[4 * i] ? TARGET_CLONE : TARGET_VOLUME, &why) < 0)
			bad = why ? problem(errors, "%s", why) : -ENOMEM;
		if (bad != -ENOMEM && names[4 * i]) {
			/* a block size only for a base that exists */
			r = check_clone_volsize(p, i, types[4 * i] ? blocksizes[4 * i + 3] : 0, errors);
			bad = r < 0 ? r : bad;
		}
	}
	if (bad != -ENOMEM && types[0]) {
		r = check_image_defaults(p, errors);
		bad = r < 0 ? r : bad;
	}
	for (size_t i = 0; i < n; i++)
		free(types[i]);
	for (size_t i = 0; i < 3 * n; i++)
		free(values[i]);
	return bad;
}

/* zfs's own verdict on each new volume's size and properties: the exact
 * zfs create a real run makes, with -n (zfs clone has no dry run). */
static int check_blank_volumes(struct vm_plan *p, char ***errors)
{
	int bad = 0;

	/* the new volumes' marks hold the URI: known once libvirt answered */
	if (!p->uri)
		return 0;
	for (size_t i = 1; i < vm_plan_disks(p) && bad != -ENOMEM; i++) {
		const struct qvm_disk *d = &p->file->extra_disks[i - 1];
		_cleanup_strv_free_ char **props = NULL;
		_cleanup_free_ char *err = NULL;
		int r;

		if (d->base_snapshot)
			continue;
		if (vm_disk_props(p, i, &props) < 0)
			return -ENOMEM;
		r = zfs_create_blank_dry_run(d->dataset, d->volsize, props, &err);
		if (r == -ENOMEM)
			return r;
		if (r == -EIO)
			bad = problem(errors, "zfs refuses zvol %s: %s", d->dataset, err ? err : strerror(-r));
		else if (r < 0)
			bad = problem(errors, "cannot check zvol %s with zfs create -n: %s", d->dataset,
				      err ? err : strerror(-r));
	}
	return bad;
}

/* Whose is the domain of that UUID (or, for VMs made before qvm
 * recorded UUIDs, of that name on that URI)? ", which is qvm's VM X" or
 * ", which is not qvm's". */
/* Whether the domain (uuid, name) on uri is a VM qvm made, by inv's marks;
 * buf says whose it is, for a message. */
static bool owner_in(const struct inventory *inv, const char *uri, const char *uuid, const char *name, char *buf,
		     size_t size)
{
	const char *vm = NULL;

	snprintf(buf, size, ", which is not qvm's");
	for (size_t i = 0; i < inv->n && !vm; i++) {
		const struct volume *v = &inv->v[i];
		if (!volume_is_disk_of(v, NULL) || v->disk)
			continue;
		if (v->uuid ? uuid && strcasecmp(v->uuid, uuid) == 0 && v->connect && strcmp(v->connect, uri) == 0
			    : v->vm && strcmp(v->vm, name) == 0)
			vm = v->vm;
	}
	if (vm)
		snprintf(buf, size, ", which is qvm's VM %s (remove it with: qvm destroy%s %s)", vm, remote_option(), vm);
	return vm != NULL;
}

static bool domain_owner(const char *uri, const char *uuid, const char *name, char *buf, size_t size)
{
	struct inventory inv;
	_cleanup_free_ char *err = NULL;
	bool ours;

	snprintf(buf, size, ", which is not qvm's");
	if (inventory_load(&inv, &err) < 0)
		return false;
	ours = owner_in(&inv, uri, uuid, name, buf, size);
	inventory_clear(&inv);
	return ours;
}

/* The libvirt the VM goes to: the URI as libvirt names it, and neither its
 * name nor its UUID in use there. */
static int check_domain(struct vm_plan *p, char ***errors)
{
	const struct qvm_file *f = p->file;
	_cleanup_free_ char *err = NULL;
	struct domain_clash clash;
	char owner[512];
	int bad = 0;

	if (domains_uri(p->domains, f->connect, &p->uri, &err) < 0)
		return problem(errors, "%s", err ? err : "cannot connect to libvirt");
	if (domain_find(p->domains, f->connect, f->name, p->uuid, &clash, &err) < 0)
		return problem(errors, "cannot check the domains on %s: %s", p->uri, err ? err : "unknown error");
	/* a domain of the VM's name: said with the rest of the VM, unless
	 * it is not qvm's (then qvm destroy is no advice) */
	if (clash.name_taken && domain_owner(p->uri, clash.name_uuid, f->name, owner, sizeof(owner)))
		p->exists |= VM_EXISTS_DOMAIN;
	else if (clash.name_taken)
		bad = problem(errors, "a domain named %s already exists on %s (UUID %s)%s: pick another --name",
			      f->name, p->uri, clash.name_uuid, owner);
	if (bad != -ENOMEM && clash.uuid_taken && !(clash.name_taken && strcmp(clash.uuid_name, f->name) == 0)) {
		domain_owner(p->uri, p->uuid, clash.uuid_name, owner, sizeof(owner));
		bad = problem(errors, "a domain with UUID %s already exists on %s (named %s)%s", p->uuid, p->uri,
			      clash.uuid_name, owner);
	}
	return bad;
}

static int check_seed_dir(struct vm_plan *p, char ***errors)
{
	_cleanup_free_ char *why = NULL;
	char live[128], kind;
	int r = hostfs_kind(p->seed_dir, &kind, &why);

	if (r < 0)
		return r == -ENOENT ? 0 : problem(errors, "cannot check seed directory %s: %s", p->seed_dir, why);
	/* not a directory: qvm destroy would not take it for a seed, so no VM */
	if (kind != 'd')
		return problem(errors, "seed directory %s already exists; if no VM uses it, remove it with: rm -r %s",
			       p->seed_dir, p->seed_dir);
	if (marks_seed_run(p->seed_dir, live, sizeof(live)) == 0) {
		if (marks_run_alive(live))
			return problem(errors, "seed directory %s is being created by a qvm still running (run %s)",
				       p->seed_dir, live);
		return problem(errors, "seed directory %s is left over from an interrupted qvm run; remove "
			       "what such runs left with: qvm cleanup%s --yes", p->seed_dir, remote_option());
	}
	p->exists |= VM_EXISTS_SEED;
	return 0;
}

/* "domain on URI, clone X, seed directory Y": what p->exists says. */
static char *exists_text(const struct vm_plan *p)
{
	_cleanup_strv_free_ char **parts = NULL;

	if ((p->exists & VM_EXISTS_DOMAIN) && strv_pushf(&parts, "domain on %s", p->uri) < 0)
		return NULL;
	if ((p->exists & VM_EXISTS_CLONE) && strv_pushf(&parts, "clone %s", p->file->clone) < 0)
		return NULL;
	if ((p->exists & VM_EXISTS_SEED) && strv_pushf(&parts, "seed directory %s", p->seed_dir) < 0)
		return NULL;
	return strv_join(parts, ", ");
}

int vm_plan_exists(struct vm_plan *p, char **what)
{
	struct inventory inv;
	struct domain_clash clash;
	char run[128], owner[512];
	int r;

	*what = NULL;
	p->exists = 0;
	if (!p->uri && domains_uri(p->domains, p->file->connect, &p->uri, what) < 0)
		return -1;
	if (domain_find(p->domains, p->file->connect, p->file->name, NULL, &clash, what) < 0)
		return -1;
	r = inventory_load(&inv, what);
	if (r < 0)
		return r == -ENOMEM ? r : -1;
	/* only what qvm made is an instance that exists: a domain or a
	 * dataset of that name that is not qvm's is no VM qvm destroy would
	 * remove (making the instance says what it is) */
	if (clash.name_taken && owner_in(&inv, p->uri, clash.name_uuid, p->file->name, owner, sizeof(owner)))
		p->exists |= VM_EXISTS_DOMAIN;
	/* nor are leftovers of an interrupted run */
	for (size_t i = 0; i < inv.n; i++)
		if (strcmp(inv.v[i].name, p->file->clone) == 0 && volume_is_disk_of(&inv.v[i], p->file->name) &&
		    !volume_is_leftover(&inv.v[i]))
			p->exists |= VM_EXISTS_CLONE;
	inventory_clear(&inv);
	_cleanup_free_ char *why = NULL;
	char kind;
	if (hostfs_kind(p->seed_dir, &kind, &why) == 0 && kind == 'd' && marks_seed_run(p->seed_dir, run, sizeof(run)) < 0)
		p->exists |= VM_EXISTS_SEED;
	if (p->exists && !(*what = exists_text(p)))
		return -ENOMEM;
	return 0;
}

int vm_plan_check(struct vm_plan *p, char ***errors)
{
	static int (*const checks[])(struct vm_plan *, char ***) = {
		check_disks, check_domain, check_blank_volumes, check_seed_dir,
	};
	int bad = 0;

	*errors = NULL;
	p->exists = 0;
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		int r = checks[i](p, errors);
		if (r == -ENOMEM)
			return r;
		bad |= r;
	}
	if (p->exists) {
		_cleanup_free_ char *what = exists_text(p);
		const char *name = p->file->name;
		if (!what || problem(errors, "VM %s exists (%s): qvm destroy%s %s, or pick another --name", name, what, remote_option(),
				     name) == -ENOMEM)
			return -ENOMEM;
		bad = -1;
	}
	return bad;
}
