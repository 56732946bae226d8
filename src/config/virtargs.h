/* SPDX-License-Identifier: MIT */
/* The vm document rendered as virt-install's argument vector (SPEC §3.1). */
#ifndef QVM_VIRTARGS_H
#define QVM_VIRTARGS_H

#include <stdbool.h>
#include "qvmfile.h"

/* What qvm adds to the file's options. */
struct vi_run {
	const char *connect;         /* --connect URI when the file has none, or NULL */
	const char *uuid;            /* --uuid UUID when the file has none, or NULL */
	bool print_xml;              /* --print-xml --dry-run --debug: the XML, nothing made */
	/* --serial pty,log.file=PATH when the file defines no serial or
	 * console (virt_args_console 0), or NULL */
	const char *console_log;
	const char *osinfo;          /* --osinfo NAME when the file names none (the image's), or NULL */
};

/* Whether the vm document names an install source (import, install,
 * location, cdrom, pxe): without one qvm passes --import. */
bool virt_args_has_install(const struct ynode *vm);
/* Whether it names the OS (osinfo, or its alias os-variant). */
bool virt_args_has_osinfo(const struct ynode *vm);

/*
 * The guest's serial console as the vm document defines it (its first
 * serial, else its first console): 0 when it defines none; 1 with *path
 * (malloc'd) when it writes to a file qvm can read (a file serial's path,
 * a log.file); 2 with *why (static) when it defines one qvm cannot follow.
 * -ENOMEM.
 */
int virt_args_console(const struct ynode *vm, char **path, const char **why);

/*
 * Builds argv[0]="virt-install" then one or more arguments per key of f->vm,
 * in file order, then --import when the file names no install source and
 * run's --osinfo when it names no osinfo. The boot disk gets "path=<zvol_dir>/<clone>" as its first
 * sub-option, and each extra zvol disk "path=<zvol_dir>/<dataset>". Then
 * run's --connect and --uuid, "--noautoconsole", "--disk"
 * "path=<seed_path>,device=cdrom", run's --serial, and run's --print-xml. Returns 0, -ENOMEM, or -EINVAL with *err
 * a malloc'd message (a value that cannot be rendered).
 */
int virt_install_argv(const struct qvm_file *f, const char *zvol_dir, const char *seed_path,
		      const struct vi_run *run, char ***argv, char **err);
/* The same with the zvol disks' paths given, boot disk first, then
 * f->extra_disks (qvm vm --dry-run validates against the base images'
 * devices: the clones do not exist yet). */
int virt_install_argv_paths(const struct qvm_file *f, char *const *disk_paths, const char *seed_path,
			    const struct vi_run *run, char ***argv, char **err);

/*
 * Checks that every key of the vm document can be rendered (the same rules,
 * without building anything): appends one "LINE:COL: text" message per
 * problem to *errors. zvol_disks are the n disk mappings that get a path
 * (they may be empty). Returns 0, -EINVAL when messages were added, or -ENOMEM.
 */
int virt_args_check(const struct ynode *vm, const struct ynode *const *zvol_disks, size_t n,
		    char ***errors);

#endif
