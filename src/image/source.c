/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "fdio.h"
#include "source.h"
#include "banned.h"

static int has(const unsigned char *buf, size_t len, size_t off, const char *magic, size_t n)
{
	return len >= off + n && memcmp(buf + off, magic, n) == 0;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

enum source_format source_detect(const unsigned char *buf, size_t len)
{
	if (has(buf, len, 0, "QFI\xfb", 4) && len >= 8)
		return be32(buf + 4) == 1 ? SOURCE_QCOW : SOURCE_QCOW2;
	if (has(buf, len, 0, "QED\0", 4))
		return SOURCE_QED;
	if (has(buf, len, 0, "KDMV", 4) || has(buf, len, 0, "COWD", 4) ||
	    has(buf, len, 0, "# Disk DescriptorFile", 21))
		return SOURCE_VMDK;
	if (has(buf, len, 0, "vhdxfile", 8))
		return SOURCE_VHDX;
	if (len >= 0x44 && le32(buf + 0x40) == 0xbeda107fu)
		return SOURCE_VDI;
	if (has(buf, len, 0, "conectix", 8))
		return SOURCE_VPC;
	if (has(buf, len, 0, "\xfd" "7zXZ\0", 6))
		return SOURCE_XZ;
	if (has(buf, len, 0, "\x28\xb5\x2f\xfd", 4))
		return SOURCE_ZSTD;
	if (has(buf, len, 0, "\x1f\x8b", 2))
		return SOURCE_GZIP;
	if (has(buf, len, 0, "BZh", 3) && len >= 4 && buf[3] >= '1' && buf[3] <= '9')
		return SOURCE_BZIP2;
	if (has(buf, len, 0, "\x04\x22\x4d\x18", 4))
		return SOURCE_LZ4;
	if (source_is_tar_header(buf, len))
		return SOURCE_TAR;
	return SOURCE_RAW;
}

int source_is_tar_header(const unsigned char *p, size_t len)
{
	unsigned long sum = 0, want = 0;
	size_t i;

	if (has(p, len, 257, "ustar", 5))
		return 1;
	/* an old (v7) header has no magic: its checksum says what it is */
	if (len < 512 || p[0] == 0)
		return 0;
	for (i = 148; i < 156 && (p[i] == ' ' || p[i] == 0); i++)
		;
	if (i == 156 || p[i] < '0' || p[i] > '7')
		return 0;
	for (; i < 156 && p[i] >= '0' && p[i] <= '7'; i++)
		want = want * 8 + (unsigned long)(p[i] - '0');
	for (i = 0; i < 512; i++)
		sum += i >= 148 && i < 156 ? ' ' : p[i];
	return sum == want;
}

const char *source_format_name(enum source_format f)
{
	static const char *const names[] = {
		[SOURCE_RAW] = "raw", [SOURCE_QCOW] = "qcow", [SOURCE_QCOW2] = "qcow2",
		[SOURCE_QED] = "qed", [SOURCE_VMDK] = "vmdk", [SOURCE_VHDX] = "vhdx",
		[SOURCE_VDI] = "vdi", [SOURCE_VPC] = "vpc", [SOURCE_XZ] = "xz",
		[SOURCE_ZSTD] = "zstd", [SOURCE_GZIP] = "gzip", [SOURCE_BZIP2] = "bzip2",
		[SOURCE_LZ4] = "lz4", [SOURCE_TAR] = "tar",
	};
	return names[f];
}

int source_is_qemu(enum source_format f)
{
	return f >= SOURCE_QCOW && f <= SOURCE_VPC;
}

int source_is_stream(enum source_format f)
{
	return f >= SOURCE_XZ && f <= SOURCE_TAR;
}

int source_tail_is_vhd(const unsigned char *tail, size_t len)
{
	/* the footer is 512 bytes; old versions wrote 511 */
	return has(tail, len, len >= 512 ? len - 512 : 0, "conectix", 8) ||
	       (len >= 511 && has(tail, len, len - 511, "conectix", 8));
}

/* A file that ends before the bytes its own headers promise is invalid. */
static int pread_exact(int fd, void *buf, size_t len, uint64_t off)
{
	int r = pread_full(fd, buf, len, off);

	return r == -ENODATA ? -EINVAL : r;
}

/* ---- xz: stream footer -> index -> records ---- */

static int xz_varint(const unsigned char *buf, size_t len, size_t *pos, uint64_t *v)
{
	*v = 0;
	for (unsigned i = 0; i < 9; i++) {
		if (*pos >= len)
			return -EINVAL;
		unsigned char b = buf[(*pos)++];
		*v |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80))
			return 0;
	}
	return -EINVAL;
}

int source_fd_read_at(void *ctx, void *buf, size_t len, uint64_t off)
{
	return pread_exact(*(int *)ctx, buf, len, off);
}

/* Moves end back over the zeros before it, a window at a time (padding
 * can be long: a 4-byte read per group would take minutes). */
static int skip_padding(source_read_at_fn read_at, void *ctx, uint64_t *end)
{
	enum { WINDOW = 64u << 10 };
	_cleanup_free_ unsigned char *buf = malloc(WINDOW);

	if (!buf)
		return -ENOMEM;
	while (*end >= 4) {
		size_t n = *end < WINDOW ? (size_t)(*end & ~UINT64_C(3)) : WINDOW;
		int r = read_at(ctx, buf, n, *end - n);
		if (r < 0)
			return r;
		size_t z = n;
		while (z >= 4 && le32(buf + z - 4) == 0)
			z -= 4;
		*end -= n - z;
		if (z > 0)
			return 0;
	}
	return 0;
}

int source_xz_size(int fd, uint64_t file_size, uint64_t *size)
{
	return source_xz_size_at(source_fd_read_at, &fd, file_size, size);
}

int source_xz_size_at(source_read_at_fn read_at, void *ctx, uint64_t file_size, uint64_t *size)
{
	uint64_t end = file_size, total = 0;
	unsigned char foot[12];
	int r;

	while (end > 0) {
		/* stream padding: zeros in groups of four */
		if (end < 12 + 12)
			return -EINVAL;
		r = read_at(ctx, foot, 4, end - 4);
		if (r < 0)
			return r;
		if (le32(foot) == 0) {
			r = skip_padding(read_at, ctx, &end);
			if (r < 0)
				return r;
			continue;
		}
		r = read_at(ctx, foot, 12, end - 12);
		if (r < 0)
			return r;
		if (foot[10] != 'Y' || foot[11] != 'Z')
			return -EINVAL;
		uint64_t index_size = ((uint64_t)le32(foot + 4) + 1) * 4;
		if (index_size > end - 24 || index_size > (64u << 20))
			return -EINVAL;
		unsigned char *idx = malloc((size_t)index_size);
		if (!idx)
			return -ENOMEM;
		r = read_at(ctx, idx, (size_t)index_size, end - 12 - index_size);
		uint64_t count = 0, blocks = 0;
		size_t pos = 1;
		if (r == 0 && idx[0] != 0)
			r = -EINVAL;
		if (r == 0)
			r = xz_varint(idx, (size_t)index_size, &pos, &count);
		for (uint64_t i = 0; r == 0 && i < count; i++) {
			uint64_t unpadded, uncompressed;
			r = xz_varint(idx, (size_t)index_size, &pos, &unpadded);
			if (r == 0)
				r = xz_varint(idx, (size_t)index_size, &pos, &uncompressed);
			if (r == 0 && (uncompressed > UINT64_MAX - total || unpadded > file_size))
				r = -EINVAL;
			if (r == 0) {
				total += uncompressed;
				blocks += (unpadded + 3) & ~(uint64_t)3;
			}
		}
		free(idx);
		if (r < 0)
			return r;
		uint64_t stream = 12 + blocks + index_size + 12;
		if (stream > end)
			return -EINVAL;
		end -= stream;
		unsigned char head[6];
		r = read_at(ctx, head, 6, end);
		if (r < 0)
			return r;
		if (memcmp(head, "\xfd" "7zXZ\0", 6) != 0)
			return -EINVAL;
	}
	*size = total;
	return 0;
}

/* ---- zstd: frame headers and block headers ---- */

int source_zstd_size(int fd, uint64_t file_size, uint64_t *size)
{
	uint64_t off = 0, total = 0;
	unsigned char h[18];
	int r;

	while (off < file_size) {
		if (file_size - off < 8)
			return -EINVAL;
		r = pread_exact(fd, h, 8, off);
		if (r < 0)
			return r;
		uint32_t magic = le32(h);
		if ((magic & 0xfffffff0u) == 0x184d2a50u) {      /* skippable frame */
			off += 8 + (uint64_t)le32(h + 4);
			continue;
		}
		if (magic != 0xfd2fb528u)
			return -EINVAL;
		unsigned fhd = h[4], fcs_flag = fhd >> 6, single = (fhd >> 5) & 1;
		unsigned checksum = (fhd >> 2) & 1, dict_flag = fhd & 3;
		static const unsigned dict_len[] = { 0, 1, 2, 4 };
		unsigned fcs_len = fcs_flag == 0 ? single : 1u << fcs_flag;
		size_t hdr = 5 + !single + dict_len[dict_flag];
		if (fcs_len == 0)
			return -ENODATA;
		if (file_size - off < hdr + fcs_len)
			return -EINVAL;
		r = pread_exact(fd, h, hdr + fcs_len, off);
		if (r < 0)
			return r;
		uint64_t fcs = 0;
		for (unsigned i = 0; i < fcs_len; i++)
			fcs |= (uint64_t)h[hdr + i] << (8 * i);
		if (fcs_len == 2)
			fcs += 256;
		if (fcs > UINT64_MAX - total)
			return -EINVAL;
		total += fcs;
		off += hdr + fcs_len;
		for (;;) {
			unsigned char b[3];
			r = pread_exact(fd, b, 3, off);
			if (r < 0)
				return r;
			uint32_t bh = b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16;
			unsigned type = (bh >> 1) & 3;
			uint64_t bsize = bh >> 3;
			if (type == 3)
				return -EINVAL;
			off += 3 + (type == 1 ? 1 : bsize);
			if (off > file_size)
				return -EINVAL;
			if (bh & 1)
				break;
		}
		off += checksum ? 4 : 0;
	}
	if (off != file_size)
		return -EINVAL;
	*size = total;
	return 0;
}
