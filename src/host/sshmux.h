/* SPDX-License-Identifier: MIT */
/* OpenSSH's connection sharing spoken by qvm itself (the "passenger"
 * protocol of OpenSSH's PROTOCOL.mux, version 4): a command runs through
 * an ssh master's control socket without an ssh client process of its
 * own, which would cost more than the remote command (ssh reads its
 * configuration and keys at every start). The master does the rest: the
 * channel, the remote shell, the exit status. */
#ifndef QVM_SSHMUX_H
#define QVM_SSHMUX_H

#include <stdbool.h>

#include "process.h"

/*
 * Runs command (one line for the remote shell) through the master
 * listening on ctl, with stdin_fd (-1: /dev/null) as its standard input
 * and its stdout and stderr captured into res as flags ask
 * (SPAWN_CAPTURE_STDOUT, SPAWN_CAPTURE_STDERR; else /dev/null), and waits
 * for it to end and its output to close. A signal qvm receives does not
 * stop the wait with SPAWN_NO_FORWARD (the command's outcome must be
 * known) unless signals_readonly(); otherwise the session is left (-EINTR,
 * res->signal set).
 * 0: it ran, res->status its exit status. -EHOSTUNREACH with *err the
 * reason: no master answers on ctl, it refused the session, or it went
 * away before the command's exit status came (the connection dropped).
 * -ENOMEM or another -errno (*err set) when it could not be asked.
 * Release res with spawn_result_clear in every case.
 */
int sshmux_run(const char *ctl, const char *command, int stdin_fd, unsigned flags, struct spawn_result *res,
	       char **err) __attribute__((warn_unused_result));

/* The same with this process's own stdin, stdout and stderr as the
 * command's (ssh's behaviour, for a program that runs ssh): its exit
 * status, or -errno as sshmux_run returns. */
int sshmux_attach(const char *ctl, const char *command, char **err);

/* Asks the master on ctl to end, and waits (up to timeout_ms) until it
 * has closed its side: its connection to the host is gone then. 0, or
 * -errno (no master answers: it has ended already). */
int sshmux_exit(const char *ctl, int timeout_ms);

/* Whether a master listens on ctl (a run still using it). */
bool sshmux_listening(const char *ctl);

#endif
