/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "signals.h"
#include "undo.h"
#include "remote.h"
#include "strv.h"
#include "banned.h"

static void step_free(struct undo_step *s)
{
	if (s->free_data)
		s->free_data(s->data);
	else
		free(s->data);
	free(s->what);
	free(s->remedy);
}

int undo_prepare(struct undo *u, undo_fn fn, void *data, char *what, char *remedy)
{
	return undo_prepare_free(u, fn, data, NULL, what, remedy);
}

int undo_prepare_free(struct undo *u, undo_fn fn, void *data, void (*free_data)(void *), char *what,
		      char *remedy)
{
	struct undo_step s = { .fn = fn, .data = data, .free_data = free_data, .what = what, .remedy = remedy };

	if (!data || !what || !remedy) {
		step_free(&s);
		return -ENOMEM;
	}
	if (u->n == u->cap) {
		size_t ncap = u->cap ? u->cap * 2 : 8;
		struct undo_step *ns = realloc(u->steps, ncap * sizeof(*ns));
		if (!ns) {
			step_free(&s);
			return -ENOMEM;
		}
		u->steps = ns;
		u->cap = ncap;
	}
	u->steps[u->n++] = s;
	return 0;
}

void undo_arm(struct undo *u)
{
	if (u->n > 0)
		u->steps[u->n - 1].armed = 1;
}

void undo_keep_older(struct undo *u)
{
	if (u->n > 0)
		u->steps[u->n - 1].keeps_older = 1;
}

static void journal_free(struct undo *u)
{
	while (u->n > 0)
		step_free(&u->steps[--u->n]);
	free(u->steps);
	u->steps = NULL;
	u->cap = 0;
}

/* How to remove what a step left: on a remote host, qvm cleanup there
 * (what was marked) or the step's own remedy run on that host. malloc'd. */
static char *remedy_text(const struct undo_step *s)
{
	const struct host_spec *h = remote_current();

	if (!h)
		return strdup(s->remedy);
	return strdupf("qvm cleanup --host %s --yes once %s answers (or on %s: %s)", h->name, h->name, h->name,
		       s->remedy);
}

int undo_run(struct undo *u, const struct report *rep, const char *task, const char *removing)
{
	int failed = 0;
	const char *kept_for = NULL;

	/* a second ^C must not cut an undo step short */
	signals_hold_children(1);
	for (size_t i = u->n; i-- > 0;) {
		struct undo_step *s = &u->steps[i];
		char *err = NULL;

		if (!s->armed)
			continue;
		if (kept_for) {
			failed++;
			report(rep, REPORT_ERROR, "%s: left behind: %s, kept: qvm cleanup finds %s through it; "
			       "remove them with: qvm cleanup%s --yes", task, s->what, kept_for, remote_option());
			continue;
		}
		if (signals_abandon()) {
			char *remedy = remedy_text(s);
			failed++;
			report(rep, REPORT_ERROR, "%s: stopped by a third signal; left behind: %s; "
			       "remove it with: %s", task, s->what, remedy ? remedy : s->remedy);
			free(remedy);
			continue;
		}
		report(rep, REPORT_BEGIN, "%s %s", removing, s->what);
		if (s->fn(s->data, &err) < 0) {
			failed++;
			report(rep, REPORT_ERROR, "%s: cannot remove %s: %s", task, s->what,
			       err ? err : "unknown error");
			char *remedy = remedy_text(s);
			report(rep, REPORT_ERROR, "%s: left behind: %s; remove it with: %s", task, s->what,
			       remedy ? remedy : s->remedy);
			free(remedy);
			if (s->keeps_older)
				kept_for = s->what;
		} else {
			report(rep, REPORT_DONE, "done");
		}
		free(err);
	}
	signals_hold_children(0);
	journal_free(u);
	return failed;
}

int undo_rollback(struct undo *u, const struct report *rep)
{
	return undo_run(u, rep, "rolling back", "Rolling back: removing");
}

void undo_commit(struct undo *u)
{
	journal_free(u);
}
