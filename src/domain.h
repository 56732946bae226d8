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

struct domain_info {
	bool defined;                /* false: no domain of that name */
	const char *state;           /* "running", "shut off", ... (static); "undefined" */
	unsigned vcpus;
	unsigned long long memory_kib;
	bool uses_path;              /* its XML names one of the paths asked about */
};

/*
 * Looks up domain NAME on URI (NULL or "": the default URI, which honours
 * LIBVIRT_DEFAULT_URI). paths (may be NULL) are disk or seed paths: sets
 * uses_path if the domain's XML names one of them. Returns 0 (also when
 * there is no such domain: info->defined false), or -EIO with *err
 * libvirt's message (malloc'd).
 */
int domain_info_get(struct domains *d, const char *uri, const char *name, char *const *paths,
		    struct domain_info *info, char **err);

/* Where domain_ip looks for the guest's address. */
enum { DOMAIN_IP_LEASE = 1u << 0, DOMAIN_IP_AGENT = 1u << 1 };

/*
 * The guest's first IPv4 address (else IPv6) from the sources asked for, in
 * *ip (malloc'd), or *ip NULL when none is known. Returns 0, or -EIO with
 * *err when the domain cannot be looked up.
 */
int domain_ip(struct domains *d, const char *uri, const char *name, unsigned sources, char **ip,
	      char **err);

/* Stops domain NAME if it runs and undefines it (with its managed save,
 * snapshot and checkpoint metadata and NVRAM). A domain that is already
 * gone counts as success. Returns 0 or -EIO with *err. */
int domain_remove(struct domains *d, const char *uri, const char *name, char **err);

#endif
