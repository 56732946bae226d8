/* SPDX-License-Identifier: MIT */
/* libyaml parser events -> struct ynode tree, plus the small tree helpers. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "cleanup.h"
#include "msgtext.h"
#include "strv.h"
#include "yamltree.h"
#include "banned.h"

#define YAML_TAG_BOOL "tag:yaml.org,2002:bool"
#define YAML_TAG_NULL "tag:yaml.org,2002:null"

/* ---- nodes ---- */

static struct ynode *ynode_alloc(enum ynode_kind kind)
{
	struct ynode *n = calloc(1, sizeof(*n));

	if (n)
		n->kind = kind;
	return n;
}

struct ynode *ynode_new_scalar(const char *value, enum yscalar_style style)
{
	struct ynode *n = ynode_alloc(YNODE_SCALAR);

	if (!n)
		return NULL;
	n->len = strlen(value);
	n->value = strdup(value);
	n->style = style;
	if (!n->value) {
		free(n);
		return NULL;
	}
	return n;
}

void ynode_free(struct ynode *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++) {
		if (n->keys)
			ynode_free(n->keys[i]);
		if (n->items)
			ynode_free(n->items[i]);
	}
	free(n->keys);
	free(n->items);
	free(n->tag);
	free(n->value);
	free(n);
}

static void ynode_freep(struct ynode **n) { ynode_free(*n); }
#define _cleanup_ynode_ _cleanup_(ynode_freep)

/* Number of nodes in the subtree (keys included). */
/* Bytes of text (scalars, tags) in a tree. */
static size_t ynode_bytes(const struct ynode *n)
{
	size_t c = n->len + (n->tag ? strlen(n->tag) : 0);

	for (size_t i = 0; i < n->n; i++) {
		if (n->keys)
			c += ynode_bytes(n->keys[i]);
		c += ynode_bytes(n->items[i]);
	}
	return c;
}

static size_t ynode_count(const struct ynode *n)
{
	size_t c = 1;

	for (size_t i = 0; i < n->n; i++) {
		if (n->keys)
			c += ynode_count(n->keys[i]);
		c += ynode_count(n->items[i]);
	}
	return c;
}

/* Nesting of collections in the subtree: 0 for a scalar. */
static unsigned ynode_height(const struct ynode *n)
{
	unsigned h = 0;

	if (n->kind == YNODE_SCALAR)
		return 0;
	for (size_t i = 0; i < n->n; i++) {
		unsigned t = ynode_height(n->items[i]);
		if (n->keys) {
			unsigned k = ynode_height(n->keys[i]);
			if (k > t)
				t = k;
		}
		if (t > h)
			h = t;
	}
	return h + 1;
}

static struct ynode *ynode_copy(const struct ynode *src)
{
	_cleanup_ynode_ struct ynode *n = ynode_alloc(src->kind);

	if (!n)
		return NULL;
	n->line = src->line;
	n->col = src->col;
	n->style = src->style;
	if (src->tag && !(n->tag = strdup(src->tag)))
		return NULL;
	if (src->kind == YNODE_SCALAR) {
		n->value = malloc(src->len + 1);
		if (!n->value)
			return NULL;
		memcpy(n->value, src->value, src->len + 1);
		n->len = src->len;
		return TAKE_PTR(n);
	}
	if (src->n == 0)
		return TAKE_PTR(n);
	n->items = calloc(src->n, sizeof(*n->items));
	if (!n->items)
		return NULL;
	if (src->keys) {
		n->keys = calloc(src->n, sizeof(*n->keys));
		if (!n->keys)
			return NULL;
	}
	/* n->n counts the slots filled so far, so a failure frees only those */
	for (size_t i = 0; i < src->n; i++) {
		struct ynode *k = NULL, *v;
		if (src->keys && !(k = ynode_copy(src->keys[i])))
			return NULL;
		v = ynode_copy(src->items[i]);
		if (!v) {
			ynode_free(k);
			return NULL;
		}
		if (n->keys)
			n->keys[i] = k;
		n->items[i] = v;
		n->n = i + 1;
	}
	return TAKE_PTR(n);
}

/* ---- mapping helpers ---- */

static bool scalar_is(const struct ynode *n, const char *s)
{
	return n && n->kind == YNODE_SCALAR && n->len == strlen(s) && memcmp(n->value, s, n->len) == 0;
}

long ymap_index(const struct ynode *map, const char *key)
{
	if (!map || map->kind != YNODE_MAPPING)
		return -1;
	for (size_t i = 0; i < map->n; i++)
		if (scalar_is(map->keys[i], key))
			return (long)i;
	return -1;
}

struct ynode *ymap_get(const struct ynode *map, const char *key)
{
	long i = ymap_index(map, key);

	return i < 0 ? NULL : map->items[i];
}

void ymap_remove(struct ynode *map, const char *key)
{
	long i = ymap_index(map, key);

	if (i < 0)
		return;
	ynode_free(map->keys[i]);
	ynode_free(map->items[i]);
	memmove(map->keys + i, map->keys + i + 1, (map->n - (size_t)i - 1) * sizeof(*map->keys));
	memmove(map->items + i, map->items + i + 1, (map->n - (size_t)i - 1) * sizeof(*map->items));
	map->n--;
}

int ymap_append(struct ynode *map, const char *key, struct ynode *value)
{
	_cleanup_ynode_ struct ynode *v = value;
	struct ynode *k, **nk, **nv;

	if (!v)
		return -ENOMEM;
	if (!map || map->kind != YNODE_MAPPING)
		return -EINVAL;
	k = ynode_new_scalar(key, YSTYLE_PLAIN);
	if (!k)
		return -ENOMEM;
	nk = realloc(map->keys, (map->n + 1) * sizeof(*nk));
	if (nk)
		map->keys = nk;
	nv = realloc(map->items, (map->n + 1) * sizeof(*nv));
	if (nv)
		map->items = nv;
	if (!nk || !nv) {
		ynode_free(k);
		return -ENOMEM;
	}
	map->keys[map->n] = k;
	map->items[map->n] = TAKE_PTR(v);
	map->n++;
	return 0;
}

/* ---- scalar types ---- */

static bool scalar_untagged_plain(const struct ynode *n)
{
	return n && n->kind == YNODE_SCALAR && !n->tag && n->style == YSTYLE_PLAIN;
}

static bool scalar_in(const struct ynode *n, const char *const *words)
{
	for (size_t i = 0; words[i]; i++)
		if (n->len == strlen(words[i]) && strcasecmp(n->value, words[i]) == 0)
			return true;
	return false;
}

static bool scalar_boolish(const struct ynode *n)
{
	return scalar_untagged_plain(n) ||
	       (n && n->kind == YNODE_SCALAR && n->tag && strcmp(n->tag, YAML_TAG_BOOL) == 0);
}

bool yscalar_is_true(const struct ynode *n)
{
	static const char *const words[] = { "true", "yes", "on", NULL };

	return scalar_boolish(n) && scalar_in(n, words);
}

bool yscalar_is_false(const struct ynode *n)
{
	static const char *const words[] = { "false", "no", "off", NULL };

	return scalar_boolish(n) && scalar_in(n, words);
}

bool yscalar_is_null(const struct ynode *n)
{
	if (n && n->kind == YNODE_SCALAR && n->tag && strcmp(n->tag, YAML_TAG_NULL) == 0)
		return true;
	if (!scalar_untagged_plain(n))
		return false;
	return n->len == 0 || strcmp(n->value, "~") == 0 || strcmp(n->value, "null") == 0 ||
	       strcmp(n->value, "Null") == 0 || strcmp(n->value, "NULL") == 0;
}

/* ---- the parser ---- */

struct anchor {
	char *name;
	struct ynode *node;          /* borrowed: owned by the tree */
	bool complete;
};

struct frame {
	struct ynode *node;
	struct ynode *key;           /* mapping: key waiting for its value */
	size_t cap;
	long anchor;                 /* index into anchors, or -1 */
};

struct builder {
	const char *buf;
	size_t len;
	struct ystream *s;
	struct ynode *root;
	bool have_root;
	struct frame stack[YAML_MAX_DEPTH];
	size_t depth;
	struct anchor *anchors;
	size_t n_anchors, cap_anchors;
	size_t nodes;
	size_t bytes;                /* of text, aliases expanded */
	const struct yparse_secrecy *sec;
	char *err;
	int r;
};

static int fail_at(struct builder *b, size_t line, size_t col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail_at(struct builder *b, size_t line, size_t col, const char *fmt, ...)
{
	char where[64];
	va_list ap;

	/* the parser's own errors name the place in words (ystream_parse) */
	snprintf(where, sizeof(where), "line %zu, column %zu", line, col);
	va_start(ap, fmt);
	b->err = yerror_vformat(where, 0, 0, fmt, ap);
	va_end(ap);
	return b->r = b->err ? -EINVAL : -ENOMEM;
}

char *yerror_vformat(const char *where, unsigned line, unsigned col, const char *fmt, va_list ap)
{
	_cleanup_free_ char *msg = vstrdupf(fmt, ap);

	if (!msg)
		return NULL;
	return where ? strdupf("%s: %s", where, msg) : strdupf("%u:%u: %s", line, col, msg);
}

#define fail_mark(b, m, ...) fail_at((b), (m).line + 1, (m).column + 1, __VA_ARGS__)

/*
 * Where an error lies when the input's text must not be quoted: NULL when
 * it may be; else the document's label ("user-data"), or "document N"
 * while its label is not known yet (a secret one, perhaps).
 */
static const char *secret_place(const struct builder *b, char *buf, size_t size)
{
	const struct yparse_secrecy *sec = b->sec;
	const struct ynode *top = b->depth > 0 ? b->stack[0].node : b->root, *label;

	if (!sec)
		return NULL;
	label = top && top->kind == YNODE_MAPPING && !sec->all ? ymap_get(top, sec->label_key) : NULL;
	if (label && label->kind == YNODE_SCALAR) {
		for (const char *const *l = sec->secret_labels; l && *l; l++)
			if (strcmp(label->value, *l) == 0)
				return *l;
		return NULL;
	}
	if (sec->all)
		return sec->all_name;
	snprintf(buf, size, "document %zu", b->s ? b->s->n : 1);
	return buf;
}

/* 1-based line and column (in characters) of a byte offset of the input. */
static void offset_position(const char *buf, size_t len, size_t off, size_t *line, size_t *col)
{
	size_t l = 1, c = 1;

	for (size_t i = 0; i < off && i < len; i++) {
		if (buf[i] == '\n') {
			l++;
			c = 1;
		} else if (((unsigned char)buf[i] & 0xc0) != 0x80) {
			c++;
		}
	}
	*line = l;
	*col = c;
}

static void anchors_clear(struct builder *b)
{
	for (size_t i = 0; i < b->n_anchors; i++)
		free(b->anchors[i].name);
	b->n_anchors = 0;
}

static long anchor_add(struct builder *b, const char *name, struct ynode *node, bool complete)
{
	if (b->n_anchors == b->cap_anchors) {
		size_t nc = b->cap_anchors ? 2 * b->cap_anchors : 8;
		struct anchor *na = realloc(b->anchors, nc * sizeof(*na));
		if (!na)
			return b->r = -ENOMEM;
		b->anchors = na;
		b->cap_anchors = nc;
	}
	b->anchors[b->n_anchors].name = strdup(name);
	if (!b->anchors[b->n_anchors].name)
		return b->r = -ENOMEM;
	b->anchors[b->n_anchors].node = node;
	b->anchors[b->n_anchors].complete = complete;
	return (long)b->n_anchors++;
}

static const struct anchor *anchor_find(const struct builder *b, const char *name)
{
	/* a later definition of the same name wins */
	for (size_t i = b->n_anchors; i > 0; i--)
		if (strcmp(b->anchors[i - 1].name, name) == 0)
			return &b->anchors[i - 1];
	return NULL;
}

static int count_node(struct builder *b, size_t n, yaml_mark_t m)
{
	if (n > YAML_MAX_NODES || b->nodes + n > YAML_MAX_NODES)
		return fail_mark(b, m, "too many nodes (more than %d, aliases expanded)", YAML_MAX_NODES);
	b->nodes += n;
	return 0;
}

static int grow(struct frame *f)
{
	struct ynode *n = f->node;
	size_t nc;

	if (n->n < f->cap)
		return 0;
	nc = f->cap ? 2 * f->cap : 4;
	if (n->kind == YNODE_MAPPING) {
		struct ynode **nk = realloc(n->keys, nc * sizeof(*nk));
		if (!nk)
			return -ENOMEM;
		n->keys = nk;
	}
	struct ynode **ni = realloc(n->items, nc * sizeof(*ni));
	if (!ni)
		return -ENOMEM;
	n->items = ni;
	f->cap = nc;
	return 0;
}

/* Hands a finished node to its parent (or makes it the document root);
 * takes ownership of node in every case. */
static int attach(struct builder *b, struct ynode *node)
{
	struct frame *f;

	if (b->depth == 0) {
		b->root = node;
		b->have_root = true;
		return 0;
	}
	f = &b->stack[b->depth - 1];
	if (f->node->kind == YNODE_MAPPING && !f->key) {
		f->key = node;
		return 0;
	}
	if (grow(f) < 0) {
		ynode_free(node);
		return b->r = -ENOMEM;
	}
	if (f->node->kind == YNODE_MAPPING) {
		f->node->keys[f->node->n] = TAKE_PTR(f->key);
	}
	f->node->items[f->node->n++] = node;
	return 0;
}

static int set_common(struct builder *b, struct ynode *n, yaml_mark_t m, const yaml_char_t *tag)
{
	n->line = (unsigned)(m.line + 1);
	n->col = (unsigned)(m.column + 1);
	if (tag && !(n->tag = strdup((const char *)tag)))
		return b->r = -ENOMEM;
	return 0;
}

static int on_scalar(struct builder *b, const yaml_event_t *e)
{
	_cleanup_ynode_ struct ynode *n = NULL;

	if (count_node(b, 1, e->start_mark) < 0)
		return b->r;
	n = ynode_alloc(YNODE_SCALAR);
	if (!n)
		return b->r = -ENOMEM;
	if (set_common(b, n, e->start_mark, e->data.scalar.tag) < 0)
		return b->r;
	n->value = malloc(e->data.scalar.length + 1);
	if (!n->value)
		return b->r = -ENOMEM;
	memcpy(n->value, e->data.scalar.value, e->data.scalar.length);
	n->value[e->data.scalar.length] = '\0';
	n->len = e->data.scalar.length;
	switch (e->data.scalar.style) {
	case YAML_SINGLE_QUOTED_SCALAR_STYLE: n->style = YSTYLE_SINGLE; break;
	case YAML_DOUBLE_QUOTED_SCALAR_STYLE: n->style = YSTYLE_DOUBLE; break;
	case YAML_LITERAL_SCALAR_STYLE: n->style = YSTYLE_LITERAL; break;
	case YAML_FOLDED_SCALAR_STYLE: n->style = YSTYLE_FOLDED; break;
	default: n->style = YSTYLE_PLAIN; break;
	}
	if (e->data.scalar.anchor &&
	    anchor_add(b, (const char *)e->data.scalar.anchor, n, true) < 0)
		return b->r;
	return attach(b, TAKE_PTR(n));
}

static int on_start(struct builder *b, const yaml_event_t *e, enum ynode_kind kind)
{
	const yaml_char_t *tag, *anchor;
	struct ynode *n;
	struct frame *f;

	if (b->depth >= YAML_MAX_DEPTH)
		return fail_mark(b, e->start_mark, "nesting deeper than %d levels", YAML_MAX_DEPTH);
	if (count_node(b, 1, e->start_mark) < 0)
		return b->r;
	if (kind == YNODE_MAPPING) {
		tag = e->data.mapping_start.tag;
		anchor = e->data.mapping_start.anchor;
	} else {
		tag = e->data.sequence_start.tag;
		anchor = e->data.sequence_start.anchor;
	}
	n = ynode_alloc(kind);
	if (!n)
		return b->r = -ENOMEM;
	if (set_common(b, n, e->start_mark, tag) < 0) {
		ynode_free(n);
		return b->r;
	}
	f = &b->stack[b->depth++];
	*f = (struct frame){ .node = n, .anchor = -1 };
	if (anchor) {
		f->anchor = anchor_add(b, (const char *)anchor, n, false);
		if (f->anchor < 0)
			return b->r;
	}
	return 0;
}

static bool before(const struct ynode *a, const struct ynode *b)
{
	return a->line < b->line || (a->line == b->line && a->col < b->col);
}

static int cmp_keys(const void *a, const void *b)
{
	const struct ynode *x = *(const struct ynode *const *)a, *y = *(const struct ynode *const *)b;
	size_t l = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->value, y->value, l);

	if (c)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	/* equal text: file order */
	return before(x, y) ? -1 : (before(y, x) ? 1 : 0);
}

static bool same_text(const struct ynode *x, const struct ynode *y)
{
	return x->len == y->len && memcmp(x->value, y->value, x->len) == 0;
}

/* Duplicate scalar keys; sorting keeps this O(n log n) for huge mappings.
 * Reports the duplicate that comes first in the file. */
static int check_duplicates(struct builder *b, const struct ynode *map)
{
	_cleanup_free_ const struct ynode **v = NULL;
	const struct ynode *dup = NULL, *first = NULL;
	size_t m = 0;

	if (map->n < 2)
		return 0;
	v = calloc(map->n, sizeof(*v));
	if (!v)
		return b->r = -ENOMEM;
	for (size_t i = 0; i < map->n; i++)
		if (map->keys[i]->kind == YNODE_SCALAR)
			v[m++] = map->keys[i];
	qsort(v, m, sizeof(*v), cmp_keys);
	for (size_t i = 0; i + 1 < m; i++) {
		/* runs of equal keys are in file order */
		if (!same_text(v[i], v[i + 1]) || (i > 0 && same_text(v[i - 1], v[i])))
			continue;
		if (!dup || before(v[i + 1], dup)) {
			dup = v[i + 1];
			first = v[i];
		}
	}
	if (dup) {
		char t[96], place[32];
		const char *secret = secret_place(b, place, sizeof(place));
		if (secret)
			return fail_at(b, dup->line, dup->col, "duplicate key in %s (first at line %u, column %u)",
				       secret, first->line, first->col);
		msg_text(t, sizeof(t), dup->value, dup->len);
		return fail_at(b, dup->line, dup->col, "duplicate key '%s' (first at line %u, column %u)",
			       t, first->line, first->col);
	}
	return 0;
}

static int on_end(struct builder *b)
{
	struct frame *f = &b->stack[b->depth - 1];
	struct ynode *n = f->node;

	if (n->kind == YNODE_MAPPING && check_duplicates(b, n) < 0)
		return b->r;
	if (f->anchor >= 0)
		b->anchors[f->anchor].complete = true;
	b->depth--;
	return attach(b, n);
}

static int on_alias(struct builder *b, const yaml_event_t *e)
{
	const char *name = (const char *)e->data.alias.anchor;
	const struct anchor *a = anchor_find(b, name);
	struct ynode *copy;
	char place[32];
	const char *secret = secret_place(b, place, sizeof(place));

	if (!a && secret)
		return fail_mark(b, e->start_mark, "undefined alias in %s", secret);
	if (!a)
		return fail_mark(b, e->start_mark, "undefined alias '*%s'", name);
	if (!a->complete && secret)
		return fail_mark(b, e->start_mark, "an alias in %s refers to a node that contains it", secret);
	if (!a->complete)
		return fail_mark(b, e->start_mark, "alias '*%s' refers to a node that contains it", name);
	if (count_node(b, ynode_count(a->node), e->start_mark) < 0)
		return b->r;
	/* a long string named a thousand times is a thousand copies of it */
	size_t bytes = ynode_bytes(a->node);
	if (bytes > YAML_MAX_BYTES || b->bytes + bytes > YAML_MAX_BYTES)
		return fail_mark(b, e->start_mark, "too much text (more than %u MiB, aliases expanded)",
				 YAML_MAX_BYTES >> 20);
	b->bytes += bytes;
	if (b->depth + ynode_height(a->node) > YAML_MAX_DEPTH)
		return fail_mark(b, e->start_mark, "nesting deeper than %d levels", YAML_MAX_DEPTH);
	copy = ynode_copy(a->node);
	if (!copy)
		return b->r = -ENOMEM;
	copy->line = (unsigned)(e->start_mark.line + 1);
	copy->col = (unsigned)(e->start_mark.column + 1);
	return attach(b, copy);
}

static int push_doc(struct builder *b, yaml_mark_t m)
{
	struct ydoc *nd = realloc(b->s->docs, (b->s->n + 1) * sizeof(*nd));

	if (!nd)
		return b->r = -ENOMEM;
	b->s->docs = nd;
	nd[b->s->n] = (struct ydoc){ .line = (unsigned)(m.line + 1), .col = (unsigned)(m.column + 1) };
	b->s->n++;
	return 0;
}

static int end_doc(struct builder *b)
{
	struct ydoc *d = &b->s->docs[b->s->n - 1];
	struct ynode *root = TAKE_PTR(b->root);

	/* "---" followed by nothing: libyaml reports an empty plain scalar */
	if (root && root->kind == YNODE_SCALAR && root->style == YSTYLE_PLAIN && !root->tag &&
	    root->len == 0) {
		ynode_free(root);
		root = NULL;
	}
	d->root = root;
	b->have_root = false;
	anchors_clear(b);
	return 0;
}

static int parser_error(struct builder *b, const yaml_parser_t *p)
{
	size_t line, col;

	if (p->error == YAML_MEMORY_ERROR)
		return b->r = -ENOMEM;
	if (p->error == YAML_READER_ERROR) {
		offset_position(b->buf, b->len, p->problem_offset, &line, &col);
		/* libyaml decodes ahead of the document it parses (16 KiB at a
		 * time): where any document may be secret, the byte is not shown */
		if (p->problem_value != -1 && !b->sec)
			return fail_at(b, line, col, "%s (byte 0x%02X)", p->problem ? p->problem : "invalid input",
				       (unsigned)p->problem_value & 0xffu);
		return fail_at(b, line, col, "%s", p->problem ? p->problem : "invalid input");
	}
	if (p->context)
		return fail_mark(b, p->problem_mark, "%s (%s at line %zu, column %zu)",
				 p->problem ? p->problem : "syntax error", p->context,
				 p->context_mark.line + 1, p->context_mark.column + 1);
	return fail_mark(b, p->problem_mark, "%s", p->problem ? p->problem : "syntax error");
}

static int run_parser(struct builder *b)
{
	yaml_parser_t p;
	bool done = false;

	if (!yaml_parser_initialize(&p))
		return b->r = -ENOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)b->buf, b->len);
	yaml_parser_set_encoding(&p, YAML_UTF8_ENCODING);
	while (!done && b->r == 0) {
		yaml_event_t e;

		if (!yaml_parser_parse(&p, &e)) {
			parser_error(b, &p);
			break;
		}
		switch (e.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			push_doc(b, e.start_mark);
			break;
		case YAML_DOCUMENT_END_EVENT:
			end_doc(b);
			break;
		case YAML_SCALAR_EVENT:
			on_scalar(b, &e);
			break;
		case YAML_SEQUENCE_START_EVENT:
			on_start(b, &e, YNODE_SEQUENCE);
			break;
		case YAML_MAPPING_START_EVENT:
			on_start(b, &e, YNODE_MAPPING);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			on_end(b);
			break;
		case YAML_ALIAS_EVENT:
			on_alias(b, &e);
			break;
		default:
			break;
		}
		yaml_event_delete(&e);
	}
	yaml_parser_delete(&p);
	return b->r;
}

int ystream_parse(const char *buf, size_t len, struct ystream **out, char **err)
{
	return ystream_parse_secret(buf, len, NULL, out, err);
}

int ystream_parse_secret(const char *buf, size_t len, const struct yparse_secrecy *sec,
			 struct ystream **out, char **err)
{
	struct builder b = { .buf = buf, .len = len, .sec = sec };
	const char *nul;

	*out = NULL;
	if (err)
		*err = NULL;
	if (len > YAML_MAX_INPUT) {
		if (err && asprintf(err, "input larger than %u bytes", YAML_MAX_INPUT) < 0)
			*err = NULL;
		return -EINVAL;
	}
	nul = memchr(buf, '\0', len);
	if (nul) {
		size_t line, col;
		offset_position(buf, len, (size_t)(nul - buf), &line, &col);
		fail_at(&b, line, col, "NUL character in input");
		goto out;
	}
	b.s = calloc(1, sizeof(*b.s));
	if (!b.s)
		return -ENOMEM;
	run_parser(&b);
out:
	/* unwind whatever is half built */
	while (b.depth > 0) {
		struct frame *f = &b.stack[--b.depth];
		ynode_free(f->key);
		ynode_free(f->node);
	}
	ynode_free(b.root);
	anchors_clear(&b);
	free(b.anchors);
	if (b.r < 0) {
		ystream_free(b.s);
		if (err)
			*err = TAKE_PTR(b.err);
		free(b.err);
		return b.r;
	}
	*out = b.s;
	return 0;
}

void ystream_free(struct ystream *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		ynode_free(s->docs[i].root);
	free(s->docs);
	free(s);
}

char *yparse_error_at(const char *file, const char *yerr)
{
	unsigned line = 0, col = 0;
	int n = 0;
	char *out;

	if (yerr && sscanf(yerr, "line %u, column %u: %n", &line, &col, &n) == 2 && n > 0)
		return asprintf(&out, "%s:%u:%u: %s", file, line, col, yerr + n) < 0 ? NULL : out;
	return asprintf(&out, "%s: %s", file, yerr ? yerr : "not YAML") < 0 ? NULL : out;
}
