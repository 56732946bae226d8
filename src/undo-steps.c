/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "marks.h"
#include "names.h"
#include "process.h"
#include "undo-steps.h"
#include "zfs.h"
#include "banned.h"

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	return r < 0 ? NULL : s;
}

/* ---- zfs destroy ---- */

struct destroy_data {
	int recursive;
	char name[];
};

static int destroy_run(void *data, char **err)
{
	struct destroy_data *d = data;

	return zfs_destroy(d->name, d->recursive, err);
}

int undo_prepare_destroy(struct undo *u, const char *dataset, int recursive)
{
	size_t len = strlen(dataset);
	struct destroy_data *d = malloc(sizeof(*d) + len + 1);

	if (d) {
		d->recursive = recursive;
		memcpy(d->name, dataset, len + 1);
	}
	return undo_prepare(u, destroy_run, d, xasprintf("zvol %s", dataset),
			    xasprintf("zfs destroy %s%s", recursive ? "-r " : "", dataset));
}

/* ---- seed directory ---- */

static int seed_dir_run(void *data, char **err)
{
	const char *dir = data;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (dfd < 0) {
		if (errno == ENOENT)
			return 0;
		*err = xasprintf("%s", strerror(errno));
		return -errno;
	}
	static const char *const files[] = { "seed.iso", SEED_CREATING_FILE };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (unlinkat(dfd, files[i], 0) < 0 && errno != ENOENT) {
			int e = errno;
			close(dfd);
			*err = xasprintf("cannot remove %s: %s", files[i], strerror(e));
			return -e;
		}
	}
	close(dfd);
	if (rmdir(dir) < 0 && errno != ENOENT) {
		*err = xasprintf("%s", strerror(errno));
		return -errno;
	}
	return 0;
}

int undo_prepare_seed_dir(struct undo *u, const char *dir)
{
	return undo_prepare(u, seed_dir_run, strdup(dir), xasprintf("seed directory %s", dir),
			    xasprintf("rm -r %s", dir));
}

/* ---- libvirt domain ---- */

struct domain_data {
	size_t name_off, disk_off;   /* offsets into strings */
	char strings[];              /* "URI\0NAME\0DISK\0" ("" = default URI) */
};

/* virsh [-c URI] VERB NAME; *res holds its output. */
static int virsh(const struct domain_data *d, const char *verb, struct spawn_result *res)
{
	const char *uri = d->strings, *name = d->strings + d->name_off;
	char *argv[6];
	int n = 0;

	argv[n++] = "virsh";
	if (*uri) {
		argv[n++] = "-c";
		argv[n++] = (char *)uri;
	}
	argv[n++] = (char *)verb;
	argv[n++] = (char *)name;
	argv[n] = NULL;
	return spawn_run(argv, SPAWN_CAPTURE_STDOUT | SPAWN_CAPTURE_STDERR, res);
}

static int domain_missing(const struct spawn_result *res)
{
	return res->err && (strstr(res->err, "ailed to get domain") ||
			    strstr(res->err, "Domain not found"));
}

/* Whether virsh domblklist's table ("TARGET SOURCE" lines) has disk as a
 * source, exactly: a path that merely starts with it is another disk. */
static int lists_disk(const char *table, const char *disk)
{
	size_t dlen = strlen(disk);

	for (const char *p = table ? table : ""; *p;) {
		size_t len = strcspn(p, "\n");
		const char *f = p, *end = p + len;
		while (f < end && (*f == ' ' || *f == '\t'))
			f++;
		while (f < end && *f != ' ' && *f != '\t')       /* the target */
			f++;
		while (f < end && (*f == ' ' || *f == '\t'))
			f++;
		while (end > f && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			end--;
		if ((size_t)(end - f) == dlen && memcmp(f, disk, dlen) == 0)
			return 1;
		p += len + (p[len] == '\n');
	}
	return 0;
}

static int domain_run(void *data, char **err)
{
	const struct domain_data *d = data;
	struct spawn_result res;
	int r;

	/* a URI from a volume's marks: whoever set it chose no program to run */
	const char *why;
	if (*d->strings && !libvirt_uri_safe(d->strings, &why)) {
		*err = xasprintf("refusing to connect to its libvirt URI: %s", why);
		return -EPERM;
	}
	/* only a domain that uses the disk this run made is ours to remove:
	 * another domain of the same name is left alone */
	r = virsh(d, "domblklist", &res);
	if (r < 0) {
		*err = xasprintf("cannot run virsh: %s", strerror(-r));
		return r;
	}
	if (res.status != 0) {
		r = domain_missing(&res) ? 0 : -EIO;
		if (r < 0)
			*err = spawn_error_text(&res);
		spawn_result_clear(&res);
		return r;
	}
	r = lists_disk(res.out, d->strings + d->disk_off);
	spawn_result_clear(&res);
	if (!r)
		return 0;

	if (virsh(d, "destroy", &res) == 0)   /* not running is fine too */
		spawn_result_clear(&res);
	r = virsh(d, "undefine", &res);
	if (r < 0) {
		*err = xasprintf("cannot run virsh: %s", strerror(-r));
		return r;
	}
	if (res.status != 0 && !domain_missing(&res)) {
		*err = spawn_error_text(&res);
		r = -EIO;
	}
	spawn_result_clear(&res);
	return r;
}

int undo_prepare_domain(struct undo *u, const char *connect, const char *name, const char *disk)
{
	const char *uri = connect ? connect : "";
	size_t ulen = strlen(uri), nlen = strlen(name), dlen = strlen(disk);
	struct domain_data *d = malloc(sizeof(*d) + ulen + nlen + dlen + 3);

	if (d) {
		memcpy(d->strings, uri, ulen + 1);
		memcpy(d->strings + ulen + 1, name, nlen + 1);
		memcpy(d->strings + ulen + nlen + 2, disk, dlen + 1);
		d->name_off = ulen + 1;
		d->disk_off = ulen + nlen + 2;
	}
	return undo_prepare(u, domain_run, d, xasprintf("libvirt domain %s", name),
			    *uri ? xasprintf("virsh -c %s undefine %s", uri, name)
				 : xasprintf("virsh undefine %s", name));
}
