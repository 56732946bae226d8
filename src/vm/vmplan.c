/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "domain.h"
#include "marks.h"
#include "names.h"
#include "report.h"
#include "settings.h"
#include "signals.h"
#include "strv.h"
#include "template.h"
#include "vioptions.h"
#include "virtargs.h"
#include "vmplan.h"
#include "remote.h"
#include "zfs.h"
#include "banned.h"

int vm_interrupted(char **err)
{
	return report_error(err, -EINTR, "interrupted by signal %s", signal_name(signal_pending()));
}

/* The reader's messages with the file's name in front; a --set's
 * ("--set ...: why") is its own. */
static int file_errors(const char *path, char *const *msgs, char ***errors)
{
	for (size_t i = 0; msgs && msgs[i]; i++)
		if (strv_pushf(errors, "%s%s%s", msgs[i][0] == '-' ? "" : path, msgs[i][0] == '-' ? "" : ":",
			       msgs[i]) < 0)
			return -ENOMEM;
	return 0;
}

/* Every vm-document key is a virt-install option spelled in full: its
 * argparse would take "nam" for --name and "dry" for --dry-run. */
static int check_option_names(const struct vm_request *req, const struct qvm_file *f, char ***errors)
{
	_cleanup_strv_free_ char **msgs = NULL;
	int r = vi_options_check_vm(req->options, f->vm, &msgs);

	if (r == -ENOMEM)
		return r;
	for (size_t i = 0; msgs && msgs[i]; i++) {
		unsigned line, col;
		int n = 0;
		char label[64];
		/* a key a --set made has no line: name the --set */
		if (sscanf(msgs[i], "%u:%u: %n", &line, &col, &n) == 2 && n > 0 && line == 0) {
			if (strv_pushf(errors, "%s: %s", template_set_label(req->tmpl, col, label, sizeof(label)),
				       msgs[i] + n) < 0)
				return -ENOMEM;
		} else if (strv_pushf(errors, "%s:%s", req->path, msgs[i]) < 0) {
			return -ENOMEM;
		}
	}
	return r < 0 ? -EINVAL : 0;
}

int vm_plan_read(const struct vm_request *req, struct vm_plan **out, char ***errors)
{
	_cleanup_strv_free_ char **msgs = NULL;
	struct vm_plan *p;
	int r;

	*out = NULL;
	*errors = NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->path = req->path;
	p->domains = req->domains;
	r = req->text ? qvm_file_parse_template(req->text, req->text_len, req->tmpl, &p->file, &msgs)
		      : qvm_file_load_template(req->path, req->tmpl, &p->file, &msgs);
	if (r < 0) {
		free(p);
		if (r == -EINVAL)
			return file_errors(req->path, msgs, errors) < 0 ? -ENOMEM : -1;
		return strv_push(errors, msgs && msgs[0] ? msgs[0] : strerror(-r)) < 0 ? -ENOMEM : -1;
	}
	*out = p;
	r = check_option_names(req, p->file, errors);
	return r == -ENOMEM ? r : r < 0 ? -1 : 0;
}

int vm_plan_prepare(struct vm_plan *p, char **err)
{
	const struct host_spec *host = remote_current();

	/* on another host, its libvirt and no other: the disks' paths are
	 * that host's (another libvirt would open its own devices of those
	 * names), and destroy, list and cleanup --host find the domain there */
	if (host && p->file->connect && strcmp(p->file->connect, host->connect) != 0)
		return report_error(err, -EINVAL, "connect URI %s is not the libvirt of %s, where the VM is made (%s): "
				    "leave 'connect' out, or set the host's connect in the hosts file",
				    p->file->connect, host->name, host->connect);
	if (host)
		p->file->connect = host->connect;
	/* the file's UUID, or one qvm makes up: the domain is known by it */
	if (p->file->uuid[0])
		memcpy(p->uuid, p->file->uuid, sizeof(p->uuid));
	else if (uuid_generate(p->uuid) < 0)
		return report_error(err, -EIO, "cannot make a UUID for the domain: %s", strerror(EIO));
	if (settings_device_timeout(&p->timeout) < 0)
		return report_error(err, -EINVAL,
				    "QVM_DEVICE_TIMEOUT must be a whole number of seconds (0-86400)");
	if (asprintf(&p->seed_dir, "%s/%s", settings_state_dir(), p->file->name) < 0 ||
	    asprintf(&p->seed_path, "%s/seed.iso", p->seed_dir) < 0 ||
	    !(p->device = settings_zvol_device(p->file->clone)))
		return report_error(err, -ENOMEM, "%s", strerror(ENOMEM));
	/* the file's own console if it writes to a file, else one qvm adds
	 * whose log libvirt writes into the seed directory */
	switch (virt_args_console(p->file->vm, &p->console_log, &p->console_why)) {
	case 0:
		p->console_ours = true;
		if (asprintf(&p->console_log, "%s/console.log", p->seed_dir) < 0) {
			p->console_log = NULL;
			return report_error(err, -ENOMEM, "%s", strerror(ENOMEM));
		}
		break;
	case 1:
	case 2:
		break;
	default:
		return report_error(err, -ENOMEM, "%s", strerror(ENOMEM));
	}
	/* a final_message of the user-data's own replaces cloud-init's, which
	 * is what --wait looks for */
	p->custom_final = p->file->user_data && p->file->user_data->kind == YNODE_MAPPING &&
			  ymap_get(p->file->user_data, "final_message") != NULL;
	return 0;
}

void vm_plan_free(struct vm_plan *p)
{
	if (!p)
		return;
	qvm_file_free(p->file);
	free(p->uri);
	free(p->seed_dir);
	free(p->seed_path);
	free(p->device);
	free(p->console_log);
	free(p->image_osinfo);
	free(p->image_user);
	free(p);
}

const char *vm_disk_dataset(const struct vm_plan *p, size_t i)
{
	return i ? p->file->extra_disks[i - 1].dataset : p->file->clone;
}

const char *vm_disk_base(const struct vm_plan *p, size_t i)
{
	return i ? p->file->extra_disks[i - 1].base_snapshot : p->file->base_snapshot;
}

int vm_disk_props(const struct vm_plan *p, size_t i, char ***props)
{
	if (strv_extend(props, i ? p->file->extra_disks[i - 1].props : p->file->clone_props) < 0 ||
	    marks_vm_disk(p->file->name, p->uri, p->uuid, props) < 0)
		return -ENOMEM;
	if (i > 0 && strv_pushf(props, MARK_DISK "=%zu", i) < 0)
		return -ENOMEM;
	/* the user qvm ssh logs in as (checked by login_name_valid) */
	if (i == 0 && p->ssh_user && strv_pushf(props, MARK_USER "=%s", p->ssh_user) < 0)
		return -ENOMEM;
	return 0;
}

int vm_disk_argv(const struct vm_plan *p, size_t i, char ***argv)
{
	_cleanup_strv_free_ char **props = NULL;
	const char *base = vm_disk_base(p, i);

	if (vm_disk_props(p, i, &props) < 0)
		return -ENOMEM;
	if (base)
		return zfs_clone_argv(base, vm_disk_dataset(p, i), props, argv);
	return zfs_create_blank_argv(vm_disk_dataset(p, i), p->file->extra_disks[i - 1].volsize, props, argv);
}

/* True when the vm document asks for option K the way virt-install takes
 * a flag (K: true, K: yes, K: on, or K alone). */
static bool vm_flag(const struct qvm_file *f, const char *key)
{
	const struct ynode *v = ymap_get(f->vm, key);

	return v && v->kind == YNODE_SCALAR && (yscalar_is_true(v) || yscalar_is_null(v));
}

unsigned vm_create_flags(const struct qvm_file *f)
{
	unsigned flags = 0;

	if (vm_flag(f, "transient"))
		flags |= DOMAIN_TRANSIENT | DOMAIN_START;
	else if (!vm_flag(f, "noreboot"))
		flags |= DOMAIN_START;
	if (vm_flag(f, "autostart") && !(flags & DOMAIN_TRANSIENT))
		flags |= DOMAIN_AUTOSTART;
	return flags;
}

int vm_virt_install_argv(const struct vm_plan *p, char *const *disk_paths, const char *seed, bool print_xml,
			 char ***argv, char **err)
{
	/* on the run's remote host, libvirt's ssh goes through qvm's own */
	_cleanup_free_ char *uri = p->uri ? remote_libvirt_uri(p->uri) : NULL;
	const struct vi_run vr = { .connect = uri, .uuid = p->uuid, .print_xml = print_xml,
				   .console_log = p->console_ours ? p->console_log : NULL, .osinfo = p->osinfo };

	if (p->uri && !uri)
		return -ENOMEM;
	/* on a remote URI virt-install looks any disk path outside /dev up in
	 * the host's storage pools, making one of its directory first (left
	 * behind, autostarted): for XML it gets a stand-in there, and qvm puts
	 * the seed in the XML itself (vm_print_xml) */
	if (print_xml && remote_current())
		seed = VM_SEED_STAND_IN;
	if (disk_paths)
		return virt_install_argv_paths(p->file, disk_paths, seed, &vr, argv, err);
	return virt_install_argv(p->file, settings_zvol_dir(), seed, &vr, argv, err);
}
