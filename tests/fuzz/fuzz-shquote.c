/* SPDX-License-Identifier: MIT */
/* libFuzzer target: arbitrary bytes as words (split at NUL) quoted by
 * strv_join_shell - what qvm sends over ssh - and read back by /bin/sh:
 * printf '%s\0' WORDS must print the words exactly. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "process.h"
#include "strv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char **words = NULL, *line = NULL, *err = NULL;
	struct spawn_result res = { 0 };

	if (size > 4096 || strv_push_many(&words, "printf", "%s\\0", NULL) < 0)
		return 0;
	/* each NUL ends a word; the text after the last one is a word too */
	for (size_t start = 0; start <= size;) {
		const uint8_t *nul = memchr(data + start, 0, size - start);
		size_t len = nul ? (size_t)(nul - data) - start : size - start;
		if (strv_consume(&words, strndup((const char *)data + start, len)) < 0)
			abort();
		start += len + 1;
	}
	line = strv_join_shell(words);
	if (!line)
		abort();
	char *argv[] = { "/bin/sh", "-c", line, NULL };
	if (spawn_check(argv, SPAWN_CAPTURE_STDOUT | SPAWN_CAPTURE_STDERR, &res, &err) != 0)
		abort();
	/* the words as printed: each followed by a NUL */
	size_t off = 0;
	for (size_t i = 2; words[i]; i++) {
		size_t len = strlen(words[i]);
		if (memcmp(res.out + off, words[i], len + 1) != 0)
			abort();
		off += len + 1;
	}
	spawn_result_clear(&res);
	free(err);
	free(line);
	strv_free(words);
	return 0;
}
