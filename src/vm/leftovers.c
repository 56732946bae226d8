/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "inventory.h"
#include "leftovers.h"
#include "hostfs.h"
#include "remote.h"
#include "marks.h"
#include "report.h"
#include "settings.h"
#include "strv.h"
#include "undo-steps.h"
#include "banned.h"

static void leftover_free(struct leftover *it)
{
	free(it->dataset);
	free(it->kind);
	free(it->vm);
	free(it->connect);
	free(it->uuid);
	free(it->seed_dir);
}

void leftovers_clear(struct leftovers *l)
{
	for (size_t i = 0; i < l->n; i++)
		leftover_free(&l->items[i]);
	free(l->items);
	strv_free(l->ready_vms);
	l->items = NULL;
	l->n = 0;
	l->ready_vms = NULL;
}

/* Takes item's strings, also on failure. */
static int leftovers_add(struct leftovers *l, struct leftover item)
{
	struct leftover *n = realloc(l->items, (l->n + 1) * sizeof(*n));

	if (!n) {
		leftover_free(&item);
		return -ENOMEM;
	}
	l->items = n;
	l->items[l->n++] = item;
	return 0;
}

static char *dup_or_null(const char *s, int *failed)
{
	char *d = s ? strdup(s) : NULL;

	*failed |= s && !d;
	return d;
}

static int add_volume(struct leftovers *l, const struct volume *v)
{
	int failed = 0;
	struct leftover item = {
		.dataset = dup_or_null(v->name, &failed), .kind = dup_or_null(v->kind, &failed),
		.vm = dup_or_null(v->vm, &failed), .connect = dup_or_null(v->connect, &failed),
		.uuid = dup_or_null(v->uuid, &failed),
	};

	if (failed) {
		leftover_free(&item);
		return -ENOMEM;
	}
	return leftovers_add(l, item);
}

/* A seed directory marked by a run that is over: the VM's leftover, or one of its own. */
static int add_seed_dir(struct leftovers *l, const char *state_dir, const char *name, const char *run)
{
	struct leftover *owner = NULL;
	char *dir;

	if (marks_run_alive(run))
		return 0;
	if (asprintf(&dir, "%s/%s", state_dir, name) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < l->n; i++)
		if (l->items[i].vm && strcmp(l->items[i].vm, name) == 0)
			owner = &l->items[i];
	if (owner) {
		free(owner->seed_dir);
		owner->seed_dir = dir;
		return 0;
	}
	struct leftover item = { .vm = strdup(name), .seed_dir = dir };
	return item.vm ? leftovers_add(l, item) : (leftover_free(&item), -ENOMEM);
}

/* The same on a remote host: its markers in one call. */
static int find_remote_seed_dirs(struct leftovers *l, const char *state_dir, char **err)
{
	_cleanup_free_ char *out = NULL, *why = NULL;
	int r = hostfs_markers(state_dir, SEED_CREATING_FILE, &out, &why);

	if (r < 0)
		return report_error(err, r, "cannot read %s: %s", state_dir, why);
	for (char *line = out; r == 0 && line && *line;) {
		char *nl = line + strcspn(line, "\n"), *next = *nl ? nl + 1 : nl, *tab;
		*nl = '\0';
		if ((tab = strchr(line, '\t')) && line[0] != '.') {
			*tab = '\0';
			r = add_seed_dir(l, state_dir, line, tab + 1);
		}
		line = next;
	}
	return r < 0 ? report_error(err, r, "%s", strerror(-r)) : 0;
}

/* Seed directories still marked .qvm-creating whose run is over. */
static int find_seed_dirs(struct leftovers *l, const char *state_dir, char **err)
{
	DIR *d;
	struct dirent *e;
	int r = 0;

	if (remote_current())
		return find_remote_seed_dirs(l, state_dir, err);
	d = opendir(state_dir);

	if (!d)
		return errno == ENOENT ? 0 : report_error(err, -errno, "cannot read %s: %s", state_dir, strerror(errno));
	while (r == 0 && (e = readdir(d))) {
		_cleanup_free_ char *dir = NULL;
		char run[128];

		if (e->d_name[0] == '.')
			continue;
		if (asprintf(&dir, "%s/%s", state_dir, e->d_name) < 0) {
			r = -ENOMEM;
			break;
		}
		if (marks_seed_run(dir, run, sizeof(run)) == 0)
			r = add_seed_dir(l, state_dir, e->d_name, run);
	}
	closedir(d);
	return r < 0 ? report_error(err, r, "%s", strerror(-r)) : 0;
}

/* Whether v is a disk marked ready by a run that did not finish: another
 * disk of its VM, of the same run, is a leftover (a run marks the extra
 * disks ready before the boot clone, its last step). */
static bool ready_of_leftover_run(const struct inventory *inv, const struct volume *v)
{
	for (size_t i = 0; v->run && v->vm && i < inv->n; i++) {
		const struct volume *o = &inv->v[i];
		if (o != v && o->run && o->vm && strcmp(o->run, v->run) == 0 && strcmp(o->vm, v->vm) == 0 &&
		    volume_is_leftover(o))
			return true;
	}
	return false;
}

int leftovers_find(struct leftovers *l, const struct inventory *inv, const char *state_dir, char **err)
{
	memset(l, 0, sizeof(*l));
	for (size_t i = 0; i < inv->n; i++) {
		const struct volume *v = &inv->v[i];
		bool ready = volume_is_disk_of(v, NULL) && v->state && strcmp(v->state, MARK_STATE_READY) == 0;
		int r = 0;

		if (ready && ready_of_leftover_run(inv, v))
			r = add_volume(l, v);
		else if (ready)
			r = strv_push(&l->ready_vms, v->vm);
		else if (volume_is_leftover(v))
			r = add_volume(l, v);
		if (r < 0)
			return report_error(err, r, "%s", strerror(-r));
	}
	return find_seed_dirs(l, state_dir, err);
}

void leftovers_show(const struct leftovers *l, const struct report *rep)
{
	if (l->n == 0) {
		report(rep, REPORT_STEP, "No leftovers of interrupted qvm runs found");
		return;
	}
	report(rep, REPORT_STEP, "Leftovers of interrupted qvm runs:");
	for (size_t i = 0; i < l->n; i++) {
		const struct leftover *it = &l->items[i];
		if (!it->dataset) {
			report(rep, REPORT_STEP, "  seed directory %s", it->seed_dir);
			continue;
		}
		report(rep, REPORT_STEP, "  zvol %s (%s%s%s)%s%s", it->dataset, it->kind, it->vm ? " of VM " : "",
		       it->vm ? it->vm : "", it->seed_dir ? " with seed directory " : "",
		       it->seed_dir ? it->seed_dir : "");
		if (it->vm && strcmp(it->kind, "vm-disk") == 0)
			report(rep, REPORT_STEP, "    and its domain, if one%s%s on %s uses it",
			       it->uuid ? " of UUID " : "", it->uuid ? it->uuid : "",
			       it->connect ? it->connect : "the default URI");
	}
}

static int is_ready_vm(const struct leftovers *l, const char *vm)
{
	for (size_t i = 0; l->ready_vms && l->ready_vms[i]; i++)
		if (strcmp(l->ready_vms[i], vm) == 0)
			return 1;
	return 0;
}

/* The steps that remove item, in the journal's order: run newest first,
 * the domain goes before the disk it uses and the seed it reads. */
static int journal_of(struct undo *u, const struct leftover *item, struct domains *d)
{
	if (item->dataset) {
		if (undo_prepare_destroy(u, item->dataset, 1) < 0)
			return -ENOMEM;
		undo_arm(u);
	}
	if (item->seed_dir) {
		if (undo_prepare_seed_dir(u, item->seed_dir) < 0)
			return -ENOMEM;
		undo_arm(u);
	}
	if (item->dataset && strcmp(item->kind, "vm-disk") == 0 && item->vm) {
		_cleanup_free_ char *device = settings_zvol_device(item->dataset);
		if (!device || undo_prepare_domain(u, d, item->connect, item->uuid, item->vm, device) < 0)
			return -ENOMEM;
		undo_arm(u);
	}
	return 0;
}

int leftover_remove(const struct leftovers *l, const struct leftover *item, struct domains *d,
		    const struct report *rep, char **err)
{
	struct undo u = { 0 };

	/* a seed of a VM whose disk is complete only lost its marker */
	if (!item->dataset && item->vm && is_ready_vm(l, item->vm)) {
		_cleanup_free_ char *marker = NULL, *why = NULL;
		int r;
		if (asprintf(&marker, "%s/%s", item->seed_dir, SEED_CREATING_FILE) < 0)
			return report_error(err, -ENOMEM, "%s", strerror(ENOMEM));
		r = hostfs_unlink(marker, &why);
		if (r < 0)
			return report_error(err, r, "cannot remove %s: %s", marker, why);
		report(rep, REPORT_STEP, "Kept seed directory %s of VM %s (its disk is complete)", item->seed_dir,
		       item->vm);
		return 0;
	}
	/* cleanup removes what a run left as that run's rollback would have */
	if (journal_of(&u, item, d) < 0) {
		undo_commit(&u);
		return report_error(err, -ENOMEM, "%s", strerror(ENOMEM));
	}
	if (undo_run(&u, rep, "cleaning up", "Removing") > 0)
		return -EIO;
	report(rep, REPORT_STEP, "Removed %s%s%s", item->dataset ? item->dataset : item->seed_dir,
	       item->dataset && item->seed_dir ? " and " : "", item->dataset && item->seed_dir ? item->seed_dir : "");
	return 0;
}
