/* SPDX-License-Identifier: MIT */
/* qvm list [--json]: the VMs qvm made - found by the qvm:kind=vm-disk and
 * qvm:vm marks of their disks - with what libvirt knows of each domain
 * (state, vCPUs, memory, address), asked through the libvirt C API on the
 * URI recorded in qvm:connect. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "cleanup.h"
#include "commands.h"
#include "domain.h"
#include "inventory.h"
#include "log.h"
#include "names.h"
#include "settings.h"
#include "size.h"
#include "strv.h"
#include "table.h"
#include "banned.h"

#define TASK "listing virtual machines"

struct vm_row {
	const char *name;
	const struct volume *boot;   /* the disk that boots: qvm:disk 0, else the first */
	char **disks;                /* every disk's dataset */
	uint64_t used;               /* of all its disks */
	struct domain_info info;
	char *ip;
	char *error;                 /* libvirt's, when the domain could not be asked */
};

static int cmp_rows(const void *a, const void *b)
{
	return strcmp(((const struct vm_row *)a)->name, ((const struct vm_row *)b)->name);
}

static int is_boot(const struct volume *v)
{
	return !v->disk || strcmp(v->disk, "0") == 0;
}

/* One row per VM name, in name order. */
static int collect(const struct inventory *inv, struct vm_row **out, size_t *n)
{
	struct vm_row *rows = NULL;
	size_t nrows = 0;

	for (size_t i = 0; i < inv->n; i++) {
		const struct volume *v = &inv->v[i];
		struct vm_row *row = NULL;

		const char *why;
		/* qvm names its VMs by the rules of vm_name_valid: a mark with
		 * another name (control characters for the terminal) is not its */
		if (!volume_is_disk_of(v, NULL) || !vm_name_valid(v->vm, &why))
			continue;
		for (size_t j = 0; j < nrows; j++)
			if (strcmp(rows[j].name, v->vm) == 0)
				row = &rows[j];
		if (!row) {
			struct vm_row *nr = realloc(rows, (nrows + 1) * sizeof(*nr));
			if (!nr)
				goto enomem;
			rows = nr;
			row = &rows[nrows++];
			memset(row, 0, sizeof(*row));
			row->name = v->vm;
		}
		row->used += v->used;
		if (!row->boot || (is_boot(v) && !is_boot(row->boot)))
			row->boot = v;
		if (strv_push(&row->disks, v->name) < 0)
			goto enomem;
	}
	if (nrows)
		qsort(rows, nrows, sizeof(*rows), cmp_rows);
	*out = rows;
	*n = nrows;
	return 0;
enomem:
	for (size_t j = 0; j < nrows; j++)
		strv_free(rows[j].disks);
	free(rows);
	return -ENOMEM;
}

static void rows_free(struct vm_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		strv_free(rows[i].disks);
		free(rows[i].ip);
		free(rows[i].error);
	}
	free(rows);
}

/* The disks, boot disk first, joined with sep. */
static char *disks_text(const struct vm_row *row, const char *sep)
{
	_cleanup_strv_free_ char **v = NULL;

	if (strv_push(&v, row->boot->name) < 0)
		return NULL;
	for (size_t i = 0; row->disks[i]; i++)
		if (strcmp(row->disks[i], row->boot->name) != 0 && strv_push(&v, row->disks[i]) < 0)
			return NULL;
	return strv_join(v, sep);
}

/* What libvirt knows of each VM. A URI that cannot be reached is reported
 * per VM, not as a failure of the whole listing. */
static void ask_libvirt(struct vm_row *rows, size_t n)
{
	_cleanup_(domains_freep) struct domains *d = domains_new(true);

	for (size_t i = 0; i < n; i++) {
		struct vm_row *row = &rows[i];
		char *err = NULL;

		if (!d) {
			row->info.state = "unknown";
			continue;
		}
		const struct domain_ref ref = { .uri = row->boot->connect, .uuid = row->boot->uuid, .name = row->name };
		_cleanup_strv_free_ char **paths = NULL;
		/* a domain is this VM's only if it uses its disks or seed */
		for (size_t j = 0; row->disks && row->disks[j]; j++)
			if (strv_consume(&paths, settings_zvol_device(row->disks[j])) < 0)
				paths = NULL;
		if (strv_pushf(&paths, "%s/%s/seed.iso", settings_state_dir(), row->name) < 0) {
			row->info.state = "unknown";
			continue;
		}
		if (domain_info_get(d, &ref, paths, &row->info, &err) < 0) {
			row->info.state = "unknown";
			row->error = err;
			continue;
		}
		if (row->info.defined && !row->info.uses_path) {
			row->info.defined = false;
			row->info.state = "undefined";
			if (asprintf(&row->error, "the domain %s on %s uses none of its disks: not shown",
				     ref.uuid ? ref.uuid : row->name, ref.uri ? ref.uri : "the default URI") < 0)
				row->error = NULL;
			continue;
		}
		if (row->info.defined && domain_ip(d, &ref, DOMAIN_IP_LEASE,
						   &row->ip, &err) < 0)
			free(err);
	}
}

static const char *state_text(const struct vm_row *row)
{
	/* a disk still being made: its run did not finish (or is running) */
	if (!row->info.defined && row->boot->state && strcmp(row->boot->state, "creating") == 0)
		return "creating";
	return row->info.state;
}

static json_object *json_str(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static int print_json(const struct vm_row *rows, size_t n)
{
	json_object *arr = json_object_new_array();

	if (!arr)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct vm_row *row = &rows[i];
		json_object *o = json_object_new_object(), *disks = json_object_new_array();

		if (!o || !disks) {
			json_object_put(o);
			json_object_put(disks);
			json_object_put(arr);
			return -ENOMEM;
		}
		json_object_array_add(disks, json_object_new_string(row->boot->name));
		for (size_t j = 0; row->disks[j]; j++)
			if (strcmp(row->disks[j], row->boot->name) != 0)
				json_object_array_add(disks, json_object_new_string(row->disks[j]));
		json_object_object_add(o, "name", json_object_new_string(row->name));
		json_object_object_add(o, "state", json_object_new_string(state_text(row)));
		json_object_object_add(o, "vcpus", row->info.defined ? json_object_new_int64(row->info.vcpus) : NULL);
		json_object_object_add(o, "memory",
				       row->info.defined ? json_object_new_int64((int64_t)(row->info.memory_kib * 1024)) : NULL);
		json_object_object_add(o, "disk", json_object_new_string(row->boot->name));
		json_object_object_add(o, "disks", disks);
		json_object_object_add(o, "base", json_str(row->boot->origin));
		json_object_object_add(o, "used", json_object_new_int64((int64_t)row->used));
		json_object_object_add(o, "ip", json_str(row->ip));
		json_object_object_add(o, "connect", json_str(row->boot->connect));
		json_object_object_add(o, "uuid", json_str(row->boot->uuid));
		if (row->error)
			json_object_object_add(o, "error", json_object_new_string(row->error));
		json_object_array_add(arr, o);
	}
	puts(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
						  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(arr);
	return 0;
}

static int print_table(const struct vm_row *rows, size_t n)
{
	static const char *const headers[] = { "NAME", "STATE", ">VCPUS", ">MEMORY", "DISK", "BASE",
					       ">USED", "IP" };
	_cleanup_(table_freep) struct table *t = table_new(8, headers);

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct vm_row *row = &rows[i];
		char vcpus[16] = "-", mem[32] = "-", used[32];
		_cleanup_free_ char *disks = disks_text(row, ",");

		if (!disks)
			return -ENOMEM;
		if (row->info.defined) {
			snprintf(vcpus, sizeof(vcpus), "%u", row->info.vcpus);
			size_format(row->info.memory_kib * 1024, mem, sizeof(mem));
		}
		size_format(row->used, used, sizeof(used));
		const char *cells[] = { row->name, state_text(row), vcpus, mem, disks, row->boot->origin,
					used, row->ip };
		if (table_add(t, cells) < 0)
			return -ENOMEM;
	}
	table_print(t, stdout);
	return 0;
}

int cmd_list(int argc, char **argv, const struct cmd_opts *opts)
{
	struct inventory inv;
	_cleanup_free_ char *err = NULL;
	struct vm_row *rows = NULL;
	size_t n = 0;
	int r;

	(void)argc;
	(void)argv;
	r = inventory_load(&inv, &err);
	if (r < 0)
		return log_error(TASK, "cannot list zvols: %s", err ? err : strerror(-r));
	r = collect(&inv, &rows, &n);
	if (r == 0) {
		ask_libvirt(rows, n);
		for (size_t i = 0; i < n; i++)
			if (rows[i].error)
				fprintf(stderr, "qvm: warning: VM %s: %s\n", rows[i].name, rows[i].error);
		r = opt_has(opts, OPT_JSON) ? print_json(rows, n) : print_table(rows, n);
	}
	rows_free(rows, n);
	inventory_clear(&inv);
	if (r < 0)
		return log_error(TASK, "%s", strerror(-r));
	return 0;
}
