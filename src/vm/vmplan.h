/* SPDX-License-Identifier: MIT */
/* qvm vm's plan: the file read and checked, the names and UUID the VM
 * will have, and every check that needs no change on the host (SPEC §3.4
 * step 1). The jobs that follow (vmcreate.h, vmdryrun.h, vmwait.h) work
 * from it. */
#ifndef QVM_VMPLAN_H
#define QVM_VMPLAN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "qvmfile.h"
#include "undo.h"

struct domains;
struct qvm_template;
struct vi_options;

struct vm_request {
	const char *path;                  /* the qvm file (its name in messages) */
	const char *text;                  /* its content when read already (stdin), or NULL */
	size_t text_len;
	const struct qvm_template *tmpl;   /* --name, --set, --count's suffix */
	struct domains *domains;           /* libvirt connections, the command's */
	const struct vi_options *options;  /* the installed virt-install's option names */
};

struct vm_plan {
	const char *path;
	struct qvm_file *file;
	struct domains *domains;
	char *uri;                   /* the connection's URI as libvirt names it */
	char uuid[37];               /* the domain's */
	unsigned timeout;            /* for a device node, seconds */
	char *seed_dir;              /* $QVM_STATE_DIR/<name> */
	char *seed_path;             /* .../seed.iso */
	char *device;                /* $QVM_ZVOL_DIR/<clone> */
	char *console_log;           /* the console's log file --wait reads, or NULL */
	const char *console_why;     /* why there is none (static) */
	bool console_ours;           /* qvm adds it: .../console.log */
	bool custom_final;           /* user-data sets final_message: --wait cannot see cloud-init finish */
	double started;              /* CLOCK_MONOTONIC seconds when the domain was started */
	/* the document's own console log as it was before the domain
	 * started (it may be appended to): --wait reads only what follows */
	bool console_before;
	dev_t console_dev;
	ino_t console_ino;
	uint64_t console_size;
	unsigned char console_tail[64];
	size_t console_tail_len;
	struct undo undo;            /* vm_create's changes */
	/* what vm_plan_check learnt */
	char *image_osinfo;          /* the boot disk's base's qvm:osinfo, qvm:user (NULL: none) */
	char *image_user;
	const char *osinfo;          /* the --osinfo qvm adds (the image's), NULL when the file names one */
	const char *ssh_user;        /* the boot clone's qvm:user: user-data's first user, else the image's */
	unsigned exists;             /* VM_EXISTS_*: what of a VM by this name is already there */
};

#define VM_EXISTS_DOMAIN 1u          /* a domain of that name on the file's libvirt */
#define VM_EXISTS_CLONE 2u           /* the boot disk's clone */
#define VM_EXISTS_SEED 4u            /* the seed directory */

/*
 * Reads the file (SPEC §3) and checks its vm document's keys against
 * virt-install's options. *out is set once the file was read, even when
 * its keys are refused (the command names the VM in a --count summary);
 * the caller frees it. Returns 0, -1 with *errors one message a problem
 * ("FILE:LINE:COL: text", "--set ...: text", for the task "reading qvm
 * file"), or -ENOMEM.
 */
int vm_plan_read(const struct vm_request *req, struct vm_plan **out, char ***errors);

/*
 * What the VM will be, without asking the host: the file's UUID or a new
 * one, the device timeout, the seed's and the clone's paths. Returns 0, or
 * -1 with *err (task "validating virtual machine").
 */
int vm_plan_prepare(struct vm_plan *p, char **err);

/*
 * Every check on the host before the first change (vmcheck.c): the
 * disks' bases, targets and their parents, zfs's verdict on the new
 * volumes, the domain's name and UUID on its libvirt, the seed
 * directory. Reports every problem found, not just the first: returns 0,
 * -1 with *errors (task "validating virtual machine"), or -ENOMEM.
 */
int vm_plan_check(struct vm_plan *p, char ***errors);

/*
 * Only whether a VM by the plan's name is there already (a --count asks it
 * of every instance before making any; the leftovers of an interrupted run
 * are not a VM): sets p->exists and, when it is
 * not 0, *what ("domain on URI, clone tank/images/web1, seed directory
 * /var/lib/qvm/web1"). Returns 0, or -1 with *what an error (the libvirt
 * or zfs that could not be asked), or -ENOMEM.
 */
int vm_plan_exists(struct vm_plan *p, char **what);

void vm_plan_free(struct vm_plan *p);
static inline void vm_plan_freep(struct vm_plan **p) { vm_plan_free(*p); }

/* The zvol disks: 0 the boot clone, then the file's extra disks. */
static inline size_t vm_plan_disks(const struct vm_plan *p) { return 1 + p->file->n_extra_disks; }
/* Disk i's dataset, and its base snapshot (NULL for a new blank volume). */
const char *vm_disk_dataset(const struct vm_plan *p, size_t i);
const char *vm_disk_base(const struct vm_plan *p, size_t i);
/* Disk i's -o properties: the file's, then qvm's marks (a disk after the
 * boot disk also its index). strv; 0 or -ENOMEM. */
int vm_disk_props(const struct vm_plan *p, size_t i, char ***props);
/* The zfs command that makes disk i (zfs clone, or zfs create -V). */
int vm_disk_argv(const struct vm_plan *p, size_t i, char ***argv);

/* What virt-install would do after writing the XML, done through the API
 * (DOMAIN_START ...). */
unsigned vm_create_flags(const struct qvm_file *f);

/* virt-install's argv: the file's options, the URI and UUID qvm uses, the
 * serial console qvm adds when the file defines none; disk_paths NULL: the
 * zvols' own. */
/* What virt-install --print-xml is given for the seed's path. */
#define VM_SEED_STAND_IN "/dev/null"

int vm_virt_install_argv(const struct vm_plan *p, char *const *disk_paths, const char *seed, bool print_xml,
			 char ***argv, char **err);

/* "interrupted by signal SIGINT" in *err; returns -EINTR. */
int vm_interrupted(char **err);

#endif
