/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "msgtext.h"
#include "strv.h"
#include "vmconsole.h"
#include "banned.h"

#define ESCAPED_MAX (CONSOLE_LINE_MAX * 2)   /* an escaped line is cut with "..." to this */

int console_log_init(struct console_log *c, const char *path)
{
	*c = (struct console_log){ .fd = -1, .path = strdup(path) };
	return c->path ? 0 : -ENOMEM;
}

void console_log_clear(struct console_log *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->path);
	free(c->last);
	free(c->final);
	strv_free(c->failures);
	*c = (struct console_log){ .fd = -1 };
}

static bool has(const char *s, size_t n, const char *needle)
{
	return memmem(s, n, needle, strlen(needle)) != NULL;
}

/* cloud-init's final message: "Cloud-init v. 22.4.2 finished at <date>.
 * Datasource ...  Up 61.32 seconds", after any console prefix. */
static bool is_final(const char *s, size_t n)
{
	const char *v = memmem(s, n, "Cloud-init v. ", 14);

	return v && has(v, n - (size_t)(v - s), " finished at ");
}

/* A module that failed, or an error logged by cloud-init (its log lines
 * are "<date> - <file>.py[LEVEL]: <message>"). */
static bool is_failure(const char *s, size_t n)
{
	if (has(s, n, "[WARNING]: Running module ") && has(s, n, " failed"))
		return true;
	if (has(s, n, "Failed to run module "))
		return true;
	if (has(s, n, ".py[ERROR]") || has(s, n, ".py[CRITICAL]"))
		return true;
	return has(s, n, "cloud-init") && (has(s, n, "[ERROR]") || has(s, n, "[CRITICAL]"));
}

/* Bytes a terminal could take for a control, or that could make the line
 * read as other text, become '?': C1 controls (U+0080..U+009F, which some
 * terminals obey as ESC [ ...), bytes that are not well-formed UTF-8 (a
 * lone 0x9b is CSI to a terminal in an 8-bit mode; overlong forms,
 * surrogates, code points past U+10FFFF), and the bidirectional controls
 * (U+061C, U+200E/F, U+202A..U+202E, U+2066..U+2069), which reorder what
 * is shown. msg_text escapes the C0 ones. */
static bool bidi_control(uint32_t cp)
{
	return cp == 0x061c || cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

static void scrub(unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t len = s[i] < 0x80 ? 1 : s[i] >= 0xc2 && s[i] <= 0xdf ? 2 : s[i] >= 0xe0 && s[i] <= 0xef ? 3
			   : s[i] >= 0xf0 && s[i] <= 0xf4 ? 4 : 0;
		bool ok = len > 0 && i + len <= n;
		uint32_t cp = len == 1 ? s[i] : len == 2 ? s[i] & 0x1fu : len == 3 ? s[i] & 0x0fu : s[i] & 0x07u;

		for (size_t k = 1; ok && k < len; k++) {
			ok = (s[i + k] & 0xc0) == 0x80;
			cp = (cp << 6) | (s[i + k] & 0x3fu);
		}
		/* the shortest form only, no surrogate, nothing past U+10FFFF */
		if (ok && ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || (cp >= 0xd800 && cp <= 0xdfff) ||
			   cp > 0x10ffff))
			ok = false;
		if (ok && ((cp >= 0x80 && cp < 0xa0) || bidi_control(cp)))
			ok = false;
		if (!ok) {
			s[i] = '?';
			continue;
		}
		i += len - 1;
	}
}

/* The line read so far is complete. */
static int end_line(struct console_log *c)
{
	char text[ESCAPED_MAX];
	size_t n = c->len;
	bool blank = true;
	int r = 0;

	c->len = 0;
	for (size_t i = 0; i < n && blank; i++)
		blank = c->line[i] == ' ' || c->line[i] == '\t' || c->line[i] == '\0';
	if (blank)
		return 0;
	scrub((unsigned char *)c->line, n);
	msg_text(text, sizeof(text), c->line, n);
	if (c->cut && strlen(text) + 4 <= sizeof(text))
		memcpy(text + strlen(text), "...", 4);
	c->cut = false;
	free(c->last);
	if (!(c->last = strdup(text)))
		return -ENOMEM;
	if (!c->final && is_final(c->line, n)) {
		if (!(c->final = strdup(text)))
			return -ENOMEM;
		/* the fallback datasource: cloud-init never read qvm's seed,
		 * so nothing of the user-data was done */
		if (has(c->line, n, "Datasource DataSourceNone")) {
			if (c->n_failures < CONSOLE_FAILURES_MAX && strv_push(&c->failures, text) < 0)
				return -ENOMEM;
			c->n_failures++;
		}
	}
	if (is_failure(c->line, n)) {
		if (c->n_failures < CONSOLE_FAILURES_MAX)
			r = strv_push(&c->failures, text);
		c->n_failures++;
	}
	return r;
}

int console_log_feed(struct console_log *c, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char ch = buf[i];
		int r = 0;

		/* a \r not followed by \n ended its line (the pair may be
		 * split between two reads) */
		if (c->cr && ch != '\n')
			r = end_line(c);
		c->cr = false;
		if (r < 0)
			return r;
		if (ch == '\n') {
			r = end_line(c);
			if (r < 0)
				return r;
		} else if (ch == '\r') {
			c->cr = true;
		} else if (c->len < sizeof(c->line)) {
			c->line[c->len++] = ch;
		} else {
			c->cut = true;
		}
	}
	return 0;
}

void console_log_skip_existing(struct console_log *c, dev_t dev, ino_t ino, uint64_t size,
			       const unsigned char *tail, size_t tail_len)
{
	c->skip = true;
	c->skip_dev = dev;
	c->skip_ino = ino;
	c->skip_size = size;
	c->skip_tail_len = tail_len < CONSOLE_TAIL_MAX ? tail_len : CONSOLE_TAIL_MAX;
	memcpy(c->skip_tail, tail, c->skip_tail_len);
}

size_t console_log_tail(int fd, uint64_t size, unsigned char tail[CONSOLE_TAIL_MAX])
{
	size_t n = size < CONSOLE_TAIL_MAX ? (size_t)size : CONSOLE_TAIL_MAX;
	ssize_t got = n ? pread(fd, tail, n, (off_t)(size - n)) : 0;

	return got == (ssize_t)n ? n : 0;
}

/* Reads again from the start of the file (truncated, or a new one). */
static void restart(struct console_log *c)
{
	c->offset = 0;
	c->len = 0;
	c->cut = false;
	c->cr = false;
}

static int fail(char **err, int e, const char *what, const char *path)
{
	free(*err);
	*err = strdupf("cannot %s %s: %s", what, path, strerror(e));
	return -e;
}

static int open_log(struct console_log *c, char **err)
{
	struct stat st;
	int fd = open(c->path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? 0 : fail(err, errno, "open", c->path);
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return fail(err, e, "read", c->path);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		free(*err);
		*err = strdupf("cannot read %s: not a regular file", c->path);
		return -EINVAL;
	}
	c->fd = fd;
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	/* the file as it was before the domain started: an earlier boot's
	 * lines (its final message too) are not this one's */
	if (c->skip && st.st_dev == c->skip_dev && st.st_ino == c->skip_ino && c->offset == 0 &&
	    (uint64_t)st.st_size >= c->skip_size) {
		unsigned char tail[CONSOLE_TAIL_MAX];
		if (console_log_tail(fd, c->skip_size, tail) == c->skip_tail_len &&
		    memcmp(tail, c->skip_tail, c->skip_tail_len) == 0)
			c->offset = c->skip_size;
	}
	c->skip = false;
	return 1;
}

/* At the end of the open file: is the path now another file? */
static bool replaced(const struct console_log *c)
{
	struct stat st;

	return stat(c->path, &st) == 0 && (st.st_dev != c->dev || st.st_ino != c->ino);
}

int console_log_poll(struct console_log *c, size_t max, char **err)
{
	char buf[65536];
	size_t done = 0;
	struct stat st;
	int r;

	if (c->fd < 0) {
		r = open_log(c, err);
		if (r <= 0)
			return r;
	}
	if (fstat(c->fd, &st) < 0)
		return fail(err, errno, "read", c->path);
	if ((uint64_t)st.st_size < c->offset)
		restart(c);
	while (done < max) {
		size_t want = max - done < sizeof(buf) ? max - done : sizeof(buf);
		ssize_t got = pread(c->fd, buf, want, (off_t)c->offset);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return fail(err, errno, "read", c->path);
		if (got == 0) {
			if (!replaced(c))
				return 0;
			/* rotated: the old file is read to its end; the new one
			 * continues the same stream */
			close(c->fd);
			c->fd = -1;
			c->offset = 0;
			r = open_log(c, err);
			if (r <= 0)
				return r;
			continue;
		}
		c->offset += (uint64_t)got;
		done += (size_t)got;
		r = console_log_feed(c, buf, (size_t)got);
		if (r < 0)
			return r;
	}
	return 1;
}
