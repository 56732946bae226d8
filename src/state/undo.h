/* SPDX-License-Identifier: MIT */
/* The undo journal: every persistent change is recorded as it is made, and
 * on failure undone in reverse order (SPEC §5). A step is prepared (all
 * allocation done) before the change and armed after it succeeds, so
 * recording a change can never fail once it has been made. */
#ifndef QVM_UNDO_H
#define QVM_UNDO_H

#include <stddef.h>

/*
 * An undo action: returns 0 (also when the thing is already gone) or -errno
 * with *err a malloc'd description of why it failed.
 */
typedef int (*undo_fn)(void *data, char **err);

struct undo_step {
	undo_fn fn;
	void *data;                  /* freed with free_data() afterwards */
	void (*free_data)(void *);
	char *what;                  /* "zvol tank/images/web1" */
	char *remedy;                /* "zfs destroy -r tank/images/web1" */
	int armed;
	/* when it fails, the older steps are not run: what they would remove
	 * (the marked clone) is how qvm cleanup finds what this one left */
	int keeps_older;
};

struct undo {
	struct undo_step *steps;
	size_t n, cap;
};

/*
 * Records a step, not yet armed, taking ownership of data, what and remedy
 * (freed on failure too). Returns 0 or -ENOMEM.
 */
int undo_prepare(struct undo *u, undo_fn fn, void *data, char *what, char *remedy)
	__attribute__((warn_unused_result));
/* The same for data that free() does not release whole. */
int undo_prepare_free(struct undo *u, undo_fn fn, void *data, void (*free_data)(void *), char *what,
		      char *remedy) __attribute__((warn_unused_result));
/* The change of the most recently prepared step has been made. */
void undo_arm(struct undo *u);
/* The most recently prepared step keeps the older ones when it fails
 * (a domain whose clone's marks lead qvm cleanup to it). */
void undo_keep_older(struct undo *u);
struct report;
/*
 * Runs every armed step, newest first, even when one fails. Each step is
 * announced on rep ("<removing> WHAT", REPORT_BEGIN/DONE); a failure is a
 * REPORT_ERROR ("<task>: ...") with what was left behind and the command
 * that removes it. Signals do not cut it short (children are not sent
 * them) until the third: then the steps not yet run are reported as left
 * behind, with their commands. After a failed step that keeps the older
 * ones (undo_keep_older), those are reported as left for qvm cleanup. Returns the number of steps that failed or
 * were not run. The journal is emptied.
 */
int undo_run(struct undo *u, const struct report *rep, const char *task, const char *removing);
/* A failed run's rollback: undo_run as "Rolling back: removing WHAT",
 * errors as "rolling back: ...". */
int undo_rollback(struct undo *u, const struct report *rep);
/* Success: forgets every step without running it. */
void undo_commit(struct undo *u);

#endif
