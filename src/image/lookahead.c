/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lookahead.h"
#include "banned.h"

enum { HEAD_NEXT, REST_NEXT, PASS };

int lookahead_fill(struct lookahead *la, size_t want)
{
	la->head = calloc(1, want ? want : 1);
	if (!la->head)
		return -ENOMEM;
	la->cap = want;
	la->state = HEAD_NEXT;
	while (la->head_len < want) {
		const void *data;
		size_t len;
		uint64_t off;
		int r = la->next(la->ctx, &data, &len, &off);
		if (r < 0)
			return r;
		if (r == 0) {
			la->ended = 1;
			break;
		}
		if (off >= want) {
			/* a hole reaches past what is kept: zeros up to it */
			la->head_len = want;
			la->rest = data;
			la->rest_len = len;
			la->rest_off = off;
			break;
		}
		size_t in = len < want - off ? len : (size_t)(want - off);
		memcpy(la->head + off, data, in);
		if (off + in > la->head_len)
			la->head_len = (size_t)(off + in);
		if (in < len) {
			la->rest = (const unsigned char *)data + in;
			la->rest_len = len - in;
			la->rest_off = off + in;
		}
	}
	return 0;
}

int lookahead_next(void *ctx, const void **data, size_t *len, uint64_t *off)
{
	struct lookahead *la = ctx;

	if (la->state == HEAD_NEXT) {
		la->state = REST_NEXT;
		if (la->head_len > 0) {
			*data = la->head;
			*len = la->head_len;
			*off = 0;
			return 1;
		}
	}
	if (la->state == REST_NEXT) {
		la->state = PASS;
		if (la->rest_len > 0) {
			*data = la->rest;
			*len = la->rest_len;
			*off = la->rest_off;
			return 1;
		}
	}
	if (la->ended)
		return 0;
	return la->next(la->ctx, data, len, off);
}

void lookahead_clear(struct lookahead *la)
{
	free(la->head);
	memset(la, 0, sizeof(*la));
}
