/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "msgtext.h"
#include "strv.h"
#include "table.h"
#include "banned.h"

struct table {
	size_t ncols;
	char **cells;                /* row-major, header row first */
	bool *right;
};

struct table *table_new(size_t ncols, const char *const *headers)
{
	struct table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->ncols = ncols;
	t->right = calloc(ncols, sizeof(*t->right));
	if (!t->right) {
		table_free(t);
		return NULL;
	}
	for (size_t i = 0; i < ncols; i++) {
		const char *h = headers[i];
		t->right[i] = h[0] == '>';
		if (strv_push(&t->cells, h + t->right[i]) < 0) {
			table_free(t);
			return NULL;
		}
	}
	return t;
}

int table_add(struct table *t, const char *const *cells)
{
	/* a cell is what zfs, libvirt or another host said: escaped here,
	 * once for every table, and measured as it is printed */
	for (size_t i = 0; i < t->ncols; i++)
		if (strv_consume(&t->cells, cells[i] ? msg_text_dup(cells[i], strlen(cells[i]), false)
						      : strdup("-")) < 0)
			return -ENOMEM;
	return 0;
}

void table_print(const struct table *t, FILE *f)
{
	size_t n = strv_length(t->cells), *width = calloc(t->ncols, sizeof(*width));

	if (!width)
		return;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(t->cells[i]);
		if (len > width[i % t->ncols])
			width[i % t->ncols] = len;
	}
	for (size_t i = 0; i < n; i++) {
		size_t col = i % t->ncols;
		bool last = col == t->ncols - 1;
		int w = (int)width[col];

		if (t->right[col])
			fprintf(f, "%*s", w, t->cells[i]);
		else if (last)
			fputs(t->cells[i], f);
		else
			fprintf(f, "%-*s", w, t->cells[i]);
		fputs(last ? "\n" : "  ", f);
	}
	free(width);
}

void table_free(struct table *t)
{
	if (!t)
		return;
	strv_free(t->cells);
	free(t->right);
	free(t);
}
