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

/* Style for the VM name as a YAML value: plain, unless YAML 1.1 (cloud-init
 * uses PyYAML) would read it as something other than a string - a number,
 * a date or a boolean/null word. VM names hold only A-Z a-z 0-9 _ . - */
static enum yscalar_style name_style(const char *name)
{
	static const char *const words[] = { "y", "n", "yes", "no", "on", "off", "true", "false",
					     "null", NULL };
	bool letter = (name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z');

	if (!letter)
		return YSTYLE_SINGLE;
	for (size_t i = 0; words[i]; i++)
		if (strcasecmp(name, words[i]) == 0)
			return YSTYLE_SINGLE;
	return YSTYLE_PLAIN;
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
		items[view.n] = ynode_new_scalar(f->name, name_style(f->name));
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
