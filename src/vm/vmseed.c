/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>

#include "cloudinit.h"
#include "vmseed.h"
#include "banned.h"

void vm_seed_docs_clear(struct vm_seed_docs *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->text[i]);
	d->n = 0;
}

int vm_seed_docs_build(const struct qvm_file *f, struct vm_seed_docs *d)
{
	static const struct {
		const char *name;
		int (*fn)(const struct qvm_file *, char **, size_t *);
	} docs[] = {
		{ "user-data", cloudinit_user_data },
		{ "meta-data", cloudinit_meta_data },
		{ "network-config", cloudinit_network_config },
		{ "vendor-data", cloudinit_vendor_data },
	};

	d->n = 0;
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		size_t len;
		int r = docs[i].fn(f, &d->text[d->n], &len);
		if (r == -ENOENT)
			continue;
		if (r < 0) {
			vm_seed_docs_clear(d);
			return r;
		}
		d->files[d->n] = (struct seed_file){ docs[i].name, d->text[d->n], len };
		d->n++;
	}
	return 0;
}
