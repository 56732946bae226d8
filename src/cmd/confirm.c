/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "confirm.h"
#include "banned.h"

int confirm(bool yes, const char *fmt, ...)
{
	char answer[16];
	va_list ap;

	if (yes)
		return 1;
	if (!isatty(STDIN_FILENO))
		return -ENOTTY;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputs(" [y/N] ", stdout);
	fflush(stdout);
	if (!fgets(answer, sizeof(answer), stdin))
		return 0;
	return answer[0] == 'y' || answer[0] == 'Y';
}
