/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "domxml.h"
#include "process.h"
#include "report.h"
#include "signals.h"
#include "strv.h"
#include "virtlog.h"
#include "vmplan.h"
#include "vmxml.h"
#include "banned.h"

int vm_virt_install_failed(const char *what, int r, struct spawn_result *res, bool debug_log, char **err)
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
	_cleanup_free_ char *cwd = NULL;
	struct stat st;

	if (!v || v->kind != YNODE_SCALAR || strlen(v->value) != v->len || !v->len || stat(v->value, &st) < 0)
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

int vm_print_xml(const struct vm_plan *p, char *const *disk_paths, const char *seed, char *const *paths,
		 char *const *allowed, char **xml, int *phases, char **warnings, char **err)
{
	_cleanup_strv_free_ char **argv = NULL, **docs = NULL;
	struct spawn_result res;
	size_t n;
	int r;

	*xml = NULL;
	*warnings = NULL;
	r = vm_virt_install_argv(p, disk_paths, seed, true, &argv, err);
	if (r < 0)
		return *err ? r : report_error(err, r, "%s", strerror(-r));
	r = spawn_check(argv, SPAWN_CAPTURE_STDOUT | SPAWN_CAPTURE_STDERR, &res, err);
	if (r < 0)
		return vm_virt_install_failed("virt-install --print-xml", r, &res, true, err);
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
	r = check_docs(p, docs, n, paths, allowed, err);
	if (r < 0)
		return r;
	*phases = (int)n;
	*xml = TAKE_PTR(docs[n - 1]);
	return 0;
}
