/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "destroy.h"
#include "hostfs.h"
#include "remote.h"
#include "inventory.h"
#include "marks.h"
#include "names.h"
#include "report.h"
#include "settings.h"
#include "signals.h"
#include "strv.h"
#include "undo-steps.h"
#include "zfs.h"
#include "banned.h"

static const char *uri_text(const char *uri)
{
	return uri ? uri : "the default URI";
}

/* Both NULL, or the same text (in any case: for UUIDs). */
static bool same_text(const char *a, const char *b, bool any_case)
{
	return a == b || (a && b && (any_case ? strcasecmp(a, b) : strcmp(a, b)) == 0);
}

void destroy_plan_clear(struct destroy_plan *p)
{
	strv_free(p->disks);
	strv_free(p->paths);
	free(p->connect);
	free(p->uuid);
	free(p->seed_dir);
	memset(p, 0, sizeof(*p));
}

/* The disks marked as p->name's, boot disk in *boot. */
static int find_disks(struct destroy_plan *p, const struct inventory *inv, const struct volume **boot,
		      char **err)
{
	for (size_t i = 0; i < inv->n; i++) {
		const struct volume *v = &inv->v[i];
		if (!volume_is_disk_of(v, p->name))
			continue;
		if (volume_is_creating(v) && !volume_is_leftover(v))
			return report_error(err, -EBUSY, "%s: zvol %s is being created by a qvm still running "
					    "(qvm:run=%s); nothing of VM %s was destroyed", p->name, v->name, v->run,
					    p->name);
		if (!*boot || !v->disk)
			*boot = v;
		if (strv_push(&p->disks, v->name) < 0 || strv_consume(&p->paths, settings_zvol_device(v->name)) < 0)
			return report_error(err, -ENOMEM, "%s", strerror(ENOMEM));
	}
	/* the disks must all be one domain's: disks kept by destroy
	 * --keep-disks, or marks set by someone else, next to a later VM of
	 * the same name would have qvm stop one domain and destroy the disks
	 * of another */
	for (size_t i = 0; i < inv->n; i++) {
		const struct volume *v = &inv->v[i], *b = *boot;
		if (!volume_is_disk_of(v, p->name) || v == b)
			continue;
		if (!same_text(v->uuid, b->uuid, true) || !same_text(v->connect, b->connect, false))
			return report_error(err, -EPERM, "%s: its disks belong to more than one domain: %s (UUID %s "
					    "on %s) and %s (UUID %s on %s); nothing of VM %s was destroyed (remove "
					    "the ones no VM uses with zfs destroy)", p->name, b->name,
					    b->uuid ? b->uuid : "not recorded", uri_text(b->connect), v->name,
					    v->uuid ? v->uuid : "not recorded", uri_text(v->connect), p->name);
	}
	if (*boot && (((*boot)->connect && !(p->connect = strdup((*boot)->connect))) ||
		      ((*boot)->uuid && !(p->uuid = strdup((*boot)->uuid)))))
		return report_error(err, -ENOMEM, "%s", strerror(ENOMEM));
	return 0;
}

/* The seed directory of p->name, if there is one. */
static int find_seed_dir(struct destroy_plan *p, char **err)
{
	_cleanup_free_ char *seed_dir = NULL, *why = NULL;
	char run[128], kind;

	if (asprintf(&seed_dir, "%s/%s", settings_state_dir(), p->name) < 0)
		return report_error(err, -ENOMEM, "%s", strerror(ENOMEM));
	/* on the host the run works on (a remote one's own state directory) */
	if (hostfs_kind(seed_dir, &kind, &why) < 0 || kind != 'd')
		return 0;
	if (marks_seed_run(seed_dir, run, sizeof(run)) == 0 && marks_run_alive(run))
		return report_error(err, -EBUSY, "%s: seed directory %s is being created by a qvm still running "
				    "(run %s); nothing of VM %s was destroyed", p->name, seed_dir, run, p->name);
	if (strv_pushf(&p->paths, "%s/seed.iso", seed_dir) < 0)
		return report_error(err, -ENOMEM, "%s", strerror(ENOMEM));
	p->seed_dir = TAKE_PTR(seed_dir);
	return 0;
}

int destroy_plan_make(struct destroy_plan *p, const char *name, const struct inventory *inv,
		      struct domains *d, char **err)
{
	_cleanup_free_ char *why_domain = NULL;
	const struct volume *boot = NULL;
	const char *why;
	int r;

	memset(p, 0, sizeof(*p));
	p->name = name;
	if (!vm_name_valid(name, &why))
		return report_error(err, -EINVAL, "invalid VM name '%s': %s", name, why);
	r = find_disks(p, inv, &boot, err);
	if (r == 0)
		r = find_seed_dir(p, err);
	if (r < 0)
		return r;
	if (!p->disks && !p->seed_dir)
		return report_error(err, -ENOENT, "%s: no VM of that name was made by qvm (no zvol marked qvm:vm=%s, "
				    "no seed directory %s/%s)", name, name, settings_state_dir(), name);
	const struct domain_ref ref = { .uri = p->connect, .uuid = p->uuid, .name = name };
	if (domain_info_get(d, &ref, p->paths, &p->domain, &why_domain) < 0)
		return report_error(err, -EIO, "%s: cannot check its domain on %s: %s", name, uri_text(p->connect),
				    why_domain ? why_domain : "unknown error");
	if (p->domain.defined && !p->domain.uses_path)
		return report_error(err, -EPERM, "%s: domain %s on %s uses none of qvm's disks for it nor its seed: "
				    "it is not qvm's, so nothing of VM %s was destroyed", name, p->domain.name,
				    uri_text(p->connect), name);
	return 0;
}

void destroy_plan_show(const struct destroy_plan *p, bool keep_disks, const struct report *rep)
{
	report(rep, REPORT_STEP, "VM %s:", p->name);
	if (p->domain.defined && p->uuid)
		report(rep, REPORT_STEP, "  domain %s (UUID %s) on %s (%s)", p->domain.name, p->uuid,
		       uri_text(p->connect), p->domain.state);
	else if (p->domain.defined)
		report(rep, REPORT_STEP, "  domain %s on %s (%s)", p->domain.name, uri_text(p->connect),
		       p->domain.state);
	for (size_t i = 0; p->disks && p->disks[i]; i++)
		report(rep, REPORT_STEP, "  zvol %s%s", p->disks[i], keep_disks ? " (kept)" : "");
	if (p->seed_dir)
		report(rep, REPORT_STEP, "  seed directory %s", p->seed_dir);
}

/* A signal stops the removal before its next step. */
/* A signal stops the removal before its next step: what is left (disks
 * from disk on, unless kept; the seed) is named. */
static int interrupted(const struct destroy_plan *p, size_t disk, bool keep_disks, char **err)
{
	_cleanup_strv_free_ char **left = NULL;
	_cleanup_free_ char *list = NULL;

	for (size_t i = disk; !keep_disks && p->disks && p->disks[i]; i++)
		if (strv_pushf(&left, "zvol %s", p->disks[i]) < 0)
			return -ENOMEM;
	if (p->seed_dir && strv_pushf(&left, "seed directory %s", p->seed_dir) < 0)
		return -ENOMEM;
	list = strv_join(left, ", ");
	return report_error(err, -EINTR, "%s: interrupted by signal %s; left: %s; run 'qvm destroy%s %s' again",
			    p->name, signal_name(signal_pending()), list ? list : "", remote_option(), p->name);
}

int destroy_plan_run(const struct destroy_plan *p, struct domains *d, bool keep_disks,
		     const struct report *rep, char **err)
{
	_cleanup_free_ char *why = NULL;
	int r;

	if (p->domain.defined) {
		const struct domain_ref ref = { .uri = p->connect, .uuid = p->uuid, .name = p->name };
		report(rep, REPORT_BEGIN, "Stopping and undefining domain %s", p->domain.name);
		r = domain_remove(d, &ref, p->paths, &why);
		if (r < 0)
			return report_error(err, r, "%s: cannot remove domain %s on %s: %s", p->name, p->name,
					    uri_text(p->connect), why ? why : "unknown error");
		report(rep, REPORT_DONE, "done");
	}
	for (size_t i = 0; !keep_disks && p->disks && p->disks[i]; i++) {
		if (signal_pending())
			return interrupted(p, i, keep_disks, err);
		report(rep, REPORT_BEGIN, "Destroying zvol %s", p->disks[i]);
		r = zfs_destroy(p->disks[i], 0, &why);
		if (r < 0)
			return report_error(err, r, "%s: cannot destroy zvol %s: %s", p->name, p->disks[i],
					    why ? why : strerror(-r));
		report(rep, REPORT_DONE, "done");
	}
	if (p->seed_dir) {
		if (signal_pending())
			return interrupted(p, SIZE_MAX, true, err);
		report(rep, REPORT_BEGIN, "Removing seed directory %s", p->seed_dir);
		r = seed_dir_remove(p->seed_dir, &why);
		if (r < 0)
			return report_error(err, r, "%s: cannot remove %s", p->name, why ? why : strerror(-r));
		report(rep, REPORT_DONE, "done");
	}
	if (keep_disks && p->disks) {
		_cleanup_free_ char *kept = strv_join(p->disks, ", ");
		report(rep, REPORT_STEP, "VM %s destroyed; kept zvol%s %s", p->name, p->disks[1] ? "s" : "",
		       kept ? kept : "");
	} else {
		report(rep, REPORT_STEP, "VM %s destroyed", p->name);
	}
	return 0;
}
