/* SPDX-License-Identifier: MIT */
/* What an image source is, told by its content (magic bytes), never by its
 * name, and how big the disk inside is where the container says so. */
#ifndef QVM_SOURCE_H
#define QVM_SOURCE_H

#include <stddef.h>
#include <stdint.h>

enum source_format {
	SOURCE_RAW,
	/* disk image formats qemu-img converts (random access needed) */
	SOURCE_QCOW, SOURCE_QCOW2, SOURCE_QED, SOURCE_VMDK, SOURCE_VHDX, SOURCE_VDI, SOURCE_VPC,
	/* streams libarchive reads: a compressed raw image, or a tar */
	SOURCE_XZ, SOURCE_ZSTD, SOURCE_GZIP, SOURCE_BZIP2, SOURCE_LZ4, SOURCE_TAR,
};

/* Bytes of the start of a source that source_detect() wants to see. */
#define SOURCE_PEEK 4096

/* The format of data starting with buf[0..len). */
enum source_format source_detect(const unsigned char *buf, size_t len);
/* Whether buf starts with a tar header: "ustar" at 257, or an old (v7)
 * header whose checksum is right. */
int source_is_tar_header(const unsigned char *buf, size_t len);
/* "qcow2", "xz", "tar", "raw"... (for qemu-img -f and for messages). */
const char *source_format_name(enum source_format f);
/* True for the formats qemu-img converts. */
int source_is_qemu(enum source_format f);
/* True for the compressed formats and tar. */
int source_is_stream(enum source_format f);

/* A raw file that ends in a VHD footer ("conectix" in the last 512 bytes)
 * is a fixed-size VHD. tail is the file's last 512 bytes. */
int source_tail_is_vhd(const unsigned char *tail, size_t len);

/*
 * The uncompressed size of a whole .xz file (every stream, from the index
 * records at its end), read with pread. Returns 0, -EINVAL if the file is
 * not a well-formed xz file, or -errno.
 */
int source_xz_size(int fd, uint64_t file_size, uint64_t *size);
/* The same through read_at(ctx, buf, len, off), which reads exactly len
 * bytes at off or returns -errno (-EINVAL for a file too short): for a file
 * that is not local, as a URL read by range requests. */
typedef int (*source_read_at_fn)(void *ctx, void *buf, size_t len, uint64_t off);
/* A source_read_at_fn over a file: ctx is an int * holding its descriptor. */
int source_fd_read_at(void *ctx, void *buf, size_t len, uint64_t off);
int source_xz_size_at(source_read_at_fn read_at, void *ctx, uint64_t file_size, uint64_t *size);
/*
 * The uncompressed size of a whole .zst file: the content sizes of all its
 * frames (walking block headers only). Returns 0, -ENODATA if a frame does
 * not record its size, -EINVAL if malformed, or -errno.
 */
int source_zstd_size(int fd, uint64_t file_size, uint64_t *size);

#endif
