/* SPDX-License-Identifier: MIT */
/* The copy job (copy.h): checks here, checks there, then one zfs send |
 * zfs recv -s through the run's ssh connection, moved and counted by qvm,
 * and the copy marked ready under the undo journal. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "copy.h"
#include "inventory.h"
#include "marks.h"
#include "msgtext.h"
#include "names.h"
#include "process.h"
#include "progress.h"
#include "remote.h"
#include "report.h"
#include "signals.h"
#include "size.h"
#include "strv.h"
#include "undo-steps.h"
#include "undo.h"
#include "zfs.h"
#include "banned.h"

struct copy {
	struct copy_request req;
	char *err;
	char *snapshot;              /* IMAGE@base */
	char *dataset;               /* on the host */
	char *parent, *pool;         /* the dataset's, on the host */
	char **props;                /* zfs recv -o: the image's marks */
	unsigned flags;              /* ZFS_SEND_RAW for an encrypted image */
	uint64_t total;              /* the whole stream, as zfs send -n -P estimates it */
	uint64_t left;               /* what is left to send (all of it unless resuming) */
	char *token;                 /* the host's receive_resume_token: resume */
	const char *host;            /* the open host's name (valid while it is open) */
	bool checked_here, checked_there;
	const struct report *rep;    /* of the run, for the rollback */
	struct undo undo;
};

#define copy_fail(c, ...) report_error(&(c)->err, -1, __VA_ARGS__)
/* The same, handed to the caller at once. */
#define copy_error(c, err, ...) (copy_fail(c, __VA_ARGS__), failed(c, err))

/* Hands the job's error to the caller. */
static int failed(struct copy *c, char **err)
{
	free(*err);
	*err = TAKE_PTR(c->err);
	return -1;
}

struct copy *copy_new(const struct copy_request *req)
{
	struct copy *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->req = *req;
	if (!(c->dataset = strdup(req->dataset ? req->dataset : req->image))) {
		free(c);
		return NULL;
	}
	return c;
}

/* A name from the command line, as a message shows it. */
static const char *shown(const char *name, char *buf, size_t size)
{
	msg_text(buf, size, name, strlen(name));
	return buf;
}

static int check_names(struct copy *c)
{
	const char *why;
	char buf[1100];

	if (!dataset_name_valid(c->req.image, false, &why))
		return copy_fail(c, "invalid image name '%s': %s", shown(c->req.image, buf, sizeof(buf)), why);
	if (!dataset_name_valid(c->dataset, false, &why))
		return copy_fail(c, "invalid dataset name '%s': %s", shown(c->dataset, buf, sizeof(buf)), why);
	c->parent = dataset_parent(c->dataset);
	c->pool = dataset_pool(c->dataset);
	if (!c->parent)
		return copy_fail(c, "invalid dataset name '%s': an image needs a parent dataset (POOL/NAME)",
				 c->dataset);
	if (!c->pool || !(c->snapshot = strdupf("%s@base", c->req.image)))
		return copy_fail(c, "%s", strerror(ENOMEM));
	return 0;
}

/* The image's own marks, from the inventory: qvm's image, imported to the
 * end; the marks its copy gets. */
static int check_marks(struct copy *c)
{
	_cleanup_free_ char *err = NULL;
	const struct volume *v = NULL;
	struct inventory inv = { 0 };
	int r = inventory_load(&inv, &err);

	if (r < 0)
		return copy_fail(c, "cannot list the volumes of this host: %s", err ? err : strerror(-r));
	for (size_t i = 0; i < inv.n && !v; i++)
		if (strcmp(inv.v[i].name, c->req.image) == 0)
			v = &inv.v[i];
	if (!v || !volume_is_image(v))
		r = copy_fail(c, "%s is not an image qvm imported (qvm images lists them)", c->req.image);
	else if (volume_is_creating(v))
		r = copy_fail(c, "image %s is not ready: its import has not finished (qvm:state=%s)", c->req.image,
			      v->state);
	else if (marks_image_copy(v, &c->props) < 0)
		r = copy_fail(c, "%s", strerror(ENOMEM));
	inventory_clear(&inv);
	return r;
}

int copy_check_here(struct copy *c, const struct report *rep, char **err)
{
	static const char *const props[] = { "encryption", NULL };
	_cleanup_free_ char *why = NULL;
	char *types[2] = { NULL, NULL }, *values[2] = { NULL, NULL };
	int r;

	(void)rep;
	if (check_names(c) < 0)
		return failed(c, err);
	/* the image and its snapshot, and whether its blocks are encrypted */
	r = zfs_get_types_props((const char *[]){ c->req.image, c->snapshot }, 2, props, types, NULL, values, &why);
	if (r < 0)
		return copy_error(c, err, "cannot check image %s: %s", c->req.image, why ? why : strerror(-r));
	_cleanup_free_ char *type = types[0], *snap_type = types[1], *enc = values[0];
	free(values[1]);
	if (!type)
		r = copy_fail(c, "image %s does not exist on this host (qvm images lists the images qvm imported)",
			      c->req.image);
	else if (strcmp(type, "volume") != 0)
		r = copy_fail(c, "%s is a %s, not an image qvm imported (qvm images lists them)", c->req.image, type);
	else if (check_marks(c) < 0)
		r = -1;
	else if (!snap_type)
		r = copy_fail(c, "image %s has no snapshot %s to copy", c->req.image, c->snapshot);
	if (r < 0)
		return failed(c, err);
	/* raw: an encrypted image's blocks go as they are, its key stays here */
	if (enc && strcmp(enc, "off") != 0 && strcmp(enc, "-") != 0)
		c->flags |= ZFS_SEND_RAW;
	free(why);
	why = NULL;
	r = zfs_send_size(c->snapshot, c->flags, &c->total, &why);
	if (r < 0)
		return copy_error(c, err, "cannot estimate the size of %s: %s", c->snapshot, why ? why : strerror(-r));
	c->left = c->total;
	c->checked_here = true;
	return 0;
}

/* What the host holds when another copy, of a qvm process still running
 * here (its run id run), is receiving into the dataset. */
static const char *another_copy(const struct copy *c, const char *run)
{
	static char text[1200];
	char buf[300];

	snprintf(text, sizeof(text), "%s on %s is being received by another qvm copy still running (run %s): let it "
		 "finish; if it fails, run the same command again to resume it", c->dataset, c->host,
		 shown(run, buf, sizeof(buf)));
	return text;
}

/* Whether the partial receive the host holds is an interrupted copy of
 * qvm's, not under way. A copy receives a new dataset with -o qvm:kind=image
 * -o qvm:state=creating -o qvm:run=RUN, which zfs sets on that dataset
 * before the stream: they are on it, set there, from the start. A receive
 * qvm did not start lacks them: an admin's own zfs recv -s of a new
 * dataset, or a zfs recv -s -F into one that was there before (its partial
 * state is the hidden DATASET/%recv, its token shown on the dataset, whose
 * own properties stay the dataset's). Anything else is left as it is. */
static int check_partial(struct copy *c)
{
	_cleanup_free_ char *out = NULL, *why = NULL;
	struct volume v;
	int r = marks_own(c->dataset, &v, &out, &why);

	if (r < 0)
		return copy_fail(c, "cannot check the partial receive into %s on %s: %s", c->dataset, c->host,
				 why ? why : strerror(-r));
	if (!v.kind || strcmp(v.kind, "image") != 0 || !v.state || strcmp(v.state, MARK_STATE_CREATING) != 0 ||
	    !v.run || !*v.run)
		return copy_fail(c, "%s on %s holds a partial receive (zfs recv -s) that is not an interrupted copy of "
				 "qvm's (no " MARK_KIND "=image, " MARK_STATE "=" MARK_STATE_CREATING " and " MARK_RUN
				 " set on it): left as it is; `zfs recv -A %s` on %s discards that partial receive, "
				 "or copy to another dataset (%s:POOL/NAME)", c->dataset, c->host, c->dataset, c->host,
				 c->host);
	/* its receive still going: zfs would refuse a second one, and the
	 * partial state is that copy's, not to be discarded */
	if (marks_run_local(v.run) && marks_run_alive(v.run))
		return copy_fail(c, "%s", another_copy(c, v.run));
	return 0;
}

/* The interrupted copy the host holds: of this image, and how much of it. */
static int check_resume(struct copy *c, const struct report *rep)
{
	_cleanup_free_ char *why = NULL, *snap = NULL;
	char a[32], b[32];
	int r;

	if (check_partial(c) < 0)
		return -1;
	/* zfs send -t takes raw-ness from the token (rawok), not from -w: the
	 * host, which keeps the token, would decide whether an encrypted
	 * image's blocks leave here decrypted */
	if (c->flags & ZFS_SEND_RAW)
		return copy_fail(c, "%s on %s holds an interrupted copy of encrypted image %s, which qvm does not "
				 "resume (%s keeps the resume token, which would decide whether the rest is sent "
				 "encrypted or decrypted): `zfs recv -A %s` on %s discards it; then copy again",
				 c->dataset, c->host, c->req.image, c->host, c->dataset, c->host);
	if (!zfs_resume_token_valid(c->token))
		return copy_fail(c, "%s on %s holds an interrupted receive whose resume token zfs would misread: "
				 "`zfs recv -A %s` on %s discards it", c->dataset, c->host, c->dataset, c->host);
	r = zfs_send_resume_size(c->token, &c->left, &snap, &why);
	if (r < 0)
		return copy_fail(c, "%s on %s holds an interrupted copy this host cannot resume (%s): "
				 "`zfs recv -A %s` on %s discards it", c->dataset, c->host, why ? why : strerror(-r),
				 c->dataset, c->host);
	if (!snap || strcmp(snap, c->snapshot) != 0) {
		char s[600];
		return copy_fail(c, "%s on %s holds an interrupted copy of %s, not of %s: `zfs recv -A %s` on %s "
				 "discards it", c->dataset, c->host,
				 snap ? shown(snap, s, sizeof(s)) : "another snapshot",
				 c->snapshot, c->dataset, c->host);
	}
	report(rep, REPORT_STEP, "Resuming copy of %s to %s at %s of %s", c->req.image, c->host,
	       size_format(c->total > c->left ? c->total - c->left : 0, a, sizeof(a)),
	       size_format(c->total, b, sizeof(b)));
	return 0;
}

int copy_check_there(struct copy *c, const struct report *rep, char **err)
{
	static const char *const props[] = { MARK_KIND, "receive_resume_token", NULL };
	const struct host_spec *h = remote_current();
	_cleanup_free_ char *why = NULL;
	char *types[3] = { NULL }, *values[6] = { NULL };
	int r;

	if (!c->checked_here || !h)
		return copy_error(c, err, "no image checked, or no host open");
	c->host = h->name;
	r = zfs_get_types_props((const char *[]){ c->dataset, c->parent, c->pool }, 3, props, types, NULL, values,
				&why);
	if (r < 0)
		return copy_error(c, err, "cannot check %s on %s: %s", c->dataset, c->host, why ? why : strerror(-r));
	_cleanup_free_ char *type = types[0], *parent_type = types[1], *pool_type = types[2];
	_cleanup_free_ char *kind = values[0], *token = values[1];
	for (int i = 2; i < 6; i++)
		free(values[i]);
	if (token && strcmp(token, "-") != 0 && type) {
		c->token = TAKE_PTR(token);
		r = check_resume(c, rep);
	} else if (type) {
		r = copy_fail(c, "%s %s exists on %s", kind && strcmp(kind, "image") == 0 ? "image" : "dataset",
			      c->dataset, c->host);
	} else if (!pool_type) {
		r = copy_fail(c, "pool %s does not exist on %s", c->pool, c->host);
	} else if (!parent_type) {
		r = copy_fail(c, "parent dataset %s does not exist on %s", c->parent, c->host);
	} else if (strcmp(parent_type, "filesystem") != 0) {
		r = copy_fail(c, "parent dataset %s on %s is a %s, not a filesystem", c->parent, c->host,
			      parent_type);
	}
	if (r < 0)
		return failed(c, err);
	c->checked_there = true;
	return 0;
}

struct moved {
	struct progress *p;
};

static void on_bytes(uint64_t bytes, void *ctx)
{
	progress_update(((struct moved *)ctx)->p, bytes);
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* What a resumed copy that is whole but not ready has become: not removed
 * (it was there before this run), and marked creating by this run, which
 * qvm cleanup takes for a leftover once the run is over. */
static const char *left_as_it_is(const struct copy *c)
{
	static char text[400];

	snprintf(text, sizeof(text), "the copy there was begun before this run, so it is left as it is "
		 "(" MARK_STATE "=" MARK_STATE_CREATING "): remove it with: qvm cleanup --host %s --yes, then copy "
		 "again", c->host);
	return text;
}

/* After a stream that did not finish: what the host kept. A partial
 * receive to resume is said so; a whole copy this run made (the stream
 * ended, the answer was lost) is removed by the rollback, but not one a
 * resumed copy finished. */
static int after_failure(struct copy *c, const char *cause)
{
	static const char *const props[] = { "receive_resume_token", MARK_RUN, NULL };
	_cleanup_free_ char *why = NULL;
	char *types[1] = { NULL }, *values[2] = { NULL, NULL };
	int r;

	r = zfs_get_types_props((const char *[]){ c->dataset }, 1, props, types, NULL, values, &why);
	_cleanup_free_ char *type = types[0], *token = values[0], *run = values[1];
	/* an encrypted image's copy is not resumed (check_resume) */
	const char *again = c->flags & ZFS_SEND_RAW ? "" : "run the same command again to resume, or ";
	if (r < 0)
		return copy_fail(c, "%s; what %s kept cannot be told (%s): %s`zfs recv -A %s` on %s to discard it",
				 cause, c->host, why ? why : strerror(-r), again, c->dataset, c->host);
	/* another copy's receive, begun between this run's check and its
	 * own: that copy's, not to be discarded */
	if (type && token && strcmp(token, "-") != 0 && run && strcmp(run, marks_run_id()) != 0 &&
	    marks_run_local(run) && marks_run_alive(run))
		return copy_fail(c, "%s; %s", cause, another_copy(c, run));
	if (type && token && strcmp(token, "-") != 0 && (c->flags & ZFS_SEND_RAW))
		return copy_fail(c, "%s; interrupted, and not to be resumed, as the image is encrypted: `zfs recv -A %s` "
				 "on %s discards it; then copy again", cause, c->dataset, c->host);
	if (type && token && strcmp(token, "-") != 0)
		return copy_fail(c, "%s; interrupted: run the same command again to resume, or `zfs recv -A %s` on %s "
				 "to discard it", cause, c->dataset, c->host);
	if (type && run && strcmp(run, marks_run_id()) == 0 && c->token)
		return copy_fail(c, "%s; %s", cause, left_as_it_is(c));
	if (type && run && strcmp(run, marks_run_id()) == 0) {
		if (undo_prepare_destroy(&c->undo, c->dataset, 1) < 0)
			return copy_fail(c, "%s", strerror(ENOMEM));
		undo_arm(&c->undo);
	}
	return copy_fail(c, "%s", cause);
}

int copy_run(struct copy *c, const struct report *rep, char **err)
{
	_cleanup_free_ char *why = NULL;
	struct relay_result res;
	struct progress p;
	struct moved m = { .p = &p };
	struct timespec t0;
	char label[1200], sz[32];
	uint64_t moved;
	int r;

	c->rep = rep;
	if (!c->checked_there)
		return copy_error(c, err, "the copy was not checked");
	if (signal_pending())
		return copy_error(c, err, "interrupted by signal %s", signal_name(signal_pending()));
	snprintf(label, sizeof(label), "Copying %s to %s:%s%s", c->req.image, c->host, c->dataset,
		 c->token ? " (resumed)" : "");
	report(rep, REPORT_BEGIN, "%s", label);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	progress_start(&p, rep, c->req.live, label, c->left);
	r = zfs_send_recv(c->snapshot, c->token, c->flags, c->dataset, c->props, on_bytes, &m, &res, &why);
	progress_end(&p);
	moved = res.bytes;
	relay_result_clear(&res);
	if (r < 0) {
		_cleanup_free_ char *cause = strdupf("cannot copy %s to %s: %s", c->snapshot, c->host,
						     why ? why : strerror(-r));
		if (r == -EINVAL || r == -ENOMEM || r == -ENOENT || !cause)
			return copy_error(c, err, "%s", cause ? cause : strerror(ENOMEM));
		if (r == -EINTR) {
			free(cause);
			cause = strdupf("interrupted by signal %s", signal_name(signal_pending()));
			if (!cause)
				return copy_error(c, err, "%s", strerror(ENOMEM));
		}
		after_failure(c, cause);
		return failed(c, err);
	}
	/* whole: recorded, so that a failure from here on removes it; but
	 * never a dataset that was there before this run (a resumed copy) */
	if (!c->token) {
		if (undo_prepare_destroy(&c->undo, c->dataset, 1) < 0)
			return copy_error(c, err, "%s", strerror(ENOMEM));
		undo_arm(&c->undo);
	}
	report(rep, REPORT_DONE, "%s in %.1f s", size_format(moved, sz, sizeof(sz)), seconds_since(&t0));
	free(why);
	why = NULL;
	r = zfs_set(c->dataset, MARK_STATE "=" MARK_STATE_READY, &why);
	if (r < 0 && c->token)
		return copy_error(c, err, "cannot mark %s on %s ready: %s; %s", c->dataset, c->host,
				  why ? why : strerror(-r), left_as_it_is(c));
	if (r < 0)
		return copy_error(c, err, "cannot mark %s on %s ready: %s", c->dataset, c->host,
				  why ? why : strerror(-r));
	if (signal_pending())
		return copy_error(c, err, "interrupted by signal %s", signal_name(signal_pending()));
	undo_commit(&c->undo);
	return 0;
}

void copy_end(struct copy *c)
{
	if (!c)
		return;
	/* a failed run's changes (none after a success: the journal is empty) */
	undo_rollback(&c->undo, c->rep);
	free(c->err);
	free(c->snapshot);
	free(c->dataset);
	free(c->parent);
	free(c->pool);
	free(c->token);
	strv_free(c->props);
	free(c);
}
