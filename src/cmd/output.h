/* SPDX-License-Identifier: MIT */
/* What more than one command prints the same way: the listings' JSON and
 * tables (qvm images, qvm list), and the error of a zvol list that cannot
 * be read. */
#ifndef QVM_OUTPUT_H
#define QVM_OUTPUT_H

#include <stddef.h>
#include <json-c/json.h>

#include "inventory.h"
#include "table.h"

/* A JSON string, or JSON null for NULL. */
json_object *json_str(const char *s);

/* Prints n rows on stdout as a pretty JSON array of objects. fill(o, i,
 * ctx) adds row i's members to o; it returns 0, 1 to leave row i out, or
 * -ENOMEM. Returns 0 or -ENOMEM (nothing printed). */
int print_json_rows(size_t n, int (*fill)(json_object *o, size_t i, const void *ctx), const void *ctx);

/* Prints n rows on stdout as a table of ncols columns (table_new's
 * headers). add_row(t, i, ctx) adds row i with table_add, or nothing to
 * leave it out; 0 or -ENOMEM. Returns 0 or -ENOMEM (nothing printed). */
int print_table_rows(size_t ncols, const char *const *headers, size_t n,
		     int (*add_row)(struct table *t, size_t i, const void *ctx), const void *ctx);

/* inventory_load, its error printed as task's: 0, or -1 after printing. */
int inventory_load_logged(struct inventory *inv, const char *task);

#endif
