/* SPDX-License-Identifier: MIT */
/* qvm cleanup [--yes]: finds what interrupted qvm runs left behind and
 * removes it after confirmation (what counts as a leftover:
 * src/vm/leftovers.h). */
#include <errno.h>
#include <string.h>

#include "cleanup.h"
#include "commands.h"
#include "confirm.h"
#include "domain.h"
#include "inventory.h"
#include "leftovers.h"
#include "log.h"
#include "remote.h"
#include "signals.h"
#include "output.h"
#include "settings.h"
#include "banned.h"

#define TASK "cleaning up"

static int find(struct leftovers *l)
{
	_cleanup_free_ char *err = NULL;
	struct inventory inv;
	int r;

	if (inventory_load_logged(&inv, TASK) < 0)
		return -1;
	r = leftovers_find(l, &inv, settings_state_dir(), &err);
	inventory_clear(&inv);
	return r < 0 ? log_error(TASK, "%s", err) : 0;
}

int cmd_cleanup(int argc, char **argv, const struct cmd_opts *opts)
{
	_cleanup_(domains_freep) struct domains *domains = domains_new(false);
	struct leftovers l = { 0 };
	int failed = 0;

	(void)argc;
	(void)argv;
	if (!domains)
		return log_error(TASK, "%s", strerror(ENOMEM));
	/* -q: the list stays when it is asked about (or is all there is to see) */
	log_set_quiet(opt_has(opts, OPT_QUIET) && opt_has(opts, OPT_YES));
	if (find(&l) < 0) {
		leftovers_clear(&l);
		return -1;
	}
	leftovers_show(&l, &log_report);
	int go = l.n > 0 ? confirm(opt_has(opts, OPT_YES), "Remove %zu leftover%s?", l.n, l.n == 1 ? "" : "s") : 0;
	/* without a terminal nothing is removed, and that is no failure:
	 * cleanup is also run just to see what is left */
	if (go == -ENOTTY)
		log_warning("not removing anything without confirmation: " CONFIRM_NO_TERMINAL);
	if (go == -EINTR) {
		leftovers_clear(&l);
		return log_error(TASK, "interrupted by signal %s: nothing removed", signal_name(signal_pending()));
	}
	if (go <= 0 && l.n > 0)
		log_step("Nothing removed; run 'qvm cleanup%s --yes' to remove them", remote_option());
	log_set_quiet(opt_has(opts, OPT_QUIET));
	for (size_t i = 0; go > 0 && i < l.n; i++) {
		_cleanup_free_ char *err = NULL;
		if (signal_pending()) {
			size_t left = l.n - i;
			leftovers_clear(&l);
			return log_error(TASK, "interrupted by signal %s: %zu leftover%s not removed; run "
					 "'qvm cleanup%s' again", signal_name(signal_pending()), left,
					 left == 1 ? "" : "s", remote_option());
		}
		if (leftover_remove(&l, &l.items[i], domains, &log_report, &err) < 0) {
			if (err)
				log_error(TASK, "%s", err);
			failed++;
		}
	}
	leftovers_clear(&l);
	if (failed)
		return log_error(TASK, "%d leftover%s could not be removed", failed, failed == 1 ? "" : "s");
	return 0;
}
