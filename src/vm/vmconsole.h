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
#define CONSOLE_TAIL_MAX 64          /* bytes that tell a log appended to from one rewritten */

struct console_log {
	char *path;
	int fd;                      /* -1 until the file exists */
	dev_t dev;
	ino_t ino;
	uint64_t offset;             /* bytes of the open file consumed */
	char line[CONSOLE_LINE_MAX]; /* the line being read, raw */
	size_t len;
	bool cut;                    /* it was longer than the buffer */
	bool cr;                     /* the last byte fed was a \r */
	bool skip;                   /* the file's first skip_size bytes are an earlier boot's */
	dev_t skip_dev;
	ino_t skip_ino;
	uint64_t skip_size;
	unsigned char skip_tail[CONSOLE_TAIL_MAX]; /* its last bytes then: still there = appended to */
	size_t skip_tail_len;
	char *last;                  /* the last line with text, escaped */
	char **failures;             /* cloud-init's failure lines, escaped (strv) */
	size_t n_failures;           /* all seen */
	char *final;                 /* cloud-init's final message, escaped, once seen */
};

/* 0 or -ENOMEM. */
int console_log_init(struct console_log *c, const char *path);
void console_log_clear(struct console_log *c);

/* The parser: n more bytes of the log (any bytes: NULs, escapes). A line
 * ends at \n, \r\n, or a lone \r (where a terminal would start the line
 * over: systemd's status redraws end so). 0 or -ENOMEM. */
int console_log_feed(struct console_log *c, const char *buf, size_t n);

/* What path held before the domain started (a log that is appended to,
 * not the fresh one qvm gives a VM): its file, size and last bytes
 * (console_log_tail). If the file still holds those bytes there, only
 * what follows is read; if not (it was truncated and written anew), all
 * of it. Call before the first poll. */
void console_log_skip_existing(struct console_log *c, dev_t dev, ino_t ino, uint64_t size,
			       const unsigned char *tail, size_t tail_len);
/* The last bytes (up to CONSOLE_TAIL_MAX) of fd, of size bytes, into
 * tail: their number, or 0. */
size_t console_log_tail(int fd, uint64_t size, unsigned char tail[CONSOLE_TAIL_MAX]);

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
