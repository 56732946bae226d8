/* SPDX-License-Identifier: MIT */
/* The cloud-init seed's files, from the qvm file (SPEC §3.3). */
#ifndef QVM_VMSEED_H
#define QVM_VMSEED_H

#include "seed.h"

struct qvm_file;

/* user-data, meta-data, and network-config and vendor-data when the file
 * has them. */
struct vm_seed_docs {
	struct seed_file files[4];
	char *text[4];
	size_t n;
};

/* Renders f's documents into d. 0 or -errno (d then empty). */
int vm_seed_docs_build(const struct qvm_file *f, struct vm_seed_docs *d);
void vm_seed_docs_clear(struct vm_seed_docs *d);

#endif
