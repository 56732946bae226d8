/* SPDX-License-Identifier: MIT */
/* The qvm file (SPEC §3): three YAML documents - vm, user-data, meta-data -
 * read, checked and turned into the facts the commands need. */
#ifndef QVM_QVMFILE_H
#define QVM_QVMFILE_H

#include "yamltree.h"

struct qvm_file {
	struct ystream *stream;      /* owns every node below */
	struct ynode *vm;            /* the documents, with the "qvm" key removed */
	struct ynode *user_data;
	struct ynode *meta_data;

	const char *name;            /* vm.name (points into the tree) */
	const char *connect;         /* vm.connect if a scalar, else NULL */
	struct ynode *boot_disk;     /* the disk mapping that held "zvol" (zvol removed) */
	char *base_snapshot;         /* "tank/images/debian12@base" */
	char *clone;                 /* "tank/images/web1" */
	char **clone_props;          /* strv of "key=value" for zfs clone -o, file order */
};

/*
 * Reads and checks a qvm file without touching the host: every error of
 * SPEC §3.4 step 1 that can be found from the file alone (documents, qvm
 * keys, name, disk, zvol, base, dataset and VM names, refused keys, values
 * that cannot be rendered for virt-install). Returns 0 with *out set, or
 * -EINVAL with *errors a strv of messages, each "LINE:COL: text" where a
 * position is known (YAML syntax errors stop at the first), or -ENOENT /
 * -EACCES / -EISDIR ... when the file cannot be read (one message in *errors),
 * or -ENOMEM. The caller prefixes the file name.
 */
int qvm_file_load(const char *path, struct qvm_file **out, char ***errors);
int qvm_file_parse(const char *buf, size_t len, struct qvm_file **out, char ***errors);
void qvm_file_free(struct qvm_file *f);
static inline void qvm_file_freep(struct qvm_file **f) { qvm_file_free(*f); }

#endif
