/* SPDX-License-Identifier: MIT */
/* qvm vm --wait: the new VM's address. */
#ifndef QVM_VMWAIT_H
#define QVM_VMWAIT_H

struct report;
struct vm_plan;

/*
 * Polls libvirt (DHCP lease, then the guest agent) once a second, up to
 * seconds, until the guest has an address, and says it to rep. Returns 0
 * or <0 with *err (task "waiting for virtual machine").
 */
int vm_wait_address(const struct vm_plan *p, unsigned seconds, const struct report *rep, char **err);

#endif
