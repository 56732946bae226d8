/* SPDX-License-Identifier: MIT */
/* Many hosts at once (fleet.h): each host asked by a qvm of its own, side
 * by side; their JSON answers merged. And qvm probe-host, what a child
 * asks a host for qvm vm --host auto (not listed in the usage: the
 * children's, not the user's). */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>

#include "cleanup.h"
#include "commands.h"
#include "domain.h"
#include "fleet.h"
#include "hosts.h"
#include "log.h"
#include "msgtext.h"
#include "names.h"
#include "output.h"
#include "placement.h"
#include "process.h"
#include "remote.h"
#include "settings.h"
#include "signals.h"
#include "size.h"
#include "strv.h"
#include "zfs.h"
#include "banned.h"

#define TASK_PLACE "choosing a host"
#define TASK_PROBE "asking the host"

/* What one host answered. */
struct answer {
	char *host;                  /* its hosts-file name, or FLEET_LOCAL_NAME */
	bool local;                  /* this host: asked without --host */
	bool answered;
	bool timed_out;              /* it ran past QVM_HOST_TIMEOUT */
	char *out;                   /* its stdout, when it answered */
	char *why;                   /* why it did not */
	json_object *json;           /* out parsed */
};

static void answers_free(struct answer *a, size_t n)
{
	for (size_t i = 0; a && i < n; i++) {
		free(a[i].host);
		free(a[i].out);
		free(a[i].why);
		json_object_put(a[i].json);
	}
	free(a);
}

/* The hosts to ask: this one first (unless it has no zfs, or the hosts
 * file names a host "localhost": that entry stands for it), then the hosts
 * file's, in its order. *file: the hosts file read (NULL: none). 0, or -1 with *err. */
static int hosts_to_ask(bool with_local, struct answer **out, size_t *n, char **file, char **err)
{
	struct host_list l = { 0 };
	struct answer *a;
	size_t k = 0;
	bool local = with_local;

	*out = NULL;
	*n = 0;
	*file = NULL;
	if (hosts_load(&l, err) < 0) {
		hosts_clear(&l);
		return -1;
	}
	for (size_t i = 0; i < l.n && local; i++)
		local = strcmp(l.h[i].name, FLEET_LOCAL_NAME) != 0;
	/* a machine without zfs (where an admin runs qvm for the others)
	 * holds no VM of qvm's: not asked, rather than a warning each time */
	if (local) {
		_cleanup_free_ char *zfs = NULL;
		local = program_find("zfs", &zfs) != -ENOENT;
	}
	a = calloc(l.n + 1, sizeof(*a));
	if (!a)
		goto enomem;
	if (local) {
		a[k].local = true;
		if (!(a[k++].host = strdup(FLEET_LOCAL_NAME)))
			goto enomem;
	}
	for (size_t i = 0; i < l.n; i++)
		if (!(a[k++].host = strdup(l.h[i].name)))
			goto enomem;
	if (l.file && !(*file = strdup(l.file)))
		goto enomem;
	hosts_clear(&l);
	*out = a;
	*n = k;
	return 0;
enomem:
	answers_free(a, k);
	hosts_clear(&l);
	*err = strdup(strerror(ENOMEM));
	return -1;
}

/* This binary, for the children: /proc/self/exe's target (a path: a
 * wrapper that runs qvm, as valgrind does, reports qvm's own). */
static char *self_path(void)
{
	char buf[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

	if (len <= 0)
		return NULL;
	buf[len] = '\0';
	return strdup(buf);
}

/* Why a child qvm failed: the descriptions of its "Error TASK: ..." lines
 * (its task is ours too), else what spawn_error_text makes of it. */
static char *child_error(const struct spawn_result *res)
{
	_cleanup_strv_free_ char **lines = NULL;
	const char *p = res->err;

	while (p && *p) {
		size_t len = strcspn(p, "\n");
		const char *colon = memchr(p, ':', len);

		if (len > 6 && strncmp(p, "Error ", 6) == 0 && colon && colon + 1 < p + len && colon[1] == ' ' &&
		    strv_consume(&lines, strndup(colon + 2, (size_t)(p + len - colon - 2))) < 0)
			return NULL;
		p += len + (p[len] == '\n');
	}
	return lines ? strv_join(lines, "; ") : spawn_error_text(res);
}

/* What a child that answered said on stderr (its warnings), as this
 * host's warnings. */
static void relay_warnings(const char *host, const char *text)
{
	const char *p = text;

	while (p && *p) {
		size_t len = strcspn(p, "\n");
		const char *line = p;

		p += len + (p[len] == '\n');
		if (len >= 9 && strncmp(line, "Warning: ", 9) == 0) {
			line += 9;
			len -= 9;
		}
		if (len == 0)
			continue;
		log_warning("host %s: %.*s", host, (int)len, line);
	}
}

/* QVM_HOST_TIMEOUT, or -1 after printing the error as task's. */
static int host_timeout(const char *task, unsigned *seconds)
{
	if (settings_host_timeout(seconds) < 0)
		return log_error(task, "QVM_HOST_TIMEOUT must be a whole number of seconds (1-86400)");
	return 0;
}

/* Runs `qvm COMMAND [--host=NAME] ARGS...` for every host, side by side,
 * each given seconds to answer: one that does not is ended (its qvm, on
 * SIGTERM, closes its ssh connection: main.c) and did not answer.
 * 0 (each answer's outcome in it), -EINTR (a signal: nothing more asked),
 * or -errno. */
static int ask(struct answer *a, size_t n, const char *command, char *const *args, unsigned seconds)
{
	_cleanup_free_ char *self = self_path();
	_cleanup_free_ struct spawn_result *res = calloc(n ? n : 1, sizeof(*res));
	_cleanup_free_ int *errs = calloc(n ? n : 1, sizeof(*errs));
	char ***argvs = calloc(n ? n : 1, sizeof(*argvs));
	int r = 0;

	if (!self)
		r = errno ? -errno : -ENOENT;
	else if (!res || !errs || !argvs)
		r = -ENOMEM;
	for (size_t i = 0; i < n && r == 0; i++) {
		r = strv_push_many(&argvs[i], self, command, NULL);
		/* "--host=NAME": one word, whatever the name */
		if (r == 0 && !a[i].local)
			r = strv_pushf(&argvs[i], "--host=%s", a[i].host);
		if (r == 0)
			r = strv_extend(&argvs[i], args);
	}
	if (r == 0)
		r = spawn_all((char *const *const *)argvs, n, FLEET_PARALLEL, seconds * 1000u, res, errs);
	for (size_t i = 0; i < n && argvs; i++) {
		if ((r == 0 || r == -EINTR) && res && errs) {
			if (errs[i] == 0 && res[i].status == 0) {
				a[i].out = res[i].out ? TAKE_PTR(res[i].out) : strdup("");
				a[i].answered = a[i].out != NULL;
				relay_warnings(a[i].host, res[i].err);
			} else if (errs[i] == -ETIMEDOUT) {
				a[i].timed_out = true;
				a[i].why = strdupf("did not answer within %u s (QVM_HOST_TIMEOUT)", seconds);
			} else if (errs[i] == -ECANCELED) {
				a[i].why = strdup("not asked: interrupted");
			} else if (errs[i] < 0) {
				a[i].why = strdupf("cannot run %s: %s", self, strerror(-errs[i]));
			} else {
				a[i].why = child_error(&res[i]);
			}
			if (!a[i].answered && !a[i].why)
				r = -ENOMEM;
		}
		if (res)
			spawn_result_clear(&res[i]);
		strv_free(argvs[i]);
	}
	free(argvs);
	return r;
}

/* "host NAME did not answer: WHY" for each host that did not. */
static void warn_silent(const struct answer *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (a[i].answered)
			continue;
		if (a[i].timed_out)
			log_warning("host %s %s", a[i].host, a[i].why);
		else
			log_warning("host %s did not answer: %s", a[i].host, a[i].why);
	}
}

/* An answer that is not the JSON expected (of type want, and for an
 * array, of objects) is no answer. */
static int parse_answer(struct answer *a, json_type want)
{
	json_object *j = json_tokener_parse(a->out);
	bool ok = j && json_object_is_type(j, want);

	for (size_t i = 0; ok && want == json_type_array && i < json_object_array_length(j); i++)
		ok = json_object_is_type(json_object_array_get_idx(j, i), json_type_object);
	if (ok) {
		a->json = j;
		return 0;
	}
	json_object_put(j);
	a->answered = false;
	a->why = strdup("its answer is not qvm's JSON (is it another version of qvm?)");
	return a->why ? 0 : -ENOMEM;
}

const char *fleet_text(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static bool whole_number(json_object *o, const char *key, uint64_t *out)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	/* json-c reads numbers past INT64_MAX as uint64 */
	if (json_object_get_int64(v) < 0)
		return false;
	*out = json_object_get_uint64(v);
	return true;
}

const char *fleet_size(json_object *o, const char *key, char *buf, size_t size)
{
	uint64_t v;

	return whole_number(o, key, &v) ? size_format(v, buf, size) : NULL;
}

const char *fleet_number(json_object *o, const char *key, char *buf, size_t size)
{
	uint64_t v;

	if (!whole_number(o, key, &v))
		return NULL;
	snprintf(buf, size, "%llu", (unsigned long long)v);
	return buf;
}

/* The listing's rows: each host's objects, in the order of the hosts. */
struct row {
	const char *host;
	json_object *o;
};

struct rows {
	struct row *r;
	fleet_row_fn add_row;
};

static int row_json(json_object *o, size_t i, const void *ctx)
{
	const struct row *row = &((const struct rows *)ctx)->r[i];

	if (json_object_object_add(o, "host", json_object_new_string(row->host)) < 0)
		return -ENOMEM;
	json_object_object_foreach(row->o, key, value) {
		/* the host is qvm's word here, not the host's */
		if (strcmp(key, "host") != 0 && json_object_object_add(o, key, json_object_get(value)) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int row_table(struct table *t, size_t i, const void *ctx)
{
	const struct rows *rows = ctx;

	return rows->add_row(t, rows->r[i].host, rows->r[i].o);
}

int fleet_listing(const char *task, const char *command, bool json, size_t ncols, const char *const *headers,
		  fleet_row_fn add_row)
{
	char *const args[] = { "--json", NULL };
	struct answer *a = NULL;
	struct rows rows = { .add_row = add_row };
	_cleanup_free_ char *err = NULL, *file = NULL;
	size_t n = 0, nrows = 0, answered = 0;
	unsigned seconds;
	int r;

	/* ^C reaches every child, which is waited for; then qvm ends of it */
	signals_install();
	signal(SIGPIPE, SIG_IGN);
	if (host_timeout(task, &seconds) < 0)
		return -1;
	if (hosts_to_ask(true, &a, &n, &file, &err) < 0)
		return log_error(task, "%s", err ? err : strerror(ENOMEM));
	r = ask(a, n, command, args, seconds);
	for (size_t i = 0; i < n && r == 0; i++)
		if (a[i].answered)
			r = parse_answer(&a[i], json_type_array);
	if (r == -EINTR) {
		answers_free(a, n);
		return log_error(task, "interrupted by signal %s", signal_name(signal_pending()));
	}
	if (r < 0) {
		answers_free(a, n);
		return log_error(task, "cannot ask the hosts: %s", strerror(-r));
	}
	warn_silent(a, n);
	for (size_t i = 0; i < n; i++)
		if (a[i].answered) {
			answered++;
			nrows += json_object_array_length(a[i].json);
		}
	if (!answered) {
		answers_free(a, n);
		return log_error(task, "no host answered (%zu asked)", n);
	}
	rows.r = calloc(nrows ? nrows : 1, sizeof(*rows.r));
	if (!rows.r) {
		answers_free(a, n);
		return log_error(task, "%s", strerror(ENOMEM));
	}
	nrows = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; a[i].answered && j < json_object_array_length(a[i].json); j++)
			rows.r[nrows++] = (struct row){ a[i].host, json_object_array_get_idx(a[i].json, j) };
	r = json ? print_json_rows(nrows, row_json, &rows) : print_table_rows(ncols, headers, nrows, row_table, &rows);
	free(rows.r);
	answers_free(a, n);
	if (r < 0)
		return log_error(task, "%s", strerror(-r));
	return 0;
}

/* A probe-host answer: {"missing": [SNAPSHOT...], "free_memory": BYTES}. */
static int read_probe(const struct answer *a, struct placement_host *h)
{
	json_object *missing;
	uint64_t mem;

	h->name = a->host;
	if (!json_object_object_get_ex(a->json, "missing", &missing) ||
	    !json_object_is_type(missing, json_type_array))
		return -1;
	h->has_bases = json_object_array_length(missing) == 0;
	if (h->has_bases && !whole_number(a->json, "free_memory", &mem))
		return -1;
	h->free_memory = h->has_bases ? mem : 0;
	h->answered = true;
	return 0;
}

/* Whether a probe answer lists base among the missing. */
static bool probe_misses(const struct answer *a, const char *base)
{
	json_object *missing;

	if (!a->json || !json_object_object_get_ex(a->json, "missing", &missing))
		return false;
	for (size_t i = 0; i < json_object_array_length(missing); i++) {
		json_object *m = json_object_array_get_idx(missing, i);
		if (json_object_is_type(m, json_type_string) && strcmp(json_object_get_string(m), base) == 0)
			return true;
	}
	return false;
}

/* How to go on: "qvm images copy IMAGE HOST" (IMAGE: the base's dataset)
 * for each base the host that misses the fewest lacks (the first of
 * several such in the hosts file). NULL on ENOMEM. */
static char *copy_hint(const struct answer *a, size_t n, char *const *bases)
{
	_cleanup_strv_free_ char **cmds = NULL;
	size_t best = n, fewest = SIZE_MAX;

	for (size_t i = 0; i < n; i++) {
		size_t k = 0;
		if (!a[i].answered)
			continue;
		for (size_t j = 0; bases[j]; j++)
			k += probe_misses(&a[i], bases[j]);
		if (k < fewest) {
			fewest = k;
			best = i;
		}
	}
	for (size_t j = 0; best < n && bases[j]; j++) {
		const char *at = strchr(bases[j], '@');
		int r = 0;

		if (!probe_misses(&a[best], bases[j]))
			continue;
		/* qvm images copy sends an image's @base; another snapshot is
		 * the user's to send */
		if (at && strcmp(at, "@base") == 0)
			r = strv_pushf(&cmds, "qvm images copy %.*s %s", (int)(at - bases[j]), bases[j], a[best].host);
		else
			r = strv_pushf(&cmds, "zfs send %s to %s (no image's @base: qvm images copy does not send it)",
				       bases[j], a[best].host);
		if (r < 0)
			return NULL;
	}
	return cmds ? strv_join(cmds, ", then ") : strdup("qvm images copy IMAGE HOST");
}

/* Why no host was chosen, with the hosts asked and how to go on. */
static int none_chosen(const struct answer *a, size_t n, const char *bases_text, char *const *bases)
{
	_cleanup_strv_free_ char **asked = NULL, **silent = NULL;
	_cleanup_free_ char *asked_text = NULL, *silent_text = NULL, *hint = NULL;
	bool several = strv_length(bases) > 1;

	for (size_t i = 0; i < n; i++)
		if (strv_push(a[i].answered ? &asked : &silent, a[i].host) < 0)
			return log_error(TASK_PLACE, "%s", strerror(ENOMEM));
	if (!asked)
		return log_error(TASK_PLACE, "no host of the hosts file answered (%zu asked)", n);
	asked_text = strv_join(asked, ", ");
	silent_text = silent ? strv_join(silent, ", ") : strdup("");
	hint = copy_hint(a, n, bases);
	if (!asked_text || !silent_text || !hint)
		return log_error(TASK_PLACE, "%s", strerror(ENOMEM));
	return log_error(TASK_PLACE, "no host has %s: %s answered without %s%s%s%s; copy the %s to one of "
			 "them first: %s", bases_text, asked_text, several ? "them" : "it", silent ? ", " : "",
			 silent_text, silent ? " did not answer" : "", several ? "images" : "image", hint);
}

int fleet_place(char *const *bases, const char *what, char **chosen)
{
	_cleanup_free_ char *err = NULL, *file = NULL, *bases_text = strv_join(bases, ", "), *why = NULL;
	_cleanup_strv_free_ char **args = NULL;
	_cleanup_free_ struct placement_host *h = NULL;
	struct answer *a = NULL;
	size_t n = 0, with;
	unsigned seconds;
	long best;
	int r;

	*chosen = NULL;
	if (!bases_text || strv_push(&args, "--") < 0 || strv_extend(&args, bases) < 0)
		return log_error(TASK_PLACE, "%s", strerror(ENOMEM));
	if (host_timeout(TASK_PLACE, &seconds) < 0)
		return -1;
	if (hosts_to_ask(false, &a, &n, &file, &err) < 0)
		return log_error(TASK_PLACE, "%s", err ? err : strerror(ENOMEM));
	if (n == 0) {
		answers_free(a, n);
		if (file)
			return log_error(TASK_PLACE, "--host auto chooses among the hosts of the hosts file, and %s "
					 "names none", file);
		return log_error(TASK_PLACE, "--host auto chooses among the hosts of the hosts file, and there is "
				 "none (%s, or the file $QVM_HOSTS names)", QVM_HOSTS_FILE);
	}
	r = ask(a, n, "probe-host", args, seconds);
	h = calloc(n, sizeof(*h));
	if (r == 0 && !h)
		r = -ENOMEM;
	for (size_t i = 0; i < n && r == 0; i++) {
		h[i].name = a[i].host;
		if (a[i].answered)
			r = parse_answer(&a[i], json_type_object);
		if (r == 0 && a[i].answered && read_probe(&a[i], &h[i]) < 0) {
			a[i].answered = false;
			h[i].answered = false;
			if (!(a[i].why = strdup("its answer is not qvm's JSON (is it another version of qvm?)")))
				r = -ENOMEM;
		}
	}
	if (r == -EINTR) {
		answers_free(a, n);
		return log_error(TASK_PLACE, "interrupted by signal %s", signal_name(signal_pending()));
	}
	if (r < 0) {
		answers_free(a, n);
		return log_error(TASK_PLACE, "cannot ask the hosts: %s", strerror(-r));
	}
	warn_silent(a, n);
	best = placement_choose(h, n, &with);
	if (best < 0) {
		none_chosen(a, n, bases_text, bases);
		answers_free(a, n);
		return -1;
	}
	why = placement_reason(h, n, (size_t)best, bases_text);
	*chosen = strdup(a[best].host);
	answers_free(a, n);
	if (!why || !*chosen) {
		free(TAKE_PTR(*chosen));
		return log_error(TASK_PLACE, "%s", strerror(ENOMEM));
	}
	log_step("Placing %s on %s: %s", what, *chosen, why);
	return 0;
}

/* qvm probe-host [--host NAME] -- SNAPSHOT...: whether the host has every
 * snapshot and, if it does, how much memory its libvirt (the host's
 * connect: URI) reports free, as {"missing": [...], "free_memory": N}. */
int cmd_probe_host(int argc, char **argv, const struct cmd_opts *opts)
{
	const struct host_spec *host = remote_current();
	_cleanup_free_ char **types = calloc((size_t)argc, sizeof(*types));
	_cleanup_free_ char *err = NULL;
	json_object *o = NULL, *missing = NULL;
	unsigned long long mem = 0;
	int r;

	(void)opts;
	if (!types)
		return log_error(TASK_PROBE, "%s", strerror(ENOMEM));
	for (int i = 0; i < argc; i++) {
		const char *why = "it names no snapshot";
		if (!strchr(argv[i], '@') || !dataset_name_valid(argv[i], true, &why)) {
			char shown[512];
			msg_text(shown, sizeof(shown), argv[i], strlen(argv[i]));
			return log_error(TASK_PROBE, "invalid snapshot name '%s': %s", shown, why);
		}
	}
	r = zfs_get_types((const char *const *)argv, (size_t)argc, types, NULL, &err);
	if (r < 0)
		return log_error(TASK_PROBE, "cannot list the snapshots: %s", err ? err : strerror(-r));
	o = json_object_new_object();
	missing = json_object_new_array();
	for (int i = 0; i < argc && o && missing; i++)
		if ((!types[i] || strcmp(types[i], "snapshot") != 0) &&
		    json_object_array_add(missing, json_object_new_string(argv[i])) < 0)
			r = -ENOMEM;
	for (int i = 0; i < argc; i++)
		free(types[i]);
	if (!o || !missing || r < 0) {
		json_object_put(o);
		json_object_put(missing);
		return log_error(TASK_PROBE, "%s", strerror(ENOMEM));
	}
	/* memory matters only where the VM can go */
	if (json_object_array_length(missing) == 0) {
		_cleanup_(domains_freep) struct domains *d = domains_new(true);
		r = d ? domains_free_memory(d, host ? host->connect : NULL, &mem, &err) : -ENOMEM;
		if (r < 0) {
			json_object_put(o);
			json_object_put(missing);
			return log_error(TASK_PROBE, "%s", err ? err : strerror(-r));
		}
	}
	json_object_object_add(o, "missing", missing);
	json_object_object_add(o, "free_memory",
			       json_object_array_length(missing) == 0 ? json_object_new_uint64(mem) : NULL);
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return 0;
}
