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
	strv_free(b->skipped);
	b->made = b->failed = b->skipped = NULL;
}

void vm_batch_suffix(unsigned i, char *buf, size_t size)
{
	snprintf(buf, size, "-%u", i);
}

int vm_batch_record(struct vm_batch *b, unsigned i, enum vm_outcome o, const char *name)
{
	char ***list = o == VM_FAILED ? &b->failed : o == VM_SKIPPED ? &b->skipped : &b->made;

	b->no_address += o == VM_NO_ADDRESS;
	return name ? strv_push(list, name) : strv_pushf(list, "%u", i);
}

int vm_batch_interrupted(const struct vm_batch *b, unsigned i, int sig, char **err)
{
	return report_error(err, -EINTR, "interrupted by signal %s: %u of %u VMs not attempted",
			    signal_name(sig), b->count - i + 1, b->count);
}

int vm_batch_summary(const struct vm_batch *b, char **line, char **err, enum vm_batch_verdict *verdict)
{
	_cleanup_free_ char *made = strv_join(b->made, ", "), *failed = strv_join(b->failed, ", "),
			    *skipped = strv_join(b->skipped, ", "), *skip_text = NULL;
	size_t n_made = strv_length(b->made), n_skipped = strv_length(b->skipped);
	int r;

	*line = NULL;
	*verdict = VM_BATCH_OK;
	if ((b->made && !made) || (b->failed && !failed) || (b->skipped && !skipped))
		return -ENOMEM;
	if (asprintf(&skip_text, "; skipped %zu that exist%s: %s", n_skipped, n_skipped == 1 ? "s" : "",
		     skipped ? skipped : "") < 0)
		return -ENOMEM;
	if (asprintf(line, "%s %zu of %u VMs%s%s%s", b->dry_run ? "Checked" : "Created", n_made, b->count,
		     n_made ? ": " : "", n_made ? made : "", n_skipped ? skip_text : "") < 0) {
		*line = NULL;
		return -ENOMEM;
	}
	if (n_made + n_skipped != b->count) {
		*verdict = VM_BATCH_NOT_ALL;
		r = report_error(err, 0, "%zu of %u VMs %s%s%s", (size_t)b->count - n_made - n_skipped, b->count,
				 b->dry_run ? "failed the checks" : "not created", failed ? ": " : "",
				 failed ? failed : "");
	} else if (b->no_address) {
		*verdict = VM_BATCH_NO_ADDRESS;
		r = report_error(err, 0, "%u of %u VMs created without a known address", b->no_address, b->count);
	} else {
		return 0;
	}
	return r == 0 && !*err ? -ENOMEM : 0;
}
