/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
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

/* Bytes a terminal could take for a control: C1 controls (U+0080..U+009F,
 * which some terminals obey as ESC [ ...) and bytes that are not UTF-8
 * (a lone 0x9b is CSI to a terminal in an 8-bit mode) become '?'.
 * msg_text escapes the C0 ones. */
static void scrub(unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t len = s[i] < 0x80 ? 1 : s[i] >= 0xc2 && s[i] <= 0xdf ? 2 : s[i] >= 0xe0 && s[i] <= 0xef ? 3
			   : s[i] >= 0xf0 && s[i] <= 0xf4 ? 4 : 0;
		bool ok = len > 0 && i + len <= n;
		for (size_t k = 1; ok && k < len; k++)
			ok = (s[i + k] & 0xc0) == 0x80;
		if (ok && s[i] == 0xc2 && s[i + 1] < 0xa0)
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
	if (!c->final && is_final(c->line, n) && !(c->final = strdup(text)))
		return -ENOMEM;
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
		if (ch == '\n') {
			int r = end_line(c);
			if (r < 0)
				return r;
		} else if (ch == '\r') {
			/* "\r\n" from the serial line; a lone \r would redraw the
			 * line on a terminal: dropped either way */
		} else if (c->len < sizeof(c->line)) {
			c->line[c->len++] = ch;
		} else {
			c->cut = true;
		}
	}
	return 0;
}

/* Reads again from the start of the file (truncated, or a new one). */
static void restart(struct console_log *c)
{
	c->offset = 0;
	c->len = 0;
	c->cut = false;
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
