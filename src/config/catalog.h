/* SPDX-License-Identifier: MIT */
/* The image catalog: cloud images known by name (qvm import debian-12 ...),
 * each with where it is, the checksum file that verifies it, what it is
 * (osinfo names) and who logs in to it. Read from YAML files:
 *
 *   images:
 *     debian-12:
 *       url: https://cloud.debian.org/.../debian-12-genericcloud-amd64.qcow2
 *       checksum: https://cloud.debian.org/.../SHA512SUMS
 *       osinfo: [debian12, debian11, linux2022]
 *       user: debian
 *       arch: x86_64
 *
 * The files: $QVM_IMAGES when set (a ':'-separated list of files and
 * directories, each directory's *.yaml in name order), else the catalog
 * shipped with qvm (QVM_CATALOG_FILE) and then the .yaml files of
 * /etc/qvm/images.d.
 * A later entry of a name replaces an earlier one. */
#ifndef QVM_CATALOG_H
#define QVM_CATALOG_H

#include <stdbool.h>
#include <stddef.h>

#ifndef QVM_CATALOG_FILE
#define QVM_CATALOG_FILE "/usr/share/qvm/images.yaml"
#endif
#define QVM_CATALOG_DIR "/etc/qvm/images.d"

#define CATALOG_NAME_MAX 64
#define CATALOG_OSINFO_MAX 64       /* characters of one osinfo name */

struct catalog_entry {
	char *name;
	char *url;                   /* the image: http(s) URL or absolute path */
	char *checksum;              /* its checksum file: http(s) URL or absolute path */
	char **osinfo;               /* strv, candidates in order of preference */
	char *user;                  /* the default login user */
	char *arch;                  /* as uname -m says it: x86_64, aarch64 ... */
	char *where;                 /* "FILE:LINE:COL" of its name */
};

struct catalog {
	struct catalog_entry *e;     /* in order of first definition */
	size_t n;
	char **files;                /* the files read, in order (strv, may be NULL) */
	char **searched;             /* what was looked at (files and directories) */
};

/*
 * Loads the catalog from $QVM_IMAGES or the default places. A file or
 * directory QVM_IMAGES names must exist; of the default ones the shipped
 * file must (-ENOENT with *err saying it is not installed), the
 * directory may be missing. Returns 0, or -1 with *err (malloc'd)
 * "FILE:LINE:COL: what is wrong" or why a file could not be read.
 */
int catalog_load(struct catalog *c, char **err);
/* The same from an explicit list of files and directories (required: each
 * must exist unless optional). */
int catalog_load_paths(struct catalog *c, char *const *paths, bool optional, char **err);
/* Adds the entries of one file's text (file names it in messages). 0 or -1
 * with *err. */
int catalog_parse(struct catalog *c, const char *file, const char *buf, size_t len, char **err);
void catalog_clear(struct catalog *c);

const struct catalog_entry *catalog_find(const struct catalog *c, const char *name);
/* The names, sorted, joined with ", " (malloc'd; "" for none); NULL on ENOMEM. */
char *catalog_names(const struct catalog *c);
/* The files read joined with ", ", or what was searched if none was; NULL on ENOMEM. */
char *catalog_sources(const struct catalog *c);

/* A catalog name: 1-64 of a-z 0-9 . _ -, starting with a letter or digit. */
bool catalog_name_valid(const char *name);

#endif
