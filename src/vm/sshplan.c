/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "hostkeys.h"
#include "inventory.h"
#include "msgtext.h"
#include "names.h"
#include "report.h"
#include "settings.h"
#include "sshplan.h"
#include "strv.h"
#include "banned.h"

#define KNOWN_HOSTS "known_hosts"
#define CONSOLE_LOG "console.log"

static const char *uri_text(const char *uri)
{
	return uri ? uri : "the default URI";
}

/* Both NULL, or the same text (in any case: for UUIDs). */
static bool same_text(const char *a, const char *b, bool any_case)
{
	return a == b || (a && b && (any_case ? strcasecmp(a, b) : strcmp(a, b)) == 0);
}

char *ssh_host_alias(const char *vm)
{
	char *alias = strdupf("qvm-%s", vm);

	for (char *c = alias; c && *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	return alias;
}

bool ssh_path_plain(const char *path)
{
	if (!*path)
		return false;
	for (const char *c = path; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		      strchr("/._-+,:@=", *c)))
			return false;
	return true;
}

int ssh_argv(const char *known_hosts, const char *alias, bool strict, const char *user, const char *address,
	     char *const *command, char ***argv)
{
	char **v = NULL;

	*argv = NULL;
	/* the VM's file only (not the user's, not the system's): its keys
	 * are the VM's, looked up by a name of its own, not by an address
	 * DHCP gives the next VM; "--" before the address, or ssh would
	 * read options among the command's words */
	if (strv_push_many(&v, "ssh", "-o", NULL) < 0 ||
	    strv_pushf(&v, "UserKnownHostsFile=%s", known_hosts) < 0 ||
	    strv_push_many(&v, "-o", "GlobalKnownHostsFile=/dev/null", "-o", NULL) < 0 ||
	    strv_pushf(&v, "HostKeyAlias=%s", alias) < 0 ||
	    strv_push_many(&v, "-o", strict ? "StrictHostKeyChecking=yes" : "StrictHostKeyChecking=accept-new",
			   NULL) < 0 ||
	    strv_push_many(&v, "-l", user, "--", address, NULL) < 0 ||
	    (command && strv_extend(&v, command) < 0)) {
		strv_free(v);
		return -ENOMEM;
	}
	*argv = v;
	return 0;
}

void ssh_plan_clear(struct ssh_plan *p)
{
	strv_free(p->argv);
	free(p->address);
	free(p->known_hosts);
	memset(p, 0, sizeof(*p));
}

/* The VM's disks: the boot disk's marks in *boot, every disk's device and
 * the seed in *paths (what its domain must use). */
static int find_vm(const char *name, const struct inventory *inv, const struct volume **boot, char ***paths,
		   char **err)
{
	*boot = NULL;
	for (size_t i = 0; i < inv->n; i++) {
		const struct volume *v = &inv->v[i];
		if (!volume_is_disk_of(v, name))
			continue;
		if (volume_is_creating(v))
			return report_error(err, -EBUSY, "VM %s is not ready: zvol %s is %s (qvm:state=creating)",
					    name, v->name, volume_is_leftover(v) ?
					    "left over from an interrupted run (see qvm cleanup)" :
					    "being created by a qvm still running");
		if (!*boot || !v->disk)
			*boot = v;
		if (strv_consume(paths, settings_zvol_device(v->name)) < 0)
			return report_error(err, -ENOMEM, "%s", strerror(ENOMEM));
	}
	if (!*boot)
		return report_error(err, -ENOENT, "no VM %s was made by qvm (no zvol marked qvm:vm=%s)", name,
				    name);
	/* one domain's disks, or which domain is meant is a guess */
	for (size_t i = 0; i < inv->n; i++) {
		const struct volume *v = &inv->v[i], *b = *boot;
		if (volume_is_disk_of(v, name) &&
		    (!same_text(v->uuid, b->uuid, true) || !same_text(v->connect, b->connect, false))) {
			/* marks are anyone's to set: escaped */
			char u1[128], c1[512], u2[128], c2[512];
			const char *bu = b->uuid ? b->uuid : "not recorded", *vu = v->uuid ? v->uuid : "not recorded";
			msg_text(u1, sizeof(u1), bu, strlen(bu));
			msg_text(c1, sizeof(c1), uri_text(b->connect), strlen(uri_text(b->connect)));
			msg_text(u2, sizeof(u2), vu, strlen(vu));
			msg_text(c2, sizeof(c2), uri_text(v->connect), strlen(uri_text(v->connect)));
			return report_error(err, -EPERM, "VM %s: its disks belong to more than one domain (%s: UUID "
					    "%s on %s; %s: UUID %s on %s)", name, b->name, u1, c1, v->name, u2, c2);
		}
	}
	if (strv_pushf(paths, "%s/%s/seed.iso", settings_state_dir(), name) < 0)
		return report_error(err, -ENOMEM, "%s", strerror(ENOMEM));
	return 0;
}

/* The user to log in as: the caller's, else the one recorded at qvm vm. */
static int pick_user(const char *name, const char *given, const struct volume *boot, const char **user,
		     char **err)
{
	const char *why;

	if (given) {
		if (!login_name_valid(given, &why))
			return report_error(err, -EINVAL, "invalid user name for --user: %s", why);
		*user = given;
		return 0;
	}
	if (!boot->user)
		return report_error(err, -ENOENT, "no user known for VM %s: give --user", name);
	if (!login_name_valid(boot->user, &why))
		return report_error(err, -EINVAL, "the user recorded for VM %s (qvm:user of %s) is not a valid "
				    "login name (%s): give --user", name, boot->name, why);
	*user = boot->user;
	return 0;
}

/* The domain must be the VM's (using its disks or seed) and running; its
 * address, lease first (the host's), then the guest agent's. */
static int find_address(struct ssh_plan *p, const char *name, const struct volume *boot, char *const *paths,
			struct domains *d, char **err)
{
	const struct domain_ref ref = { .uri = boot->connect, .uuid = boot->uuid, .name = name };
	_cleanup_free_ char *why = NULL;
	struct domain_info info;
	unsigned char bin[16];
	char dom[300];

	char uri[512], id[128];
	const char *id_raw = boot->uuid ? boot->uuid : name;

	/* the marks are anyone's to set: escaped */
	msg_text(uri, sizeof(uri), uri_text(boot->connect), strlen(uri_text(boot->connect)));
	msg_text(id, sizeof(id), id_raw, strlen(id_raw));
	if (domain_info_get(d, &ref, paths, &info, &why) < 0)
		return report_error(err, -EIO, "VM %s: cannot check its domain on %s: %s", name, uri,
				    why ? why : "unknown error");
	if (!info.defined)
		return report_error(err, -ENOENT, "VM %s has no domain on %s (%s %s)", name, uri,
				    boot->uuid ? "UUID" : "name", id);
	/* libvirt's name of it is anyone's who could define it */
	msg_text(dom, sizeof(dom), info.name, strlen(info.name));
	if (!info.uses_path)
		return report_error(err, -EPERM, "VM %s: domain %s on %s uses none of its disks nor its seed: it "
				    "is not qvm's VM, not connecting to it", name, dom, uri);
	if (strcmp(info.state, "running") != 0 && strcmp(info.state, "idle") != 0)
		return report_error(err, -EHOSTUNREACH, "VM %s is not running (its domain %s is %s)", name, dom,
				    info.state);
	if (domain_ip(d, &ref, DOMAIN_IP_LEASE | DOMAIN_IP_AGENT, &p->address, &why) < 0)
		return report_error(err, -EIO, "VM %s: cannot ask its domain for an address: %s", name,
				    why ? why : "unknown error");
	if (!p->address)
		return report_error(err, -EHOSTUNREACH, "VM %s has no address yet (is it still booting? qvm vm "
				    "--wait waits for one; its network must give it one by DHCP, or run the guest "
				    "agent)", name);
	/* what reaches ssh's argv is an address, nothing it could read
	 * otherwise (domain_ip checks it too: this is ssh's side of it) */
	if (inet_pton(AF_INET, p->address, bin) != 1 && inet_pton(AF_INET6, p->address, bin) != 1)
		return report_error(err, -EPROTO, "VM %s: its address is no IP address", name);
	return 0;
}

/* The VM's state directory, open: a directory of its own, no symlink, no
 * one else can write in. */
static int open_state_dir(const char *name, const char *dir, int *dfd, char **err)
{
	struct stat st;
	int fd;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT)
			return report_error(err, -e, "VM %s has no state directory %s (for its known_hosts)", name,
					    dir);
		return report_error(err, -e, "VM %s: %s: %s%s", name, dir, strerror(e),
				    e == ELOOP || e == ENOTDIR ? " (not a directory)" : "");
	}
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return report_error(err, -e, "VM %s: %s: %s", name, dir, strerror(e));
	}
	if ((st.st_uid != geteuid() && st.st_uid != 0) || (st.st_mode & 022)) {
		close(fd);
		return report_error(err, -EPERM, "VM %s: %s is writable by others than its owner or owned by "
				    "another user: its host keys are not kept there", name, dir);
	}
	*dfd = fd;
	return 0;
}

/* Keys already known, pinned now from the console log, or none. */
static int pin_keys(struct ssh_plan *p, const char *name, const char *alias, char **err)
{
	_cleanup_free_ char *dir = strdupf("%s/%s", settings_state_dir(), name);
	_cleanup_free_ char *log = NULL, *text = NULL, *why = NULL;
	_cleanup_close_ int dfd = -1;
	struct hostkeys keys;
	struct stat st;
	int r;

	if (!dir)
		return report_error(err, -ENOMEM, "%s", strerror(ENOMEM));
	p->known_hosts = strdupf("%s/%s", dir, KNOWN_HOSTS);
	log = strdupf("%s/%s", dir, CONSOLE_LOG);
	if (!p->known_hosts || !log)
		return report_error(err, -ENOMEM, "%s", strerror(ENOMEM));
	if (!ssh_path_plain(p->known_hosts))
		return report_error(err, -EINVAL, "VM %s: ssh would not read the path %s as it is (it has "
				    "characters other than A-Z a-z 0-9 / . _ - + , : @ =): set QVM_STATE_DIR to a "
				    "directory without them", name, p->known_hosts);
	r = open_state_dir(name, dir, &dfd, err);
	if (r < 0)
		return r;
	p->keys = SSH_KEYS_FIRST_USE;
	if (fstatat(dfd, KNOWN_HOSTS, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISREG(st.st_mode))
			return report_error(err, -EINVAL, "VM %s: %s is not a regular file", name, p->known_hosts);
		/* an empty file knows no key: ssh asks as if there were none */
		if (st.st_size > 0)
			p->keys = SSH_KEYS_KNOWN;
		return 0;
	}
	if (errno != ENOENT) {
		int e = errno;
		return report_error(err, -e, "VM %s: %s: %s", name, p->known_hosts, strerror(e));
	}
	r = hostkeys_read(log, &keys, &why);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return report_error(err, r, "VM %s: cannot read its console log: %s", name,
				    why ? why : strerror(-r));
	p->console_block = keys.complete;
	p->skipped = keys.skipped;
	if (keys.n == 0) {
		hostkeys_clear(&keys);
		return 0;
	}
	text = hostkeys_known_hosts(&keys, alias);
	p->pinned = keys.n;
	hostkeys_clear(&keys);
	if (!text)
		return report_error(err, -ENOMEM, "%s", strerror(ENOMEM));
	free(TAKE_PTR(why));
	r = hostkeys_write_file(dfd, KNOWN_HOSTS, text, &why);
	if (r == -EEXIST) {
		/* another qvm ssh wrote it meanwhile, from the same log */
		p->pinned = 0;
		p->keys = SSH_KEYS_KNOWN;
		return 0;
	}
	if (r < 0)
		return report_error(err, r, "VM %s: cannot write the host keys from its console log into %s: %s",
				    name, dir, why ? why : strerror(-r));
	p->keys = SSH_KEYS_PINNED;
	return 0;
}

int ssh_plan_make(struct ssh_plan *p, const char *name, const char *user, char *const *command,
		  const struct inventory *inv, struct domains *d, char **err)
{
	_cleanup_strv_free_ char **paths = NULL;
	_cleanup_free_ char *alias = NULL;
	const struct volume *boot;
	const char *why, *login = NULL;
	int r;

	memset(p, 0, sizeof(*p));
	if (!vm_name_valid(name, &why)) {
		char shown[256];
		msg_text(shown, sizeof(shown), name, strlen(name));
		return report_error(err, -EINVAL, "invalid VM name '%s': %s", shown, why);
	}
	r = find_vm(name, inv, &boot, &paths, err);
	if (r == 0)
		r = pick_user(name, user, boot, &login, err);
	if (r == 0)
		r = find_address(p, name, boot, paths, d, err);
	if (r < 0)
		return r;
	alias = ssh_host_alias(name);
	if (!alias)
		return report_error(err, -ENOMEM, "%s", strerror(ENOMEM));
	r = pin_keys(p, name, alias, err);
	if (r < 0)
		return r;
	if (ssh_argv(p->known_hosts, alias, p->keys != SSH_KEYS_FIRST_USE, login, p->address, command,
		     &p->argv) < 0)
		return report_error(err, -ENOMEM, "%s", strerror(ENOMEM));
	return 0;
}
