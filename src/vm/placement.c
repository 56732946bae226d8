/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "placement.h"
#include "size.h"
#include "strv.h"
#include "banned.h"

static bool candidate(const struct placement_host *h)
{
	return h->answered && h->has_bases;
}

long placement_choose(const struct placement_host *h, size_t n, size_t *with_bases)
{
	long best = -1;

	*with_bases = 0;
	for (size_t i = 0; i < n; i++) {
		if (!candidate(&h[i]))
			continue;
		(*with_bases)++;
		/* strictly more: an equal one later in the file does not win */
		if (best < 0 || h[i].free_memory > h[best].free_memory)
			best = (long)i;
	}
	return best;
}

char *placement_reason(const struct placement_host *h, size_t n, size_t chosen, const char *bases)
{
	char mem[32];
	size_t with = 0;
	const char *tied = NULL;

	size_format(h[chosen].free_memory, mem, sizeof(mem));
	for (size_t i = 0; i < n; i++) {
		if (!candidate(&h[i]))
			continue;
		with++;
		if (i != chosen && !tied && h[i].free_memory == h[chosen].free_memory)
			tied = h[i].name;
	}
	if (with == 1)
		return strdupf("the only host that has %s (%s free)", bases, mem);
	if (tied)
		return strdupf("it has %s and the most free memory (%s, as much as %s: the first in the hosts file)",
			       bases, mem, tied);
	return strdupf("it has %s and the most free memory (%s, of %zu hosts with the image)", bases, mem, with);
}
