/* SPDX-License-Identifier: MIT */
/* qemu-img(1), run with an argument vector: the virtual size of a disk
 * image, and its conversion straight onto a zeroed device. */
#ifndef QVM_QEMUIMG_H
#define QVM_QEMUIMG_H

#include <stdint.h>

/* The "virtual-size" of `qemu-img info --output=json` output. Returns 0 or
 * -EINVAL (not JSON, no such number). */
int qemu_img_parse_info(const char *json, uint64_t *virtual_size);

/* qemu-img info --output=json -f FORMAT PATH, parsed. Returns 0, -errno
 * if qemu-img could not be run, or -EIO with *err (qemu-img's message). */
int qemu_img_info(const char *path, const char *format, uint64_t *virtual_size, char **err);

/* qemu-img convert -n --target-is-zero -W -f FORMAT -O raw [-p] SRC DEVICE */
int qemu_img_convert_argv(const char *src, const char *format, const char *device, int progress,
			  char ***argv);
/* Runs it; with progress, qemu-img's progress goes to qvm's stdout.
 * Returns 0, -errno, or -EIO with *err. */
int qemu_img_convert(const char *src, const char *format, const char *device, int progress,
		     char **err);

#endif
