/* SPDX-License-Identifier: MIT */
/* qvm's own reading of a disk image's metadata, before any tool opens the
 * image: whether it refers to anything outside itself (a backing file, an
 * external data file, vmdk extents, a parent disk) and whether its tables
 * lie inside the file. An image from the internet that names a host file
 * would otherwise have qemu-img copy that file into the zvol (the bug
 * class of OpenStack's OSSA-2024-001). Only the formats qemu-img converts
 * are inspected; raw data refers to nothing. */
#ifndef QVM_INSPECT_H
#define QVM_INSPECT_H

#include <stdint.h>

#include "source.h"

enum inspect_verdict {
	INSPECT_OK,
	INSPECT_EXTERNAL,            /* refers to a file outside itself */
	INSPECT_DAMAGED,             /* cut short, or tables that make no sense */
	INSPECT_UNSUPPORTED,         /* a variant qvm does not import (encrypted, ...) */
};

struct inspect_result {
	enum inspect_verdict verdict;
	/* what refers outside, or what is wrong: "a backing file '/etc/shadow'",
	 * "its L1 table ends beyond the end of the file (1048576 bytes)" */
	char why[512];
};

/*
 * Inspects an image of format fmt (a source_is_qemu() format), file_size
 * bytes long, read through read_at (see source.h). Returns 0 with
 * res->verdict set, or the -errno of a failed read (reads past the end are
 * never made: a table beyond the end is a verdict). Bounded work: at most
 * a few tables are read, each capped.
 */
int image_inspect(enum source_format fmt, source_read_at_fn read_at, void *ctx, uint64_t file_size,
		  struct inspect_result *res);

/* A source_read_at_fn over a memory buffer (ctx: struct inspect_mem). */
struct inspect_mem {
	const unsigned char *data;
	uint64_t len;
};
int inspect_mem_read(void *ctx, void *buf, size_t len, uint64_t off);

#endif
