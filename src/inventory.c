/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "inventory.h"
#include "size.h"
#include "zfs.h"
#include "banned.h"

#define COLUMNS "name,volsize,used,origin,qvm:kind,qvm:vm,qvm:connect,qvm:state,qvm:source,qvm:sha256,qvm:disk,qvm:run"
#define N_COLUMNS 12

void inventory_clear(struct inventory *inv)
{
	for (size_t i = 0; i < inv->n; i++) {
		struct volume *v = &inv->v[i];
		free(v->name);
		free(v->origin);
		free(v->kind);
		free(v->vm);
		free(v->connect);
		free(v->state);
		free(v->source);
		free(v->sha256);
		free(v->disk);
		free(v->run);
	}
	free(inv->v);
	inv->v = NULL;
	inv->n = 0;
}

/* "-" is how zfs shows an unset property. */
static int take(char **dst, const char *s)
{
	if (strcmp(s, "-") == 0 || *s == '\0') {
		*dst = NULL;
		return 0;
	}
	*dst = strdup(s);
	return *dst ? 0 : -ENOMEM;
}

static int parse_line(char *line, struct volume *v)
{
	char *f[N_COLUMNS];
	size_t n = 0;

	for (char *p = line; n < N_COLUMNS; n++) {
		f[n] = p;
		p += strcspn(p, "\t");
		if (*p == '\0') {
			n++;
			break;
		}
		*p++ = '\0';
	}
	if (n != N_COLUMNS)
		return -EPROTO;
	memset(v, 0, sizeof(*v));
	if (parse_u64(f[1], &v->volsize) < 0)
		v->volsize = 0;
	if (parse_u64(f[2], &v->used) < 0)
		v->used = 0;
	if (!(v->name = strdup(f[0])) || take(&v->origin, f[3]) < 0 || take(&v->kind, f[4]) < 0 ||
	    take(&v->vm, f[5]) < 0 || take(&v->connect, f[6]) < 0 || take(&v->state, f[7]) < 0 ||
	    take(&v->source, f[8]) < 0 || take(&v->sha256, f[9]) < 0 || take(&v->disk, f[10]) < 0 ||
	    take(&v->run, f[11]) < 0)
		return -ENOMEM;
	return 0;
}

int inventory_load(struct inventory *inv, char **err)
{
	_cleanup_free_ char *out = NULL;
	int r;

	inv->v = NULL;
	inv->n = 0;
	*err = NULL;
	r = zfs_list_volumes_parsable(COLUMNS, &out, err);
	if (r < 0)
		return r;
	for (char *line = out; line && *line;) {
		size_t len = strcspn(line, "\n");
		char *next = line + len + (line[len] == '\n');
		struct volume *nv;

		line[len] = '\0';
		if (len == 0) {
			line = next;
			continue;
		}
		nv = realloc(inv->v, (inv->n + 1) * sizeof(*nv));
		if (!nv) {
			inventory_clear(inv);
			return -ENOMEM;
		}
		inv->v = nv;
		r = parse_line(line, &inv->v[inv->n]);
		inv->n++;            /* freed by inventory_clear, even half filled */
		if (r < 0) {
			inventory_clear(inv);
			if (r == -EPROTO)
				*err = strdup("unexpected output of zfs list");
			return r;
		}
		line = next;
	}
	return 0;
}

int volume_is_image(const struct volume *v)
{
	return v->kind && strcmp(v->kind, "image") == 0;
}

int volume_is_disk_of(const struct volume *v, const char *vm)
{
	return v->kind && strcmp(v->kind, "vm-disk") == 0 && v->vm && (!vm || strcmp(v->vm, vm) == 0);
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
