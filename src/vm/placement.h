/* SPDX-License-Identifier: MIT */
/* qvm vm --host auto: which host of the hosts file a VM goes to - one that
 * has every base snapshot the file clones, and of those the one with the
 * most free memory - and the words that say why. What each host has is
 * asked by the command (a child qvm per host); choosing is pure. */
#ifndef QVM_PLACEMENT_H
#define QVM_PLACEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What one host answered. */
struct placement_host {
	const char *name;            /* its name in the hosts file */
	bool answered;               /* false: it could not be asked */
	bool has_bases;              /* every base snapshot is there */
	uint64_t free_memory;        /* bytes (libvirt's), when has_bases */
};

/*
 * The host to place on: of those that answered and have the bases, the one
 * with the most free memory; of several with as much, the first (the
 * hosts file's order is the user's preference). Returns its index, or -1
 * when no host has the bases. *with_bases: how many have them.
 */
long placement_choose(const struct placement_host *h, size_t n, size_t *with_bases);

/*
 * Why host `chosen` was chosen, for "Placing VM NAME on HOST: <why>":
 * "it has BASES and the most free memory (12.3 GiB, of 3 hosts with the
 * image)", "... (3.0 GiB, as much as kvm3: the first in the hosts file)",
 * "the only host that has BASES (3.0 GiB free)". bases as the user reads
 * them ("tank/images/debian12@base"). malloc'd, NULL on ENOMEM.
 */
char *placement_reason(const struct placement_host *h, size_t n, size_t chosen, const char *bases);

#endif
