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
#include "inventory.h"
#include "listing.h"
#include "log.h"
#include "size.h"
#include "strv.h"
#include "table.h"
#include "banned.h"

#define TASK "listing virtual machines"

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
		for (size_t j = 0; row->disks[j]; j++)
			json_object_array_add(disks, json_object_new_string(row->disks[j]));
		json_object_object_add(o, "name", json_object_new_string(row->name));
		json_object_object_add(o, "state", json_object_new_string(vm_row_state(row)));
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
	r = vm_rows_collect(&inv, &rows, &n);
	if (r == 0) {
		_cleanup_(domains_freep) struct domains *d = domains_new(true);
		vm_rows_ask(rows, n, d);
		for (size_t i = 0; i < n; i++)
			if (rows[i].error)
				log_warning("VM %s: %s", rows[i].name, rows[i].error);
		r = opt_has(opts, OPT_JSON) ? print_json(rows, n) : print_table(rows, n);
	}
	vm_rows_free(rows, n);
	inventory_clear(&inv);
	if (r < 0)
		return log_error(TASK, "%s", strerror(-r));
	return 0;
}
