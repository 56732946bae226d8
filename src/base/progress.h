/* SPDX-License-Identifier: MIT */
/* A live progress line on a terminal: "LABEL... 42% 1.2 GiB of 3.0 GiB,
 * 310 MiB/s, 0:06 left", redrawn at most a few times a second through a
 * report (REPORT_PROGRESS). Not a terminal, or quiet: nothing (the step
 * lines say enough). */
#ifndef QVM_PROGRESS_H
#define QVM_PROGRESS_H

#include <stdint.h>
#include <time.h>

struct report;
struct progress {
	const struct report *rep;    /* where the line is drawn */
	int live;                    /* stdout is a terminal and not quiet */
	char label[256];             /* the step's text, redrawn before the numbers */
	uint64_t total;              /* 0: unknown */
	struct timespec t0, last;
	int drawn;
};

/* live: draw at all. label: the step's REPORT_BEGIN text. */
void progress_start(struct progress *p, const struct report *rep, int live, const char *label,
		    uint64_t total);
void progress_update(struct progress *p, uint64_t done);
/* Erases the numbers, leaving "LABEL... " for the step's REPORT_DONE. */
void progress_end(struct progress *p);
/* For imgwrite_progress_fn. */
void progress_cb(uint64_t done, uint64_t total, void *p);

#endif
