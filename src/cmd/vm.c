/* SPDX-License-Identifier: MIT */
/* qvm vm FILE (SPEC §3.4, as amended by "Each VM known by its UUID"): the
 * options, then the VM jobs of src/vm - read and check everything, then
 * make it (or, --dry-run, say what would be made), then --wait - and
 * their errors printed. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "commands.h"
#include "domain.h"
#include "fleet.h"
#include "log.h"
#include "remote.h"
#include "names.h"
#include "qvmfile.h"
#include "signals.h"
#include "size.h"
#include "strv.h"
#include "template.h"
#include "vioptions.h"
#include "vmbatch.h"
#include "vmcreate.h"
#include "vmdryrun.h"
#include "vmplan.h"
#include "vmwait.h"
#include "banned.h"

#define TASK_FILE "reading qvm file"
#define TASK_CHECK "validating virtual machine"
#define TASK "provisioning virtual machine"
#define TASK_WAIT "waiting for virtual machine"

#define DEFAULT_WAIT 300             /* seconds qvm vm --wait waits */

struct vm_opts {
	struct vm_request req;
	bool dry_run;
	bool wait;
	bool skip_existing;
	unsigned wait_seconds;
	struct qvm_template tmpl;
	const char *host;            /* --host, else the file's host: (NULL: this one) */
	unsigned count;              /* --count's, else 0 */
};

/* --host auto (or host: auto): the host of the hosts file that has every
 * base the file clones and the most free memory (fleet.h), opened. */
static int open_auto(const struct vm_opts *o, const struct vm_plan *p)
{
	_cleanup_strv_free_ char **bases = NULL;
	_cleanup_free_ char *what = NULL, *chosen = NULL;

	for (size_t i = 0; i < vm_plan_disks(p); i++) {
		const char *b = vm_disk_base(p, i);
		bool seen = false;
		for (size_t j = 0; b && bases && bases[j] && !seen; j++)
			seen = strcmp(bases[j], b) == 0;
		if (b && !seen && strv_push(&bases, b) < 0)
			return log_error(TASK_CHECK, "%s", strerror(ENOMEM));
	}
	if (!bases)
		return log_error(TASK_CHECK, "--host auto places a VM where its base image is, and %s clones none",
				 p->path);
	/* --count's VMs all go where the first goes */
	what = o->count > 1 ? strdupf("%u VMs (the first %s)", o->count, p->file->name)
			    : strdupf("VM %s", p->file->name);
	if (!what)
		return log_error(TASK_CHECK, "%s", strerror(ENOMEM));
	if (fleet_place(bases, what, &chosen) < 0)
		return -1;
	return cmd_host_open(chosen);
}

/* The host the file's VM is made on, opened once for the run: --host
 * wins over the file's host:. 0, or -1 after printing why. */
static int open_host(const struct vm_opts *o, const struct vm_plan *p)
{
	const char *host = o->host ? o->host : p->file->host;
	const struct host_spec *open = remote_current();

	/* one run, one host: --count instances whose host: differ are refused
	 * (auto chose once, for all of them) */
	if (open && host && strcmp(host, "auto") != 0 && strcmp(host, open->name) != 0)
		return log_error(TASK_CHECK, "VM %s is for host %s, but this run works on %s: one host per run "
				 "(run qvm once per host)", p->file->name, host, open->name);
	if (!host || open)
		return 0;
	if (strcmp(host, "auto") == 0)
		return open_auto(o, p);
	/* the VM's seed directory there, looked at as the connection opens */
	char *names[] = { (char *)p->file->name, NULL };
	if (remote_prefetch(names) < 0)
		return log_error(TASK_CHECK, "%s", strerror(ENOMEM));
	return cmd_host_open(host);
}

static int print_errors(const char *task, char *const *errors, int r)
{
	if (r == -ENOMEM || !errors)
		return log_error(task, "%s", strerror(ENOMEM));
	for (size_t i = 0; errors[i]; i++)
		log_error(task, "%s", errors[i]);
	return -1;
}

/* Read and checked, or every problem printed. */
static int plan(const struct vm_opts *o, struct vm_plan **p, char **name)
{
	_cleanup_strv_free_ char **errors = NULL;
	_cleanup_free_ char *err = NULL;
	int r;

	log_begin("Reading %s", o->req.path);
	r = vm_plan_read(&o->req, p, &errors);
	if (*p)
		*name = strdup((*p)->file->name);
	if (r < 0)
		return print_errors(TASK_FILE, errors, r);
	if (open_host(o, *p) < 0)
		return -1;
	if (vm_plan_prepare(*p, &err) < 0)
		return log_error(TASK_CHECK, "%s", err);
	r = vm_plan_check(*p, &errors);
	if (r < 0)
		return print_errors(TASK_CHECK, errors, r);
	log_done("VM %s, disk %s cloned from %s", (*p)->file->name, (*p)->file->clone, (*p)->file->base_snapshot);
	return 0;
}

/* One VM, all or nothing. *name (malloc'd) is its name once the file was
 * read; *made its plan once it was created (not in a dry run), for
 * --wait. */
static enum vm_outcome vm_one(const struct vm_opts *o, char **name, struct vm_plan **made)
{
	_cleanup_(vm_plan_freep) struct vm_plan *p = NULL;
	_cleanup_free_ char *err = NULL;

	*name = NULL;
	*made = NULL;
	if (plan(o, &p, name) < 0)
		return VM_FAILED;
	if (o->dry_run && vm_dry_run(p, &log_report, &err) < 0) {
		log_error(TASK_CHECK, "%s", err);
		return VM_FAILED;
	}
	if (o->dry_run)
		return VM_MADE;
	if (vm_create(p, &log_report, &err) < 0) {
		/* the error first: it ends the open step's line with "failed" */
		log_error(TASK, "%s", err);
		vm_rollback(p, &log_report);
		return VM_FAILED;
	}
	*made = TAKE_PTR(p);
	return VM_MADE;
}

/* --wait for the VMs made, all at once; each one's error printed. The
 * number not ready, or -1 (out of memory, said). */
static int wait_made(const struct vm_opts *o, struct vm_plan *const *made, size_t n, struct vm_batch *b)
{
	_cleanup_free_ struct vm_wait_result *res = calloc(n ? n : 1, sizeof(*res));
	int r = res ? vm_wait_ready(made, n, o->wait_seconds, &log_report, res) : -ENOMEM;

	if (r < 0) {
		if (res)
			vm_wait_results_clear(res, n);
		return log_error(TASK_WAIT, "%s", strerror(-r));
	}
	for (size_t i = 0; i < n; i++) {
		if (res[i].err)
			log_error(TASK_WAIT, "%s", res[i].err);
		if (b && vm_batch_waited(b, made[i]->file->name, res[i].outcome) < 0)
			r = -1;
	}
	vm_wait_results_clear(res, n);
	return r < 0 ? log_error(TASK_WAIT, "%s", strerror(ENOMEM)) : r;
}

static void plans_free(struct vm_plan **plans, size_t n)
{
	for (size_t i = 0; i < n; i++)
		vm_plan_free(plans[i]);
	free(plans);
}

/* A whole number in [min, max] from an option. */
static int option_number(const char *opt, const char *s, unsigned min, unsigned max, unsigned *out)
{
	uint64_t v;

	if (parse_u64(s, &v) < 0 || v < min || v > max)
		return log_error(TASK_CHECK, "%s must be a whole number from %u to %u, not '%s'", opt, min,
				 max, s);
	*out = (unsigned)v;
	return 0;
}

/* Instance i's template: its number, and the "-i" suffix its name gets
 * unless the name says where the number goes ({n}). */
static void instance(struct vm_opts *o, unsigned i, char *suffix, size_t size)
{
	vm_batch_suffix(i, suffix, size);
	o->tmpl.suffix = suffix;
	o->tmpl.n = i;
}

/* Before any VM is made: which instances exist already (a domain of that
 * name, the boot clone, the seed directory) into exists[1..count], their
 * names into *names. An instance whose file cannot be read or whose host
 * cannot be asked counts as not existing: making it reports why. */
static int existing_instances(struct vm_opts *o, unsigned count, bool *exists, char ***names)
{
	for (unsigned i = 1; i <= count; i++) {
		_cleanup_(vm_plan_freep) struct vm_plan *p = NULL;
		_cleanup_strv_free_ char **errors = NULL;
		_cleanup_free_ char *err = NULL, *what = NULL;
		char suffix[16];
		int r;

		if (signal_pending())
			return -EINTR;
		instance(o, i, suffix, sizeof(suffix));
		r = vm_plan_read(&o->req, &p, &errors);
		if (r == -ENOMEM)
			return r;
		if (r == 0 && open_host(o, p) < 0)
			return -EHOSTUNREACH;
		if (r < 0 || vm_plan_prepare(p, &err) < 0)
			continue;
		r = vm_plan_exists(p, &what);
		if (r == -ENOMEM)
			return r;
		if (r == 0 && p->exists) {
			exists[i] = true;
			if (strv_push(names, p->file->name) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

/* --count: which instances exist, checked first; every VM tried (until a
 * signal), then, with --wait, all the VMs made waited for at once, then
 * one summary. */
static int vm_batch(struct vm_opts *o, unsigned count)
{
	struct vm_batch b;
	_cleanup_free_ char *line = NULL, *err = NULL, *names_text = NULL;
	_cleanup_free_ bool *exists = calloc(count + 1, sizeof(*exists));
	_cleanup_strv_free_ char **existing = NULL;
	struct vm_plan **made = NULL;
	size_t n_made = 0;
	enum vm_batch_verdict verdict;
	int r;

	if (!exists)
		return log_error(TASK_CHECK, "%s", strerror(ENOMEM));
	r = existing_instances(o, count, exists, &existing);
	if (r == -EHOSTUNREACH)
		return -1;
	if (r == -EINTR)
		return log_error(TASK_CHECK, "interrupted by signal %s", signal_name(signal_pending()));
	if (r < 0)
		return log_error(TASK_CHECK, "%s", strerror(-r));
	if (existing && !o->skip_existing) {
		if (!(names_text = strv_join(existing, ", ")))
			return log_error(TASK_CHECK, "%s", strerror(ENOMEM));
		return log_error(TASK_CHECK, "%zu of %u VMs exist: %s; nothing made (qvm destroy%s them, or add "
				 "--skip-existing to make only the others)", strv_length(existing), count, names_text,
				 remote_option());
	}
	made = calloc(count, sizeof(*made));
	if (!made)
		return log_error(TASK, "%s", strerror(ENOMEM));
	vm_batch_init(&b, count, o->dry_run);
	for (unsigned i = 1; i <= count && r == 0; i++) {
		_cleanup_free_ char *name = NULL;
		char suffix[16];
		enum vm_outcome outcome;

		if (signal_pending()) {
			vm_batch_interrupted(&b, i, signal_pending(), &err);
			log_error(TASK, "%s", err);
			break;
		}
		instance(o, i, suffix, sizeof(suffix));
		if (exists[i]) {
			/* named as the check found it */
			size_t k = 0;
			for (unsigned j = 1; j < i; j++)
				k += exists[j];
			log_step("Skipping VM %s: it exists", existing[k]);
			r = vm_batch_record(&b, i, VM_SKIPPED, existing[k]);
			continue;
		}
		outcome = vm_one(o, &name, &made[n_made]);
		n_made += made[n_made] != NULL;
		r = vm_batch_record(&b, i, outcome, name);
	}
	/* not after a signal: the VMs made stay; the summary says so */
	if (r == 0 && o->wait && n_made && !signal_pending() && wait_made(o, made, n_made, &b) < 0)
		r = -ENOMEM;
	if (made)
		plans_free(made, n_made);
	if (r == 0)
		r = vm_batch_summary(&b, &line, &err, &verdict);
	vm_batch_clear(&b);
	if (r < 0)
		return log_error(TASK, "%s", strerror(-r));
	log_step("%s", line);
	if (verdict == VM_BATCH_NOT_ALL)
		return log_error(o->dry_run ? TASK_CHECK : TASK, "%s", err);
	if (verdict == VM_BATCH_NOT_READY)
		return log_error(TASK_WAIT, "%s", err);
	return 0;
}

int cmd_vm(int argc, char **argv, const struct cmd_opts *opts)
{
	struct vm_opts o = {
		.req = { .path = argv[0] },
		.dry_run = opt_has(opts, OPT_DRY_RUN),
		.wait = opt_has(opts, OPT_WAIT),
		.skip_existing = opt_has(opts, OPT_SKIP_EXISTING),
		.wait_seconds = DEFAULT_WAIT,
		.host = opt_last(opts, OPT_HOST),
		.tmpl = { .name = opt_last(opts, OPT_NAME), .sets = opts->values[OPT_SET] },
	};
	_cleanup_(domains_freep) struct domains *domains = o.req.domains = domains_new(false);
	_cleanup_(vi_options_freep) struct vi_options *options = NULL;
	_cleanup_free_ char *err = NULL;
	const char *count_s = opt_last(opts, OPT_COUNT), *wait_s = opt_last(opts, OPT_WAIT);
	unsigned count = 0;

	(void)argc;
	log_set_quiet(opt_has(opts, OPT_QUIET));
	o.req.tmpl = &o.tmpl;
	if (!domains)
		return log_error(TASK, "%s", strerror(ENOMEM));
	if (vi_options_load(&options, &err) < 0)
		return signal_pending() ? log_error(TASK_CHECK, "interrupted by signal %s", signal_name(signal_pending()))
					: log_error(TASK_CHECK, "cannot learn virt-install's options: %s",
						    err ? err : strerror(ENOMEM));
	/* hidden from its --help, but what qvm passes the UUID with */
	if (vi_options_add(options, "uuid") < 0)
		return log_error(TASK_CHECK, "%s", strerror(ENOMEM));
	o.req.options = options;
	if (count_s && option_number("--count", count_s, 1, VM_BATCH_MAX, &count) < 0)
		return -1;
	o.count = count;
	/* "-": standard input, read once here (--count reads the file per VM) */
	_cleanup_free_ char *text = NULL;
	if (strcmp(argv[0], "-") == 0) {
		_cleanup_strv_free_ char **errors = NULL;
		o.req.path = "<stdin>";
		int r = qvm_file_read_fd(STDIN_FILENO, o.req.path, &text, &o.req.text_len, &errors);
		if (r < 0)
			return print_errors(TASK_FILE, errors, r);
		o.req.text = text ? text : "";
	}
	if (o.tmpl.name) {
		/* each instance's name: {n} filled in (checked for the first and
		 * the last: the number's digits are the only difference) */
		for (unsigned n = 1; n <= (count > 1 ? 2 : 1); n++) {
			_cleanup_free_ char *name = NULL;
			const char *why;
			int r = template_expand(o.tmpl.name, n == 1 ? 1 : count, NULL, &name, NULL, &why);
			if (r == -ENOMEM)
				return log_error(TASK_CHECK, "%s", strerror(ENOMEM));
			if (r < 0)
				return log_error(TASK_CHECK, "--name: %s", why);
			if (!vm_name_valid(name, &why))
				return log_error(TASK_CHECK, "invalid VM name '%s' for --name: %s", name, why);
		}
	}
	if (o.skip_existing && !count_s)
		return log_error(TASK_CHECK, "--skip-existing goes with --count (one VM that exists is an error)");
	if (wait_s && *wait_s && option_number("--wait", wait_s, 0, 86400, &o.wait_seconds) < 0)
		return -1;
	if (count_s)
		return vm_batch(&o, count);
	{
		_cleanup_free_ char *name = NULL;
		_cleanup_(vm_plan_freep) struct vm_plan *made = NULL;
		if (vm_one(&o, &name, &made) != VM_MADE)
			return -1;
		if (!o.wait || !made)
			return 0;
		return wait_made(&o, &made, 1, NULL) == 0 ? 0 : -1;
	}
}
