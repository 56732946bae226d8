/* SPDX-License-Identifier: MIT */
/* qvm import SOURCE ZVOL (SPEC §2): the options into a request for the
 * import job (import.h), which checks everything, then makes the zvol. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "commands.h"
#include "import.h"
#include "log.h"
#include "banned.h"

#define TASK "importing cloud image"

int cmd_import(int argc, char **argv, const struct cmd_opts *opts)
{
	const struct import_request req = {
		.source = argv[0],
		.zvol = argv[1],
		.size = opt_last(opts, OPT_SIZE),
		.sha256 = opt_last(opts, OPT_SHA256),
		.sha512 = opt_last(opts, OPT_SHA512),
		.checksum_file = opt_last(opts, OPT_CHECKSUM_FILE),
		.force = opt_has(opts, OPT_FORCE),
		.live = !opt_has(opts, OPT_QUIET) && log_can_redraw(),
	};
	_cleanup_free_ char *err = NULL;
	struct import *im;
	int r;

	(void)argc;
	log_set_quiet(opt_has(opts, OPT_QUIET));
	im = import_new(&req);
	if (!im)
		return log_error(TASK, "%s", strerror(ENOMEM));
	r = import_check(im, &log_report, &err);
	if (r == 0)
		r = import_run(im, &log_report, &err);
	if (r < 0)
		log_error(TASK, "%s", err);
	/* after the error is told: a failed run's changes undone */
	import_end(im);
	return r < 0 ? -1 : 0;
}
