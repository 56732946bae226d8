/* SPDX-License-Identifier: MIT */
/* What qvm made, as ZFS knows it: every volume with its qvm:* marks, read
 * with one `zfs get`. A dataset is qvm's only if qvm:kind says so, set on
 * the dataset itself: marks a volume merely inherits are not read. */
#ifndef QVM_INVENTORY_H
#define QVM_INVENTORY_H

#include <stdint.h>

struct volume {
	char *name;
	uint64_t volsize, used;
	char *origin;                /* "tank/images/deb@base", or NULL */
	/* qvm's marks, NULL when unset */
	char *kind;                  /* "image" | "vm-disk" */
	char *vm;
	char *connect;               /* the libvirt URI of the VM's domain */
	char *uuid;                  /* its domain's UUID (NULL: made before qvm recorded it) */
	char *state;
	char *source;
	char *sha256;                /* the digest verified at import (one of the two) */
	char *sha512;
	char *disk;                  /* qvm:disk: index after the boot disk (NULL on the boot disk) */
	char *run;                   /* qvm:run */
	char *osinfo;                /* qvm:osinfo: the image's osinfo name (image) */
	char *user;                  /* qvm:user: its login user (image), or the VM's ssh user (boot disk) */
};

struct inventory {
	struct volume *v;
	size_t n;
};

/* Lists every volume of every pool. Returns 0, or -errno with *err zfs's
 * message (malloc'd). */
int inventory_load(struct inventory *inv, char **err);
void inventory_clear(struct inventory *inv);
/* What inventory_load does with zfs's output: names, `zfs list -H -o name
 * -t volume`; out, `zfs get -H -p -o name,property,value,source` of the
 * properties it asks for (both cut in place). 0, or -ENOMEM, or -EPROTO
 * with *err when the output does not add up. */
int inventory_parse(struct inventory *inv, char *names, char *out, char **err);

/* True for a volume qvm marked as an image / as a disk of VM vm (any VM
 * when vm is NULL). */
int volume_is_image(const struct volume *v);
int volume_is_disk_of(const struct volume *v, const char *vm);

/* True for a volume qvm marked as an image or a VM disk (qvm:kind, on it)
 * that is still being created (qvm:state=creating). */
int volume_is_creating(const struct volume *v);
/* ... and whose run is over: left over from an interrupted qvm run. */
int volume_is_leftover(const struct volume *v);

/* The number of volumes cloned from any snapshot of dataset. */
size_t inventory_clones(const struct inventory *inv, const char *dataset);

#endif
