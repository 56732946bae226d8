/* SPDX-License-Identifier: MIT */
/* A guest's console log followed as it grows, and what cloud-init says in
 * it: its final message ("Cloud-init v. 22.4.2 finished at ...") and the
 * lines that report a failed module or an error. The guest writes the log:
 * every line is cut to a bounded length and kept only escaped (msg_text),
 * and the file is read incrementally, a bounded amount per call. */
#ifndef QVM_VMCONSOLE_H
#define QVM_VMCONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CONSOLE_LINE_MAX 512         /* bytes of one line looked at; the rest is dropped */
#define CONSOLE_FAILURES_MAX 20      /* failure lines kept (all are counted) */

struct console_log {
	char *path;
	int fd;                      /* -1 until the file exists */
	dev_t dev;
	ino_t ino;
	uint64_t offset;             /* bytes of the open file consumed */
	char line[CONSOLE_LINE_MAX]; /* the line being read, raw */
	size_t len;
	bool cut;                    /* it was longer than the buffer */
	char *last;                  /* the last line with text, escaped */
	char **failures;             /* cloud-init's failure lines, escaped (strv) */
	size_t n_failures;           /* all seen */
	char *final;                 /* cloud-init's final message, escaped, once seen */
};

/* 0 or -ENOMEM. */
int console_log_init(struct console_log *c, const char *path);
void console_log_clear(struct console_log *c);

/* The parser: n more bytes of the log (any bytes: NULs, escapes, \r). 0
 * or -ENOMEM. */
int console_log_feed(struct console_log *c, const char *buf, size_t n);

/*
 * Reads what the file holds beyond what was read, up to max bytes, and
 * feeds it. A file not there yet is not an error; one that shrank
 * (truncated) is read again from its start; one replaced by a new file
 * (rotated: console.log renamed to console.log.1) is read to its end, then
 * the new one from its start. Returns 1 when max bytes were read (there
 * may be more), 0, or -errno with *err (malloc'd: cannot open or read it,
 * not a regular file).
 */
int console_log_poll(struct console_log *c, size_t max, char **err);

#endif
