/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "report.h"
#include "strv.h"
#include "banned.h"

void report(const struct report *r, enum report_kind kind, const char *fmt, ...)
{
	va_list ap;
	char *text;

	if (!r || !r->say)
		return;
	va_start(ap, fmt);
	text = vstrdupf(fmt, ap);
	va_end(ap);
	r->say(r->ctx, kind, text ? text : "(out of memory)");
	free(text);
}

int report_error(char **err, int r, const char *fmt, ...)
{
	va_list ap;
	char *text;

	if (!err)
		return r;
	va_start(ap, fmt);
	text = vstrdupf(fmt, ap);
	va_end(ap);
	free(*err);
	*err = text;
	return r;
}
