/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "msgtext.h"
#include "banned.h"

void msg_text(char *buf, size_t size, const char *s, size_t len)
{
	size_t o = 0;

	if (size == 0)
		return;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char tmp[8];
		size_t tl;

		if (c == '\n')
			tl = (size_t)snprintf(tmp, sizeof(tmp), "\\n");
		else if (c == '\t')
			tl = (size_t)snprintf(tmp, sizeof(tmp), "\\t");
		else if (c < 0x20 || c == 0x7f)
			tl = (size_t)snprintf(tmp, sizeof(tmp), "\\x%02x", c);
		else {
			tmp[0] = (char)c;
			tl = 1;
		}
		/* keep room for "..." and the NUL */
		if (o + tl + 4 > size) {
			/* do not cut a UTF-8 sequence in half */
			while (o > 0 && ((unsigned char)buf[o - 1] & 0xc0) == 0x80)
				o--;
			if (o > 0 && ((unsigned char)buf[o - 1] & 0x80))
				o--;
			if (o + 4 <= size) {
				memcpy(buf + o, "...", 3);
				o += 3;
			}
			break;
		}
		memcpy(buf + o, tmp, tl);
		o += tl;
	}
	buf[o] = '\0';
}
