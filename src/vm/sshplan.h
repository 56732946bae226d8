/* SPDX-License-Identifier: MIT */
/* qvm ssh: the ssh command that logs in to a VM qvm made. The VM is found
 * as qvm list and qvm destroy find it (its disks' qvm:vm marks, its domain
 * by the UUID and URI they record, which must use them); its address is
 * libvirt's DHCP lease, else what the guest agent says (checked: an IP
 * literal); the user is the caller's, else its boot disk's qvm:user. Host
 * keys go to a known_hosts file of the VM's own under its state directory:
 * pinned from the keys cloud-init printed on the VM's console when there
 * are any (ssh then accepts no other), else accepted by ssh on first use. */
#ifndef QVM_SSHPLAN_H
#define QVM_SSHPLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "domain.h"

struct inventory;

enum ssh_keys {
	SSH_KEYS_KNOWN,       /* known_hosts held keys already: ssh accepts only those */
	SSH_KEYS_PINNED,      /* written now from the console log: the same */
	SSH_KEYS_FIRST_USE,   /* none known: ssh records the key it is shown first */
};

struct ssh_plan {
	char **argv;                 /* ssh's, for execvp */
	char *address;
	char *known_hosts;           /* the VM's known_hosts file */
	enum ssh_keys keys;
	size_t pinned;               /* keys written (SSH_KEYS_PINNED) */
	bool console_block;          /* the console log held a complete key block */
	size_t skipped;              /* lines of it that held no key */
};

/*
 * Finds VM name (inv: every volume; d: asked about its domain), its
 * address and the user (user if not NULL, else the VM's qvm:user), pins
 * host keys from its console log when its known_hosts does not exist yet,
 * and makes ssh's argv, ending with command (may be NULL). The only change
 * it makes is that file. 0, or -errno with *err (malloc'd); clear p either
 * way.
 */
int ssh_plan_make(struct ssh_plan *p, const char *name, const char *user, char *const *command,
		  const struct inventory *inv, struct domains *d, char **err);
void ssh_plan_clear(struct ssh_plan *p);


/* The name ssh looks up the VM's keys by in its known_hosts: "qvm-" and the
 * VM's name in lowercase (ssh matches known_hosts names in lowercase).
 * malloc'd, NULL on ENOMEM. */
char *ssh_host_alias(const char *vm);

/* True if ssh reads path as written in -o UserKnownHostsFile=path (it
 * expands '%', '$' and '~' there and splits on blanks). */
bool ssh_path_plain(const char *path);

/*
 * ssh [-o ...] -l user -- address [command...]: the known_hosts file its
 * only one, keys looked up by alias, strict: accept only keys it holds
 * (else record the first one shown). address an IP literal, user a valid
 * login name. 0 or -ENOMEM.
 */
int ssh_argv(const char *known_hosts, const char *alias, bool strict, const char *user, const char *address,
	     char *const *command, char ***argv);

#endif
