/* SPDX-License-Identifier: MIT */
/* Copies a raw image onto a freshly created (all-zero) device: only the
 * regions that hold data are read, only non-zero blocks are written, in
 * large writes, with one flush at the end. */
#ifndef QVM_IMGWRITE_H
#define QVM_IMGWRITE_H

#include <stdint.h>

/* Which side failed, for the error message. */
enum imgwrite_stage { IMGWRITE_READ, IMGWRITE_WRITE, IMGWRITE_FLUSH };

struct imgwrite_stats {
	uint64_t read;               /* bytes read from the image */
	uint64_t written;            /* bytes written to the device */
};

/* Called after each chunk with the image offset reached. */
typedef void (*imgwrite_progress_fn)(uint64_t done, uint64_t total, void *userdata);

/*
 * Writes the first size bytes of in_fd to out_fd at the same offsets.
 * out_fd must read as zeros wherever nothing is written. Returns 0, -EINTR
 * if a signal is pending, or -errno with *stage saying what failed.
 */
int image_write(int in_fd, uint64_t size, int out_fd, struct imgwrite_stats *stats,
		enum imgwrite_stage *stage, imgwrite_progress_fn progress, void *userdata);

/* True if all len bytes of buf are zero. */
int buffer_is_zero(const void *buf, size_t len);

#endif
