/* SPDX-License-Identifier: MIT */
/* A plain in-memory YAML tree: what qvm reads (yaml-read.c, via libyaml's
 * parser) and what it writes back for cloud-init (yaml-write.c, via libyaml's
 * emitter). No libyaml type leaks out of those two files. */
#ifndef QVM_YAMLTREE_H
#define QVM_YAMLTREE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

enum ynode_kind { YNODE_SCALAR, YNODE_MAPPING, YNODE_SEQUENCE };

/* How a scalar was written: quoted scalars are never booleans or null. */
enum yscalar_style { YSTYLE_PLAIN, YSTYLE_SINGLE, YSTYLE_DOUBLE, YSTYLE_LITERAL, YSTYLE_FOLDED };

struct ynode {
	enum ynode_kind kind;
	unsigned line, col;          /* 1-based position of the node's start */
	char *tag;                   /* explicit tag as written (e.g. "tag:yaml.org,2002:str"), or NULL */
	/* scalar */
	char *value;                 /* NUL-terminated; len excludes the NUL */
	size_t len;
	enum yscalar_style style;
	/* mapping: keys[i] -> items[i]; sequence: items[i] (keys is NULL) */
	struct ynode **keys;
	struct ynode **items;
	size_t n;
};

struct ydoc {
	struct ynode *root;          /* NULL for an empty document */
	unsigned line, col;          /* where the document starts */
};

struct ystream {
	struct ydoc *docs;
	size_t n;
};

/* Limits against hostile input; exceeding one is a parse error. */
#define YAML_MAX_INPUT   (4u << 20)   /* bytes of a qvm file */
#define YAML_MAX_DEPTH   64           /* nesting of mappings/sequences */
#define YAML_MAX_NODES   100000       /* nodes after alias expansion */
#define YAML_MAX_BYTES   (16u << 20)  /* text after alias expansion */

/*
 * Parses every document of buf. Aliases are expanded to copies (counted
 * against YAML_MAX_NODES). Duplicate keys in a mapping are an error.
 * Returns 0, -ENOMEM, or -EINVAL with *err set to a malloc'd message that
 * starts with "line L, column C: " where the input was wrong.
 */
int ystream_parse(const char *buf, size_t len, struct ystream **out, char **err);
/* ystream_parse's message yerr as "FILE:L:C: text" (or "FILE: text"),
 * for a file qvm reads besides the qvm file (a catalog, the hosts file).
 * malloc'd, NULL on ENOMEM. */
char *yparse_error_at(const char *file, const char *yerr);

/*
 * Documents whose text must never be printed (cloud-init user-data holds
 * passwords and keys): a document whose top-level mapping maps label_key to
 * one of secret_labels, or whose label is not known yet where the error
 * lies, or every document when `all`. An error in one quotes nothing of the
 * input - no key, no value, no anchor name, no byte - and names the
 * document instead ("duplicate key in user-data (first at ...)").
 */
struct yparse_secrecy {
	const char *label_key;               /* "qvm" */
	const char *const *secret_labels;    /* NULL-terminated */
	bool all;                            /* the whole input is secret... */
	const char *all_name;                /* ...and named so in messages */
};
int ystream_parse_secret(const char *buf, size_t len, const struct yparse_secrecy *sec,
			 struct ystream **out, char **err);
void ystream_free(struct ystream *s);

/* The text of an error at a place in the input: "L:C: message", or
 * "where: message" when where names the place instead (a node --set made
 * has no line; the parser says "line L, column C"). malloc'd; NULL on
 * ENOMEM. */
char *yerror_vformat(const char *where, unsigned line, unsigned col, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

struct ynode *ynode_new_scalar(const char *value, enum yscalar_style style);
void ynode_free(struct ynode *n);

/* Value for a key of a mapping whose key is a scalar equal to key; NULL if
 * absent or if map is not a mapping. */
struct ynode *ymap_get(const struct ynode *map, const char *key);
/* Index of key in map, or -1. */
long ymap_index(const struct ynode *map, const char *key);
/* Removes and frees the pair for key; no-op if absent. */
void ymap_remove(struct ynode *map, const char *key);
/* Appends a pair, taking ownership of value (freed on failure too). 0 or -ENOMEM. */
int ymap_append(struct ynode *map, const char *key, struct ynode *value);

/* YAML 1.1 booleans, as virt-install users write them: a PLAIN scalar with
 * no tag (or tagged !!bool) that is true/yes/on (any letter case) or
 * false/no/off. */
bool yscalar_is_true(const struct ynode *n);
bool yscalar_is_false(const struct ynode *n);
/* An empty plain scalar, "~" or "null"/"Null"/"NULL" (plain, untagged), or
 * any scalar tagged !!null. */
bool yscalar_is_null(const struct ynode *n);

/*
 * Serialises one document with libyaml's emitter: same data, same key order,
 * scalars in their original style where the emitter allows it, strings with
 * line breaks as literal block scalars. header (may be NULL) is written
 * first, verbatim (e.g. "#cloud-config\n"). Returns 0 or -ENOMEM/-EIO;
 * *out is malloc'd and NUL-terminated, *outlen its length.
 */
/*
 * The style to write a VM name in (names hold only A-Z a-z 0-9 _ . -):
 * plain, unless YAML 1.1 (cloud-init uses PyYAML) would read it as
 * something other than a string - a number, a date, a boolean/null word -
 * then single-quoted.
 */
enum yscalar_style yscalar_style_for_name(const char *name);

int yaml_emit(const struct ynode *root, const char *header, char **out, size_t *outlen);

#endif
