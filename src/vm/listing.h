/* SPDX-License-Identifier: MIT */
/* The rows of qvm list: the VMs qvm made - found by the qvm:kind=vm-disk
 * and qvm:vm marks of their disks - with what libvirt knows of each domain
 * (state, vCPUs, memory, address), asked on the URI in qvm:connect. */
#ifndef QVM_LISTING_H
#define QVM_LISTING_H

#include <stddef.h>
#include <stdint.h>

#include "domain.h"

struct inventory;
struct volume;

struct vm_row {
	const char *name;            /* the inventory's */
	const struct volume *boot;   /* the disk that boots: qvm:disk 0, else the first */
	char **disks;                /* every disk's dataset, the boot disk first */
	uint64_t used;               /* of all its disks */
	struct domain_info info;
	char *ip;
	char *error;                 /* why the domain is not shown, when it is not */
};

/* One row per VM name qvm would give (vm_name_valid), in name order. The
 * rows point into inv. 0 or -ENOMEM. */
int vm_rows_collect(const struct inventory *inv, struct vm_row **rows, size_t *n);
void vm_rows_free(struct vm_row *rows, size_t n);

/* Asks d (NULL: libvirt cannot be asked) about each row's domain. A domain
 * that cannot be asked, or that uses none of the VM's disks and seed (not
 * the VM's), leaves the row's state "unknown" or "undefined" with error
 * saying why: one VM's problem, not the listing's. */
void vm_rows_ask(struct vm_row *rows, size_t n, struct domains *d);

/* The row's state: libvirt's, or "creating" for a disk whose run did not
 * finish (or still runs) and no domain. */
const char *vm_row_state(const struct vm_row *row);

#endif
