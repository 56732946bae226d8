/* SPDX-License-Identifier: MIT */
/* qvm vm --dry-run: everything a real run would check, and the commands it
 * would run, with no change. */
#ifndef QVM_VMDRYRUN_H
#define QVM_VMDRYRUN_H

struct report;
struct vm_plan;

/*
 * Builds the seed in a temporary file, runs virt-install --print-xml
 * --dry-run against the base images' devices (the disks do not exist),
 * and says to rep what a real run would do. Returns 0 or <0 with *err
 * (task "validating virtual machine").
 */
int vm_dry_run(struct vm_plan *p, const struct report *rep, char **err);

#endif
