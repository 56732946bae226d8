/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "domxml.h"
#include "domain.h"
#include "msgtext.h"
#include "process.h"
#include "report.h"
#include "signals.h"
#include "strv.h"
#include "virtlog.h"
#include "vmplan.h"
#include "hostfs.h"
#include "remote.h"
#include "vmxml.h"
#include "banned.h"

/* The vm document's key that became virt-install's --NAME (len bytes), or
 * NULL; *from_set when a --set made it or its value. */
static const struct ynode *option_key(const struct vm_plan *p, const char *name, size_t len, bool *from_set)
{
	const struct ynode *vm = p && p->file ? p->file->vm : NULL;

	for (size_t i = 0; vm && vm->kind == YNODE_MAPPING && i < vm->n; i++)
		if (vm->keys[i]->len == len && memcmp(vm->keys[i]->value, name, len) == 0) {
			*from_set = vm->keys[i]->line == 0 || vm->items[i]->line == 0;
			return vm->keys[i];
		}
	return NULL;
}

static bool named_before(char *const *seen, const char *key)
{
	for (size_t i = 0; seen && seen[i]; i++)
		if (strcmp(seen[i], key) == 0)
			return true;
	return false;
}

/* Where each option virt-install's words name came from, once each:
 * "FILE:LINE:COL: virt-install's --X comes from this key" lines. */
static void put_option_origins(FILE *f, const struct vm_plan *p, char *const *lines)
{
	_cleanup_strv_free_ char **seen = NULL;

	for (size_t i = 0; lines[i]; i++)
		for (const char *s = lines[i]; (s = strstr(s, "--"));) {
			bool starts = s == lines[i] || !(s[-1] == '-' || (s[-1] >= 'a' && s[-1] <= 'z') ||
							 (s[-1] >= '0' && s[-1] <= '9'));
			size_t len;
			const struct ynode *k;
			bool from_set = false;

			s += 2;
			len = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-_");
			while (len && s[len - 1] == '-')
				len--;
			if (!starts || !len || !(k = option_key(p, s, len, &from_set)) || named_before(seen, k->value)) {
				s += len;
				continue;
			}
			if (strv_push(&seen, k->value) < 0)
				return;
			if (!from_set)
				fprintf(f, "\n  %s:%u:%u: virt-install's --%s comes from this key", p->path, k->line,
					k->col, k->value);
			else
				fprintf(f, "\n  virt-install's --%s comes from a --set", k->value);
			s += len;
		}
}

/* virt-install's own words as lines (not joined): the lines of what it
 * printed that are not blank, its warnings left out when it says more,
 * control characters escaped; a level word alone on its line ("ERROR",
 * its message on the next) joined to what follows. NULL if it said
 * nothing or on ENOMEM. */
static char *failure_text(const struct vm_plan *p, const struct spawn_result *res)
{
	const char *src = res->err && *res->err ? res->err : res->out;
	_cleanup_strv_free_ char **lines = NULL;
	char *buf = NULL;
	size_t size = 0, n;
	bool said = false;
	FILE *f;

	for (int pass = 0; src && pass < 2 && !said; pass++) {
		strv_free(lines);
		lines = NULL;
		for (const char *q = src; *q;) {
			size_t len = strcspn(q, "\n"), end = len;
			char text[1024];
			while (end > 0 && (q[end - 1] == ' ' || q[end - 1] == '\t' || q[end - 1] == '\r'))
				end--;
			if (end > 0 && (pass == 1 || strncmp(q, "WARNING", 7) != 0)) {
				msg_text(text, sizeof(text), q, end);
				if (strv_push(&lines, text) < 0)
					return NULL;
				said = true;
			}
			q += len + (q[len] == '\n');
		}
	}
	if (!said)
		return NULL;
	n = strv_length(lines);
	if (!(f = open_memstream(&buf, &size)))
		return NULL;
	for (size_t i = 0; i < n; i++) {
		bool level_alone = i + 1 < n && strspn(lines[i], "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == strlen(lines[i]);
		size_t w = strlen(lines[i]);
		fprintf(f, "%s%s", i ? "\n  " : "", lines[i]);
		if (level_alone) {
			i++;
			fprintf(f, "%*s%s", (int)(w < 9 ? 9 - w : 1), "", lines[i]);
		}
	}
	if (res->signal)
		fprintf(f, " (killed by %s)", signal_name(res->signal));
	put_option_origins(f, p, lines);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

int vm_virt_install_failed(const struct vm_plan *p, const char *what, int r, struct spawn_result *res,
			   bool debug_log, char **err)
{
	_cleanup_free_ char *msg = NULL;

	if (signal_pending())
		r = vm_interrupted(err);
	else if (r == -EIO || r == -EINTR) {
		/* it ran: its own words (with --debug, only what it prints
		 * without), not spawn_check's */
		if (debug_log) {
			char *text = virtlog_filter(res->err);
			free(res->err);
			res->err = text;
		}
		msg = failure_text(p, res);
		if (!msg)
			msg = spawn_error_text(res);
		r = report_error(err, -EIO, "%s failed: %s", what, msg ? msg : "unknown error");
	}
	/* else it did not start: spawn_check said why */
	spawn_result_clear(res);
	return r;
}

/* A disk entry's own path, as virt-install would write it in the XML (it
 * makes a relative path absolute against its working directory, which is
 * qvm's); only an existing file or device: storage qvm does not make is
 * not made by anyone (virt-install --print-xml creates none). */
static int push_named_path(char ***allowed, const struct ynode *v)
{
	_cleanup_free_ char *cwd = NULL, *why = NULL;
	struct stat st;
	char kind;

	if (!v || v->kind != YNODE_SCALAR || strlen(v->value) != v->len || !v->len)
		return 0;
	/* on another host, its files: absolute paths only (qvm's working
	 * directory is here), through symbolic links as libvirt follows them */
	if (remote_current())
		return v->value[0] == '/' && hostfs_kind(v->value, &kind, &why) == 0 ? strv_push(allowed, v->value) : 0;
	if (stat(v->value, &st) < 0)
		return 0;
	/* absolute only: a relative path in the XML would be resolved by
	 * libvirt and QEMU against their own working directory */
	if (v->value[0] == '/')
		return strv_push(allowed, v->value);
	cwd = getcwd(NULL, 0);
	return cwd ? strv_pushf(allowed, "%s/%s", cwd, v->value) : 0;
}

int vm_named_paths(const struct qvm_file *f, char ***allowed)
{
	const struct ynode *disk = ymap_get(f->vm, "disk"), *cd = ymap_get(f->vm, "cdrom");
	int r = push_named_path(allowed, cd);

	for (size_t i = 0; disk && r == 0 && i < (disk->kind == YNODE_SEQUENCE ? disk->n : 1); i++) {
		const struct ynode *m = disk->kind == YNODE_SEQUENCE ? disk->items[i] : disk;
		if (m->kind == YNODE_MAPPING)
			r = push_named_path(allowed, ymap_get(m, "path"));
		else if (m->kind == YNODE_SCALAR && !strchr(m->value, ','))
			r = push_named_path(allowed, m);
	}
	return r;
}

/* Each XML virt-install printed - the install-time domain too: it runs
 * first - is the VM's and uses only the paths it may. */
static int check_docs(const struct vm_plan *p, char *const *docs, size_t n, char *const *paths,
		      char *const *allowed, char **err)
{
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *why = NULL;
		struct domxml x;
		int r = domxml_parse(docs[i], strlen(docs[i]), &x, &why);
		if (r < 0)
			return report_error(err, r, "%s", why ? why : strerror(-r));
		r = domxml_check(&x, p->file->name, p->uuid, paths, allowed, &why);
		domxml_clear(&x);
		if (r < 0)
			return report_error(err, r, "refusing the domain virt-install wrote%s: %s",
					    n == 2 && i == 0 ? " for its install" : "", why ? why : strerror(-r));
	}
	return 0;
}

void vm_pools_note(const struct vm_plan *p, const char *seed, struct vm_pool_watch *w)
{
	_cleanup_free_ char *why = NULL;
	const char *slash = strrchr(seed, '/');

	memset(w, 0, sizeof(*w));
	if (!slash || slash == seed || !(w->dir = strndup(seed, (size_t)(slash - seed))))
		return;
	/* listed: only then is a pool found later known to be new */
	w->listed = domains_pools_at(p->domains, p->file->connect, w->dir, &w->before, &why) == 0;
}

void vm_pools_drop_new(const struct vm_plan *p, struct vm_pool_watch *w)
{
	_cleanup_strv_free_ char **now = NULL;
	_cleanup_free_ char *why = NULL;

	if (w->listed && domains_pools_at(p->domains, p->file->connect, w->dir, &now, &why) == 0)
		for (size_t i = 0; now && now[i]; i++) {
			bool old = false;
			for (size_t j = 0; w->before && w->before[j]; j++)
				old |= strcmp(now[i], w->before[j]) == 0;
			_cleanup_free_ char *err = NULL;
			if (!old)
				(void)domains_pool_remove(p->domains, p->file->connect, now[i], &err);
		}
	free(w->dir);
	strv_free(w->before);
	memset(w, 0, sizeof(*w));
}

int vm_print_xml(const struct vm_plan *p, char *const *disk_paths, const char *seed, char *const *paths,
		 char *const *allowed, char **xml, int *phases, char **warnings, char **err)
{
	_cleanup_strv_free_ char **argv = NULL, **docs = NULL;
	struct spawn_result res;
	size_t n;
	int r;

	*xml = NULL;
	*warnings = NULL;
	struct vm_pool_watch pools;
	r = vm_virt_install_argv(p, disk_paths, seed, true, &argv, err);
	if (r < 0)
		return *err ? r : report_error(err, r, "%s", strerror(-r));
	vm_pools_note(p, seed, &pools);
	r = spawn_check(argv, SPAWN_CAPTURE_STDOUT | SPAWN_CAPTURE_STDERR, &res, err);
	vm_pools_drop_new(p, &pools);
	if (r < 0)
		return vm_virt_install_failed(p, "virt-install --print-xml", r, &res, true, err);
	/* a signal virt-install took for an ending ("aborted at user request", exit 0) */
	if (signal_pending()) {
		spawn_result_clear(&res);
		return vm_interrupted(err);
	}
	/* shown once the step's line is done */
	*warnings = virtlog_filter(res.err);
	r = domxml_split(res.out ? res.out : "", &docs);
	spawn_result_clear(&res);
	if (r < 0)
		return report_error(err, r, "virt-install --print-xml printed no domain XML");
	n = strv_length(docs);
	if (n > 2)
		return report_error(err, -EPROTO, "virt-install --print-xml printed %zu domains, not one or two", n);
	/* on another host virt-install had the seed's stand-in (vmplan.c) */
	for (size_t i = 0; remote_current() && i < n; i++) {
		_cleanup_free_ char *why = NULL;
		char *fixed;
		r = domxml_put_seed(docs[i], VM_SEED_STAND_IN, seed, &fixed, &why);
		if (r < 0)
			return report_error(err, r, "%s", why ? why : strerror(-r));
		free(docs[i]);
		docs[i] = fixed;
	}
	r = check_docs(p, docs, n, paths, allowed, err);
	if (r < 0)
		return r;
	*phases = (int)n;
	*xml = TAKE_PTR(docs[n - 1]);
	return 0;
}
