/* SPDX-License-Identifier: MIT */
/* qvm ssh [--user USER] NAME [-- COMMAND...]: becomes ssh to the VM qvm
 * made (what it connects to, as whom, with which host keys:
 * src/vm/sshplan.h), so that ssh's terminal, output and exit status are
 * the caller's. qvm's own lines go to stderr: stdout is the command's. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "commands.h"
#include "domain.h"
#include "inventory.h"
#include "log.h"
#include "output.h"
#include "sshplan.h"
#include "banned.h"

#define TASK "connecting to VM"

static void say_keys(const struct ssh_plan *p, const char *name)
{
	switch (p->keys) {
	case SSH_KEYS_KNOWN:
		break;
	case SSH_KEYS_PINNED:
		log_note("Pinned %zu host key%s of VM %s from its console log into %s", p->pinned,
			 p->pinned == 1 ? "" : "s", name, p->known_hosts);
		break;
	case SSH_KEYS_FIRST_USE:
		log_note("No host keys of VM %s in its console log%s: ssh accepts the key it is shown first "
			 "and keeps it in %s", name,
			 p->console_block ? " (its key block held no valid key)" : " (yet)", p->known_hosts);
		break;
	}
}

int cmd_ssh(int argc, char **argv, const struct cmd_opts *opts)
{
	_cleanup_free_ char *err = NULL;
	struct ssh_plan plan;
	struct inventory inv;
	struct domains *d;
	int r, e;

	(void)argc;
	if (inventory_load_logged(&inv, TASK) < 0)
		return -1;
	/* read-write: libvirt asks the guest agent only on such connections */
	d = domains_new(false);
	if (!d) {
		inventory_clear(&inv);
		return log_error(TASK, "%s", strerror(ENOMEM));
	}
	r = ssh_plan_make(&plan, argv[0], opt_last(opts, OPT_USER), argv + 1, &inv, d, &err);
	/* nothing of libvirt's outlives the exec */
	domains_free(d);
	inventory_clear(&inv);
	if (r < 0) {
		ssh_plan_clear(&plan);
		return log_error(TASK, "%s", err);
	}
	say_keys(&plan, argv[0]);
	fflush(stdout);
	fflush(stderr);
	/* qvm ignores SIGPIPE, and an ignored signal stays ignored in what
	 * it execs: ssh gets the default */
	signal(SIGPIPE, SIG_DFL);
	execvp(plan.argv[0], plan.argv);
	e = errno;
	signal(SIGPIPE, SIG_IGN);
	ssh_plan_clear(&plan);
	return log_error(TASK, "cannot run ssh: %s", strerror(e));
}
