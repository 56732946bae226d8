/* SPDX-License-Identifier: MIT */
/* qvm's own reading of image metadata: images qemu-img makes, then the
 * same images changed byte by byte to refer outside themselves, to lie
 * about their tables, or to be cut short. Every verdict is checked; every
 * cut and a few thousand random changes must be read without a crash. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "inspect.h"

extern char **environ;

static char dir[] = "/tmp/test-inspect-XXXXXX";

struct image {
	unsigned char *data;
	size_t len;
};

/* qemu-img ARGS... run in dir; 0 or its exit status. */
static int qemu_img(const char *first, ...)
{
	char *argv[32] = { "qemu-img", (char *)first };
	va_list ap;
	int n = 2, status;
	pid_t pid;
	posix_spawn_file_actions_t fa;

	va_start(ap, first);
	while ((argv[n] = va_arg(ap, char *)) && n < 30)
		n++;
	va_end(ap);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (posix_spawnp(&pid, "qemu-img", &fa, NULL, argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static struct image load(const char *name)
{
	char path[256];
	struct stat st;
	struct image im;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	im.len = (size_t)st.st_size;
	im.data = malloc(im.len + 1);
	assert_non_null(im.data);
	assert_int_equal(pread(fd, im.data, im.len, 0), (ssize_t)im.len);
	close(fd);
	return im;
}

/* A fresh image of fmt (with qemu-img's -o options), 1 MiB virtual. */
static struct image made(const char *fmt, const char *opts, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (opts)
		assert_int_equal(qemu_img("create", "-q", "-f", fmt, "-o", opts, path, "1M", NULL), 0);
	else
		assert_int_equal(qemu_img("create", "-q", "-f", fmt, path, "1M", NULL), 0);
	return load(name);
}

/* The same with data in it (converted from a raw file with data). */
static struct image with_data(const char *fmt, const char *opts, const char *name)
{
	char raw[256], path[256];
	FILE *f;

	snprintf(raw, sizeof(raw), "%s/data.raw", dir);
	f = fopen(raw, "we");
	assert_non_null(f);
	for (unsigned i = 0; i < (3u << 20); i++)
		fputc((int)((i * 7919u) % 251 + 1), f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (opts)
		assert_int_equal(qemu_img("convert", "-f", "raw", "-O", fmt, "-o", opts, raw, path, NULL), 0);
	else
		assert_int_equal(qemu_img("convert", "-f", "raw", "-O", fmt, raw, path, NULL), 0);
	return load(name);
}

static struct inspect_result verdict_of(enum source_format fmt, const struct image *im)
{
	struct inspect_mem m = { .data = im->data, .len = im->len };
	struct inspect_result res;

	assert_int_equal(image_inspect(fmt, inspect_mem_read, &m, im->len, &res), 0);
	return res;
}

#define expect_verdict(fmt, im, v, text) do { \
	struct inspect_result r_ = verdict_of((fmt), (im)); \
	if (r_.verdict != (v) || !strstr(r_.why, (text))) \
		fail_msg("verdict %d '%s', expected %d with '%s'", r_.verdict, r_.why, (v), (text)); \
} while (0)

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16), p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

static void put_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8), p[2] = (unsigned char)(v >> 16), p[3] = (unsigned char)(v >> 24);
}

/* Every cut of the image, in steps, and random changes: any verdict, but
 * no crash, and nothing read past the end (inspect_mem_read refuses). */
static void no_crash(enum source_format fmt, const struct image *im)
{
	unsigned char *copy = malloc(im->len);
	struct inspect_result res;
	unsigned seed = 7;

	assert_non_null(copy);
	for (size_t cut = 0; cut < im->len; cut += cut < 4096 ? 64 : 4096) {
		struct inspect_mem m = { .data = im->data, .len = cut };
		int r = image_inspect(fmt, inspect_mem_read, &m, cut, &res);
		assert_int_equal(r, 0);
		/* the formats qemu-img cannot check: qvm's own reading sees every cut */
		if (cut < im->len && (fmt == SOURCE_QCOW || fmt == SOURCE_VPC || fmt == SOURCE_VDI ||
				      fmt == SOURCE_VHDX) && res.verdict == INSPECT_OK)
			fail_msg("format %d cut to %zu of %zu bytes: not seen", fmt, cut, im->len);
	}
	for (int i = 0; i < 2000; i++) {
		memcpy(copy, im->data, im->len);
		for (int k = 0; k < 4; k++) {
			seed = seed * 1103515245u + 12345u;
			size_t at = (seed >> 8) % (im->len < 65536 ? im->len : 65536);
			copy[at] = (unsigned char)(seed >> 3);
		}
		struct inspect_mem m = { .data = copy, .len = im->len };
		assert_int_equal(image_inspect(fmt, inspect_mem_read, &m, im->len, &res), 0);
	}
	free(copy);
}

/* ---- fresh images are self-contained ---- */

static void test_fresh(void **state)
{
	static const struct { const char *fmt, *opts; enum source_format f; } all[] = {
		{ "qcow2", NULL, SOURCE_QCOW2 }, { "qcow", NULL, SOURCE_QCOW }, { "qed", NULL, SOURCE_QED },
		{ "vmdk", NULL, SOURCE_VMDK }, { "vmdk", "subformat=streamOptimized", SOURCE_VMDK },
		{ "vhdx", NULL, SOURCE_VHDX }, { "vdi", NULL, SOURCE_VDI }, { "vpc", NULL, SOURCE_VPC },
		{ "vpc", "subformat=fixed", SOURCE_VPC },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		struct image a = made(all[i].fmt, all[i].opts, "fresh");
		struct image b = with_data(all[i].fmt, all[i].opts, "full");
		expect_verdict(all[i].f, &a, INSPECT_OK, "");
		expect_verdict(all[i].f, &b, INSPECT_OK, "");
		no_crash(all[i].f, &b);
		free(a.data);
		free(b.data);
	}
}

/* ---- qcow2 ---- */

static void test_qcow2(void **state)
{
	struct image im;

	(void)state;
	im = made("qcow2", "backing_file=/etc/shadow,backing_fmt=raw", "b.qcow2");
	expect_verdict(SOURCE_QCOW2, &im, INSPECT_EXTERNAL, "a qcow2 backing file '/etc/shadow'");
	free(im.data);
	im = made("qcow2", "data_file=/tmp/test-inspect-data.raw", "d.qcow2");
	unlink("/tmp/test-inspect-data.raw");
	expect_verdict(SOURCE_QCOW2, &im, INSPECT_EXTERNAL, "a qcow2 external data file '/tmp/test-inspect-data.raw'");
	free(im.data);

	im = made("qcow2", NULL, "p.qcow2");
	im.data[79] = 0x04;           /* the data_file bit, no name */
	expect_verdict(SOURCE_QCOW2, &im, INSPECT_EXTERNAL, "the data_file feature is set");
	im.data[79] = 0x02;           /* corrupt */
	expect_verdict(SOURCE_QCOW2, &im, INSPECT_DAMAGED, "qemu marked it corrupt");
	im.data[79] = 0x20;           /* a feature qvm does not know */
	expect_verdict(SOURCE_QCOW2, &im, INSPECT_UNSUPPORTED, "incompatible features qvm does not know (0x20)");
	im.data[79] = 0;
	put_be32(im.data + 32, 1);    /* AES */
	expect_verdict(SOURCE_QCOW2, &im, INSPECT_UNSUPPORTED, "encrypted");
	put_be32(im.data + 32, 0);
	put_be32(im.data + 4, 4);
	expect_verdict(SOURCE_QCOW2, &im, INSPECT_UNSUPPORTED, "qcow2 version 4");
	put_be32(im.data + 4, 3);
	put_be32(im.data + 20, 30);
	expect_verdict(SOURCE_QCOW2, &im, INSPECT_DAMAGED, "invalid cluster size");
	put_be32(im.data + 20, 16);
	put_be32(im.data + 44, 0x7fff0000);   /* the L1 table far past the end */
	expect_verdict(SOURCE_QCOW2, &im, INSPECT_DAMAGED, "L1 table ends beyond the end of the file");
	put_be32(im.data + 44, 0x30000);
	put_be32(im.data + 36, 0);            /* no L1 table for a 1 MiB disk */
	expect_verdict(SOURCE_QCOW2, &im, INSPECT_DAMAGED, "L1 table (0 entries) is too small");
	free(im.data);

	/* a header extension that runs past the first cluster */
	im = made("qcow2", NULL, "e.qcow2");
	uint32_t hl = (uint32_t)im.data[100] << 24 | (uint32_t)im.data[101] << 16 | im.data[102] << 8 | im.data[103];
	put_be32(im.data + hl, 0x12345678);
	put_be32(im.data + hl + 4, 0x10000);
	expect_verdict(SOURCE_QCOW2, &im, INSPECT_DAMAGED, "header extension runs past the first cluster");
	free(im.data);
}

/* ---- qcow, qed ---- */

static void test_qcow_qed(void **state)
{
	struct image im;

	(void)state;
	im = made("qcow", "backing_file=/etc/shadow,backing_fmt=raw", "b.qcow");
	expect_verdict(SOURCE_QCOW, &im, INSPECT_EXTERNAL, "a qcow backing file '/etc/shadow'");
	free(im.data);
	im = made("qcow", NULL, "c.qcow");
	put_be32(im.data + 36, 1);
	expect_verdict(SOURCE_QCOW, &im, INSPECT_UNSUPPORTED, "encrypted");
	free(im.data);
	im = with_data("qcow", NULL, "t.qcow");
	im.len -= 4096;
	expect_verdict(SOURCE_QCOW, &im, INSPECT_DAMAGED, "a data cluster lies beyond the end of the file");
	free(im.data);

	im = made("qed", "backing_file=/etc/shadow,backing_fmt=raw", "b.qed");
	expect_verdict(SOURCE_QED, &im, INSPECT_EXTERNAL, "a qed backing file '/etc/shadow'");
	free(im.data);
	im = made("qed", NULL, "f.qed");
	im.data[16] = 0x01;           /* the backing file bit, no name */
	expect_verdict(SOURCE_QED, &im, INSPECT_EXTERNAL, "a qed backing file");
	im.data[16] = 0x80;
	expect_verdict(SOURCE_QED, &im, INSPECT_UNSUPPORTED, "features qvm does not know");
	free(im.data);
}

/* ---- vmdk ---- */

/* Replaces the first line starting with `start` in the embedded
 * descriptor (at byte 512) by `line`, keeping the region's size. */
static void descriptor_line(struct image *im, const char *start, const char *line)
{
	char *d = (char *)im->data + 512;
	size_t region = 20 * 512;
	char *p = memmem(d, region, start, strlen(start));
	assert_non_null(p);
	char *end = memchr(p, '\n', region - (size_t)(p - d));
	assert_non_null(end);
	size_t old = (size_t)(end - p), n = strlen(line), rest = region - (size_t)(end - d);
	memmove(p + n, end, rest - (n > old ? n - old : 0));
	memcpy(p, line, n);
}

static void test_vmdk(void **state)
{
	const char *flat = "# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=ffffffff\n"
			   "createType=\"monolithicFlat\"\nRW 2048 FLAT \"/etc/shadow\" 0\n";
	struct image im = { (unsigned char *)strdup(flat), strlen(flat) };

	(void)state;
	expect_verdict(SOURCE_VMDK, &im, INSPECT_EXTERNAL, "a vmdk extent file '/etc/shadow' (FLAT)");
	free(im.data);

	/* a sparse header that holds no disk: its descriptor is a descriptor file */
	im = made("vmdk", NULL, "z.vmdk");
	memset(im.data + 12, 0, 8);
	descriptor_line(&im, "RW ", "RW 2048 FLAT \"/etc/shadow\" 0");
	expect_verdict(SOURCE_VMDK, &im, INSPECT_EXTERNAL, "a vmdk extent file '/etc/shadow' (FLAT)");
	free(im.data);

	/* a second extent, an extent elsewhere, a path, a parent, a createType */
	im = made("vmdk", NULL, "x.vmdk");
	descriptor_line(&im, "RW ", "RW 2048 SPARSE \"x.vmdk\"\nRW 2048 FLAT \"other\" 0");
	expect_verdict(SOURCE_VMDK, &im, INSPECT_EXTERNAL, "a vmdk extent file 'other' (FLAT)");
	free(im.data);
	im = made("vmdk", NULL, "y.vmdk");
	descriptor_line(&im, "RW ", "RW 2048 SPARSE \"/var/lib/y.vmdk\"");
	expect_verdict(SOURCE_VMDK, &im, INSPECT_EXTERNAL, "a vmdk extent file '/var/lib/y.vmdk' (SPARSE)");
	free(im.data);
	im = made("vmdk", NULL, "p.vmdk");
	/* qemu finds the key anywhere in the text, inside another word too */
	descriptor_line(&im, "CID=", "xparentFileNameHint=\"/etc/shadow\"");
	expect_verdict(SOURCE_VMDK, &im, INSPECT_EXTERNAL, "a vmdk parent disk '/etc/shadow'");
	free(im.data);
	im = made("vmdk", NULL, "c.vmdk");
	descriptor_line(&im, "parentCID=", "parentCID=12345678");
	expect_verdict(SOURCE_VMDK, &im, INSPECT_EXTERNAL, "parentCID 12345678");
	free(im.data);
	im = made("vmdk", NULL, "t.vmdk");
	descriptor_line(&im, "createType=", "createType=\"vmfs\"");
	expect_verdict(SOURCE_VMDK, &im, INSPECT_EXTERNAL, "createType 'vmfs'");
	free(im.data);

	im = made("vmdk", NULL, "v.vmdk");
	im.data[4] = 4;
	expect_verdict(SOURCE_VMDK, &im, INSPECT_UNSUPPORTED, "vmdk version 4");
	im.data[4] = 1;
	memcpy(im.data, "COWD", 4);
	expect_verdict(SOURCE_VMDK, &im, INSPECT_UNSUPPORTED, "COWD");
	free(im.data);

	/* a grain directory past the end; one in a footer that is gone (where
	 * the header sends qemu to the footer). Other cuts: qemu-img check's */
	im = with_data("vmdk", "subformat=streamOptimized", "s.vmdk");
	expect_verdict(SOURCE_VMDK, &im, INSPECT_OK, "");
	memset(im.data + 56, 0, 8);
	im.data[59] = 0x10;
	expect_verdict(SOURCE_VMDK, &im, INSPECT_DAMAGED, "its grain directory lies beyond the end of the file");
	im.len -= 1024;
	memset(im.data + 56, 0xff, 8);
	expect_verdict(SOURCE_VMDK, &im, INSPECT_DAMAGED, "its footer is missing");
	free(im.data);
}

/* ---- vhdx ---- */

static const unsigned char FILE_PARAMETERS[16] = {
	0x37, 0x67, 0xa1, 0xca, 0x36, 0xfa, 0x43, 0x4d, 0xb3, 0xb6, 0x33, 0xf0, 0xaa, 0x44, 0xe7, 0x6b };
static const unsigned char PARENT_LOCATOR[16] = {
	0x2d, 0x5f, 0xd3, 0xa8, 0x0b, 0xb3, 0x4d, 0x45, 0xab, 0xf7, 0xd3, 0xd8, 0x48, 0x34, 0xab, 0x0c };
static const unsigned char METADATA_REGION[16] = {
	0x06, 0xa2, 0x7c, 0x8b, 0x90, 0x47, 0x9a, 0x4b, 0xb8, 0xfe, 0x57, 0x5f, 0x05, 0x0f, 0x88, 0x6e };

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The metadata table entry with this id, in a vhdx qemu-img made. */
static unsigned char *vhdx_item(struct image *im, const unsigned char id[16], size_t *meta)
{
	unsigned char *rt = im->data + 0x30000;
	for (uint32_t i = 0; i < le32(rt + 8); i++) {
		unsigned char *e = rt + 16 + 32 * i;
		if (memcmp(e, METADATA_REGION, 16) == 0)
			*meta = le32(e + 16);
	}
	unsigned char *mt = im->data + *meta;
	for (unsigned i = 0; i < (unsigned)(mt[10] | mt[11] << 8); i++)
		if (memcmp(mt + 32 + 32 * i, id, 16) == 0)
			return mt + 32 + 32 * i;
	fail_msg("no such metadata item");
	return NULL;
}

static void test_vhdx(void **state)
{
	struct image im;
	size_t meta = 0;

	(void)state;
	im = made("vhdx", NULL, "p.vhdx");
	unsigned char *e = vhdx_item(&im, FILE_PARAMETERS, &meta);
	put_le32(im.data + meta + le32(e + 16) + 4, 2);     /* HasParent */
	expect_verdict(SOURCE_VHDX, &im, INSPECT_EXTERNAL, "HasParent");
	free(im.data);

	/* a parent locator item, with its path */
	im = made("vhdx", NULL, "l.vhdx");
	e = vhdx_item(&im, FILE_PARAMETERS, &meta);
	memcpy(e, PARENT_LOCATOR, 16);
	unsigned char *loc = im.data + meta + le32(e + 16);
	put_le32(e + 20, 200);                              /* its length */
	memset(loc, 0, 200);
	loc[18] = 1;                                        /* one key/value entry */
	put_le32(loc + 20, 40);                             /* key at 40, value at 80 */
	put_le32(loc + 24, 80);
	loc[28] = 26;                                       /* "relative_path", UTF-16 */
	loc[30] = 24;                                       /* "..\\a.vhdx" */
	const char *k = "relative_path", *v = "..\\a.vhdx";
	for (int i = 0; k[i]; i++)
		loc[40 + 2 * i] = (unsigned char)k[i];
	for (int i = 0; v[i]; i++)
		loc[80 + 2 * i] = (unsigned char)v[i];
	expect_verdict(SOURCE_VHDX, &im, INSPECT_EXTERNAL, "a vhdx parent disk '..\\a.vhdx'");
	free(im.data);

	im = made("vhdx", NULL, "r.vhdx");
	im.data[0x30000] = 'x';
	expect_verdict(SOURCE_VHDX, &im, INSPECT_DAMAGED, "region table is missing");
	free(im.data);
	im = with_data("vhdx", NULL, "t.vhdx");
	im.len -= 65536;
	expect_verdict(SOURCE_VHDX, &im, INSPECT_DAMAGED, "lies beyond the end of the file");
	free(im.data);
}

/* ---- vdi, vpc ---- */

static void test_vdi(void **state)
{
	struct image im;

	(void)state;
	im = made("vdi", NULL, "d.vdi");
	put_le32(im.data + 0x4c, 4);
	memset(im.data + 0x1a8, 0x11, 16);
	expect_verdict(SOURCE_VDI, &im, INSPECT_EXTERNAL, "a vdi parent disk {11111111-1111-1111-1111-111111111111} (a differencing image)");
	put_le32(im.data + 0x4c, 1);
	expect_verdict(SOURCE_VDI, &im, INSPECT_EXTERNAL, "(a linked image)");
	memset(im.data + 0x1a8, 0, 16);
	put_le32(im.data + 0x4c, 9);
	expect_verdict(SOURCE_VDI, &im, INSPECT_UNSUPPORTED, "type 9");
	free(im.data);
	im = with_data("vdi", NULL, "m.vdi");
	uint32_t bmap = le32(im.data + 0x154);
	put_le32(im.data + bmap, 1000);                     /* past the allocated blocks */
	expect_verdict(SOURCE_VDI, &im, INSPECT_DAMAGED, "block 0 of its map points past its last allocated block");
	free(im.data);
}

static void test_vpc(void **state)
{
	struct image im;

	(void)state;
	im = made("vpc", NULL, "d.vhd");
	put_be32(im.data + 60, 4);
	expect_verdict(SOURCE_VPC, &im, INSPECT_EXTERNAL, "a VHD parent disk (a differencing disk)");
	put_be32(im.data + 60, 3);
	/* the dynamic header's parent name (UTF-16 big-endian) and a locator */
	uint64_t dyn = (uint64_t)im.data[16] << 56 | (uint64_t)im.data[17] << 48 | (uint64_t)im.data[18] << 40 |
	      (uint64_t)im.data[19] << 32 | (uint64_t)im.data[20] << 24 | (uint64_t)im.data[21] << 16 |
	      (uint64_t)im.data[22] << 8 | im.data[23];
	const char *name = "C:\\base.vhd";
	for (int i = 0; name[i]; i++)
		im.data[dyn + 64 + 2 * i + 1] = (unsigned char)name[i];
	expect_verdict(SOURCE_VPC, &im, INSPECT_EXTERNAL, "a VHD parent disk 'C:\\base.vhd'");
	memset(im.data + dyn + 64, 0, 512);
	put_be32(im.data + dyn + 576, 0x57326b75);          /* "W2ku" */
	expect_verdict(SOURCE_VPC, &im, INSPECT_EXTERNAL, "a VHD parent disk");
	free(im.data);
	im = with_data("vpc", NULL, "t.vhd");
	im.len /= 2;
	expect_verdict(SOURCE_VPC, &im, INSPECT_DAMAGED, "of its table lies beyond the end of the file");
	free(im.data);
	im = with_data("vpc", "subformat=fixed", "f.vhd");
	/* a fixed disk whose footer claims more data than precedes it */
	unsigned char *foot = im.data + im.len - 512;
	foot[48] = 0x7f;
	expect_verdict(SOURCE_VPC, &im, INSPECT_DAMAGED, "does not fit before its footer");
	free(im.data);
}

/* ---- reading ---- */

static int failing_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	(void)ctx, (void)buf, (void)len, (void)off;
	return -EIO;
}

static void test_read_error(void **state)
{
	struct inspect_result res;

	(void)state;
	for (enum source_format f = SOURCE_QCOW; f <= SOURCE_VPC; f++)
		assert_int_equal(image_inspect(f, failing_read, NULL, 1u << 20, &res), -EIO);
	/* raw data refers to nothing */
	assert_int_equal(image_inspect(SOURCE_RAW, failing_read, NULL, 1u << 20, &res), 0);
	assert_int_equal(res.verdict, INSPECT_OK);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	/* the files this test made, then the directory */
	static const char *const names[] = { "fresh", "full", "data.raw", "b.qcow2", "d.qcow2", "p.qcow2",
		"e.qcow2", "b.qcow", "c.qcow", "t.qcow", "b.qed", "f.qed", "z.vmdk", "x.vmdk", "y.vmdk",
		"p.vmdk", "c.vmdk", "t.vmdk", "v.vmdk", "s.vmdk", "p.vhdx", "l.vhdx", "r.vhdx", "t.vhdx",
		"d.vdi", "m.vdi", "d.vhd", "t.vhd", "f.vhd" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[300];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fresh),
		cmocka_unit_test(test_qcow2),
		cmocka_unit_test(test_qcow_qed),
		cmocka_unit_test(test_vmdk),
		cmocka_unit_test(test_vhdx),
		cmocka_unit_test(test_vdi),
		cmocka_unit_test(test_vpc),
		cmocka_unit_test(test_read_error),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
