/* SPDX-License-Identifier: MIT */
/* The NoCloud seed ISO (volume "cidata", Joliet + Rock Ridge) via libisofs. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
/* the public copy of struct burn_source, without libburn */
#define LIBISOFS_WITHOUT_LIBBURN 1
#include <libisofs/libisofs.h>

#include "cleanup.h"
#include "fdio.h"
#include "report.h"
#include "seed.h"
#include "banned.h"

#define SEED_VOLUME_ID "cidata"
#define ISO_BLOCK 2048

static int iso_errno(int ret)
{
	return ret == (int)ISO_OUT_OF_MEM ? -ENOMEM : -EIO;
}

static int add_file(IsoImage *image, const char *name, const char *data, size_t len, char **err)
{
	unsigned char *copy = malloc(len ? len : 1);
	IsoStream *stream = NULL;
	int ret;

	if (!copy)
		return -ENOMEM;
	memcpy(copy, data, len);
	ret = iso_memory_stream_new(copy, len, &stream);
	if (ret < 0) {
		free(copy);
		return report_error(err, iso_errno(ret), "cannot build the seed image: %s", iso_error_to_msg(ret));
	}
	/* on success the file takes the stream's reference, and the stream owns copy */
	ret = iso_image_add_new_file(image, iso_image_get_root(image), name, stream, NULL);
	if (ret < 0) {
		iso_stream_unref(stream);
		return report_error(err, iso_errno(ret), "cannot build the seed image: %s", iso_error_to_msg(ret));
	}
	return 0;
}

/* Reads the image from the burn source and writes it to fd. */
static int copy_image(struct burn_source *src, int fd, char **err)
{
	unsigned char buf[ISO_BLOCK];
	int r;

	for (;;) {
		/* one block per call, as libburn reads it: a bigger buffer would
		 * lose the image's last partial chunk */
		int n = src->read_xt(src, buf, (int)sizeof(buf));
		if (n < 0)
			return report_error(err, -EIO, "cannot build the seed image: %s", "libisofs failed to produce it");
		if (n == 0)
			return 0;
		r = write_full(fd, buf, (size_t)n);
		if (r < 0)
			return report_error(err, r, "cannot write the seed image: %s", strerror(-r));
	}
}

static int build(int fd, const struct seed_file *files, size_t n, char **err)
{
	IsoImage *image = NULL;
	IsoWriteOpts *opts = NULL;
	struct burn_source *src = NULL;
	int ret, r;

	ret = iso_image_new(SEED_VOLUME_ID, &image);
	if (ret < 0)
		return report_error(err, iso_errno(ret), "cannot build the seed image: %s", iso_error_to_msg(ret));
	r = 0;
	for (size_t i = 0; i < n && r == 0; i++)
		r = add_file(image, files[i].name, files[i].data, files[i].len, err);
	if (r < 0)
		goto out;

	ret = iso_write_opts_new(&opts, 0);
	if (ret >= 0)
		ret = iso_write_opts_set_iso_level(opts, 2);
	if (ret >= 0)
		ret = iso_write_opts_set_rockridge(opts, 1);
	if (ret >= 0)
		ret = iso_write_opts_set_joliet(opts, 1);
	/* Joliet names exactly as genisoimage (cloud-localds) writes them,
	 * "user-data": libisofs would add a dot ("user-data.") and a version
	 * (";1"), and readers that take Joliet names as they are would not find
	 * the files (bit1: Joliet only; the ISO 9660 names, which Rock Ridge
	 * names cover, stay standard) */
	if (ret >= 0)
		ret = iso_write_opts_set_no_force_dots(opts, 2);
	if (ret >= 0)
		ret = iso_write_opts_set_omit_version_numbers(opts, 2);
	/* keep the label lower case, "cidata", as genisoimage -V writes it */
	if (ret >= 0)
		ret = iso_write_opts_set_relaxed_vol_atts(opts, 1);
	/* root-owned, world-readable files, as genisoimage -r makes them */
	if (ret >= 0)
		ret = iso_write_opts_set_replace_mode(opts, 1, 1, 1, 1);
	if (ret >= 0)
		ret = iso_image_create_burn_source(image, opts, &src);
	if (ret < 0) {
		r = report_error(err, iso_errno(ret), "cannot build the seed image: %s", iso_error_to_msg(ret));
		goto out;
	}
	r = copy_image(src, fd, err);
	if (r < 0)
		src->cancel(src);    /* ends libisofs' writer thread */
	src->free_data(src);
	free(src);
	if (r == 0 && fsync(fd) < 0)
		r = report_error(err, -errno, "cannot write the seed image: %s", strerror(errno));
out:
	if (opts)
		iso_write_opts_free(opts);
	iso_image_unref(image);
	return r;
}

int seed_write_iso(int fd, const char *user_data, size_t user_len, const char *meta_data,
		   size_t meta_len, char **err)
{
	const struct seed_file files[] = {
		{ "user-data", user_data, user_len },
		{ "meta-data", meta_data, meta_len },
	};

	return seed_write_files(fd, files, 2, err);
}

int seed_write_files(int fd, const struct seed_file *files, size_t n, char **err)
{
	int ret, r;

	if (err)
		*err = NULL;
	/* bit0: leave the process locale alone */
	ret = iso_init_with_flag(1);
	if (ret < 0)
		return report_error(err, iso_errno(ret), "cannot initialise libisofs: %s", iso_error_to_msg(ret));
	/* libisofs prints its messages to stderr by default; qvm reports errors
	 * itself from the return codes */
	iso_set_msgs_severities("NEVER", "NEVER", "libisofs");
	r = build(fd, files, n, err);
	iso_finish();
	return r;
}
