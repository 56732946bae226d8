/* SPDX-License-Identifier: MIT */
/* The hosts qvm can work on: this one, or another reached with ssh, named
 * as [USER@]HOST[:PORT] or by a name of the hosts file ($QVM_HOSTS, else
 * /etc/qvm/hosts): a YAML mapping of names to {ssh: [USER@]HOST[:PORT],
 * connect: LIBVIRT-URI}, both optional. */
#ifndef QVM_HOSTS_H
#define QVM_HOSTS_H

#include <stddef.h>

#define QVM_HOSTS_FILE "/etc/qvm/hosts"

struct host_spec {
	char *name;      /* what the user named: a hosts-file name or the spec itself */
	char *user;      /* NULL: ssh's own default (its config, the local user) */
	char *address;   /* host name, ssh_config alias or IP address (IPv6 without brackets) */
	unsigned port;   /* 0: ssh's own default */
	char *connect;   /* libvirt URI: the file's, else qemu+ssh://[USER@]HOST[:PORT]/system */
};

struct host_list {
	struct host_spec *h;  /* in the file's order */
	size_t n;
	char *file;           /* the file read, NULL if there was none */
};

/* [USER@]HOST[:PORT] (an IPv6 address in brackets when a port follows):
 * USER a login name, HOST letters, digits, '.', '-', '_' or an IP address,
 * nothing ssh could read as an option. 0, or -EINVAL with *err. */
int host_spec_parse(const char *text, struct host_spec *out, char **err);
void host_spec_clear(struct host_spec *h);

/* Reads $QVM_HOSTS (which must exist) or /etc/qvm/hosts (which may be
 * missing: no hosts). 0, or -1 with *err "FILE:LINE:COL: what is wrong". */
int hosts_load(struct host_list *l, char **err);
int hosts_parse(struct host_list *l, const char *file, const char *buf, size_t len, char **err);
void hosts_clear(struct host_list *l);

/* NAME of the hosts file, else NAME parsed as [USER@]HOST[:PORT] into *out
 * (a copy). 0, or -EINVAL with *err. */
int hosts_resolve(const struct host_list *l, const char *name, struct host_spec *out, char **err);

#endif
