/* SPDX-License-Identifier: MIT */
/* --host (and a vm document's host:): the host a command works on, opened
 * before its work and closed after it (remote.h). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>

#include "cleanup.h"
#include "commands.h"
#include "domain.h"
#include "hosts.h"
#include "log.h"
#include "remote.h"
#include "banned.h"

#define TASK "connecting to host"

static void *preload(void *arg)
{
	(void)arg;
	domains_preload();
	return NULL;
}

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
	if (r == 0) {
		/* libvirt is loaded while ssh connects: a command there needs both */
		pthread_t t;
		sigset_t all, old;
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);   /* signals stay this thread's */
		bool loading = pthread_create(&t, NULL, preload, NULL) == 0;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		r = remote_open(&h, &err);
		if (loading)
			pthread_join(t, NULL);
	}
	host_spec_clear(&h);
	if (r < 0)
		return log_error(TASK, "%s", err ? err : strerror(-r));
	return 0;
}
