/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "progress.h"
#include "report.h"
#include "size.h"
#include "banned.h"

static double since(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

void progress_start(struct progress *p, const struct report *rep, int live, const char *label,
		    uint64_t total)
{
	memset(p, 0, sizeof(*p));
	p->rep = rep;
	p->live = live;
	snprintf(p->label, sizeof(p->label), "%s", label);
	p->total = total;
	clock_gettime(CLOCK_MONOTONIC, &p->t0);
}

void progress_update(struct progress *p, uint64_t done)
{
	struct timespec now;
	char a[32], b[32], rate[32], eta[32] = "";

	if (!p->live)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (p->drawn && since(&p->last, &now) < 0.25 && done < p->total)
		return;
	p->last = now;
	double secs = since(&p->t0, &now);
	double bps = secs > 0 ? (double)done / secs : 0;
	snprintf(rate, sizeof(rate), "%s/s", size_format((uint64_t)bps, a, sizeof(a)));
	if (p->total && done <= p->total && bps > 0) {
		unsigned long left = (unsigned long)((double)(p->total - done) / bps + 0.5);
		snprintf(eta, sizeof(eta), ", %lu:%02lu left", left / 60, left % 60);
	}
	if (p->total)
		report(p->rep, REPORT_PROGRESS, "%s... %3u%% %s of %s, %s%s", p->label,
		       (unsigned)(done >= p->total ? 100 : done * 100 / p->total),
		       size_format(done, a, sizeof(a)), size_format(p->total, b, sizeof(b)), rate, eta);
	else
		report(p->rep, REPORT_PROGRESS, "%s... %s, %s", p->label, size_format(done, a, sizeof(a)), rate);
	p->drawn = 1;
}

void progress_end(struct progress *p)
{
	if (p->live && p->drawn)
		report(p->rep, REPORT_PROGRESS, "%s... ", p->label);
	p->drawn = 0;
}

void progress_cb(uint64_t done, uint64_t total, void *p)
{
	(void)total;
	progress_update(p, done);
}
