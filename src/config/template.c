/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdint.h>
#include <sys/types.h>

#include "cleanup.h"
#include "strv.h"
#include "template.h"
#include "banned.h"

int template_expand(const char *s, unsigned n, const char *name, char **out, bool *has_n, const char **why)
{
	_cleanup_free_ char *buf = NULL;
	size_t size = 0;
	FILE *f;
	bool used_n = false;

	*out = NULL;
	*why = NULL;
	f = open_memstream(&buf, &size);
	if (!f)
		return -ENOMEM;
	for (const char *p = s; *p;) {
		size_t id = 0;
		/* "{{" is a literal "{"; a "}" is never special, so flow YAML
		 * ending in "}}" ({a: {b: c}}) is kept as written */
		if (p[0] == '{' && p[1] == '{') {
			fputc('{', f);
			p += 2;
			continue;
		}
		if (p[0] == '{') {
			id = strspn(p + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
			if (id == 0 || p[1 + id] != '}')
				id = 0;    /* not a placeholder: flow YAML, kept */
		}
		if (id == 0) {
			fputc(*p++, f);
			continue;
		}
		if (id == 1 && p[1] == 'n') {
			fprintf(f, "%u", n ? n : 1);
			used_n = true;
		} else if (id == 4 && strncmp(p + 1, "name", 4) == 0) {
			if (!name) {
				*why = "{name} is the VM's final name: it cannot be part of that name";
				break;
			}
			fputs(name, f);
		} else {
			*why = "unknown placeholder (expected {n} or {name}; {{ for a literal brace)";
			break;
		}
		p += id + 2;
	}
	if (fclose(f) != 0)
		return -ENOMEM;
	if (*why)
		return -EINVAL;
	if (has_n)
		*has_n = used_n;
	*out = TAKE_PTR(buf);
	return 0;
}

static struct ynode *new_mapping(void)
{
	struct ynode *n = calloc(1, sizeof(*n));

	if (n)
		n->kind = YNODE_MAPPING;
	return n;
}

/* The documents --set names; cloud-init reads secrets from the secret ones,
 * whose text qvm never prints. */
static const struct { const char *name; size_t off; bool secret; } docs[] = {
	{ "vm", offsetof(struct template_docs, vm), false },
	{ "user-data", offsetof(struct template_docs, user_data), true },
	{ "userdata", offsetof(struct template_docs, user_data), true },
	{ "meta-data", offsetof(struct template_docs, meta_data), false },
	{ "metadata", offsetof(struct template_docs, meta_data), false },
	{ "network-config", offsetof(struct template_docs, network_config), true },
	{ "vendor-data", offsetof(struct template_docs, vendor_data), true },
};

/* The document an assignment's PATH starts with (its index in docs), or -1. */
static int doc_of(const char *assignment)
{
	size_t len = strcspn(assignment, ".=");

	if (assignment[len] != '.')
		return -1;
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		if (strlen(docs[i].name) == len && strncmp(docs[i].name, assignment, len) == 0)
			return (int)i;
	return -1;
}

const char *template_set_label(const struct qvm_template *t, unsigned index, char *buf, size_t size)
{
	const char *a = index >= 1 && index <= strv_length(t->sets) ? t->sets[index - 1] : NULL;
	int doc = a ? doc_of(a) : -1;

	if (doc >= 0 && !docs[doc].secret)
		snprintf(buf, size, "--set %s", a);
	else if (doc >= 0)
		snprintf(buf, size, "--set #%u (%s)", index, docs[doc].name);
	else
		snprintf(buf, size, "--set #%u", index);
	return buf;
}

/* Marks a node (and all below it) as made by the index-th --set: its
 * position reads 0:index, which messages turn into the --set argument. */
static void mark_set(struct ynode *n, unsigned index)
{
	if (!n)
		return;
	n->line = 0;
	n->col = index;
	for (size_t i = 0; i < n->n; i++) {
		if (n->keys)
			mark_set(n->keys[i], index);
		mark_set(n->items[i], index);
	}
}

/* VALUE read as YAML: a scalar keeps its quoting ("'007'" stays a
 * string), a flow collection ("[a, b]") is allowed too. A secret one is
 * read so that no error quotes it. */
static int parse_value(const char *value, bool secret, struct ynode **out, char **why)
{
	static const struct yparse_secrecy all = { .all = true, .all_name = "the value" };
	struct ystream *s = NULL;
	_cleanup_free_ char *err = NULL;
	int r;

	*out = NULL;
	r = ystream_parse_secret(value, strlen(value), secret ? &all : NULL, &s, &err);
	if (r == -EINVAL) {
		if (asprintf(why, "the value is not valid YAML: %s", err ? err : "cannot parse") < 0)
			*why = NULL;
		return r;
	}
	if (r < 0)
		return r;
	if (s->n > 1) {
		ystream_free(s);
		*why = strdup("the value is more than one YAML document");
		return -EINVAL;
	}
	if (s->n == 1 && s->docs[0].root) {
		*out = s->docs[0].root;
		s->docs[0].root = NULL;
	}
	ystream_free(s);
	if (!*out)
		*out = ynode_new_scalar("", YSTYLE_PLAIN);
	return *out ? 0 : -ENOMEM;
}

/* One PATH=VALUE, the index-th --set. 0, -EINVAL with *why, or -ENOMEM.
 * In a secret document *why names no key of the path. */
static int set_one(struct template_docs *d, const char *assignment, unsigned index, char **why)
{
	const char *eq = strchr(assignment, '='), *p, *dot;
	struct ynode **slot, *cur, *value = NULL;
	_cleanup_free_ char *key = NULL;
	int doc = doc_of(assignment), r;
	bool secret = doc >= 0 && docs[doc].secret;
	unsigned depth = 0;

	if (!eq || eq == assignment)
		return *why = strdup("expected PATH=VALUE"), -EINVAL;
	dot = memchr(assignment, '.', (size_t)(eq - assignment));
	if (!dot)
		return *why = strdup("PATH must name a document and a key, e.g. vm.memory"), -EINVAL;
	if (doc < 0)
		return *why = strdup("unknown document (expected vm, user-data, meta-data, network-config "
				     "or vendor-data)"), -EINVAL;
	slot = (struct ynode **)((char *)d + docs[doc].off);
	if (!*slot)
		return *why = strdup("the file has no such document"), -EINVAL;
	cur = *slot;
	for (p = dot + 1;; depth++) {
		const char *end = p + strcspn(p, ".=");
		bool last = *end == '=';
		long i;

		free(key);
		key = strndup(p, (size_t)(end - p));
		if (!key)
			return -ENOMEM;
		if (!*key)
			return *why = strdup("empty key in PATH"), -EINVAL;
		if (cur->kind == YNODE_SEQUENCE) {
			char *e;
			unsigned long idx = strtoul(key, &e, 10);
			if (*e || key[0] < '0' || key[0] > '9' || idx >= cur->n) {
				if ((secret ? asprintf(why, "key %u of the path is not an index of a sequence of %zu "
						       "items", depth + 1, cur->n)
					    : asprintf(why, "'%s' is not an index of a sequence of %zu items", key,
						       cur->n)) < 0)
					*why = NULL;
				return -EINVAL;
			}
			if (last) {
				r = parse_value(eq + 1, secret, &value, why);
				if (r < 0)
					return r;
				mark_set(value, index);
				ynode_free(cur->items[idx]);
				cur->items[idx] = value;
				return 0;
			}
			cur = cur->items[idx];
		} else if (cur->kind == YNODE_MAPPING) {
			i = ymap_index(cur, key);
			if (last) {
				r = parse_value(eq + 1, secret, &value, why);
				if (r < 0)
					return r;
				mark_set(value, index);
				if (i >= 0) {
					ynode_free(cur->items[i]);
					cur->items[i] = value;
					return 0;
				}
				r = ymap_append(cur, key, value);
				if (r == 0)
					mark_set(cur->keys[cur->n - 1], index);
				return r;
			}
			if (i < 0) {
				r = ymap_append(cur, key, new_mapping());
				if (r < 0)
					return r;
				i = (long)cur->n - 1;
				mark_set(cur->keys[i], index);
				mark_set(cur->items[i], index);
			}
			cur = cur->items[i];
		} else {
			if ((secret ? asprintf(why, "key %u of the path is inside a scalar", depth + 1)
				    : asprintf(why, "'%s' is inside a scalar", key)) < 0)
				*why = NULL;
			return -EINVAL;
		}
		p = end + 1;
	}
}


static bool scalar_is(const struct ynode *n, const char *s)
{
	return n && n->kind == YNODE_SCALAR && n->len == strlen(s) && strcmp(n->value, s) == 0;
}

/* Replaces map[key] by a scalar holding text. */
static int replace(struct ynode *map, const char *key, const char *text, enum yscalar_style style)
{
	long i = ymap_index(map, key);
	struct ynode *n = ynode_new_scalar(text, style);

	if (!n)
		return -ENOMEM;
	n->line = map->items[i]->line;
	n->col = map->items[i]->col;
	ynode_free(map->items[i]);
	map->items[i] = n;
	return 0;
}

/* key: OLD -> key: NEW, only where it was exactly the old name. */
static int rename_value(struct ynode *map, const char *key, const char *old, const char *new)
{
	if (!map || map->kind != YNODE_MAPPING || !scalar_is(ymap_get(map, key), old))
		return 0;
	return replace(map, key, new, yscalar_style_for_name(new));
}

/* fqdn: OLD.example.com -> NEW.example.com */
static int rename_fqdn(struct ynode *ud, const char *old, const char *new)
{
	const struct ynode *v = ymap_get(ud, "fqdn");
	size_t len = strlen(old);
	_cleanup_free_ char *s = NULL;

	if (!v || v->kind != YNODE_SCALAR || strncmp(v->value, old, len) != 0 || v->value[len] != '.')
		return 0;
	if (asprintf(&s, "%s%s", new, v->value + len) < 0)
		return -ENOMEM;
	return replace(ud, "fqdn", s, YSTYLE_PLAIN);
}

/* zvol: {name: tank/vms/OLD} -> tank/vms/NEW (and OLD-x -> NEW-x), in
 * every disk. */
static int rename_zvol(struct ynode *disk, const char *old, const char *new)
{
	struct ynode *zvol = ymap_get(disk, "zvol");
	const struct ynode *zn = ymap_get(zvol, "name");
	const char *slash;
	_cleanup_free_ char *s = NULL;

	size_t len = strlen(old);

	if (!zn || zn->kind != YNODE_SCALAR || !(slash = strrchr(zn->value, '/')) ||
	    strncmp(slash + 1, old, len) != 0 || !strchr("-_.", slash[1 + len]))
		return 0;
	/* OLD, or OLD followed by - _ . and more (web-data -> db-data) */
	if (asprintf(&s, "%.*s/%s%s", (int)(slash - zn->value), zn->value, new, slash + 1 + len) < 0)
		return -ENOMEM;
	return replace(zvol, "name", s, YSTYLE_PLAIN);
}

static int rename_vm(struct template_docs *d, const char *new)
{
	struct ynode *name = ymap_get(d->vm, "name"), *disk;
	_cleanup_free_ char *old = NULL;
	int r;

	if (name && name->kind == YNODE_SCALAR && !yscalar_is_null(name) && !(old = strdup(name->value)))
		return -ENOMEM;
	if (name)
		r = replace(d->vm, "name", new, YSTYLE_PLAIN);
	else
		r = ymap_append(d->vm, "name", ynode_new_scalar(new, YSTYLE_PLAIN));
	if (r < 0 || !old)
		return r;
	if ((r = rename_value(d->meta_data, "instance-id", old, new)) < 0 ||
	    (r = rename_value(d->meta_data, "local-hostname", old, new)) < 0 ||
	    (r = rename_value(d->user_data, "hostname", old, new)) < 0 ||
	    (r = rename_fqdn(d->user_data, old, new)) < 0)
		return r;
	disk = ymap_get(d->vm, "disk");
	if (disk && disk->kind == YNODE_MAPPING)
		return rename_zvol(disk, old, new);
	for (size_t i = 0; disk && disk->kind == YNODE_SEQUENCE && i < disk->n; i++)
		if (disk->items[i]->kind == YNODE_MAPPING && (r = rename_zvol(disk->items[i], old, new)) < 0)
			return r;
	return 0;
}

/* Whether the assignment sets vm.name. */
static bool sets_name(const char *a)
{
	return strncmp(a, "vm.name=", 8) == 0;
}

static int set_error(char ***errors, const struct qvm_template *t, size_t i, const char *why)
{
	char label[300];

	return strv_pushf(errors, "%s: %s", template_set_label(t, (unsigned)i + 1, label, sizeof(label)),
			  why ? why : "invalid") < 0 ? -ENOMEM : -EINVAL;
}

/* Whether vm.name (after the --sets) differs from name. */
static bool final_name_changed(const struct template_docs *d, const char *name)
{
	return !scalar_is(ymap_get(d->vm, "name"), name);
}

/* The index-th --set with its value's placeholders filled in (name NULL:
 * {name} refused). 0, -EINVAL (message added), or -ENOMEM. */
static int apply_set(struct template_docs *d, const struct qvm_template *t, size_t i, const char *name,
		     bool *has_n, char ***errors)
{
	_cleanup_free_ char *why = NULL, *value = NULL, *assignment = NULL;
	const char *eq = strchr(t->sets[i], '='), *ewhy;
	int r;

	if (eq) {
		r = template_expand(eq + 1, t->n, name, &value, has_n, &ewhy);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			return set_error(errors, t, i, ewhy);
		if (asprintf(&assignment, "%.*s=%s", (int)(eq - t->sets[i]), t->sets[i], value) < 0)
			return -ENOMEM;
	}
	r = set_one(d, assignment ? assignment : t->sets[i], (unsigned)i + 1, &why);
	if (r == -ENOMEM)
		return r;
	return r < 0 ? set_error(errors, t, i, why) : 0;
}

int template_apply(struct template_docs *d, const struct qvm_template *t, char ***errors)
{
	_cleanup_free_ char *name = NULL;
	const struct ynode *vname;
	const char *why;
	bool bad = false, has_n = false;
	int r;

	/* vm.name first ({n} only: {name} is what it makes), then the final
	 * name, then every other --set, which may use {name} */
	for (size_t i = 0; t->sets && t->sets[i]; i++) {
		if (!sets_name(t->sets[i]))
			continue;
		r = apply_set(d, t, i, NULL, &has_n, errors);
		if (r == -ENOMEM)
			return r;
		bad |= r < 0;
	}
	if (t->name) {
		r = template_expand(t->name, t->n, NULL, &name, &has_n, &why);
		if (r == -ENOMEM)
			return r;
		if (r < 0 && strv_pushf(errors, "--name: %s", why) < 0)
			return -ENOMEM;
		bad |= r < 0;
	} else if (!bad && d->vm && (vname = ymap_get(d->vm, "name")) && vname->kind == YNODE_SCALAR &&
		   !(name = strdup(vname->value))) {
		return -ENOMEM;
	}
	if (name && t->suffix && !has_n) {
		char *s;
		if (asprintf(&s, "%s%s", name, t->suffix) < 0)
			return -ENOMEM;
		free(name);
		name = s;
	}
	for (size_t i = 0; t->sets && t->sets[i]; i++) {
		if (sets_name(t->sets[i]))
			continue;
		r = apply_set(d, t, i, name ? name : "", NULL, errors);
		if (r == -ENOMEM)
			return r;
		bad |= r < 0;
	}
	if (bad || !d->vm || !name)
		return bad ? -EINVAL : 0;
	/* the file's name unchanged: nothing to rename */
	if (!final_name_changed(d, name))
		return 0;
	return rename_vm(d, name);
}
