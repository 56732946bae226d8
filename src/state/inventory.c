/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "inventory.h"
#include "remote.h"
#include "marks.h"
#include "msgtext.h"
#include "size.h"
#include "strv.h"
#include "zfs.h"
#include "banned.h"


void inventory_clear(struct inventory *inv)
{
	for (size_t i = 0; i < inv->n; i++) {
		struct volume *v = &inv->v[i];
		free(v->name);
		free(v->origin);
		free(v->kind);
		free(v->vm);
		free(v->connect);
		free(v->uuid);
		free(v->state);
		free(v->source);
		free(v->sha256);
		free(v->sha512);
		free(v->disk);
		free(v->run);
		free(v->osinfo);
		free(v->user);
	}
	free(inv->v);
	inv->v = NULL;
	inv->n = 0;
}

/* The field a property fills, or NULL for one qvm does not read. */
static char **field_of(struct volume *v, const char *prop)
{
	static const struct { const char *prop; size_t off; } fields[] = {
		{ "origin", offsetof(struct volume, origin) },
		{ "qvm:kind", offsetof(struct volume, kind) },
		{ "qvm:vm", offsetof(struct volume, vm) },
		{ "qvm:connect", offsetof(struct volume, connect) },
		{ "qvm:uuid", offsetof(struct volume, uuid) },
		{ "qvm:state", offsetof(struct volume, state) },
		{ "qvm:source", offsetof(struct volume, source) },
		{ "qvm:sha256", offsetof(struct volume, sha256) },
		{ "qvm:sha512", offsetof(struct volume, sha512) },
		{ "qvm:disk", offsetof(struct volume, disk) },
		{ "qvm:run", offsetof(struct volume, run) },
		{ "qvm:osinfo", offsetof(struct volume, osinfo) },
		{ "qvm:user", offsetof(struct volume, user) },
	};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strcmp(fields[i].prop, prop) == 0)
			return (char **)((char *)v + fields[i].off);
	return NULL;
}

/* Native properties, then qvm's marks; a mark counts only where it is set
 * on the volume itself: ZFS user properties inherit, and a mark inherited
 * from a parent (zfs set qvm:kind=vm-disk tank/vms) says nothing about
 * who made the volume. */
static const char *const props[] = { "volsize", "used", "origin", "qvm:kind", "qvm:vm", "qvm:connect", "qvm:uuid",
				      "qvm:state", "qvm:source", "qvm:sha256", "qvm:sha512", "qvm:disk",
				      "qvm:run", "qvm:osinfo", "qvm:user", NULL };
#define N_PROPS (sizeof(props) / sizeof(props[0]) - 1)

/* One "NAME<TAB>PROPERTY<TAB>VALUE<TAB>SOURCE" line into v, which must be
 * its volume's index-th: every volume's lines come in PROPS' order, so a
 * value holding a line break (set by someone else) cannot pass for lines
 * of another volume. */
static int parse_line(char *line, struct volume *v, size_t index)
{
	char *f[4];

	for (int i = 0; i < 4; i++) {
		f[i] = line;
		line += strcspn(line, "\t");
		if ((i < 3 && *line != '\t') || (i == 3 && *line))
			return -EPROTO;
		if (*line)
			*line++ = '\0';
	}
	if (index >= N_PROPS || strcmp(f[1], props[index]) != 0)
		return -EPROTO;
	if (strcmp(f[1], "volsize") == 0)
		return parse_u64(f[2], &v->volsize) < 0 ? -EPROTO : 0;
	if (strcmp(f[1], "used") == 0)
		return parse_u64(f[2], &v->used) < 0 ? -EPROTO : 0;
	char **dst = field_of(v, f[1]);
	/* "-" is how zfs shows an unset property */
	if (!dst || strcmp(f[2], "-") == 0 || !*f[2])
		return 0;
	if (strncmp(f[1], "qvm:", 4) == 0 && strcmp(f[3], "local") != 0)
		return 0;
	/* qvm writes no control characters (C0, DEL, C1); a mark holding one
	 * is not qvm's. A dataset's name (the volume's, its origin) is kept
	 * whatever it holds: it is what zfs must be told, and every printer
	 * escapes it */
	if (strncmp(f[1], "qvm:", 4) == 0 && msg_has_control(f[2], strlen(f[2])))
		return 0;
	*dst = strdup(f[2]);
	return *dst ? 0 : -ENOMEM;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether the volumes read are exactly the volumes zfs lists, each once. */
static bool same_volumes(const struct inventory *inv, char *names)
{
	_cleanup_free_ char **have = calloc(inv->n + 1, sizeof(*have));
	_cleanup_free_ char **want = NULL;
	size_t n = 0;

	if (!have)
		return false;
	for (char *p = names; *p;) {
		char *nl = p + strcspn(p, "\n"), *next = *nl ? nl + 1 : nl;
		char **w = realloc(want, (n + 1) * sizeof(*w));
		if (!w)
			return false;
		*nl = '\0';
		want = w;
		want[n++] = p;
		p = next;
	}
	if (n != inv->n)
		return false;
	if (n == 0)
		return true;
	for (size_t i = 0; i < n; i++)
		have[i] = inv->v[i].name;
	qsort(have, n, sizeof(*have), cmp_str);
	qsort(want, n, sizeof(*want), cmp_str);
	for (size_t i = 0; i < n; i++)
		if (strcmp(have[i], want[i]) != 0 || (i > 0 && strcmp(have[i], have[i - 1]) == 0))
			return false;
	return true;
}

int inventory_parse(struct inventory *inv, char *names, char *out, char **err)
{
	size_t index = N_PROPS;      /* of the current volume's next line */
	int r = 0;

	inv->v = NULL;
	inv->n = 0;
	*err = NULL;
	for (char *line = out; line && *line;) {
		size_t len = strcspn(line, "\n"), name_len = strcspn(line, "\t");
		char *next = line + len + (line[len] == '\n');

		line[len] = '\0';
		r = 0;
		if (index == N_PROPS) {
			/* a new volume: the one before it is complete */
			struct volume *nv = realloc(inv->v, (inv->n + 1) * sizeof(*nv));
			if (!nv) {
				inventory_clear(inv);
				return -ENOMEM;
			}
			inv->v = nv;
			memset(&inv->v[inv->n], 0, sizeof(*nv));
			inv->n++;            /* freed by inventory_clear, even half filled */
			if (!(inv->v[inv->n - 1].name = strndup(line, name_len)))
				r = -ENOMEM;
			index = 0;
		} else if (strlen(inv->v[inv->n - 1].name) != name_len ||
			   strncmp(inv->v[inv->n - 1].name, line, name_len) != 0) {
			r = -EPROTO;
		}
		if (r == 0)
			r = parse_line(line, &inv->v[inv->n - 1], index++);
		if (r < 0)
			break;
		line = next;
	}
	if (r == 0 && (index != N_PROPS || !same_volumes(inv, names ? names : (char *)"")))
		r = -EPROTO;
	if (r < 0) {
		inventory_clear(inv);
		if (r == -EPROTO)
			*err = strdup("unexpected output of zfs get (a property value holding a line break?)");
		return r;
	}
	/* on another host, its VMs' domains are on its libvirt, whatever its
	 * marks say: qvm:connect is the host's to write, and a URI it names
	 * (this machine's libvirt, or any other) is not where they are */
	const struct host_spec *host = remote_current();
	for (size_t i = 0; host && i < inv->n; i++) {
		free(inv->v[i].connect);
		if (!(inv->v[i].connect = strdup(host->connect))) {
			inventory_clear(inv);
			return -ENOMEM;
		}
	}
	return 0;
}

static int load_once(struct inventory *inv, char **err)
{
	_cleanup_free_ char *names = NULL, *out = NULL;
	_cleanup_free_ char *list = strv_join((char **)props, ",");
	int r;

	*err = NULL;
	if (!list)
		return -ENOMEM;
	/* the volumes' names (a name holds no tab or line break), then their
	 * properties: each volume has exactly its N_PROPS lines, in order, and
	 * the volumes read must be the volumes listed, each once - so a value
	 * holding a line break, lines that would read as another volume's
	 * marks, makes the output not add up */
	r = zfs_list_volume_names(&names, err);
	if (r == 0)
		r = zfs_get_volumes(list, &out, err);
	if (r < 0)
		return r;
	return inventory_parse(inv, names, out, err);
}

int volume_is_image(const struct volume *v)
{
	return v->kind && strcmp(v->kind, "image") == 0;
}

int volume_is_disk_of(const struct volume *v, const char *vm)
{
	return v->kind && strcmp(v->kind, "vm-disk") == 0 && v->vm && (!vm || strcmp(v->vm, vm) == 0);
}

int volume_is_creating(const struct volume *v)
{
	return (volume_is_image(v) || (v->kind && strcmp(v->kind, "vm-disk") == 0)) && v->state &&
	       strcmp(v->state, MARK_STATE_CREATING) == 0;
}

int volume_is_leftover(const struct volume *v)
{
	return volume_is_creating(v) && !(v->run && marks_run_alive(v->run));
}

size_t inventory_clones(const struct inventory *inv, const char *dataset)
{
	size_t n = 0, len = strlen(dataset);

	for (size_t i = 0; i < inv->n; i++) {
		const char *o = inv->v[i].origin;
		if (o && strncmp(o, dataset, len) == 0 && o[len] == '@')
			n++;
	}
	return n;
}

int inventory_load(struct inventory *inv, char **err)
{
	int r = -EPROTO;

	/* a volume made or destroyed between the two zfs calls (another qvm
	 * at work) makes them disagree too: ask again; output that never adds
	 * up is refused */
	for (int attempt = 0; attempt < 3 && r == -EPROTO; attempt++) {
		if (attempt) {
			free(*err);
			*err = NULL;
		}
		r = load_once(inv, err);
	}
	return r;
}
