/* SPDX-License-Identifier: MIT */
/* --host (and a vm document's host:): the host a command works on, opened
 * before its work and closed after it (remote.h). */
#include <errno.h>
#include <string.h>

#include "cleanup.h"
#include "commands.h"
#include "hosts.h"
#include "log.h"
#include "remote.h"
#include "banned.h"

#define TASK "connecting to host"

int cmd_host_open(const char *name)
{
	struct host_list hosts = { 0 };
	struct host_spec h = { 0 };
	_cleanup_free_ char *err = NULL;
	int r;

	if (strcmp(name, "auto") == 0)
		return log_error(TASK, "--host auto chooses a host for qvm vm only");
	r = hosts_load(&hosts, &err);
	if (r == 0)
		r = hosts_resolve(&hosts, name, &h, &err);
	hosts_clear(&hosts);
	if (r == 0)
		r = remote_open(&h, &err);
	host_spec_clear(&h);
	if (r < 0)
		return log_error(TASK, "%s", err ? err : strerror(-r));
	return 0;
}
