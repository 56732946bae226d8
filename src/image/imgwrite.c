/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fdio.h"
#include "imgwrite.h"
#include "signals.h"
#include "banned.h"

/* zeros are detected per 64 KiB block so a partly filled chunk still skips
 * its empty parts; non-zero runs are written with one pwrite each */
#define ZERO_BLOCK (64u << 10)

/* True if all len bytes of buf are zero. */
static int buffer_is_zero(const void *buf, size_t len)
{
	const unsigned char *p = buf;

	/* check a short prefix, then compare the buffer with itself shifted */
	for (size_t i = 0; i < len && i < 16; i++)
		if (p[i])
			return 0;
	return len <= 16 || memcmp(p, p + 16, len - 16) == 0;
}

int imgwrite_nonzero(int fd, const void *data, size_t len, uint64_t off, uint64_t *written)
{
	const unsigned char *buf = data;
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
		int r = pwrite_full(fd, buf + start, end - start, off + start);
		if (r < 0)
			return r;
		*written += end - start;
	}
	return 0;
}

/* ---- the ring: filled chunks go to the writer thread in order ---- */

struct ring {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct imgchunk slots[IMGWRITE_BUFFERS];
	size_t head, count;          /* filled chunks waiting: slots[head..] */
	unsigned char *free_bufs[IMGWRITE_BUFFERS];
	size_t nfree;
	int eof;                     /* the producer is done */
	int stop;                    /* give up: an error on either side */
	int write_err;               /* the writer's -errno */
	int out_fd;
	uint64_t written;
};

static void *writer_main(void *arg)
{
	struct ring *q = arg;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		while (q->count == 0 && !q->eof && !q->stop)
			pthread_cond_wait(&q->changed, &q->lock);
		if (q->stop || q->count == 0)
			break;
		struct imgchunk c = q->slots[q->head];
		pthread_mutex_unlock(&q->lock);

		uint64_t written = 0;
		int r = imgwrite_nonzero(q->out_fd, c.buf, c.len, c.off, &written);
		/* start writing the chunk back now rather than at the final
		 * fsync, so the disk works while the next chunks are copied (a
		 * hint: not a flush, and the fsync still reports any error) */
		if (r == 0 && written > 0)
			(void)sync_file_range(q->out_fd, (off64_t)c.off, (off64_t)c.len,
					      SYNC_FILE_RANGE_WRITE);

		pthread_mutex_lock(&q->lock);
		q->written += written;
		q->head = (q->head + 1) % IMGWRITE_BUFFERS;
		q->count--;
		q->free_bufs[q->nfree++] = c.buf;
		if (r < 0) {
			q->write_err = r;
			q->stop = 1;
		}
		pthread_cond_broadcast(&q->changed);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

int imgwrite_run(const struct imgwrite_job *job, struct imgwrite_stats *stats,
		 enum imgwrite_stage *stage)
{
	struct ring q = { .out_fd = job->out_fd };
	pthread_t writer;
	int r = 0, started;

	stats->read = stats->written = 0;
	*stage = IMGWRITE_READ;
	for (size_t i = 0; i < IMGWRITE_BUFFERS; i++) {
		void *b;
		if (posix_memalign(&b, 4096, IMGWRITE_CHUNK) != 0) {
			r = -ENOMEM;
			goto out_free;
		}
		q.free_bufs[q.nfree++] = b;
	}
	pthread_mutex_init(&q.lock, NULL);
	pthread_cond_init(&q.changed, NULL);
	started = pthread_create(&writer, NULL, writer_main, &q);
	if (started != 0) {
		r = -started;
		goto out_destroy;
	}

	for (;;) {
		struct imgchunk c = { .cap = IMGWRITE_CHUNK };

		pthread_mutex_lock(&q.lock);
		while (q.nfree == 0 && !q.stop)
			pthread_cond_wait(&q.changed, &q.lock);
		if (q.stop) {
			pthread_mutex_unlock(&q.lock);
			break;
		}
		c.buf = q.free_bufs[--q.nfree];
		pthread_mutex_unlock(&q.lock);

		if (signal_pending())
			r = -EINTR;
		else
			r = job->fill(job->fill_ctx, &c);
		pthread_mutex_lock(&q.lock);
		if (r <= 0 || c.len == 0) {
			q.free_bufs[q.nfree++] = c.buf;
			if (r < 0)
				q.stop = 1;
			else if (r == 0)
				q.eof = 1;
			pthread_cond_broadcast(&q.changed);
			pthread_mutex_unlock(&q.lock);
			if (r <= 0)
				break;
			continue;
		}
		q.slots[(q.head + q.count) % IMGWRITE_BUFFERS] = c;
		q.count++;
		pthread_cond_broadcast(&q.changed);
		pthread_mutex_unlock(&q.lock);
		stats->read += c.len;
		if (job->progress)
			job->progress(c.off + c.len, job->total, job->userdata);
	}
	pthread_mutex_lock(&q.lock);
	q.eof = 1;
	pthread_cond_broadcast(&q.changed);
	pthread_mutex_unlock(&q.lock);
	pthread_join(writer, NULL);
	stats->written = q.written;
	/* the chunks a writer that gave up left unwritten */
	for (; q.count > 0; q.count--, q.head = (q.head + 1) % IMGWRITE_BUFFERS)
		q.free_bufs[q.nfree++] = q.slots[q.head].buf;

	if (q.write_err < 0) {
		*stage = IMGWRITE_WRITE;
		r = q.write_err;
	} else if (r == 0 && signal_pending()) {
		r = -EINTR;
	} else if (r == 0) {
		*stage = IMGWRITE_FLUSH;
		if (fsync(job->out_fd) < 0)
			r = -errno;
		else if (job->progress)
			job->progress(job->total, job->total, job->userdata);
	}

out_destroy:
	pthread_cond_destroy(&q.changed);
	pthread_mutex_destroy(&q.lock);
out_free:
	/* every buffer is back in the free list once the writer has ended */
	for (size_t i = 0; i < q.nfree; i++)
		free(q.free_bufs[i]);
	return r;
}

/* ---- producers ---- */

static const unsigned char zeros[ZERO_BLOCK];

/* how far ahead of the chunk being read the kernel is asked to read */
#define READ_AHEAD (16u << 20)

static void hash_zeros(struct imgwrite_raw *w, uint64_t len)
{
	while (len > 0) {
		size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
		w->hash(w->hash_ctx, zeros, n);
		len -= n;
	}
}

/* The data region at or after off: [*data, *end). Falls back to "all data"
 * where the file system cannot tell (block devices, old kernels). -EIO if
 * the file has become shorter than size. */
static int next_data(int fd, uint64_t off, uint64_t size, uint64_t *data, uint64_t *end)
{
	off_t d = lseek(fd, (off_t)off, SEEK_DATA);

	if (d < 0) {
		struct stat st;

		if (errno != ENXIO) {
			*data = off;
			*end = size;
			return 0;
		}
		/* no data after off: a hole to the end, or the end moved */
		if (fstat(fd, &st) < 0)
			return -errno;
		if (S_ISREG(st.st_mode) && (uint64_t)st.st_size < size)
			return -EIO;
		*data = *end = size;
		return 0;
	}
	off_t h = lseek(fd, d, SEEK_HOLE);
	*data = (uint64_t)d < size ? (uint64_t)d : size;
	*end = h < 0 || (uint64_t)h > size ? size : (uint64_t)h;
	return 0;
}

int imgwrite_raw_fill(void *ctx, struct imgchunk *c)
{
	struct imgwrite_raw *w = ctx;
	int r;

	if (w->off >= w->data_end) {
		uint64_t data = 0, end = 0;

		if (w->off >= w->size)
			return 0;
		r = next_data(w->fd, w->off, w->size, &data, &end);
		if (r < 0)
			return r;
		if (w->hash)
			hash_zeros(w, data - w->off);
		w->off = data;
		w->data_end = end;
		if (data >= w->size)
			return 0;
	}
	c->off = w->off;
	c->len = w->data_end - w->off < c->cap ? (size_t)(w->data_end - w->off) : c->cap;
	/* keep READ_AHEAD bytes of the region requested ahead of the reader,
	 * each byte once: the kernel's own read-ahead starts small after each
	 * jump over a hole */
	uint64_t want = c->off + c->len + READ_AHEAD < w->data_end ? c->off + c->len + READ_AHEAD
								     : w->data_end;
	if (w->ra_end < c->off)
		w->ra_end = c->off;
	if (want > w->ra_end) {
		(void)posix_fadvise(w->fd, (off_t)w->ra_end, (off_t)(want - w->ra_end),
				    POSIX_FADV_WILLNEED);
		w->ra_end = want;
	}
	r = pread_full(w->fd, c->buf, c->len, c->off);
	if (r == -ENODATA)
		return -EIO;  /* the image shrank under us */
	if (r < 0)
		return r;
	if (w->hash)
		w->hash(w->hash_ctx, c->buf, c->len);
	w->off += c->len;
	return 1;
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* A chunk filled from a slow stream (a download) is handed on after this
 * long, at a ZERO_BLOCK boundary, so writing and the progress line keep up
 * with the bytes as they arrive rather than with each 4 MiB. */
#define PARTIAL_AFTER_NS 250000000u

int imgwrite_stream_fill(void *ctx, struct imgchunk *c)
{
	struct imgwrite_stream *s = ctx;
	uint64_t deadline = now_ns() + PARTIAL_AFTER_NS;

	c->len = 0;
	for (;;) {
		if (s->pend_len == 0) {
			const void *data;
			int r = s->next(s->next_ctx, &data, &s->pend_len, &s->pend_off);
			if (r < 0)
				return r;
			if (r == 0) {
				s->pend_len = 0;
				return c->len > 0;
			}
			s->pend = data;
			if (s->pend_off > s->max || s->pend_len > s->max - s->pend_off)
				return -EFBIG;
			if (s->pend_len == 0)
				continue;
		}
		if (c->len == 0)
			c->off = s->pend_off;
		else if (s->pend_off != c->off + c->len)
			return 1;             /* a hole follows: this chunk ends */
		size_t n = c->cap - c->len < s->pend_len ? c->cap - c->len : s->pend_len;
		int partial = 0;
		if (c->len + n >= ZERO_BLOCK && now_ns() >= deadline) {
			/* up to the last block boundary this data reaches */
			size_t cut = (size_t)((c->off + c->len + n) / ZERO_BLOCK * ZERO_BLOCK - c->off);
			if (cut > c->len) {
				n = cut - c->len;
				partial = 1;
			}
		}
		memcpy(c->buf + c->len, s->pend, n);
		c->len += n;
		s->pend += n;
		s->pend_len -= n;
		s->pend_off += n;
		if (c->len == c->cap || partial)
			return 1;
	}
}
