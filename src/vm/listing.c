/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "inventory.h"
#include "listing.h"
#include "marks.h"
#include "names.h"
#include "settings.h"
#include "strv.h"
#include "banned.h"

static int cmp_rows(const void *a, const void *b)
{
	return strcmp(((const struct vm_row *)a)->name, ((const struct vm_row *)b)->name);
}

static int is_boot(const struct volume *v)
{
	return !v->disk || strcmp(v->disk, "0") == 0;
}

/* The boot disk first, the others in the order zfs lists them. */
static void boot_first(struct vm_row *row)
{
	size_t k = 0;
	char *boot;

	while (strcmp(row->disks[k], row->boot->name) != 0)
		k++;
	boot = row->disks[k];
	memmove(&row->disks[1], &row->disks[0], k * sizeof(*row->disks));
	row->disks[0] = boot;
}

static struct vm_row *row_of(struct vm_row **rows, size_t *n, const char *name)
{
	struct vm_row *nr;

	for (size_t j = 0; j < *n; j++)
		if (strcmp((*rows)[j].name, name) == 0)
			return &(*rows)[j];
	nr = realloc(*rows, (*n + 1) * sizeof(*nr));
	if (!nr)
		return NULL;
	*rows = nr;
	memset(&nr[*n], 0, sizeof(*nr));
	nr[*n].name = name;
	return &nr[(*n)++];
}

int vm_rows_collect(const struct inventory *inv, struct vm_row **out, size_t *n)
{
	struct vm_row *rows = NULL;
	size_t nrows = 0;

	for (size_t i = 0; i < inv->n; i++) {
		const struct volume *v = &inv->v[i];
		struct vm_row *row;
		const char *why;

		/* qvm names its VMs by the rules of vm_name_valid: a mark with
		 * another name (control characters for the terminal) is not its */
		if (!volume_is_disk_of(v, NULL) || !vm_name_valid(v->vm, &why))
			continue;
		row = row_of(&rows, &nrows, v->vm);
		if (!row || strv_push(&row->disks, v->name) < 0) {
			vm_rows_free(rows, nrows);
			return -ENOMEM;
		}
		row->used += v->used;
		if (!row->boot || (is_boot(v) && !is_boot(row->boot)))
			row->boot = v;
	}
	for (size_t j = 0; j < nrows; j++)
		boot_first(&rows[j]);
	if (nrows)
		qsort(rows, nrows, sizeof(*rows), cmp_rows);
	*out = rows;
	*n = nrows;
	return 0;
}

void vm_rows_free(struct vm_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		strv_free(rows[i].disks);
		free(rows[i].ip);
		free(rows[i].error);
	}
	free(rows);
}

/* What qvm's domain of the row uses: its disks' devices and its seed. */
static char **row_paths(const struct vm_row *row)
{
	char **paths = NULL;

	for (size_t j = 0; row->disks[j]; j++)
		if (strv_consume(&paths, settings_zvol_device(row->disks[j])) < 0)
			goto enomem;
	if (strv_pushf(&paths, "%s/%s/seed.iso", settings_state_dir(), row->name) < 0)
		goto enomem;
	return paths;
enomem:
	strv_free(paths);
	return NULL;
}

static void ask_one(struct vm_row *row, struct domains *d)
{
	const struct domain_ref ref = { .uri = row->boot->connect, .uuid = row->boot->uuid, .name = row->name };
	_cleanup_strv_free_ char **paths = d ? row_paths(row) : NULL;
	char *err = NULL;

	row->info.state = "unknown";
	if (!paths)
		return;
	if (domain_info_get(d, &ref, paths, &row->info, &err) < 0) {
		row->info.state = "unknown";
		row->error = err;
		return;
	}
	/* a domain is this VM's only if it uses its disks or seed */
	if (row->info.defined && !row->info.uses_path) {
		row->info.defined = false;
		row->info.state = "undefined";
		if (asprintf(&row->error, "the domain %s on %s uses none of its disks: not shown",
			     ref.uuid ? ref.uuid : row->name, ref.uri ? ref.uri : "the default URI") < 0)
			row->error = NULL;
		return;
	}
	if (row->info.defined && domain_ip(d, &ref, DOMAIN_IP_LEASE, &row->ip, &err) < 0)
		free(err);
}

void vm_rows_ask(struct vm_row *rows, size_t n, struct domains *d)
{
	for (size_t i = 0; i < n; i++)
		ask_one(&rows[i], d);
}

const char *vm_row_state(const struct vm_row *row)
{
	if (!row->info.defined && row->boot->state && strcmp(row->boot->state, MARK_STATE_CREATING) == 0)
		return MARK_STATE_CREATING;
	return row->info.state;
}
