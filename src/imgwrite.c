/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "imgwrite.h"
#include "signals.h"
#include "banned.h"

/* 4 MiB chunks keep syscalls few; zeros are detected per 64 KiB block so a
 * partly filled chunk still skips its empty parts. */
#define CHUNK (4u << 20)
#define ZERO_BLOCK (64u << 10)

int buffer_is_zero(const void *buf, size_t len)
{
	const unsigned char *p = buf;

	/* check a short prefix, then compare the buffer with itself shifted */
	for (size_t i = 0; i < len && i < 16; i++)
		if (p[i])
			return 0;
	return len <= 16 || memcmp(p, p + 16, len - 16) == 0;
}

static int pwrite_all(int fd, const unsigned char *buf, size_t len, uint64_t off)
{
	while (len > 0) {
		ssize_t n = pwrite(fd, buf, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ENOSPC;
		buf += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static int pread_all(int fd, unsigned char *buf, size_t len, uint64_t off)
{
	while (len > 0) {
		ssize_t n = pread(fd, buf, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;  /* the image shrank under us */
		buf += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Writes the non-zero blocks of buf (image offset off) as long runs. */
static int write_nonzero(int fd, const unsigned char *buf, size_t len, uint64_t off,
			 uint64_t *written)
{
	size_t pos = 0;

	while (pos < len) {
		size_t start, end;

		while (pos < len) {
			size_t b = len - pos < ZERO_BLOCK ? len - pos : ZERO_BLOCK;
			if (!buffer_is_zero(buf + pos, b))
				break;
			pos += b;
		}
		if (pos >= len)
			break;
		start = pos;
		while (pos < len) {
			size_t b = len - pos < ZERO_BLOCK ? len - pos : ZERO_BLOCK;
			if (buffer_is_zero(buf + pos, b))
				break;
			pos += b;
		}
		end = pos;
		int r = pwrite_all(fd, buf + start, end - start, off + start);
		if (r < 0)
			return r;
		*written += end - start;
	}
	return 0;
}

/* Next data region at or after off: [*data, *hole). Falls back to "all
 * data" where the file system cannot tell (block devices, old kernels). */
static void next_data(int fd, uint64_t off, uint64_t size, uint64_t *data, uint64_t *hole)
{
	off_t d = lseek(fd, (off_t)off, SEEK_DATA);

	if (d < 0) {
		if (errno == ENXIO) {          /* only a hole until the end */
			*data = *hole = size;
			return;
		}
		*data = off;
		*hole = size;
		return;
	}
	off_t h = lseek(fd, d, SEEK_HOLE);
	*data = (uint64_t)d < size ? (uint64_t)d : size;
	*hole = h < 0 || (uint64_t)h > size ? size : (uint64_t)h;
}

int image_write(int in_fd, uint64_t size, int out_fd, struct imgwrite_stats *stats,
		enum imgwrite_stage *stage, imgwrite_progress_fn progress, void *userdata)
{
	_cleanup_free_ unsigned char *buf = NULL;
	uint64_t off = 0;
	int r;

	stats->read = stats->written = 0;
	*stage = IMGWRITE_READ;
	if (posix_memalign((void **)&buf, 4096, CHUNK) != 0)
		return -ENOMEM;

	while (off < size) {
		uint64_t data, hole;

		next_data(in_fd, off, size, &data, &hole);
		if (data >= size)
			break;
		for (off = data; off < hole;) {
			size_t len = hole - off < CHUNK ? (size_t)(hole - off) : CHUNK;

			if (signal_pending())
				return -EINTR;
			*stage = IMGWRITE_READ;
			r = pread_all(in_fd, buf, len, off);
			if (r < 0)
				return r;
			stats->read += len;
			*stage = IMGWRITE_WRITE;
			r = write_nonzero(out_fd, buf, len, off, &stats->written);
			if (r < 0)
				return r;
			off += len;
			if (progress)
				progress(off, size, userdata);
		}
	}
	if (signal_pending())
		return -EINTR;
	*stage = IMGWRITE_FLUSH;
	if (fsync(out_fd) < 0)
		return -errno;
	if (progress)
		progress(size, size, userdata);
	return 0;
}
