/* SPDX-License-Identifier: MIT */
/* SIGINT/SIGTERM/SIGHUP (and SIGPIPE, output cut off): set a flag, let the
 * command unwind and roll back, then die of the same signal (git's
 * tempfile.c idea). */
#ifndef QVM_SIGNALS_H
#define QVM_SIGNALS_H

#include <sys/types.h>

/* Installs the flag-setting handlers. */
void signals_install(void);
/* The same for a command that changes nothing (nothing to roll back):
 * INT, TERM and HUP only (SIGPIPE is left as it is). The first is noted
 * and passed to the running child as signals_install's are, so that the
 * command stops and closes what it opened (its ssh master connection,
 * which a remote command that never ends would keep alive) before it ends
 * of the signal; a second one ends qvm at once, as the default action. */
void signals_install_readonly(void);
/* Whether the handlers are signals_install_readonly's: no child's outcome
 * matters then, so a signal reaches even the children run with
 * SPAWN_NO_FORWARD (process.h). */
int signals_readonly(void);
/* The first signal received since signals_install(), or 0. */
int signal_pending(void);

/* qvm's one spelling of a signal: "SIGINT" (strsignal's "Interrupt" and
 * sigabbrev_np's "INT" are not used); "SIGRTMIN+N" for a real-time one.
 * Valid until the next call in this thread. */
const char *signal_name(int sig);
/* While a child runs, a signal aimed at qvm is forwarded to it. 0 = none. */
void signals_set_child(pid_t pid);
/* During rollback nothing is forwarded: undo steps must run to the end. */
void signals_hold_children(int hold);
/* Whether a signal is passed on to children now (not during rollback). */
int signals_forwarding(void);
/* A third INT, TERM or HUP arrived during rollback: give it up. */
int signals_abandon(void);
/* If a signal is pending: restore its default action and raise it. */
void signals_reraise(void);

#endif
