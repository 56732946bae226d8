/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "device.h"
#include "signals.h"
#include "banned.h"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int device_wait(const char *path, unsigned timeout_sec)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_sec * 1000;
	/* udev usually needs a few ms; start fast, back off to 100 ms */
	long delay_ms = 5;

	for (;;) {
		struct stat st;

		if (signal_pending())
			return -EINTR;
		if (stat(path, &st) == 0)
			return 0;
		if (errno != ENOENT && errno != ENOTDIR)
			return -errno;
		if (now_ms() >= deadline)
			return -ETIMEDOUT;
		struct timespec ts = { .tv_sec = 0, .tv_nsec = delay_ms * 1000000L };
		nanosleep(&ts, NULL);
		if (delay_ms < 100)
			delay_ms *= 2;
	}
}

int device_open_write(const char *path, int *fdp, uint64_t *size)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	/* O_NOFOLLOW is wrong here: /dev/zvol/... are udev symlinks */
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISBLK(st.st_mode)) {
		uint64_t bytes;
		/* reopen exclusively: a mounted or otherwise claimed device fails */
		close(fd);
		fd = open(path, O_WRONLY | O_CLOEXEC | O_EXCL);
		if (fd < 0)
			return -errno;
		if (ioctl(fd, BLKGETSIZE64, &bytes) < 0)
			return -errno;
		*size = bytes;
	} else if (S_ISREG(st.st_mode)) {
		*size = (uint64_t)st.st_size;
	} else {
		return -ENODEV;
	}
	*fdp = TAKE_FD(fd);
	return 0;
}
