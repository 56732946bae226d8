/* SPDX-License-Identifier: MIT */
/* What qvm destroy removes of one VM, and the removal. The disks are the
 * volumes qvm marked qvm:kind=vm-disk, qvm:vm=NAME - never guessed from
 * paths - and the domain is asked for by the UUID in their qvm:uuid on the
 * URI in their qvm:connect (by name for VMs made before qvm recorded
 * UUIDs). A domain that uses none of them is not qvm's and is left alone,
 * and so is everything of that VM. */
#ifndef QVM_DESTROY_H
#define QVM_DESTROY_H

#include <stdbool.h>

#include "domain.h"

struct inventory;
struct report;

struct destroy_plan {
	const char *name;            /* the caller's */
	char *connect;               /* from the boot disk's qvm:connect; NULL: default */
	char *uuid;                  /* from its qvm:uuid; NULL: made before qvm recorded it */
	char **paths;                /* the disks' devices and the seed: what qvm's domain uses */
	char **disks;                /* datasets marked as this VM's disks */
	char *seed_dir;              /* NULL when there is none */
	struct domain_info domain;
};

/* Finds what of VM name qvm made (inv: every volume; d: asked about its
 * domain) and checks that it may be removed: not being made by a qvm
 * still running, its disks one domain's, that domain using them. 0, or
 * -errno with *err "NAME: why not" (malloc'd). Clear p either way. */
int destroy_plan_make(struct destroy_plan *p, const char *name, const struct inventory *inv,
		      struct domains *d, char **err);
void destroy_plan_clear(struct destroy_plan *p);

/* What p removes, one REPORT_STEP line each ("VM NAME:", "  zvol X"). */
void destroy_plan_show(const struct destroy_plan *p, bool keep_disks, const struct report *rep);

/* Stops and undefines the domain, destroys the disks (unless keep_disks)
 * and removes the seed directory, each step reported; "VM NAME destroyed"
 * at the end. Stops at the first failure - a disk still in use by a domain
 * must not be destroyed - and at a signal: -errno with *err "NAME: why". */
int destroy_plan_run(const struct destroy_plan *p, struct domains *d, bool keep_disks,
		     const struct report *rep, char **err);

#endif
