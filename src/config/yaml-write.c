/* SPDX-License-Identifier: MIT */
/* struct ynode tree -> YAML text, through libyaml's emitter. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "cleanup.h"
#include "yamltree.h"
#include "banned.h"

struct outbuf {
	char *data;
	size_t len, cap;
	bool oom;
};

static int outbuf_add(struct outbuf *o, const void *p, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		size_t nc = o->cap ? o->cap : 256;
		char *nd;
		while (nc < o->len + n + 1)
			nc *= 2;
		nd = realloc(o->data, nc);
		if (!nd) {
			o->oom = true;
			return -ENOMEM;
		}
		o->data = nd;
		o->cap = nc;
	}
	memcpy(o->data + o->len, p, n);
	o->len += n;
	o->data[o->len] = '\0';
	return 0;
}

static int write_handler(void *data, unsigned char *buffer, size_t size)
{
	return outbuf_add(data, buffer, size) == 0;
}

static int emitter_errno(const yaml_emitter_t *em)
{
	return em->error == YAML_MEMORY_ERROR ? -ENOMEM : -EIO;
}

static int emit(yaml_emitter_t *em, yaml_event_t *e)
{
	/* yaml_emitter_emit() owns the event from here on, even on failure */
	return yaml_emitter_emit(em, e) ? 0 : emitter_errno(em);
}

static int emit_node(yaml_emitter_t *em, const struct ynode *n, bool is_key)
{
	const yaml_char_t *tag = (const yaml_char_t *)n->tag;
	int implicit = n->tag == NULL;
	/* the non-specific tag "!" only says "not resolved as plain": a string
	 * for a scalar, nothing for a collection; the emitter cannot write it */
	bool nonspecific = n->tag && strcmp(n->tag, "!") == 0;
	yaml_event_t e;
	int r;

	if (nonspecific) {
		tag = NULL;
		implicit = 1;
	}

	if (n->kind == YNODE_SCALAR) {
		yaml_scalar_style_t style;
		const char *value = n->value;
		size_t len = n->len;

		if (len > INT_MAX)
			return -E2BIG;
		if (memchr(value, '\n', len))
			style = YAML_LITERAL_SCALAR_STYLE;
		else {
			switch (n->style) {
			case YSTYLE_SINGLE: style = YAML_SINGLE_QUOTED_SCALAR_STYLE; break;
			case YSTYLE_DOUBLE: style = YAML_DOUBLE_QUOTED_SCALAR_STYLE; break;
			case YSTYLE_LITERAL:
			case YSTYLE_FOLDED: style = YAML_LITERAL_SCALAR_STYLE; break;
			default:
				style = nonspecific ? YAML_SINGLE_QUOTED_SCALAR_STYLE : YAML_PLAIN_SCALAR_STYLE;
				break;
			}
		}
		/* an empty plain key would come out as '' (a string): write the
		 * null it stands for as "~" */
		if (is_key && style == YAML_PLAIN_SCALAR_STYLE && len == 0 && implicit) {
			value = "~";
			len = 1;
		}
		if (!yaml_scalar_event_initialize(&e, NULL, tag, (const yaml_char_t *)value, (int)len,
						  implicit, implicit, style))
			return -ENOMEM;
		return emit(em, &e);
	}

	if (n->kind == YNODE_MAPPING) {
		if (!yaml_mapping_start_event_initialize(&e, NULL, tag, implicit, YAML_BLOCK_MAPPING_STYLE))
			return -ENOMEM;
	} else {
		if (!yaml_sequence_start_event_initialize(&e, NULL, tag, implicit, YAML_BLOCK_SEQUENCE_STYLE))
			return -ENOMEM;
	}
	r = emit(em, &e);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n->n; i++) {
		if (n->kind == YNODE_MAPPING) {
			r = emit_node(em, n->keys[i], true);
			if (r < 0)
				return r;
		}
		r = emit_node(em, n->items[i], false);
		if (r < 0)
			return r;
	}
	if (n->kind == YNODE_MAPPING) {
		if (!yaml_mapping_end_event_initialize(&e))
			return -ENOMEM;
	} else {
		if (!yaml_sequence_end_event_initialize(&e))
			return -ENOMEM;
	}
	return emit(em, &e);
}

static int emit_document(yaml_emitter_t *em, const struct ynode *root)
{
	yaml_event_t e;
	int r;

	if (!yaml_stream_start_event_initialize(&e, YAML_UTF8_ENCODING))
		return -ENOMEM;
	if ((r = emit(em, &e)) < 0)
		return r;
	/* implicit start: no "---", so a header line stays the first line */
	if (!yaml_document_start_event_initialize(&e, NULL, NULL, NULL, 1))
		return -ENOMEM;
	if ((r = emit(em, &e)) < 0)
		return r;
	if ((r = emit_node(em, root, false)) < 0)
		return r;
	if (!yaml_document_end_event_initialize(&e, 1))
		return -ENOMEM;
	if ((r = emit(em, &e)) < 0)
		return r;
	if (!yaml_stream_end_event_initialize(&e))
		return -ENOMEM;
	if ((r = emit(em, &e)) < 0)
		return r;
	return yaml_emitter_flush(em) ? 0 : emitter_errno(em);
}

int yaml_emit(const struct ynode *root, const char *header, char **out, size_t *outlen)
{
	struct outbuf o = { 0 };
	yaml_emitter_t em;
	int r = 0;

	*out = NULL;
	if (outlen)
		*outlen = 0;
	if (outbuf_add(&o, "", 0) < 0 || (header && outbuf_add(&o, header, strlen(header)) < 0)) {
		free(o.data);
		return -ENOMEM;
	}
	if (root) {
		if (!yaml_emitter_initialize(&em)) {
			free(o.data);
			return -ENOMEM;
		}
		yaml_emitter_set_output(&em, write_handler, &o);
		yaml_emitter_set_width(&em, -1);
		yaml_emitter_set_unicode(&em, 1);
		yaml_emitter_set_break(&em, YAML_LN_BREAK);
		r = emit_document(&em, root);
		yaml_emitter_delete(&em);
		if (r < 0 && o.oom)
			r = -ENOMEM;
	}
	if (r < 0) {
		free(o.data);
		return r;
	}
	*out = o.data;
	if (outlen)
		*outlen = o.len;
	return 0;
}

enum yscalar_style yscalar_style_for_name(const char *name)
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
