/* SPDX-License-Identifier: MIT */
/* qvm vm --count N: N VMs from one file, each all or nothing; what was
 * made and what was not, in one summary. */
#ifndef QVM_VMBATCH_H
#define QVM_VMBATCH_H

#include <stdbool.h>

#define VM_BATCH_MAX 1000            /* the most --count makes */

#include "vmwait.h"

enum vm_outcome {
	VM_MADE,                     /* created (or, dry run, checked) */
	VM_FAILED,                   /* nothing left of it */
	VM_SKIPPED,                  /* it exists already (--skip-existing): left as it is */
};

/* What the summary says went wrong: the task of its error. */
enum vm_batch_verdict {
	VM_BATCH_OK,
	VM_BATCH_NOT_ALL,            /* some VMs not made (dry run: not checked) */
	VM_BATCH_NOT_READY,          /* all made, some not ready (--wait) */
};

struct vm_batch {
	unsigned count;
	bool dry_run;
	bool waited;                 /* --wait: the VMs made were waited for */
	char **made, **failed;       /* names, in the order tried */
	char **ready, **not_ready;   /* --wait: names; "name (why)" */
	char **skipped;              /* names of the instances that existed (--skip-existing) */
};

void vm_batch_init(struct vm_batch *b, unsigned count, bool dry_run);
void vm_batch_clear(struct vm_batch *b);

/* VM i's (1-based) suffix to the file's name: "-i". */
void vm_batch_suffix(unsigned i, char *buf, size_t size);

/* VM i's outcome; name NULL when its file could not be read (it is then
 * named by its number). 0 or -ENOMEM. */
int vm_batch_record(struct vm_batch *b, unsigned i, enum vm_outcome o, const char *name);

/* --wait's outcome for VM name (one made). 0 or -ENOMEM. */
int vm_batch_waited(struct vm_batch *b, const char *name, enum vm_wait_outcome o);

/* A signal stops the batch before VM i: "interrupted by signal SIGINT: 2
 * of 3 VMs not attempted" in *err. Returns -EINTR. */
int vm_batch_interrupted(const struct vm_batch *b, unsigned i, int sig, char **err);

/* The summary: "Created 2 of 3 VMs: a, c" (with --wait "; ready: a",
 * with --skip-existing "; skipped 1 that exists: b") in *line, and when
 * not all went well the error in *err ("1 of 3 VMs not created: b", "1 of
 * 3 VMs not ready: c (timed out)", or both joined by "; "). 0 or -ENOMEM. */
int vm_batch_summary(const struct vm_batch *b, char **line, char **err, enum vm_batch_verdict *verdict);

#endif
