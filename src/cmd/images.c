/* SPDX-License-Identifier: MIT */
/* qvm images [--json]: the images qvm imported (qvm:kind=image), with
 * their size, space used, source file, checksum (SHA-256 or SHA-512, as
 * verified at import) and number of clones. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "cleanup.h"
#include "commands.h"
#include "inventory.h"
#include "log.h"
#include "msgtext.h"
#include "output.h"
#include "size.h"
#include "table.h"
#include "banned.h"

#define TASK "listing images"

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
	json_object_object_add(o, "state", json_str(v->state));
	return 0;
}

static int image_row(struct table *t, size_t i, const void *ctx)
{
	const struct inventory *inv = ctx;
	const struct volume *v = &inv->v[i];
	char size[32], used[32], clones[24], source[512];
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
	/* a path may hold anything: no control character reaches the terminal */
	if (v->source)
		msg_text(source, sizeof(source), v->source, strlen(v->source));
	const char *cells[] = { name ? name : v->name, size, used, clones, v->source ? source : NULL, sum };
	return table_add(t, cells);
}

int cmd_images(int argc, char **argv, const struct cmd_opts *opts)
{
	/* VOLSIZE: the column zfs list shows it under, the JSON's "volsize" */
	static const char *const headers[] = { "DATASET", ">VOLSIZE", ">USED", ">CLONES", "SOURCE", "CHECKSUM" };
	struct inventory inv;
	int r;

	(void)argc;
	(void)argv;
	if (inventory_load_logged(&inv, TASK) < 0)
		return -1;
	r = opt_has(opts, OPT_JSON) ? print_json_rows(inv.n, image_json, &inv)
				    : print_table_rows(6, headers, inv.n, image_row, &inv);
	inventory_clear(&inv);
	if (r < 0)
		return log_error(TASK, "%s", strerror(-r));
	return 0;
}
