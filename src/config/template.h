/* SPDX-License-Identifier: MIT */
/* A qvm file used as a template: qvm vm --name NAME, --set PATH=VALUE and
 * --count N change the documents after they are read, before they are
 * checked, so every check of a real run applies to the result. */
#ifndef QVM_TEMPLATE_H
#define QVM_TEMPLATE_H

#include <stdbool.h>

#include "yamltree.h"

struct qvm_template {
	const char *name;            /* --name, or NULL */
	const char *suffix;          /* appended to the name ("-2" for --count) unless the name
				      * says where its number goes ({n}), or NULL */
	char *const *sets;           /* --set PATH=VALUE, in command-line order; may be NULL */
	unsigned n;                  /* the instance's number ({n}): 0 reads as 1 */
};

/*
 * Per-instance values: in --name and in each --set's VALUE, "{n}" is the
 * instance's number and "{name}" its final name (not in --name itself, nor
 * in a --set of vm.name); "{{" is a literal "{" ("{{n}" is "{n}"). Other
 * braces are kept as written, "}" always, so flow YAML ("{a: {b: c}}")
 * passes. out (malloc'd) is
 * the text, *has_n whether it used {n}. Returns 0, -EINVAL with *why
 * (static text; quotes nothing of s), or -ENOMEM.
 */
int template_expand(const char *s, unsigned n, const char *name, char **out, bool *has_n, const char **why);

/* The documents a template may change, by the names --set uses for them. */
struct template_docs {
	struct ynode *vm, *user_data, *meta_data, *network_config, *vendor_data;
};

/*
 * Applies the --set assignments, then the name: vm.name becomes the new
 * name and so do the values derived from the old one - meta-data
 * instance-id and local-hostname, user-data hostname (and fqdn's first
 * label), and the last component of a zvol 'name' (also as the start of
 * it: OLD-data) - where they were written equal to the old name. Values
 * written otherwise are kept.
 * Appends one message per problem to *errors ("--set PATH=VALUE: why", or
 * "--set #N (user-data): why" for a secret document: see below).
 * Every node a --set made reads position 0:N (line 0, column N, for the
 * N-th --set), so a later message can name the --set instead of a line.
 * Returns 0, -EINVAL when messages were added, or -ENOMEM.
 */
int template_apply(struct template_docs *docs, const struct qvm_template *t, char ***errors);

/* How messages name the index-th --set (1-based) into buf: the argument as
 * given ("--set vm.memory=4096"), or, where it sets a secret document
 * (user-data, vendor-data, network-config) or none qvm knows, only its
 * number and document ("--set #2 (user-data)"): its key and value are
 * never printed. Returns buf. */
const char *template_set_label(const struct qvm_template *t, unsigned index, char *buf, size_t size);

#endif
