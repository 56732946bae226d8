/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <sys/random.h>
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

/* One query parameter's name, percent-decoded as libvirt decodes it, into
 * out (lower case); false if it does not fit. */
static bool param_name(const char *p, size_t len, char *out, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)p[i];
		if (c == '%' && i + 2 < len && isxdigit((unsigned char)p[i + 1]) &&
		    isxdigit((unsigned char)p[i + 2])) {
			char hex[3] = { p[i + 1], p[i + 2], 0 };
			c = (int)strtol(hex, NULL, 16);
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		if (o + 1 >= size)
			return false;
		out[o++] = (char)tolower(c);
	}
	out[o] = '\0';
	return true;
}

/* A URI's path as libvirt reads it (xmlParseURI: after "scheme:" and any
 * "//authority", up to '?' or '#', %XX decoded), in buf; false if it does
 * not fit. "qemu:/embed" and "qemu:///%65mbed" are both "/embed". */
static bool uri_path(const char *uri, char *buf, size_t size)
{
	const char *p = strchr(uri, ':');
	size_t n = 0;

	p = p ? p + 1 : uri;
	if (p[0] == '/' && p[1] == '/')
		p += 2 + strcspn(p + 2, "/?#");
	for (; *p && *p != '?' && *p != '#'; p++) {
		unsigned v;
		if (n + 1 >= size)
			return false;
		if (p[0] == '%' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2]) &&
		    sscanf(p + 1, "%2x", &v) == 1) {
			buf[n++] = (char)v;
			p += 2;
		} else {
			buf[n++] = *p;
		}
	}
	buf[n] = '\0';
	return true;
}

bool libvirt_uri_safe(const char *uri, const char **why)
{
	static const char *const transports[] = { "unix", "ssh", "libssh", "libssh2", "tls", "tcp" };
	/* a program to run; a file to write (libssh adds host keys to it) */
	static const char *const params[] = { "command", "netcat", "known_hosts", "known_hosts_verify" };
	size_t scheme = strcspn(uri, ":/?");
	const char *plus = memchr(uri, '+', scheme), *q;
	const char *dummy;
	char path[512];

	if (!why)
		why = &dummy;
	/* virt-install rewrites a URI holding this (its test hook) before
	 * libvirt sees it: what is checked here would not be what is used */
	if (strstr(uri, "__virtinst_test__")) {
		*why = "it holds virt-install's test prefix __virtinst_test__";
		return false;
	}
	for (const unsigned char *p = (const unsigned char *)uri; *p; p++)
		if (*p < 0x20 || *p >= 0x7f) {
			*why = "it holds a control or non-ASCII character";
			return false;
		}
	if (plus) {
		size_t len = scheme - (size_t)(plus + 1 - uri);
		bool known = false;
		for (size_t i = 0; i < sizeof(transports) / sizeof(transports[0]); i++)
			known |= strlen(transports[i]) == len && strncasecmp(plus + 1, transports[i], len) == 0;
		if (!known) {
			*why = "its transport runs a program or is unknown (unix, ssh, libssh, libssh2, tls and tcp are allowed)";
			return false;
		}
	}
	if (!uri_path(uri, path, sizeof(path))) {
		*why = "its path is too long to check";
		return false;
	}
	/* the test driver reads the file its path names: only its own model */
	if (scheme >= 4 && strncasecmp(uri, "test", 4) == 0 && (scheme == 4 || uri[4] == '+') &&
	    (!strstr(uri, "://") || strcmp(path, "/default") != 0)) {
		*why = "the test driver's URI names a file for it to read (only test:///default is allowed)";
		return false;
	}
	/* DRIVER:///embed?root=DIR (or DRIVER:/embed) runs the driver inside
	 * the process, as root here, on a directory the URI chooses */
	if (strncasecmp(path, "/embed", 6) == 0 && (!path[6] || path[6] == '/')) {
		*why = "an embedded driver (/embed) runs inside qvm on a directory the URI names";
		return false;
	}
	/* libvirt splits the query on '&' and ';' and decodes each name */
	q = strchr(uri, '?');
	for (const char *p = q ? q + 1 : NULL; p && *p;) {
		size_t len = strcspn(p, "=&;");
		char name[64];
		if (!param_name(p, len, name, sizeof(name))) {
			*why = "it has a query parameter name too long to check";
			return false;
		}
		for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++)
			if (strcmp(name, params[i]) == 0) {
				*why = "a parameter names a program to run (command, netcat) or a file to write "
				       "(known_hosts)";
				return false;
			}
		p += len;
		p += strcspn(p, "&;");
		if (*p)
			p++;
	}
	return true;
}

int uuid_canonical(const char *s, char out[37])
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0, o = 0;

	/* 32 hex digits, as 8-4-4-4-12 or without dashes */
	bool dashed = strlen(s) == 36;
	if (!dashed && strlen(s) != 32)
		return -EINVAL;
	for (size_t i = 0; s[i]; i++) {
		const char *d;
		if (dashed && (i == 8 || i == 13 || i == 18 || i == 23)) {
			if (s[i] != '-')
				return -EINVAL;
			continue;
		}
		char ch = (char)((s[i] >= 'A' && s[i] <= 'F') ? s[i] - 'A' + 'a' : s[i]);
		if (!(d = strchr(hex, ch)) || !*d)
			return -EINVAL;
		if (n == 8 || n == 12 || n == 16 || n == 20)
			out[o++] = '-';
		out[o++] = ch;
		n++;
	}
	if (n != 32)
		return -EINVAL;
	out[o] = '\0';
	return 0;
}

int uuid_generate(char out[37])
{
	unsigned char b[16];

	if (getrandom(b, sizeof(b), 0) != sizeof(b))
		return -EIO;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);   /* version 4: random */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);   /* RFC 4122 variant */
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
	return 0;
}

bool login_name_valid(const char *name, const char **why)
{
	size_t len = name ? strlen(name) : 0;
	const char *unused;

	if (!why)
		why = &unused;
	if (len == 0) {
		*why = "empty";
		return false;
	}
	if (len > LOGIN_NAME_MAX_LEN) {
		*why = "longer than 32 characters";
		return false;
	}
	if (name[0] == '-' || name[0] == '.') {
		*why = name[0] == '-' ? "starts with '-'" : "starts with '.'";
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
		      c == '_' || c == '-')) {
			*why = "invalid character (allowed: A-Z a-z 0-9 . _ -)";
			return false;
		}
	}
	return true;
}

bool osinfo_name_valid(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	/* words virt-install's --osinfo takes for a question, not an OS */
	if (len == 0 || len > 64 || strcmp(name, "list") == 0 || strcmp(name, "help") == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || !strchr("._-+", c)))
			return false;
	}
	return true;
}

bool libvirt_uri_names_host(const char *uri)
{
	const char *a = strstr(uri, "://");

	return a && a[3] && a[3] != '/' && a[3] != '?';
}
