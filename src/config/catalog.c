/* SPDX-License-Identifier: MIT */
/* The image catalog (catalog.h): YAML files read with the project's YAML
 * reader, every key known, every value checked before it is believed - a
 * catalog file may come from anywhere an administrator copied it from. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog.h"
#include "fdio.h"
#include "names.h"
#include "cleanup.h"
#include "msgtext.h"
#include "strv.h"
#include "yamltree.h"
#include "banned.h"

/* entries across all files, against a hostile or runaway catalog */
#define CATALOG_MAX_ENTRIES 4096
#define CATALOG_MAX_OSINFO 16
#define CATALOG_URL_MAX 2048
/* *.yaml files of one directory */
#define CATALOG_MAX_DIR_FILES 256

static bool lower_or_digit(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool catalog_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > CATALOG_NAME_MAX || !lower_or_digit(name[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!lower_or_digit(name[i]) && !strchr("._-", name[i]))
			return false;
	return true;
}

/* An http(s) URL or an absolute path, printable, without white space: it
 * reaches libcurl or open(), and messages. */
static bool location_valid(const char *s, const char **why)
{
	size_t n = strlen(s);

	if (n == 0 || n > CATALOG_URL_MAX) {
		*why = "empty or too long";
		return false;
	}
	for (size_t i = 0; i < n; i++)
		/* ASCII only (a URL's other bytes are %-escaped): nothing a
		 * terminal could obey (C1 controls, bidi overrides) when listed */
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f) {
			*why = "holds white space, a control character or a byte that is not ASCII (escape it with %XX)";
			return false;
		}
	if (strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0 || s[0] == '/')
		return true;
	*why = "expected an http:// or https:// URL or an absolute path";
	return false;
}

static bool arch_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32 || !lower_or_digit(s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!lower_or_digit(s[i]) && s[i] != '_')
			return false;
	return true;
}

static void entry_clear(struct catalog_entry *e)
{
	free(e->name);
	free(e->url);
	free(e->checksum);
	strv_free(e->osinfo);
	free(e->user);
	free(e->arch);
	free(e->where);
	memset(e, 0, sizeof(*e));
}

void catalog_clear(struct catalog *c)
{
	for (size_t i = 0; i < c->n; i++)
		entry_clear(&c->e[i]);
	free(c->e);
	strv_free(c->files);
	strv_free(c->searched);
	memset(c, 0, sizeof(*c));
}

const struct catalog_entry *catalog_find(const struct catalog *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->e[i].name, name) == 0)
			return &c->e[i];
	return NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *catalog_names(const struct catalog *c)
{
	_cleanup_free_ char **v = calloc(c->n + 1, sizeof(char *));

	if (!v)
		return NULL;
	for (size_t i = 0; i < c->n; i++)
		v[i] = c->e[i].name;
	qsort(v, c->n, sizeof(char *), cmp_str);
	return strv_join(v, ", ");
}

char *catalog_sources(const struct catalog *c)
{
	char *const *v = c->files && c->files[0] ? c->files : c->searched;

	return v ? strv_join(v, ", ") : strdup("");
}

/* ---- one file ---- */

struct parse {
	const char *file;            /* as messages show it */
	char **err;
};

static int fail_at(struct parse *p, const struct ynode *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail_at(struct parse *p, const struct ynode *at, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	free(*p->err);
	if (!msg || (at ? asprintf(p->err, "%s:%u:%u: %s", p->file, at->line, at->col, msg)
			: asprintf(p->err, "%s: %s", p->file, msg)) < 0)
		*p->err = NULL;
	return -1;
}

/* A plain or quoted scalar holding text (no NUL), as a catalog value. */
static const char *text_of(const struct ynode *n)
{
	if (!n || n->kind != YNODE_SCALAR || strlen(n->value) != n->len || n->tag)
		return NULL;
	return n->value;
}

/* A key's text for a message, escaped. */
static const char *shown(const struct ynode *k, char *buf, size_t size)
{
	msg_text(buf, size, k->value ? k->value : "", k->value ? k->len : 0);
	return buf;
}

static int take_string(struct parse *p, const struct ynode *v, const char *key, char **out)
{
	const char *s = text_of(v);

	if (!s || yscalar_is_null(v) || !*s)
		return fail_at(p, v, "'%s' must be a non-empty string", key);
	if (!(*out = strdup(s)))
		return -ENOMEM;
	return 0;
}

static int take_osinfo(struct parse *p, const struct ynode *v, char ***out)
{
	const struct ynode *const *items = v->kind == YNODE_SEQUENCE ? (const struct ynode *const *)v->items
								      : (const struct ynode *const *)&v;
	size_t n = v->kind == YNODE_SEQUENCE ? v->n : 1;
	char buf[96];

	if (v->kind == YNODE_MAPPING || n == 0)
		return fail_at(p, v, "'osinfo' must be a name or a list of names");
	if (n > CATALOG_MAX_OSINFO)
		return fail_at(p, v, "'osinfo' lists more than %d names", CATALOG_MAX_OSINFO);
	for (size_t i = 0; i < n; i++) {
		const char *s = text_of(items[i]);
		if (!s || !osinfo_name_valid(s))
			return fail_at(p, items[i], "invalid osinfo name '%s': expected 1-%d of a-z A-Z 0-9 . _ + -",
				       s ? shown(items[i], buf, sizeof(buf)) : "", CATALOG_OSINFO_MAX);
		if (strv_push(out, s) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int parse_entry(struct parse *p, const struct ynode *k, const struct ynode *v, struct catalog_entry *e)
{
	static const char *const required[] = { "url", "checksum", "osinfo", "user", "arch" };
	char buf[96];
	const char *why;
	int r = 0;

	if (v->kind != YNODE_MAPPING)
		return fail_at(p, v, "image '%s' must be a mapping of url, checksum, osinfo, user, arch",
			       e->name);
	for (size_t i = 0; i < v->n && r == 0; i++) {
		const struct ynode *key = v->keys[i], *val = v->items[i];
		const char *ks = text_of(key);

		if (!ks)
			r = fail_at(p, key, "a key of image '%s' must be a string", e->name);
		else if (strcmp(ks, "url") == 0)
			r = take_string(p, val, ks, &e->url);
		else if (strcmp(ks, "checksum") == 0)
			r = take_string(p, val, ks, &e->checksum);
		else if (strcmp(ks, "osinfo") == 0)
			r = take_osinfo(p, val, &e->osinfo);
		else if (strcmp(ks, "user") == 0)
			r = take_string(p, val, ks, &e->user);
		else if (strcmp(ks, "arch") == 0)
			r = take_string(p, val, ks, &e->arch);
		else
			r = fail_at(p, key, "unknown key '%s' in image '%s' (expected url, checksum, osinfo, "
				    "user, arch)", shown(key, buf, sizeof(buf)), e->name);
		if (r < 0)
			return r;
		if (strcmp(ks, "url") == 0 && !location_valid(e->url, &why))
			return fail_at(p, val, "invalid url of image '%s': %s", e->name, why);
		if (strcmp(ks, "checksum") == 0 && !location_valid(e->checksum, &why))
			return fail_at(p, val, "invalid checksum of image '%s': %s", e->name, why);
		if (strcmp(ks, "user") == 0 && !login_name_valid(e->user, &why))
			return fail_at(p, val, "invalid user of image '%s': %s (a login name: 1-%d of "
				       "A-Z a-z 0-9 . _ -)", e->name, why, LOGIN_NAME_MAX_LEN);
		if (strcmp(ks, "arch") == 0 && !arch_valid(e->arch))
			return fail_at(p, val, "invalid arch of image '%s': expected a machine name as "
				       "uname -m prints it (x86_64, aarch64 ...)", e->name);
	}
	const char *have[] = { e->url, e->checksum, e->osinfo ? "" : NULL, e->user, e->arch };
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (!have[i])
			return fail_at(p, k, "image '%s' has no '%s' (every image needs url, checksum, "
				       "osinfo, user, arch)", e->name, required[i]);
	if (asprintf(&e->where, "%s:%u:%u", p->file, k->line, k->col) < 0) {
		e->where = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* Adds or replaces: a later file's entry of a name wins. */
static int add_entry(struct catalog *c, struct catalog_entry *e)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->e[i].name, e->name) == 0) {
			entry_clear(&c->e[i]);
			c->e[i] = *e;
			memset(e, 0, sizeof(*e));
			return 0;
		}
	if (c->n >= CATALOG_MAX_ENTRIES)
		return -E2BIG;
	struct catalog_entry *grown = realloc(c->e, (c->n + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	c->e = grown;
	c->e[c->n++] = *e;
	memset(e, 0, sizeof(*e));
	return 0;
}

int catalog_parse(struct catalog *c, const char *file, const char *buf, size_t len, char **err)
{
	struct ystream *s = NULL;
	_cleanup_free_ char *yerr = NULL;
	struct parse p = { .file = file, .err = err };
	const struct ynode *root, *images;
	char kb[96];
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
	if (s->n == 0 || !s->docs[0].root) {
		/* an empty file adds nothing (a placeholder in images.d) */
		ystream_free(s);
		return 0;
	}
	root = s->docs[0].root;
	if (s->n > 1)
		r = fail_at(&p, s->docs[1].root, "a catalog is one YAML document");
	else if (root->kind != YNODE_MAPPING)
		r = fail_at(&p, root, "a catalog is a mapping with the key 'images'");
	for (size_t i = 0; r == 0 && i < root->n; i++) {
		const char *ks = text_of(root->keys[i]);
		if (!ks || strcmp(ks, "images") != 0)
			r = fail_at(&p, root->keys[i], "unknown key '%s' (a catalog has only 'images')",
				    ks ? shown(root->keys[i], kb, sizeof(kb)) : "");
	}
	images = r == 0 ? ymap_get(root, "images") : NULL;
	if (r == 0 && !images)
		r = fail_at(&p, root, "a catalog is a mapping with the key 'images'");
	if (r == 0 && yscalar_is_null(images)) {
		ystream_free(s);
		return 0;
	}
	if (r == 0 && images->kind != YNODE_MAPPING)
		r = fail_at(&p, images, "'images' must be a mapping of image names to images");
	for (size_t i = 0; r == 0 && i < images->n; i++) {
		const struct ynode *k = images->keys[i];
		const char *name = text_of(k);
		struct catalog_entry e = { 0 };

		if (!name || !catalog_name_valid(name)) {
			r = fail_at(&p, k, "invalid image name '%s': expected 1-%d of a-z 0-9 . _ -, starting "
				    "with a letter or digit", name ? shown(k, kb, sizeof(kb)) : "", CATALOG_NAME_MAX);
			break;
		}
		if (!(e.name = strdup(name)))
			r = -ENOMEM;
		if (r == 0)
			r = parse_entry(&p, k, images->items[i], &e);
		if (r == 0) {
			r = add_entry(c, &e);
			if (r == -E2BIG)
				r = fail_at(&p, k, "more than %d images in the catalog", CATALOG_MAX_ENTRIES);
		}
		entry_clear(&e);
	}
	ystream_free(s);
	if (r == -ENOMEM) {
		free(*err);
		*err = NULL;
	}
	return r;
}

/* ---- the files ---- */

static int load_file(struct catalog *c, const char *path, char **err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r;

	r = read_file_small(path, YAML_MAX_INPUT, &buf, &len);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		if (asprintf(err, "cannot read catalog file %s: %s", path,
			     r == -EFBIG ? "too large" : r == -EBADF ? "not a regular file" : strerror(-r)) < 0)
			*err = NULL;
		return -1;
	}
	if (strv_push(&c->files, path) < 0)
		return -ENOMEM;
	return catalog_parse(c, path, buf, len, err);
}

/* A directory's catalog files: NAME.yaml, not hidden, and no control
 * character in the name (it is shown in messages and in `where`). */
static bool yaml_name(const char *n)
{
	size_t len = strlen(n);

	for (size_t i = 0; i < len; i++)
		if ((unsigned char)n[i] < 0x20 || (unsigned char)n[i] == 0x7f)
			return false;
	return n[0] != '.' && len > 5 && strcmp(n + len - 5, ".yaml") == 0;
}

/* A directory's *.yaml files in name order (C collation: the order is the
 * same everywhere). */
static int load_dir(struct catalog *c, const char *dir, char **err)
{
	struct dirent **list = NULL;
	int n = scandir(dir, &list, NULL, alphasort), r = 0, files = 0;

	if (n < 0) {
		r = -errno;
		if (asprintf(err, "cannot read catalog directory %s: %s", dir, strerror(-r)) < 0)
			*err = NULL;
		return -1;
	}
	for (int i = 0; i < n; i++) {
		_cleanup_free_ char *path = NULL;
		if (r == 0 && yaml_name(list[i]->d_name)) {
			if (++files > CATALOG_MAX_DIR_FILES) {
				if (asprintf(err, "catalog directory %s holds more than %d .yaml files", dir,
					     CATALOG_MAX_DIR_FILES) < 0)
					*err = NULL;
				r = -1;
			} else if (asprintf(&path, "%s/%s", dir, list[i]->d_name) < 0) {
				path = NULL;
				r = -ENOMEM;
			} else {
				r = load_file(c, path, err);
			}
		}
		free(list[i]);
	}
	free(list);
	return r;
}

int catalog_load_paths(struct catalog *c, char *const *paths, bool optional, char **err)
{
	int r = 0;

	*err = NULL;
	for (size_t i = 0; paths && paths[i] && r == 0; i++) {
		const char *p = paths[i];
		struct stat st;

		if (!*p)
			continue;
		if (strv_push(&c->searched, p) < 0)
			return -ENOMEM;
		if (stat(p, &st) < 0) {
			r = -errno;
			if (optional && r == -ENOENT) {
				r = 0;
				continue;
			}
			if (asprintf(err, "cannot read catalog %s: %s", p, strerror(-r)) < 0)
				*err = NULL;
			return -1;
		}
		r = S_ISDIR(st.st_mode) ? load_dir(c, p, err) : load_file(c, p, err);
	}
	return r;
}

int catalog_load(struct catalog *c, char **err)
{
	const char *env = getenv("QVM_IMAGES");
	_cleanup_strv_free_ char **paths = NULL;

	memset(c, 0, sizeof(*c));
	if (env && *env) {
		/* the whole search replaced: each named place must be there */
		for (const char *p = env;;) {
			size_t len = strcspn(p, ":");
			char *one = strndup(p, len);
			if (!one || strv_consume(&paths, one) < 0)
				return -ENOMEM;
			if (!p[len])
				break;
			p += len + 1;
		}
		return catalog_load_paths(c, paths, false, err);
	}
	/* the shipped file must be there: without it a qvm run from its
	 * build tree would see an empty catalog and not say why */
	if (access(QVM_CATALOG_FILE, F_OK) < 0 && errno == ENOENT) {
		if (strv_push(&c->searched, QVM_CATALOG_FILE) < 0)
			return -ENOMEM;
		if (asprintf(err, "the image catalog %s is not installed (meson install -C build), "
			     "or set QVM_IMAGES to a catalog file such as qvm's data/images.yaml", QVM_CATALOG_FILE) < 0)
			*err = NULL;
		return -ENOENT;
	}
	if (strv_push_many(&paths, QVM_CATALOG_FILE, QVM_CATALOG_DIR, NULL) < 0)
		return -ENOMEM;
	return catalog_load_paths(c, paths, true, err);
}
