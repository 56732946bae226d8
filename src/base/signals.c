/* SPDX-License-Identifier: MIT */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "signals.h"
#include "banned.h"

static volatile sig_atomic_t pending_signal;
static volatile sig_atomic_t child_pid;
static volatile sig_atomic_t hold_children;
static volatile sig_atomic_t received;      /* INT, TERM and HUP so far */
static volatile sig_atomic_t second_ends;   /* signals_install_readonly */

/* SIGPIPE too: output cut off (qvm ... | head) rolls back like ^C does
 * (last: signals_install_readonly leaves it out) */
static const int handled[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };

/* Whether qvm's own output (stdout, stderr) is a pipe nobody reads: the
 * only SIGPIPE that means "output cut off". Libraries write to pipes and
 * sockets of their own (libvirt's ssh transport to a host that went away):
 * their SIGPIPE is an error they report, not a reason to stop. */
static int own_output_closed(void)
{
	struct pollfd p[2] = { { .fd = STDOUT_FILENO }, { .fd = STDERR_FILENO } };

	if (poll(p, 2, 0) <= 0)
		return 0;
	return (p[0].revents & POLLERR) || (p[1].revents & POLLERR);
}

static void on_signal(int sig)
{
	if (sig == SIGPIPE && !own_output_closed())
		return;
	if (!pending_signal)
		pending_signal = sig;
	if (sig != SIGPIPE && received < 1000)
		received++;
	/* a command that changes nothing waits for no rollback: a second
	 * signal ends it at once (delivered as this handler returns) */
	if (second_ends && sig != SIGPIPE && received >= 2) {
		struct sigaction dfl = { .sa_handler = SIG_DFL };
		sigaction(sig, &dfl, NULL);
		raise(sig);
		return;
	}
	/* a third signal while children are held gives up the rollback: the
	 * step running now is stopped, what is left is reported */
	if (hold_children && received >= 3 && child_pid > 0 && sig != SIGPIPE) {
		(void)kill((pid_t)child_pid, SIGTERM);
		return;
	}
	/* children run in their own process group, so the terminal's ^C only
	 * reaches qvm; pass it on so the child stops and qvm can roll back
	 * (not a SIGPIPE: that is about qvm's own output) */
	if (child_pid > 0 && !hold_children && sig != SIGPIPE)
		(void)kill((pid_t)child_pid, sig);
}

/* The handler for the first n of handled[]. */
static void install(size_t n)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(handled) / sizeof(handled[0]); i++)
		sigaddset(&sa.sa_mask, handled[i]);
	for (size_t i = 0; i < n; i++)
		sigaction(handled[i], &sa, NULL);
}

void signals_install(void)
{
	second_ends = 0;
	install(sizeof(handled) / sizeof(handled[0]));
}

void signals_install_readonly(void)
{
	second_ends = 1;
	/* not SIGPIPE, the last: left as the command has it */
	install(sizeof(handled) / sizeof(handled[0]) - 1);
}

int signal_pending(void)
{
	return pending_signal;
}

void signals_set_child(pid_t pid)
{
	child_pid = pid;
}

void signals_hold_children(int hold)
{
	hold_children = hold;
}

int signals_abandon(void)
{
	return hold_children && received >= 3;
}

int signals_readonly(void)
{
	return second_ends;
}

int signals_forwarding(void)
{
	return !hold_children;
}

void signals_reraise(void)
{
	int sig = pending_signal;
	sigset_t set;

	if (!sig)
		return;
	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
}

const char *signal_name(int sig)
{
	static __thread char buf[24];
	const char *abbrev = sigabbrev_np(sig);

	if (abbrev)
		snprintf(buf, sizeof(buf), "SIG%s", abbrev);
	else if (sig >= SIGRTMIN && sig <= SIGRTMAX)
		snprintf(buf, sizeof(buf), "SIGRTMIN+%d", sig - SIGRTMIN);
	else
		snprintf(buf, sizeof(buf), "SIG%d", sig);
	return buf;
}
