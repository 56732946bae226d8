/* SPDX-License-Identifier: MIT */
/* The zfs(8) command, run with an argument vector. Builders are pure (and
 * unit-tested); runners return 0 or, with *err: -EIO when zfs refused (its
 * own message), -ENOENT when it said the dataset does not exist, -ECHILD
 * when zfs could not be run or did not finish (not found, killed), -ENOMEM,
 * -EINVAL (refused by the builder, nothing run). */
#ifndef QVM_ZFS_H
#define QVM_ZFS_H

#include <stddef.h>
#include <stdint.h>

/*
 * The argument vectors (*argv, a strv). Each returns 0, -ENOMEM, or
 * -EINVAL for a word zfs would read otherwise than meant: an empty one,
 * one starting with '-' (an option), a snapshot where a dataset is meant
 * (or a "snapshot" without '@'), a property P without '='.
 */
/* zfs create -V SIZE -o volblocksize=16K -o refreservation=none [-o P]... NAME */
int zfs_create_volume_argv(const char *name, uint64_t size, char *const *props, char ***argv);
/* zfs create -V SIZE [-o P]... NAME */
int zfs_create_blank_argv(const char *name, const char *size, char *const *props, char ***argv);
/* zfs clone [-o P]... SNAPSHOT TARGET */
int zfs_clone_argv(const char *snapshot, const char *target, char *const *props, char ***argv);
/* zfs snapshot SNAPSHOT */
int zfs_snapshot_argv(const char *snapshot, char ***argv);
/* zfs set PROP=VALUE NAME */
int zfs_set_argv(const char *name, const char *assignment, char ***argv);
/* zfs destroy [-r] NAME */
int zfs_destroy_argv(const char *name, int recursive, char ***argv);

/* Their runners: 0, or -errno with *err (-EINVAL: refused, nothing run). */
int zfs_create_volume(const char *name, uint64_t size, char *const *props, char **err);
/* A blank volume, every property the caller's (zvols qvm adds to a VM,
 * not imported images). */
int zfs_create_blank(const char *name, const char *size, char *const *props, char **err);
/* The same as zfs create -n: zfs's verdict on the size and properties,
 * nothing made. */
int zfs_create_blank_dry_run(const char *name, const char *size, char *const *props, char **err);
int zfs_clone(const char *snapshot, const char *target, char *const *props, char **err);
int zfs_snapshot(const char *snapshot, char **err);
int zfs_set(const char *name, const char *assignment, char **err);
/* A dataset that no longer exists counts as success. */
int zfs_destroy(const char *name, int recursive, char **err);

/*
 * The types ("filesystem", "volume", "snapshot") of names[0..n) in one zfs
 * call: types[i] (malloc'd) is NULL where names[i] does not exist, or is
 * NULL itself (not asked); with blocksizes, blocksizes[i] the volblocksize
 * of a volume (0 for anything else, or one that does not exist). Returns 0,
 * or -errno with *err when zfs fails for another reason; then every
 * types[i] is NULL.
 */
int zfs_get_types(const char *const *names, size_t n, char **types, uint64_t *blocksizes, char **err);
/* The same, with the values of the (user) properties props (NULL-ended, at
 * most VM_PROPS_MAX) in the same call: values[i * nprops + j] (malloc'd)
 * the value of props[j] on names[i] as zfs gives it (a snapshot inherits
 * its dataset's user properties), NULL when not set. A name listed twice
 * in zfs's output (a value holding a newline would forge a line) is -EIO:
 * nothing is believed. */
#define VM_PROPS_MAX 4
int zfs_get_types_props(const char *const *names, size_t n, const char *const *props, char **types,
			uint64_t *blocksizes, char **values, char **err);
/* zfs list -H -t volume -o name: every volume's name, a line each. */
int zfs_list_volume_names(char **out, char **err);
/* zfs get -H -p -t volume -o name,property,value,source PROPS (every volume
 * of every pool): the raw tab-separated output in *out. */
int zfs_get_volumes(const char *props, char **out, char **err);
/* zfs get -H -s local -o property,value PROPS NAME: "PROP<TAB>VALUE" lines
 * (malloc'd) of the properties set on NAME itself, not inherited. */
int zfs_get_local(const char *name, const char *props, char **out, char **err);

#endif
