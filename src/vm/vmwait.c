/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "domain.h"
#include "report.h"
#include "signals.h"
#include "strv.h"
#include "vmconsole.h"
#include "vmplan.h"
#include "vmwait.h"
#include "banned.h"

#define POLL_NS 250000000L           /* between two reads of the logs */
#define READ_MAX (4u << 20)          /* bytes read of one log per round: a huge log does not stall the others */

struct waiter {
	struct vm_plan *p;
	struct vm_wait_result *res;
	struct console_log log;
	bool follow;                 /* false: waits for an address */
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int vm_uri_remote(const char *uri)
{
	const char *s = uri ? strstr(uri, "://") : NULL;

	return s && !strchr("/?", s[3]) && s[3] != '\0';
}

static struct domain_ref ref_of(const struct vm_plan *p)
{
	return (struct domain_ref){ .uri = p->file->connect, .uuid = p->uuid, .name = p->file->name };
}

static void end(struct waiter *w, enum vm_wait_outcome o, char *err)
{
	w->res->outcome = o;
	free(w->res->err);
	w->res->err = err;
	console_log_clear(&w->log);
}

/* The last thing the console said, for an error. */
static char *last_seen(const struct waiter *w)
{
	if (!w->log.last)
		return strdupf("nothing on its console yet (log %s)", w->p->console_log);
	return strdupf("last line of its console: '%s' (log %s)", w->log.last, w->p->console_log);
}

/* Ready: how long since the domain started, and the way in when libvirt
 * already knows an address (one quick try; none is no error). */
static void ready(struct waiter *w, const struct report *rep)
{
	const struct domain_ref ref = ref_of(w->p);
	const char *name = w->p->file->name;
	_cleanup_free_ char *ip = NULL, *why = NULL;

	if (w->follow && w->p->started > 0)
		report(rep, REPORT_STEP, "VM %s ready in %.1f s", name, now() - w->p->started);
	else if (w->follow)
		report(rep, REPORT_STEP, "VM %s ready", name);
	if (domain_ip(w->p->domains, &ref, DOMAIN_IP_LEASE | DOMAIN_IP_AGENT, &ip, &why) == 0 && ip)
		report(rep, REPORT_STEP, "VM %s has address %s; connect with: qvm ssh %s", name, ip, name);
	end(w, VM_WAIT_READY, NULL);
}

/* cloud-init finished: ready, or its failures said and the VM kept. */
static void finished(struct waiter *w, const struct report *rep)
{
	const struct console_log *l = &w->log;
	const char *name = w->p->file->name;

	if (!l->n_failures)
		return ready(w, rep);
	for (size_t i = 0; l->failures && l->failures[i]; i++)
		report(rep, REPORT_WARNING, "VM %s: cloud-init: %s", name, l->failures[i]);
	if (l->n_failures > CONSOLE_FAILURES_MAX)
		report(rep, REPORT_WARNING, "VM %s: cloud-init: %zu more failure lines in %s", name,
		       l->n_failures - CONSOLE_FAILURES_MAX, w->p->console_log);
	end(w, VM_WAIT_FAILED,
	    strdupf("VM %s: cloud-init finished with %zu failure%s (above; log %s); the VM stays created", name,
		    l->n_failures, l->n_failures == 1 ? "" : "s", w->p->console_log));
}

/* One round of one VM's log: 1 when there may be more to read, 0, or
 * -ENOMEM. A log that cannot be read ends the VM's wait. */
static int read_log(struct waiter *w, const struct report *rep)
{
	_cleanup_free_ char *why = NULL;
	int r = console_log_poll(&w->log, READ_MAX, &why);

	if (r == -ENOMEM)
		return r;
	/* a log virtlogd (root) wrote, read by a qvm that is not root */
	if (r == -EACCES) {
		report(rep, REPORT_STEP, "VM %s: %s; waiting for its address instead", w->p->file->name, why);
		console_log_clear(&w->log);
		w->follow = false;
		return 0;
	}
	if (r < 0) {
		end(w, VM_WAIT_ERROR, strdupf("VM %s: %s (the VM stays created)", w->p->file->name, why));
		return 0;
	}
	if (w->log.final) {
		finished(w, rep);
		return 0;
	}
	return r;
}

/* Without a log: an address is as ready as qvm can tell. */
static void read_address(struct waiter *w, const struct report *rep)
{
	const struct domain_ref ref = ref_of(w->p);
	_cleanup_free_ char *ip = NULL, *why = NULL;

	if (domain_ip(w->p->domains, &ref, DOMAIN_IP_LEASE | DOMAIN_IP_AGENT, &ip, &why) < 0) {
		end(w, VM_WAIT_ERROR, strdupf("VM %s: %s", w->p->file->name, why ? why : "unknown error"));
		return;
	}
	if (!ip)
		return;
	report(rep, REPORT_STEP, "VM %s has address %s (cloud-init may still be running); connect with: qvm ssh %s",
	       w->p->file->name, ip, w->p->file->name);
	end(w, VM_WAIT_READY, NULL);
}

/* The domain no longer runs: the log read to its end first (cloud-init
 * may have finished and powered the guest off). */
static int check_running(struct waiter *w, const struct report *rep)
{
	const struct domain_ref ref = ref_of(w->p);
	_cleanup_free_ char *why = NULL, *seen = NULL;
	struct domain_info info;
	int r;

	if (domain_info_get(w->p->domains, &ref, NULL, &info, &why) < 0) {
		end(w, VM_WAIT_ERROR, strdupf("VM %s: %s", w->p->file->name, why ? why : "unknown error"));
		return 0;
	}
	if (info.defined && strcmp(info.state, "shut off") != 0 && strcmp(info.state, "crashed") != 0 &&
	    strcmp(info.state, "in shutdown") != 0)
		return 0;
	if (w->follow) {
		do
			r = read_log(w, rep);
		while (r == 1 && !signal_pending());
		if (r < 0)
			return r;
		if (w->res->outcome != VM_WAIT_PENDING)
			return 0;
		seen = last_seen(w);
	}
	end(w, VM_WAIT_STOPPED,
	    strdupf("VM %s %s before %s; %s%sthe VM stays created", w->p->file->name,
		    info.defined ? info.state : "was undefined", w->follow ? "cloud-init finished" : "it had an address",
		    seen ? seen : "", seen ? "; " : ""));
	return 0;
}

static void say_start(const struct waiter *w, unsigned seconds, const struct report *rep)
{
	const struct vm_plan *p = w->p;
	const char *uri = p->uri ? p->uri : p->file->connect;

	if (w->follow)
		report(rep, REPORT_STEP, "Waiting up to %u seconds for cloud-init to finish on VM %s (console log %s)",
		       seconds, p->file->name, p->console_log);
	else if (p->custom_final)
		report(rep, REPORT_STEP, "Waiting up to %u seconds for VM %s's address: its user-data sets "
		       "final_message, which replaces the message that tells cloud-init finished", seconds,
		       p->file->name);
	else if (p->console_log && vm_uri_remote(uri))
		report(rep, REPORT_STEP, "Waiting up to %u seconds for VM %s's address: its console log is on the "
		       "host of %s, which qvm cannot read", seconds, p->file->name, uri);
	else
		report(rep, REPORT_STEP, "Waiting up to %u seconds for VM %s's address: %s", seconds,
		       p->file->name, p->console_why ? p->console_why : "it has no console log");
}

/* The loop over every pending VM; returns 0 or -ENOMEM. */
static int wait_all(struct waiter *ws, size_t n, unsigned seconds, const struct report *rep)
{
	const double deadline = now() + seconds;
	double next_check = 0;

	for (;;) {
		size_t pending = 0;
		bool more = false;           /* a log has more to read: no pause */
		double t = now();
		bool check = t >= next_check;
		int r;

		if (check)
			next_check = t + 1;
		for (size_t i = 0; i < n; i++) {
			struct waiter *w = &ws[i];
			if (w->res->outcome != VM_WAIT_PENDING)
				continue;
			r = 0;
			if (w->follow)
				r = read_log(w, rep);
			else if (check)
				read_address(w, rep);
			more |= r == 1;
			/* the state once a second: libvirt calls are not free */
			if (r >= 0 && check && w->res->outcome == VM_WAIT_PENDING)
				r = check_running(w, rep);
			if (r < 0)
				return r;
			pending += w->res->outcome == VM_WAIT_PENDING;
		}
		if (!pending)
			return 0;
		if (signal_pending()) {
			for (size_t i = 0; i < n; i++) {
				char *err = NULL;
				if (ws[i].res->outcome != VM_WAIT_PENDING)
					continue;
				vm_interrupted(&err);
				end(&ws[i], VM_WAIT_ERROR, strdupf("VM %s: %s; the VM stays created", ws[i].p->file->name,
								   err ? err : "interrupted"));
				free(err);
			}
			return 0;
		}
		if (t >= deadline)
			break;
		if (!more)
			nanosleep(&(struct timespec){ .tv_nsec = POLL_NS }, NULL);
	}
	for (size_t i = 0; i < n; i++) {
		struct waiter *w = &ws[i];
		_cleanup_free_ char *seen = NULL;
		if (w->res->outcome != VM_WAIT_PENDING)
			continue;
		if (!w->follow) {
			end(w, VM_WAIT_TIMEOUT, strdupf("VM %s has no IP address after %u seconds (it stays created)",
							w->p->file->name, seconds));
			continue;
		}
		seen = last_seen(w);
		end(w, VM_WAIT_TIMEOUT, strdupf("VM %s: cloud-init did not finish within %u seconds; %s; the VM stays "
						"created", w->p->file->name, seconds, seen ? seen : ""));
	}
	return 0;
}

int vm_wait_ready(struct vm_plan *const *plans, size_t n, unsigned seconds, const struct report *rep,
		  struct vm_wait_result *results)
{
	_cleanup_free_ struct waiter *ws = calloc(n ? n : 1, sizeof(*ws));
	size_t not_ready = 0;
	int r = 0;

	if (!ws)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct vm_plan *p = plans[i];
		const char *uri = p->uri ? p->uri : p->file->connect;
		ws[i] = (struct waiter){ .p = p, .res = &results[i] };
		results[i] = (struct vm_wait_result){ .outcome = VM_WAIT_PENDING };
		ws[i].log.fd = -1;
		ws[i].follow = p->console_log && !vm_uri_remote(uri) && !p->custom_final;
		if (ws[i].follow && console_log_init(&ws[i].log, p->console_log) < 0)
			r = -ENOMEM;
		else if (ws[i].follow && p->console_before)
			console_log_skip_existing(&ws[i].log, p->console_dev, p->console_ino, p->console_size,
						  p->console_tail, p->console_tail_len);
	}
	for (size_t i = 0; r == 0 && i < n; i++)
		say_start(&ws[i], seconds, rep);
	if (r == 0)
		r = wait_all(ws, n, seconds, rep);
	for (size_t i = 0; i < n; i++) {
		console_log_clear(&ws[i].log);
		if (r == 0 && results[i].outcome != VM_WAIT_READY && !results[i].err)
			r = -ENOMEM;
		not_ready += results[i].outcome != VM_WAIT_READY;
	}
	return r < 0 ? r : (int)not_ready;
}

void vm_wait_results_clear(struct vm_wait_result *results, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(results[i].err);
		results[i].err = NULL;
	}
}
