/* SPDX-License-Identifier: MIT */
/* The import job's source: opened, its format found, then examined before
 * any change - its size, its content (a disk, self-contained, not
 * damaged), its checksum where it can be verified early - and copied to a
 * temporary file where qemu-img must read what a download or an archive
 * holds. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "content.h"
#include "hold.h"
#include "import-job.h"
#include "inspect.h"
#include "msgtext.h"
#include "progress.h"
#include "qemuimg.h"
#include "signals.h"
#include "size.h"
#include "banned.h"


int import_input_failed(struct import *im, int r)
{
	if (r == -EINTR)
		return import_interrupted(im);
	if (im->is_url && r == -EIO)
		return import_fail(im, "cannot download %s: %s", im->source, fetch_error(im->in.fetch));
	return import_fail(im, "cannot read image '%s': %s", im->source, strerror(-r));
}

int import_archive_failed(struct import *im, int r)
{
	int ir = im->ar ? archive_reader_input_err(im->ar) : 0;

	if (r == -EINTR || ir == -EINTR)
		return import_interrupted(im);
	if (ir < 0)
		return import_input_failed(im, ir);
	if (r == -ENOMEM)
		return import_fail(im, "%s", strerror(ENOMEM));
	return import_fail(im, "cannot read %s '%s': %s",
			   im->fmt == SOURCE_TAR || (im->disk.name && !im->disk.compression) ? "archive"
											     : "compressed image",
			   im->source, archive_reader_error(im->ar));
}

/* A local image opened and its size found. */
static int open_local(struct import *im)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	uint64_t size = 0;

	/* O_NONBLOCK: a FIFO must not make us wait for a writer */
	fd = open(im->req.source, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT && fetch_scheme_len(im->req.source))
		return import_fail(im, "cannot open image '%s': no such file, and not a URL qvm fetches: "
				   "unknown scheme '%.*s' (only http:// and https://)", im->source,
				   (int)fetch_scheme_len(im->req.source), im->req.source);
	if (fd < 0)
		return import_fail(im, "cannot open image '%s': %s", im->source, strerror(errno));
	if (fstat(fd, &st) < 0)
		return import_fail(im, "cannot read the size of image '%s': %s", im->source, strerror(errno));
	if (S_ISREG(st.st_mode)) {
		size = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &size) < 0)
			return import_fail(im, "cannot read the size of image '%s': %s", im->source,
					   strerror(errno));
	} else {
		return import_fail(im, "image '%s' is not a regular file or block device", im->source);
	}
	if (size == 0)
		return import_fail(im, "image '%s' is empty", im->source);
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	im->in.fd = TAKE_FD(fd);
	im->in.size = size;
	return 0;
}

int import_open_source(struct import *im)
{
	int r;

	if (im->is_url) {
		r = fetch_open(im->req.source, &im->in.fetch);
		if (r == -EINVAL)
			return import_fail(im, "cannot download %s: %s", im->source, fetch_error(im->in.fetch));
		if (r < 0)
			return import_fail(im, "%s", strerror(-r));
	} else if (open_local(im) < 0) {
		return -1;
	}
	r = input_peek(&im->in);
	if (r < 0)
		return import_input_failed(im, r);
	if (im->in.peek_len == 0)
		return import_fail(im, "image '%s' is empty", im->source);
	im->fmt = source_detect(im->in.peek, im->in.peek_len);

	/* a fixed-size VHD is raw data with a footer at the end */
	if (im->fmt == SOURCE_RAW && !im->is_url && im->in.size >= 1024) {
		unsigned char tail[512];
		if (pread(im->in.fd, tail, sizeof(tail), (off_t)(im->in.size - 512)) == 512 &&
		    source_tail_is_vhd(tail, sizeof(tail)))
			im->fmt = SOURCE_VPC;
	}
	return 0;
}

/* qemu-img reads fd (the very file inspected, whatever happens to its
 * name) through /proc. */
static int read_through_proc(struct import *im, int fd)
{
	if (asprintf(&im->qemu_path, "/proc/%ld/fd/%d", (long)getpid(), fd) < 0) {
		im->qemu_path = NULL;
		return import_fail(im, "%s", strerror(ENOMEM));
	}
	return 0;
}

/* The blocks next() gives, into the temporary file, with a progress line:
 * label is the step, total its size (0: unknown). *end is where the data
 * ended. 0; -1 said (read_failed words a failed read). */
static int spool_blocks(struct import *im, const char *label, uint64_t total, block_next_fn next,
			void *ctx, int (*read_failed)(struct import *, int), uint64_t *end)
{
	struct progress pr;
	int r;

	if (spool_open(&im->tmp, im->source, &im->err) < 0)
		return -1;
	report(im->rep, REPORT_BEGIN, "%s", label);
	progress_start(&pr, im->rep, im->req.live, label, total);
	if (ctx == &im->in) {
		/* the source itself: its bytes as they arrive */
		im->in.on_read = progress_cb;
		im->in.on_read_ctx = &pr;
	}
	*end = 0;
	for (;;) {
		const void *data;
		size_t len;
		uint64_t off;

		r = signal_pending() ? -EINTR : next(ctx, &data, &len, &off);
		if (r <= 0)
			break;
		if (spool_write(&im->tmp, data, len, off, &im->err) < 0) {
			im->in.on_read = NULL;
			progress_end(&pr);
			return -1;
		}
		if (off + len > *end)
			*end = off + len;
		progress_update(&pr, *end);
	}
	im->in.on_read = NULL;
	progress_end(&pr);
	return r < 0 ? read_failed(im, r) : 0;
}

/* A download that qemu-img must read, or a local image that cannot be held
 * still (why says so): into the temporary file, hashed on the way. */
static int copy_to_temp(struct import *im, const char *why)
{
	char label[512], sz[32];
	uint64_t end;

	if (im->is_url)
		snprintf(label, sizeof(label), "Downloading %s (%s) to a temporary file", im->source,
			 source_format_name(im->fmt));
	else
		snprintf(label, sizeof(label), "Copying %s (%s) to a temporary file (%s)", im->source,
			 source_format_name(im->fmt), why);
	/* a local file: as long as it was when opened, however a writer grows it */
	if (!im->is_url)
		im->in.stop_at = im->in.size;
	if (spool_blocks(im, label, im->in.size == INPUT_SIZE_UNKNOWN ? 0 : im->in.size, input_next,
			 &im->in, import_input_failed, &end) < 0 ||
	    spool_finish(&im->tmp, im->in.consumed, &im->err) < 0)
		return -1;
	/* done with the server: no connection stays open while qemu-img runs */
	fetch_free(im->in.fetch);
	im->in.fetch = NULL;
	report(im->rep, REPORT_DONE, "%s", size_format(im->in.consumed, sz, sizeof(sz)));
	return read_through_proc(im, im->tmp.fd);
}

int import_finish_archive(struct import *im)
{
	const char *other = NULL;
	int r = archive_reader_finish(im->ar, &other);

	if (r == -EEXIST)
		return import_fail(im, "'%s' holds more than one file (%s and %s): it must hold "
				   "exactly one disk image", im->source, im->disk.name, other);
	if (r == -EFBIG)
		return import_fail(im, "'%s' holds more data after the end of its tar archive than "
				   "padding: it is not one tar archive", im->source);
	if (r < 0)
		return import_archive_failed(im, r);
	return 0;
}

int import_verify_digest(struct import *im)
{
	if (!im->expected[0] || !im->in.hash || im->verified)
		return 0;
	digest_hex(im->in.hash, im->actual);
	im->verified = 1;
	if (strcmp(im->actual, im->expected) != 0)
		return import_fail(im, "checksum mismatch for '%s': expected %s %s, got %s", im->source,
				   digest_name(im->alg), im->expected, im->actual);
	return 0;
}

/* A local file qemu-img converts: its checksum is verified before
 * anything changes. */
static int verify_local_file(struct import *im)
{
	_cleanup_free_ char *buf = malloc(1u << 20);
	struct progress pr;
	char label[512];
	ssize_t n;

	if (!buf)
		return import_fail(im, "%s", strerror(ENOMEM));
	snprintf(label, sizeof(label), "Verifying the %s of %s", import_alg_label(im->alg), im->source);
	report(im->rep, REPORT_BEGIN, "%s", label);
	progress_start(&pr, im->rep, im->req.live, label, im->in.size);
	while ((n = input_read(&im->in, buf, 1u << 20)) > 0)
		progress_update(&pr, im->in.consumed);
	progress_end(&pr);
	if (n < 0)
		return import_input_failed(im, (int)n);
	if (import_verify_digest(im) < 0)
		return -1;
	report(im->rep, REPORT_DONE, "ok");
	return 0;
}

/* An inspection's verdict: -1 (said) unless the image is sound. */
static int refuse_inspected(struct import *im, const struct inspect_result *res)
{
	if (res->verdict == INSPECT_EXTERNAL)
		return import_fail(im, "'%s' refers to a file outside itself: %s; qvm imports only "
				   "self-contained images", im->source, res->why);
	if (res->verdict == INSPECT_DAMAGED)
		return import_fail(im, "'%s' is damaged: %s", im->source, res->why);
	if (res->verdict == INSPECT_UNSUPPORTED)
		return import_fail(im, "'%s' cannot be imported: %s", im->source, res->why);
	return 0;
}

/* The image's first bytes, read at offsets: what lies past them is not
 * known yet (-ENODATA), not missing. */
static int head_read_at(void *ctx, void *buf, size_t len, uint64_t off)
{
	const struct archive_disk *d = ctx;

	if (off > d->head_len || len > d->head_len - off)
		return -ENODATA;
	memcpy(buf, d->head + off, len);
	return 0;
}

/* The disk inside a compressed file or tar is in a format qemu-img reads
 * (a .qcow2.xz, a Vagrant box): unpacked into the temporary file, all of
 * the source read and its checksum verified, before any change. */
static int unpack_to_temp(struct import *im, enum source_format inner)
{
	struct inspect_result res;
	char label[1024], sz[32];
	uint64_t end;
	int r;

	/* what its first bytes already tell is told before unpacking it all:
	 * a backing file, a descriptor file, a header that makes no sense */
	r = image_inspect(inner, head_read_at, &im->disk, UINT64_MAX, &res);
	if (r == 0 && refuse_inspected(im, &res) < 0)
		return -1;
	if (im->disk.name)
		snprintf(label, sizeof(label), "Unpacking %s (%s) from %s to a temporary file",
			 im->disk.name, source_format_name(inner), im->source);
	else
		snprintf(label, sizeof(label), "Decompressing %s (%s, %s) to a temporary file",
			 im->source, source_format_name(inner),
			 im->disk.compression ? im->disk.compression : source_format_name(im->fmt));
	if (spool_blocks(im, label, im->disk.size == INPUT_SIZE_UNKNOWN ? 0 : im->disk.size,
			 archive_reader_next, im->ar, import_archive_failed, &end) < 0)
		return -1;
	if (im->disk.size != INPUT_SIZE_UNKNOWN && im->disk.size > end)
		end = im->disk.size;     /* a sparse member ends in a hole */
	if (spool_finish(&im->tmp, end, &im->err) < 0 || import_finish_archive(im) < 0)
		return -1;
	if (im->in.hash) {
		r = input_drain(&im->in);
		if (r < 0)
			return import_input_failed(im, r);
		if (import_verify_digest(im) < 0)
			return -1;
	}
	report(im->rep, REPORT_DONE, "%s", size_format(end, sz, sizeof(sz)));
	archive_reader_free(im->ar);
	im->ar = NULL;
	im->fmt = inner;
	return read_through_proc(im, im->tmp.fd);
}

/* A compressed raw image whose size only its end tells (xz's index), read
 * from a URL by range requests: 0 with im->image_size, 1 if it could not
 * be read (--size given), or -1 said. */
static int url_xz_size(struct import *im)
{
	_cleanup_(fetch_ranges_release) struct fetch_ranges fr = {
		.url = im->req.source, .window = 64u << 10,
	};
	int r = source_xz_size_at(fetch_ranges_read, &fr, im->in.size, &im->image_size);

	if (r == -EINTR)
		return import_interrupted(im);
	if (r == 0 && im->image_size > 0) {
		im->size_from = "the size in its xz index, by range requests";
		return 0;
	}
	if (r == 0)
		return import_fail(im, "the image compressed in '%s' is empty", im->source);
	if (!im->size_opt)
		return import_fail(im, "the size of the image compressed in '%s' (xz) is in the index at "
				   "the end of the file, which qvm could not read: %s: give the zvol's "
				   "size with --size SIZE, or decompress it first", im->source,
				   r == -EINVAL ? "the file does not end as an xz file does" : fr.why);
	return 1;
}

/* The size of the disk inside a stream, before any change. */
static int stream_size(struct import *im)
{
	int r = archive_reader_open(&im->in, &im->ar);

	if (r < 0)
		return import_archive_failed(im, r);
	r = archive_reader_find_disk(im->ar, &im->disk);
	if (r == -ENOENT)
		return import_fail(im, "'%s' holds no disk image: it holds %s", im->source,
				   archive_reader_held(im->ar));
	if (r < 0)
		return import_archive_failed(im, r);
	if (im->disk.head_len > 0) {
		enum source_format inner = source_detect(im->disk.head, im->disk.head_len);
		if (source_is_qemu(inner))
			return unpack_to_temp(im, inner);
		if (inner != SOURCE_RAW)
			return import_fail(im, "'%s' holds a %s image%s%s%s, which cannot be streamed into "
					   "a zvol: unpack it first and import the %s file", im->source,
					   source_format_name(inner), im->disk.name ? " (" : "",
					   im->disk.name ? im->disk.name : "", im->disk.name ? ")" : "",
					   source_format_name(inner));
	}
	if (im->disk.size != INPUT_SIZE_UNKNOWN) {
		if (im->disk.size == 0)
			return import_fail(im, "the disk image %s in '%s' is empty", im->disk.name,
					   im->source);
		im->image_size = im->disk.size;
		im->size_from = "the size in its tar header";
		return 0;
	}
	/* a compressed raw image: only some formats say how big it is */
	if (!im->is_url && im->fmt == SOURCE_XZ &&
	    source_xz_size(im->in.fd, im->in.size, &im->image_size) == 0 && im->image_size > 0) {
		im->size_from = "the size in its xz index";
		return 0;
	}
	if (im->is_url && im->fmt == SOURCE_XZ && im->in.size != INPUT_SIZE_UNKNOWN &&
	    (r = url_xz_size(im)) <= 0)
		return r;
	if (!im->is_url && im->fmt == SOURCE_ZSTD &&
	    source_zstd_size(im->in.fd, im->in.size, &im->image_size) == 0 && im->image_size > 0) {
		im->size_from = "the sizes in its zstd frames";
		return 0;
	}
	if (im->size_opt) {
		im->image_size = im->size_opt;
		return 0;
	}
	return import_fail(im, "the size of the image compressed in '%s' (%s) cannot be known before "
			   "it is all read%s: give the zvol's size with --size SIZE, or decompress it "
			   "first", im->source, source_format_name(im->fmt),
			   im->is_url ? " from a URL" : "");
}

/* The file qemu-img reads, and its size: the download or unpacked
 * temporary file, or the local image itself. */
static int qemu_file(const struct import *im, uint64_t *size)
{
	struct stat st;

	if (im->tmp.fd < 0) {
		*size = im->in.size;         /* a file's, or a block device's */
		return im->in.fd;
	}
	if (fstat(im->tmp.fd, &st) < 0)
		return -errno;
	*size = (uint64_t)st.st_size;
	return im->tmp.fd;
}

/* A held image someone opened for writing since: what was read of it may
 * not be what was inspected and hashed. */
static int held_broken(struct import *im)
{
	if (!im->held || hold_intact(im->in.fd))
		return 0;
	return import_fail(im, "'%s' was opened for writing while qvm imported it: what qemu-img read "
			   "may not be what qvm checked", im->source);
}

/* After the conversion, the image's metadata read again: a change that got
 * past the lease (it should not) still shows if it stayed. */
int import_still_sound(struct import *im)
{
	struct inspect_result res;
	uint64_t size = 0;
	int fd;

	if (held_broken(im) < 0)
		return -1;
	fd = qemu_file(im, &size);
	if (fd < 0 || image_inspect(im->fmt, source_fd_read_at, &fd, size, &res) < 0 ||
	    res.verdict != INSPECT_OK)
		return import_fail(im, "'%s' changed while qvm imported it: what qemu-img read may not be "
				   "what qvm checked", im->source);
	return 0;
}

/* qvm reads the image's metadata itself, then asks qemu-img (info and
 * check), before any change: nothing outside the file, nothing damaged. */
static int check_qemu_image(struct import *im)
{
	_cleanup_free_ char *err = NULL, *refers = NULL, *check = NULL;
	const char *fmt = source_format_name(im->fmt);
	struct inspect_result res;
	uint64_t file_size = 0;
	int fd, r;

	report(im->rep, REPORT_BEGIN, "Checking the %s image's metadata", fmt);
	fd = qemu_file(im, &file_size);
	r = fd < 0 ? fd : image_inspect(im->fmt, source_fd_read_at, &fd, file_size, &res);
	if (r == -EINTR)
		return import_interrupted(im);
	if (r < 0)
		return import_fail(im, "cannot read image '%s': %s", im->source, strerror(-r));
	if (refuse_inspected(im, &res) < 0)
		return -1;

	r = qemu_img_info(im->qemu_path, fmt, &im->image_size, &refers, &err);
	/* -EINTR alone is qemu-img killed, by someone else: its failure */
	if (signal_pending())
		return import_interrupted(im);
	if (r < 0)
		return import_fail(im, "cannot read %s image '%s': %s", fmt, im->source,
				   err ? err : strerror(-r));
	if (refers) {
		char t[300];
		msg_text(t, sizeof(t), refers, strlen(refers));
		return import_fail(im, "'%s' refers to a file outside itself: qemu-img reports '%s'; qvm "
				   "imports only self-contained images", im->source, t);
	}
	im->size_from = "its virtual size (qemu-img info)";

	r = qemu_img_check(im->qemu_path, fmt, &check);
	if (signal_pending())
		return import_interrupted(im);
	if (r == -EBADMSG)
		return import_fail(im, "'%s' is damaged: qemu-img check: %s", im->source, check);
	if (r < 0 && r != -ENOTSUP)
		return import_fail(im, "cannot check %s image '%s': %s", fmt, im->source,
				   check ? check : strerror(-r));
	if (held_broken(im) < 0)
		return -1;
	/* qemu-img checks no qcow (v1) or vpc image: qvm's own reading of
	 * their tables above is the check */
	report(im->rep, REPORT_DONE, "self-contained%s",
	       r == 0 ? ", no errors (qemu-img check)" : ", tables inside the file");
	return 0;
}

/* A raw image's first bytes: a download's or archive's read ahead, a local
 * file's read now (*buf, to be freed). */
static int raw_head(struct import *im, const unsigned char **head, size_t *len, unsigned char **buf)
{
	ssize_t n;

	*buf = NULL;
	if (im->ar) {
		*head = im->disk.head;
		*len = im->disk.head_len;
		return 0;
	}
	if (im->is_url) {
		*head = im->raw.head;
		*len = im->raw.head_len;
		return 0;
	}
	if (!(*buf = malloc(CONTENT_HEAD)))
		return -ENOMEM;
	do
		n = pread(im->in.fd, *buf, CONTENT_HEAD, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	*head = *buf;
	*len = (size_t)n;
	return 0;
}

/* A raw image must look like a disk: libblkid finds a partition table, or
 * a file system, LVM, RAID or LUKS signature in it. An HTML error page or a
 * checksum file given by mistake is refused before any change. */
static int check_raw_content(struct import *im)
{
	_cleanup_free_ unsigned char *buf = NULL;
	const unsigned char *head = NULL;
	size_t head_len = 0;
	char what[160];
	int r;

	if (im->is_url && !im->ar) {
		/* a raw download: its first bytes are read ahead, kept for the write */
		im->raw.next = input_next;
		im->raw.ctx = &im->in;
		r = lookahead_fill(&im->raw, CONTENT_HEAD);
		if (r < 0)
			return import_input_failed(im, r);
	}
	report(im->rep, REPORT_BEGIN, "Looking for a partition table or file system in %s", im->source);
	if (!im->ar && !im->is_url) {
		r = content_probe_fd(im->in.fd, im->image_size, what, sizeof(what));
	} else {
		r = raw_head(im, &head, &head_len, &buf);
		if (r == 0)
			r = content_probe_head(head, head_len, im->image_size, what, sizeof(what));
	}
	if (r < 0)
		return import_fail(im, "cannot examine image '%s': %s", im->source, strerror(-r));
	if (r > 0) {
		report(im->rep, REPORT_DONE, "%s", what);
		return 0;
	}
	if (im->req.force) {
		report(im->rep, REPORT_DONE, "none found (imported all the same: --force)");
		return 0;
	}
	/* what it looks like instead: a local file's start is read only now */
	if (!head && (r = raw_head(im, &head, &head_len, &buf)) < 0)
		return import_fail(im, "cannot read image '%s': %s", im->source, strerror(-r));
	const char *looks = content_describe(head, head_len);
	return import_fail(im, "'%s' does not look like a disk image%s%s%s: qvm found no partition "
			   "table, file system, LVM, RAID or LUKS signature in it; if it is a disk all "
			   "the same, import it with --force", im->source, looks ? " (it looks like " : "",
			   looks ? looks : "", looks ? ")" : "");
}

/* A local image qemu-img is to read: held still, or copied where it
 * cannot be (the reason said), so that qemu-img reads the very bytes qvm
 * inspects and hashes. */
static int local_for_qemu(struct import *im)
{
	int r = hold_file(im->in.fd);

	if (r < 0)
		return copy_to_temp(im, r == -EAGAIN       ? "it is open for writing elsewhere"
				      : r == -EOPNOTSUPP ? "no lease can hold it still where it is"
				      : r == -EPERM      ? "its file system's device can be written past a lease"
							 : strerror(-r));
	im->held = 1;
	if (im->expected[0] && verify_local_file(im) < 0)
		return -1;
	return read_through_proc(im, im->in.fd);
}

int import_examine(struct import *im)
{
	char sz[32], sz2[32];

	if (source_is_qemu(im->fmt)) {
		/* a copy is verified once made; a held file, before its inspection */
		int r = im->is_url ? copy_to_temp(im, NULL) : local_for_qemu(im);
		if (r < 0 || import_verify_digest(im) < 0)
			return -1;
	} else if (source_is_stream(im->fmt)) {
		if (stream_size(im) < 0)
			return -1;
	} else if (im->in.size != INPUT_SIZE_UNKNOWN) {
		im->image_size = im->in.size;
		if (im->is_url)
			im->size_from = "the length the server announced";
	} else if (im->size_opt) {
		im->image_size = im->size_opt;
	} else if (im->is_url && fetch_length_header(im->in.fetch)) {
		char t[64];
		const char *cl = fetch_length_header(im->in.fetch);
		msg_text(t, sizeof(t), cl, strlen(cl));
		return import_fail(im, "the server announced a length for %s that is not a size "
				   "(Content-Length: %s): give the zvol's size with --size SIZE", im->source, t);
	} else {
		return import_fail(im, "the server did not say how big %s is: give the zvol's size with "
				   "--size SIZE", im->source);
	}
	/* a qemu-img format: downloaded, unpacked or local */
	if (source_is_qemu(im->fmt) ? check_qemu_image(im) < 0 : check_raw_content(im) < 0)
		return -1;
	if (im->size_opt && im->size_opt < im->image_size)
		return import_fail(im, "--size %s is smaller than the image (%s%s%s)",
				   size_format(im->size_opt, sz, sizeof(sz)),
				   size_format(im->image_size, sz2, sizeof(sz2)), im->size_from ? ", " : "",
				   im->size_from ? im->size_from : "");
	return 0;
}
