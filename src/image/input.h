/* SPDX-License-Identifier: MIT */
/* The bytes of an image source, local file or URL, read once from the
 * start: the first ones can be looked at before anything is decided, and
 * every byte read is passed to the checksum, if there is one. */
#ifndef QVM_INPUT_H
#define QVM_INPUT_H

#include <stdint.h>
#include <sys/types.h>

#include "fetch.h"
#include "digest.h"
#include "source.h"

#define INPUT_SIZE_UNKNOWN UINT64_MAX

struct input {
	int fd;                      /* a local file (pread/read), or -1 */
	struct fetch *fetch;         /* a download, or NULL */
	uint64_t size;               /* file size or Content-Length, or unknown */
	struct digest *hash;         /* fed with every byte read, or NULL */
	uint64_t consumed;           /* bytes read so far */
	uint64_t stop_at;            /* if not 0: input_read() ends there */
	unsigned char peek[SOURCE_PEEK];
	size_t peek_len;             /* bytes in peek (fewer for a short source) */
	size_t peek_pos;             /* of a download, how much read() replayed */
	unsigned char *block;        /* input_next()'s buffer */
	uint64_t next_off;
	/* if set: told of every read, with consumed (a download's progress
	 * moves as its bytes arrive, not a block at a time) */
	void (*on_read)(uint64_t consumed, uint64_t total, void *ctx);
	void *on_read_ctx;
};

/*
 * Reads the first bytes into in->peek (a local file with pread, leaving
 * its offset at 0; a download keeps them to hand out again). For a
 * download, sets in->size from Content-Length. Returns 0 or as input_read().
 */
int input_peek(struct input *in);
/* The next bytes: count, 0 at the end, or -errno (a download: -EIO, see
 * fetch_error(), or -EINTR). */
ssize_t input_read(struct input *in, void *buf, size_t len);

/* As struct imgwrite_stream's next(): the input's bytes from where it is,
 * in blocks of up to 1 MiB at offsets counted from 0. ctx is the input. */
int input_next(void *ctx, const void **data, size_t *len, uint64_t *off);
/* Reads and discards the rest (so the checksum covers every byte). */
int input_drain(struct input *in);
/*
 * The whole of a small file, local or downloaded (a checksum file): *text
 * (malloc'd) NUL-terminated, *text_len bytes before the NUL. 0; -EFBIG if
 * it is longer than limit; or -errno with *why (malloc'd) the reason (a
 * download's own words).
 */
int input_read_small(const char *what, size_t limit, char **text, size_t *text_len, char **why);
/* Closes the file or download and frees everything. */
void input_close(struct input *in);

#endif
