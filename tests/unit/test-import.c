/* SPDX-License-Identifier: MIT */
/* qvm import's pure parts: format detection by magic bytes, SHA-256 and
 * checksum files, qemu-img's JSON, and the image writer's producers. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "imgwrite.h"
#include "qemuimg.h"
#include "source.h"
#include "strv.h"

static enum source_format detect(const void *magic, size_t len, size_t at)
{
	unsigned char buf[SOURCE_PEEK] = { 0 };

	memcpy(buf + at, magic, len);
	return source_detect(buf, sizeof(buf));
}

static void test_detect(void **state)
{
	(void)state;
	assert_int_equal(detect("QFI\xfb\0\0\0\3", 8, 0), SOURCE_QCOW2);
	assert_int_equal(detect("QFI\xfb\0\0\0\2", 8, 0), SOURCE_QCOW2);
	assert_int_equal(detect("QFI\xfb\0\0\0\1", 8, 0), SOURCE_QCOW);
	assert_int_equal(detect("KDMV", 4, 0), SOURCE_VMDK);
	assert_int_equal(detect("# Disk DescriptorFile", 21, 0), SOURCE_VMDK);
	assert_int_equal(detect("vhdxfile", 8, 0), SOURCE_VHDX);
	assert_int_equal(detect("\x7f\x10\xda\xbe", 4, 0x40), SOURCE_VDI);
	assert_int_equal(detect("conectix", 8, 0), SOURCE_VPC);
	assert_int_equal(detect("\xfd" "7zXZ\0", 6, 0), SOURCE_XZ);
	assert_int_equal(detect("\x28\xb5\x2f\xfd", 4, 0), SOURCE_ZSTD);
	assert_int_equal(detect("\x1f\x8b\x08", 3, 0), SOURCE_GZIP);
	assert_int_equal(detect("BZh9", 4, 0), SOURCE_BZIP2);
	assert_int_equal(detect("BZhx", 4, 0), SOURCE_RAW);
	assert_int_equal(detect("ustar", 5, 257), SOURCE_TAR);
	assert_int_equal(detect("\x55\xaa", 2, 510), SOURCE_RAW);   /* an MBR */
	/* too short to hold the magic: raw */
	assert_int_equal(source_detect((const unsigned char *)"QFI", 3), SOURCE_RAW);
	assert_int_equal(source_detect((const unsigned char *)"", 0), SOURCE_RAW);
	assert_true(source_is_qemu(SOURCE_VPC));
	assert_false(source_is_qemu(SOURCE_XZ));
	assert_true(source_is_stream(SOURCE_TAR));
	assert_false(source_is_stream(SOURCE_RAW));
	assert_string_equal(source_format_name(SOURCE_VPC), "vpc");

	unsigned char tail[512] = { 0 };
	assert_false(source_tail_is_vhd(tail, sizeof(tail)));
	memcpy(tail, "conectix", 8);
	assert_true(source_tail_is_vhd(tail, sizeof(tail)));
}

static void test_qemu_json(void **state)
{
	uint64_t v = 0;
	char **argv = NULL, *refers = NULL;

	(void)state;
	assert_int_equal(qemu_img_parse_info("{\n \"virtual-size\": 2147483648,\n \"filename\": \"a\","
					     " \"format\": \"qcow2\", \"actual-size\": 200704\n}\n", &v, &refers), 0);
	assert_true(v == UINT64_C(2147483648));
	assert_null(refers);
	assert_int_equal(qemu_img_parse_info("{\"virtual-size\": \"12\"}", &v, &refers), -EINVAL);
	assert_int_equal(qemu_img_parse_info("{\"virtual-size\": -1}", &v, &refers), -EINVAL);
	assert_int_equal(qemu_img_parse_info("[1]", &v, &refers), -EINVAL);
	assert_int_equal(qemu_img_parse_info("{\"virtual-size\": 12", &v, &refers), -EINVAL);
	assert_int_equal(qemu_img_parse_info("", &v, &refers), -EINVAL);
	assert_int_equal(qemu_img_parse_info("{}", &v, &refers), -EINVAL);
	/* what the image names outside itself, though qemu-img did not open it */
	assert_int_equal(qemu_img_parse_info("{\"virtual-size\": 1048576, \"backing-filename\": \"/etc/shadow\"}",
					     &v, &refers), 0);
	assert_string_equal(refers, "/etc/shadow");
	free(refers);
	assert_int_equal(qemu_img_parse_info("{\"virtual-size\": 1048576, \"format-specific\": {\"type\": "
					     "\"qcow2\", \"data\": {\"data-file\": \"/dev/sda\"}}}", &v, &refers), 0);
	assert_string_equal(refers, "/dev/sda");
	free(refers);

	/* the image as a json: spec: one file, no backing file, every byte of
	 * the path escaped as JSON */
	char *spec = qemu_img_spec("/a \"b\\c,d.qcow2", "qcow2");
	assert_string_equal(spec, "json:{\"driver\":\"qcow2\",\"file\":{\"driver\":\"file\",\"filename\":"
			    "\"/a \\\"b\\\\c,d.qcow2\"},\"backing\":null}");
	free(spec);

	assert_int_equal(qemu_img_convert_argv("/a b.qcow2", "qcow2", "/dev/zvol/t/x", 1, &argv), 0);
	char *line = strv_join(argv, " ");
	assert_string_equal(line, "qemu-img convert -n --target-is-zero -W -O raw -p "
			    "json:{\"driver\":\"qcow2\",\"file\":{\"driver\":\"file\",\"filename\":\"/a b.qcow2\"},"
			    "\"backing\":null} /dev/zvol/t/x");
	free(line);
	strv_free(argv);
}

/* A source of blocks for the stream producer. */
struct blocks {
	const char *data[4];
	uint64_t off[4];
	size_t n, i;
};

static int blocks_next(void *ctx, const void **data, size_t *len, uint64_t *off)
{
	struct blocks *b = ctx;

	if (b->i == b->n)
		return 0;
	*data = b->data[b->i];
	*len = strlen(b->data[b->i]);
	*off = b->off[b->i];
	b->i++;
	return 1;
}

static void test_stream_fill(void **state)
{
	struct blocks b = { { "abc", "def", "ghijk" }, { 0, 3, 100 }, 3, 0 };
	struct imgwrite_stream s = { .next = blocks_next, .next_ctx = &b, .max = 105 };
	unsigned char buf[4];
	struct imgchunk c = { .buf = buf, .cap = sizeof(buf) };

	(void)state;
	/* "abcd" fills the chunk; "ef" ends at the hole; "ghij", "k" */
	assert_int_equal(imgwrite_stream_fill(&s, &c), 1);
	assert_true(c.off == 0 && c.len == 4 && memcmp(buf, "abcd", 4) == 0);
	assert_int_equal(imgwrite_stream_fill(&s, &c), 1);
	assert_true(c.off == 4 && c.len == 2 && memcmp(buf, "ef", 2) == 0);
	assert_int_equal(imgwrite_stream_fill(&s, &c), 1);
	assert_true(c.off == 100 && c.len == 4 && memcmp(buf, "ghij", 4) == 0);
	assert_int_equal(imgwrite_stream_fill(&s, &c), 1);
	assert_true(c.off == 104 && c.len == 1 && buf[0] == 'k');
	assert_int_equal(imgwrite_stream_fill(&s, &c), 0);

	/* one byte more than max */
	struct blocks b2 = { { "abc", "def", "ghijk" }, { 0, 3, 100 }, 3, 0 };
	struct imgwrite_stream s2 = { .next = blocks_next, .next_ctx = &b2, .max = 104 };
	int r;
	while ((r = imgwrite_stream_fill(&s2, &c)) == 1)
		;
	assert_int_equal(r, -EFBIG);
}

static int hashed;
static void count_hash(void *ctx, const void *buf, size_t len)
{
	(void)ctx;
	(void)buf;
	hashed += (int)len;
}

/* The whole writer: a sparse file in, a zeroed file out, same bytes. */
static void test_run_raw(void **state)
{
	char in_path[] = "/tmp/qvm-test-in-XXXXXX", out_path[] = "/tmp/qvm-test-out-XXXXXX";
	int in = mkstemp(in_path), out = mkstemp(out_path);
	const uint64_t size = (uint64_t)IMGWRITE_CHUNK * 5 + 12345;
	struct imgwrite_stats stats;
	enum imgwrite_stage stage;

	(void)state;
	assert_true(in >= 0 && out >= 0);
	unlink(in_path);
	unlink(out_path);
	assert_int_equal(ftruncate(in, (off_t)size), 0);
	assert_int_equal(ftruncate(out, (off_t)size), 0);
	for (uint64_t off = 7; off < size; off += 3 * IMGWRITE_CHUNK / 2 + 4097)
		assert_int_equal(pwrite(in, "data", 4, (off_t)off), 4);
	assert_int_equal(pwrite(in, "end", 3, (off_t)size - 3), 3);

	struct imgwrite_raw raw = { .fd = in, .size = size, .hash = count_hash };
	struct imgwrite_job job = { .fill = imgwrite_raw_fill, .fill_ctx = &raw, .out_fd = out,
				    .total = size };
	hashed = 0;
	assert_int_equal(imgwrite_run(&job, &stats, &stage), 0);
	assert_true((uint64_t)hashed == size);   /* holes hashed as zeros */
	assert_true(stats.written < size / 4);

	unsigned char *a = malloc(size), *b = malloc(size);
	assert_true(pread(in, a, size, 0) == (ssize_t)size);
	assert_true(pread(out, b, size, 0) == (ssize_t)size);
	assert_memory_equal(a, b, size);
	free(a);
	free(b);
	close(in);
	close(out);
}

/* A producer that cuts its file to `to` bytes after the first chunk. */
struct shrinking {
	struct imgwrite_raw raw;
	uint64_t to;
	int chunks;
};

static int shrinking_fill(void *ctx, struct imgchunk *c)
{
	struct shrinking *s = ctx;
	int r = imgwrite_raw_fill(&s->raw, c);

	if (r > 0 && s->chunks++ == 0)
		assert_int_equal(ftruncate(s->raw.fd, (off_t)s->to), 0);
	return r;
}

/* An image that shrinks during the run is a read error (-EIO), whether the
 * lost part is still to be read or behind a hole (SEEK_DATA finds no more
 * data): never an image silently cut short. */
static void run_shrinking(int holes, int hash)
{
	char in_path[] = "/tmp/qvm-test-in-XXXXXX", out_path[] = "/tmp/qvm-test-out-XXXXXX";
	int in = mkstemp(in_path), out = mkstemp(out_path);
	const uint64_t size = (uint64_t)IMGWRITE_CHUNK * 6;
	unsigned char *data = malloc(IMGWRITE_CHUNK);
	struct imgwrite_stats stats;
	enum imgwrite_stage stage = IMGWRITE_FLUSH;

	assert_true(in >= 0 && out >= 0 && data);
	unlink(in_path);
	unlink(out_path);
	memset(data, 0x5a, IMGWRITE_CHUNK);
	assert_int_equal(ftruncate(in, (off_t)size), 0);
	assert_int_equal(ftruncate(out, (off_t)size), 0);
	/* all data, or data in chunks 0, 2 and 4 with holes between */
	for (uint64_t c = 0; c < 6; c += holes ? 2 : 1)
		assert_true(pwrite(in, data, IMGWRITE_CHUNK, (off_t)(c * IMGWRITE_CHUNK)) ==
			    (ssize_t)IMGWRITE_CHUNK);

	struct shrinking s = {
		.raw = { .fd = in, .size = size, .hash = hash ? count_hash : NULL },
		.to = IMGWRITE_CHUNK + 4096,
	};
	struct imgwrite_job job = { .fill = shrinking_fill, .fill_ctx = &s, .out_fd = out,
				    .total = size };
	assert_int_equal(imgwrite_run(&job, &stats, &stage), -EIO);
	assert_int_equal(stage, IMGWRITE_READ);
	free(data);
	close(in);
	close(out);
}

static void test_shrinking(void **state)
{
	(void)state;
	run_shrinking(0, 0);
	run_shrinking(0, 1);
	run_shrinking(1, 0);
	run_shrinking(1, 1);
}

/* A device that refuses writes: the writer's error, stage WRITE, and the
 * chunks it left queued are freed (the leak checkers of the ASan and
 * valgrind runs see to that). */
static void test_write_fails(void **state)
{
	char in_path[] = "/tmp/qvm-test-in-XXXXXX";
	int in = mkstemp(in_path), out = open("/dev/null", O_RDONLY);
	const uint64_t size = (uint64_t)IMGWRITE_CHUNK * 8;
	unsigned char *data = malloc(size);
	struct imgwrite_stats stats;
	enum imgwrite_stage stage = IMGWRITE_READ;

	(void)state;
	assert_true(in >= 0 && out >= 0 && data);
	unlink(in_path);
	memset(data, 0x5a, size);
	assert_true(pwrite(in, data, size, 0) == (ssize_t)size);
	free(data);

	struct imgwrite_raw raw = { .fd = in, .size = size };
	struct imgwrite_job job = { .fill = imgwrite_raw_fill, .fill_ctx = &raw, .out_fd = out,
				    .total = size };
	assert_int_equal(imgwrite_run(&job, &stats, &stage), -EBADF);
	assert_int_equal(stage, IMGWRITE_WRITE);
	assert_true(stats.written == 0);
	close(in);
	close(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_qemu_json),
		cmocka_unit_test(test_stream_fill),
		cmocka_unit_test(test_run_raw),
		cmocka_unit_test(test_shrinking),
		cmocka_unit_test(test_write_fails),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
