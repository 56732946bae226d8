/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
/* the type-checking macros would hide the calls through the table below */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

#include "cleanup.h"
#include "dynlib.h"
#include "fetch.h"
#include "signals.h"
#include "banned.h"

/* The libcurl functions qvm calls, looked up on the first download (see
 * dynlib.h). */
#define CURL_FUNCS(X) \
	X(curl_easy_cleanup) \
	X(curl_easy_getinfo) \
	X(curl_easy_header) \
	X(curl_easy_init) \
	X(curl_easy_pause) \
	X(curl_easy_setopt) \
	X(curl_easy_strerror) \
	X(curl_global_init) \
	X(curl_multi_add_handle) \
	X(curl_multi_cleanup) \
	X(curl_multi_info_read) \
	X(curl_multi_init) \
	X(curl_multi_perform) \
	X(curl_multi_poll) \
	X(curl_multi_remove_handle)

static union {
	struct {
		CURL_FUNCS(DYNLIB_MEMBER)
	};
	void *slot[0 CURL_FUNCS(DYNLIB_COUNT)];
} cu_api;

static const char *const cu_names[] = { CURL_FUNCS(DYNLIB_NAME) };
#define CU_COUNT (sizeof(cu_names) / sizeof(cu_names[0]))

static __typeof__(cu_api) *cu;   /* NULL until libcurl is loaded */

#ifndef QVM_VERSION
#define QVM_VERSION "unknown"
#endif

#define BUF_SIZE (4u << 20)

struct fetch {
	CURLM *multi;
	CURL *easy;
	unsigned char *buf;
	size_t cap, start, end;      /* bytes received, not yet read: buf[start..end) */
	int paused, done;
	CURLcode result;
	char errbuf[CURL_ERROR_SIZE];
	char message[CURL_ERROR_SIZE + 64];
};

size_t fetch_scheme_len(const char *s)
{
	size_t n;

	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
		return 0;
	n = 1 + strspn(s + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");
	return strncmp(s + n, "://", 3) == 0 ? n : 0;
}

int fetch_is_url(const char *s)
{
	return strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0;
}

char *fetch_url_redacted(const char *url)
{
	const char *auth = strstr(url, "://"), *at, *colon;
	size_t len;
	char *out;

	if (!auth)
		return strdup(url);
	auth += 3;
	len = strcspn(auth, "/?#");
	at = memrchr(auth, '@', len);
	colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	if (!colon)
		return strdup(url);
	if (asprintf(&out, "%.*s***%s", (int)(colon + 1 - url), url, at) < 0)
		return NULL;
	return out;
}

static size_t on_data(char *data, size_t size, size_t n, void *userdata)
{
	struct fetch *f = userdata;
	size_t len = size * n;

	if (f->start > 0 && f->cap - f->end < len) {
		memmove(f->buf, f->buf + f->start, f->end - f->start);
		f->end -= f->start;
		f->start = 0;
	}
	if (f->cap - f->end < len) {
		if (f->end > 0) {
			f->paused = 1;
			return CURL_WRITEFUNC_PAUSE;
		}
		/* a block larger than the whole buffer (after a pause) */
		unsigned char *nb = realloc(f->buf, len);
		if (!nb)
			return 0;
		f->buf = nb;
		f->cap = len;
	}
	memcpy(f->buf + f->end, data, len);
	f->end += len;
	return len;
}

/* Every fd is close-on-exec: no socket leaks into zfs or qemu-img. */
static curl_socket_t open_socket(void *userdata, curlsocktype purpose, struct curl_sockaddr *a)
{
	(void)userdata;
	(void)purpose;
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static int setup(struct fetch *f, const char *url)
{
	CURL *e = f->easy;
	/* an https URL stays https: a redirect must not drop TLS (the
	 * checksum file, fetched the same way, is what vouches for the image) */
	const char *redirects = strncasecmp(url, "https:", 6) == 0 ? "https" : "http,https";

	return cu->curl_easy_setopt(e, CURLOPT_URL, url) ||
	       cu->curl_easy_setopt(e, CURLOPT_ERRORBUFFER, f->errbuf) ||
	       cu->curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data) ||
	       cu->curl_easy_setopt(e, CURLOPT_WRITEDATA, f) ||
	       cu->curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket) ||
	       cu->curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L) ||
	       cu->curl_easy_setopt(e, CURLOPT_MAXREDIRS, 10L) ||
	       cu->curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") ||
	       cu->curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, redirects) ||
	       cu->curl_easy_setopt(e, CURLOPT_FAILONERROR, 1L) ||
	       cu->curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) ||
	       cu->curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 512L * 1024) ||
	       cu->curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 30L) ||
	       /* a stalled server: less than 1 byte/s for a minute */
	       cu->curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L) ||
	       cu->curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, 60L) ||
	       cu->curl_easy_setopt(e, CURLOPT_USERAGENT, "qvm/" QVM_VERSION);
}

/* fetch_open() for one range of bytes ("FIRST-LAST", as in HTTP's Range), or
 * the whole file (NULL). */
static int fetch_open_range(const char *url, const char *range, struct fetch **fp)
{
	static char *load_err;
	struct fetch *f;

	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	*fp = f;
	/* loaded once; a failure leaves cu NULL and says why in load_err */
	if (!cu && !load_err &&
	    dynlib_load("libcurl.so.4", "libcurl4", cu_names, cu_api.slot, CU_COUNT, &load_err) == 0) {
		if (cu_api.curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			load_err = strdup("libcurl could not initialize");
		else
			cu = &cu_api;
	}
	if (!cu) {
		snprintf(f->message, sizeof(f->message), "%s", load_err ? load_err : strerror(ENOMEM));
		return -EINVAL;
	}
	f->cap = BUF_SIZE;
	f->buf = malloc(f->cap);
	f->multi = cu->curl_multi_init();
	f->easy = cu->curl_easy_init();
	if (!f->buf || !f->multi || !f->easy)
		return -ENOMEM;
	if (setup(f, url) != 0 ||
	    (range && cu->curl_easy_setopt(f->easy, CURLOPT_RANGE, range) != CURLE_OK) ||
	    cu->curl_multi_add_handle(f->multi, f->easy) != CURLM_OK) {
		snprintf(f->message, sizeof(f->message), "%s",
			 f->errbuf[0] ? f->errbuf : "invalid URL");
		return -EINVAL;
	}
	return 0;
}

int fetch_open(const char *url, struct fetch **fp)
{
	return fetch_open_range(url, NULL, fp);
}

static void finish(struct fetch *f, CURLcode result)
{
	long code = 0;

	f->done = 1;
	f->result = result;
	if (result == CURLE_OK)
		return;
	cu->curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &code);
	if (result == CURLE_HTTP_RETURNED_ERROR && code >= 400)
		snprintf(f->message, sizeof(f->message), "HTTP status %ld", code);
	else
		snprintf(f->message, sizeof(f->message), "%s",
			 f->errbuf[0] ? f->errbuf : cu->curl_easy_strerror(result));
}

ssize_t fetch_read(struct fetch *f, void *buf, size_t len)
{
	while (f->start == f->end) {
		int running = 0, left;
		CURLMsg *m;

		f->start = f->end = 0;
		if (f->done)
			return f->result == CURLE_OK ? 0 : -EIO;
		if (signal_pending())
			return -EINTR;
		if (f->paused) {
			f->paused = 0;
			cu->curl_easy_pause(f->easy, CURLPAUSE_CONT);
			if (f->start != f->end)
				break;
		}
		if (cu->curl_multi_perform(f->multi, &running) != CURLM_OK) {
			finish(f, CURLE_FAILED_INIT);
			continue;
		}
		while ((m = cu->curl_multi_info_read(f->multi, &left)))
			if (m->msg == CURLMSG_DONE)
				finish(f, m->data.result);
		if (f->start == f->end && !f->done && !f->paused)
			cu->curl_multi_poll(f->multi, NULL, 0, 200, NULL);
	}
	size_t n = f->end - f->start < len ? f->end - f->start : len;
	memcpy(buf, f->buf + f->start, n);
	f->start += n;
	return (ssize_t)n;
}

int64_t fetch_size(struct fetch *f)
{
	curl_off_t n = -1;

	if (cu->curl_easy_getinfo(f->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &n) != CURLE_OK)
		return -1;
	return n;
}

const char *fetch_length_header(struct fetch *f)
{
	struct curl_header *h = NULL;

	if (cu->curl_easy_header(f->easy, "Content-Length", 0, CURLH_HEADER, -1, &h) != CURLHE_OK || !h)
		return NULL;
	return h->value;
}

/*
 * Bytes [off, off + len) of url, by a range request of its own (redirects
 * followed). 0; -EOPNOTSUPP if the server answers with anything but
 * "206 Partial Content" (it sends the whole file); -EINTR; -EIO if the
 * request failed or came short. why (why_size bytes) says what went wrong.
 */
static int fetch_range(const char *url, uint64_t off, void *buf, size_t len, char *why, size_t why_size)
{
	_cleanup_(fetch_freep) struct fetch *f = NULL;
	char range[48];
	size_t got = 0;
	long code = 0;
	int r;

	if (len == 0)
		return 0;
	snprintf(range, sizeof(range), "%llu-%llu", (unsigned long long)off,
		 (unsigned long long)(off + len - 1));
	r = fetch_open_range(url, range, &f);
	while (r == 0 && got < len) {
		ssize_t n = fetch_read(f, (unsigned char *)buf + got, len - got);
		if (n < 0)
			r = (int)n;
		else if (n == 0)
			break;
		else
			got += (size_t)n;
		/* a server that ignores the range sends the whole file: stop */
		if (r == 0 && cu->curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK &&
		    code != 206) {
			snprintf(why, why_size, "the server does not answer range requests (HTTP status %ld)",
				 code);
			return -EOPNOTSUPP;
		}
	}
	if (r < 0) {
		snprintf(why, why_size, "%s", fetch_error(f));
		return r == -EINTR ? -EINTR : -EIO;
	}
	if (got < len) {
		snprintf(why, why_size, "the server sent %zu of the %zu bytes asked for", got, len);
		return -EIO;
	}
	return 0;
}

int fetch_ranges_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	struct fetch_ranges *fr = ctx;

	if (!fr->buf || off < fr->off || off + len > fr->off + fr->len) {
		size_t want = len > fr->window ? len : fr->window;
		uint64_t start = off + len > want ? off + len - want : 0;
		size_t n = (size_t)(off + len - start);
		unsigned char *nb = realloc(fr->buf, n ? n : 1);

		if (!nb) {
			snprintf(fr->why, sizeof(fr->why), "%s", strerror(ENOMEM));
			return -ENOMEM;
		}
		fr->buf = nb;
		fr->len = 0;
		int r = fetch_range(fr->url, start, nb, n, fr->why, sizeof(fr->why));
		if (r < 0)
			return r;
		fr->off = start;
		fr->len = n;
	}
	memcpy(buf, fr->buf + (off - fr->off), len);
	return 0;
}

void fetch_ranges_release(struct fetch_ranges *fr)
{
	free(fr->buf);
	fr->buf = NULL;
}

const char *fetch_error(struct fetch *f)
{
	return f && f->message[0] ? f->message : "unknown error";
}

void fetch_free(struct fetch *f)
{
	if (!f)
		return;
	if (f->multi && f->easy)
		cu->curl_multi_remove_handle(f->multi, f->easy);
	if (f->easy)
		cu->curl_easy_cleanup(f->easy);
	if (f->multi)
		cu->curl_multi_cleanup(f->multi);
	free(f->buf);
	free(f);
}
