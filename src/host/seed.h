/* SPDX-License-Identifier: MIT */
/* The cloud-init NoCloud seed: an ISO 9660 image (Joliet + Rock Ridge,
 * volume label "cidata") holding user-data and meta-data, built in-process
 * with libisofs; optionally network-config and vendor-data too. */
#ifndef QVM_SEED_H
#define QVM_SEED_H

#include <stddef.h>

/*
 * Writes the whole image to fd (an open, empty regular file) and fsyncs it.
 * Returns 0 or -errno; on failure *err (if non-NULL) is a malloc'd message.
 */
int seed_write_iso(int fd, const char *user_data, size_t user_len,
		   const char *meta_data, size_t meta_len, char **err);

/* One file of the seed's root directory. */
struct seed_file {
	const char *name;            /* "user-data", "network-config", ... */
	const char *data;
	size_t len;
};

/* The same with any files (user-data and meta-data among them). */
int seed_write_files(int fd, const struct seed_file *files, size_t n, char **err);

#endif
