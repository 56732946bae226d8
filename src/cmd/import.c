/* SPDX-License-Identifier: MIT */
/* qvm import SOURCE ZVOL (SPEC §2): a local file or an http(s) URL, raw,
 * in a format qemu-img converts, compressed, or in a tar archive. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "archive-reader.h"
#include "cleanup.h"
#include "commands.h"
#include "content.h"
#include "device.h"
#include "digest.h"
#include "fetch.h"
#include "hold.h"
#include "imgwrite.h"
#include "input.h"
#include "inspect.h"
#include "log.h"
#include "lookahead.h"
#include "marks.h"
#include "msgtext.h"
#include "names.h"
#include "progress.h"
#include "qemuimg.h"
#include "settings.h"
#include "signals.h"
#include "size.h"
#include "source.h"
#include "undo.h"
#include "zfs.h"
#include "strv.h"
#include "undo-steps.h"
#include "banned.h"

#define TASK "importing cloud image"

/* Runs of zeros left as holes in a temporary file. */
#define ZERO_RUN (64u << 10)

/* The zvol must be new and its parent an existing filesystem: one zfs call
 * asks about the zvol, its parent and its pool. */
static int check_target(const char *zvol)
{
	_cleanup_free_ char *err = NULL, *parent = NULL, *pool = NULL;
	char *types[3] = { NULL, NULL, NULL };
	const char *why;
	int r;

	if (!dataset_name_valid(zvol, false, &why))
		return log_error(TASK, "invalid zvol name '%s': %s", zvol, why);
	parent = dataset_parent(zvol);
	if (!parent)
		return log_error(TASK, "invalid zvol name '%s': a zvol needs a parent dataset (POOL/NAME)", zvol);
	pool = dataset_pool(zvol);
	if (!pool)
		return log_error(TASK, "%s", strerror(ENOMEM));

	r = zfs_get_types((const char *[]){ zvol, parent, pool }, 3, types, &err);
	if (r < 0)
		return log_error(TASK, "cannot check whether %s exists: %s", zvol, err ? err : strerror(-r));
	_cleanup_free_ char *zvol_type = types[0], *parent_type = types[1], *pool_type = types[2];

	if (zvol_type) {
		/* only qvm's own marks count, not ones inherited from a parent */
		if (marks_leftover(zvol))
			return log_error(TASK, "zvol %s already exists: it is left over from an interrupted "
					 "qvm run (qvm:state=creating); remove it with: zfs destroy -r %s",
					 zvol, zvol);
		return log_error(TASK, "%s %s already exists",
				 strcmp(zvol_type, "volume") == 0 ? "zvol" : "dataset", zvol);
	}
	if (!pool_type)
		return log_error(TASK, "pool %s does not exist", pool);
	if (!parent_type)
		return log_error(TASK, "parent dataset %s does not exist", parent);
	if (strcmp(parent_type, "filesystem") != 0)
		return log_error(TASK, "parent dataset %s is a %s, not a filesystem", parent, parent_type);
	return 0;
}

/* Everything one import knows. */
struct import {
	const char *source;          /* as given: a path or a URL */
	const char *zvol;
	int is_url, quiet, live;
	char *mark_source;           /* qvm:source: the URL or the real path */
	const char *name;            /* the file name, for checksum files */
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
	int force;                   /* --force: a raw image with no disk recognised in it */
	struct archive_reader *ar;   /* streams */
	struct archive_disk disk;
	struct lookahead raw;        /* a raw download, its first bytes read ahead */
	int tmp_fd;                  /* a download qemu-img reads, or -1 */
	int held;                    /* the local image is held still (hold.h) */
	char *qemu_path;             /* what qemu-img reads: /proc/PID/fd/N */
};

/* "SHA-256" for the user. */
static const char *alg_label(enum digest_alg alg)
{
	return alg == DIGEST_SHA512 ? "SHA-512" : "SHA-256";
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static int interrupted(void)
{
	return log_error(TASK, "interrupted by signal SIG%s", sigabbrev_np(signal_pending()));
}

/* An input's failure, for the message: a download's own words, or errno. */
static int input_failed(struct import *im, int r)
{
	if (r == -EINTR)
		return interrupted();
	if (im->is_url && r == -EIO)
		return log_error(TASK, "cannot download %s: %s", im->source, fetch_error(im->in.fetch));
	return log_error(TASK, "cannot read image '%s': %s", im->source, strerror(-r));
}

/* An archive's failure: its input's, or a damaged archive. */
static int archive_failed(struct import *im, int r)
{
	int ir = im->ar ? archive_reader_input_err(im->ar) : 0;

	if (r == -EINTR || ir == -EINTR)
		return interrupted();
	if (ir < 0)
		return input_failed(im, ir);
	if (r == -ENOMEM)
		return log_error(TASK, "%s", strerror(ENOMEM));
	return log_error(TASK, "cannot read %s '%s': %s",
			 im->fmt == SOURCE_TAR || (im->disk.name && !im->disk.compression) ? "archive"
											   : "compressed image",
			 im->source, archive_reader_error(im->ar));
}

/* "1G", "512M", "2147483648": a size in bytes, binary suffixes. */
static int parse_size_opt(const char *s, uint64_t *out)
{
	static const char units[] = "KMGTP";
	size_t len = strlen(s);
	unsigned shift = 0;
	_cleanup_free_ char *num = NULL;
	uint64_t v;

	const char *u;

	if (len > 3 && strcmp(s + len - 2, "iB") == 0)
		len -= 2;                      /* "4GiB" is "4G" */
	if (len > 1 && s[len - 1] && (u = strchr(units, s[len - 1] & ~0x20))) {
		shift = 10 * (unsigned)(u - units + 1);
		len--;
	}
	num = strndup(s, len);
	if (!num || parse_u64(num, &v) < 0 || v == 0)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = v << shift;
	return 0;
}

/* The last path component of a path or URL (query and fragment dropped). */
static char *source_file_name(const char *source)
{
	size_t len = strcspn(source, "?#");
	while (len > 0 && source[len - 1] == '/')
		len--;
	size_t start = len;
	while (start > 0 && source[start - 1] != '/')
		start--;
	return strndup(source + start, len - start);
}

/* Reads a small file, local or downloaded, into *text (NUL-terminated,
 * *len bytes before it). */
static int read_small(const char *what, char **text, size_t *text_len, char **why)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	const size_t limit = 16u << 20;
	_cleanup_(fetch_freep) struct fetch *f = NULL;
	_cleanup_close_ int fd = -1;
	int r = 0;

	if (fetch_is_url(what)) {
		r = fetch_open(what, &f);
		if (r < 0) {
			*why = strdup(f ? fetch_error(f) : strerror(-r));
			return r;
		}
	} else {
		fd = open(what, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0) {
			*why = strdup(strerror(errno));
			return -errno;
		}
	}
	for (;;) {
		if (cap - len < 65536) {
			char *nb = len + 65536 + 1 > limit ? NULL : realloc(buf, cap = len + 65536 + 1);
			if (!nb) {
				free(buf);
				*why = strdup(len + 65536 + 1 > limit ? "too large for a checksum file"
								       : strerror(ENOMEM));
				return -EFBIG;
			}
			buf = nb;
		}
		ssize_t n = f ? fetch_read(f, buf + len, cap - len - 1) : read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			r = f ? (int)n : -errno;
			*why = strdup(f && r == -EIO ? fetch_error(f) : strerror(-r));
			free(buf);
			return r;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*text = buf;
	*text_len = len;
	return 0;
}

/* --sha256 / --sha512 / --checksum-file: the digest to verify, before
 * anything. */
static int expected_digest(struct import *im, const struct cmd_opts *opts)
{
	const char *h256 = opt_last(opts, OPT_SHA256), *h512 = opt_last(opts, OPT_SHA512);
	const char *sums = opt_last(opts, OPT_CHECKSUM_FILE), *other = NULL;
	_cleanup_free_ char *text = NULL, *why = NULL;
	int r;

	if (!!h256 + !!h512 + !!sums > 1)
		return log_error(TASK, "give one of --sha256, --sha512 and --checksum-file");
	if (h256 || h512) {
		const char *hex = h256 ? h256 : h512;
		enum digest_alg other_alg = h256 ? DIGEST_SHA512 : DIGEST_SHA256;
		im->alg = h256 ? DIGEST_SHA256 : DIGEST_SHA512;
		if (digest_parse_hex(im->alg, hex, im->expected) == 0)
			return 0;
		if (strlen(hex) == digest_hex_len(other_alg))
			return log_error(TASK, "invalid --%s value '%s': expected %zu hexadecimal digits "
					 "(%zu are a %s digest: give it with --%s)", digest_name(im->alg), hex,
					 digest_hex_len(im->alg), digest_hex_len(other_alg), alg_label(other_alg),
					 digest_name(other_alg));
		return log_error(TASK, "invalid --%s value '%s': expected %zu hexadecimal digits",
				 digest_name(im->alg), hex, digest_hex_len(im->alg));
	}
	if (!sums)
		return 0;
	size_t text_len = 0;
	r = read_small(sums, &text, &text_len, &why);
	if (r == -EINTR)
		return interrupted();
	if (r < 0)
		return log_error(TASK, "cannot read checksum file '%s': %s", sums,
				 why ? why : strerror(-r));
	/* a NUL would end the text early: what follows it (a signed part)
	 * would not be read as what it is */
	if (strlen(text) != text_len)
		return log_error(TASK, "checksum file '%s' holds a NUL byte: it is no checksum file", sums);
	r = digest_find_in_sums(text, im->name, &im->alg, im->expected, &other);
	if (r == -ENOENT)
		return log_error(TASK, "checksum file '%s' has no entry for '%s'", sums, im->name);
	if (r == -EPROTONOSUPPORT)
		return log_error(TASK, "checksum file '%s' has only a %s digest for '%s': qvm verifies "
				 "SHA-256 and SHA-512", sums, other, im->name);
	if (r < 0)
		return log_error(TASK, "checksum file '%s' has no valid %s digest for '%s'", sums,
				 alg_label(im->alg), im->name);
	return 0;
}

/* Opens a local image and finds its size, before anything changes. */
static int open_local(struct import *im)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	uint64_t size = 0;

	/* O_NONBLOCK: a FIFO must not make us wait for a writer */
	fd = open(im->source, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return log_error(TASK, "cannot open image '%s': %s", im->source, strerror(errno));
	if (fstat(fd, &st) < 0)
		return log_error(TASK, "cannot read the size of image '%s': %s", im->source, strerror(errno));
	if (S_ISREG(st.st_mode)) {
		size = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &size) < 0)
			return log_error(TASK, "cannot read the size of image '%s': %s", im->source,
					 strerror(errno));
	} else {
		return log_error(TASK, "image '%s' is not a regular file or block device", im->source);
	}
	if (size == 0)
		return log_error(TASK, "image '%s' is empty", im->source);
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	im->in.fd = TAKE_FD(fd);
	im->in.size = size;
	return 0;
}

static int open_source(struct import *im)
{
	int r;

	if (im->is_url) {
		r = fetch_open(im->source, &im->in.fetch);
		if (r == -EINVAL)
			return log_error(TASK, "cannot download %s: %s", im->source, fetch_error(im->in.fetch));
		if (r < 0)
			return log_error(TASK, "%s", strerror(-r));
	} else if (open_local(im) < 0) {
		return -1;
	}
	r = input_peek(&im->in);
	if (r < 0)
		return input_failed(im, r);
	if (im->in.peek_len == 0)
		return log_error(TASK, "image '%s' is empty", im->source);
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

/* The one temporary file of an import that qemu-img must read from a
 * download or an archive: unnamed (unlinked at once, so nothing is left
 * behind whatever happens), read by qemu-img through /proc. */
static int temp_file(const char **dir_out)
{
	const char *dir = getenv("TMPDIR");
	_cleanup_free_ char *tmpl = NULL;
	int fd;

	if (!dir || !*dir)
		dir = "/var/tmp";
	*dir_out = dir;
	if (asprintf(&tmpl, "%s/qvm-import-XXXXXX", dir) < 0)
		return log_error(TASK, "%s", strerror(ENOMEM));
	fd = mkostemp(tmpl, O_CLOEXEC);
	if (fd < 0)
		return log_error(TASK, "cannot create a temporary file in %s: %s (set TMPDIR)", dir,
				 strerror(errno));
	(void)unlink(tmpl);
	return fd;
}

/* qemu-img reads the temporary file fd from now on. */
static int use_temp_file(struct import *im, int fd)
{
	if (asprintf(&im->qemu_path, "/proc/%ld/fd/%d", (long)getpid(), fd) < 0) {
		im->qemu_path = NULL;
		close(fd);
		return log_error(TASK, "%s", strerror(ENOMEM));
	}
	im->tmp_fd = fd;
	return 0;
}

/* Whether a temporary file leaves its file system room: less than 5% of
 * it (or 1 GiB, if that is less) left free is too little. */
static int room_left(int fd)
{
	struct statvfs vfs;

	if (fstatvfs(fd, &vfs) < 0)
		return 1;
	uint64_t free_bytes = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	uint64_t keep = (uint64_t)vfs.f_blocks * vfs.f_frsize / 20;
	return free_bytes >= (keep > (UINT64_C(1) << 30) ? UINT64_C(1) << 30 : keep);
}

/* Writes into the temporary file: zeros stay holes (a stream of them costs
 * no room), and it stops before the file leaves its file system less than
 * 1 GiB (or 5% of a smaller file system) free: a small file can unpack or
 * download to far more than any disk holds. 0, or -1 said. */
struct temp_out {
	int fd;
	const char *dir;
	const char *source;
	uint64_t since_check;
};

static int temp_write(struct temp_out *t, const void *data, size_t len, uint64_t off)
{
	for (size_t at = 0; at < len; at += ZERO_RUN) {
		size_t n = len - at < ZERO_RUN ? len - at : ZERO_RUN;
		if (buffer_is_zero((const char *)data + at, n))
			continue;
		int r = pwrite_all(t->fd, (const char *)data + at, n, off + at);
		if (r < 0)
			return log_error(TASK, "cannot write the temporary file in %s: %s", t->dir, strerror(-r));
		t->since_check += n;
	}
	if (t->since_check >= (8u << 20)) {
		t->since_check = 0;
		if (!room_left(t->fd))
			return log_error(TASK, "the temporary copy of '%s' would leave too little free in %s (less "
					 "than 1 GiB, or 5%% of a smaller file system): set TMPDIR to a file system "
					 "with room for it", t->source, t->dir);
	}
	return 0;
}

/* A download that qemu-img must read, or a local image that cannot be held
 * still (why says so): into the temporary file, hashed on the way. */
static int copy_to_temp(struct import *im, const char *why)
{
	const char *dir;
	_cleanup_free_ char *buf = malloc(1u << 20);
	_cleanup_close_ int fd = -1;
	struct progress pr;
	char label[512];
	ssize_t n = 0;

	if (!buf)
		return log_error(TASK, "%s", strerror(ENOMEM));
	fd = temp_file(&dir);
	if (fd < 0)
		return -1;

	if (im->is_url)
		snprintf(label, sizeof(label), "Downloading %s (%s) to a temporary file", im->source,
			 source_format_name(im->fmt));
	else
		snprintf(label, sizeof(label), "Copying %s (%s) to a temporary file (%s)", im->source,
			 source_format_name(im->fmt), why);
	log_begin("%s", label);
	progress_start(&pr, im->live, label,
		       im->in.size == INPUT_SIZE_UNKNOWN ? 0 : im->in.size);
	struct temp_out out = { .fd = fd, .dir = dir, .source = im->source };
	/* a local file: as long as it was when opened, however a writer grows it */
	uint64_t limit = im->is_url ? UINT64_MAX : im->in.size;
	while (im->in.consumed < limit &&
	       (n = input_read(&im->in, buf, limit - im->in.consumed < (1u << 20)
						? (size_t)(limit - im->in.consumed) : 1u << 20)) > 0) {
		if (temp_write(&out, buf, (size_t)n, im->in.consumed - (uint64_t)n) < 0) {
			progress_end(&pr);
			return -1;
		}
		progress_update(&pr, im->in.consumed);
	}
	progress_end(&pr);
	if (n < 0)
		return input_failed(im, (int)n);
	if (ftruncate(fd, (off_t)im->in.consumed) < 0)      /* it may end in a hole */
		return log_error(TASK, "cannot write the temporary file in %s: %s", dir, strerror(errno));
	/* done with the server: no connection stays open while qemu-img runs */
	fetch_free(im->in.fetch);
	im->in.fetch = NULL;
	char sz[32];
	log_done("%s", size_format(im->in.consumed, sz, sizeof(sz)));
	return use_temp_file(im, TAKE_FD(fd));
}

/* After the disk's data: the rest of the archive, which must hold nothing
 * else. */
static int finish_archive(struct import *im)
{
	const char *other = NULL;
	int r = archive_reader_finish(im->ar, &other);

	if (r == -EEXIST)
		return log_error(TASK, "'%s' holds more than one file (%s and %s): it must hold "
				 "exactly one disk image", im->source, im->disk.name, other);
	if (r == -EFBIG)
		return log_error(TASK, "'%s' holds more data after the end of its tar archive than "
				 "padding: it is not one tar archive", im->source);
	if (r < 0)
		return archive_failed(im, r);
	return 0;
}

/* Compares the digest of what was read with the expected one, once. */
static int verify_digest(struct import *im)
{
	if (!im->expected[0] || !im->in.hash || im->verified)
		return 0;
	digest_hex(im->in.hash, im->actual);
	im->verified = 1;
	if (strcmp(im->actual, im->expected) != 0)
		return log_error(TASK, "checksum mismatch for '%s': expected %s %s, got %s",
				 im->source, digest_name(im->alg), im->expected, im->actual);
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
		return log_error(TASK, "%s", strerror(ENOMEM));
	snprintf(label, sizeof(label), "Verifying the %s of %s", alg_label(im->alg), im->source);
	log_begin("%s", label);
	progress_start(&pr, im->live, label, im->in.size);
	while ((n = input_read(&im->in, buf, 1u << 20)) > 0)
		progress_update(&pr, im->in.consumed);
	progress_end(&pr);
	if (n < 0)
		return input_failed(im, (int)n);
	if (verify_digest(im) < 0)
		return -1;
	log_done("ok");
	return 0;
}

static int refuse_inspected(const struct import *im, const struct inspect_result *res);

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
	const char *dir;
	_cleanup_close_ int fd = -1;
	uint64_t end = 0;
	struct inspect_result res;
	struct progress pr;
	char label[1024], sz[32];
	int r;

	/* what its first bytes already tell is told before unpacking it all:
	 * a backing file, a descriptor file, a header that makes no sense */
	r = image_inspect(inner, head_read_at, &im->disk, UINT64_MAX, &res);
	if (r == 0 && refuse_inspected(im, &res) < 0)
		return -1;
	fd = temp_file(&dir);
	if (fd < 0)
		return -1;
	if (im->disk.name)
		snprintf(label, sizeof(label), "Unpacking %s (%s) from %s to a temporary file",
			 im->disk.name, source_format_name(inner), im->source);
	else
		snprintf(label, sizeof(label), "Decompressing %s (%s, %s) to a temporary file",
			 im->source, source_format_name(inner),
			 im->disk.compression ? im->disk.compression : source_format_name(im->fmt));
	log_begin("%s", label);
	progress_start(&pr, im->live, label, im->disk.size == INPUT_SIZE_UNKNOWN ? 0 : im->disk.size);
	struct temp_out out = { .fd = fd, .dir = dir, .source = im->source };
	for (;;) {
		const void *data;
		size_t len;
		uint64_t off;

		r = signal_pending() ? -EINTR : archive_reader_next(im->ar, &data, &len, &off);
		if (r <= 0)
			break;
		if (temp_write(&out, data, len, off) < 0) {
			progress_end(&pr);
			return -1;
		}
		if (off + len > end)
			end = off + len;
		progress_update(&pr, end);
	}
	progress_end(&pr);
	if (r == -EINTR)
		return interrupted();
	if (r < 0)
		return archive_failed(im, r);
	if (im->disk.size != INPUT_SIZE_UNKNOWN && im->disk.size > end)
		end = im->disk.size;     /* a sparse member ends in a hole */
	if (ftruncate(fd, (off_t)end) < 0)
		return log_error(TASK, "cannot write the temporary file in %s: %s", dir, strerror(errno));
	if (finish_archive(im) < 0)
		return -1;
	if (im->in.hash) {
		r = input_drain(&im->in);
		if (r < 0)
			return input_failed(im, r);
		if (verify_digest(im) < 0)
			return -1;
	}
	log_done("%s", size_format(end, sz, sizeof(sz)));
	archive_reader_free(im->ar);
	im->ar = NULL;
	im->fmt = inner;
	return use_temp_file(im, TAKE_FD(fd));
}

/* The size of the disk inside a stream, before any change. */
static int stream_size(struct import *im)
{
	int r = archive_reader_open(&im->in, &im->ar);

	if (r < 0)
		return archive_failed(im, r);
	r = archive_reader_find_disk(im->ar, &im->disk);
	if (r == -ENOENT)
		return log_error(TASK, "'%s' holds no disk image: it holds %s", im->source,
				 archive_reader_held(im->ar));
	if (r < 0)
		return archive_failed(im, r);
	if (im->disk.head_len > 0) {
		enum source_format inner = source_detect(im->disk.head, im->disk.head_len);
		if (source_is_qemu(inner))
			return unpack_to_temp(im, inner);
		if (inner != SOURCE_RAW)
			return log_error(TASK, "'%s' holds a %s image%s%s%s, which cannot be streamed "
					 "into a zvol: unpack it first and import the %s file", im->source,
					 source_format_name(inner), im->disk.name ? " (" : "",
					 im->disk.name ? im->disk.name : "", im->disk.name ? ")" : "",
					 source_format_name(inner));
	}
	if (im->disk.size != INPUT_SIZE_UNKNOWN) {
		if (im->disk.size == 0)
			return log_error(TASK, "the disk image %s in '%s' is empty", im->disk.name,
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
	if (im->is_url && im->fmt == SOURCE_XZ && im->in.size != INPUT_SIZE_UNKNOWN) {
		_cleanup_(fetch_ranges_release) struct fetch_ranges fr = {
			.url = im->source, .window = 64u << 10,
		};
		int r2 = source_xz_size_at(fetch_ranges_read, &fr, im->in.size, &im->image_size);
		if (r2 == -EINTR)
			return interrupted();
		if (r2 == 0 && im->image_size > 0) {
			im->size_from = "the size in its xz index, by range requests";
			return 0;
		}
		if (r2 == 0)
			return log_error(TASK, "the image compressed in '%s' is empty", im->source);
		if (!im->size_opt)
			return log_error(TASK, "the size of the image compressed in '%s' (xz) is in the "
					 "index at the end of the file, which qvm could not read: %s: "
					 "give the zvol's size with --size SIZE, or decompress it first",
					 im->source, r2 == -EINVAL ? "the file does not end as an xz file does"
								   : fr.why);
	}
	if (!im->is_url && im->fmt == SOURCE_ZSTD &&
	    source_zstd_size(im->in.fd, im->in.size, &im->image_size) == 0 && im->image_size > 0) {
		im->size_from = "the sizes in its zstd frames";
		return 0;
	}
	if (im->size_opt) {
		im->image_size = im->size_opt;
		return 0;
	}
	return log_error(TASK, "the size of the image compressed in '%s' (%s) cannot be known "
			 "before it is all read%s: give the zvol's size with --size SIZE, or "
			 "decompress it first",
			 im->source, source_format_name(im->fmt),
			 im->is_url ? " from a URL" : "");
}

/* The file qemu-img reads, and its size: the download or unpacked
 * temporary file, or the local image itself. */
static int qemu_file(const struct import *im, uint64_t *size)
{
	struct stat st;

	if (im->tmp_fd < 0) {
		*size = im->in.size;         /* a file's, or a block device's */
		return im->in.fd;
	}
	if (fstat(im->tmp_fd, &st) < 0)
		return -errno;
	*size = (uint64_t)st.st_size;
	return im->tmp_fd;
}

/* An inspection's verdict: -1 (said) unless the image is sound. */
static int refuse_inspected(const struct import *im, const struct inspect_result *res)
{
	if (res->verdict == INSPECT_EXTERNAL)
		return log_error(TASK, "'%s' refers to a file outside itself: %s; qvm imports only "
				 "self-contained images", im->source, res->why);
	if (res->verdict == INSPECT_DAMAGED)
		return log_error(TASK, "'%s' is damaged: %s", im->source, res->why);
	if (res->verdict == INSPECT_UNSUPPORTED)
		return log_error(TASK, "'%s' cannot be imported: %s", im->source, res->why);
	return 0;
}

/* A held image someone opened for writing since: what was read of it may
 * not be what was inspected and hashed. */
static int held_broken(const struct import *im)
{
	if (!im->held || hold_intact(im->in.fd))
		return 0;
	return log_error(TASK, "'%s' was opened for writing while qvm imported it: what qemu-img read "
			 "may not be what qvm checked", im->source);
}

/* After the conversion, the image's metadata read again: a change that got
 * past the lease (it should not) still shows if it stayed. */
static int still_sound(const struct import *im)
{
	struct inspect_result res;
	uint64_t size = 0;
	int fd = qemu_file(im, &size);

	if (fd < 0 || image_inspect(im->fmt, source_fd_read_at, &fd, size, &res) < 0 ||
	    res.verdict != INSPECT_OK)
		return log_error(TASK, "'%s' changed while qvm imported it: what qemu-img read may not be "
				 "what qvm checked", im->source);
	return 0;
}

/* qvm reads the image's metadata itself, then asks qemu-img (info and
 * check), before any change: nothing outside the file, nothing damaged. */
static int check_qemu_image(struct import *im)
{
	_cleanup_free_ char *err = NULL, *refers = NULL, *report = NULL;
	const char *fmt = source_format_name(im->fmt);
	struct inspect_result res;
	uint64_t file_size = 0;
	int fd, r;

	log_begin("Checking the %s image's metadata", fmt);
	fd = qemu_file(im, &file_size);
	r = fd < 0 ? fd : image_inspect(im->fmt, source_fd_read_at, &fd, file_size, &res);
	if (r == -EINTR)
		return interrupted();
	if (r < 0)
		return log_error(TASK, "cannot read image '%s': %s", im->source, strerror(-r));
	if (refuse_inspected(im, &res) < 0)
		return -1;

	r = qemu_img_info(im->qemu_path, fmt, &im->image_size, &refers, &err);
	if (r == -EINTR)
		return interrupted();
	if (r < 0)
		return log_error(TASK, "cannot read %s image '%s': %s", fmt, im->source,
				 err ? err : r == -ENOENT ? "qemu-img not found (install qemu-utils)" : strerror(-r));
	if (refers) {
		char t[300];
		msg_text(t, sizeof(t), refers, strlen(refers));
		return log_error(TASK, "'%s' refers to a file outside itself: qemu-img reports '%s'; qvm "
				 "imports only self-contained images", im->source, t);
	}
	im->size_from = "its virtual size (qemu-img info)";

	r = qemu_img_check(im->qemu_path, fmt, &report);
	if (r == -EINTR)
		return interrupted();
	if (r == -EBADMSG)
		return log_error(TASK, "'%s' is damaged: qemu-img check: %s", im->source, report);
	if (r < 0 && r != -ENOTSUP)
		return log_error(TASK, "cannot check %s image '%s': %s", fmt, im->source,
				 r == -ENOENT ? "qemu-img not found (install qemu-utils)" : strerror(-r));
	if (held_broken(im) < 0)
		return -1;
	/* qemu-img checks no qcow (v1) or vpc image: qvm's own reading of
	 * their tables above is the check */
	log_done("self-contained%s", r == 0 ? ", no errors (qemu-img check)" : ", tables inside the file");
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
			return input_failed(im, r);
	}
	log_begin("Looking for a partition table or file system in %s", im->source);
	if (!im->ar && !im->is_url) {
		r = content_probe_fd(im->in.fd, im->image_size, what, sizeof(what));
	} else {
		r = raw_head(im, &head, &head_len, &buf);
		if (r == 0)
			r = content_probe_head(head, head_len, im->image_size, what, sizeof(what));
	}
	if (r < 0)
		return log_error(TASK, "cannot examine image '%s': %s", im->source, strerror(-r));
	if (r > 0) {
		log_done("%s", what);
		return 0;
	}
	if (im->force) {
		log_done("none found (imported all the same: --force)");
		return 0;
	}
	/* what it looks like instead: a local file's start is read only now */
	if (!head && (r = raw_head(im, &head, &head_len, &buf)) < 0)
		return log_error(TASK, "cannot read image '%s': %s", im->source, strerror(-r));
	const char *looks = content_describe(head, head_len);
	return log_error(TASK, "'%s' does not look like a disk image%s%s%s: qvm found no partition table, "
			 "file system, LVM, RAID or LUKS signature in it; if it is a disk all the same, "
			 "import it with --force", im->source, looks ? " (it looks like " : "", looks ? looks : "",
			 looks ? ")" : "");
}

/* Step 1: what the source is and how big its disk is. Nothing changes. */
static int examine(struct import *im)
{
	char sz[32], sz2[32];

	if (source_is_qemu(im->fmt)) {
		/* qemu-img reads the very bytes qvm inspects and hashes: a local
		 * file held still, or a private copy */
		int r = im->is_url ? 0 : hold_file(im->in.fd);
		if (im->is_url) {
			if (copy_to_temp(im, NULL) < 0 || verify_digest(im) < 0)
				return -1;
		} else if (r < 0) {
			if (copy_to_temp(im, r == -EAGAIN ? "it is open for writing elsewhere"
						: r == -EOPNOTSUPP ? "no lease can hold it still where it is"
						: r == -EPERM ? "its file system's device can be written past a lease"
						: strerror(-r)) < 0 ||
			    verify_digest(im) < 0)
				return -1;
		} else {
			im->held = 1;
			if (im->expected[0] && verify_local_file(im) < 0)
				return -1;
			if (asprintf(&im->qemu_path, "/proc/%ld/fd/%d", (long)getpid(), im->in.fd) < 0) {
				/* the very file inspected, whatever happens to its name */
				im->qemu_path = NULL;
				return log_error(TASK, "%s", strerror(ENOMEM));
			}
		}
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
		return log_error(TASK, "the server announced a length for %s that is not a size "
				 "(Content-Length: %s): give the zvol's size with --size SIZE", im->source, t);
	} else {
		return log_error(TASK, "the server did not say how big %s is: give the zvol's size with "
				 "--size SIZE", im->source);
	}
	/* a qemu-img format: downloaded, unpacked or local */
	if (source_is_qemu(im->fmt) ? check_qemu_image(im) < 0 : check_raw_content(im) < 0)
		return -1;
	if (im->size_opt && im->size_opt < im->image_size)
		return log_error(TASK, "--size %s is smaller than the image (%s%s%s)",
				 size_format(im->size_opt, sz, sizeof(sz)),
				 size_format(im->image_size, sz2, sizeof(sz2)), im->size_from ? ", " : "",
				 im->size_from ? im->size_from : "");
	return 0;
}

/* Step 3: the image's bytes into the device. */
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
	if (source_is_qemu(im->fmt)) {
		_cleanup_free_ char *err = NULL;
		log_begin("Converting %s image %s to %s", source_format_name(im->fmt), im->source, device);
		if (im->live)
			log_done("%s", "");
		r = qemu_img_convert(im->qemu_path, source_format_name(im->fmt), device, im->live, &err);
		if (im->live)
			printf("\n");
		if (r == -EINTR || signal_pending())
			return interrupted();
		if (r < 0)
			return log_error(TASK, "qemu-img could not convert '%s': %s", im->source,
					 err ? err : r == -ENOENT ? "qemu-img not found (install qemu-utils)"
								  : strerror(-r));
		if (fsync(dev_fd) < 0)
			return log_error(TASK, "cannot flush device %s: %s", device, strerror(errno));
		if (held_broken(im) < 0 || still_sound(im) < 0)
			return -1;
		if (im->live)
			log_step("Converted in %.1f s", seconds_since(&t0));
		else
			log_done("converted in %.1f s", seconds_since(&t0));
		return 0;
	}

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
	log_begin("%s", label);
	progress_start(&pr, im->live, label, im->image_size);
	job.progress = progress_cb;
	job.userdata = &pr;
	r = imgwrite_run(&job, &stats, &stage);
	progress_end(&pr);
	if (r == -EINTR)
		return interrupted();
	if (r == -EFBIG)
		return log_error(TASK, "the image in '%s' is larger than the zvol (%s)%s", im->source,
				 size_format(im->volsize, sz, sizeof(sz)),
				 im->size_opt ? ": give a larger --size" : "");
	if (r < 0 && stage == IMGWRITE_READ)
		return im->ar ? archive_failed(im, r) : input_failed(im, r);
	if (r < 0 && stage == IMGWRITE_WRITE)
		return log_error(TASK, "cannot write to device %s: %s", device, strerror(-r));
	if (r < 0)
		return log_error(TASK, "cannot flush device %s: %s", device, strerror(-r));

	if (im->ar && finish_archive(im) < 0)
		return -1;
	/* the checksum covers the whole source: what the archive left unread
	 * (a raw local file was hashed by its own reader, holes included) */
	if (im->in.hash && (im->ar || im->is_url)) {
		r = input_drain(&im->in);
		if (r < 0)
			return input_failed(im, r);
	}
	if (im->is_url && im->in.size != INPUT_SIZE_UNKNOWN && im->in.consumed != im->in.size &&
	    !im->ar)
		return log_error(TASK, "cannot download %s: the transfer ended after %llu of %llu bytes",
				 im->source, (unsigned long long)im->in.consumed,
				 (unsigned long long)im->in.size);
	log_done("wrote %s of data in %.1f s", size_format(stats.written, sz, sizeof(sz)),
		 seconds_since(&t0));
	return 0;
}

/* Steps 2-4: everything that changes the host. */
static int import_into(struct import *im, unsigned timeout, struct undo *undo)
{
	_cleanup_free_ char *device = NULL, *err = NULL;
	_cleanup_strv_free_ char **marks = NULL;
	_cleanup_close_ int dev_fd = -1;
	const char *zvol = im->zvol;
	uint64_t volsize, dev_size;
	char sz[32], sz2[32];
	int r;

	if (!size_round_up(im->size_opt ? im->size_opt : im->image_size, MIB, &volsize))
		return log_error(TASK, "image '%s' is too large", im->source);
	im->volsize = volsize;
	device = settings_zvol_device(zvol);
	if (!device || marks_image(im->mark_source, &marks) < 0 ||
	    (im->expected[0] && strv_pushf(&marks, "qvm:%s=%s", digest_name(im->alg), im->expected) < 0) ||
	    undo_prepare_destroy(undo, zvol, 1) < 0)
		return log_error(TASK, "%s", strerror(ENOMEM));
	if (signal_pending())
		return interrupted();

	/* say where a size that is not the file's own came from */
	const char *from = im->size_opt ? "--size" : im->size_from;
	log_begin("Creating zvol %s (%s%s%s)", zvol, size_format(volsize, sz, sizeof(sz)),
		  from ? ", " : "", from ? from : "");
	r = zfs_create_volume(zvol, volsize, marks, &err);
	if (r < 0)
		return log_error(TASK, "cannot create zvol %s: %s", zvol, err ? err : strerror(-r));
	undo_arm(undo);
	log_done("done");

	log_begin("Waiting for device %s", device);
	r = device_wait(device, timeout);
	if (r == -EINTR)
		return interrupted();
	if (r == -ETIMEDOUT)
		return log_error(TASK, "device %s did not appear within %u seconds", device, timeout);
	if (r < 0)
		return log_error(TASK, "cannot find device %s: %s", device, strerror(-r));
	r = device_open_write(device, &dev_fd, &dev_size);
	if (r == -ENODEV)
		return log_error(TASK, "cannot open device %s: not a block device", device);
	if (r < 0)
		return log_error(TASK, "cannot open device %s: %s", device, strerror(-r));
	if (dev_size < im->image_size)
		return log_error(TASK, "device %s holds %s, less than the image's %s", device,
				 size_format(dev_size, sz, sizeof(sz)),
				 size_format(im->image_size, sz2, sizeof(sz2)));
	log_done("done");

	if (write_image(im, device, dev_fd) < 0)
		return -1;
	if (close(TAKE_FD(dev_fd)) < 0)
		return log_error(TASK, "cannot write to device %s: %s", device, strerror(errno));

	if (verify_digest(im) < 0)
		return -1;

	if (signal_pending())
		return interrupted();
	log_begin("Creating snapshot %s@base", zvol);
	free(TAKE_PTR(err));
	{
		_cleanup_free_ char *snap = NULL;
		if (asprintf(&snap, "%s@base", zvol) < 0)
			return log_error(TASK, "%s", strerror(ENOMEM));
		r = zfs_snapshot(snap, &err);
		if (r < 0)
			return log_error(TASK, "cannot create snapshot %s: %s", snap,
					 err ? err : strerror(-r));
	}
	log_done("done");

	/* the last change: from here on the zvol is a finished image */
	if (signal_pending())
		return interrupted();
	r = zfs_set(zvol, MARK_STATE "=" MARK_STATE_READY, &err);
	if (r < 0)
		return log_error(TASK, "cannot mark zvol %s as ready: %s", zvol, err ? err : strerror(-r));
	/* a signal during that last step still means: roll back, die of it */
	if (signal_pending())
		return interrupted();
	return 0;
}

static void import_clear(struct import *im)
{
	archive_reader_free(im->ar);
	lookahead_clear(&im->raw);
	input_close(&im->in);
	if (im->tmp_fd >= 0)
		close(im->tmp_fd);
	free(im->qemu_path);
	free(im->mark_source);
	free((char *)im->name);
}

static int run_import(struct import *im, const struct cmd_opts *opts)
{
	struct undo undo = { 0 };
	const char *size = opt_last(opts, OPT_SIZE);
	unsigned timeout;
	char sz[32];

	if (settings_device_timeout(&timeout) < 0)
		return log_error(TASK, "QVM_DEVICE_TIMEOUT must be a whole number of seconds (0-86400)");
	if (size && parse_size_opt(size, &im->size_opt) < 0)
		return log_error(TASK, "invalid --size '%s': expected a number of bytes, optionally "
				 "with a K, M, G or T suffix", size);
	im->name = source_file_name(im->source);
	if (!im->name)
		return log_error(TASK, "%s", strerror(ENOMEM));
	if (expected_digest(im, opts) < 0)
		return -1;

	log_begin("Checking image %s and zvol %s", im->source, im->zvol);
	if (open_source(im) < 0 || check_target(im->zvol) < 0)
		return -1;
	if (im->expected[0] && !(im->in.hash = digest_new(im->alg)))
		return log_error(TASK, "%s", strerror(ENOMEM));
	if (im->fmt == SOURCE_RAW && !im->is_url)
		log_done("%s", size_format(im->in.size, sz, sizeof(sz)));
	else if (im->in.size != INPUT_SIZE_UNKNOWN)
		log_done("%s, %s", source_format_name(im->fmt), size_format(im->in.size, sz, sizeof(sz)));
	else
		log_done("%s", source_format_name(im->fmt));
	im->mark_source = im->is_url ? strdup(im->source) : realpath(im->source, NULL);
	if (!im->mark_source && !(im->mark_source = strdup(im->source)))
		return log_error(TASK, "%s", strerror(ENOMEM));
	if (examine(im) < 0)
		return -1;

	if (import_into(im, timeout, &undo) < 0) {
		undo_rollback(&undo, &log_report);
		return -1;
	}
	undo_commit(&undo);
	if (im->expected[0])
		log_step("Imported %s as %s@base (%s %s verified)", im->source, im->zvol,
			 digest_name(im->alg), im->expected);
	else
		log_step("Imported %s as %s@base", im->source, im->zvol);
	return 0;
}

int cmd_import(int argc, char **argv, const struct cmd_opts *opts)
{
	struct import im = { .source = argv[0], .zvol = argv[1], .tmp_fd = -1, .in = { .fd = -1 } };
	int r;

	(void)argc;
	im.is_url = fetch_is_url(im.source);
	im.quiet = opt_has(opts, OPT_QUIET);
	im.force = opt_has(opts, OPT_FORCE);
	im.live = !im.quiet && isatty(STDOUT_FILENO);
	log_set_quiet(im.quiet);
	r = run_import(&im, opts);
	import_clear(&im);
	return r;
}
