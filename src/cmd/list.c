/* SPDX-License-Identifier: MIT */
/* qvm list [--json]: the VMs qvm made, with what libvirt knows of each
 * domain (the rows: src/vm/listing.h), as a table or JSON. */
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
#include "fleet.h"
#include "inventory.h"
#include "listing.h"
#include "log.h"
#include "output.h"
#include "size.h"
#include "strv.h"
#include "table.h"
#include "banned.h"

#define TASK "listing virtual machines"

static int vm_json(json_object *o, size_t i, const void *ctx)
{
	const struct vm_row *row = (const struct vm_row *)ctx + i;
	json_object *disks = json_object_new_array();

	if (!disks)
		return -ENOMEM;
	for (size_t j = 0; row->disks[j]; j++)
		json_object_array_add(disks, json_object_new_string(row->disks[j]));
	json_object_object_add(o, "name", json_object_new_string(row->name));
	json_object_object_add(o, "state", json_object_new_string(vm_row_state(row)));
	json_object_object_add(o, "vcpus", row->info.defined ? json_object_new_int64(row->info.vcpus) : NULL);
	json_object_object_add(o, "memory",
			       row->info.defined ? json_object_new_int64((int64_t)(row->info.memory_kib * 1024)) : NULL);
	/* the boot disk first (no "disk" beside it: one name, one meaning) */
	json_object_object_add(o, "disks", disks);
	json_object_object_add(o, "base", json_str(row->boot->origin));
	json_object_object_add(o, "used", json_object_new_int64((int64_t)row->used));
	json_object_object_add(o, "ip", json_str(row->ip));
	json_object_object_add(o, "connect", json_str(row->boot->connect));
	json_object_object_add(o, "uuid", json_str(row->boot->uuid));
	if (row->error)
		json_object_object_add(o, "error", json_object_new_string(row->error));
	return 0;
}

static int vm_table_row(struct table *t, size_t i, const void *ctx)
{
	const struct vm_row *row = (const struct vm_row *)ctx + i;
	char vcpus[16] = "-", mem[32] = "-", used[32];
	_cleanup_free_ char *disks = strv_join(row->disks, ",");

	if (!disks)
		return -ENOMEM;
	if (row->info.defined) {
		snprintf(vcpus, sizeof(vcpus), "%u", row->info.vcpus);
		size_format(row->info.memory_kib * 1024, mem, sizeof(mem));
	}
	size_format(row->used, used, sizeof(used));
	const char *cells[] = { row->name, vm_row_state(row), vcpus, mem, disks, row->boot->origin,
				used, row->ip };
	return table_add(t, cells);
}

/* One warning per distinct problem, naming every VM it touches: an
 * unreachable libvirt is one line, not one a VM. */
static void warn_rows(const struct vm_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		_cleanup_strv_free_ char **names = NULL;
		_cleanup_free_ char *joined = NULL;
		bool told = false;

		for (size_t j = 0; j < i && !told && rows[i].error; j++)
			told = rows[j].error && strcmp(rows[j].error, rows[i].error) == 0;
		if (!rows[i].error || told)
			continue;
		for (size_t j = i; j < n; j++)
			if (rows[j].error && strcmp(rows[j].error, rows[i].error) == 0 &&
			    strv_push(&names, rows[j].name) < 0)
				break;
		joined = strv_join(names, ", ");
		log_warning("VM%s %s: %s", strv_length(names) > 1 ? "s" : "", joined ? joined : rows[i].name,
			    rows[i].error);
	}
}

/* A host's row of qvm list --all-hosts, from its qvm list --json object:
 * the columns of the table above, HOST first. */
static int vm_fleet_row(struct table *t, const char *host, json_object *o)
{
	char vcpus[24], mem[32], used[32];
	_cleanup_strv_free_ char **disks = NULL;
	_cleanup_free_ char *joined = NULL;
	json_object *arr;

	if (json_object_object_get_ex(o, "disks", &arr) && json_object_is_type(arr, json_type_array))
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			json_object *d = json_object_array_get_idx(arr, i);
			if (!json_object_is_type(d, json_type_string))
				continue;
			if (strv_push(&disks, json_object_get_string(d)) < 0)
				return -ENOMEM;
		}
	if (disks && !(joined = strv_join(disks, ",")))
		return -ENOMEM;
	const char *cells[] = { host, fleet_text(o, "name"), fleet_text(o, "state"),
				fleet_number(o, "vcpus", vcpus, sizeof(vcpus)), fleet_size(o, "memory", mem, sizeof(mem)),
				joined, fleet_text(o, "base"), fleet_size(o, "used", used, sizeof(used)),
				fleet_text(o, "ip") };
	return table_add(t, cells);
}

int cmd_list(int argc, char **argv, const struct cmd_opts *opts)
{
	static const char *const headers[] = { "NAME", "STATE", ">VCPUS", ">MEMORY", "DISK", "BASE",
					       ">USED", "IP" };
	static const char *const fleet_headers[] = { "HOST", "NAME", "STATE", ">VCPUS", ">MEMORY", "DISK", "BASE",
						     ">USED", "IP" };
	struct inventory inv;
	struct vm_row *rows = NULL;
	size_t n = 0;
	int r;

	(void)argc;
	(void)argv;
	if (opt_has(opts, OPT_ALL_HOSTS))
		return fleet_listing(TASK, "list", opt_has(opts, OPT_JSON), 9, fleet_headers, vm_fleet_row);
	if (inventory_load_logged(&inv, TASK) < 0)
		return -1;
	r = vm_rows_collect(&inv, &rows, &n);
	if (r == 0) {
		_cleanup_(domains_freep) struct domains *d = domains_new(true);
		vm_rows_ask(rows, n, d);
		warn_rows(rows, n);
		r = opt_has(opts, OPT_JSON) ? print_json_rows(n, vm_json, rows)
					    : print_table_rows(8, headers, n, vm_table_row, rows);
	}
	vm_rows_free(rows, n);
	inventory_clear(&inv);
	if (r < 0)
		return log_error(TASK, "%s", strerror(-r));
	return 0;
}
