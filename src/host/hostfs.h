/* SPDX-License-Identifier: MIT */
/* Files qvm keeps in the state directory of the host a run works on (the
 * seed, the marker of a run in progress): here with system calls; on a
 * remote host (remote.h) with the same rules (no symbolic link followed,
 * nothing overwritten, exact modes), carried out by small POSIX sh scripts
 * through the run's ssh connection. hostfs_remove_dir and hostfs_markers
 * are remote only (their local forms are undo-steps.c's and leftovers.c's).
 * Each returns 0 or -errno with *err (where taken): -ENOENT, -EEXIST,
 * -ELOOP (a symbolic link in the way), -ENOTDIR, -ENOTEMPTY, -EIO (the
 * remote tool's own words), -EHOSTUNREACH (the connection failed). */
#ifndef QVM_HOSTFS_H
#define QVM_HOSTFS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "process.h"

/* What path is: 'd' directory, 'f' regular file, 'l' symbolic link,
 * 'o' anything else; -ENOENT if nothing. */
int hostfs_kind(const char *path, char *kind, char **err);
/* The state directory (mkdir -p), then dir in it with exactly dir_mode
 * (-EEXIST if anything is there: nothing else is done), then in dir the
 * files marker (marker_data) and file (fd's bytes), each new with exactly
 * file_mode: one round trip on a remote host. On failure *step says which
 * failed (HOSTFS_STEP_*); dir is the caller's to remove from
 * HOSTFS_STEP_MARKER on (and when the connection failed, *step 0: whether
 * dir was made is not known). */
enum { HOSTFS_STEP_STATE_DIR = 1, HOSTFS_STEP_DIR, HOSTFS_STEP_MARKER, HOSTFS_STEP_FILE };
int hostfs_new_dir_files(const char *state_dir, const char *dir, mode_t dir_mode, const char *marker,
			 const char *marker_data, const char *file, int fd, mode_t file_mode, int *step,
			 char **err);
/* At most max bytes of a regular file (not through a link), NUL-ended. */
int hostfs_read(const char *path, size_t max, char **out, char **err);
int hostfs_unlink(const char *path, char **err);
/* A step on these files run right after a zfs command (zfs_then), in
 * the same round trip to a remote host: a device's wait, a marker's end. */
struct hostfs_then {
	enum { HOSTFS_THEN_WAIT = 1, HOSTFS_THEN_UNLINK } op;
	const char *path;
	unsigned timeout;          /* HOSTFS_THEN_WAIT: seconds (-ETIMEDOUT after them) */
};
/* Runs it here (or, when a host is open, in a round trip of its own);
 * a device's wait ends with -EINTR when a signal is pending. */
int hostfs_then_here(const struct hostfs_then *t, char **err);
/* Its script and arguments, for remote_run_then (*args malloc'd). */
int hostfs_then_script(const struct hostfs_then *t, const char **script, char ***args);
/* The -errno of the script's failure (res as remote_run_then left it);
 * a device's wait goes on there for the rest of its time, in a round trip
 * of its own that a signal ends (-EINTR): with the zfs call, which must
 * run to its end, it lasts 2 s at most. */
int hostfs_then_failed(const struct hostfs_then *t, const struct spawn_result *res, char **err);
/* Removes files[] (names in dir) and rotated console logs
 * (console.log.N), then dir; a dir that is not there is removed already.
 * -ENOTEMPTY when something else is left (its names in *err). */
int hostfs_remove_dir(const char *dir, const char *const *files, size_t n, char **err);
/* "NAME\tCONTENT\n" for each directory NAME of dir holding the file
 * marker (its first line; names with a newline or tab are left out). */
int hostfs_markers(const char *dir, const char *marker, char **out, char **err);

#endif
