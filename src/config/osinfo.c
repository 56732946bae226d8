/* SPDX-License-Identifier: MIT */
/* The osinfo names of the installed virt-install (osinfo.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "cleanup.h"
#include "names.h"
#include "osinfo.h"
#include "process.h"
#include "report.h"
#include "strv.h"
#include "banned.h"

int osinfo_list_parse(const char *text, char ***names)
{
	_cleanup_strv_free_ char **v = NULL;
	size_t n = 0;

	*names = NULL;
	for (const char *p = text; *p;) {
		size_t len = strcspn(p, "\n");
		const char *line = p;

		p += len + (p[len] == '\n');
		while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' '))
			len--;
		if (len == 0) {
			if (n > 0)
				break;          /* the footer follows */
			continue;
		}
		for (size_t i = 0; i < len;) {
			size_t piece = i;
			while (piece < len && line[piece] != ',')
				piece++;
			size_t a = i, b = piece;
			while (a < b && line[a] == ' ')
				a++;
			while (b > a && line[b - 1] == ' ')
				b--;
			if (b > a && b - a <= CATALOG_OSINFO_MAX) {
				char name[CATALOG_OSINFO_MAX + 1];
				memcpy(name, line + a, b - a);
				name[b - a] = '\0';
				if (osinfo_name_valid(name) && !osinfo_known(v, name)) {
					if (n >= OSINFO_MAX_NAMES)
						return -E2BIG;
					if (strv_push(&v, name) < 0)
						return -ENOMEM;
					n++;
				}
			}
			i = piece + 1;
		}
	}
	if (n == 0)
		return -ENODATA;
	*names = TAKE_PTR(v);
	return 0;
}

bool osinfo_known(char *const *names, const char *name)
{
	for (size_t i = 0; names && names[i]; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

int osinfo_pick(char *const *names, char *const *candidates)
{
	for (size_t i = 0; candidates && candidates[i]; i++)
		if (osinfo_known(names, candidates[i]))
			return (int)i;
	return -1;
}

static char **cached;

static void free_cached(void)
{
	strv_free(cached);
	cached = NULL;
}

int osinfo_list_load(char *const **names, char **err)
{
	char *argv[] = { (char *)"virt-install", (char *)"--osinfo", (char *)"list", NULL };
	struct spawn_result res;
	_cleanup_free_ char *why = NULL;
	int r;

	*err = NULL;
	if (cached) {
		*names = cached;
		return 0;
	}
	r = spawn_check(argv, SPAWN_CAPTURE_STDOUT | SPAWN_CAPTURE_STDERR | SPAWN_C_LOCALE, &res, &why);
	if (r < 0) {
		spawn_result_clear(&res);
		return r == -ENOMEM ? r : report_error(err, r, "cannot list virt-install's osinfo names: %s", why);
	}
	r = osinfo_list_parse(res.out ? res.out : "", &cached);
	spawn_result_clear(&res);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return report_error(err, -EPROTO, "cannot list virt-install's osinfo names: "
				    "virt-install --osinfo list %s", r == -E2BIG ? "listed too many" : "listed none");
	atexit(free_cached);
	*names = cached;
	return 0;
}
