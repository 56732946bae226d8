/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "msgtext.h"
#include "report.h"
#include "banned.h"

/* A step was announced and not yet confirmed: its line is still open. */
static int line_open;
static int quiet;

void log_set_quiet(int q)
{
	quiet = q;
}

int log_can_redraw(void)
{
	const char *term = getenv("TERM");

	return isatty(STDOUT_FILENO) && term && *term && strcmp(term, "dumb") != 0;
}

static void close_line(const char *word)
{
	if (line_open) {
		fputs(word, stdout);
		fputc('\n', stdout);
		line_open = 0;
	}
}

/* fmt's text onto f with every control character escaped (msg_text):
 * its arguments hold what zfs, libvirt, a child or another host said, and
 * every message passes here, so none reaches the terminal raw, and none
 * is escaped twice. keep_lines: an error's own line breaks stay (qvm's
 * errors of several lines: virt-install's, each line escaped). */
static void put_text(FILE *f, bool keep_lines, const char *s, size_t len)
{
	char *shown = msg_text_dup(s, len, keep_lines);

	fputs(shown ? shown : strerror(ENOMEM), f);
	free(shown);
}

static void put(FILE *f, bool keep_lines, const char *fmt, va_list ap)
{
	char *raw = NULL;
	int n = vasprintf(&raw, fmt, ap);

	if (n < 0) {
		fputs(strerror(ENOMEM), f);
		return;
	}
	put_text(f, keep_lines, raw, (size_t)n);
	free(raw);
}

/* One piece of a progress line on stdout: the open line closed first
 * unless this piece ends it (done), then text + tail, flushed at once. */
static void out(int ends_open_line, const char *tail, int leaves_open, const char *fmt, va_list ap)
{
	if (quiet)
		return;
	if (!ends_open_line)
		close_line("");
	put(stdout, false, fmt, ap);
	fputs(tail, stdout);
	fflush(stdout);
	line_open = leaves_open;
}

void log_begin(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	out(0, "... ", 1, fmt, ap);
	va_end(ap);
}

void log_done(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	out(1, "\n", 0, fmt, ap);
	va_end(ap);
}

void log_step(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	out(0, "\n", 0, fmt, ap);
	va_end(ap);
}

int log_verror(const char *task, const char *fmt, va_list ap)
{
	close_line("failed");
	fflush(stdout);
	fprintf(stderr, "Error %s: ", task);
	put(stderr, true, fmt, ap);
	fputc('\n', stderr);
	fflush(stderr);
	return -1;
}

void log_output_failed(int errnum)
{
	fprintf(stderr, "Error writing output: %s\n", strerror(errnum));
	fflush(stderr);
}

int log_error(const char *task, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_verror(task, fmt, ap);
	va_end(ap);
	return -1;
}

void log_child_warnings(const char *output)
{
	const char *p = output;

	while (p && *p) {
		size_t len = strcspn(p, "\n");
		if (strncmp(p, "WARNING", 7) == 0) {
			put_text(stderr, false, p, len);
			fputc('\n', stderr);
		}
		p += len;
		if (*p == '\n')
			p++;
	}
	fflush(stderr);
}

void log_warning(const char *fmt, ...)
{
	va_list ap;

	close_line("");
	fflush(stdout);
	fputs("Warning: ", stderr);
	va_start(ap, fmt);
	put(stderr, false, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}

void log_note(const char *fmt, ...)
{
	va_list ap;

	close_line("");
	fflush(stdout);
	va_start(ap, fmt);
	put(stderr, false, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}

static void log_say(void *ctx, enum report_kind kind, const char *text)
{
	(void)ctx;
	switch (kind) {
	case REPORT_BEGIN:
		log_begin("%s", text);
		break;
	case REPORT_DONE:
		log_done("%s", text);
		break;
	case REPORT_STEP:
		log_step("%s", text);
		break;
	case REPORT_WARNING:
		log_warning("%s", text);
		break;
	case REPORT_CHILD:
		log_child_warnings(text);
		break;
	case REPORT_PROGRESS:
		if (quiet)
			break;
		fputs("\r\033[K", stdout);
		put_text(stdout, false, text, strlen(text));
		fflush(stdout);
		line_open = 1;
		break;
	case REPORT_ERROR:
		close_line("failed");
		fflush(stdout);
		fputs("Error ", stderr);
		put_text(stderr, true, text, strlen(text));
		fputc('\n', stderr);
		fflush(stderr);
		break;
	}
}

const struct report log_report = { .say = log_say };
