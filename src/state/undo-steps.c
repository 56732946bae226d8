/* SPDX-License-Identifier: MIT */
#include <errno.h>
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

int seed_dir_remove(const char *dir, char **err)
{
	static const char *const files[] = { "seed.iso", SEED_CREATING_FILE };
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int e;

	if (dfd < 0) {
		if (errno == ENOENT)
			return 0;
		e = errno;
		*err = strdupf("%s: %s", dir, strerror(e));
		return -e;
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (unlinkat(dfd, files[i], 0) < 0 && errno != ENOENT) {
			e = errno;
			close(dfd);
			*err = strdupf("%s/%s: %s", dir, files[i], strerror(e));
			return -e;
		}
	}
	close(dfd);
	if (rmdir(dir) < 0 && errno != ENOENT) {
		e = errno;
		*err = strdupf("%s: %s", dir, strerror(e));
		return -e;
	}
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
