/* SPDX-License-Identifier: MIT */
/* The one writer of qvm's terminal output: progress steps on stdout,
 * errors on stderr in the form "Error <task>: <description>", warnings as
 * "Warning: <description>". Only src/cmd/ calls it; the layers below say
 * what they do through a struct report (report.h), log_report here.
 * Every message's text is escaped here (msg_text) as it is printed: the
 * names, answers and errors it holds came from zfs, libvirt, children or
 * another host, and no control character of theirs reaches the terminal;
 * only an error's own line breaks stay. */
#ifndef QVM_LOG_H
#define QVM_LOG_H

/* Quiet: the step lines below print nothing (errors still do). */
void log_set_quiet(int quiet);

/* Whether stdout is a terminal a progress line can be redrawn on (with
 * "\r" and an erase-line escape): not with TERM unset, empty or "dumb"
 * (Emacs' shell, some CI logs), where step lines alone are printed. */
int log_can_redraw(void);

/* One progress line on stdout, flushed at once. */
void log_step(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Announces a step before it runs: "<text>... " without a newline. */
void log_begin(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Confirms the announced step: "<text>\n" (e.g. "done"). */
void log_done(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "Error <task>: <description>" on stderr. Returns -1 so callers can
 * "return log_error(...)". */
int log_error(const char *task, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* log_error with a va_list. */
#include <stdarg.h>
int log_verror(const char *task, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* "Error writing output: <strerror(errnum)>": for when stdout itself
 * failed (it is not touched: it may be closed). */
void log_output_failed(int errnum);

/* "Warning: <description>" on stderr. */
void log_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One line on stderr: what a command says whose stdout is not its own
 * (qvm ssh's is the remote command's). */
void log_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The report the commands hand to the layers below: BEGIN/DONE/STEP as
 * log_begin/log_done/log_step, WARNING as log_warning, CHILD lines as
 * log_child_warnings, ERROR as "Error <text>". */
struct report;
extern const struct report log_report;

/* Passes lines of a child's output that start with "WARNING" to stderr. */
void log_child_warnings(const char *output);

#endif
