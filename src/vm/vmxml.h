/* SPDX-License-Identifier: MIT */
/* The domain XML from virt-install --print-xml --dry-run, checked before
 * libvirt sees it. */
#ifndef QVM_VMXML_H
#define QVM_VMXML_H

#include <stdbool.h>

struct qvm_file;
struct spawn_result;
struct vm_plan;

/*
 * virt-install --print-xml --dry-run (it validates as --dry-run does and
 * makes nothing, storage included): the XML(s) virt-install would create,
 * checked - name, UUID, disks that are exactly paths, and the allowed
 * ones the file names (vm_named_paths). disk_paths NULL: the zvols' own.
 * *xml is the final domain; *phases 2 when the install has a phase of its
 * own (virt-install then boots another XML first); *warnings its WARNING
 * lines, set even when its XML is refused. Returns 0 or <0 with *err.
 */
int vm_print_xml(const struct vm_plan *p, char *const *disk_paths, const char *seed, char *const *paths,
		 char *const *allowed, char **xml, int *phases, char **warnings, char **err);

/* The paths the vm document's disk entries (those without a zvol) and
 * cdrom name themselves, which exist: strv; 0 or -ENOMEM. */
/* virt-install makes an autostart storage pool of the directory of every
 * disk path outside /dev it is given (and leaves it): the seed's directory
 * (seed's dirname) is watched around a virt-install run, and a pool that
 * appeared there is removed. */
struct vm_pool_watch {
	char *dir;
	char **before;               /* the pools there before (UUIDs) */
	bool listed;
};
void vm_pools_note(const struct vm_plan *p, const char *seed, struct vm_pool_watch *w);
void vm_pools_drop_new(const struct vm_plan *p, struct vm_pool_watch *w);

int vm_named_paths(const struct qvm_file *f, char ***allowed);

/* A virt-install run that spawn_check returned r < 0 for, as *err: an
 * interruption if a signal is pending, else when it ran "<what> failed:
 * <its own words>" (only what it prints without --debug when debug_log),
 * one line of its own each, then "FILE:LINE:COL: virt-install's --X comes
 * from this key" for each option they name that a key of p's vm document
 * gave; else spawn_check's "cannot run". Clears res; returns a negative
 * errno. */
int vm_virt_install_failed(const struct vm_plan *p, const char *what, int r, struct spawn_result *res,
			   bool debug_log, char **err);

#endif
