/* SPDX-License-Identifier: MIT */
/* Whole reads and writes on file descriptors: a short count is carried
 * on, EINTR retried, so a caller sees all the bytes or an error. */
#ifndef QVM_FDIO_H
#define QVM_FDIO_H

#include <stddef.h>
#include <stdint.h>

/* Writes all len bytes: 0, -ENOSPC when fd takes no more, or -errno. */
int write_full(int fd, const void *buf, size_t len);
/* The same at offset off (the file position is left alone). */
int pwrite_full(int fd, const void *buf, size_t len, uint64_t off);
/* Reads exactly len bytes at offset off: 0, -ENODATA when the file ends
 * first, or -errno. */
int pread_full(int fd, void *buf, size_t len, uint64_t off);

/* The whole of a regular file, at most max bytes, NUL-terminated: 0 or
 * -errno (-EFBIG: larger, -EBADF: not a regular file; a FIFO in its place
 * does not block). */
int read_file_small(const char *path, size_t max, char **out, size_t *len);

#endif
