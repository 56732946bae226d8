/* SPDX-License-Identifier: MIT */
/* The disk image inside a compressed file or a tar archive (optionally
 * compressed), streamed with libarchive from an input: no temporary copy.
 * The decompressed bytes are read as they are; they are taken for a tar
 * only when they start with a tar header, so a compressed raw image whose
 * first blocks are zero is still that image (libarchive alone would read
 * its zero block as the end of an empty tar). A tar must hold exactly one
 * file with data (directories, links and empty files are passed over).
 * Sparse tar members keep their holes. */
#ifndef QVM_ARCHIVE_READER_H
#define QVM_ARCHIVE_READER_H

#include <stddef.h>
#include <stdint.h>

#include "input.h"

struct archive_reader;

/* Starts reading in (which must not have been read from yet). 0, -ENOMEM,
 * -EIO (not a stream libarchive reads: archive_reader_error()), -EINTR. */
int archive_reader_open(struct input *in, struct archive_reader **ar);

struct archive_disk {
	const char *name;            /* member name, printable (control characters
				      * escaped); NULL for a compressed image */
	uint64_t size;               /* from the tar header, or INPUT_SIZE_UNKNOWN */
	const char *compression;     /* "xz", "gzip"..., or NULL */
	const unsigned char *head;   /* its first bytes (CONTENT_HEAD, fewer if it is
				      * shorter), holes as zeros: for source_detect()
				      * and the content check */
	size_t head_len;
};

/*
 * Moves to the disk image: the first member with data, its first bytes
 * read ahead. Returns 0, -ENOENT when there is none (archive_reader_held()
 * says what there was instead), -EIO for a damaged archive or a failed
 * read (archive_reader_error() says which, and archive_reader_input_err()
 * the input's -errno if it was the input), -EINTR.
 */
int archive_reader_find_disk(struct archive_reader *ar, struct archive_disk *disk);
/* The disk's data, as struct imgwrite_stream's next(). */
int archive_reader_next(void *ar, const void **data, size_t *len, uint64_t *off);
/*
 * After the disk's data: reads to the end of the archive. Returns 0, or
 * -EEXIST if another member with data follows (*other is its name),
 * -EFBIG if more than padding follows the tar's end, or as
 * archive_reader_find_disk().
 */
int archive_reader_finish(struct archive_reader *ar, const char **other);

/* What a stream without a disk held: "nothing", "only a symlink 'a' -> 'b'",
 * "only 2 directories and an empty file". */
const char *archive_reader_held(struct archive_reader *ar);
/* libarchive's description of the last failure. */
const char *archive_reader_error(struct archive_reader *ar);
/* The input's own -errno behind the last failure, or 0. */
int archive_reader_input_err(struct archive_reader *ar);

void archive_reader_free(struct archive_reader *ar);

#endif
