/* SPDX-License-Identifier: MIT */
/* A new zvol's device node: waiting for udev to create it, opening it. */
#ifndef QVM_DEVICE_H
#define QVM_DEVICE_H

#include <stdint.h>

/*
 * Polls until path exists, for up to timeout_sec seconds. Returns 0,
 * -ETIMEDOUT, or -EINTR when a signal is pending.
 */
int device_wait(const char *path, unsigned timeout_sec);

/*
 * Opens a device (or, in tests, a regular file standing in for one) for
 * writing: O_CLOEXEC, O_EXCL for block devices so nobody else has it open.
 * Refuses anything else (-ENODEV). *size is its size in bytes.
 * Returns 0 or -errno.
 */
int device_open_write(const char *path, int *fd, uint64_t *size);

#endif
