/* SPDX-License-Identifier: MIT */
/* The import job: its checks before any change (the options, the
 * checksum to verify, the target zvol; the source's own in
 * import-source.c), then the changes, each recorded in the undo journal:
 * the zvol, the image written into it, its @base snapshot, its mark. */
#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "device.h"
#include "imgwrite.h"
#include "import-job.h"
#include "marks.h"
#include "msgtext.h"
#include "names.h"
#include "progress.h"
#include "qemuimg.h"
#include "settings.h"
#include "signals.h"
#include "size.h"
#include "strv.h"
#include "target.h"
#include "undo-steps.h"
#include "zfs.h"
#include "banned.h"

/* a checksum file is no larger than this */
#define SUMS_LIMIT (16u << 20)

const char *import_alg_label(enum digest_alg alg)
{
	return alg == DIGEST_SHA512 ? "SHA-512" : "SHA-256";
}

int import_interrupted(struct import *im)
{
	return import_fail(im, "interrupted by signal %s", signal_name(signal_pending()));
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

char *import_source_name(const char *source)
{
	size_t len = strcspn(source, "?#");

	while (len > 0 && source[len - 1] == '/')
		len--;
	size_t start = len;
	while (start > 0 && source[start - 1] != '/')
		start--;
	return strndup(source + start, len - start);
}

int import_size_parse(const char *s, uint64_t *bytes, char **err)
{
	const char *why = "zero bytes";

	if (size_parse(s, bytes, &why) < 0 || *bytes == 0)
		return report_error(err, -EINVAL, "invalid --size '%s' (%s): expected a number of bytes, "
				    "optionally with a K, M, G or T suffix", s, why);
	return 0;
}

/* A checksum file published for this one file: NAME.sha256, NAME.SHA512
 * ... beside NAME. Its one digest is NAME's even where its line names
 * another file (Arch's "latest" links name the build's file) or none
 * (Alpine's cloud images have a bare digest). */
static bool per_file_sums(const char *sums, const char *name)
{
	_cleanup_free_ char *base = import_source_name(sums);
	size_t n = strlen(name);

	if (!base || strncmp(base, name, n) != 0 || base[n] != '.')
		return false;
	return strcasecmp(base + n + 1, "sha256") == 0 || strcasecmp(base + n + 1, "sha512") == 0 ||
	       strcasecmp(base + n + 1, "sha256sum") == 0 || strcasecmp(base + n + 1, "sha512sum") == 0;
}

/* --sha256 / --sha512 / --checksum-file: the digest to verify, before
 * anything. */
static int expected_digest(struct import *im)
{
	const char *h256 = im->req.sha256, *h512 = im->req.sha512, *sums = im->req.checksum_file;
	_cleanup_free_ char *text = NULL, *why = NULL;
	const char *other = NULL;
	size_t text_len = 0;
	int r;

	if (!!h256 + !!h512 + !!sums > 1)
		return import_fail(im, "give one of --sha256, --sha512 and --checksum-file");
	if (h256 || h512) {
		const char *hex = h256 ? h256 : h512;
		enum digest_alg other_alg = h256 ? DIGEST_SHA512 : DIGEST_SHA256;
		im->alg = h256 ? DIGEST_SHA256 : DIGEST_SHA512;
		if (digest_parse_hex(im->alg, hex, im->expected) == 0)
			return 0;
		if (strlen(hex) == digest_hex_len(other_alg))
			return import_fail(im, "invalid --%s value '%s': expected %zu hexadecimal digits "
					   "(%zu are a %s digest: give it with --%s)", digest_name(im->alg), hex,
					   digest_hex_len(im->alg), digest_hex_len(other_alg),
					   import_alg_label(other_alg), digest_name(other_alg));
		return import_fail(im, "invalid --%s value '%s': expected %zu hexadecimal digits",
				   digest_name(im->alg), hex, digest_hex_len(im->alg));
	}
	if (!sums)
		return 0;
	r = input_read_small(sums, SUMS_LIMIT, &text, &text_len, &why);
	if (r == -EINTR)
		return import_interrupted(im);
	if (r < 0)
		return import_fail(im, "cannot read checksum file '%s': %s", sums,
				   r == -EFBIG ? "too large for a checksum file" : why ? why : strerror(-r));
	/* a NUL would end the text early: what follows it (a signed part)
	 * would not be read as what it is */
	if (strlen(text) != text_len)
		return import_fail(im, "checksum file '%s' holds a NUL byte: it is no checksum file", sums);
	r = digest_find_in_sums(text, im->name, &im->alg, im->expected, &other);
	if (r == -ENOENT && per_file_sums(sums, im->name))
		r = digest_single_in_sums(text, &im->alg, im->expected);
	if (r == -ENOENT)
		return import_fail(im, "checksum file '%s' has no entry for '%s'", sums, im->name);
	if (r == -ENOTUNIQ)
		return import_fail(im, "checksum file '%s' gives '%s' two different digests: which is right "
				   "cannot be told", sums, im->name);
	if (r == -EPROTONOSUPPORT)
		return import_fail(im, "checksum file '%s' has only a %s digest for '%s': qvm verifies "
				   "SHA-256 and SHA-512", sums, other, im->name);
	if (r < 0)
		return import_fail(im, "checksum file '%s' has no valid %s digest for '%s'", sums,
				   import_alg_label(im->alg), im->name);
	return 0;
}

/* The zvol must be new and its parent an existing filesystem: one zfs call
 * asks about the zvol, its parent and its pool. */
static int check_target(struct import *im)
{
	const char *zvol = im->req.zvol, *why;
	_cleanup_free_ char *err = NULL, *parent = NULL, *pool = NULL;
	char *types[3] = { NULL, NULL, NULL };
	int r;

	if (!dataset_name_valid(zvol, false, &why))
		return import_fail(im, "invalid zvol name '%s': %s", zvol, why);
	parent = dataset_parent(zvol);
	if (!parent)
		return import_fail(im, "invalid zvol name '%s': a zvol needs a parent dataset (POOL/NAME)", zvol);
	pool = dataset_pool(zvol);
	if (!pool)
		return import_fail(im, "%s", strerror(ENOMEM));

	r = zfs_get_types((const char *[]){ zvol, parent, pool }, 3, types, NULL, &err);
	if (r < 0)
		return import_fail(im, "cannot check whether %s exists: %s", zvol, err ? err : strerror(-r));
	_cleanup_free_ char *zvol_type = types[0], *parent_type = types[1], *pool_type = types[2];
	const struct target t = {
		.dataset = zvol, .type = zvol_type,
		.parent = parent, .parent_type = parent_type,
		.pool = pool, .pool_type = pool_type,
	};
	return target_check(&t, TARGET_IMAGE, &im->err) < 0 ? -1 : 0;
}

/* The source as messages show it: a URL's password masked, control
 * characters escaped (a URL or a path may hold anything). */
static char *shown_source(const char *source, bool is_url)
{
	_cleanup_free_ char *redacted = is_url ? fetch_url_redacted(source) : strdup(source);
	size_t size;
	char *shown;

	if (!redacted)
		return NULL;
	size = 4 * strlen(redacted) + 4;    /* each byte at most "\xNN" */
	if (!(shown = malloc(size)))
		return NULL;
	msg_text(shown, size, redacted, strlen(redacted));
	return shown;
}

struct import *import_new(const struct import_request *req)
{
	struct import *im = calloc(1, sizeof(*im));

	if (!im)
		return NULL;
	im->req = *req;
	im->is_url = fetch_is_url(req->source);
	im->in.fd = -1;
	im->tmp.fd = -1;
	if (!(im->source = shown_source(req->source, im->is_url))) {
		free(im);
		return NULL;
	}
	/* a catalog entry: its name first, then where it is */
	if (req->label) {
		_cleanup_free_ char *label = shown_source(req->label, false);
		char *both = NULL;
		if (!label || asprintf(&both, "%s (%s)", label, im->source) < 0) {
			free(im->source);
			free(im);
			return NULL;
		}
		free(im->source);
		im->source = both;
	}
	return im;
}

/* The job's error, handed to the caller. */
static int give_error(struct import *im, char **err)
{
	free(*err);
	*err = TAKE_PTR(im->err);
	if (!*err)
		*err = strdup(strerror(ENOMEM));
	return -1;
}

/* Everything before the first change. */
static int check(struct import *im)
{
	char sz[32];

	if (settings_device_timeout(&im->timeout) < 0)
		return import_fail(im, "QVM_DEVICE_TIMEOUT must be a whole number of seconds (0-86400)");
	if (im->req.size && import_size_parse(im->req.size, &im->size_opt, &im->err) < 0)
		return -1;
	im->name = import_source_name(im->req.source);
	if (!im->name)
		return import_fail(im, "%s", strerror(ENOMEM));
	if (expected_digest(im) < 0)
		return -1;

	report(im->rep, REPORT_BEGIN, "Checking image %s and zvol %s", im->source, im->req.zvol);
	if (import_open_source(im) < 0 || check_target(im) < 0)
		return -1;
	/* a signal while zfs answered (it runs to its end) */
	if (signal_pending())
		return import_interrupted(im);
	if (im->expected[0] && !(im->in.hash = digest_new(im->alg)))
		return import_fail(im, "%s", strerror(ENOMEM));
	if (im->fmt == SOURCE_RAW && !im->is_url)
		report(im->rep, REPORT_DONE, "%s", size_format(im->in.size, sz, sizeof(sz)));
	else if (im->in.size != INPUT_SIZE_UNKNOWN)
		report(im->rep, REPORT_DONE, "%s, %s", source_format_name(im->fmt),
		       size_format(im->in.size, sz, sizeof(sz)));
	else
		report(im->rep, REPORT_DONE, "%s", source_format_name(im->fmt));
	im->mark_source = im->is_url ? fetch_url_redacted(im->req.source) : realpath(im->req.source, NULL);
	if (!im->mark_source && !(im->mark_source = strdup(im->req.source)))
		return import_fail(im, "%s", strerror(ENOMEM));
	return import_examine(im);
}

int import_check(struct import *im, const struct report *rep, char **err)
{
	im->rep = rep;
	return check(im) < 0 ? give_error(im, err) : 0;
}

/* qemu-img converts the image into the device. */
static int convert_image(struct import *im, const char *device, int dev_fd)
{
	_cleanup_free_ char *err = NULL;
	struct timespec t0;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	report(im->rep, REPORT_BEGIN, "Converting %s image %s to %s", source_format_name(im->fmt),
	       im->source, device);
	/* qemu-img draws its own progress on the lines between */
	if (im->req.live)
		report(im->rep, REPORT_DONE, "%s", "");
	r = qemu_img_convert(im->qemu_path, source_format_name(im->fmt), device, im->req.live, &err);
	if (im->req.live)
		report(im->rep, REPORT_DONE, "%s", "");
	/* -EINTR alone is qemu-img killed, by someone else: its failure */
	if (signal_pending())
		return import_interrupted(im);
	if (r < 0)
		return import_fail(im, "qemu-img could not convert '%s': %s", im->source,
				   err ? err : strerror(-r));
	if (fsync(dev_fd) < 0)
		return import_fail(im, "cannot flush device %s: %s", device, strerror(errno));
	if (import_still_sound(im) < 0)
		return -1;
	if (im->req.live)
		report(im->rep, REPORT_STEP, "Converted in %.1f s", seconds_since(&t0));
	else
		report(im->rep, REPORT_DONE, "converted in %.1f s", seconds_since(&t0));
	return 0;
}

/* A raw image, plain or in a stream, written into the device. */
static int write_image(struct import *im, const char *device, int dev_fd)
{
	struct imgwrite_raw raw = { .fd = im->in.fd, .size = im->image_size };
	struct imgwrite_stream stream = { .max = im->volsize };
	struct imgwrite_job job = { .out_fd = dev_fd, .total = im->image_size };
	struct imgwrite_stats stats = { 0 };
	enum imgwrite_stage stage;
	struct progress pr;
	struct timespec t0;
	char label[1024], sz[32];
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (im->fmt == SOURCE_RAW && !im->is_url) {
		raw.hash = im->in.hash ? digest_update : NULL;
		raw.hash_ctx = im->in.hash;
		job.fill = imgwrite_raw_fill;
		job.fill_ctx = &raw;
		snprintf(label, sizeof(label), "Writing image %s to %s", im->source, device);
	} else {
		stream.next = im->ar ? archive_reader_next : lookahead_next;
		stream.next_ctx = im->ar ? (void *)im->ar : (void *)&im->raw;
		job.fill = imgwrite_stream_fill;
		job.fill_ctx = &stream;
		if (im->disk.name)
			snprintf(label, sizeof(label), "Writing %s from %s (tar%s%s) to %s", im->disk.name,
				 im->source, im->disk.compression ? ", " : "",
				 im->disk.compression ? im->disk.compression : "", device);
		else
			snprintf(label, sizeof(label), "Writing image %s (%s) to %s", im->source,
				 im->disk.compression ? im->disk.compression : source_format_name(im->fmt),
				 device);
	}
	report(im->rep, REPORT_BEGIN, "%s", label);
	progress_start(&pr, im->rep, im->req.live, label, im->image_size);
	job.progress = progress_cb;
	job.userdata = &pr;
	r = imgwrite_run(&job, &stats, &stage);
	progress_end(&pr);
	if (r == -EINTR)
		return import_interrupted(im);
	if (r == -EFBIG)
		return import_fail(im, "the image in '%s' is larger than the zvol (%s)%s", im->source,
				   size_format(im->volsize, sz, sizeof(sz)),
				   im->size_opt ? ": give a larger --size" : "");
	if (r < 0 && stage == IMGWRITE_READ)
		return im->ar ? import_archive_failed(im, r) : import_input_failed(im, r);
	if (r < 0 && stage == IMGWRITE_WRITE)
		return import_fail(im, "cannot write to device %s: %s", device, strerror(-r));
	if (r < 0)
		return import_fail(im, "cannot flush device %s: %s", device, strerror(-r));

	if (im->ar && import_finish_archive(im) < 0)
		return -1;
	/* the checksum covers the whole source: what the archive left unread
	 * (a raw local file was hashed by its own reader, holes included) */
	if (im->in.hash && (im->ar || im->is_url)) {
		r = input_drain(&im->in);
		if (r < 0)
			return import_input_failed(im, r);
	}
	if (im->is_url && im->in.size != INPUT_SIZE_UNKNOWN && im->in.consumed != im->in.size &&
	    !im->ar)
		return import_fail(im, "cannot download %s: the transfer ended after %llu of %llu bytes",
				   im->source, (unsigned long long)im->in.consumed,
				   (unsigned long long)im->in.size);
	report(im->rep, REPORT_DONE, "wrote %s of data in %.1f s", size_format(stats.written, sz, sizeof(sz)),
	       seconds_since(&t0));
	return 0;
}

/* The zvol created, recorded for undo, and its device opened. */
static int create_zvol(struct import *im, const char *device, int *dev_fd)
{
	_cleanup_strv_free_ char **marks = NULL;
	_cleanup_free_ char *err = NULL;
	const char *zvol = im->req.zvol;
	uint64_t dev_size;
	char sz[32], sz2[32];
	int r;

	if (marks_image(im->mark_source, im->req.osinfo, im->req.user, &marks) < 0 ||
	    (im->expected[0] && strv_pushf(&marks, "qvm:%s=%s", digest_name(im->alg), im->expected) < 0) ||
	    undo_prepare_destroy(&im->undo, zvol, 1) < 0)
		return import_fail(im, "%s", strerror(ENOMEM));
	if (signal_pending())
		return import_interrupted(im);

	/* say where a size that is not the file's own came from */
	const char *from = im->size_opt ? "--size" : im->size_from;
	report(im->rep, REPORT_BEGIN, "Creating zvol %s (%s%s%s)", zvol,
	       size_format(im->volsize, sz, sizeof(sz)), from ? ", " : "", from ? from : "");
	r = zfs_create_volume(zvol, im->volsize, marks, &err);
	if (r < 0)
		return import_fail(im, "cannot create zvol %s: %s", zvol, err ? err : strerror(-r));
	undo_arm(&im->undo);
	report(im->rep, REPORT_DONE, "done");

	report(im->rep, REPORT_BEGIN, "Waiting for device %s", device);
	r = device_wait(device, im->timeout);
	if (r == -EINTR)
		return import_interrupted(im);
	if (r == -ETIMEDOUT)
		return import_fail(im, "device %s did not appear within %u seconds", device, im->timeout);
	if (r < 0)
		return import_fail(im, "cannot find device %s: %s", device, strerror(-r));
	r = device_open_write(device, dev_fd, &dev_size);
	if (r == -ENODEV)
		return import_fail(im, "cannot open device %s: not a block device", device);
	if (r < 0)
		return import_fail(im, "cannot open device %s: %s", device, strerror(-r));
	if (dev_size < im->image_size)
		return import_fail(im, "device %s holds %s, less than the image's %s", device,
				   size_format(dev_size, sz, sizeof(sz)),
				   size_format(im->image_size, sz2, sizeof(sz2)));
	report(im->rep, REPORT_DONE, "done");
	return 0;
}

/* The @base snapshot, then the mark that makes the zvol a finished image. */
static int finish_zvol(struct import *im)
{
	_cleanup_free_ char *err = NULL, *snap = NULL;
	const char *zvol = im->req.zvol;
	int r;

	if (signal_pending())
		return import_interrupted(im);
	report(im->rep, REPORT_BEGIN, "Creating snapshot %s@base", zvol);
	if (asprintf(&snap, "%s@base", zvol) < 0) {
		snap = NULL;
		return import_fail(im, "%s", strerror(ENOMEM));
	}
	r = zfs_snapshot(snap, &err);
	if (r < 0)
		return import_fail(im, "cannot create snapshot %s: %s", snap, err ? err : strerror(-r));
	report(im->rep, REPORT_DONE, "done");

	/* the last change: from here on the zvol is a finished image */
	if (signal_pending())
		return import_interrupted(im);
	free(TAKE_PTR(err));
	r = zfs_set(zvol, MARK_STATE "=" MARK_STATE_READY, &err);
	if (r < 0)
		return import_fail(im, "cannot mark zvol %s as ready: %s", zvol, err ? err : strerror(-r));
	/* a signal during that last step still means: roll back, die of it */
	if (signal_pending())
		return import_interrupted(im);
	return 0;
}

/* Everything that changes the host. */
static int import_into(struct import *im)
{
	_cleanup_free_ char *device = NULL;
	_cleanup_close_ int dev_fd = -1;

	if (!size_round_up(im->size_opt ? im->size_opt : im->image_size, MIB, &im->volsize))
		return import_fail(im, "image '%s' is too large", im->source);
	device = settings_zvol_device(im->req.zvol);
	if (!device)
		return import_fail(im, "%s", strerror(ENOMEM));
	if (create_zvol(im, device, &dev_fd) < 0)
		return -1;
	if (source_is_qemu(im->fmt) ? convert_image(im, device, dev_fd) < 0
				    : write_image(im, device, dev_fd) < 0)
		return -1;
	if (close(TAKE_FD(dev_fd)) < 0)
		return import_fail(im, "cannot write to device %s: %s", device, strerror(errno));
	if (import_verify_digest(im) < 0)
		return -1;
	return finish_zvol(im);
}

int import_run(struct import *im, const struct report *rep, char **err)
{
	im->rep = rep;
	if (import_into(im) < 0)
		return give_error(im, err);
	undo_commit(&im->undo);
	if (im->expected[0])
		report(rep, REPORT_STEP, "Imported %s as %s@base (%s %s verified)", im->source, im->req.zvol,
		       digest_name(im->alg), im->expected);
	else
		report(rep, REPORT_STEP, "Imported %s as %s@base", im->source, im->req.zvol);
	return 0;
}

void import_end(struct import *im)
{
	if (!im)
		return;
	/* a failed run's changes (none after a success: the journal is empty) */
	undo_rollback(&im->undo, im->rep);
	archive_reader_free(im->ar);
	lookahead_clear(&im->raw);
	input_close(&im->in);
	spool_close(&im->tmp);
	free(im->qemu_path);
	free(im->mark_source);
	free(im->source);
	free(im->name);
	free(im->err);
	free(im);
}
