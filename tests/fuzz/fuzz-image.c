/* SPDX-License-Identifier: MIT */
/* libFuzzer target: arbitrary bytes as an image file, through everything
 * qvm reads of an image before any change - format detection, each
 * format's metadata inspection (whatever the bytes claim to be), the xz
 * index and zstd frame walks, the archive reader (decompression, tar,
 * the read-ahead), what the start looks like, libblkid's probe of it,
 * and the same bytes as a checksum file. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "archive-reader.h"
#include "content.h"
#include "digest.h"
#include "input.h"
#include "inspect.h"
#include "source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The archive reader over a file holding the bytes: a bounded amount of
 * decompressed data (a small input can decompress to gigabytes). */
static void archive(int fd, size_t size)
{
	struct input in = { .fd = fd, .size = size };
	struct archive_reader *ar = NULL;
	struct archive_disk disk;
	const char *other;

	if (input_peek(&in) == 0 && archive_reader_open(&in, &ar) == 0 &&
	    archive_reader_find_disk(ar, &disk) == 0) {
		const void *block;
		size_t len, total = 0;
		uint64_t off;
		(void)source_detect(disk.head, disk.head_len);
		(void)content_describe(disk.head, disk.head_len);
		while (total < (8u << 20) && archive_reader_next(ar, &block, &len, &off) > 0)
			total += len;
		if (total < (8u << 20))
			(void)archive_reader_finish(ar, &other);
	} else if (ar) {
		(void)archive_reader_held(ar);
	}
	archive_reader_free(ar);
	in.fd = -1;                  /* closed by the caller */
	input_close(&in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct inspect_mem m = { .data = data, .len = size };
	struct inspect_result res;
	enum source_format fmt = source_detect(data, size);
	uint64_t n;
	char what[160], hex[DIGEST_HEX_MAX + 1];
	enum digest_alg alg;
	const char *other;

	/* every format's reader, whatever the magic says */
	for (enum source_format f = SOURCE_QCOW; f <= SOURCE_VPC; f++)
		(void)image_inspect(f, inspect_mem_read, &m, size, &res);
	(void)source_tail_is_vhd(data, size);
	(void)source_xz_size_at(inspect_mem_read, &m, size, &n);
	(void)content_describe(data, size < CONTENT_HEAD ? size : CONTENT_HEAD);

	char *text = malloc(size + 1);
	if (text) {
		memcpy(text, data, size);
		text[size] = '\0';
		(void)digest_find_in_sums(text, "disk.raw", &alg, hex, &other);
		free(text);
	}

	int fd = memfd_create("fuzz", MFD_CLOEXEC);
	if (fd >= 0 && write(fd, data, size) == (ssize_t)size) {
		(void)source_zstd_size(fd, size, &n);
		if (fmt == SOURCE_RAW)
			(void)content_probe_fd(fd, size, what, sizeof(what));
		if (source_is_stream(fmt) && lseek(fd, 0, SEEK_SET) == 0)
			archive(fd, size);
	}
	if (fd >= 0)
		close(fd);
	return 0;
}
