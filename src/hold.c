/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include "hold.h"
#include "banned.h"

#ifndef ZFS_SUPER_MAGIC
#define ZFS_SUPER_MAGIC 0x2fc12fc1
#endif

/* File systems whose content changes only through this kernel. */
static int local_fs(long type)
{
	static const long local[] = { EXT4_SUPER_MAGIC, XFS_SUPER_MAGIC, BTRFS_SUPER_MAGIC, TMPFS_MAGIC,
				      ZFS_SUPER_MAGIC, F2FS_SUPER_MAGIC, 0x4d44 /* FAT */,
				      0x5346544e /* NTFS */, REISERFS_SUPER_MAGIC };

	for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++)
		if (type == local[i])
			return 1;
	return 0;
}

int hold_file(int fd)
{
	struct statfs fs;
	struct stat st;

	if (fstat(fd, &st) < 0 || fstatfs(fd, &fs) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || !local_fs((long)fs.f_type))
		return -EOPNOTSUPP;
	/* the break is seen by hold_intact(), not by a signal that ends qvm */
	signal(SIGIO, SIG_IGN);
	if (fcntl(fd, F_SETLEASE, F_RDLCK) < 0)
		return -errno;
	return 0;
}

int hold_intact(int fd)
{
	return fcntl(fd, F_GETLEASE) == F_RDLCK;
}
