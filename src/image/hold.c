/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
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

/* Whether block device MAJ:MIN (and every device it is built on) can be
 * written only by root through this kernel: not a loop device (its backing
 * file may be anyone's), an NBD or a removable device, and a device node
 * no one else may write. */
static int device_trusted(unsigned maj, unsigned min, int depth)
{
	char sys[PATH_MAX], path[PATH_MAX + 64], line[256];
	struct stat st;
	DIR *slaves;
	FILE *f;
	int ok = 1;

	if (depth > 8 || maj == 7 || maj == 43)
		return 0;
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u", maj, min);
	if (!realpath(path, sys))
		return 0;
	/* a partition is as trustworthy as its disk (a loop device's
	 * partitions have a major of their own) */
	snprintf(path, sizeof(path), "%s/partition", sys);
	if (access(path, F_OK) == 0) {
		unsigned pmaj, pmin;
		snprintf(path, sizeof(path), "%s/../dev", sys);
		if (!(f = fopen(path, "re")))
			return 0;
		ok = fscanf(f, "%u:%u", &pmaj, &pmin) == 2 && device_trusted(pmaj, pmin, depth + 1);
		fclose(f);
		if (!ok)
			return 0;
	}
	snprintf(path, sizeof(path), "%s/removable", sys);
	if ((f = fopen(path, "re"))) {
		ok &= !(fgets(line, sizeof(line), f) && line[0] == '1');
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/uevent", sys);
	if (ok && (f = fopen(path, "re"))) {
		while (fgets(line, sizeof(line), f))
			if (strncmp(line, "DEVNAME=", 8) == 0) {
				line[strcspn(line, "\n")] = '\0';
				snprintf(path, sizeof(path), "/dev/%s", line + 8);
				struct group *disk = getgrnam("disk");
				ok &= stat(path, &st) == 0 && st.st_uid == 0 && !(st.st_mode & S_IWOTH) &&
				      (!(st.st_mode & S_IWGRP) || st.st_gid == 0 || (disk && st.st_gid == disk->gr_gid));
			}
		fclose(f);
	}
	/* device mapper, md: the devices under it */
	snprintf(path, sizeof(path), "%s/slaves", sys);
	if (ok && (slaves = opendir(path))) {
		struct dirent *e;
		while (ok && (e = readdir(slaves))) {
			unsigned smaj, smin;
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/sys/class/block/%s/dev", e->d_name);
			if (!(f = fopen(path, "re"))) {
				ok = 0;
				break;
			}
			ok = fscanf(f, "%u:%u", &smaj, &smin) == 2 && device_trusted(smaj, smin, depth + 1);
			fclose(f);
		}
		closedir(slaves);
	}
	return ok;
}

int hold_file(int fd)
{
	struct statfs fs;
	struct stat st;

	if (fstat(fd, &st) < 0 || fstatfs(fd, &fs) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || !local_fs((long)fs.f_type))
		return -EOPNOTSUPP;
	/* a lease stops opens of the file, not writes to the device below it:
	 * file systems without a device of their own (tmpfs, zfs, btrfs) count
	 * by their type */
	if (major(st.st_dev) != 0 && !device_trusted(major(st.st_dev), minor(st.st_dev), 0))
		return -EPERM;
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
