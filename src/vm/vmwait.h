/* SPDX-License-Identifier: MIT */
/* qvm vm --wait: the new VMs ready, which is cloud-init finished, read from
 * their console logs (vmconsole.h); or, where qvm cannot read the console,
 * an address known to libvirt. */
#ifndef QVM_VMWAIT_H
#define QVM_VMWAIT_H

#include <stddef.h>

struct report;
struct vm_plan;

enum vm_wait_outcome {
	VM_WAIT_PENDING,
	VM_WAIT_READY,               /* cloud-init finished (or, without a console log, an address) */
	VM_WAIT_FAILED,              /* cloud-init finished reporting failures */
	VM_WAIT_TIMEOUT,
	VM_WAIT_STOPPED,             /* the domain stopped running first */
	VM_WAIT_ERROR,               /* its log or its domain could not be read; a signal */
};

struct vm_wait_result {
	enum vm_wait_outcome outcome;
	char *err;                   /* malloc'd, unless ready (task "waiting for virtual machine") */
};

/*
 * Waits up to seconds for all n VMs at once, in one loop over their
 * console logs (and, every second, their domains' states): a VM is ready
 * when cloud-init's final message appears in its log. Says each VM's end
 * to rep as it comes ("VM a ready in 61.3 s", cloud-init's failure lines
 * as warnings), and puts each VM's outcome in results[i]. A VM whose
 * console qvm cannot read (a remote URI, a console writing to no file)
 * waits for its address instead, and rep is told so. A signal ends the
 * wait: every VM still waiting gets VM_WAIT_ERROR. Returns the number of
 * VMs not ready, or -ENOMEM.
 */
int vm_wait_ready(struct vm_plan *const *plans, size_t n, unsigned seconds, const struct report *rep,
		  struct vm_wait_result *results);

void vm_wait_results_clear(struct vm_wait_result *results, size_t n);

/* True if uri names a host ("qemu+ssh://host/system"): what libvirt writes
 * for it is on that host. */
int vm_uri_remote(const char *uri);

#endif
