/* SPDX-License-Identifier: MIT */
/* The hosts qvm can work on (hosts.h). A host's name reaches ssh's and
 * libvirt's argument parsers and a libvirt URI: only names that read the
 * same in all three are accepted. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hosts.h"
#include "cleanup.h"
#include "fdio.h"
#include "msgtext.h"
#include "names.h"
#include "strv.h"
#include "yamltree.h"
#include "banned.h"

#define HOST_NAME_MAX_LEN 253
#define HOSTS_MAX 4096

/* A DNS name, an ssh_config alias of the same letters or an IPv4 address:
 * letters, digits, '.', '-', '_', starting with a letter or digit (never
 * an option of ssh's). */
static bool dns_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > HOST_NAME_MAX_LEN || !strchr("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", s[0]))
		return false;
	return strspn(s, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-_") == n;
}

/* An IPv6 address as written between brackets: hex digits, ':' and '.'. */
static bool ipv6_valid(const char *s, size_t n)
{
	return n >= 2 && n <= 45 && strspn(s, "0123456789abcdefABCDEF:.") >= n && memchr(s, ':', n);
}

void host_spec_clear(struct host_spec *h)
{
	free(h->name);
	free(h->user);
	free(h->address);
	free(h->connect);
	memset(h, 0, sizeof(*h));
}

static int invalid(char **err, const char *text, const char *why)
{
	char shown[256];

	msg_text(shown, sizeof(shown), text, strlen(text));
	free(*err);
	*err = strdupf("invalid host '%s': %s", shown, why);
	return *err ? -EINVAL : -ENOMEM;
}

/* qemu+ssh://[USER@]HOST[:PORT]/system: what a host runs if nothing says otherwise */
static char *default_connect(const struct host_spec *h)
{
	char port[16] = "";
	bool v6 = strchr(h->address, ':') != NULL;

	if (h->port)
		snprintf(port, sizeof(port), ":%u", h->port);
	return strdupf("qemu+ssh://%s%s%s%s%s%s/system", h->user ? h->user : "", h->user ? "@" : "",
		       v6 ? "[" : "", h->address, v6 ? "]" : "", port);
}

int host_spec_parse(const char *text, struct host_spec *out, char **err)
{
	_cleanup_free_ char *copy = strdup(text);
	char *host, *at, *port = NULL;
	const char *why;
	struct host_spec h = { 0 };

	if (!copy)
		return -ENOMEM;
	host = copy;
	at = strrchr(copy, '@');
	if (at) {
		*at = '\0';
		host = at + 1;
		if (!login_name_valid(copy, &why))
			return invalid(err, text, "the user is not a login name");
	}
	if (host[0] == '[') {
		char *close = strchr(host, ']');
		if (!close || !ipv6_valid(host + 1, (size_t)(close - host - 1)))
			return invalid(err, text, "expected [IPv6-ADDRESS] in brackets");
		*close = '\0';
		host++;
		if (close[1] == ':')
			port = close + 2;
		else if (close[1])
			return invalid(err, text, "expected :PORT after ]");
	} else if (strchr(host, ':')) {
		char *colon = strrchr(host, ':');
		if (strchr(host, ':') != colon)
			return invalid(err, text, "an IPv6 address goes in brackets: [ADDRESS]:PORT");
		*colon = '\0';
		port = colon + 1;
		if (!dns_name_valid(host))
			return invalid(err, text, "expected [USER@]HOST[:PORT], HOST of letters, digits, '.', '-', '_'");
	} else if (!dns_name_valid(host)) {
		return invalid(err, text, "expected [USER@]HOST[:PORT], HOST of letters, digits, '.', '-', '_'");
	}
	if (port) {
		char *end;
		unsigned long v;
		if (!*port || strspn(port, "0123456789") != strlen(port) ||
		    (v = strtoul(port, &end, 10)) == 0 || v > 65535)
			return invalid(err, text, "the port must be a number from 1 to 65535");
		h.port = (unsigned)v;
	}
	if (!(h.name = strdup(text)) || !(h.address = strdup(host)) || (at && !(h.user = strdup(copy))) ||
	    !(h.connect = default_connect(&h))) {
		host_spec_clear(&h);
		return -ENOMEM;
	}
	*out = h;
	return 0;
}

/* ---- the hosts file ---- */

void hosts_clear(struct host_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		host_spec_clear(&l->h[i]);
	free(l->h);
	free(l->file);
	memset(l, 0, sizeof(*l));
}

static int fail_at(char **err, const char *file, const struct ynode *at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail_at(char **err, const char *file, const struct ynode *at, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	free(*err);
	if (!msg || asprintf(err, "%s:%u:%u: %s", file, at->line, at->col, msg) < 0)
		*err = NULL;
	return -1;
}

/* A key's text for a message, escaped. */
static const char *shown_key(const struct ynode *k, char *buf, size_t size)
{
	msg_text(buf, size, k->value ? k->value : "", k->value ? k->len : 0);
	return buf;
}

static const char *text_of(const struct ynode *n)
{
	if (!n || n->kind != YNODE_SCALAR || strlen(n->value) != n->len || n->tag || !n->len)
		return NULL;
	return n->value;
}

static int parse_host(const char *file, const struct ynode *k, const struct ynode *v, struct host_spec *h,
		      char **err)
{
	const char *name = text_of(k), *ssh = name, *connect = NULL;
	char shown[96];
	int r;

	if (!name || !dns_name_valid(name))
		return fail_at(err, file, k, "invalid host name '%s': expected letters, digits, '.', '-', '_'",
			       shown_key(k, shown, sizeof(shown)));
	/* --host auto is placement: a host of that name could not be named */
	if (strcmp(name, "auto") == 0)
		return fail_at(err, file, k, "'auto' is not a host name: --host auto lets qvm pick the host");
	if (v->kind == YNODE_MAPPING) {
		for (size_t i = 0; i < v->n; i++) {
			const char *key = text_of(v->keys[i]), *val = text_of(v->items[i]);
			if (key && strcmp(key, "ssh") == 0 && val)
				ssh = val;
			else if (key && strcmp(key, "connect") == 0 && val)
				connect = val;
			else if (key && (strcmp(key, "ssh") == 0 || strcmp(key, "connect") == 0))
				return fail_at(err, file, v->items[i], "'%s' must be a non-empty string", key);
			else
				return fail_at(err, file, v->keys[i], "unknown key '%s' (a host has 'ssh' and 'connect')",
					       shown_key(v->keys[i], shown, sizeof(shown)));
		}
	} else if (!yscalar_is_null(v)) {
		return fail_at(err, file, v, "host '%s' must be a mapping with 'ssh' and 'connect' (or empty)", name);
	}
	r = host_spec_parse(ssh, h, err);
	if (r == -EINVAL)
		return fail_at(err, file, v->kind == YNODE_MAPPING ? v : k, "%s", *err);
	if (r < 0)
		return r;
	free(h->name);
	if (!(h->name = strdup(name)))
		return -ENOMEM;
	if (connect) {
		const char *why;
		if (strpbrk(connect, " \t\n\r\v\f")) {
			host_spec_clear(h);
			return fail_at(err, file, v, "host '%s': connect URI refused: it holds white space", name);
		}
		if (!libvirt_uri_safe(connect, &why)) {
			host_spec_clear(h);
			return fail_at(err, file, v, "host '%s': connect URI refused: %s", name, why);
		}
		if (!libvirt_uri_names_host(connect)) {
			host_spec_clear(h);
			return fail_at(err, file, v, "host '%s': connect URI refused: it is this machine's libvirt, "
				       "not the host's (DRIVER+TRANSPORT://HOST/...)", name);
		}
		free(h->connect);
		if (!(h->connect = strdup(connect)))
			return -ENOMEM;
	}
	return 0;
}

int hosts_parse(struct host_list *l, const char *file, const char *buf, size_t len, char **err)
{
	struct ystream *s = NULL;
	_cleanup_free_ char *yerr = NULL;
	const struct ynode *root;
	int r;

	*err = NULL;
	r = ystream_parse(buf, len, &s, &yerr);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		*err = yparse_error_at(file, yerr);
		return -1;
	}
	r = 0;
	root = s->n > 0 ? s->docs[0].root : NULL;
	if (s->n > 1)
		r = fail_at(err, file, s->docs[1].root ? s->docs[1].root : root, "a hosts file is one YAML document");
	else if (root && !yscalar_is_null(root) && root->kind != YNODE_MAPPING)
		r = fail_at(err, file, root, "a hosts file is a mapping of host names to {ssh, connect}");
	for (size_t i = 0; r == 0 && root && root->kind == YNODE_MAPPING && i < root->n; i++) {
		struct host_spec h = { 0 };
		if (l->n >= HOSTS_MAX) {
			r = fail_at(err, file, root->keys[i], "more than %d hosts", HOSTS_MAX);
			break;
		}
		r = parse_host(file, root->keys[i], root->items[i], &h, err);
		if (r == 0) {
			struct host_spec *grown = realloc(l->h, (l->n + 1) * sizeof(*grown));
			if (!grown) {
				host_spec_clear(&h);
				r = -ENOMEM;
				break;
			}
			l->h = grown;
			l->h[l->n++] = h;
		}
	}
	ystream_free(s);
	if (r == -ENOMEM) {
		free(*err);
		*err = NULL;
	}
	return r;
}

int hosts_load(struct host_list *l, char **err)
{
	const char *env = getenv("QVM_HOSTS");
	const char *path = env && *env ? env : QVM_HOSTS_FILE;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r;

	memset(l, 0, sizeof(*l));
	r = read_file_small(path, YAML_MAX_INPUT, &buf, &len);
	if (r == -ENOENT && !(env && *env))
		return 0;
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		*err = strdupf("cannot read hosts file %s: %s", path,
			       r == -EFBIG ? "too large" : r == -EBADF ? "not a regular file" : strerror(-r));
		return -1;
	}
	if (!(l->file = strdup(path)))
		return -ENOMEM;
	r = hosts_parse(l, path, buf, len, err);
	if (r < 0)
		hosts_clear(l);
	return r;
}

int hosts_resolve(const struct host_list *l, const char *name, struct host_spec *out, char **err)
{
	for (size_t i = 0; l && i < l->n; i++) {
		const struct host_spec *h = &l->h[i];
		if (strcmp(h->name, name) != 0)
			continue;
		memset(out, 0, sizeof(*out));
		if (!(out->name = strdup(h->name)) || !(out->address = strdup(h->address)) ||
		    (h->user && !(out->user = strdup(h->user))) || !(out->connect = strdup(h->connect))) {
			host_spec_clear(out);
			return -ENOMEM;
		}
		out->port = h->port;
		return 0;
	}
	return host_spec_parse(name, out, err);
}
