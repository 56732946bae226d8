/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "domain.h"
#include "strv.h"
#include "marks.h"
#include "names.h"
#include "undo-steps.h"
#include "hostfs.h"
#include "remote.h"
#include "zfs.h"
#include "banned.h"

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
	return undo_prepare(u, destroy_run, d, strdupf("zvol %s", dataset),
			    strdupf("zfs destroy %s%s", recursive ? "-r " : "", dataset));
}

/* ---- seed directory ---- */

/* virtlogd's rotated console logs: console.log.1, console.log.2, ... */
static bool rotated_log(const char *name)
{
	const char *n = strncmp(name, "console.log.", 12) == 0 ? name + 12 : NULL;

	return n && *n && strspn(n, "0123456789") == strlen(n);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* What else dir holds (it was not removed): "a, b" (the first five in
 * order) or NULL. */
static char *other_files(int dfd)
{
	_cleanup_strv_free_ char **names = NULL;
	int fd = dup(dfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	rewinddir(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 && strv_push(&names, e->d_name) < 0)
			break;
	closedir(d);
	if (!names)
		return NULL;
	qsort(names, strv_length(names), sizeof(*names), cmp_names);
	if (strv_length(names) > 5) {
		free(names[5]);
		names[5] = strdup("...");
		for (size_t i = 6; names[i]; i++)
			free(TAKE_PTR(names[i]));
	}
	return strv_join(names, ", ");
}

int seed_dir_remove(const char *dir, char **err)
{
	/* what qvm and libvirt put there: the seed, the marker of a run in
	 * progress, the console log virtlogd writes, qvm ssh's known hosts */
	static const char *const files[] = { "seed.iso", SEED_CREATING_FILE, "console.log", "known_hosts" };
	int dfd, e_;
	struct dirent *e;
	DIR *d;

	if (remote_current())
		return hostfs_remove_dir(dir, files, sizeof(files) / sizeof(files[0]), err);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (dfd < 0) {
		if (errno == ENOENT)
			return 0;
		e_ = errno;
		*err = strdupf("%s: %s", dir, strerror(e_));
		return -e_;
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (unlinkat(dfd, files[i], 0) < 0 && errno != ENOENT) {
			e_ = errno;
			close(dfd);
			*err = strdupf("%s/%s: %s", dir, files[i], strerror(e_));
			return -e_;
		}
	}
	e_ = dup(dfd);
	d = e_ >= 0 ? fdopendir(e_) : NULL;
	if (!d && e_ >= 0)
		close(e_);
	while (d && (e = readdir(d))) {
		if (rotated_log(e->d_name) && unlinkat(dfd, e->d_name, 0) < 0 && errno != ENOENT) {
			e_ = errno;
			*err = strdupf("%s/%s: %s", dir, e->d_name, strerror(e_));
			closedir(d);
			close(dfd);
			return -e_;
		}
	}
	if (d)
		closedir(d);
	if (rmdir(dir) < 0 && errno != ENOENT) {
		_cleanup_free_ char *others = NULL;
		e_ = errno;
		if (e_ == ENOTEMPTY || e_ == EEXIST)
			others = other_files(dfd);
		close(dfd);
		*err = others ? strdupf("%s: %s (it holds %s)", dir, strerror(e_), others)
			      : strdupf("%s: %s", dir, strerror(e_));
		return -e_;
	}
	close(dfd);
	return 0;
}

static int seed_dir_run(void *data, char **err)
{
	return seed_dir_remove(data, err);
}

int undo_prepare_seed_dir(struct undo *u, const char *dir)
{
	return undo_prepare(u, seed_dir_run, strdup(dir), strdupf("seed directory %s", dir),
			    strdupf("rm -r %s", dir));
}

/* ---- libvirt domain ---- */

struct domain_data {
	struct domains *domains;     /* the caller's connections (not owned) */
	char *uri, *uuid, *name, *disk;
};

static void domain_data_free(void *p)
{
	struct domain_data *d = p;

	if (!d)
		return;
	free(d->uri);
	free(d->uuid);
	free(d->name);
	free(d->disk);
	free(d);
}

static int domain_run(void *data, char **err)
{
	const struct domain_data *d = data;
	const struct domain_ref ref = { .uri = d->uri, .uuid = d->uuid, .name = d->name };
	char *const paths[] = { d->disk, NULL };
	int r;

	/* only the domain that uses the disk this run made is ours to remove:
	 * a domain of another UUID, or of this one without that disk, is left
	 * alone */
	r = domain_remove(d->domains, &ref, paths, err);
	if (r == -EPERM) {
		free(*err);
		*err = NULL;
		return 0;
	}
	return r;
}

static char *shell_quoted(const char *s)
{
	char *argv[] = { (char *)s, NULL };

	return strv_join_shell(argv);
}

int undo_prepare_domain(struct undo *u, struct domains *domains, const char *connect, const char *uuid,
			const char *name, const char *disk)
{
	struct domain_data *d = calloc(1, sizeof(*d));
	_cleanup_free_ char *q = NULL;
	const char *id = uuid ? uuid : name;

	if (d) {
		d->domains = domains;
		d->uri = connect && *connect ? strdup(connect) : NULL;
		d->uuid = uuid ? strdup(uuid) : NULL;
		d->name = strdup(name);
		d->disk = strdup(disk);
		if ((connect && *connect && !d->uri) || (uuid && !d->uuid) || !d->name || !d->disk) {
			domain_data_free(d);
			d = NULL;
		}
	}
	q = connect && *connect ? shell_quoted(connect) : strdup("");
	if (!q)
		return undo_prepare_free(u, domain_run, d, domain_data_free, NULL, NULL);
	const char *c = *q ? " -c " : "";
	/* virsh takes a name for an ID or a UUID first: without the UUID,
	 * the advice is to find it */
	if (!uuid)
		return undo_prepare_free(u, domain_run, d, domain_data_free, strdupf("libvirt domain %s", name),
					 strdupf("virsh%s%s list --all --uuid --name (the UUID of the domain named %s), "
						   "then virsh%s%s destroy UUID; virsh%s%s undefine --nvram UUID",
						   c, q, name, c, q, c, q));
	return undo_prepare_free(u, domain_run, d, domain_data_free, strdupf("libvirt domain %s", name),
				 strdupf("virsh%s%s destroy %s; virsh%s%s undefine --nvram %s", c, q, id, c, q, id));
}
