/* SPDX-License-Identifier: MIT */
/* A remote host's state files (hostfs.h): one sh script per operation,
 * its arguments as $1..., its outcome as the exit status. The scripts test
 * for a symbolic link before each change, as O_NOFOLLOW does here; noclobber
 * (set -C) makes the shell open a new file with O_EXCL. */
#include <errno.h>
#include <fcntl.h>
#include <sys/param.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostfs.h"
#include "cleanup.h"
#include "device.h"
#include "dirs.h"
#include "fdio.h"
#include "remote.h"
#include "report.h"
#include "strv.h"
#include "banned.h"

/* exit statuses of the scripts: an errno each */
static const struct {
	int status, err;
} codes[] = {
	{ 40, ELOOP }, { 17, EEXIST }, { 2, ENOENT }, { 20, ENOTDIR }, { 39, ENOTEMPTY }, { 21, EISDIR },
	{ 62, ETIMEDOUT }, { 71, ECANCELED },   /* 71: a directory could not be made */
};

/* The -errno a script's exit status stands for, *err its words (or
 * the errno's); -EIO for another status. */
static int script_failed(const struct spawn_result *res, char **err)
{
	for (size_t i = 0; !res->signal && i < sizeof(codes) / sizeof(codes[0]); i++)
		if (res->status == codes[i].status) {
			free(*err);
			*err = res->err && *res->err ? spawn_error_text(res) : strdup(strerror(codes[i].err));
			return -codes[i].err;
		}
	return -EIO;
}

/* A script whose outcome must be known runs to its end whatever qvm is
 * sent (SPAWN_NO_FORWARD); one that only waits does not (interruptible). */
static int run_flags(const char *script, char *const *args, int fd, bool interruptible, char **out, char **err)
{
	struct spawn_result res;
	unsigned flags = SPAWN_CAPTURE_STDOUT | SPAWN_CAPTURE_STDERR | (interruptible ? 0 : SPAWN_NO_FORWARD);
	int r = remote_sh(script, args, flags, fd, &res, err);

	if (r == -EIO)
		r = script_failed(&res, err);
	if (r == 0 && out)
		*out = TAKE_PTR(res.out);
	spawn_result_clear(&res);
	return r;
}

static int run(const char *script, char *const *args, int fd, char **out, char **err)
{
	return run_flags(script, args, fd, false, out, err);
}

static char *mode_text(mode_t mode)
{
	return strdupf("%04o", (unsigned)mode & 07777);
}

int hostfs_kind(const char *path, char *kind, char **err)
{
	static const char script[] = REMOTE_SH_KIND "kind \"$1\"";
	char *args[] = { (char *)path, NULL };
	_cleanup_free_ char *out = NULL;
	struct stat st;
	int r;

	if (!remote_current()) {
		if (lstat(path, &st) < 0)
			return report_error(err, -errno, "%s", strerror(errno));
		*kind = S_ISLNK(st.st_mode) ? 'l' : S_ISDIR(st.st_mode) ? 'd' : S_ISREG(st.st_mode) ? 'f' : 'o';
		return 0;
	}
	if (remote_prefetched_kind(path, kind))
		return *kind == '-' ? report_error(err, -ENOENT, "%s", strerror(ENOENT)) : 0;
	r = run(script, args, -1, &out, err);
	if (r < 0)
		return r;
	if (!out || !out[0] || !strchr("ldfo-", out[0]))
		return report_error(err, -EIO, "unexpected answer from the remote host");
	*kind = out[0];
	return *kind == '-' ? report_error(err, -ENOENT, "%s", strerror(ENOENT)) : 0;
}

/* Here: a new directory with exactly mode (mkdir's is filtered by the umask). */
static int mkdir_local(const char *path, mode_t mode, char **err)
{
	if (mkdir(path, mode) < 0 || chmod(path, mode) < 0)
		return report_error(err, -errno, "%s", strerror(errno));
	return 0;
}

/* Here: O_EXCL and O_NOFOLLOW, the bytes copied. */
static int write_new_local(const char *path, mode_t mode, int fd, const void *data, size_t len, char **err)
{
	_cleanup_close_ int out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	char buf[65536];
	ssize_t n;

	if (out < 0 || fchmod(out, mode) < 0)
		return report_error(err, -errno, "%s", strerror(errno));
	if (fd < 0) {
		if (write_full(out, data, len) < 0)
			return report_error(err, -errno, "%s", strerror(errno));
	} else {
		if (lseek(fd, 0, SEEK_SET) < 0)
			return report_error(err, -errno, "%s", strerror(errno));
		while ((n = read(fd, buf, sizeof(buf))) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 || write_full(out, buf, (size_t)n) < 0)
				return report_error(err, -errno ? -errno : -EIO, "%s", strerror(errno ? errno : EIO));
		}
	}
	if (fsync(out) < 0 || close(TAKE_FD(out)) < 0)
		return report_error(err, -errno, "%s", strerror(errno));
	return 0;
}

int hostfs_read(const char *path, size_t max, char **out, char **err)
{
	static const char script[] = "[ -L \"$1\" ] && exit 40; [ -e \"$1\" ] || exit 2; [ -f \"$1\" ] || exit 21; "
				     "head -c \"$2\" -- \"$1\"";
	char n[24];
	char *args[] = { (char *)path, n, NULL };

	snprintf(n, sizeof(n), "%zu", max);
	if (!remote_current()) {
		_cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		_cleanup_free_ char *buf = malloc(max + 1);
		ssize_t got;
		if (!buf)
			return -ENOMEM;
		if (fd < 0 || (got = read(fd, buf, max)) < 0)
			return report_error(err, -errno, "%s", strerror(errno));
		buf[got] = '\0';
		*out = TAKE_PTR(buf);
		return 0;
	}
	return run(script, args, -1, out, err);
}

static const char unlink_script[] = "{ [ -L \"$1\" ] || [ -e \"$1\" ]; } || exit 2; "
				    "[ -d \"$1\" ] && ! [ -L \"$1\" ] && exit 21; rm -f -- \"$1\"";
/* polled there as device_wait polls here: every 0.1 s */
static const char wait_script[] = "i=0; while ! [ -e \"$1\" ]; do [ \"$i\" -ge \"$2\" ] && exit 62; "
				  "sleep 0.1; i=$((i + 1)); done";

int hostfs_unlink(const char *path, char **err)
{
	char *args[] = { (char *)path, NULL };

	if (!remote_current())
		return unlink(path) < 0 ? report_error(err, -errno, "%s", strerror(errno)) : 0;
	return run(unlink_script, args, -1, NULL, err);
}

/* The remote wait in tenths of a second: a signal ends it (-EINTR). */
static int wait_there(const char *path, unsigned tenths, char **err)
{
	char n[24];
	char *args[] = { (char *)path, n, NULL };

	snprintf(n, sizeof(n), "%u", tenths);
	return run_flags(wait_script, args, -1, true, NULL, err);
}

/* Waits up to timeout seconds for path to exist (a zvol's device node).
 * -ETIMEDOUT; -EINTR when a signal is pending. */
static int hostfs_wait(const char *path, unsigned timeout, char **err)
{
	if (!remote_current())
		return device_wait(path, timeout);
	return wait_there(path, timeout * 10, err);
}

int hostfs_then_here(const struct hostfs_then *t, char **err)
{
	return t->op == HOSTFS_THEN_WAIT ? hostfs_wait(t->path, t->timeout, err) : hostfs_unlink(t->path, err);
}

/* The part of a device's wait that rides with the zfs call, which no
 * signal cuts short: a device usually appears at once; if not, the rest
 * of the wait is a round trip of its own, which a signal ends. */
#define THEN_WAIT_TENTHS 20u

int hostfs_then_script(const struct hostfs_then *t, const char **script, char ***args)
{
	*args = NULL;
	*script = t->op == HOSTFS_THEN_WAIT ? wait_script : unlink_script;
	int r = strv_push(args, t->path);
	if (r == 0 && t->op == HOSTFS_THEN_WAIT)
		r = strv_pushf(args, "%u", MIN(t->timeout * 10, THEN_WAIT_TENTHS));
	return r;
}

int hostfs_then_failed(const struct hostfs_then *t, const struct spawn_result *res, char **err)
{
	int r = script_failed(res, err);

	if (r == -ETIMEDOUT && t->op == HOSTFS_THEN_WAIT && t->timeout * 10 > THEN_WAIT_TENTHS) {
		free(*err);
		*err = NULL;
		r = wait_there(t->path, t->timeout * 10 - THEN_WAIT_TENTHS, err);
	}
	return r;
}

int hostfs_remove_dir(const char *dir, const char *const *files, size_t n, char **err)
{
	static const char script[] =
		"d=$1; shift; [ -L \"$d\" ] && exit 40; [ -e \"$d\" ] || exit 0; [ -d \"$d\" ] || exit 20; "
		"for f in \"$@\"; do rm -f -- \"$d/$f\" || exit 5; done; "
		"for f in \"$d\"/console.log.*; do case ${f##*/} in console.log.*[!0-9]*) ;; "
		"console.log.?*) rm -f -- \"$f\" || exit 5;; esac; done; "
		"rmdir -- \"$d\" 2>/dev/null && exit 0; "
		"printf '%s: Directory not empty (it holds %s)\\n' \"$d\" \"$(ls -A -- \"$d\" | head -n 5 | tr '\\n' ' ')\" >&2; "
		"exit 39";
	_cleanup_free_ char **args = calloc(n + 2, sizeof(*args));

	if (!args)
		return -ENOMEM;
	args[0] = (char *)dir;
	for (size_t i = 0; i < n; i++)
		args[i + 1] = (char *)files[i];
	return run(script, args, -1, NULL, err);
}

int hostfs_markers(const char *dir, const char *marker, char **out, char **err)
{
	static const char script[] =
		"[ -L \"$1\" ] && exit 40; [ -d \"$1\" ] || exit 0; cd -- \"$1\" || exit 5; "
		"for d in *; do [ -d \"$d\" ] && ! [ -L \"$d\" ] && [ -f \"$d/$2\" ] && ! [ -L \"$d/$2\" ] || continue; "
		"case $d in *'\t'*|*'\n'*) continue;; esac; "
		"printf '%s\\t%s\\n' \"$d\" \"$(head -c 128 -- \"$d/$2\" | head -n 1)\"; done";
	char *args[] = { (char *)dir, (char *)marker, NULL };

	return run(script, args, -1, out, err);
}

int hostfs_new_dir_files(const char *state_dir, const char *dir, mode_t dir_mode, const char *marker,
			 const char *marker_data, const char *file, int fd, mode_t file_mode, int *step,
			 char **err)
{
	/* the marker's text is an argument, the file's bytes stdin; the exit
	 * status says which step failed: 71-74 (17: dir was there) */
	static const char script[] =
		"umask 077; set -C; "
		"[ -d \"$1\" ] || (umask 022 && mkdir -p -m 0755 -- \"$1\") || exit 71; "
		"{ [ -L \"$2\" ] || [ -e \"$2\" ]; } && { echo \"$2: File exists\" >&2; exit 72; }; "
		"mkdir -m \"$3\" -- \"$2\" || exit 72; "
		"{ printf '%s' \"$5\" > \"$2/$4\" && chmod \"$7\" -- \"$2/$4\"; } || exit 73; "
		"{ cat > \"$2/$6\" && chmod \"$7\" -- \"$2/$6\"; } || exit 74";
	_cleanup_free_ char *dm = mode_text(dir_mode), *fm = mode_text(file_mode), *path = NULL;
	char *args[] = { (char *)state_dir, (char *)dir, dm, (char *)marker, (char *)marker_data, (char *)file, fm,
			 NULL };
	struct spawn_result res;
	int r;

	*step = HOSTFS_STEP_STATE_DIR;
	if (!dm || !fm)
		return -ENOMEM;
	if (!remote_current()) {
		r = mkdir_p(state_dir, 0755);
		if (r < 0)
			return report_error(err, r, "%s", strerror(-r));
		*step = HOSTFS_STEP_DIR;
		r = mkdir_local(dir, dir_mode, err);
		if (r < 0)
			return r;
		*step = HOSTFS_STEP_MARKER;
		if (!(path = strdupf("%s/%s", dir, marker)))
			return -ENOMEM;
		r = write_new_local(path, file_mode, -1, marker_data, strlen(marker_data), err);
		free(TAKE_PTR(path));
		if (r < 0)
			return r;
		*step = HOSTFS_STEP_FILE;
		if (!(path = strdupf("%s/%s", dir, file)))
			return -ENOMEM;
		return write_new_local(path, file_mode, fd, NULL, 0, err);
	}
	if (lseek(fd, 0, SEEK_SET) < 0)
		return report_error(err, -errno, "%s", strerror(errno));
	r = remote_sh(script, args, SPAWN_CAPTURE_STDOUT | SPAWN_CAPTURE_STDERR | SPAWN_NO_FORWARD, fd, &res, err);
	*step = 0;
	if (r == -EIO && !res.signal && res.status >= 71 && res.status <= 74)
		*step = res.status - 70;
	spawn_result_clear(&res);
	return r;
}
