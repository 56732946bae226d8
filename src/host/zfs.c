/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <signal.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "hostfs.h"
#include "msgtext.h"
#include "signals.h"
#include "process.h"
#include "report.h"
#include "size.h"
#include "strv.h"
#include "zfs.h"
#include "remote.h"
#include "banned.h"

/* Fixed by the paper (2.1.1): not the user's to choose. */
#define IMAGE_VOLBLOCKSIZE "volblocksize=16K"
#define IMAGE_REFRESERVATION "refreservation=none"

/* The kinds of word qvm puts where zfs expects an operand. */
enum word {
	DATASET,         /* POOL/PATH: no '@' */
	SNAPSHOT,        /* POOL/PATH@SNAP */
	ANY,             /* either */
	PROPERTY,        /* NAME=VALUE */
};

/* Pushes s unless zfs would read it otherwise than meant: an empty word,
 * one starting with '-' (an option), a snapshot where a dataset is meant
 * or the other way round, a property without '='. -EINVAL then. */
static int push_word(char ***argv, const char *s, enum word kind)
{
	const char *at = strchr(s, '@');

	if (!*s || *s == '-' || (kind == DATASET && at) || (kind == SNAPSHOT && (!at || at == s || !at[1])) ||
	    (kind == PROPERTY && (!strchr(s, '=') || *s == '=')))
		return -EINVAL;
	return strv_push(argv, s);
}

static int push_props(char ***argv, char *const *props)
{
	int r = 0;

	for (size_t i = 0; r == 0 && props && props[i]; i++) {
		r = strv_push(argv, "-o");
		if (r == 0)
			r = push_word(argv, props[i], PROPERTY);
	}
	return r;
}

/* *argv = v on success, else v freed: the builders' ending. */
static int built(int r, char **v, char ***argv)
{
	if (r < 0) {
		strv_free(v);
		return r;
	}
	*argv = v;
	return 0;
}

int zfs_create_volume_argv(const char *name, uint64_t size, char *const *props, char ***argv)
{
	char **v = NULL;
	int r;

	r = strv_push_many(&v, "zfs", "create", "-V", NULL);
	if (r == 0)
		r = strv_pushf(&v, "%" PRIu64, size);
	if (r == 0)
		r = strv_push_many(&v, "-o", IMAGE_VOLBLOCKSIZE, "-o", IMAGE_REFRESERVATION, NULL);
	if (r == 0)
		r = push_props(&v, props);
	if (r == 0)
		r = push_word(&v, name, DATASET);
	return built(r, v, argv);
}

int zfs_clone_argv(const char *snapshot, const char *target, char *const *props, char ***argv)
{
	char **v = NULL;
	int r;

	r = strv_push_many(&v, "zfs", "clone", NULL);
	if (r == 0)
		r = push_props(&v, props);
	if (r == 0)
		r = push_word(&v, snapshot, SNAPSHOT);
	if (r == 0)
		r = push_word(&v, target, DATASET);
	return built(r, v, argv);
}

/* zfs create [-n] -V SIZE [-o P]... NAME */
static int blank_argv(const char *name, const char *size, char *const *props, bool dry_run, char ***argv)
{
	char **v = NULL;
	int r;

	r = strv_push_many(&v, "zfs", "create", NULL);
	if (r == 0 && dry_run)
		r = strv_push(&v, "-n");
	if (r == 0)
		r = strv_push(&v, "-V");
	if (r == 0)
		r = push_word(&v, size, ANY);
	if (r == 0)
		r = push_props(&v, props);
	if (r == 0)
		r = push_word(&v, name, DATASET);
	return built(r, v, argv);
}

int zfs_create_blank_argv(const char *name, const char *size, char *const *props, char ***argv)
{
	return blank_argv(name, size, props, false, argv);
}

int zfs_snapshot_argv(const char *snapshot, char ***argv)
{
	char **v = NULL;
	int r = strv_push_many(&v, "zfs", "snapshot", NULL);

	if (r == 0)
		r = push_word(&v, snapshot, SNAPSHOT);
	return built(r, v, argv);
}

int zfs_set_argv(const char *name, const char *assignment, char ***argv)
{
	char **v = NULL;
	int r = strv_push_many(&v, "zfs", "set", NULL);

	if (r == 0)
		r = push_word(&v, assignment, PROPERTY);
	if (r == 0)
		r = push_word(&v, name, ANY);
	return built(r, v, argv);
}

int zfs_destroy_argv(const char *name, int recursive, char ***argv)
{
	char **v = NULL;
	int r = strv_push_many(&v, "zfs", "destroy", NULL);

	if (r == 0 && recursive)
		r = strv_push(&v, "-r");
	if (r == 0)
		r = push_word(&v, name, ANY);
	return built(r, v, argv);
}

/* Whether every line of zfs's stderr says a dataset does not exist. */
static int only_missing(const char *text)
{
	if (!text || !*text)
		return 0;
	for (const char *line = text; *line;) {
		size_t len = strcspn(line, "\n");
		static const char tail[] = "': dataset does not exist";
		if (len < sizeof(tail) - 1 || strncmp(line, "cannot open '", 13) != 0 ||
		    memcmp(line + len - (sizeof(tail) - 1), tail, sizeof(tail) - 1) != 0)
			return 0;
		line += len;
		line += *line == '\n';
	}
	return 1;
}

#define ZFS_SPAWN (SPAWN_CAPTURE_STDOUT | SPAWN_CAPTURE_STDERR | SPAWN_NO_FORWARD | SPAWN_C_LOCALE)

/* Runs a zfs command; on failure *err is zfs's message and the return
 * value -EIO (or -ENOENT when zfs says the dataset does not exist).
 * With missing_ok, an exit whose only complaints are missing datasets
 * (zfs list of several names) is a success: *out holds what zfs listed.
 * In the C locale: qvm reads zfs's English messages and its tables. */
static int zfs_outcome(int r, int missing_ok, struct spawn_result *res, char **why, char **out, char **err)
{
	if (r == -EIO && missing_ok && res->status == 1 && only_missing(res->err))
		r = 0;
	else if (r == -EIO && res->err && strstr(res->err, "dataset does not exist"))
		r = -ENOENT;
	else if (r < 0 && r != -ENOMEM && r != -EIO)
		/* zfs not found is not -ENOENT: that reads as "dataset does not exist" */
		r = -ECHILD;
	if (r == 0 && out)
		*out = TAKE_PTR(res->out);
	if (r < 0 && err) {
		free(*err);
		*err = TAKE_PTR(*why);
	}
	spawn_result_clear(res);
	return r;
}

static int zfs_run_full(char *const *argv, int missing_ok, char **out, char **err)
{
	struct spawn_result res;
	_cleanup_free_ char *why = NULL;
	/* here, or on the run's remote host through its ssh connection */
	int r = remote_run(argv, ZFS_SPAWN, -1, &res, &why);

	return zfs_outcome(r, missing_ok, &res, &why, out, err);
}

static int zfs_run(char *const *argv, char **out, char **err)
{
	return zfs_run_full(argv, 0, out, err);
}

int zfs_get_types(const char *const *names, size_t n, char **types, uint64_t *blocksizes, char **err)
{
	return zfs_get_types_props(names, n, NULL, types, blocksizes, NULL, err);
}

static void free_results(size_t n, size_t nprops, char **types, char **values)
{
	for (size_t j = 0; j < n; j++)
		free(TAKE_PTR(types[j]));
	for (size_t j = 0; values && j < n * nprops; j++)
		free(TAKE_PTR(values[j]));
}

int zfs_get_types_props(const char *const *names, size_t n, const char *const *props, char **types,
			uint64_t *blocksizes, char **values, char **err)
{
	_cleanup_strv_free_ char **argv = NULL;
	_cleanup_free_ char *out = NULL, *columns = NULL;
	size_t nprops = 0;
	int r;

	while (props && props[nprops])
		nprops++;
	if (nprops > VM_PROPS_MAX)
		return -E2BIG;
	for (size_t i = 0; i < n; i++) {
		types[i] = NULL;
		if (blocksizes)
			blocksizes[i] = 0;
		for (size_t j = 0; values && j < nprops; j++)
			values[i * nprops + j] = NULL;
	}
	if (!(columns = strdup("name,type,volblocksize")))
		return -ENOMEM;
	for (size_t j = 0; j < nprops; j++) {
		char *c;
		if (asprintf(&c, "%s,%s", columns, props[j]) < 0)
			return -ENOMEM;
		free(columns);
		columns = c;
	}
	r = strv_push_many(&argv, "zfs", "list", "-H", "-p", "-o", columns, NULL);
	for (size_t i = 0; r == 0 && i < n; i++) {
		int seen = !names[i];
		for (size_t j = 0; j < i && !seen; j++)
			seen = names[j] && strcmp(names[j], names[i]) == 0;
		if (!seen)
			r = strv_push(&argv, names[i]);
	}
	if (r == 0)
		r = zfs_run_full(argv, 1, &out, err);
	if (r < 0)
		return r;
	/* "NAME<TAB>TYPE<TAB>VOLBLOCKSIZE[<TAB>PROP...]" lines, sorted by zfs,
	 * for the names that exist ("-" for what is not a volume, or a
	 * property not set) */
	for (char *line = out, *next; line && *line; line = next) {
		char *field[3 + VM_PROPS_MAX];
		size_t nf = 0;
		uint64_t bs = 0;
		bool matched = false;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		for (char *f = line; f && nf < 3 + nprops; nf++) {
			field[nf] = f;
			f = strchr(f, '\t');
			if (f)
				*f++ = '\0';
		}
		if (nf < 3 + nprops)
			continue;
		if (parse_u64(field[2], &bs) < 0)
			bs = 0;
		for (size_t i = 0; i < n; i++) {
			if (!names[i] || strcmp(names[i], field[0]) != 0)
				continue;
			/* a second line for a name: a value holding a newline
			 * made it up; believe none of the output */
			if (types[i] && !matched) {
				free_results(n, nprops, types, values);
				return report_error(err, -EIO, "zfs list printed %s twice (a property value "
						    "holds a newline?)", field[0]);
			}
			matched = true;
			if (blocksizes)
				blocksizes[i] = bs;
			if (!(types[i] = strdup(field[1])))
				goto nomem;
			for (size_t j = 0; values && j < nprops; j++)
				if (strcmp(field[3 + j], "-") != 0 && !(values[i * nprops + j] = strdup(field[3 + j])))
					goto nomem;
		}
	}
	return 0;
nomem:
	free_results(n, nprops, types, values);
	return -ENOMEM;
}

/* Runs what a builder made of its arguments (r: the builder's result). */
static int run_built(int r, char **argv, char **err)
{
	return zfs_then(r, argv, NULL, NULL, err);
}

int zfs_then(int r, char **argv, const struct hostfs_then *then, int *then_r, char **err)
{
	_cleanup_(strv_freep) char **args = NULL;
	_cleanup_free_ char *why = NULL;
	struct spawn_result res;
	const char *script;
	bool in_then;

	if (then_r)
		*then_r = 0;
	if (r == -EINVAL)
		r = report_error(err, r, "refused: zfs would misread an empty name, one starting with '-', "
				 "a misplaced '@' or a property without '='");
	if (r == 0 && (!then || !remote_current())) {
		r = zfs_run(argv, NULL, err);
		if (r == 0 && then)
			r = *then_r = hostfs_then_here(then, err);
	} else if (r == 0 && (r = hostfs_then_script(then, &script, &args)) == 0) {
		/* on another host: both in one round trip */
		r = remote_run_then(argv, ZFS_SPAWN, script, args, &res, &in_then, &why);
		if (in_then) {
			r = *then_r = hostfs_then_failed(then, &res, &why);
			free(*err);
			*err = TAKE_PTR(why);
			spawn_result_clear(&res);
		} else
			r = zfs_outcome(r, 0, &res, &why, NULL, err);
	}
	strv_free(argv);
	return r;
}

int zfs_set(const char *name, const char *assignment, char **err)
{
	char **argv = NULL;
	int r = zfs_set_argv(name, assignment, &argv);

	return run_built(r, argv, err);
}

int zfs_get_local(const char *name, const char *props, char **out, char **err)
{
	char *const argv[] = { "zfs", "get", "-H", "-s", "local", "-o", "property,value", (char *)props,
			       (char *)name, NULL };
	int r;

	*out = NULL;
	r = zfs_run(argv, out, err);
	if (r == 0 && !*out && !(*out = strdup("")))
		r = -ENOMEM;
	return r;
}

int zfs_list_volume_names(char **out, char **err)
{
	char *const argv[] = { "zfs", "list", "-H", "-t", "volume", "-o", "name", NULL };

	return zfs_run(argv, out, err);
}

int zfs_get_volumes(const char *props, char **out, char **err)
{
	char *const argv[] = { "zfs", "get", "-H", "-p", "-t", "volume", "-o", "name,property,value,source",
			       (char *)props, NULL };

	return zfs_run(argv, out, err);
}

int zfs_create_blank_dry_run(const char *name, const char *size, char *const *props, char **err)
{
	char **argv = NULL;
	int r = blank_argv(name, size, props, true, &argv);

	return run_built(r, argv, err);
}

int zfs_create_volume(const char *name, uint64_t size, char *const *props, char **err)
{
	char **argv = NULL;
	int r = zfs_create_volume_argv(name, size, props, &argv);

	return run_built(r, argv, err);
}

int zfs_snapshot(const char *snapshot, char **err)
{
	char **argv = NULL;
	int r = zfs_snapshot_argv(snapshot, &argv);

	return run_built(r, argv, err);
}

int zfs_destroy(const char *name, int recursive, char **err)
{
	char **argv = NULL;
	int r = zfs_destroy_argv(name, recursive, &argv);

	r = run_built(r, argv, err);
	if (r == -ENOENT) {
		/* already gone is what an undo step wants */
		if (err) {
			free(*err);
			*err = NULL;
		}
		return 0;
	}
	return r;
}

int zfs_send_argv(const char *snapshot, unsigned flags, char ***argv)
{
	char **v = NULL;
	int r = strv_push_many(&v, "zfs", "send", "-L", "-e", "-c", NULL);

	if (r == 0 && (flags & ZFS_SEND_RAW))
		r = strv_push(&v, "-w");
	if (r == 0 && (flags & ZFS_SEND_DRY_RUN))
		r = strv_push_many(&v, "-n", "-P", NULL);
	if (r == 0)
		r = push_word(&v, snapshot, SNAPSHOT);
	return built(r, v, argv);
}

int zfs_resume_token_valid(const char *token)
{
	/* OpenZFS's: VERSION-CHECKSUM-LENGTH-HEX (zfs_send_resume_token_to_nvlist) */
	return token[0] >= '0' && token[0] <= '9' && strspn(token, "0123456789abcdefABCDEF-") == strlen(token) &&
	       strlen(token) < (1u << 20);
}

int zfs_send_resume_argv(const char *token, unsigned flags, char ***argv)
{
	char **v = NULL;
	int r;

	if (!zfs_resume_token_valid(token))
		return -EINVAL;
	r = strv_push_many(&v, "zfs", "send", NULL);
	if (r == 0 && (flags & ZFS_SEND_DRY_RUN))
		r = strv_push_many(&v, "-n", "-P", NULL);
	if (r == 0)
		r = strv_push_many(&v, "-t", token, NULL);
	return built(r, v, argv);
}

int zfs_recv_argv(const char *dataset, char *const *props, char ***argv)
{
	char **v = NULL;
	int r = strv_push_many(&v, "zfs", "recv", "-s", "-u", NULL);

	if (r == 0)
		r = push_props(&v, props);
	if (r == 0)
		r = push_word(&v, dataset, DATASET);
	return built(r, v, argv);
}

int zfs_send_size_parse(const char *out, uint64_t *bytes, char **snapshot)
{
	bool have_size = false, have_full = false;

	*bytes = 0;
	if (snapshot)
		*snapshot = NULL;
	/* "full<TAB>SNAPSHOT<TAB>SIZE" then "size<TAB>SIZE" (OpenZFS 2.x) */
	for (const char *line = out; line && *line;) {
		size_t len = strcspn(line, "\n");
		char buf[64];
		uint64_t n;

		if (len > 5 && strncmp(line, "size\t", 5) == 0 && len - 5 < sizeof(buf)) {
			memcpy(buf, line + 5, len - 5);
			buf[len - 5] = '\0';
			if (parse_u64(buf, &n) < 0)
				goto bad;
			*bytes = n;
			have_size = true;
		} else if (len > 5 && strncmp(line, "full\t", 5) == 0) {
			const char *tab = memchr(line + 5, '\t', len - 5);
			size_t nlen = tab ? (size_t)(tab - line - 5) : len - 5;
			if (snapshot) {
				free(*snapshot);
				if (!(*snapshot = strndup(line + 5, nlen)))
					return -ENOMEM;
			}
			if (tab && !have_size && (size_t)(line + len - tab - 1) < sizeof(buf)) {
				memcpy(buf, tab + 1, (size_t)(line + len - tab - 1));
				buf[line + len - tab - 1] = '\0';
				if (parse_u64(buf, &n) < 0)
					goto bad;
				*bytes = n;
			}
			have_full = true;
		}
		line += len;
		line += *line == '\n';
	}
	if (have_size || have_full)
		return 0;
bad:
	if (snapshot)
		free(TAKE_PTR(*snapshot));
	return -EPROTO;
}

/* zfs send -n -P (here, always: the stream leaves this host) and its
 * estimate. */
static int send_size(int r, char **argv, uint64_t *bytes, char **snapshot, char **err)
{
	struct spawn_result res;

	if (r == -EINVAL)
		r = report_error(err, r, "refused: zfs would misread an empty name, one starting with '-', "
				 "a misplaced '@' or a malformed resume token");
	if (r < 0) {
		strv_free(argv);
		return r;
	}
	r = spawn_check(argv, SPAWN_CAPTURE_STDOUT | SPAWN_CAPTURE_STDERR | SPAWN_NO_FORWARD | SPAWN_C_LOCALE, &res,
			err);
	strv_free(argv);
	if (r == 0) {
		r = zfs_send_size_parse(res.out ? res.out : "", bytes, snapshot);
		if (r == -EPROTO)
			r = report_error(err, r, "zfs send -n -P printed no size");
	} else if (r == -EIO && res.err && strstr(res.err, "dataset does not exist")) {
		r = -ENOENT;
	} else if (r != -EIO && r != -ENOMEM) {
		r = -ECHILD;
	}
	spawn_result_clear(&res);
	return r;
}

int zfs_send_size(const char *snapshot, unsigned flags, uint64_t *bytes, char **err)
{
	char **argv = NULL;
	int r = zfs_send_argv(snapshot, flags | ZFS_SEND_DRY_RUN, &argv);

	return send_size(r, argv, bytes, NULL, err);
}

int zfs_send_resume_size(const char *token, uint64_t *bytes, char **snapshot, char **err)
{
	char **argv = NULL;
	int r = zfs_send_resume_argv(token, ZFS_SEND_DRY_RUN, &argv);

	return send_size(r, argv, bytes, snapshot, err);
}

/* A program's words as one line of a message, its control characters
 * escaped (the remote side's are not to be trusted). */
static char *shown_words(const struct spawn_result *res)
{
	_cleanup_free_ char *why = spawn_error_text(res);
	size_t size;
	char *shown;

	if (!why)
		return NULL;
	size = 4 * strlen(why) + 4;
	if ((shown = malloc(size)))
		msg_text(shown, size, why, strlen(why));
	return shown;
}

int zfs_send_recv(const char *snapshot, const char *token, unsigned flags, const char *dataset,
		  char *const *props, void (*progress)(uint64_t bytes, void *ctx), void *ctx,
		  struct relay_result *res, char **err)
{
	_cleanup_strv_free_ char **send = NULL, **recv = NULL, **remote = NULL;
	_cleanup_free_ char *words = NULL;
	const struct host_spec *h = remote_current();
	int r;

	memset(res, 0, sizeof(*res));
	r = token ? zfs_send_resume_argv(token, flags & ~ZFS_SEND_DRY_RUN, &send)
		  : zfs_send_argv(snapshot, flags & ~ZFS_SEND_DRY_RUN, &send);
	if (r == 0)
		r = zfs_recv_argv(dataset, props, &recv);
	if (r == -EINVAL)
		return report_error(err, r, "refused: zfs would misread an empty name, one starting with '-', "
				    "a misplaced '@', a property without '=' or a malformed resume token");
	if (r == 0)
		r = remote_argv(recv, SPAWN_C_LOCALE, &remote);
	if (r < 0)
		return r;
	r = spawn_relay(send, SPAWN_C_LOCALE, remote, SPAWN_C_LOCALE, progress, ctx, res, err);
	if (r < 0)
		return r == -ENOENT ? r : -ECHILD;
	/* zfs recv ends well only on the stream's end record, checksum checked:
	 * whole, whatever came of zfs send after it (stopped once recv ended) */
	if (res->to.status == 0 && !res->stopped && !res->error)
		return 0;
	if (res->stopped)
		return report_error(err, -EINTR, "interrupted by signal %s", signal_name(res->stopped));
	if (h && res->to.status == 255) {
		words = shown_words(&res->to);
		return report_error(err, -EHOSTUNREACH, "lost the connection to %s: %s", h->name, words ? words : "");
	}
	/* zfs send failing of itself (not stopped because recv ended) */
	if (res->from.status != 0 && res->from.signal != SIGTERM && res->from.signal != SIGPIPE) {
		words = shown_words(&res->from);
		return report_error(err, -ECHILD, "zfs send failed: %s", words ? words : "");
	}
	if (res->to.status != 0) {
		words = shown_words(&res->to);
		return report_error(err, -EIO, "%s", words ? words : "");
	}
	if (res->error)
		return report_error(err, -EPIPE, "cannot move the stream: %s", strerror(-res->error));
	words = shown_words(&res->from);
	return report_error(err, -ECHILD, "zfs send failed: %s", words ? words : "");
}
