/* SPDX-License-Identifier: MIT */
/* Inside the import job: its state, shared by import.c (the checks before
 * any change, and the changes) and import-source.c (what the source is). */
#ifndef QVM_IMPORT_JOB_H
#define QVM_IMPORT_JOB_H

#include <stdint.h>

#include "archive-reader.h"
#include "digest.h"
#include "import.h"
#include "input.h"
#include "lookahead.h"
#include "report.h"
#include "source.h"
#include "spool.h"
#include "undo.h"

struct import {
	struct import_request req;
	char *source;                /* req.source as messages show it: a
				      * URL's password masked, control
				      * characters escaped */
	int is_url;
	const struct report *rep;    /* of the call running */
	char *err;                   /* what went wrong, for the caller */
	char *mark_source;           /* qvm:source: the URL or the real path */
	char *name;                  /* the file name, for checksum files */
	struct input in;
	enum source_format fmt;
	uint64_t image_size;         /* bytes of disk image (virtual size) */
	uint64_t size_opt;           /* --size, or 0 */
	uint64_t volsize;            /* the zvol's: image_size rounded up to MiB */
	const char *size_from;       /* how image_size was found, for the user */
	enum digest_alg alg;         /* of the digest to verify, or DIGEST_NONE */
	char expected[DIGEST_HEX_MAX + 1];   /* "" unless a digest is to be verified */
	char actual[DIGEST_HEX_MAX + 1];
	int verified;                /* actual was compared with expected */
	struct archive_reader *ar;   /* streams */
	struct archive_disk disk;
	struct lookahead raw;        /* a raw download, its first bytes read ahead */
	struct spool tmp;            /* a copy qemu-img reads, or tmp.fd -1 */
	int held;                    /* the local image is held still (hold.h) */
	char *qemu_path;             /* what qemu-img reads: /proc/PID/fd/N */
	unsigned timeout;            /* for the device to appear */
	struct undo undo;
};

/* The job's error: "return import_fail(im, fmt, ...)" sets it, returns -1. */
#define import_fail(im, ...) report_error(&(im)->err, -1, __VA_ARGS__)

/* The last path component of a path or URL, query and fragment dropped
 * (what a checksum file names): malloc'd, or NULL. */
char *import_source_name(const char *source);
/* --size: zfs's grammar (size.h), more than zero. 0, or -EINVAL with *err. */
int import_size_parse(const char *s, uint64_t *bytes, char **err);

/* "SHA-256" for the user. */
const char *import_alg_label(enum digest_alg alg);
/* The errors every step can end with: a signal, a failed read of the
 * input (a download's own words, or errno), of an archive. All -1. */
int import_interrupted(struct import *im);
int import_input_failed(struct import *im, int r);
int import_archive_failed(struct import *im, int r);

/* import-source.c: the source opened, its format found; then examined
 * (its size, its content checked, a copy made where one is needed). */
int import_open_source(struct import *im);
int import_examine(struct import *im);
/* The digest of what was read against the expected one, once. */
int import_verify_digest(struct import *im);
/* After the disk's data: the rest of the archive, which must hold nothing else. */
int import_finish_archive(struct import *im);
/* After qemu-img read the image: it was not changed meanwhile. */
int import_still_sound(struct import *im);

#endif
