/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fdio.h"
#include "hostkeys.h"
#include "strv.h"
#include "banned.h"

#define BEGIN_MARK "-----BEGIN SSH HOST KEY KEYS-----"
#define END_MARK "-----END SSH HOST KEY KEYS-----"

/* ---- a key's wire format (RFC 4253 6.6, RFC 5656 3.1, RFC 8709 4) ---- */

/* The next string of a key blob: a 32-bit big-endian length, the bytes. */
static bool next_string(const unsigned char **p, size_t *left, const unsigned char **s, size_t *len)
{
	uint32_t n;

	if (*left < 4)
		return false;
	n = (uint32_t)(*p)[0] << 24 | (uint32_t)(*p)[1] << 16 | (uint32_t)(*p)[2] << 8 | (*p)[3];
	if (n > *left - 4)
		return false;
	*s = *p + 4;
	*len = n;
	*p += 4 + (size_t)n;
	*left -= 4 + (size_t)n;
	return true;
}

static bool is_text(const unsigned char *s, size_t len, const char *text)
{
	return len == strlen(text) && memcmp(s, text, len) == 0;
}

static bool check_ed25519(const unsigned char *p, size_t left, const char *curve)
{
	const unsigned char *key;
	size_t len;

	(void)curve;
	return next_string(&p, &left, &key, &len) && len == 32 && left == 0;
}

/* The curve's name, then its point uncompressed (0x04, X, Y). */
static bool check_ecdsa(const unsigned char *p, size_t left, const char *curve)
{
	static const struct { const char *name; size_t point; } curves[] = {
		{ "nistp256", 65 }, { "nistp384", 97 }, { "nistp521", 133 },
	};
	const unsigned char *s, *q;
	size_t len, qlen;

	if (!next_string(&p, &left, &s, &len) || !is_text(s, len, curve) ||
	    !next_string(&p, &left, &q, &qlen) || left != 0)
		return false;
	for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
		if (strcmp(curves[i].name, curve) == 0)
			return qlen == curves[i].point && q[0] == 0x04;
	return false;
}

/* e, then n: at least 1024 bits (what OpenSSH still accepts), at most 16384. */
static bool check_rsa(const unsigned char *p, size_t left, const char *curve)
{
	const unsigned char *e, *n;
	size_t elen, nlen;

	(void)curve;
	return next_string(&p, &left, &e, &elen) && elen >= 1 && elen <= 16 &&
	       next_string(&p, &left, &n, &nlen) && nlen >= 128 && nlen <= 2049 && left == 0;
}

static const struct key_type {
	const char *name;
	const char *curve;
	bool (*check)(const unsigned char *fields, size_t len, const char *curve);
} key_types[] = {
	{ "ssh-ed25519", NULL, check_ed25519 },
	{ "ecdsa-sha2-nistp256", "nistp256", check_ecdsa },
	{ "ecdsa-sha2-nistp384", "nistp384", check_ecdsa },
	{ "ecdsa-sha2-nistp521", "nistp521", check_ecdsa },
	{ "ssh-rsa", NULL, check_rsa },
};

static const struct key_type *key_type_of(const char *s, size_t len)
{
	for (size_t i = 0; i < sizeof(key_types) / sizeof(key_types[0]); i++)
		if (strlen(key_types[i].name) == len && memcmp(key_types[i].name, s, len) == 0)
			return &key_types[i];
	return NULL;
}

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Canonical base64 (padded, no other characters, unused bits zero) into
 * out (room for len / 4 * 3 bytes): the decoded length, or -1. */
static long b64_decode(const char *s, size_t len, unsigned char *out)
{
	size_t pad = 0, n = 0;

	if (len == 0 || len % 4 != 0)
		return -1;
	while (pad < 2 && s[len - 1 - pad] == '=')
		pad++;
	for (size_t i = 0; i < len; i += 4) {
		uint32_t v = 0;
		for (size_t j = 0; j < 4; j++) {
			int d = 0;
			if (i + j < len - pad) {
				d = b64_value((unsigned char)s[i + j]);
				if (d < 0)
					return -1;
			}
			v = v << 6 | (uint32_t)d;
		}
		out[n++] = (unsigned char)(v >> 16);
		out[n++] = (unsigned char)(v >> 8);
		out[n++] = (unsigned char)v;
	}
	/* the bits padding leaves over must be zero, or two texts are one key */
	if ((pad == 1 && out[n - 1] != 0) || (pad == 2 && (out[n - 2] != 0 || out[n - 1] != 0)))
		return -1;
	return (long)(n - pad);
}

/* True if b64 (len characters) is a public key of type t. */
static bool key_valid(const struct key_type *t, const char *b64, size_t len)
{
	unsigned char blob[HOSTKEYS_LINE_MAX / 4 * 3];
	const unsigned char *p = blob, *name;
	size_t left, nlen;
	long n;

	if (len > HOSTKEYS_LINE_MAX)
		return false;
	n = b64_decode(b64, len, blob);
	if (n < 0)
		return false;
	left = (size_t)n;
	/* the blob names its own type: it must be the one the line says */
	if (!next_string(&p, &left, &name, &nlen) || !is_text(name, nlen, t->name))
		return false;
	return t->check(p, left, t->curve);
}

/* ---- one line ---- */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* len without the trailing "\r", "\n" and blanks. */
static size_t trimmed(const char *line, size_t len)
{
	while (len && (is_blank(line[len - 1]) || line[len - 1] == '\r' || line[len - 1] == '\n'))
		len--;
	return len;
}

bool hostkey_line_parse(const char *line, size_t len, struct hostkey *k)
{
	const struct key_type *t = NULL;
	size_t i = 0, tok, b64, b64_end;
	char *copy;

	if (len > HOSTKEYS_LINE_MAX)
		return false;
	len = trimmed(line, len);
	/* the first word that names a key type: what comes before it is the
	 * prefix the console's writers put before each line */
	while (i < len && !t) {
		while (i < len && is_blank(line[i]))
			i++;
		tok = i;
		while (i < len && !is_blank(line[i]))
			i++;
		if (i > tok)
			t = key_type_of(line + tok, i - tok);
	}
	if (!t)
		return false;
	while (i < len && is_blank(line[i]))
		i++;
	b64 = i;
	while (i < len && !is_blank(line[i]))
		i++;
	b64_end = i;
	if (!key_valid(t, line + b64, b64_end - b64))
		return false;
	/* the comment (dropped) is text, nothing the terminal would act on */
	for (; i < len; i++)
		if (!is_blank(line[i]) && ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] > 0x7e))
			return false;
	copy = strndup(line + b64, b64_end - b64);
	if (!copy)
		return false;
	k->type = t->name;
	k->base64 = copy;
	return true;
}

/* ---- the block ---- */

static bool ends_with(const char *line, size_t len, const char *mark)
{
	size_t n = strlen(mark);

	return len >= n && memcmp(line + len - n, mark, n) == 0;
}

void hostkeys_clear(struct hostkeys *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->k[i].base64);
	memset(k, 0, sizeof(*k));
}

void hostkeys_parser_init(struct hostkeys_parser *p)
{
	memset(p, 0, sizeof(*p));
}

static void add_key(struct hostkeys *h, struct hostkey *k)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->k[i].type == k->type && strcmp(h->k[i].base64, k->base64) == 0) {
			free(k->base64);
			return;
		}
	if (h->n == HOSTKEYS_MAX) {
		free(k->base64);
		h->skipped++;
		return;
	}
	h->k[h->n++] = *k;
}

int hostkeys_parser_feed(struct hostkeys_parser *p, const char *line, size_t len)
{
	struct hostkey k;

	if (p->cur.complete)
		return 1;
	/* before trimming: the reader passes a line cut at the limit as
	 * one byte longer than it, whatever that byte is */
	if (len > HOSTKEYS_LINE_MAX) {
		if (p->in_block)
			p->cur.skipped++;
		return 0;
	}
	len = trimmed(line, len);
	if (ends_with(line, len, BEGIN_MARK)) {
		hostkeys_clear(&p->cur);
		p->in_block = true;
		return 0;
	}
	if (!p->in_block)
		return 0;
	if (ends_with(line, len, END_MARK)) {
		p->in_block = false;
		p->cur.complete = true;
		return 1;
	}
	if (!hostkey_line_parse(line, len, &k)) {
		/* a line of something else, or no memory for the key: either
		 * way it is not pinned, and ssh asks for no more than it knows */
		p->cur.skipped++;
		return 0;
	}
	add_key(&p->cur, &k);
	return 0;
}

void hostkeys_parser_finish(struct hostkeys_parser *p, struct hostkeys *out)
{
	if (!p->cur.complete)
		hostkeys_clear(&p->cur);
	*out = p->cur;
	memset(&p->cur, 0, sizeof(p->cur));
	p->in_block = false;
}

int hostkeys_parse(const char *buf, size_t len, struct hostkeys *out)
{
	struct hostkeys_parser p;
	size_t off = 0;

	hostkeys_parser_init(&p);
	/* whole lines only: the last one may still be being written */
	while (off < len) {
		const char *nl = memchr(buf + off, '\n', len - off);
		if (!nl)
			break;
		if (hostkeys_parser_feed(&p, buf + off, (size_t)(nl - (buf + off))) == 1)
			break;
		off = (size_t)(nl - buf) + 1;
	}
	hostkeys_parser_finish(&p, out);
	return 0;
}

/* *err "path: strerror(errno)"; -errno. */
static int path_error(char **err, const char *path)
{
	int e = errno;

	*err = strdupf("%s: %s", path, strerror(e));
	return -e;
}

int hostkeys_read(const char *path, struct hostkeys *out, char **err)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *line = NULL;
	struct hostkeys_parser p;
	size_t have = 0, total = 0;
	bool overlong = false, done = false;
	char buf[65536];
	struct stat st;

	memset(out, 0, sizeof(*out));
	*err = NULL;
	/* nonblocking: a FIFO in its place does not hang qvm */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return -ENOENT;
		return path_error(err, path);
	}
	if (fstat(fd, &st) < 0)
		return path_error(err, path);
	if (!S_ISREG(st.st_mode)) {
		*err = strdupf("%s: not a regular file", path);
		return -EINVAL;
	}
	line = malloc(HOSTKEYS_LINE_MAX + 1);
	if (!line)
		return -ENOMEM;
	hostkeys_parser_init(&p);
	while (!done && total < HOSTKEYS_READ_MAX) {
		size_t want = sizeof(buf), off = 0;
		ssize_t n;

		if (want > HOSTKEYS_READ_MAX - total)
			want = HOSTKEYS_READ_MAX - total;
		n = read(fd, buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			hostkeys_parser_finish(&p, out);
			hostkeys_clear(out);
			return path_error(err, path);
		}
		if (n == 0)
			break;
		total += (size_t)n;
		while (off < (size_t)n && !done) {
			const char *nl = memchr(buf + off, '\n', (size_t)n - off);
			size_t seg = nl ? (size_t)(nl - (buf + off)) : (size_t)n - off;
			/* a line longer than any key line is kept only as
			 * "too long": its first bytes and a length past the limit */
			size_t room = HOSTKEYS_LINE_MAX + 1 - have;
			if (seg > room) {
				overlong = true;
				seg = room;
			}
			memcpy(line + have, buf + off, seg);
			have += seg;
			off = nl ? (size_t)(nl - buf) + 1 : (size_t)n;
			if (!nl)
				continue;
			if (hostkeys_parser_feed(&p, line, overlong ? HOSTKEYS_LINE_MAX + 1 : have) == 1)
				done = true;
			have = 0;
			overlong = false;
		}
	}
	hostkeys_parser_finish(&p, out);
	return 0;
}

/* ---- known_hosts ---- */

char *hostkeys_known_hosts(const struct hostkeys *k, const char *alias)
{
	_cleanup_strv_free_ char **lines = NULL;

	for (size_t i = 0; i < k->n; i++)
		if (strv_pushf(&lines, "%s %s %s\n", alias, k->k[i].type, k->k[i].base64) < 0)
			return NULL;
	return lines ? strv_join(lines, "") : strdup("");
}

/* Mode 0600 whatever the umask, the text, on disk. */
static int fill(int fd, const char *text)
{
	int r;

	if (fchmod(fd, 0600) < 0)
		return -errno;
	r = write_full(fd, text, strlen(text));
	if (r < 0)
		return r;
	return fsync(fd) < 0 ? -errno : 0;
}

int hostkeys_write_file(int dirfd, const char *name, const char *text, char **err)
{
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -1;
	char proc[64];
	int r, e;

	*err = NULL;
	/* no name until it is whole; linkat never replaces a file */
	fd = openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (fd >= 0) {
		r = fill(fd, text);
		if (r < 0) {
			*err = strdupf("cannot write %s: %s", name, strerror(-r));
			return r;
		}
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		if (linkat(AT_FDCWD, proc, dirfd, name, AT_SYMLINK_FOLLOW) == 0)
			return 0;
		if (errno == EEXIST)
			return -EEXIST;
		/* no /proc: the named way below */
		if (errno != ENOENT) {
			e = errno;
			*err = strdupf("cannot create %s: %s", name, strerror(e));
			return -e;
		}
	} else if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
		e = errno;
		*err = strdupf("cannot create %s: %s", name, strerror(e));
		return -e;
	}
	/* a file system without O_TMPFILE: a temporary name of this process */
	if (fd >= 0)
		close(TAKE_FD(fd));
	tmp = strdupf(".%s.tmp-%ld", name, (long)getpid());
	if (!tmp)
		return -ENOMEM;
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		e = errno;
		*err = strdupf("cannot create %s: %s", tmp, strerror(e));
		return -e;
	}
	r = fill(fd, text);
	if (r == 0 && linkat(dirfd, tmp, dirfd, name, 0) < 0)
		r = -errno;
	e = -r;
	(void)unlinkat(dirfd, tmp, 0);
	if (r == -EEXIST)
		return r;
	if (r < 0)
		*err = strdupf("cannot create %s: %s", name, strerror(e));
	return r;
}
