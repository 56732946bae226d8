/* SPDX-License-Identifier: MIT */
/* The import job (SPEC §2): a cloud image - a local file or an http(s)
 * URL, raw, in a format qemu-img converts, compressed, or in a tar
 * archive - into a new zvol and its @base snapshot. Everything is checked
 * before the first change; every change is undone if a later step fails.
 * What it does is told through a struct report; what went wrong is
 * returned as text, for the caller to print. */
#ifndef QVM_IMPORT_H
#define QVM_IMPORT_H

#include <stdbool.h>

struct report;

/* What the user asked for; the strings must outlive the job. */
struct import_request {
	const char *source;          /* a path or an http(s) URL */
	const char *zvol;            /* POOL/.../NAME, to be created */
	const char *size;            /* --size as given (zfs's grammar), or NULL */
	const char *sha256;          /* the digest to verify, or NULL */
	const char *sha512;
	const char *checksum_file;   /* a SHA256SUMS-style file (path or URL) with it */
	const char *osinfo;          /* recorded as qvm:osinfo, or NULL (checked by the caller) */
	const char *user;            /* recorded as qvm:user, or NULL (checked by the caller) */
	const char *label;           /* what messages call the source (a catalog
				      * entry: "debian-12 (URL)"), or NULL: the source */
	bool force;                  /* a raw image with no disk signature in it */
	bool live;                   /* progress drawn on a terminal */
};

struct import;

/* A job for req (NULL: out of memory). */
struct import *import_new(const struct import_request *req);
/*
 * Everything before the first change: the options, the checksum, the
 * source (opened, its format and size found, its content checked, a copy
 * made where qemu-img must read one) and the target zvol. 0, or -1 with
 * *err (malloc'd) what is wrong.
 */
int import_check(struct import *im, const struct report *rep, char **err);
/*
 * After import_check(): creates the zvol, writes the image into it,
 * verifies the checksum, snapshots it and marks it ready. 0, or -1 with
 * *err; the changes made are still there for import_end() to undo, so
 * that the error can be told first.
 */
int import_run(struct import *im, const struct report *rep, char **err);
/* Undoes what a failed import_run() changed and frees the job (NULL: nothing). */
void import_end(struct import *im);

#endif
