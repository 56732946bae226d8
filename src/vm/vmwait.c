/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "cleanup.h"
#include "domain.h"
#include "report.h"
#include "signals.h"
#include "vmplan.h"
#include "vmwait.h"
#include "banned.h"

int vm_wait_address(const struct vm_plan *p, unsigned seconds, const struct report *rep, char **err)
{
	const struct qvm_file *f = p->file;
	const struct domain_ref ref = { .uri = f->connect, .uuid = p->uuid, .name = f->name };
	_cleanup_free_ char *ip = NULL;

	report(rep, REPORT_BEGIN, "Waiting up to %u seconds for VM %s's address", seconds, f->name);
	for (unsigned waited = 0;; waited++) {
		_cleanup_free_ char *why = NULL;
		int r = domain_ip(p->domains, &ref, DOMAIN_IP_LEASE | DOMAIN_IP_AGENT, &ip, &why);
		if (r < 0)
			return report_error(err, r, "VM %s: %s", f->name, why ? why : "unknown error");
		if (ip)
			break;
		if (signal_pending())
			return vm_interrupted(err);
		if (waited >= seconds)
			return report_error(err, -ETIMEDOUT, "VM %s has no IP address after %u seconds (it stays created)",
					    f->name, seconds);
		sleep(1);
	}
	report(rep, REPORT_DONE, "%s", ip);
	/* no user name: nothing of user-data is ever printed */
	report(rep, REPORT_STEP, "VM %s has address %s; connect with: ssh USER@%s (a user its user-data creates)",
	       f->name, ip, ip);
	return 0;
}
