/* SPDX-License-Identifier: MIT */
/* The copy job (qvm images copy): an image of this host replicated to the
 * open remote host with zfs send here into zfs recv -s there, qvm's marks
 * kept, an interrupted copy resumed from the host's receive_resume_token.
 * Checked before any change: the image here (before the host is opened),
 * then the target there; what a failed copy leaves is either resumable
 * (and said so), removed if this run made it, or, what a resumed copy
 * finished, left marked for qvm cleanup (and said so). */
#ifndef QVM_COPY_H
#define QVM_COPY_H

#include <stdbool.h>

struct report;

/* What the user asked for; the strings must outlive the job. */
struct copy_request {
	const char *image;       /* POOL/.../NAME: qvm's image here, with NAME@base */
	const char *dataset;     /* its name on the host; NULL: the same */
	bool live;               /* progress drawn on a terminal */
};

struct copy;

/* A job for req (NULL: out of memory). */
struct copy *copy_new(const struct copy_request *req);
/* Before the host is opened: the names, the image (qvm's, imported to the
 * end, with @base), its marks and encryption, the stream's size. 0, or -1
 * with *err. */
int copy_check_here(struct copy *c, const struct report *rep, char **err);
/* On the open host: the dataset free, or holding qvm's own interrupted
 * copy of this image (its marks set on it), of a run that is over, the
 * image not encrypted (then the copy resumes); its parent a filesystem.
 * Any other partial receive is refused, left as it is. 0, or -1 with *err. */
int copy_check_there(struct copy *c, const struct report *rep, char **err);
/* The stream, then the copy marked ready. 0, or -1 with *err; what must
 * be undone is undone by copy_end, after the error is told. */
int copy_run(struct copy *c, const struct report *rep, char **err);
/* Undoes what a failed copy_run left that cannot be resumed; frees the
 * job (NULL: nothing). */
void copy_end(struct copy *c);

#endif
