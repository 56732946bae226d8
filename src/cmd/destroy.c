/* SPDX-License-Identifier: MIT */
/* qvm destroy [--yes] [--keep-disks] NAME...: stops and undefines each VM's
 * domain, destroys its disks and removes its seed directory. The disks are
 * the volumes qvm marked qvm:kind=vm-disk, qvm:vm=NAME - never guessed from
 * paths - and the domain is asked for by the UUID in their qvm:uuid on the
 * URI in their qvm:connect (by name for VMs made before qvm recorded
 * UUIDs). A domain that uses none of them is not qvm's and is left alone,
 * and so is everything of that VM. Each VM succeeds or fails on its
 * own; any failure makes the exit status 1. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "commands.h"
#include "domain.h"
#include "inventory.h"
#include "log.h"
#include "marks.h"
#include "names.h"
#include "settings.h"
#include "signals.h"
#include "strv.h"
#include "zfs.h"
#include "banned.h"

#define TASK "destroying VM"

struct target {
	const char *name;
	char *connect;               /* from the boot disk's qvm:connect; NULL: default */
	char *uuid;                  /* from its qvm:uuid; NULL: made before qvm recorded it */
	char **paths;                /* the disks' devices and the seed: what qvm's domain uses */
	char **disks;                /* datasets marked as this VM's disks */
	char *seed_dir;              /* NULL when there is none */
	struct domain_info domain;
	bool ok;                     /* passed the checks */
};

static void targets_free(struct target *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		strv_free(t[i].disks);
		strv_free(t[i].paths);
		free(t[i].connect);
		free(t[i].uuid);
		free(t[i].seed_dir);
	}
	free(t);
}

static const char *uri_text(const char *uri)
{
	return uri ? uri : "the default URI";
}

/* Both NULL, or the same text (in any case: for UUIDs). */
static bool same_text(const char *a, const char *b, bool any_case)
{
	return a == b || (a && b && (any_case ? strcasecmp(a, b) : strcmp(a, b)) == 0);
}

/* Finds what belongs to VM t->name and checks that it may be removed.
 * 0, or -1 after reporting why not. */
static int plan(struct target *t, const struct inventory *inv, struct domains *d)
{
	_cleanup_free_ char *err = NULL, *seed_dir = NULL;
	const struct volume *boot = NULL;
	const char *why;
	struct stat st;

	if (!vm_name_valid(t->name, &why))
		return log_error(TASK, "invalid VM name '%s': %s", t->name, why);
	for (size_t i = 0; i < inv->n; i++) {
		const struct volume *v = &inv->v[i];
		_cleanup_free_ char *dev = NULL;
		if (!volume_is_disk_of(v, t->name))
			continue;
		if (v->state && strcmp(v->state, MARK_STATE_CREATING) == 0 && v->run && marks_run_alive(v->run))
			return log_error(TASK, "%s: zvol %s is being created by a qvm still running (qvm:run=%s); "
					 "nothing of VM %s was destroyed", t->name, v->name, v->run, t->name);
		if (!boot || !v->disk)
			boot = v;
		dev = settings_zvol_device(v->name);
		if (!dev || strv_push(&t->disks, v->name) < 0 || strv_push(&t->paths, dev) < 0)
			return log_error(TASK, "%s", strerror(ENOMEM));
	}
	/* the disks must all be one domain's: disks kept by destroy
	 * --keep-disks, or marks set by someone else, next to a later VM of
	 * the same name would have qvm stop one domain and destroy the disks
	 * of another */
	for (size_t i = 0; i < inv->n; i++) {
		const struct volume *v = &inv->v[i];
		if (!volume_is_disk_of(v, t->name) || v == boot)
			continue;
		if (!same_text(v->uuid, boot->uuid, true) || !same_text(v->connect, boot->connect, false))
			return log_error(TASK, "%s: its disks belong to more than one domain: %s (UUID %s on %s) and "
					 "%s (UUID %s on %s); nothing of VM %s was destroyed (remove the ones no "
					 "VM uses with zfs destroy)", t->name, boot->name,
					 boot->uuid ? boot->uuid : "not recorded", uri_text(boot->connect), v->name,
					 v->uuid ? v->uuid : "not recorded", uri_text(v->connect), t->name);
	}
	if ((boot && boot->connect && !(t->connect = strdup(boot->connect))) ||
	    (boot && boot->uuid && !(t->uuid = strdup(boot->uuid))))
		return log_error(TASK, "%s", strerror(ENOMEM));
	if (asprintf(&seed_dir, "%s/%s", settings_state_dir(), t->name) < 0)
		return log_error(TASK, "%s", strerror(ENOMEM));
	if (lstat(seed_dir, &st) == 0 && S_ISDIR(st.st_mode)) {
		_cleanup_free_ char *iso = NULL;
		char run[128];
		if (marks_seed_run(seed_dir, run, sizeof(run)) == 0 && marks_run_alive(run))
			return log_error(TASK, "%s: seed directory %s is being created by a qvm still running "
					 "(run %s); nothing of VM %s was destroyed", t->name, seed_dir, run, t->name);
		if (asprintf(&iso, "%s/seed.iso", seed_dir) < 0 || strv_push(&t->paths, iso) < 0)
			return log_error(TASK, "%s", strerror(ENOMEM));
		t->seed_dir = TAKE_PTR(seed_dir);
	}
	if (!t->disks && !t->seed_dir)
		return log_error(TASK, "%s: no VM of that name was made by qvm (no zvol marked qvm:vm=%s, "
				 "no seed directory %s/%s)", t->name, t->name, settings_state_dir(), t->name);
	const struct domain_ref ref = { .uri = t->connect, .uuid = t->uuid, .name = t->name };
	if (domain_info_get(d, &ref, t->paths, &t->domain, &err) < 0)
		return log_error(TASK, "%s: cannot check its domain on %s: %s", t->name,
				 uri_text(t->connect), err ? err : "unknown error");
	if (t->domain.defined && !t->domain.uses_path)
		return log_error(TASK, "%s: domain %s on %s uses none of qvm's disks for it nor its seed: "
				 "it is not qvm's, so nothing of VM %s was destroyed", t->name, t->domain.name,
				 uri_text(t->connect), t->name);
	t->ok = true;
	return 0;
}

static void show_plan(const struct target *t, bool keep_disks)
{
	log_step("VM %s:", t->name);
	if (t->domain.defined && t->uuid)
		log_step("  domain %s (UUID %s) on %s (%s)", t->domain.name, t->uuid, uri_text(t->connect),
			 t->domain.state);
	else if (t->domain.defined)
		log_step("  domain %s on %s (%s)", t->domain.name, uri_text(t->connect), t->domain.state);
	for (size_t i = 0; t->disks && t->disks[i]; i++)
		log_step("  zvol %s%s", t->disks[i], keep_disks ? " (kept)" : "");
	if (t->seed_dir)
		log_step("  seed directory %s", t->seed_dir);
}

/* On a terminal only: anything else needs --yes. 1 yes, 0 no, -1 error. */
static int confirm(size_t n)
{
	char answer[16];

	if (!isatty(STDIN_FILENO))
		return log_error(TASK, "not destroying anything without confirmation: standard input is "
				 "not a terminal (use --yes)");
	printf("Destroy %zu VM%s? [y/N] ", n, n == 1 ? "" : "s");
	fflush(stdout);
	if (!fgets(answer, sizeof(answer), stdin))
		return 0;
	return answer[0] == 'y' || answer[0] == 'Y';
}

/* DIR/seed.iso, DIR/.qvm-creating and DIR; what is already gone is fine. */
static int remove_seed_dir(const char *dir, char **what)
{
	static const char *const files[] = { "seed.iso", SEED_CREATING_FILE };
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (dfd < 0)
		return errno == ENOENT ? 0 : -errno;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (unlinkat(dfd, files[i], 0) < 0 && errno != ENOENT) {
			int e = errno;
			close(dfd);
			*what = strdup(files[i]);
			return -e;
		}
	}
	close(dfd);
	if (rmdir(dir) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* 0, or -1 after reporting the first failure (later steps are not run:
 * a disk still in use by a domain must not be destroyed). */
static int destroy(const struct target *t, struct domains *d, bool keep_disks)
{
	_cleanup_free_ char *err = NULL;
	int r;

	if (t->domain.defined) {
		const struct domain_ref ref = { .uri = t->connect, .uuid = t->uuid, .name = t->name };
		log_begin("Stopping and undefining domain %s", t->domain.name);
		r = domain_remove(d, &ref, t->paths, &err);
		if (r < 0)
			return log_error(TASK, "%s: cannot remove domain %s on %s: %s", t->name, t->name,
					 uri_text(t->connect), err ? err : "unknown error");
		log_done("done");
	}
	for (size_t i = 0; !keep_disks && t->disks && t->disks[i]; i++) {
		if (signal_pending())
			return log_error(TASK, "%s: interrupted by signal %s", t->name,
					 sigabbrev_np(signal_pending()));
		log_begin("Destroying zvol %s", t->disks[i]);
		r = zfs_destroy(t->disks[i], 0, &err);
		if (r < 0)
			return log_error(TASK, "%s: cannot destroy zvol %s: %s", t->name, t->disks[i],
					 err ? err : strerror(-r));
		log_done("done");
	}
	if (t->seed_dir) {
		_cleanup_free_ char *what = NULL;
		log_begin("Removing seed directory %s", t->seed_dir);
		r = remove_seed_dir(t->seed_dir, &what);
		if (r < 0)
			return log_error(TASK, "%s: cannot remove %s%s%s: %s", t->name, t->seed_dir,
					 what ? "/" : "", what ? what : "", strerror(-r));
		log_done("done");
	}
	if (keep_disks && t->disks) {
		_cleanup_free_ char *kept = strv_join(t->disks, ", ");
		log_step("VM %s destroyed; kept zvol%s %s", t->name, t->disks[1] ? "s" : "",
			 kept ? kept : "");
	} else {
		log_step("VM %s destroyed", t->name);
	}
	return 0;
}

int cmd_destroy(int argc, char **argv, const struct cmd_opts *opts)
{
	bool keep_disks = opt_has(opts, OPT_KEEP_DISKS);
	_cleanup_(domains_freep) struct domains *d = domains_new(false);
	_cleanup_strv_free_ char **failed = NULL;
	_cleanup_free_ char *err = NULL;
	struct inventory inv;
	struct target *t;
	size_t nok = 0;
	int r;

	if (!d)
		return log_error(TASK, "%s", strerror(ENOMEM));
	r = inventory_load(&inv, &err);
	if (r < 0)
		return log_error(TASK, "cannot list zvols: %s", err ? err : strerror(-r));
	t = calloc((size_t)argc, sizeof(*t));
	if (!t) {
		inventory_clear(&inv);
		return log_error(TASK, "%s", strerror(ENOMEM));
	}
	for (int i = 0; i < argc; i++) {
		bool dup = false;
		t[i].name = argv[i];
		for (int j = 0; j < i; j++)
			dup = dup || strcmp(argv[j], argv[i]) == 0;
		if (dup)
			continue;    /* named twice: destroyed once */
		if (plan(&t[i], &inv, d) == 0)
			nok++;
		else if (strv_push(&failed, argv[i]) < 0)
			goto enomem;
	}
	inventory_clear(&inv);

	if (nok > 0) {
		for (int i = 0; i < argc; i++)
			if (t[i].ok)
				show_plan(&t[i], keep_disks);
		if (!opt_has(opts, OPT_YES)) {
			r = confirm(nok);
			if (r <= 0) {
				if (r == 0)
					log_step("Nothing destroyed");
				targets_free(t, (size_t)argc);
				return -1;
			}
		}
	}
	for (int i = 0; i < argc; i++) {
		if (!t[i].ok)
			continue;
		if (signal_pending() || destroy(&t[i], d, keep_disks) < 0) {
			if (strv_push(&failed, t[i].name) < 0)
				goto enomem;
		}
	}
	targets_free(t, (size_t)argc);
	if (failed) {
		_cleanup_free_ char *names = strv_join(failed, ", ");
		size_t n = strv_length(failed);
		return log_error("destroying VMs", "%zu of %d VM%s not destroyed: %s", n, argc,
				 argc == 1 ? "" : "s", names ? names : "");
	}
	return 0;
enomem:
	targets_free(t, (size_t)argc);
	return log_error(TASK, "%s", strerror(ENOMEM));
}
