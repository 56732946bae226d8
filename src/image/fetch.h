/* SPDX-License-Identifier: MIT */
/* Downloading over http:// and https:// with libcurl, read like a file:
 * the transfer advances only as fast as the reader takes the bytes, so
 * memory stays small whatever the size. Redirects are followed. */
#ifndef QVM_FETCH_H
#define QVM_FETCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct fetch;

/* True if s is an http:// or https:// URL (case-insensitive scheme). */
int fetch_is_url(const char *s);
/* The length of s's URL scheme when s starts with one and "://" (RFC 3986:
 * a letter, then letters, digits, '+', '-', '.'), else 0: a source that
 * looks like a URL of a scheme qvm does not fetch ("htps://", "ftp://") is
 * told from a missing file by it. */
size_t fetch_scheme_len(const char *s);
/* url with the password of its user:password@ part (if any) as "***":
 * what qvm prints and records. malloc'd; NULL on ENOMEM. */
char *fetch_url_redacted(const char *url);

/* Starts downloading url. Returns 0 or -ENOMEM / -EINVAL (curl refused the
 * URL; fetch_error() says why, f is still returned to be freed). */
int fetch_open(const char *url, struct fetch **f);
/*
 * Up to len bytes. Returns the count, 0 at the end of a complete download,
 * -EINTR if a signal is pending, or -EIO when the download failed or was
 * cut short (fetch_error() says how).
 */
ssize_t fetch_read(struct fetch *f, void *buf, size_t len);
/* The size the server announced (Content-Length), or -1. Known once the
 * first byte has been read. */
int64_t fetch_size(struct fetch *f);
/* The Content-Length header as the server sent it, or NULL: to tell a
 * length that is not a number curl accepts from no length at all. Valid
 * until the next read. */
const char *fetch_length_header(struct fetch *f);
/* Why the download failed ("HTTP 404", curl's message). */
const char *fetch_error(struct fetch *f);
void fetch_free(struct fetch *f);

/* A URL read at offsets (a source_read_at_fn): each range request fetches
 * at least `window` bytes ending where the read ends, kept for the reads
 * that follow, so a format read backwards from its end (xz's index) takes
 * few requests. On failure, why says what went wrong. */
struct fetch_ranges {
	const char *url;
	size_t window;
	char why[256];
	/* private */
	unsigned char *buf;
	uint64_t off;
	size_t len;
};
int fetch_ranges_read(void *ctx, void *buf, size_t len, uint64_t off);
void fetch_ranges_release(struct fetch_ranges *fr);
static inline void fetch_freep(struct fetch **f) { fetch_free(*f); }

#endif
