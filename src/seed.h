/* SPDX-License-Identifier: MIT */
/* The cloud-init NoCloud seed: an ISO 9660 image (Joliet + Rock Ridge,
 * volume label "cidata") holding user-data and meta-data, built in-process
 * with libisofs. */
#ifndef QVM_SEED_H
#define QVM_SEED_H

#include <stddef.h>

/*
 * Writes the whole image to fd (an open, empty regular file) and fsyncs it.
 * Returns 0 or -errno; on failure *err (if non-NULL) is a malloc'd message.
 */
int seed_write_iso(int fd, const char *user_data, size_t user_len,
		   const char *meta_data, size_t meta_len, char **err);

#endif
