/* SPDX-License-Identifier: MIT */
/* What raw data holds: a disk (a partition table, a file system, an LVM,
 * RAID or LUKS signature, as libblkid finds them) or something that is no
 * disk at all (an HTML error page, a text file, an archive qvm could not
 * unpack), so that such a file is refused before it becomes a "disk". */
#ifndef QVM_CONTENT_H
#define QVM_CONTENT_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of a stream's start kept to be probed (partition tables and the
 * superblocks of common file systems lie within them). */
#define CONTENT_HEAD (1u << 20)

/*
 * Probes a disk of `size` bytes in fd with libblkid. Returns 1 with *what
 * ("a gpt partition table", "an ext4 file system", "an LVM2_member
 * signature") when it holds one, 0 when libblkid found nothing, or -errno.
 */
int content_probe_fd(int fd, uint64_t size, char *what, size_t what_size);
/* The same for a disk known only by its first head_len bytes (a stream):
 * the rest is taken as zeros. */
int content_probe_head(const void *head, size_t head_len, uint64_t size, char *what, size_t what_size);

/* What data that holds no disk looks like, from its first bytes: "an HTML
 * page", "text", "a zip archive", "nothing but zeros", or NULL if nothing is
 * known of it. */
const char *content_describe(const unsigned char *head, size_t len);

#endif
