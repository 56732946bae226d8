/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "input.h"
#include "signals.h"
#include "strv.h"
#include "banned.h"

int input_peek(struct input *in)
{
	in->peek_len = 0;
	while (in->peek_len < sizeof(in->peek)) {
		ssize_t n;
		if (in->fetch)
			n = fetch_read(in->fetch, in->peek + in->peek_len, sizeof(in->peek) - in->peek_len);
		else
			n = pread(in->fd, in->peek + in->peek_len, sizeof(in->peek) - in->peek_len,
				  (off_t)in->peek_len);
		if (n < 0 && !in->fetch && errno == EINTR)
			continue;
		if (n < 0)
			return in->fetch ? (int)n : -errno;
		if (n == 0)
			break;
		in->peek_len += (size_t)n;
	}
	if (in->fetch) {
		int64_t size = fetch_size(in->fetch);
		in->size = size >= 0 ? (uint64_t)size : INPUT_SIZE_UNKNOWN;
	}
	return 0;
}

ssize_t input_read(struct input *in, void *buf, size_t len)
{
	ssize_t n;

	if (signal_pending())
		return -EINTR;
	if (in->stop_at && in->consumed >= in->stop_at)
		return 0;
	if (in->stop_at && len > in->stop_at - in->consumed)
		len = (size_t)(in->stop_at - in->consumed);
	if (in->fetch && in->peek_pos < in->peek_len) {
		n = (ssize_t)(in->peek_len - in->peek_pos < len ? in->peek_len - in->peek_pos : len);
		memcpy(buf, in->peek + in->peek_pos, (size_t)n);
		in->peek_pos += (size_t)n;
	} else if (in->fetch) {
		n = fetch_read(in->fetch, buf, len);
	} else {
		do
			n = read(in->fd, buf, len);
		while (n < 0 && errno == EINTR && !signal_pending());
		if (n < 0)
			return -errno;
	}
	if (n > 0) {
		if (in->hash)
			digest_update(in->hash, buf, (size_t)n);
		in->consumed += (uint64_t)n;
		if (in->on_read)
			in->on_read(in->consumed, in->size, in->on_read_ctx);
	}
	return n;
}

#define BLOCK (1u << 20)

/* A block of a slow stream is handed on after this long (and 64 KiB), so
 * what follows - the writer, the progress line - keeps up with a download. */
#define PARTIAL_AFTER_NS 250000000u
#define PARTIAL_MIN (64u << 10)

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

int input_next(void *ctx, const void **data, size_t *len, uint64_t *off)
{
	struct input *in = ctx;
	size_t have = 0;
	uint64_t deadline = now_ns() + PARTIAL_AFTER_NS;

	if (!in->block && !(in->block = malloc(BLOCK)))
		return -ENOMEM;
	/* fill the block: few, large writes downstream */
	while (have < BLOCK) {
		ssize_t n = input_read(in, in->block + have, BLOCK - have);
		if (n < 0)
			return (int)n;
		if (n == 0)
			break;
		have += (size_t)n;
		if (in->fetch && have >= PARTIAL_MIN && now_ns() >= deadline)
			break;
	}
	if (have == 0)
		return 0;
	*data = in->block;
	*len = have;
	*off = in->next_off;
	in->next_off += have;
	return 1;
}

int input_drain(struct input *in)
{
	for (;;) {
		const void *data;
		size_t len;
		uint64_t off;
		int r = input_next(in, &data, &len, &off);
		if (r <= 0)
			return r;
	}
}

/* a small file is read in steps of this, into one growing buffer */
#define SMALL_STEP (64u << 10)

int input_read_small(const char *what, size_t limit, char **text, size_t *text_len, char **why)
{
	struct input in = { .fd = -1, .size = INPUT_SIZE_UNKNOWN };
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;
	int r;

	if (fetch_is_url(what)) {
		r = fetch_open(what, &in.fetch);
		if (r < 0) {
			*why = strdup(in.fetch ? fetch_error(in.fetch) : strerror(-r));
			input_close(&in);
			return r;
		}
	} else if ((in.fd = open(what, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0) {
		r = -errno;
		if (r == -ENOENT && fetch_scheme_len(what))
			*why = strdupf("no such file, and not a URL qvm fetches: unknown scheme '%.*s' (only "
				       "http:// and https://)", (int)fetch_scheme_len(what), what);
		else
			*why = strdup(strerror(-r));
		return r;
	}
	for (;;) {
		if (cap - len < SMALL_STEP) {
			if (len + SMALL_STEP + 1 > limit) {
				input_close(&in);
				return -EFBIG;
			}
			char *grown = realloc(buf, cap = len + SMALL_STEP + 1);
			if (!grown) {
				n = -ENOMEM;
				break;
			}
			buf = grown;
		}
		n = input_read(&in, buf + len, cap - len - 1);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (n < 0)
		*why = strdup(in.fetch && n == -EIO ? fetch_error(in.fetch) : strerror((int)-n));
	input_close(&in);
	if (n < 0)
		return (int)n;
	buf[len] = '\0';
	*text = TAKE_PTR(buf);
	*text_len = len;
	return 0;
}

void input_close(struct input *in)
{
	if (in->fd >= 0)
		close(in->fd);
	in->fd = -1;
	fetch_free(in->fetch);
	in->fetch = NULL;
	digest_free(in->hash);
	in->hash = NULL;
	free(in->block);
	in->block = NULL;
}
