/* SPDX-License-Identifier: MIT */
/* qvm destroy [--yes] [--keep-disks] NAME...: stops and undefines each VM's
 * domain, destroys its disks and removes its seed directory (what is
 * removed, and what is refused: src/vm/destroy.h). Each VM succeeds or
 * fails on its own; any failure makes the exit status 1. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "commands.h"
#include "confirm.h"
#include "destroy.h"
#include "domain.h"
#include "inventory.h"
#include "log.h"
#include "output.h"
#include "signals.h"
#include "strv.h"
#include "banned.h"

#define TASK "destroying VM"

/* Plans for argv's VMs, each name once; the ones refused are reported
 * and go to *failed. The number of plans made, or -1 after reporting. */
static int plan_all(int argc, char **argv, struct domains *d, struct destroy_plan *plans, bool *ok,
		    char ***failed)
{
	_cleanup_free_ char *err = NULL;
	struct inventory inv;
	int nok = 0;

	if (inventory_load_logged(&inv, TASK) < 0)
		return -1;
	for (int i = 0; i < argc; i++) {
		bool named_before = false;
		for (int j = 0; j < i; j++)
			named_before = named_before || strcmp(argv[j], argv[i]) == 0;
		if (named_before)
			continue;    /* destroyed once */
		ok[i] = destroy_plan_make(&plans[i], argv[i], &inv, d, &err) == 0;
		if (ok[i]) {
			nok++;
			continue;
		}
		log_error(TASK, "%s", err);
		if (strv_push(failed, argv[i]) < 0) {
			nok = log_error(TASK, "%s", strerror(ENOMEM));
			break;
		}
	}
	inventory_clear(&inv);
	return nok;
}

/* Shows what is to go: 0 to go ahead (--yes, or a yes on the terminal),
 * else -1 after saying why not. */
static int confirmed(const struct destroy_plan *plans, const bool *ok, int argc, int nok, bool keep_disks,
		     const struct cmd_opts *opts)
{
	int r;

	for (int i = 0; i < argc; i++)
		if (ok[i])
			destroy_plan_show(&plans[i], keep_disks, &log_report);
	r = confirm(opt_has(opts, OPT_YES), "Destroy %d VM%s?", nok, nok == 1 ? "" : "s");
	/* -q: what a question is about was shown; the steps after it are not */
	log_set_quiet(opt_has(opts, OPT_QUIET));
	if (r == -ENOTTY)
		return log_error(TASK, "not destroying anything without confirmation: " CONFIRM_NO_TERMINAL);
	if (r == -EINTR)
		return log_error(TASK, "interrupted by signal %s: nothing destroyed", signal_name(signal_pending()));
	/* what was asked was not done: an error, as apt's "Abort." (cleanup's
	 * no is not: listing is half of what it is for) */
	if (r == 0)
		return log_error(TASK, "not confirmed: nothing destroyed");
	return r > 0 ? 0 : -1;
}

int cmd_destroy(int argc, char **argv, const struct cmd_opts *opts)
{
	bool keep_disks = opt_has(opts, OPT_KEEP_DISKS);
	_cleanup_(domains_freep) struct domains *d = domains_new(false);
	_cleanup_strv_free_ char **failed = NULL;
	_cleanup_free_ struct destroy_plan *plans = calloc((size_t)argc, sizeof(*plans));
	_cleanup_free_ bool *ok = calloc((size_t)argc, sizeof(*ok));
	int nok, r = 0;

	if (!d || !plans || !ok)
		return log_error(TASK, "%s", strerror(ENOMEM));
	log_set_quiet(opt_has(opts, OPT_QUIET) && opt_has(opts, OPT_YES));
	nok = plan_all(argc, argv, d, plans, ok, &failed);
	if (nok > 0)
		r = confirmed(plans, ok, argc, nok, keep_disks, opts);
	for (int i = 0; r == 0 && nok > 0 && i < argc; i++) {
		_cleanup_free_ char *err = NULL;
		if (!ok[i])
			continue;
		if (signal_pending() || destroy_plan_run(&plans[i], d, keep_disks, &log_report, &err) < 0) {
			if (err)
				log_error(TASK, "%s", err);
			if (strv_push(&failed, argv[i]) < 0)
				r = log_error(TASK, "%s", strerror(ENOMEM));
		}
	}
	for (int i = 0; i < argc; i++)
		destroy_plan_clear(&plans[i]);
	if (nok < 0 || r < 0)
		return -1;
	if (failed) {
		_cleanup_free_ char *names = strv_join(failed, ", ");
		return log_error("destroying VMs", "%zu of %d VM%s not destroyed: %s", strv_length(failed), argc,
				 argc == 1 ? "" : "s", names ? names : "");
	}
	return 0;
}
