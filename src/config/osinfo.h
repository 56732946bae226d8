/* SPDX-License-Identifier: MIT */
/* The osinfo names the installed virt-install knows (virt-install --osinfo
 * list): an image's qvm:osinfo must be one of them, or every qvm vm from
 * it fails in virt-install. Debian 12's own osinfo-db has no "debian12",
 * so a catalog entry lists candidates and the first one known is taken. */
#ifndef QVM_OSINFO_H
#define QVM_OSINFO_H

#include <stdbool.h>

/* Bound on the names believed from virt-install's output. */
#define OSINFO_MAX_NAMES 8192

/*
 * The names of "virt-install --osinfo list" output: one OS a line, its
 * short id then its aliases joined with ", ", up to the first blank line
 * (after which virt-install says how to see more). Names that are not
 * valid osinfo names (catalog.h) are skipped. 0 with *names a strv, -ENODATA
 * when none is listed, -E2BIG, -ENOMEM.
 */
int osinfo_list_parse(const char *text, char ***names);

/* Runs "virt-install --osinfo list" (C locale) once per process and keeps
 * the answer. 0 with *names (owned by this module: do not free), or -errno
 * with *err (malloc'd) "cannot list virt-install's osinfo names: ...". */
int osinfo_list_load(char *const **names, char **err);

/* Whether name is in names (exactly). */
bool osinfo_known(char *const *names, const char *name);

/* The first of candidates in names: its index, or -1 if none is. */
int osinfo_pick(char *const *names, char *const *candidates);

#endif
