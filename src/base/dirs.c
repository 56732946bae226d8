/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "dirs.h"
#include "banned.h"

int mkdir_p(const char *dir, mode_t mode)
{
	_cleanup_free_ char *path = strdup(dir);
	struct stat st;

	if (!path)
		return -ENOMEM;
	/* each parent in turn; the leading '/' of an absolute path is none */
	for (char *s = path[0] ? path + 1 : path; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(path, mode) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return -errno;
	/* EEXIST says only that something has the name */
	if (stat(path, &st) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}
