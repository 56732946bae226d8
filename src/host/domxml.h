/* SPDX-License-Identifier: MIT */
/* What a libvirt domain XML says about the facts qvm checks: its name, its
 * UUID and the storage its disks use. Parsed with libxml2 (what libvirt
 * itself uses), loaded on first use. */
#ifndef QVM_DOMXML_H
#define QVM_DOMXML_H

#include <stddef.h>

struct domxml {
	char *name;                  /* <name>, or NULL */
	char *uuid;                  /* <uuid> in lower case, or NULL */
	/* every disk's storage: a local path ("/dev/zvol/tank/x") as written,
	 * or what names other storage ("volume POOL/VOL", "network rbd
	 * NAME"); disks without a source (an empty CD-ROM drive) are not
	 * listed. strv. */
	char **sources;
};

/*
 * Parses one domain document. Returns 0, or -EINVAL with *err saying why
 * (not XML, root not <domain>), or -ENOMEM, or -ENOSYS with *err when
 * libxml2 cannot be loaded.
 */
int domxml_parse(const char *xml, size_t len, struct domxml *out, char **err);
void domxml_clear(struct domxml *d);

/* True if one of d's disks is exactly path. */
int domxml_uses(const struct domxml *d, const char *path);

/*
 * Splits the output of virt-install --print-xml into its domain documents
 * (one for a single-step install; the install-time and the final one for an
 * install with its own phase). *docs is a strv; -EINVAL when the text holds
 * no <domain> document, -ENOMEM.
 */
int domxml_split(const char *text, char ***docs);

/*
 * The checks qvm makes of the XML virt-install wrote before it defines it:
 * name and uuid as asked, every one of paths (the zvols and the seed qvm
 * made) used, and no other storage than those and allowed (what the file
 * names itself, may be NULL). 0, or -EINVAL/-EPERM with *why (malloc'd).
 */
int domxml_check(const struct domxml *x, const char *name, const char *uuid, char *const *paths,
		 char *const *allowed, char **why);

/* A storage pool's XML: its <target><path>, malloc'd in *path (NULL when
 * it has none). 0, -EINVAL (not a pool), -ENOMEM, -ENOSYS. */
int domxml_pool_target(const char *xml, char **path, char **err);

/*
 * The domain XML with its one CD-ROM disk whose source is stand_in (what
 * virt-install was given for the seed) made a file disk of seed: *out
 * (malloc'd). -EPROTO with *err when there is not exactly one.
 */
int domxml_put_seed(const char *xml, const char *stand_in, const char *seed, char **out, char **err);

#endif
