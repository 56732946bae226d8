/* SPDX-License-Identifier: MIT */
/* Writes an image onto a freshly created (all-zero) device: a producer
 * fills 4 MiB buffers (from a raw file, skipping its holes, or from a
 * stream), a writer thread writes their non-zero blocks in large writes
 * while the next buffers are being filled and starts each chunk's
 * writeback at once, and one flush ends it. At most IMGWRITE_BUFFERS
 * buffers exist, whatever the image size. */
#ifndef QVM_IMGWRITE_H
#define QVM_IMGWRITE_H

#include <stddef.h>
#include <stdint.h>

#define IMGWRITE_CHUNK (4u << 20)
#define IMGWRITE_BUFFERS 4

/* Writes only the non-zero 64 KiB blocks of data (at file offset off), as
 * long runs, onto a file that reads as zeros where nothing is written: a
 * zvol just created, a new temporary file. Adds what it wrote to *written.
 * 0 or -errno. */
int imgwrite_nonzero(int fd, const void *data, size_t len, uint64_t off, uint64_t *written);

/* Which side failed, for the error message. */
enum imgwrite_stage { IMGWRITE_READ, IMGWRITE_WRITE, IMGWRITE_FLUSH };

struct imgwrite_stats {
	uint64_t read;               /* image bytes produced (holes not counted) */
	uint64_t written;            /* bytes written to the device */
};

/* A buffer to fill: up to cap bytes of the image starting at offset off. */
struct imgchunk {
	unsigned char *buf;
	size_t cap;
	uint64_t off;
	size_t len;
};

/* Fills c->buf, sets c->off and c->len. Returns 1 with a chunk, 0 at the
 * end of the image, or -errno. Runs in the calling thread. */
typedef int (*imgwrite_fill_fn)(void *ctx, struct imgchunk *c);
/* Called after each chunk with the image offset reached. */
typedef void (*imgwrite_progress_fn)(uint64_t done, uint64_t total, void *userdata);

struct imgwrite_job {
	imgwrite_fill_fn fill;
	void *fill_ctx;
	int out_fd;                  /* reads as zeros wherever nothing is written */
	uint64_t total;              /* image size, for progress */
	imgwrite_progress_fn progress;   /* may be NULL */
	void *userdata;
};

/*
 * Runs the job to the end and fsyncs out_fd. Returns 0, -EINTR if a signal
 * is pending, or -errno with *stage saying which side failed (a fill error
 * is IMGWRITE_READ).
 */
int imgwrite_run(const struct imgwrite_job *job, struct imgwrite_stats *stats,
		 enum imgwrite_stage *stage);

/* A raw image file read with pread: only its data regions (SEEK_DATA),
 * holes skipped. A file that shrinks during the run fails it with -EIO. If
 * hash is set, every byte of the image, holes as zeros, is passed to it in
 * order. */
struct imgwrite_raw {
	int fd;
	uint64_t size;
	void (*hash)(void *hash_ctx, const void *buf, size_t len);
	void *hash_ctx;
	/* private */
	uint64_t off, data_end, ra_end;
};
int imgwrite_raw_fill(void *ctx, struct imgchunk *c);

/* A sequential source of blocks: next() returns 1 with *len bytes at *data
 * (valid until the next call) for image offset *off, offsets increasing (a
 * jump forward is a hole), 0 at the end, or -errno. An image longer than
 * max fails with -EFBIG. */
struct imgwrite_stream {
	int (*next)(void *next_ctx, const void **data, size_t *len, uint64_t *off);
	void *next_ctx;
	uint64_t max;
	/* private: the rest of the last block */
	const unsigned char *pend;
	size_t pend_len;
	uint64_t pend_off;
};
int imgwrite_stream_fill(void *ctx, struct imgchunk *c);

#endif
