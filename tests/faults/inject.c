/* SPDX-License-Identifier: MIT */
/* LD_PRELOAD fault injection for the fault matrix: failures and delays the
 * ZFS double cannot produce because they happen inside qvm itself.
 *   QVM_FAULT_FSYNC=1         fsync/fdatasync fail with EIO
 *   QVM_FAULT_PWRITE_DELAY=MS every pwrite to a file named in QVM_FAULT_PATH
 *                             (substring match) sleeps MS first, and the
 *                             first one touches $QVM_FAULT_MARK
 *   QVM_FAULT_SHRINK=BYTES    the first pread of 1 MiB or more from a file
 *                             named in QVM_FAULT_PATH cuts that file to
 *                             BYTES once done, as if it changed during the
 *                             import (smaller reads: detecting its format)
 *   QVM_FAULT_LIBVIRT=...     libvirt calls delayed or failed: qvm gets
 *                             libvirt-shim.so for libvirt.so.0 (see there) */
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
ssize_t pread(int fd, void *buf, size_t n, off_t off);
ssize_t pread64(int fd, void *buf, size_t n, off_t off);
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

/* In qvm, is fd a file whose path contains $QVM_FAULT_PATH? Its path in
 * target. */
static int fd_matches(int fd, char *target, size_t size)
{
	const char *path = getenv("QVM_FAULT_PATH");
	char link[64];
	ssize_t len;

	if (!path || !is_qvm())
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	len = readlink(link, target, size - 1);
	if (len < 0)
		return 0;
	target[len] = '\0';
	return strstr(target, path) != NULL;
}

static void maybe_delay(int fd)
{
	const char *ms = getenv("QVM_FAULT_PWRITE_DELAY");
	const char *mark = getenv("QVM_FAULT_MARK");
	char target[4096];

	if (!ms || !fd_matches(fd, target, sizeof(target)))
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

static void maybe_shrink(int fd)
{
	static int done;
	const char *bytes = getenv("QVM_FAULT_SHRINK");
	char target[4096];

	if (!bytes || done || !fd_matches(fd, target, sizeof(target)))
		return;
	done = 1;
	if (truncate(target, atoll(bytes)) < 0)
		perror("inject.so: truncate");
}

ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	static ssize_t (*real)(int, void *, size_t, off_t);

	if (!real)
		real = (ssize_t (*)(int, void *, size_t, off_t))dlsym(RTLD_NEXT, "pread");
	ssize_t r = real(fd, buf, n, off);
	if (n >= (1u << 20))
		maybe_shrink(fd);
	return r;
}

ssize_t pread64(int fd, void *buf, size_t n, off_t off)
{
	static ssize_t (*real)(int, void *, size_t, off_t);

	if (!real)
		real = (ssize_t (*)(int, void *, size_t, off_t))dlsym(RTLD_NEXT, "pread64");
	ssize_t r = real(fd, buf, n, off);
	if (n >= (1u << 20))
		maybe_shrink(fd);
	return r;
}

/* ---- libvirt calls ----
 * qvm looks libvirt's functions up with dlsym on the handle dlopen gave it
 * (src/base/dynlib.c), which an LD_PRELOAD definition cannot reach. So dlopen of
 * libvirt.so.0 gives qvm libvirt-shim.so (beside this file) instead: it
 * defines the two functions faults are injected into and links libvirt,
 * so every other function dlsym looks for in it is libvirt's own. */

void *dlopen(const char *file, int flags);

void *dlopen(const char *file, int flags)
{
	static void *(*real)(const char *, int);
	Dl_info self;

	if (!real)
		real = (void *(*)(const char *, int))dlsym(RTLD_NEXT, "dlopen");
	/* RTLD_NOLOAD: the shim itself asking for the real libvirt */
	if (file && !(flags & RTLD_NOLOAD) && getenv("QVM_FAULT_LIBVIRT") && is_qvm() &&
	    strcmp(file, "libvirt.so.0") == 0 &&
	    dladdr((void *)dlopen, &self) && self.dli_fname) {
		char shim[4096];
		const char *slash = strrchr(self.dli_fname, '/');
		int dir = slash ? (int)(slash - self.dli_fname) : 1;
		snprintf(shim, sizeof(shim), "%.*s/libvirt-shim.so", dir, slash ? self.dli_fname : ".");
		void *h = real(shim, flags);
		if (h)
			return h;
		fprintf(stderr, "inject.so: cannot load %s: %s\n", shim, dlerror());
	}
	return real(file, flags);
}
