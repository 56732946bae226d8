/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "marks.h"
#include "report.h"
#include "target.h"
#include "remote.h"
#include "banned.h"

int target_check(const struct target *t, enum target_role role, char **err)
{
	if (t->type) {
		/* import names what is in the way by its type, vm by what it
		 * was to be */
		const char *noun = role == TARGET_CLONE  ? "clone target"
				 : role == TARGET_VOLUME ? "zvol target"
				 : strcmp(t->type, "volume") == 0 ? "zvol" : "dataset";
		/* only qvm's own marks count, not ones inherited from a parent;
		 * an image's leftover may hold its @base snapshot already */
		/* qvm cleanup finds it by the same marks, with what goes with it
		 * (a VM's domain and seed), and lists it before removing */
		if (marks_leftover(t->dataset))
			return report_error(err, -EEXIST, "%s %s already exists: it is left over from an "
					    "interrupted qvm run (qvm:state=creating); remove what such runs "
					    "left with: qvm cleanup%s --yes", noun, t->dataset, remote_option());
		return report_error(err, -EEXIST, "%s %s already exists%s", noun, t->dataset,
				    role == TARGET_IMAGE ? "" : " (qvm never replaces a dataset)");
	}
	if (t->pool && !t->pool_type)
		return report_error(err, -ENOENT, "pool %s does not exist", t->pool);
	/* a VM has several disks: say whose parent it is */
	const char *of = role == TARGET_CLONE ? " of clone " : role == TARGET_VOLUME ? " of zvol " : "";
	const char *whose = role == TARGET_IMAGE ? "" : t->dataset;
	if (t->parent && !t->parent_type)
		return report_error(err, -ENOENT, "parent dataset %s%s%s does not exist", t->parent, of, whose);
	if (t->parent && strcmp(t->parent_type, "filesystem") != 0)
		return report_error(err, -ENOTDIR, "parent dataset %s%s%s is a %s, not a filesystem", t->parent,
				    of, whose, t->parent_type);
	return 0;
}
