/* SPDX-License-Identifier: MIT */
/* What interrupted qvm runs left behind - zvols still marked
 * qvm:state=creating and seed directories still holding .qvm-creating,
 * whose runs are over - and their removal (qvm cleanup). Never a dataset
 * without qvm's own marks, nor anything of a run still in progress. */
#ifndef QVM_LEFTOVERS_H
#define QVM_LEFTOVERS_H

#include <stddef.h>

struct domains;
struct inventory;
struct report;

struct leftover {
	char *dataset;      /* NULL for a seed directory alone */
	char *kind;         /* image | vm-disk (NULL for a seed directory alone) */
	char *vm;           /* for vm-disk and seed directories */
	char *connect;
	char *uuid;         /* its domain's, when recorded */
	char *seed_dir;     /* seed directory to remove, or NULL */
};

struct leftovers {
	struct leftover *items;
	size_t n;
	char **ready_vms;   /* VMs whose disk is complete: their seed stays */
};

/* The leftovers among inv's volumes and state_dir's seed directories (a
 * VM's seed directory joins its disk). 0, or -errno with *err (malloc'd). */
int leftovers_find(struct leftovers *l, const struct inventory *inv, const char *state_dir, char **err);
void leftovers_clear(struct leftovers *l);

/* What was found, as REPORT_STEP lines (or that there is nothing). */
void leftovers_show(const struct leftovers *l, const struct report *rep);

/* Removes one leftover, its domain (if one of its UUID uses its disk)
 * first, then its seed directory, then its disk, each step reported; the
 * seed directory of a VM whose disk is complete only loses its marker.
 * 0; or -errno, with *err when it is not already reported. */
int leftover_remove(const struct leftovers *l, const struct leftover *item, struct domains *d,
		    const struct report *rep, char **err);

#endif
