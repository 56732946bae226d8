/* SPDX-License-Identifier: MIT */
/* The first bytes of a stream of blocks, read ahead and kept, then handed
 * out again in order: so that what a stream holds (a tar? a disk?) can be
 * looked at before anything is written or decided. */
#ifndef QVM_LOOKAHEAD_H
#define QVM_LOOKAHEAD_H

#include <stddef.h>
#include <stdint.h>

/* A block source as struct imgwrite_stream's next(): 1 with *len bytes at
 * *data (valid until the next call) for stream offset *off, offsets
 * increasing (a jump forward is a hole), 0 at the end, or -errno. */
typedef int (*block_next_fn)(void *ctx, const void **data, size_t *len, uint64_t *off);

struct lookahead {
	block_next_fn next;
	void *ctx;
	unsigned char *head;         /* the stream's bytes [0, head_len), holes as zeros */
	size_t head_len;
	int ended;                   /* the stream ended within head */
	/* private */
	size_t cap;
	const unsigned char *rest;   /* what the last block read held past head */
	size_t rest_len;
	uint64_t rest_off;
	int state;
};

/* Reads ahead until head holds want bytes or the stream ends. 0 or -errno
 * (the source's). Call once, before the first lookahead_next(). */
int lookahead_fill(struct lookahead *la, size_t want);
/* As block_next_fn (ctx is the struct lookahead): the kept bytes, then the
 * rest of the stream. */
int lookahead_next(void *ctx, const void **data, size_t *len, uint64_t *off);
void lookahead_clear(struct lookahead *la);

#endif
