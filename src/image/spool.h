/* SPDX-License-Identifier: MIT */
/* The temporary file an import writes when qemu-img must read what a
 * download or an archive holds: unnamed (unlinked at once, so nothing is
 * left behind whatever happens), in $TMPDIR or /var/tmp, written sparse,
 * and never allowed to fill its file system. */
#ifndef QVM_SPOOL_H
#define QVM_SPOOL_H

#include <stddef.h>
#include <stdint.h>

struct spool {
	int fd;                      /* -1 until spool_open() */
	const char *dir;
	const char *source;          /* what is copied, for the messages */
	uint64_t since_check;        /* bytes written since the last look at the room left */
};

/* Creates the file. 0, or -errno with *err the reason. */
int spool_open(struct spool *s, const char *source, char **err);
/*
 * Writes len bytes at off: zeros stay holes (a stream of them costs no
 * room), and it stops before the file leaves its file system less than
 * 1 GiB (or 5% of a smaller file system) free: a small file can unpack or
 * download to far more than any disk holds. 0, or -errno with *err.
 */
int spool_write(struct spool *s, const void *data, size_t len, uint64_t off, char **err);
/* The file is size bytes long (it may end in a hole). 0, or -errno with *err. */
int spool_finish(struct spool *s, uint64_t size, char **err);
/* Closes the file (nothing if it is not open). */
void spool_close(struct spool *s);

#endif
