/* SPDX-License-Identifier: MIT */
/* The inverse of each change qvm makes, ready for the undo journal.
 * Each prepares an unarmed step; call undo_arm() once the change is made. */
#ifndef QVM_UNDO_STEPS_H
#define QVM_UNDO_STEPS_H

#include "undo.h"

/* zfs destroy [-r] DATASET ("zvol DATASET"). */
int undo_prepare_destroy(struct undo *u, const char *dataset, int recursive)
	__attribute__((warn_unused_result));
/* Removes DIR/seed.iso, DIR/.qvm-creating, DIR/console.log (and virtlogd's
 * rotated console.log.N), DIR/known_hosts and DIR; what is already gone is
 * fine. Anything else stays, and so does DIR: -ENOTEMPTY with *err "DIR:
 * reason (it holds NAME, ...)". 0, or -errno with *err "PATH: reason"
 * (malloc'd). */
int seed_dir_remove(const char *dir, char **err);
/* seed_dir_remove(DIR) as an undo step ("seed directory DIR"). */
int undo_prepare_seed_dir(struct undo *u, const char *dir)
	__attribute__((warn_unused_result));
struct domains;
/* Stops and undefines the domain of UUID uuid on connect (NULL: the
 * default URI; uuid NULL: by name, for VMs made before qvm recorded UUIDs)
 * through domains - if one of its disks is exactly DISK (else it is not
 * ours and is left alone). ("libvirt domain NAME") */
int undo_prepare_domain(struct undo *u, struct domains *domains, const char *connect, const char *uuid,
			const char *name, const char *disk) __attribute__((warn_unused_result));

#endif
