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

struct hostfs_then;   /* hostfs.h */

/*
 * The argument vectors (*argv, a strv). Each returns 0, -ENOMEM, or
 * -EINVAL for a word zfs would read otherwise than meant: an empty one,
 * one starting with '-' (an option), a snapshot where a dataset is meant
 * (or a "snapshot" without '@'), a property P without '='.
 */
/* zfs create -V SIZE -o volblocksize=16K -o refreservation=none [-o P]... NAME */
int zfs_create_volume_argv(const char *name, uint64_t size, char *const *props, char ***argv);
/* zfs create -V SIZE [-o P]... NAME: a blank volume, every property the
 * caller's (zvols qvm adds to a VM, not imported images) */
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
/* zfs create -n of a blank volume (zfs_create_blank_argv's): zfs's
 * verdict on the size and properties, nothing made. */
int zfs_create_blank_dry_run(const char *name, const char *size, char *const *props, char **err);
/* Runs argv (a zfs_*_argv builder's, r its result; freed) as the others
 * run zfs, then, when zfs succeeded, the step then (hostfs.h), in the same
 * round trip on a remote host. When the step is what failed, *then_r is
 * its -errno (as returned) and *err its words; else *then_r is 0. */
int zfs_then(int r, char **argv, const struct hostfs_then *then, int *then_r, char **err);
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

/*
 * Replication (zfs send here, zfs recv on the open remote host). The
 * stream flags: -L -e -c always (large blocks, embedded data, blocks as
 * compressed on disk), -w (raw) for an encrypted dataset.
 */
enum {
	ZFS_SEND_RAW = 1u << 0,      /* -w: an encrypted dataset's blocks as they are */
	ZFS_SEND_DRY_RUN = 1u << 1,  /* -n -P: nothing sent, the size printed */
};
/* zfs send -L -e -c [-w] [-n -P] SNAPSHOT */
int zfs_send_argv(const char *snapshot, unsigned flags, char ***argv);
/* zfs send [-n -P] -t TOKEN: the rest of an interrupted stream; TOKEN as
 * zfs prints one (digits, hexadecimal digits and '-'), else -EINVAL. */
int zfs_send_resume_argv(const char *token, unsigned flags, char ***argv);
/* zfs recv -s -u [-o P]... DATASET: resumable (-s), not mounted (-u), the
 * properties set locally on what is received. */
int zfs_recv_argv(const char *dataset, char *const *props, char ***argv);
/* A receive_resume_token zfs could have printed. */
int zfs_resume_token_valid(const char *token);

/* The stream's size as zfs send -n -P estimates it (here, whatever host is
 * open): of SNAPSHOT, or (token non-NULL) of what is left of an
 * interrupted one, then *snapshot (malloc'd, may be NULL) the snapshot the
 * token resumes. 0, or -errno with *err. */
int zfs_send_size(const char *snapshot, unsigned flags, uint64_t *bytes, char **err);
int zfs_send_resume_size(const char *token, uint64_t *bytes, char **snapshot, char **err);
/* What zfs send -n -P printed: the "size" line's (else the last "full"
 * line's) number, and the "full" line's snapshot. 0, or -EPROTO. */
int zfs_send_size_parse(const char *out, uint64_t *bytes, char **snapshot);

struct relay_result;
/*
 * zfs send (of snapshot, or resumed from token when token is non-NULL)
 * here, into zfs recv -s -u -o PROPS DATASET on the open remote host,
 * through its ssh connection; qvm moves the stream itself and calls
 * progress with the bytes moved. 0, or -errno with *err (text of the
 * remote escaped): -EINTR a signal stopped it (res->stopped), -EHOSTUNREACH
 * the connection was lost, -EIO zfs recv refused or failed (its words),
 * -ECHILD zfs send failed, -EPIPE the relay itself failed. res says what each
 * side did (relay_result_clear it).
 */
int zfs_send_recv(const char *snapshot, const char *token, unsigned flags, const char *dataset,
		  char *const *props, void (*progress)(uint64_t bytes, void *ctx), void *ctx,
		  struct relay_result *res, char **err);

#endif
