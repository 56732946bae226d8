/* SPDX-License-Identifier: MIT */
/* The vm document rendered as virt-install's argument vector (SPEC §3.1). */
#ifndef QVM_VIRTARGS_H
#define QVM_VIRTARGS_H

#include <stdbool.h>
#include "qvmfile.h"

/*
 * Builds argv[0]="virt-install" then one or more arguments per key of f->vm,
 * in file order. The boot disk gets "path=<zvol_dir>/<clone>" as its first
 * sub-option. Then "--noautoconsole", "--disk" "path=<seed_path>,device=cdrom",
 * and "--dry-run" when dry_run. Returns 0, -ENOMEM, or -EINVAL with *err
 * a malloc'd message (a value that cannot be rendered).
 */
int virt_install_argv(const struct qvm_file *f, const char *zvol_dir, const char *seed_path,
		      bool dry_run, char ***argv, char **err);

#endif
