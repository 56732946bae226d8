/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <archive.h>
#include <archive_entry.h>

#include "archive-reader.h"
#include "content.h"
#include "lookahead.h"
#include "msgtext.h"
#include "signals.h"
#include "source.h"
#include "banned.h"

#define READ_SIZE (1u << 20)
/* What may follow a tar's end in its stream: padding to its record size. */
#define TRAILER_MAX (1u << 20)

/* What a tar held besides its disk, for "holds only ..." */
enum held { HELD_DIR, HELD_SYMLINK, HELD_HARDLINK, HELD_EMPTY, HELD_OTHER, N_HELD };

struct archive_reader {
	struct archive *bytes;       /* decompression (libarchive's filters) + raw */
	struct archive *tar;         /* a tar read from those bytes, or NULL */
	struct archive *failed;      /* the one whose error is reported */
	struct input *in;
	unsigned char *buf;
	int input_err;
	struct lookahead stream;     /* the decompressed bytes */
	struct lookahead disk;       /* a tar member's data */
	struct lookahead *data;      /* the disk: &disk in a tar, else &stream */
	char *disk_name;
	unsigned held[N_HELD];
	char first_link[300];        /* the first symlink, "'a' -> 'b'" */
	char other_name[300];        /* a second member with data, for the message */
	char held_text[400];
};

static la_ssize_t on_read(struct archive *a, void *userdata, const void **out)
{
	struct archive_reader *ar = userdata;
	ssize_t n = input_read(ar->in, ar->buf, READ_SIZE);

	if (n < 0) {
		ar->input_err = (int)n;
		archive_set_error(a, (int)-n, "%s", strerror((int)-n));
		return -1;
	}
	*out = ar->buf;
	return n;
}

static int failed(struct archive_reader *ar, struct archive *a)
{
	ar->failed = a;
	if (ar->input_err == -EINTR || signal_pending())
		return -EINTR;
	return -EIO;
}

/* The next data block of archive a, as a block source's. */
static int data_block(struct archive_reader *ar, struct archive *a, const void **data, size_t *len,
		      uint64_t *off)
{
	int64_t o;
	int r = archive_read_data_block(a, data, len, &o);

	if (r == ARCHIVE_EOF)
		return 0;
	if (r < ARCHIVE_WARN)
		return failed(ar, ar->failed ? ar->failed : a);
	*off = (uint64_t)o;
	return 1;
}

/* The decompressed bytes, as a block source. */
static int bytes_next(void *ctx, const void **data, size_t *len, uint64_t *off)
{
	struct archive_reader *ar = ctx;

	return data_block(ar, ar->bytes, data, len, off);
}

/* The tar's input: the decompressed bytes, read ahead ones first. */
static la_ssize_t tar_read(struct archive *a, void *userdata, const void **out)
{
	struct archive_reader *ar = userdata;
	size_t len;
	uint64_t off;
	int r = lookahead_next(&ar->stream, out, &len, &off);

	if (r < 0) {
		archive_set_error(a, EIO, "%s", archive_error_string(ar->bytes) ? archive_error_string(ar->bytes)
										 : strerror(-r));
		return -1;
	}
	return r == 0 ? 0 : (la_ssize_t)len;
}

/* A tar member's data, as a block source. */
static int member_next(void *ctx, const void **data, size_t *len, uint64_t *off)
{
	struct archive_reader *ar = ctx;

	return data_block(ar, ar->tar, data, len, off);
}

int archive_reader_open(struct input *in, struct archive_reader **arp)
{
	struct archive_reader *ar = calloc(1, sizeof(*ar));
	struct archive_entry *e;

	*arp = ar;
	if (!ar)
		return -ENOMEM;
	ar->in = in;
	ar->buf = malloc(READ_SIZE);
	ar->bytes = archive_read_new();
	if (!ar->buf || !ar->bytes)
		return -ENOMEM;
	/* the compressions source_detect() knows, in libarchive itself (no
	 * helper program is ever started) */
	archive_read_support_filter_xz(ar->bytes);
	archive_read_support_filter_zstd(ar->bytes);
	archive_read_support_filter_gzip(ar->bytes);
	archive_read_support_filter_bzip2(ar->bytes);
	archive_read_support_filter_lz4(ar->bytes);
	archive_read_support_format_raw(ar->bytes);
	archive_read_support_format_empty(ar->bytes);
	if (archive_read_open(ar->bytes, ar, NULL, on_read, NULL) != ARCHIVE_OK)
		return failed(ar, ar->bytes);
	int r = archive_read_next_header(ar->bytes, &e);
	if (r == ARCHIVE_EOF)
		ar->stream.ended = 1;        /* empty: nothing follows */
	else if (r < ARCHIVE_WARN)
		return failed(ar, ar->bytes);
	ar->stream.next = bytes_next;
	ar->stream.ctx = ar;
	ar->data = &ar->stream;
	return 0;
}

static void count_held(struct archive_reader *ar, struct archive_entry *e)
{
	unsigned type = archive_entry_filetype(e);

	if (archive_entry_hardlink(e)) {
		ar->held[HELD_HARDLINK]++;
	} else if (type == AE_IFDIR) {
		ar->held[HELD_DIR]++;
	} else if (type == AE_IFLNK) {
		if (!ar->held[HELD_SYMLINK]++) {
			char name[140], target[140];
			const char *n = archive_entry_pathname(e), *t = archive_entry_symlink(e);
			msg_text(name, sizeof(name), n ? n : "?", n ? strlen(n) : 1);
			msg_text(target, sizeof(target), t ? t : "?", t ? strlen(t) : 1);
			snprintf(ar->first_link, sizeof(ar->first_link), " '%s' -> '%s'", name, target);
		}
	} else if (type == AE_IFREG) {
		ar->held[HELD_EMPTY]++;
	} else {
		ar->held[HELD_OTHER]++;
	}
}

/* Next member with data, or -ENOENT at the end of the tar. */
static int next_member(struct archive_reader *ar, struct archive_entry **e)
{
	for (;;) {
		int r = archive_read_next_header(ar->tar, e);
		if (r == ARCHIVE_EOF)
			return -ENOENT;
		if (r < ARCHIVE_WARN)
			return failed(ar, ar->failed ? ar->failed : ar->tar);
		if (archive_entry_filetype(*e) == AE_IFREG && !archive_entry_hardlink(*e) &&
		    (!archive_entry_size_is_set(*e) || archive_entry_size(*e) > 0))
			return 0;
		count_held(ar, *e);
	}
}

static int open_tar(struct archive_reader *ar)
{
	ar->tar = archive_read_new();
	if (!ar->tar)
		return -ENOMEM;
	archive_read_support_format_tar(ar->tar);
	if (archive_read_open(ar->tar, ar, NULL, tar_read, NULL) != ARCHIVE_OK)
		return failed(ar, ar->failed ? ar->failed : ar->tar);
	return 0;
}

int archive_reader_find_disk(struct archive_reader *ar, struct archive_disk *disk)
{
	struct archive_entry *e;
	int r;

	memset(disk, 0, sizeof(*disk));
	disk->size = INPUT_SIZE_UNKNOWN;
	for (int i = archive_filter_count(ar->bytes) - 1; i >= 0; i--)
		if (archive_filter_code(ar->bytes, i) != ARCHIVE_FILTER_NONE) {
			disk->compression = archive_filter_name(ar->bytes, i);
			break;
		}
	if (!ar->stream.ended && (r = lookahead_fill(&ar->stream, CONTENT_HEAD)) < 0)
		return r;
	if (ar->stream.head_len == 0)
		return -ENOENT;
	if (source_detect(ar->stream.head, ar->stream.head_len) == SOURCE_TAR) {
		if ((r = open_tar(ar)) < 0 || (r = next_member(ar, &e)) < 0)
			return r;
		/* a member's name is for messages: printable, whatever it holds */
		const char *n = archive_entry_pathname(e) ? archive_entry_pathname(e) : "?";
		char shown[300];
		msg_text(shown, sizeof(shown), n, strlen(n));
		ar->disk_name = strdup(shown);
		if (!ar->disk_name)
			return -ENOMEM;
		disk->name = ar->disk_name;
		if (archive_entry_size_is_set(e))
			disk->size = (uint64_t)archive_entry_size(e);
		ar->disk.next = member_next;
		ar->disk.ctx = ar;
		ar->data = &ar->disk;
		if ((r = lookahead_fill(&ar->disk, CONTENT_HEAD)) < 0)
			return r;
	}
	disk->head = ar->data->head;
	disk->head_len = ar->data->head_len;
	return 0;
}

int archive_reader_next(void *ctx, const void **data, size_t *len, uint64_t *off)
{
	struct archive_reader *ar = ctx;

	return lookahead_next(ar->data, data, len, off);
}

int archive_reader_finish(struct archive_reader *ar, const char **other)
{
	struct archive_entry *e;
	const void *data;
	size_t len;
	uint64_t off;
	int r;

	if (ar->tar) {
		/* tar's end blocks are read here too */
		r = next_member(ar, &e);
		if (r == 0) {
			const char *n = archive_entry_pathname(e) ? archive_entry_pathname(e) : "?";
			msg_text(ar->other_name, sizeof(ar->other_name), n, strlen(n));
			*other = ar->other_name;
			return -EEXIST;
		}
		if (r != -ENOENT)
			return r;
	}
	/* to the end of the decompressed bytes: the compression's own check
	 * (xz's CRC, gzip's length) is at its end. After a tar, only its
	 * padding may follow: a stream that goes on (a few KiB of bzip2 can
	 * hold gigabytes of zeros) is refused, not read for minutes */
	uint64_t after = 0;
	while ((r = lookahead_next(&ar->stream, &data, &len, &off)) > 0)
		if (ar->tar && (after += len) > TRAILER_MAX)
			return -EFBIG;
	return r;
}

const char *archive_reader_held(struct archive_reader *ar)
{
	static const char *const one[N_HELD] = { "a directory", "a symlink", "a hard link", "an empty file",
						 "a device, FIFO or socket" };
	static const char *const many[N_HELD] = { "directories", "symlinks", "hard links", "empty files",
						  "devices, FIFOs or sockets" };
	size_t o = 0, kinds = 0, seen = 0;

	for (int i = 0; i < N_HELD; i++)
		kinds += ar->held[i] > 0;
	if (kinds == 0)
		return ar->tar ? "no member at all (an empty tar)" : "nothing (the stream is empty)";
	o = (size_t)snprintf(ar->held_text, sizeof(ar->held_text), "only ");
	for (int i = 0; i < N_HELD && o < sizeof(ar->held_text); i++) {
		if (!ar->held[i])
			continue;
		seen++;
		const char *sep = seen == 1 ? "" : seen == kinds ? " and " : ", ";
		if (ar->held[i] == 1)
			o += (size_t)snprintf(ar->held_text + o, sizeof(ar->held_text) - o, "%s%s%s", sep, one[i],
					      i == HELD_SYMLINK ? ar->first_link : "");
		else
			o += (size_t)snprintf(ar->held_text + o, sizeof(ar->held_text) - o, "%s%u %s", sep,
					      ar->held[i], many[i]);
	}
	return ar->held_text;
}

const char *archive_reader_error(struct archive_reader *ar)
{
	struct archive *a = ar ? (ar->failed ? ar->failed : ar->bytes) : NULL;
	const char *s = a ? archive_error_string(a) : NULL;

	return s ? s : "unknown error";
}

int archive_reader_input_err(struct archive_reader *ar)
{
	return ar->input_err;
}

void archive_reader_free(struct archive_reader *ar)
{
	if (!ar)
		return;
	if (ar->tar)
		archive_read_free(ar->tar);
	if (ar->bytes)
		archive_read_free(ar->bytes);
	lookahead_clear(&ar->stream);
	lookahead_clear(&ar->disk);
	free(ar->buf);
	free(ar->disk_name);
	free(ar);
}
