/* SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msgtext.h"
#include "banned.h"

/* The length of the valid UTF-8 sequence s starts with (len > 0 bytes
 * there), or 0: overlong forms, surrogates and code points past U+10FFFF
 * are not valid, so a terminal decodes exactly what is checked here. */
static size_t utf8_len(const unsigned char *s, size_t len)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (n > len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

/* The most a character is shown as: a 3-byte one escaped, and the NUL */
#define UNIT_MAX 16

/* What the first character of s (len > 0 bytes) is shown as, into out
 * (NUL-terminated); the number of bytes of s it takes. *control: it is
 * a control character (an invalid byte of 0xa0..0xff is escaped but is
 * none). */
static size_t unit(const char *s, size_t len, bool keep_lines, char out[UNIT_MAX], bool *control)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n;

	*control = u[0] < 0x20 || u[0] == 0x7f;
	if (u[0] == '\n' && keep_lines) {
		out[0] = '\n';
		out[1] = '\0';
		return 1;
	}
	if (u[0] == '\n' || u[0] == '\t') {
		snprintf(out, UNIT_MAX, "\\%c", u[0] == '\n' ? 'n' : 't');
		return 1;
	}
	if (*control) {
		snprintf(out, UNIT_MAX, "\\x%02x", u[0]);
		return 1;
	}
	n = utf8_len(u, len);
	if (n == 0) {
		*control = u[0] <= 0x9f;
		snprintf(out, UNIT_MAX, "\\x%02x", u[0]);
		return 1;
	}
	uint32_t cp = n == 1 ? u[0] : n == 2 ? u[0] & 0x1fu : n == 3 ? u[0] & 0x0fu : u[0] & 0x07u;
	for (size_t i = 1; i < n; i++)
		cp = cp << 6 | (u[i] & 0x3fu);
	/* U+0080..U+009F: CSI, OSC and the rest, read as such by terminals;
	 * the bidirectional controls reorder what is shown around them */
	if ((cp >= 0x80 && cp <= 0x9f) || cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)) {
		*control = true;
		out[0] = '\0';
		for (size_t i = 0; i < n; i++)
			snprintf(out + 4 * i, 5, "\\x%02x", u[i]);
		return n;
	}
	memcpy(out, s, n);
	out[n] = '\0';
	return n;
}

void msg_text(char *buf, size_t size, const char *s, size_t len)
{
	size_t o = 0;

	if (size == 0)
		return;
	for (size_t i = 0; i < len;) {
		char tmp[UNIT_MAX];
		bool control;
		size_t used = unit(s + i, len - i, false, tmp, &control), tl = strlen(tmp);

		/* keep room for "..." and the NUL; a character or an escape
		 * goes whole or not at all */
		if (o + tl + 4 > size) {
			if (o + 4 <= size) {
				memcpy(buf + o, "...", 3);
				o += 3;
			}
			break;
		}
		memcpy(buf + o, tmp, tl);
		o += tl;
		i += used;
	}
	buf[o] = '\0';
}

char *msg_text_dup(const char *s, size_t len, bool keep_lines)
{
	size_t total = 0, o = 0;
	char *buf;

	for (size_t i = 0; i < len;) {
		char tmp[UNIT_MAX];
		bool control;
		i += unit(s + i, len - i, keep_lines, tmp, &control);
		total += strlen(tmp);
	}
	if (!(buf = malloc(total + 1)))
		return NULL;
	for (size_t i = 0; i < len;) {
		char tmp[UNIT_MAX];
		bool control;
		size_t tl;
		i += unit(s + i, len - i, keep_lines, tmp, &control);
		tl = strlen(tmp);
		memcpy(buf + o, tmp, tl);
		o += tl;
	}
	buf[o] = '\0';
	return buf;
}

bool msg_has_control(const char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		char tmp[UNIT_MAX];
		bool control;
		i += unit(s + i, len - i, false, tmp, &control);
		if (control)
			return true;
	}
	return false;
}
