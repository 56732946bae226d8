/* SPDX-License-Identifier: MIT */
/* qvm images [--json]: the images qvm imported (qvm:kind=image), with
 * their size, space used, number of clones, osinfo name and login user,
 * source file and checksum (SHA-256 or SHA-512, as verified at import).
 * qvm images --available [--json]: the images of the catalog (catalog.h),
 * by name, for qvm import NAME ZVOL.
 * qvm images copy IMAGE [USER@]HOST[:DATASET]: an image of this host
 * replicated to another (copy.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "catalog.h"
#include "copy.h"
#include "hosts.h"
#include "cleanup.h"
#include "commands.h"
#include "fleet.h"
#include "inventory.h"
#include "log.h"
#include "output.h"
#include "remote.h"
#include "size.h"
#include "strv.h"
#include "table.h"
#include "banned.h"

#define TASK "listing images"
#define TASK_COPY "copying image"

static int image_json(json_object *o, size_t i, const void *ctx)
{
	const struct inventory *inv = ctx;
	const struct volume *v = &inv->v[i];

	if (!volume_is_image(v))
		return 1;
	json_object_object_add(o, "dataset", json_object_new_string(v->name));
	json_object_object_add(o, "volsize", json_object_new_int64((int64_t)v->volsize));
	json_object_object_add(o, "used", json_object_new_int64((int64_t)v->used));
	json_object_object_add(o, "source", json_str(v->source));
	json_object_object_add(o, "sha256", json_str(v->sha256));
	json_object_object_add(o, "sha512", json_str(v->sha512));
	json_object_object_add(o, "clones", json_object_new_int64((int64_t)inventory_clones(inv, v->name)));
	json_object_object_add(o, "osinfo", json_str(v->osinfo));
	json_object_object_add(o, "user", json_str(v->user));
	json_object_object_add(o, "state", json_str(v->state));
	return 0;
}

static int image_row(struct table *t, size_t i, const void *ctx)
{
	const struct inventory *inv = ctx;
	const struct volume *v = &inv->v[i];
	char size[32], used[32], clones[24];
	_cleanup_free_ char *name = NULL, *sum = NULL;

	if (!volume_is_image(v))
		return 0;
	/* an import that has not finished is no image to clone yet */
	if (v->state && strcmp(v->state, "creating") == 0) {
		if (asprintf(&name, "%s (creating)", v->name) < 0)
			return -ENOMEM;
	}
	/* the digest verified at import, with its algorithm */
	if ((v->sha512 || v->sha256) &&
	    asprintf(&sum, "%s:%s", v->sha512 ? "sha512" : "sha256", v->sha512 ? v->sha512 : v->sha256) < 0)
		return -ENOMEM;
	size_format(v->volsize, size, sizeof(size));
	size_format(v->used, used, sizeof(used));
	snprintf(clones, sizeof(clones), "%zu", inventory_clones(inv, v->name));
	const char *cells[] = { name ? name : v->name, size, used, clones, v->osinfo, v->user, v->source, sum };
	return table_add(t, cells);
}

static int available_json(json_object *o, size_t i, const void *ctx)
{
	const struct catalog_entry *e = &((const struct catalog *)ctx)->e[i];
	json_object *os = json_object_new_array();

	if (!os)
		return -ENOMEM;
	for (size_t k = 0; e->osinfo[k]; k++)
		json_object_array_add(os, json_object_new_string(e->osinfo[k]));
	json_object_object_add(o, "name", json_object_new_string(e->name));
	json_object_object_add(o, "osinfo", os);
	json_object_object_add(o, "user", json_object_new_string(e->user));
	json_object_object_add(o, "arch", json_object_new_string(e->arch));
	json_object_object_add(o, "url", json_object_new_string(e->url));
	json_object_object_add(o, "checksum", json_object_new_string(e->checksum));
	json_object_object_add(o, "defined", json_object_new_string(e->where));
	return 0;
}

static int available_row(struct table *t, size_t i, const void *ctx)
{
	const struct catalog_entry *e = &((const struct catalog *)ctx)->e[i];
	/* the candidates in order: the first the host knows is recorded */
	_cleanup_free_ char *os = strv_join(e->osinfo, ",");
	const char *cells[] = { e->name, os, e->user, e->arch, e->url };

	return os ? table_add(t, cells) : -ENOMEM;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct catalog_entry *)a)->name, ((const struct catalog_entry *)b)->name);
}

/* The catalog, by name. Its values were checked when it was read: names,
 * osinfo names, users and machine names of a few plain characters, URLs
 * without control characters or white space. */
static int list_available(const struct cmd_opts *opts)
{
	static const char *const headers[] = { "NAME", "OSINFO", "USER", "ARCH", "URL" };
	_cleanup_free_ char *err = NULL;
	struct catalog cat;
	int r;

	r = catalog_load(&cat, &err);
	if (r < 0) {
		catalog_clear(&cat);
		return log_error(TASK, "cannot read the image catalog: %s", err ? err : strerror(-r));
	}
	if (cat.n)
		qsort(cat.e, cat.n, sizeof(cat.e[0]), cmp_entry);
	r = opt_has(opts, OPT_JSON) ? print_json_rows(cat.n, available_json, &cat)
				    : print_table_rows(5, headers, cat.n, available_row, &cat);
	catalog_clear(&cat);
	if (r < 0)
		return log_error(TASK, "%s", strerror(-r));
	return 0;
}

/* [USER@]HOST[:PORT][:DATASET] or NAME[:DATASET] (a hosts-file name):
 * the host part into *host, DATASET (or NULL) into *dataset, both
 * malloc'd. A colon followed by digits alone is the port (no dataset
 * name is a number: a pool's starts with a letter). */
static int split_target(const char *text, char **host, char **dataset)
{
	const char *p = text, *colon;

	*host = *dataset = NULL;
	if (*p == '[' || strchr(p, '@')) {
		const char *at = strchr(p, '@');
		/* the user part, then an IPv6 address in brackets */
		if (at)
			p = at + 1;
		if (*p == '[' && (p = strchr(p, ']')) == NULL)
			p = text + strlen(text);
	}
	colon = strchr(p, ':');
	if (colon && colon[1] && strspn(colon + 1, "0123456789") == strcspn(colon + 1, ":"))
		colon = strchr(colon + 1, ':');
	if (!(*host = strndup(text, colon ? (size_t)(colon - text) : strlen(text))))
		return -ENOMEM;
	if (colon && !(*dataset = strdup(colon + 1))) {
		free(TAKE_PTR(*host));
		return -ENOMEM;
	}
	return 0;
}

/* qvm images copy IMAGE [USER@]HOST[:DATASET] */
static int copy_image(const char *image, const char *target, const struct cmd_opts *opts)
{
	struct copy_request req = {
		.image = image,
		.live = !opt_has(opts, OPT_QUIET) && log_can_redraw(),
	};
	_cleanup_free_ char *host = NULL, *dataset = NULL, *err = NULL;
	struct copy *c;
	int r;

	log_set_quiet(opt_has(opts, OPT_QUIET));
	if (opt_has(opts, OPT_HOST))
		return log_error(TASK_COPY, "qvm images copy copies from this host to the host it names: "
				 "--host is not taken");
	if (opt_has(opts, OPT_JSON) || opt_has(opts, OPT_AVAILABLE) || opt_has(opts, OPT_ALL_HOSTS))
		return log_error(TASK_COPY, "--json, --available and --all-hosts are for listing images, not for copy");
	if (split_target(target, &host, &dataset) < 0)
		return log_error(TASK_COPY, "%s", strerror(ENOMEM));
	if (dataset && !*dataset)
		return log_error(TASK_COPY, "'%s' names no dataset after ':' (HOST or HOST:DATASET)", target);
	req.dataset = dataset;
	if (!(c = copy_new(&req)))
		return log_error(TASK_COPY, "%s", strerror(ENOMEM));
	/* the image is checked here before the host is opened */
	r = copy_check_here(c, &log_report, &err);
	if (r == 0 && cmd_host_open(host) < 0) {
		copy_end(c);
		return -1;
	}
	if (r == 0)
		r = copy_check_there(c, &log_report, &err);
	if (r == 0)
		r = copy_run(c, &log_report, &err);
	if (r < 0)
		log_error(TASK_COPY, "%s", err ? err : strerror(ENOMEM));
	else
		log_step("Copied %s to %s as %s", image, remote_current()->name, dataset ? dataset : image);
	/* after the error is told: what a failed copy left and cannot resume, removed */
	copy_end(c);
	return r < 0 ? -1 : 0;
}

/* A host's row of qvm images --all-hosts, from its qvm images --json
 * object: the columns of the table below, HOST first. */
static int image_fleet_row(struct table *t, const char *host, json_object *o)
{
	char size[32], used[32], clones[24];
	_cleanup_free_ char *name = NULL, *sum = NULL;
	const char *ds = fleet_text(o, "dataset"), *st = fleet_text(o, "state");
	const char *sha, *digest = NULL;

	if (ds && st && strcmp(st, "creating") == 0 && asprintf(&name, "%s (creating)", ds) < 0)
		return -ENOMEM;
	if ((sha = fleet_text(o, "sha512")))
		digest = "sha512";
	else if ((sha = fleet_text(o, "sha256")))
		digest = "sha256";
	if (digest && !(sum = strdupf("%s:%s", digest, sha)))
		return -ENOMEM;
	const char *cells[] = { host, name ? name : ds, fleet_size(o, "volsize", size, sizeof(size)),
				fleet_size(o, "used", used, sizeof(used)),
				fleet_number(o, "clones", clones, sizeof(clones)),
				fleet_text(o, "osinfo"), fleet_text(o, "user"), fleet_text(o, "source"), sum };
	return table_add(t, cells);
}

int cmd_images(int argc, char **argv, const struct cmd_opts *opts)
{
	/* VOLSIZE: the column zfs list shows it under, the JSON's "volsize" */
	static const char *const headers[] = { "DATASET", ">VOLSIZE", ">USED", ">CLONES", "OSINFO", "USER",
					       "SOURCE", "CHECKSUM" };
	static const char *const fleet_headers[] = { "HOST", "DATASET", ">VOLSIZE", ">USED", ">CLONES", "OSINFO",
						     "USER", "SOURCE", "CHECKSUM" };
	struct inventory inv;
	int r;

	if (argc > 0 && strcmp(argv[0], "copy") == 0 && argc == 3)
		return copy_image(argv[1], argv[2], opts);
	if (argc > 0 && strcmp(argv[0], "copy") == 0)
		return log_error(TASK_COPY, "'images copy' takes 2 arguments (IMAGE [USER@]HOST[:DATASET])");
	if (argc > 0)
		return log_error(TASK, "unknown images command '%s' (qvm images lists; qvm images copy IMAGE HOST "
				 "copies)", argv[0]);
	if (opt_has(opts, OPT_QUIET))
		return log_error(TASK, "-q/--quiet is for qvm images copy");
	if (opt_has(opts, OPT_AVAILABLE) && opt_has(opts, OPT_ALL_HOSTS))
		return log_error(TASK, "--available lists this host's image catalog: it does not go with --all-hosts");
	if (opt_has(opts, OPT_AVAILABLE))
		return list_available(opts);
	if (opt_has(opts, OPT_ALL_HOSTS))
		return fleet_listing(TASK, "images", opt_has(opts, OPT_JSON), 9, fleet_headers, image_fleet_row);
	if (inventory_load_logged(&inv, TASK) < 0)
		return -1;
	r = opt_has(opts, OPT_JSON) ? print_json_rows(inv.n, image_json, &inv)
				    : print_table_rows(8, headers, inv.n, image_row, &inv);
	inventory_clear(&inv);
	if (r < 0)
		return log_error(TASK, "%s", strerror(-r));
	return 0;
}
