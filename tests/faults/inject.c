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
 *                             import (smaller reads: detecting its format) */
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
void *dlsym(void *handle, const char *name);
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

/* ---- libvirt calls, through the dlsym qvm finds them with ---- */

typedef void *(*dlsym_fn)(void *, const char *);

static dlsym_fn next_dlsym(void)
{
	static dlsym_fn f;

	if (!f)
		f = (dlsym_fn)dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.34");
	if (!f)
		f = (dlsym_fn)dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.2.5");
	return f;
}

static void *real_define, *real_create;

/* 1 if FUNC is to fail; after the delay it asks for, 0 to run it */
static int libvirt_fault(const char *func)
{
	const char *v = getenv("QVM_FAULT_LIBVIRT"), *mark = getenv("QVM_FAULT_MARK");
	size_t len = strlen(func);

	if (!v || strncmp(v, func, len) != 0 || v[len] != ':')
		return 0;
	if (strcmp(v + len + 1, "fail") == 0)
		return 1;
	if (mark) {
		int m = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (m >= 0)
			close(m);
	}
	long ms = atol(v + len + 1);
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L }, rem;
	while (nanosleep(&ts, &rem) < 0 && errno == EINTR)
		ts = rem;
	return 0;
}

static void *fake_define(void *conn, const char *xml, unsigned flags)
{
	if (libvirt_fault("virDomainDefineXMLFlags"))
		return NULL;
	return ((void *(*)(void *, const char *, unsigned))real_define)(conn, xml, flags);
}

static int fake_create(void *dom)
{
	if (libvirt_fault("virDomainCreate"))
		return -1;
	return ((int (*)(void *))real_create)(dom);
}

void *dlsym(void *handle, const char *name)
{
	dlsym_fn next = next_dlsym();
	void *p = next ? next(handle, name) : NULL;

	if (!p || !is_qvm() || !getenv("QVM_FAULT_LIBVIRT"))
		return p;
	if (strcmp(name, "virDomainDefineXMLFlags") == 0) {
		real_define = p;
		return (void *)fake_define;
	}
	if (strcmp(name, "virDomainCreate") == 0) {
		real_create = p;
		return (void *)fake_create;
	}
	return p;
}
