/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "confirm.h"
#include "signals.h"
#include "banned.h"

/* Waits until the terminal has an answer. qvm's handlers restart reads
 * (SA_RESTART): fgets alone would sit through ^C. ppoll unblocks the
 * signals only while it waits, so one that comes just before it is not
 * missed. 0, or -EINTR when a signal came. */
static int wait_answer(void)
{
	sigset_t stop, old;
	int r = 0;

	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	sigprocmask(SIG_BLOCK, &stop, &old);
	for (;;) {
		struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
		if (signal_pending()) {
			r = -EINTR;
			break;
		}
		if (ppoll(&pfd, 1, NULL, &old) >= 0 || errno != EINTR)
			break;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}

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
	if (wait_answer() < 0) {
		/* the terminal shows ^C after the question */
		putchar('\n');
		return -EINTR;
	}
	if (!fgets(answer, sizeof(answer), stdin)) {
		/* ^D: what follows starts on a line of its own */
		putchar('\n');
		return 0;
	}
	answer[strcspn(answer, "\n")] = '\0';
	return strcasecmp(answer, "y") == 0 || strcasecmp(answer, "yes") == 0;
}
