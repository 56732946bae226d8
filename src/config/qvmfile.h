/* SPDX-License-Identifier: MIT */
/* The qvm file (SPEC §3): three YAML documents - vm, user-data, meta-data -
 * and optionally network-config and vendor-data, read, checked and turned into the facts the commands need. */
#ifndef QVM_QVMFILE_H
#define QVM_QVMFILE_H

#include <stdint.h>

#include "yamltree.h"

/* A zvol-backed disk after the boot disk: a clone of a snapshot ("base")
 * or a new blank volume ("volsize" without "base"). */
struct qvm_disk {
	struct ynode *map;           /* its disk mapping, "zvol" removed */
	char *base_snapshot;         /* NULL for a blank volume */
	char *dataset;               /* the clone or the new volume */
	char *volsize;               /* a blank volume's size as written (zfs create -V), else NULL */
	uint64_t volsize_bytes;      /* what zfs makes of it (size_parse), else 0 */
	char **props;                /* strv of "key=value" for -o, file order (not volsize of a blank one) */
};

struct qvm_file {
	struct ystream *stream;      /* owns every node below */
	struct ynode *vm;            /* the documents, with the "qvm" key removed */
	struct ynode *user_data;
	struct ynode *meta_data;     /* the file's, or an empty mapping of qvm's (own_meta_data) */
	struct ynode *network_config;  /* optional documents, or NULL */
	struct ynode *vendor_data;

	const char *name;            /* vm.name (points into the tree) */
	const char *connect;         /* vm.connect if a scalar, else NULL */
	char *host;                  /* vm.host: [USER@]HOST[:PORT] or a hosts-file name, else NULL
				      * (a qvm key, not passed to virt-install) */
	char uuid[37];               /* vm.uuid in canonical form, or "" */
	struct ynode *boot_disk;     /* the disk mapping that held "zvol" (zvol removed) */
	char *base_snapshot;         /* "tank/images/debian12@base" */
	char *clone;                 /* "tank/images/web1" */
	char **clone_props;          /* strv of "key=value" for zfs clone -o, file order */
	struct qvm_disk *extra_disks; /* later zvol disks, in file order (default name:
				       * the boot clone's parent + "/<name>-diskN") */
	size_t n_extra_disks;
	struct ynode *own_meta_data; /* the empty meta-data of a file that has none */
	const char *first_user;      /* user-data's first user (users: [NAME | {name: NAME}]),
				      * checked by login_name_valid; NULL when none, and also
				      * when it is "default" (first_user_default) */
	char *own_first_user;        /* first_user when cut from a string */
	bool first_user_default;     /* the first user is cloud-init's "default": the image's */
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

struct qvm_template;
/* The same, with the template options applied before the checks (see
 * template.h); their own problems are reported as "--set ...: why". */
int qvm_file_load_template(const char *path, const struct qvm_template *t, struct qvm_file **out,
			   char ***errors);
int qvm_file_parse_template(const char *buf, size_t len, const struct qvm_template *t,
			    struct qvm_file **out, char ***errors);
void qvm_file_free(struct qvm_file *f);

/* The whole of fd (at most YAML_MAX_INPUT bytes) into *text (malloc'd, not
 * NUL-terminated): for a file that can be read only once, standard input.
 * shown names it in the one message put in *errors. 0 or -errno. */
int qvm_file_read_fd(int fd, const char *shown, char **text, size_t *text_len, char ***errors);

/* Why s is no volsize zfs would take ("invalid numeric suffix 'X'",
 * "volume size cannot be zero"; in buf or static), or NULL with *bytes
 * what zfs makes of it (size_parse, zfs's own number grammar). */
const char *qvm_volsize_why(const char *s, uint64_t *bytes, char *buf, size_t size);

/* How the reader keeps the secret documents' text out of its messages. */
extern const struct yparse_secrecy qvm_file_secrecy;
static inline void qvm_file_freep(struct qvm_file **f) { qvm_file_free(*f); }

#endif
