/* SPDX-License-Identifier: MIT */
/* Allow-lists for the names that end up in dataset paths and argv. */
#ifndef QVM_NAMES_H
#define QVM_NAMES_H

#include <stdbool.h>

/* The longest dataset name zfs accepts (ZFS_MAX_DATASET_NAME_LEN - 1). */
#define QVM_DATASET_NAME_MAX 255
#define QVM_VM_NAME_MAX 64

/*
 * Checks a dataset name (POOL/PATH/NAME), or with allow_snapshot also
 * POOL/PATH/NAME@SNAP. Stricter than zfs: components hold only
 * A-Z a-z 0-9 _ - . : and must not be empty, "." or "..", nor start with
 * '-'; the pool name starts with a letter.
 * Returns true if valid; otherwise false and, if why is non-NULL, a static
 * description of the problem.
 */
bool dataset_name_valid(const char *name, bool allow_snapshot, const char **why);

/* 1 to 64 characters of A-Z a-z 0-9 _ . -, not starting with '.' or '-'. */
bool vm_name_valid(const char *name, const char **why);

/* A login name as POSIX's portable user names (letters, digits, '.', '_',
 * '-'), not starting with '-' (ssh would read it as an option) or '.', and
 * at most 32 characters (useradd's limit): an image's or a VM's user, and
 * qvm ssh --user. *why (static; why may be NULL) says what is wrong. */
#define LOGIN_NAME_MAX_LEN 32
bool login_name_valid(const char *name, const char **why);

/* An osinfo-db short-id ("debian12", "ubuntu24.04", "win2k22"): lower case
 * letters, digits, '.', '_', '-', '+', starting with a letter or digit, at
 * most 64 characters: nothing virt-install could read as an option or as
 * sub-options (',' '='), and not "list" or "help" (its questions). */
bool osinfo_name_valid(const char *name);

/*
 * Whether qvm may hand a libvirt URI (a qvm file's connect:, a volume's
 * qvm:connect) to libvirt or virt-install: libvirt's "ext" transport and a
 * "command" or "netcat" parameter name a program to run, "known_hosts" a
 * file libssh writes to, the test driver's path a file it reads, and
 * virt-install rewrites a URI holding "__virtinst_test__" - none of which a
 * file or a mark from someone else may choose; control characters are
 * refused too. Returns true if safe; otherwise false and a static reason in *why.
 */
bool libvirt_uri_safe(const char *uri, const char **why);
/* Whether a libvirt URI names a host (qemu+ssh://kvm1/system), not this
 * machine's libvirt (qemu:///system, test+unix:///default?socket=...). */
bool libvirt_uri_names_host(const char *uri);

/* Parent dataset of a dataset name as a malloc'd string ("tank/a/b" ->
 * "tank/a"); NULL for a pool name or on ENOMEM. */
char *dataset_parent(const char *name);

/* The pool component of a dataset name, malloc'd. */
char *dataset_pool(const char *name);

/* A UUID (32 hex digits, bare or 8-4-4-4-12) in libvirt's canonical form,
 * lower case with dashes, into out: 0 or -EINVAL. */
int uuid_canonical(const char *s, char out[37]);
/* A new random (version 4) UUID in canonical form: 0 or -EIO. */
int uuid_generate(char out[37]);

#endif
