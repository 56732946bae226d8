/* SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "names.h"
#include "banned.h"

static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* zfs allows these plus space; qvm refuses space so that no name ever needs
 * quoting on a command line it prints. */
static bool dataset_char(char c)
{
	return is_alpha(c) || is_digit(c) || c == '_' || c == '-' || c == '.' || c == ':';
}

static bool fail(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return false;
}

/* One component between '/' (or after '@'), of length len. */
static bool component_valid(const char *s, size_t len, const char **why)
{
	if (len == 0)
		return fail(why, "empty component");
	if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
		return fail(why, "component '.' or '..'");
	if (s[0] == '-')
		return fail(why, "component starts with '-'");
	for (size_t i = 0; i < len; i++)
		if (!dataset_char(s[i]))
			return fail(why, "invalid character (allowed: A-Z a-z 0-9 _ - . :)");
	return true;
}

bool dataset_name_valid(const char *name, bool allow_snapshot, const char **why)
{
	const char *at, *p, *end;
	size_t pool_len;

	if (!name || !*name)
		return fail(why, "empty name");
	if (strlen(name) > QVM_DATASET_NAME_MAX)
		return fail(why, "name longer than 255 characters");
	at = strchr(name, '@');
	if (at && !allow_snapshot)
		return fail(why, "a snapshot ('@') is not allowed here");
	if (at && strchr(at + 1, '@'))
		return fail(why, "more than one '@'");
	end = at ? at : name + strlen(name);
	if (name[0] == '/')
		return fail(why, "name starts with '/'");

	pool_len = strcspn(name, "/@");
	if (!is_alpha(name[0]))
		return fail(why, "pool name must start with a letter");
	/* zpool(8): "mirror", "raidz", "draid", "spare" and "log" are reserved,
	 * as are names beginning with the first four */
	static const char *const reserved[] = { "mirror", "raidz", "draid", "spare", NULL };
	for (size_t i = 0; reserved[i]; i++)
		if (strncmp(name, reserved[i], strlen(reserved[i])) == 0)
			return fail(why, "pool name is reserved");
	if (pool_len == 3 && strncmp(name, "log", 3) == 0)
		return fail(why, "pool name is reserved");

	for (p = name; p < end;) {
		size_t len = strcspn(p, "/@");
		if (p + len > end)
			len = (size_t)(end - p);
		if (!component_valid(p, len, why))
			return false;
		p += len;
		if (p < end && *p == '/') {
			p++;
			if (p == end)
				return fail(why, "name ends with '/'");
		}
	}
	if (at && !component_valid(at + 1, strlen(at + 1), why))
		return false;
	return true;
}

bool vm_name_valid(const char *name, const char **why)
{
	size_t len;

	if (!name || !*name)
		return fail(why, "empty name");
	len = strlen(name);
	if (len > QVM_VM_NAME_MAX)
		return fail(why, "longer than 64 characters");
	if (name[0] == '.' || name[0] == '-')
		return fail(why, "starts with '.' or '-'");
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (!(is_alpha(c) || is_digit(c) || c == '_' || c == '.' || c == '-'))
			return fail(why, "invalid character (allowed: A-Z a-z 0-9 _ . -)");
	}
	return true;
}

char *dataset_parent(const char *name)
{
	const char *slash = strrchr(name, '/');

	if (!slash)
		return NULL;
	return strndup(name, (size_t)(slash - name));
}

char *dataset_pool(const char *name)
{
	return strndup(name, strcspn(name, "/@"));
}

bool libvirt_uri_safe(const char *uri, const char **why)
{
	static const char *const transports[] = { "unix", "ssh", "libssh", "libssh2", "tls", "tcp" };
	static const char *const params[] = { "command", "netcat" };
	size_t scheme = strcspn(uri, ":/?");
	const char *plus = memchr(uri, '+', scheme), *q;
	const char *dummy;

	if (!why)
		why = &dummy;
	for (const unsigned char *p = (const unsigned char *)uri; *p; p++)
		if (*p < 0x20 || *p == 0x7f) {
			*why = "it holds a control character";
			return false;
		}
	if (plus) {
		size_t len = scheme - (size_t)(plus + 1 - uri);
		bool known = false;
		for (size_t i = 0; i < sizeof(transports) / sizeof(transports[0]); i++)
			known |= strlen(transports[i]) == len && strncmp(plus + 1, transports[i], len) == 0;
		if (!known) {
			*why = "its transport runs a program or is unknown (unix, ssh, libssh, libssh2, tls and tcp are allowed)";
			return false;
		}
	}
	q = strchr(uri, '?');
	for (const char *p = q; p && *p;) {
		p++;
		size_t len = strcspn(p, "=&");
		for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++)
			if (strlen(params[i]) == len && strncasecmp(p, params[i], len) == 0) {
				*why = "its command or netcat parameter names a program to run";
				return false;
			}
		p = strchr(p, '&');
	}
	return true;
}
