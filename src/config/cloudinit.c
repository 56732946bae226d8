/* SPDX-License-Identifier: MIT */
/* user-data and meta-data for the NoCloud seed (SPEC §3.3). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "cloudinit.h"
#include "banned.h"

int cloudinit_user_data(const struct qvm_file *f, char **out, size_t *len)
{
	return yaml_emit(f->user_data, "#cloud-config\n", out, len);
}


int cloudinit_meta_data(const struct qvm_file *f, char **out, size_t *len)
{
	static const char *const defaults[] = { "instance-id", "local-hostname" };
	const struct ynode *md = f->meta_data;
	_cleanup_free_ struct ynode **keys = NULL, **items = NULL;
	struct ynode view;
	int r = 0;

	if (!md || md->kind != YNODE_MAPPING || !f->name)
		return -EINVAL;

	/* emit a shallow view: the document's pairs followed by the defaults,
	 * so the document itself is not changed */
	keys = calloc(md->n + 2, sizeof(*keys));
	items = calloc(md->n + 2, sizeof(*items));
	if (!keys || !items)
		return -ENOMEM;
	for (size_t i = 0; i < md->n; i++) {
		keys[i] = md->keys[i];
		items[i] = md->items[i];
	}
	view = *md;
	view.keys = keys;
	view.items = items;
	for (size_t i = 0; i < 2; i++) {
		if (ymap_index(md, defaults[i]) >= 0)
			continue;
		/* the slots past md->n are ours and freed below, even half filled */
		keys[view.n] = ynode_new_scalar(defaults[i], YSTYLE_PLAIN);
		items[view.n] = ynode_new_scalar(f->name, yscalar_style_for_name(f->name));
		if (!keys[view.n] || !items[view.n]) {
			r = -ENOMEM;
			break;
		}
		view.n++;
	}
	if (r == 0)
		r = yaml_emit(&view, NULL, out, len);
	for (size_t i = md->n; i < md->n + 2; i++) {
		ynode_free(keys[i]);
		ynode_free(items[i]);
	}
	return r;
}

int cloudinit_network_config(const struct qvm_file *f, char **out, size_t *len)
{
	if (!f->network_config)
		return -ENOENT;
	return yaml_emit(f->network_config, NULL, out, len);
}

int cloudinit_vendor_data(const struct qvm_file *f, char **out, size_t *len)
{
	if (!f->vendor_data)
		return -ENOENT;
	return yaml_emit(f->vendor_data, "#cloud-config\n", out, len);
}
