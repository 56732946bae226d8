/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "cleanup.h"
#include "imgwrite.h"
#include "report.h"
#include "spool.h"
#include "banned.h"

/* how often (in bytes written) the room left is looked at */
#define CHECK_EVERY (8u << 20)

int spool_open(struct spool *s, const char *source, char **err)
{
	const char *dir = getenv("TMPDIR");
	_cleanup_free_ char *tmpl = NULL;

	s->fd = -1;
	s->dir = dir && *dir ? dir : "/var/tmp";
	s->source = source;
	s->since_check = 0;
	if (asprintf(&tmpl, "%s/qvm-import-XXXXXX", s->dir) < 0)
		return report_error(err, -ENOMEM, "%s", strerror(ENOMEM));
	s->fd = mkostemp(tmpl, O_CLOEXEC);
	if (s->fd < 0)
		return report_error(err, -errno, "cannot create a temporary file in %s: %s (set TMPDIR)",
				    s->dir, strerror(errno));
	(void)unlink(tmpl);
	return 0;
}

/* Less than 5% of the file system (or 1 GiB, if that is less) left free
 * is too little. */
static int room_left(int fd)
{
	struct statvfs vfs;

	if (fstatvfs(fd, &vfs) < 0)
		return 1;
	uint64_t free_bytes = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	uint64_t keep = (uint64_t)vfs.f_blocks * vfs.f_frsize / 20;
	return free_bytes >= (keep > (UINT64_C(1) << 30) ? UINT64_C(1) << 30 : keep);
}

int spool_write(struct spool *s, const void *data, size_t len, uint64_t off, char **err)
{
	int r = imgwrite_nonzero(s->fd, data, len, off, &s->since_check);

	if (r < 0)
		return report_error(err, r, "cannot write the temporary file in %s: %s", s->dir, strerror(-r));
	if (s->since_check >= CHECK_EVERY) {
		s->since_check = 0;
		if (!room_left(s->fd))
			return report_error(err, -ENOSPC, "the temporary copy of '%s' would leave too little "
					    "free in %s (less than 1 GiB, or 5%% of a smaller file system): set "
					    "TMPDIR to a file system with room for it", s->source, s->dir);
	}
	return 0;
}

int spool_finish(struct spool *s, uint64_t size, char **err)
{
	if (ftruncate(s->fd, (off_t)size) < 0)
		return report_error(err, -errno, "cannot write the temporary file in %s: %s", s->dir,
				    strerror(errno));
	return 0;
}

void spool_close(struct spool *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}
