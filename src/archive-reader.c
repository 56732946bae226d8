/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <archive.h>
#include <archive_entry.h>

#include "archive-reader.h"
#include "signals.h"
#include "banned.h"

#define READ_SIZE (1u << 20)

struct archive_reader {
	struct archive *a;
	struct input *in;
	unsigned char *buf;
	int input_err;
	char *disk_name;
	/* the disk's first block, handed out again by the first next() */
	const void *first;
	size_t first_len;
	int64_t first_off;
	int have_first;
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

int archive_reader_open(struct input *in, struct archive_reader **arp)
{
	struct archive_reader *ar = calloc(1, sizeof(*ar));

	*arp = ar;
	if (!ar)
		return -ENOMEM;
	ar->in = in;
	ar->buf = malloc(READ_SIZE);
	ar->a = archive_read_new();
	if (!ar->buf || !ar->a)
		return -ENOMEM;
	archive_read_support_filter_all(ar->a);
	archive_read_support_format_tar(ar->a);
	archive_read_support_format_raw(ar->a);
	archive_read_support_format_empty(ar->a);
	if (archive_read_open(ar->a, ar, NULL, on_read, NULL) != ARCHIVE_OK)
		return ar->input_err == -EINTR ? -EINTR : -EIO;
	return 0;
}

static int failed(struct archive_reader *ar)
{
	if (ar->input_err == -EINTR || signal_pending())
		return -EINTR;
	return -EIO;
}

/* Next member with data, or -ENOENT at the end. */
static int next_member(struct archive_reader *ar, struct archive_entry **e)
{
	for (;;) {
		int r = archive_read_next_header(ar->a, e);
		if (r == ARCHIVE_EOF)
			return -ENOENT;
		if (r < ARCHIVE_WARN)
			return failed(ar);
		if (archive_format(ar->a) == ARCHIVE_FORMAT_RAW)
			return 0;
		if (archive_entry_filetype(*e) == AE_IFREG &&
		    (!archive_entry_size_is_set(*e) || archive_entry_size(*e) > 0))
			return 0;
	}
}

int archive_reader_find_disk(struct archive_reader *ar, struct archive_disk *disk)
{
	struct archive_entry *e;
	int r = next_member(ar, &e);

	memset(disk, 0, sizeof(*disk));
	if (r < 0)
		return r;
	if (archive_format(ar->a) != ARCHIVE_FORMAT_RAW) {
		ar->disk_name = strdup(archive_entry_pathname(e) ? archive_entry_pathname(e) : "?");
		if (!ar->disk_name)
			return -ENOMEM;
		disk->name = ar->disk_name;
	}
	disk->size = archive_entry_size_is_set(e) && archive_format(ar->a) != ARCHIVE_FORMAT_RAW
			     ? (uint64_t)archive_entry_size(e)
			     : INPUT_SIZE_UNKNOWN;
	for (int i = archive_filter_count(ar->a) - 1; i >= 0; i--) {
		int code = archive_filter_code(ar->a, i);
		if (code != ARCHIVE_FILTER_NONE) {
			disk->compression = archive_filter_name(ar->a, i);
			break;
		}
	}
	r = archive_read_data_block(ar->a, &ar->first, &ar->first_len, &ar->first_off);
	if (r == ARCHIVE_EOF) {
		ar->first_len = 0;
	} else if (r < ARCHIVE_WARN) {
		return failed(ar);
	}
	ar->have_first = r != ARCHIVE_EOF;
	if (ar->have_first && ar->first_off == 0) {
		disk->head = ar->first;
		disk->head_len = ar->first_len;
	}
	return 0;
}

int archive_reader_next(void *ctx, const void **data, size_t *len, uint64_t *off)
{
	struct archive_reader *ar = ctx;
	int64_t o;
	int r;

	if (ar->have_first) {
		ar->have_first = 0;
		*data = ar->first;
		*len = ar->first_len;
		*off = (uint64_t)ar->first_off;
		return 1;
	}
	r = archive_read_data_block(ar->a, data, len, &o);
	if (r == ARCHIVE_EOF)
		return 0;
	if (r < ARCHIVE_WARN)
		return failed(ar);
	*off = (uint64_t)o;
	return 1;
}

int archive_reader_finish(struct archive_reader *ar, const char **other)
{
	struct archive_entry *e;
	int r;

	/* a format's trailer (tar's end blocks) is read here too */
	r = next_member(ar, &e);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	*other = archive_entry_pathname(e) ? archive_entry_pathname(e) : "?";
	return -EEXIST;
}

const char *archive_reader_error(struct archive_reader *ar)
{
	const char *s = ar && ar->a ? archive_error_string(ar->a) : NULL;

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
	if (ar->a)
		archive_read_free(ar->a);
	free(ar->buf);
	free(ar->disk_name);
	free(ar);
}
