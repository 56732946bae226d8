/* SPDX-License-Identifier: MIT */
/* A dataset qvm is about to create: it must not exist yet, and it must
 * have a filesystem to go in. qvm import and qvm vm check it with the same
 * words before any change. */
#ifndef QVM_TARGET_H
#define QVM_TARGET_H

enum target_role {
	TARGET_IMAGE,    /* qvm import's zvol: it gets a @base snapshot */
	TARGET_CLONE,    /* a VM's clone of a base snapshot */
	TARGET_VOLUME,   /* a VM's new blank zvol */
};

/* A dataset and the datasets above it, with the types zfs_get_types gave
 * them ("filesystem", "volume"; NULL: it does not exist). parent or pool
 * NULL: not asked. */
struct target {
	const char *dataset, *type;
	const char *parent, *parent_type;
	const char *pool, *pool_type;
};

/*
 * Whether qvm may create t->dataset: it must not exist (one left over from
 * an interrupted qvm run is named so, with the command that removes it),
 * its pool and parent must, and the parent must be a filesystem. Returns 0,
 * or -EEXIST / -ENOENT / -ENOTDIR with *err the first problem found.
 */
int target_check(const struct target *t, enum target_role role, char **err);

#endif
