/* SPDX-License-Identifier: MIT */
/* qemu-img(1), run with an argument vector: the virtual size of a disk
 * image, its consistency check, and its conversion straight onto a zeroed
 * device. qemu-img is always given the image as a json: spec naming the one
 * file and "backing": null, so it opens no backing file even where qvm's
 * own inspection (inspect.h) missed one. */
#ifndef QVM_QEMUIMG_H
#define QVM_QEMUIMG_H

#include <stdint.h>

/* json:{"driver":FORMAT,"file":{"driver":"file","filename":PATH},"backing":null}
 * ("host_device" for a block device; malloc'd, NULL on ENOMEM). */
char *qemu_img_spec(const char *path, const char *format);

/* From `qemu-img info --output=json` output: "virtual-size", and in *refers
 * (malloc'd, or NULL) a backing file or external data file it reports.
 * Returns 0 or -EINVAL (not JSON, no such number), -ENOMEM. */
int qemu_img_parse_info(const char *json, uint64_t *virtual_size, char **refers);

/* qemu-img info --output=json SPEC, parsed. Returns 0, or with *err (NULL
 * or an earlier message, replaced): -ENOENT (qemu-img not found), -EIO
 * (qemu-img's message), -EINTR (qemu-img killed by a signal), -errno. */
int qemu_img_info(const char *path, const char *format, uint64_t *virtual_size, char **refers,
		  char **err);

/*
 * qemu-img check SPEC. Returns 0 when it found no errors (leaked clusters
 * waste space but harm no data: 0 too), -ENOTSUP when the format has no
 * check, -EBADMSG with *report (qemu-img's own words: its summary and first
 * error) when the image is damaged or the check could not complete,
 * -EINTR (killed by a signal), -ENOENT (qemu-img not found), or -errno if
 * qemu-img could not be run; in those *report says why.
 */
int qemu_img_check(const char *path, const char *format, char **report);
/* Its report from the output of a check that exited with status. */
char *qemu_img_check_report(int status, const char *out, const char *err);

/* qemu-img convert -n --target-is-zero -W -O raw [-p] SPEC DEVICE */
int qemu_img_convert_argv(const char *src, const char *format, const char *device, int progress,
			  char ***argv);
/* Runs it; with progress, qemu-img's progress goes to qvm's stdout, in
 * the user's language. Returns 0, or -errno with *err as qemu_img_info. */
int qemu_img_convert(const char *src, const char *format, const char *device, int progress,
		     char **err);

#endif
