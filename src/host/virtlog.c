/* SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtlog.h"
#include "banned.h"

/* "[Fri, 04 Dec 2026 20:40:31 virt-install 27291] WARNING (virtinstall:373) text":
 * the level and where the text starts, or NULL for a line that starts no
 * record. */
static const char *record(const char *line, size_t len, const char **level, size_t *level_len)
{
	const char *close = memchr(line, ']', len), *p, *end = line + len;

	if (line[0] != '[' || !close || close + 2 > end || close[1] != ' ')
		return NULL;
	p = close + 2;
	*level = p;
	while (p < end && *p >= 'A' && *p <= 'Z')
		p++;
	*level_len = (size_t)(p - *level);
	if (*level_len == 0 || p + 2 > end || p[0] != ' ' || p[1] != '(')
		return NULL;
	p = memchr(p, ')', (size_t)(end - p));
	if (!p)
		return NULL;
	return p + 1 < end && p[1] == ' ' ? p + 2 : p + 1;
}

char *virtlog_filter(const char *text)
{
	char *buf = NULL;
	size_t size = 0;
	bool keep = true;            /* lines before the first record are kept */
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return NULL;
	for (const char *p = text ? text : ""; *p;) {
		size_t len = strcspn(p, "\n");
		const char *level, *msg;
		size_t level_len;

		if ((msg = record(p, len, &level, &level_len))) {
			keep = (level_len == 7 && memcmp(level, "WARNING", 7) == 0) ||
			       (level_len == 5 && memcmp(level, "ERROR", 5) == 0);
			if (keep)
				fprintf(f, "%.*s%*s%.*s\n", (int)level_len, level, (int)(9 - level_len), "",
					(int)(len - (size_t)(msg - p)), msg);
		} else if (keep) {
			fprintf(f, "%.*s\n", (int)len, p);
		}
		p += len + (p[len] == '\n');
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
