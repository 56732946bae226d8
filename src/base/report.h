/* SPDX-License-Identifier: MIT */
/* How the layers below the commands tell the user what they do, without
 * printing: they get a struct report from the command and call it; the
 * command's log.c (log_report) is the one thing that writes to the
 * terminal. A unit test passes its own and reads what was said. */
#ifndef QVM_REPORT_H
#define QVM_REPORT_H

enum report_kind {
	REPORT_BEGIN,    /* a step announced before it runs: "Creating zvol X" */
	REPORT_DONE,     /* the announced step's outcome: "done" */
	REPORT_STEP,     /* one line of progress */
	REPORT_WARNING,  /* something the user should know; not an error */
	REPORT_CHILD,    /* a child program's own warning lines, passed through */
	REPORT_PROGRESS, /* the open step line redrawn in place (a terminal's
			  * live progress): the whole line's new text */
	REPORT_ERROR,    /* an error that does not end the work (a rollback
			  * step that failed): "<task>: <description>" */
};

struct report {
	void (*say)(void *ctx, enum report_kind kind, const char *text);
	void *ctx;
};

/* Formats and hands one message to r (nothing if r or r->say is NULL). */
void report(const struct report *r, enum report_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* An error's text for the caller to print as "Error <task>: <text>":
 * *err = the formatted text (malloc'd; any earlier one freed). Returns r,
 * so that a function can "return report_error(err, -EINVAL, ...)". */
int report_error(char **err, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
