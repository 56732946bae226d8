/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "report.h"
#include "strv.h"
#include "signals.h"
#include "vmbatch.h"
#include "banned.h"

void vm_batch_init(struct vm_batch *b, unsigned count, bool dry_run)
{
	*b = (struct vm_batch){ .count = count, .dry_run = dry_run };
}

void vm_batch_clear(struct vm_batch *b)
{
	strv_free(b->made);
	strv_free(b->failed);
	strv_free(b->ready);
	strv_free(b->not_ready);
	strv_free(b->skipped);
	b->made = b->failed = b->ready = b->not_ready = b->skipped = NULL;
}

void vm_batch_suffix(unsigned i, char *buf, size_t size)
{
	snprintf(buf, size, "-%u", i);
}

int vm_batch_record(struct vm_batch *b, unsigned i, enum vm_outcome o, const char *name)
{
	char ***list = o == VM_FAILED ? &b->failed : o == VM_SKIPPED ? &b->skipped : &b->made;

	return name ? strv_push(list, name) : strv_pushf(list, "%u", i);
}

int vm_batch_waited(struct vm_batch *b, const char *name, enum vm_wait_outcome o)
{
	static const char *const why[] = {
		[VM_WAIT_PENDING] = "not waited for",
		[VM_WAIT_READY] = "ready",
		[VM_WAIT_FAILED] = "cloud-init failed",
		[VM_WAIT_TIMEOUT] = "timed out",
		[VM_WAIT_STOPPED] = "stopped",
		[VM_WAIT_ERROR] = "wait failed",
	};

	b->waited = true;
	if (o == VM_WAIT_READY)
		return strv_push(&b->ready, name);
	return strv_pushf(&b->not_ready, "%s (%s)", name, why[o]);
}

int vm_batch_interrupted(const struct vm_batch *b, unsigned i, int sig, char **err)
{
	return report_error(err, -EINTR, "interrupted by signal %s: %u of %u VMs not attempted",
			    signal_name(sig), b->count - i + 1, b->count);
}

int vm_batch_summary(const struct vm_batch *b, char **line, char **err, enum vm_batch_verdict *verdict)
{
	_cleanup_free_ char *made = strv_join(b->made, ", "), *failed = strv_join(b->failed, ", ");
	_cleanup_free_ char *ready = strv_join(b->ready, ", "), *not_ready = strv_join(b->not_ready, ", ");
	_cleanup_free_ char *skipped = strv_join(b->skipped, ", "), *skip_text = NULL;
	_cleanup_free_ char *e1 = NULL, *e2 = NULL;
	size_t n_made = strv_length(b->made), n_not_ready = strv_length(b->not_ready);
	size_t n_skipped = strv_length(b->skipped);

	*line = NULL;
	*err = NULL;
	*verdict = VM_BATCH_OK;
	if ((b->made && !made) || (b->failed && !failed) || (b->ready && !ready) || (b->not_ready && !not_ready) ||
	    (b->skipped && !skipped))
		return -ENOMEM;
	skip_text = strdupf("; skipped %zu that exist%s: %s", n_skipped, n_skipped == 1 ? "s" : "",
			    skipped ? skipped : "");
	if (!skip_text)
		return -ENOMEM;
	*line = strdupf("%s %zu of %u VMs%s%s%s%s%s", b->dry_run ? "Checked" : "Created", n_made, b->count,
			n_made ? ": " : "", n_made ? made : "", !b->waited ? "" : b->ready ? "; ready: " : "; none ready",
			b->waited && b->ready ? ready : "", n_skipped ? skip_text : "");
	if (!*line)
		return -ENOMEM;
	if (n_made + n_skipped != b->count) {
		*verdict = VM_BATCH_NOT_ALL;
		e1 = strdupf("%zu of %u VMs %s%s%s", (size_t)b->count - n_made - n_skipped, b->count,
			     b->dry_run ? "failed the checks" : "not created", failed ? ": " : "", failed ? failed : "");
		if (!e1)
			return -ENOMEM;
	}
	if (n_not_ready) {
		if (*verdict == VM_BATCH_OK)
			*verdict = VM_BATCH_NOT_READY;
		e2 = strdupf("%zu of %u VMs not ready: %s", n_not_ready, b->count, not_ready);
		if (!e2)
			return -ENOMEM;
	}
	if (!e1 && !e2)
		return 0;
	*err = e1 && e2 ? strdupf("%s; %s", e1, e2) : strdup(e1 ? e1 : e2);
	return *err ? 0 : -ENOMEM;
}
