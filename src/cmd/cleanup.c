/* SPDX-License-Identifier: MIT */
/* qvm cleanup [--yes]: finds what interrupted qvm runs left behind - zvols
 * still marked qvm:state=creating and seed directories still holding
 * .qvm-creating - and removes them after confirmation. Never touches a
 * dataset without qvm's marks, nor anything of a run still in progress. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "commands.h"
#include "domain.h"
#include "inventory.h"
#include "log.h"
#include "marks.h"
#include "process.h"
#include "settings.h"
#include "strv.h"
#include "undo-steps.h"
#include "zfs.h"
#include "banned.h"

#define TASK "cleaning up"

struct leftover {
	char *dataset;      /* NULL for a seed directory alone */
	char *kind;         /* image | vm-disk */
	char *vm;           /* for vm-disk and seed directories */
	char *connect;
	char *uuid;         /* its domain's, when recorded */
	char *seed_dir;     /* seed directory to remove, or NULL */
};

struct leftovers {
	struct leftover *items;
	size_t n;
	char **ready_vms;   /* VMs whose disk is complete: their seed stays */
};

static void leftovers_clear(struct leftovers *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].dataset);
		free(l->items[i].kind);
		free(l->items[i].vm);
		free(l->items[i].connect);
		free(l->items[i].uuid);
		free(l->items[i].seed_dir);
	}
	free(l->items);
	strv_free(l->ready_vms);
}

static int leftovers_add(struct leftovers *l, struct leftover item)
{
	struct leftover *n = realloc(l->items, (l->n + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	l->items = n;
	l->items[l->n++] = item;
	return 0;
}

/* Volumes marked creating (on themselves) whose run is over. */
static int find_datasets(struct leftovers *l)
{
	_cleanup_free_ char *err = NULL;
	struct inventory inv;
	int r;

	r = inventory_load(&inv, &err);
	if (r < 0)
		return log_error(TASK, "cannot list zvols: %s", err ? err : strerror(-r));
	for (size_t i = 0; i < inv.n && r == 0; i++) {
		const struct volume *v = &inv.v[i];
		if (!v->kind || (strcmp(v->kind, "image") != 0 && strcmp(v->kind, "vm-disk") != 0))
			continue;       /* not qvm's */
		if (v->state && strcmp(v->state, MARK_STATE_READY) == 0) {
			if (v->vm)
				r = strv_push(&l->ready_vms, v->vm);
			continue;
		}
		if (!v->state || strcmp(v->state, MARK_STATE_CREATING) != 0 || (v->run && marks_run_alive(v->run)))
			continue;
		struct leftover item = {
			.dataset = strdup(v->name), .kind = strdup(v->kind),
			.vm = v->vm ? strdup(v->vm) : NULL, .connect = v->connect ? strdup(v->connect) : NULL,
			.uuid = v->uuid ? strdup(v->uuid) : NULL,
		};
		if (!item.dataset || !item.kind || (v->vm && !item.vm) || (v->connect && !item.connect) ||
		    (v->uuid && !item.uuid) || leftovers_add(l, item) < 0) {
			free(item.dataset);
			free(item.kind);
			free(item.vm);
			free(item.connect);
			free(item.uuid);
			r = -ENOMEM;
		}
	}
	inventory_clear(&inv);
	return r < 0 ? log_error(TASK, "%s", strerror(-r)) : 0;
}

/* Seed directories still marked .qvm-creating whose run is over. */
static int find_seed_dirs(struct leftovers *l)
{
	const char *state_dir = settings_state_dir();
	DIR *d = opendir(state_dir);
	struct dirent *e;

	if (!d)
		return errno == ENOENT ? 0 : log_error(TASK, "cannot read %s: %s", state_dir, strerror(errno));
	while ((e = readdir(d))) {
		_cleanup_free_ char *dir = NULL;
		char run[128];
		struct leftover *owner = NULL;

		if (e->d_name[0] == '.')
			continue;
		if (asprintf(&dir, "%s/%s", state_dir, e->d_name) < 0)
			break;
		if (marks_seed_run(dir, run, sizeof(run)) < 0 || marks_run_alive(run))
			continue;
		for (size_t i = 0; i < l->n; i++)
			if (l->items[i].vm && strcmp(l->items[i].vm, e->d_name) == 0)
				owner = &l->items[i];
		if (owner) {
			owner->seed_dir = TAKE_PTR(dir);
			continue;
		}
		struct leftover item = { .vm = strdup(e->d_name), .seed_dir = TAKE_PTR(dir) };
		if (!item.vm || leftovers_add(l, item) < 0) {
			free(item.vm);
			free(item.seed_dir);
			closedir(d);
			return log_error(TASK, "%s", strerror(ENOMEM));
		}
	}
	closedir(d);
	return 0;
}

static int is_ready_vm(const struct leftovers *l, const char *vm)
{
	for (size_t i = 0; l->ready_vms && l->ready_vms[i]; i++)
		if (strcmp(l->ready_vms[i], vm) == 0)
			return 1;
	return 0;
}

static int confirm(size_t n)
{
	char answer[16];

	if (!isatty(STDIN_FILENO))
		return 0;
	printf("Remove %zu leftover%s? [y/N] ", n, n == 1 ? "" : "s");
	fflush(stdout);
	if (!fgets(answer, sizeof(answer), stdin))
		return 0;
	return answer[0] == 'y' || answer[0] == 'Y';
}

/* Runs one undo step now, reporting its outcome. 0 or -1. */
static int remove_now(struct undo *u)
{
	return undo_rollback(u) == 0 ? 0 : -1;
}

static int remove_leftover(const struct leftovers *l, const struct leftover *item, struct domains *domains)
{
	struct undo u = { 0 };
	int failed = 0;

	/* a seed of a VM whose disk is complete only lost its marker */
	if (!item->dataset && item->vm && is_ready_vm(l, item->vm)) {
		_cleanup_free_ char *marker = NULL;
		if (asprintf(&marker, "%s/%s", item->seed_dir, SEED_CREATING_FILE) < 0 ||
		    unlink(marker) < 0)
			return log_error(TASK, "cannot remove %s: %s", marker ? marker : item->seed_dir,
					 strerror(errno));
		log_step("Kept seed directory %s of VM %s (its disk is complete)", item->seed_dir, item->vm);
		return 0;
	}
	/* the journal runs newest first: the domain goes before the disk it
	 * uses and the seed it reads */
	if (item->dataset) {
		if (undo_prepare_destroy(&u, item->dataset, 1) < 0)
			return log_error(TASK, "%s", strerror(ENOMEM));
		undo_arm(&u);
	}
	if (item->seed_dir) {
		if (undo_prepare_seed_dir(&u, item->seed_dir) < 0)
			return log_error(TASK, "%s", strerror(ENOMEM));
		undo_arm(&u);
	}
	if (item->dataset && strcmp(item->kind, "vm-disk") == 0 && item->vm) {
		_cleanup_free_ char *device = settings_zvol_device(item->dataset);
		if (!device || undo_prepare_domain(&u, domains, item->connect, item->uuid, item->vm, device) < 0)
			return log_error(TASK, "%s", strerror(ENOMEM));
		undo_arm(&u);
	}
	failed = remove_now(&u);
	if (failed == 0)
		log_step("Removed %s%s%s", item->dataset ? item->dataset : item->seed_dir,
			 item->dataset && item->seed_dir ? " and " : "",
			 item->dataset && item->seed_dir ? item->seed_dir : "");
	return failed;
}

int cmd_cleanup(int argc, char **argv, const struct cmd_opts *opts)
{
	struct leftovers l = { 0 };
	_cleanup_(domains_freep) struct domains *domains = domains_new(false);
	int failed = 0;

	(void)argc;
	(void)argv;
	if (!domains)
		return log_error(TASK, "%s", strerror(ENOMEM));
	if (find_datasets(&l) < 0 || find_seed_dirs(&l) < 0) {
		leftovers_clear(&l);
		return -1;
	}
	if (l.n == 0) {
		log_step("No leftovers of interrupted qvm runs found");
		leftovers_clear(&l);
		return 0;
	}
	log_step("Leftovers of interrupted qvm runs:");
	for (size_t i = 0; i < l.n; i++) {
		const struct leftover *it = &l.items[i];
		if (!it->dataset) {
			log_step("  seed directory %s", it->seed_dir);
			continue;
		}
		log_step("  zvol %s (%s%s%s)%s%s", it->dataset, it->kind, it->vm ? " of VM " : "", it->vm ? it->vm : "",
			 it->seed_dir ? " with seed directory " : "", it->seed_dir ? it->seed_dir : "");
		if (it->vm && strcmp(it->kind, "vm-disk") == 0)
			log_step("    and its domain, if one%s%s on %s uses it", it->uuid ? " of UUID " : "",
				 it->uuid ? it->uuid : "", it->connect ? it->connect : "the default URI");
	}
	if (!(opt_has(opts, OPT_YES)) && !confirm(l.n)) {
		log_step("Nothing removed; run 'qvm cleanup --yes' to remove them");
		leftovers_clear(&l);
		return 0;
	}
	for (size_t i = 0; i < l.n; i++)
		if (remove_leftover(&l, &l.items[i], domains) < 0)
			failed++;
	leftovers_clear(&l);
	if (failed)
		return log_error(TASK, "%d leftover%s could not be removed", failed, failed == 1 ? "" : "s");
	return 0;
}
