/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <ctype.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "inventory.h"
#include "marks.h"
#include "hostfs.h"
#include "strv.h"
#include "zfs.h"
#include "banned.h"

/* Where this process's pid means something: 12 hex digits of the boot_id
 * and the pid namespace's inode ("" if unknown). With remote hosts the run
 * and the check can be on different machines, or in different containers
 * of one (they share the boot_id, not the pids). */
static const char *this_boot(void)
{
	static char boot[40];
	static bool read_once;
	char buf[64], ns[64];
	size_t n = 0;
	ssize_t len;
	unsigned long long inode;
	FILE *f;

	if (read_once)
		return boot;
	read_once = true;
	f = fopen("/proc/sys/kernel/random/boot_id", "re");
	if (f && fgets(buf, sizeof(buf), f))
		for (const char *p = buf; *p && n < 12; p++)
			if (isxdigit((unsigned char)*p))
				boot[n++] = (char)tolower((unsigned char)*p);
	if (f)
		fclose(f);
	len = readlink("/proc/self/ns/pid", ns, sizeof(ns) - 1);
	if (n < 12 || len <= 0) {
		boot[0] = '\0';
		return boot;
	}
	ns[len] = '\0';
	/* "pid:[4026531836]" */
	if (sscanf(ns, "pid:[%llu]", &inode) != 1) {
		boot[0] = '\0';
		return boot;
	}
	snprintf(boot + 12, sizeof(boot) - 12, "-%llx", inode);
	return boot;
}

const char *marks_run_id(void)
{
	static char id[96];

	if (!id[0]) {
		uint64_t r = 0;
		const char *boot = this_boot();
		if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
			r = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
		snprintf(id, sizeof(id), "%ld-%016llx%s%s", (long)getpid(), (unsigned long long)r, *boot ? "@" : "",
			 boot);
	}
	return id;
}

/* "qvm:NAME=VALUE" with the value's control characters as \xNN: zfs get -H
 * prints a value as it is, and a tab or a line break in one (a path, a URI
 * from a file) would forge lines of the output qvm reads its marks from. */
static int push_mark(char ***props, const char *name, const char *value)
{
	char *buf = malloc(4 * strlen(value) + 1), *o = buf;
	int r;

	if (!buf)
		return -ENOMEM;
	for (const unsigned char *p = (const unsigned char *)value; *p; p++)
		o += *p < 0x20 || *p == 0x7f ? snprintf(o, 5, "\\x%02x", *p) : (*o = (char)*p, 1);
	*o = '\0';
	r = strv_pushf(props, "%s=%s", name, buf);
	free(buf);
	return r;
}

static int marks_common(char ***props)
{
	int r = strv_push(props, MARK_STATE "=" MARK_STATE_CREATING);

	return r < 0 ? r : strv_pushf(props, MARK_RUN "=%s", marks_run_id());
}

int marks_image(const char *source, const char *osinfo, const char *user, char ***props)
{
	int r = strv_push(props, "qvm:kind=image");

	if (r == 0)
		r = push_mark(props, "qvm:source", source);
	if (r == 0 && osinfo)
		r = push_mark(props, MARK_OSINFO, osinfo);
	if (r == 0 && user)
		r = push_mark(props, MARK_USER, user);
	return r < 0 ? r : marks_common(props);
}

int marks_image_copy(const struct volume *v, char ***props)
{
	int r = strv_push(props, "qvm:kind=image");

	if (r == 0 && v->source)
		r = push_mark(props, "qvm:source", v->source);
	if (r == 0 && v->sha256)
		r = push_mark(props, "qvm:sha256", v->sha256);
	if (r == 0 && v->sha512)
		r = push_mark(props, "qvm:sha512", v->sha512);
	if (r == 0 && v->osinfo)
		r = push_mark(props, MARK_OSINFO, v->osinfo);
	if (r == 0 && v->user)
		r = push_mark(props, MARK_USER, v->user);
	return r < 0 ? r : marks_common(props);
}

int marks_vm_disk(const char *vm, const char *connect, const char *uuid, char ***props)
{
	int r = strv_push(props, "qvm:kind=vm-disk");

	if (r == 0)
		r = strv_pushf(props, "qvm:vm=%s", vm);
	if (r == 0 && connect && *connect)
		r = push_mark(props, MARK_CONNECT, connect);
	if (r == 0 && uuid)
		r = push_mark(props, MARK_UUID, uuid);
	return r < 0 ? r : marks_common(props);
}

/* True if one of the NUL-separated arguments in buf[0..len) is a program
 * named qvm: qvm itself, or qvm run under a wrapper such as valgrind. */
static int cmdline_has_qvm(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i += strlen(buf + i) + 1) {
		const char *arg = buf + i, *slash = strrchr(arg, '/');
		if (strcmp(slash ? slash + 1 : arg, "qvm") == 0)
			return 1;
	}
	return 0;
}

int marks_seed_run(const char *dir, char *buf, size_t size)
{
	_cleanup_free_ char *path = NULL, *text = NULL, *why = NULL;
	int r;

	if (asprintf(&path, "%s/%s", dir, SEED_CREATING_FILE) < 0)
		return -ENOMEM;
	r = hostfs_read(path, size - 1, &text, &why);
	if (r < 0)
		return r;
	snprintf(buf, size, "%s", text ? text : "");
	return 0;
}

int marks_own(const char *dataset, struct volume *v, char **out, char **err)
{
	memset(v, 0, sizeof(*v));
	*out = NULL;
	int r = zfs_get_local(dataset, MARK_KIND "," MARK_STATE "," MARK_RUN, out, err);
	if (r < 0)
		return r;
	/* "PROP<TAB>VALUE" lines, cut in place */
	for (char *p = *out; *p;) {
		char *nl = p + strcspn(p, "\n"), *next = *nl ? nl + 1 : nl, *tab;
		*nl = '\0';
		if ((tab = strchr(p, '\t'))) {
			*tab = '\0';
			if (strcmp(p, MARK_KIND) == 0)
				v->kind = tab + 1;
			else if (strcmp(p, MARK_STATE) == 0)
				v->state = tab + 1;
			else if (strcmp(p, MARK_RUN) == 0)
				v->run = tab + 1;
		}
		p = next;
	}
	return 0;
}

int marks_leftover(const char *dataset)
{
	_cleanup_free_ char *out = NULL, *err = NULL;
	struct volume v;

	return marks_own(dataset, &v, &out, &err) == 0 && volume_is_leftover(&v);
}

int marks_run_local(const char *run_id)
{
	const char *at = strchr(run_id, '@');

	return !at || !*this_boot() || strcmp(at + 1, this_boot()) == 0;
}

int marks_run_alive(const char *run_id)
{
	char path[64], buf[4096];
	char *end;
	long pid = strtol(run_id, &end, 10);
	size_t len;
	FILE *f;

	if (end == run_id || *end != '-' || pid <= 0)
		return 0;
	/* a run of another boot or machine cannot be checked from here:
	 * taken as running, never removed under it (qvm cleanup on the
	 * machine that ran it knows) */
	const char *at = strchr(run_id, '@');
	if (at && *this_boot() && strcmp(at + 1, this_boot()) != 0)
		return 1;
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	/* a recycled pid belongs to some other program */
	return cmdline_has_qvm(buf, len);
}
