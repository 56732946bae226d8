/* SPDX-License-Identifier: MIT */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include "dynlib.h"
#include "banned.h"

int dynlib_load(const char *soname, const char *package, const char *const *names, void **fns,
		unsigned n, char **err)
{
	/* RTLD_NODELETE: what it returns stays valid for the whole run */
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);

	if (!h) {
		const char *why = dlerror();
		if (asprintf(err, "cannot load %s (install %s): %s", soname, package,
			     why ? why : "unknown error") < 0)
			*err = NULL;
		return -1;
	}
	for (unsigned i = 0; i < n; i++) {
		fns[i] = dlsym(h, names[i]);
		if (!fns[i]) {
			if (asprintf(err, "%s has no %s: a newer version is needed", soname, names[i]) < 0)
				*err = NULL;
			dlclose(h);
			return -1;
		}
	}
	return 0;
}
