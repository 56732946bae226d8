/* SPDX-License-Identifier: MIT */
/* LD_PRELOAD fault injection for the fault matrix: failures and delays the
 * ZFS double cannot produce because they happen inside qvm itself.
 *   QVM_FAULT_FSYNC=1         fsync/fdatasync fail with EIO
 *   QVM_FAULT_PWRITE_DELAY=MS every pwrite to a file named in QVM_FAULT_PATH
 *                             (substring match) sleeps MS first, and the
 *                             first one touches $QVM_FAULT_MARK */
/* define pwrite and pwrite64 both, as glibc exports them */
#undef _FILE_OFFSET_BITS
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int fsync(int fd);
int fdatasync(int fd);
ssize_t pwrite(int fd, const void *buf, size_t n, off_t off);
ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off);

/* The shim acts in qvm alone, not in the programs around it (timeout, the
 * ZFS double, virt-install) that inherit LD_PRELOAD too. */
static int is_qvm(void)
{
	return strcmp(program_invocation_short_name, "qvm") == 0;
}

static int fsync_fails(void)
{
	const char *v = getenv("QVM_FAULT_FSYNC");

	return v && *v == '1' && is_qvm();
}

int fsync(int fd)
{
	static int (*real)(int);

	if (fsync_fails()) {
		errno = EIO;
		return -1;
	}
	if (!real)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	return real(fd);
}

int fdatasync(int fd)
{
	static int (*real)(int);

	if (fsync_fails()) {
		errno = EIO;
		return -1;
	}
	if (!real)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
	return real(fd);
}

static void maybe_delay(int fd)
{
	const char *ms = getenv("QVM_FAULT_PWRITE_DELAY"), *path = getenv("QVM_FAULT_PATH");
	const char *mark = getenv("QVM_FAULT_MARK");
	char link[64], target[4096];
	ssize_t len;

	if (!ms || !path || !is_qvm())
		return;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	len = readlink(link, target, sizeof(target) - 1);
	if (len < 0)
		return;
	target[len] = '\0';
	if (!strstr(target, path))
		return;
	if (mark) {
		int m = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (m >= 0)
			close(m);
	}
	struct timespec ts = { .tv_sec = atol(ms) / 1000, .tv_nsec = (atol(ms) % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	static ssize_t (*real)(int, const void *, size_t, off_t);

	maybe_delay(fd);
	if (!real)
		real = (ssize_t (*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite");
	return real(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	static ssize_t (*real)(int, const void *, size_t, off_t);

	maybe_delay(fd);
	if (!real)
		real = (ssize_t (*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite64");
	return real(fd, buf, n, off);
}
