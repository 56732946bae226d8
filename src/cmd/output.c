/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>

#include "cleanup.h"
#include "log.h"
#include "output.h"
#include "banned.h"

json_object *json_str(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

int print_json_rows(size_t n, int (*fill)(json_object *o, size_t i, const void *ctx), const void *ctx)
{
	json_object *arr = json_object_new_array();

	if (!arr)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_new_object();
		int r = o ? fill(o, i, ctx) : -ENOMEM;

		if (r < 0) {
			json_object_put(o);
			json_object_put(arr);
			return r;
		}
		if (r > 0)
			json_object_put(o);
		else
			json_object_array_add(arr, o);
	}
	/* '/' unescaped: paths and URLs read as written */
	puts(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
						  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(arr);
	return 0;
}

int print_table_rows(size_t ncols, const char *const *headers, size_t n,
		     int (*add_row)(struct table *t, size_t i, const void *ctx), const void *ctx)
{
	_cleanup_(table_freep) struct table *t = table_new(ncols, headers);

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int r = add_row(t, i, ctx);
		if (r < 0)
			return r;
	}
	table_print(t, stdout);
	return 0;
}

int inventory_load_logged(struct inventory *inv, const char *task)
{
	_cleanup_free_ char *err = NULL;
	int r = inventory_load(inv, &err);

	if (r < 0)
		return log_error(task, "cannot list zvols: %s", err ? err : strerror(-r));
	return 0;
}
