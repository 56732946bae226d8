/* SPDX-License-Identifier: MIT */
/* Directories qvm keeps its own files in (state, caches). */
#ifndef QVM_DIRS_H
#define QVM_DIRS_H

#include <sys/types.h>

/* mkdir -p: dir and every missing parent, each made with mode (before the
 * umask). 0 when dir is then a directory, -ENOTDIR when it is something
 * else, or -errno. */
int mkdir_p(const char *dir, mode_t mode);

#endif
