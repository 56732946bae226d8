/* SPDX-License-Identifier: MIT */
/* qvm vm's changes (SPEC §3.4 steps 2-6), each recorded in the plan's undo
 * journal as it is made: the seed, the disks, the domain, then the disks
 * marked ready. */
#ifndef QVM_VMCREATE_H
#define QVM_VMCREATE_H

struct report;
struct vm_plan;

/*
 * Makes the VM of a checked plan (vm_plan_check), saying each step to
 * rep; ends with "VM NAME created". Returns 0, or <0 with *err (task
 * "provisioning virtual machine") and the changes made so far still in
 * the journal: the caller prints the error, then calls vm_rollback.
 */
int vm_create(struct vm_plan *p, const struct report *rep, char **err);

/* Undoes what a failed vm_create made, newest first. */
void vm_rollback(struct vm_plan *p, const struct report *rep);

#endif
