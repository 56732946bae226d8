/* SPDX-License-Identifier: MIT */
/* libvirt domains through the libvirt C API: what qvm list shows, what qvm
 * destroy removes, the address qvm vm --wait waits for. Connections are
 * opened once per URI and kept in a struct domains. */
#ifndef QVM_DOMAIN_H
#define QVM_DOMAIN_H

#include <stdbool.h>

struct domains;

/* A connection cache; read_only for listing. NULL on ENOMEM. */
struct domains *domains_new(bool read_only);
void domains_free(struct domains *d);
static inline void domains_freep(struct domains **d) { domains_free(*d); }

/* A domain as qvm refers to it: by the UUID it recorded, on the URI it
 * recorded; by name only for VMs made before qvm recorded UUIDs (uuid
 * NULL). uri NULL or "": the default URI (LIBVIRT_DEFAULT_URI honoured). */
struct domain_ref {
	const char *uri;
	const char *uuid;
	const char *name;
};

/* The URI of the connection uri opens (virConnectGetURI): what the default
 * URI resolves to, as libvirt spells it. 0, or -EIO with *err. */
int domains_uri(struct domains *d, const char *uri, char **canonical, char **err);

/* The free memory of the host uri connects to, in bytes
 * (virNodeGetFreeMemory). 0, or -EIO with *err. */
/* The UUIDs (strv) of uri's storage pools whose target directory is dir. */
int domains_pools_at(struct domains *d, const char *uri, const char *dir, char ***uuids, char **err);
/* Stops (a directory pool's files stay) and undefines the pool of uuid;
 * one that is gone already is removed. */
int domains_pool_remove(struct domains *d, const char *uri, const char *uuid, char **err);
int domains_free_memory(struct domains *d, const char *uri, unsigned long long *bytes, char **err);

struct domain_info {
	bool defined;                /* false: no such domain */
	const char *state;           /* "running", "shut off", ... (static); "undefined" */
	char name[256];              /* its name */
	unsigned vcpus;
	unsigned long long memory_kib;
	bool uses_path;              /* one of its disks is exactly one of the paths asked about */
};

/*
 * Looks up the domain ref names. paths (may be NULL) are disk or seed
 * paths: sets uses_path if one of its disks is exactly one of them. Returns
 * 0 (also when there is no such domain: info->defined false), or -EIO with
 * *err libvirt's message (malloc'd).
 */
int domain_info_get(struct domains *d, const struct domain_ref *ref, char *const *paths,
		    struct domain_info *info, char **err);

/* Where domain_ip looks for the guest's address. */
enum { DOMAIN_IP_LEASE = 1u << 0, DOMAIN_IP_AGENT = 1u << 1 };

/*
 * The guest's first IPv4 address (else IPv6; IP literals only: the guest
 * agent's answer is the guest's) from the sources asked for, in
 * *ip (malloc'd), or *ip NULL when none is known. Returns 0, or -EIO with
 * *err when the domain cannot be looked up.
 */
int domain_ip(struct domains *d, const struct domain_ref *ref, unsigned sources, char **ip, char **err);

/*
 * Stops the domain ref names if it runs and undefines it (with its managed
 * save, snapshot and checkpoint metadata and NVRAM) - only if one of its
 * disks is exactly one of paths: -EPERM with *err otherwise (not qvm's). A
 * domain that is already gone counts as success. Returns 0, -EPERM or -EIO
 * with *err.
 */
int domain_remove(struct domains *d, const struct domain_ref *ref, char *const *paths, char **err);

/*
 * Checks the domain ref names (by its UUID) as domxml_check does, in its
 * definition and, when it runs, in what runs. No such domain: -ENOENT if
 * must_exist, else 0 (nothing to check). Returns 0, -EINVAL/-EPERM/-ENOENT
 * with *err why, or -EIO.
 */
int domain_check_defined(struct domains *d, const struct domain_ref *ref, char *const *paths,
			 char *const *allowed, bool must_exist, char **err);

/* What already uses a name or a UUID on a URI. */
struct domain_clash {
	bool name_taken;
	char name_uuid[64];          /* the UUID of the domain of that name */
	bool uuid_taken;
	char uuid_name[256];         /* the name of the domain of that UUID */
};

/* Looks up name and uuid (may be NULL) on uri. 0, or -EIO with *err. */
int domain_find(struct domains *d, const char *uri, const char *name, const char *uuid,
		struct domain_clash *clash, char **err);

enum {
	DOMAIN_START = 1u << 0,      /* start it once defined */
	DOMAIN_AUTOSTART = 1u << 1,  /* start it when the host boots */
	DOMAIN_TRANSIENT = 1u << 2,  /* start it, never define it */
};

/*
 * Defines (validating it) and starts the domain xml describes, which must
 * have name and UUID uuid, as flags say. Refuses, -EEXIST, when a domain of
 * that name or UUID exists. Returns 0, or -errno with *err; on failure after the
 * definition the domain may exist: remove it by its UUID.
 */
int domain_create(struct domains *d, const char *uri, const char *xml, const char *name, const char *uuid,
		  unsigned flags, char **err);

/* Loads libvirt now, as its first use would (what another thread can do
 * while this one waits, e.g. for ssh; nothing else may use libvirt then). */
void domains_preload(void);

#endif
