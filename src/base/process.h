/* SPDX-License-Identifier: MIT */
/* Running external programs: an argument vector, never a shell. */
#ifndef QVM_PROCESS_H
#define QVM_PROCESS_H

#include <stddef.h>
#include <stdint.h>

enum {
	SPAWN_CAPTURE_STDOUT = 1u << 0,  /* else stdout goes to /dev/null */
	SPAWN_CAPTURE_STDERR = 1u << 1,  /* else stderr goes to /dev/null */
	/* Let the child finish even if qvm is signalled: for short commands
	 * whose outcome must be known (did zfs create the dataset or not?).
	 * qvm rolls back right after. (Not in a command that changes
	 * nothing: signals_readonly.) */
	SPAWN_NO_FORWARD = 1u << 2,
	/* stdout stays qvm's own (a child's live progress on the terminal) */
	SPAWN_INHERIT_STDOUT = 1u << 3,
	/* For output qvm parses (zfs's messages and tables, JSON, --help):
	 * the child runs with LC_ALL=C and LANGUAGE=C, whatever the user's
	 * locale; qvm's own environment is left as it is. Without it the
	 * child keeps the user's locale (words the user reads). */
	SPAWN_C_LOCALE = 1u << 4,
};

struct spawn_result {
	int status;      /* exit code; 128+N if killed by signal N */
	int signal;      /* N if killed by a signal, else 0 */
	char *out;       /* captured stdout (NUL-terminated) or NULL */
	char *err;       /* captured stderr (NUL-terminated) or NULL */
};

void spawn_result_clear(struct spawn_result *res);

/*
 * Runs argv[0] found on PATH with argv, stdin from /dev/null, in its own
 * process group (signals reach it only through qvm's forwarding, see
 * signals.h, unless SPAWN_NO_FORWARD), and waits for it: the one way qvm
 * runs a program. Returns 0 when it
 * ran and exited 0. Otherwise *err (malloc'd) says what went wrong and the
 * return value which way:
 *   -ENOENT  not found on PATH or not executable (also a child that exits
 *            127 without a word: where exec errors are not reported
 *            synchronously, as under valgrind); *err "cannot run NAME: ..."
 *   -EIO     it ran and exited non-zero; *err its own words
 *            (spawn_error_text), "exit status N" if it said nothing
 *   -EINTR   it was killed by a signal (res->signal); *err its own words
 *            and "(killed by SIGTERM)", or "killed by SIGTERM"
 *   -ENOMEM, or another -errno when it could not be started ("cannot run
 *            NAME: <strerror>"; *err may be NULL on -ENOMEM)
 * res is filled whenever the program ran, so a caller can read its output
 * and stderr after a failure too; release it with spawn_result_clear() in
 * every case.
 */
int spawn_check(char *const argv[], unsigned flags, struct spawn_result *res, char **err)
	__attribute__((warn_unused_result));

/* The same with stdin_fd as the child's standard input (-1: /dev/null). */
int spawn_check_input(char *const argv[], unsigned flags, int stdin_fd, struct spawn_result *res, char **err)
	__attribute__((warn_unused_result));

/* How long spawn_all lets a program that ran out of time end after
 * SIGTERM (at most its time limit) before it sends SIGKILL. */
#define SPAWN_ALL_GRACE_MS 5000u

/*
 * Runs the programs argvs[0..n) side by side, at most limit at a time (0:
 * all at once), each as spawn_check runs one (stdin /dev/null, its own
 * process group) with stdout and stderr captured into res[i]; a program
 * starts as soon as an earlier one ends. A program is done when it has
 * exited and its output is closed.
 * errs[i] is 0 when program i ran (res[i] holds its status and output,
 * whatever its exit status), -errno when it could not be started or read
 * (-ENOENT also for a child that exits 127 without a word, as
 * spawn_check), -ECANCELED when it was not started, -ETIMEDOUT when it ran
 * out of time (below).
 * timeout_ms (0: none) is each program's time limit, counted from its own
 * start: one not done by then is sent SIGTERM (its process group: what it
 * started there too) and, if it has not ended SPAWN_ALL_GRACE_MS later (or
 * timeout_ms, if shorter), SIGKILL; it is waited for, and errs[i] is
 * -ETIMEDOUT with res[i] saying how it ended and what it wrote. (One that
 * has exited while a process of another group holds its output open is
 * not signalled: its output is given up at the same times.)
 * A signal qvm receives (signals.h) starts nothing more and is passed to
 * the running ones (SIGPIPE as SIGTERM), which are waited for (their time
 * limits still hold): then -EINTR.
 * Returns 0, -EINTR, or -errno (poll failed: the children were asked to end
 * and waited for). Release every res[i] with spawn_result_clear.
 */
int spawn_all(char *const *const *argvs, size_t n, unsigned limit, unsigned timeout_ms, struct spawn_result *res,
	      int *errs) __attribute__((warn_unused_result));

/*
 * The program posix_spawnp would run for name: glibc's execvpe tries each
 * element of $PATH (unset: "/bin:/usr/bin"; an empty element: the current
 * directory) in turn, going on past one it may not execute (EACCES) or that
 * is missing. Returns 0 with *out the absolute path (symbolic links
 * resolved), -ENOENT, -EACCES, -ENOMEM.
 */
int program_find(const char *name, char **out);

/* The child's stderr (or stdout if stderr is empty) as one line for an
 * error message: lines trimmed and joined with "; ", lines starting with
 * "WARNING" left out unless there is nothing else, and " (killed by
 * SIGTERM)" when a signal ended it; if it printed nothing, "exit status N"
 * or "killed by SIGTERM". malloc'd. */
char *spawn_error_text(const struct spawn_result *res);

/* What spawn_relay did. */
struct relay_result {
	struct spawn_result from, to;   /* as spawn_check fills its result */
	uint64_t bytes;                 /* moved from the one to the other */
	int stopped;                    /* the signal that stopped the relay, or 0 */
	int error;                      /* the relay's own failure (-errno), or 0 */
};

/*
 * Runs from and to side by side, from's stdout into one pipe and to's
 * stdin from another, and moves the bytes between them itself (splice(2)
 * from pipe to pipe, read/write where splice is refused), calling
 * progress(bytes so far, ctx) as they go: a pipeline qvm can count.
 * flags as spawn_check's (SPAWN_C_LOCALE; SPAWN_CAPTURE_STDOUT for to's
 * output); both stderrs are captured. When to stops reading (it exited),
 * a signal arrives (signal_pending) or the relay fails, from gets SIGTERM
 * and to's stdin is closed, so that it sees the stream end; to is waited
 * for (sent SIGTERM itself if it has not ended 30 s later).
 * Returns 0 when both ran, whatever their exit (res says how each ended),
 * or -errno with *err ("cannot run NAME: ...") when one could not be
 * started (-ENOENT also for one that exits 127 without a word, as
 * spawn_check reads it): then the other is stopped and nothing is left
 * running.
 * res is to be cleared with relay_result_clear in every case.
 */
int spawn_relay(char *const from[], unsigned from_flags, char *const to[], unsigned to_flags,
		void (*progress)(uint64_t bytes, void *ctx), void *ctx, struct relay_result *res, char **err)
	__attribute__((warn_unused_result));
void relay_result_clear(struct relay_result *res);

#endif
