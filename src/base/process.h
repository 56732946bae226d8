/* SPDX-License-Identifier: MIT */
/* Running external programs: an argument vector, never a shell. */
#ifndef QVM_PROCESS_H
#define QVM_PROCESS_H

#include <stddef.h>

enum {
	SPAWN_CAPTURE_STDOUT = 1u << 0,  /* else stdout goes to /dev/null */
	SPAWN_CAPTURE_STDERR = 1u << 1,  /* else stderr goes to /dev/null */
	/* Let the child finish even if qvm is signalled: for short commands
	 * whose outcome must be known (did zfs create the dataset or not?).
	 * qvm rolls back right after. */
	SPAWN_NO_FORWARD = 1u << 2,
	/* stdout stays qvm's own (a child's live progress on the terminal) */
	SPAWN_INHERIT_STDOUT = 1u << 3,
};

struct spawn_result {
	int status;      /* exit code; 128+N if killed by signal N */
	int signal;      /* N if killed by a signal, else 0 */
	char *out;       /* captured stdout (NUL-terminated) or NULL */
	char *err;       /* captured stderr (NUL-terminated) or NULL */
};

/*
 * Runs argv[0] found on PATH with argv, stdin from /dev/null, in its own
 * process group (signals reach it only through qvm's forwarding, see
 * signals.h, unless SPAWN_NO_FORWARD), and waits for it. Returns 0 when the program ran (whatever
 * its exit status, see res->status), -ENOENT / -EACCES ... if it could not
 * be started, -ENOMEM. res must be released with spawn_result_clear().
 */
int spawn_run(char *const argv[], unsigned flags, struct spawn_result *res)
	__attribute__((warn_unused_result));
void spawn_result_clear(struct spawn_result *res);

/* The child's stderr (or stdout if stderr is empty) as one line for an
 * error message: lines trimmed and joined with "; ", lines starting with
 * "WARNING" left out unless there is nothing else. malloc'd. */
char *spawn_error_text(const struct spawn_result *res);

#endif
