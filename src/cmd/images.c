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
#include "size.h"
#include "table.h"
#include "banned.h"

#define TASK "listing images"

static json_object *json_str(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static int print_json(const struct inventory *inv)
{
	json_object *arr = json_object_new_array();

	if (!arr)
		return -ENOMEM;
	for (size_t i = 0; i < inv->n; i++) {
		const struct volume *v = &inv->v[i];
		json_object *o;

		if (!volume_is_image(v))
			continue;
		o = json_object_new_object();
		if (!o) {
			json_object_put(arr);
			return -ENOMEM;
		}
		json_object_object_add(o, "dataset", json_object_new_string(v->name));
		json_object_object_add(o, "volsize", json_object_new_int64((int64_t)v->volsize));
		json_object_object_add(o, "used", json_object_new_int64((int64_t)v->used));
		json_object_object_add(o, "source", json_str(v->source));
		json_object_object_add(o, "sha256", json_str(v->sha256));
		json_object_object_add(o, "sha512", json_str(v->sha512));
		json_object_object_add(o, "clones", json_object_new_int64((int64_t)inventory_clones(inv, v->name)));
		json_object_object_add(o, "state", json_str(v->state));
		json_object_array_add(arr, o);
	}
	puts(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
						  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(arr);
	return 0;
}

static int print_table(const struct inventory *inv)
{
	static const char *const headers[] = { "DATASET", ">SIZE", ">USED", ">CLONES", "SOURCE", "CHECKSUM" };
	_cleanup_(table_freep) struct table *t = table_new(6, headers);

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < inv->n; i++) {
		const struct volume *v = &inv->v[i];
		char size[32], used[32], clones[24], source[512];
		_cleanup_free_ char *name = NULL, *sum = NULL;

		if (!volume_is_image(v))
			continue;
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
		if (table_add(t, cells) < 0)
			return -ENOMEM;
	}
	table_print(t, stdout);
	return 0;
}

int cmd_images(int argc, char **argv, const struct cmd_opts *opts)
{
	struct inventory inv;
	_cleanup_free_ char *err = NULL;
	int r;

	(void)argc;
	(void)argv;
	r = inventory_load(&inv, &err);
	if (r < 0)
		return log_error(TASK, "cannot list zvols: %s", err ? err : strerror(-r));
	r = opt_has(opts, OPT_JSON) ? print_json(&inv) : print_table(&inv);
	inventory_clear(&inv);
	if (r < 0)
		return log_error(TASK, "%s", strerror(-r));
	return 0;
}
