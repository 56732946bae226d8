/* SPDX-License-Identifier: MIT */
/* The YAML reader and the qvm file model: documents, validation messages,
 * limits against hostile input. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "cloudinit.h"
#include "qvmfile.h"
#include "strv.h"
#include "yamltree.h"

/* user-data and meta-data documents to complete a vm document */
#define REST "---\nqvm: user-data\n---\nqvm: meta-data\n"
/* a valid vm document, 5 lines */
#define VM "qvm: vm\nname: web1\ndisk:\n  zvol:\n    base: tank/images/deb12\n"

static void print_errors(char **errors)
{
	for (size_t i = 0; errors && errors[i]; i++)
		fprintf(stderr, "    got: %s\n", errors[i]);
}

static struct qvm_file *parse_ok(const char *yaml)
{
	struct qvm_file *f = NULL;
	char **errors = NULL;
	int r = qvm_file_parse(yaml, strlen(yaml), &f, &errors);

	if (r != 0) {
		fprintf(stderr, "unexpected failure %d for:\n%s\n", r, yaml);
		print_errors(errors);
	}
	assert_int_equal(r, 0);
	assert_null(errors);
	assert_non_null(f);
	return f;
}

static char **parse_bad_len(const char *yaml, size_t len)
{
	struct qvm_file *f = NULL;
	char **errors = NULL;
	int r = qvm_file_parse(yaml, len, &f, &errors);

	assert_int_equal(r, -EINVAL);
	assert_null(f);
	assert_non_null(errors);
	assert_non_null(errors[0]);
	return errors;
}

/* msg must be one of the errors */
static void expect_error_len(const char *yaml, size_t len, const char *msg)
{
	char **errors = parse_bad_len(yaml, len);

	for (size_t i = 0; errors[i]; i++)
		if (strcmp(errors[i], msg) == 0) {
			strv_free(errors);
			return;
		}
	fprintf(stderr, "  expected: %s\n", msg);
	print_errors(errors);
	strv_free(errors);
	fail();
}

static void expect_error(const char *yaml, const char *msg)
{
	expect_error_len(yaml, strlen(yaml), msg);
}

/* msg must be the only error */
static void expect_only(const char *yaml, const char *msg)
{
	char **errors = parse_bad_len(yaml, strlen(yaml));

	if (strv_length(errors) != 1 || strcmp(errors[0], msg) != 0) {
		fprintf(stderr, "  expected only: %s\n", msg);
		print_errors(errors);
		strv_free(errors);
		fail();
	}
	strv_free(errors);
}

/* ---- the YAML reader ---- */

static void test_yaml_tree(void **state)
{
	(void)state;
	const char *y = "a: 1\nb: 'x'\nc: \"y\"\nd: |\n  l1\n  l2\ne: >\n  f1\n  f2\nf: [1, {g: h}]\nt: !!str 5\n";
	struct ystream *s = NULL;
	char *err = NULL;
	const struct ynode *root, *n;

	assert_int_equal(ystream_parse(y, strlen(y), &s, &err), 0);
	assert_null(err);
	assert_int_equal(s->n, 1);
	root = s->docs[0].root;
	assert_int_equal(root->kind, YNODE_MAPPING);
	assert_int_equal(root->n, 7);
	assert_string_equal(root->keys[0]->value, "a");
	assert_int_equal(ymap_index(root, "f"), 5);
	assert_int_equal(ymap_index(root, "nope"), -1);
	n = ymap_get(root, "a");
	assert_string_equal(n->value, "1");
	assert_int_equal(n->style, YSTYLE_PLAIN);
	assert_int_equal(n->line, 1);
	assert_int_equal(n->col, 4);
	assert_int_equal(ymap_get(root, "b")->style, YSTYLE_SINGLE);
	assert_int_equal(ymap_get(root, "c")->style, YSTYLE_DOUBLE);
	n = ymap_get(root, "d");
	assert_int_equal(n->style, YSTYLE_LITERAL);
	assert_string_equal(n->value, "l1\nl2\n");
	n = ymap_get(root, "e");
	assert_int_equal(n->style, YSTYLE_FOLDED);
	assert_string_equal(n->value, "f1 f2\n");
	n = ymap_get(root, "f");
	assert_int_equal(n->kind, YNODE_SEQUENCE);
	assert_int_equal(n->n, 2);
	assert_null(n->keys);
	assert_string_equal(ymap_get(n->items[1], "g")->value, "h");
	assert_int_equal(n->items[1]->line, 10);
	assert_int_equal(n->items[1]->col, 8);
	n = ymap_get(root, "t");
	assert_string_equal(n->tag, "tag:yaml.org,2002:str");
	assert_null(ymap_get(root, "a")->tag);
	assert_null(ymap_get(n, "x"));  /* not a mapping */

	ymap_remove(s->docs[0].root, "c");
	ymap_remove(s->docs[0].root, "nope");
	assert_int_equal(root->n, 6);
	assert_string_equal(root->keys[2]->value, "d");
	assert_int_equal(ymap_append(s->docs[0].root, "z", ynode_new_scalar("last", YSTYLE_PLAIN)), 0);
	assert_string_equal(ymap_get(root, "z")->value, "last");
	assert_int_equal(ymap_index(root, "z"), 6);
	ystream_free(s);
}

static void test_yaml_documents(void **state)
{
	(void)state;
	const char *y = "# comment\na: 1\n...\n---\n---\nb: 2\n---\n";
	struct ystream *s = NULL;
	char *err = NULL;

	assert_int_equal(ystream_parse(y, strlen(y), &s, &err), 0);
	assert_int_equal(s->n, 4);
	assert_non_null(s->docs[0].root);
	assert_int_equal(s->docs[0].line, 2);
	assert_null(s->docs[1].root);     /* empty between markers */
	assert_int_equal(s->docs[1].line, 4);
	assert_non_null(s->docs[2].root);
	assert_null(s->docs[3].root);     /* trailing "---" */
	ystream_free(s);

	assert_int_equal(ystream_parse("", 0, &s, &err), 0);
	assert_int_equal(s->n, 0);
	ystream_free(s);
}

static void test_yaml_aliases(void **state)
{
	(void)state;
	const char *y = "a: &x {k: [1, 2]}\nb: *x\nc: &y v\nd: *y\n";
	struct ystream *s = NULL;
	char *err = NULL;
	const struct ynode *a, *b;

	assert_int_equal(ystream_parse(y, strlen(y), &s, &err), 0);
	a = ymap_get(s->docs[0].root, "a");
	b = ymap_get(s->docs[0].root, "b");
	assert_ptr_not_equal(a, b);                   /* a deep copy */
	assert_int_equal(b->kind, YNODE_MAPPING);
	assert_string_equal(ymap_get(b, "k")->items[1]->value, "2");
	assert_ptr_not_equal(ymap_get(a, "k"), ymap_get(b, "k"));
	assert_int_equal(b->line, 2);                 /* the alias's position */
	assert_string_equal(ymap_get(s->docs[0].root, "d")->value, "v");
	ystream_free(s);
}

static void expect_yaml_error(const char *y, size_t len, const char *msg)
{
	struct ystream *s = NULL;
	char *err = NULL;
	int r = ystream_parse(y, len, &s, &err);

	assert_int_equal(r, -EINVAL);
	assert_null(s);
	assert_non_null(err);
	if (strcmp(err, msg) != 0)
		fprintf(stderr, "  expected: %s\n       got: %s\n", msg, err);
	assert_string_equal(err, msg);
	free(err);
}

/* a literal with its length, embedded NULs included */
#define YAML_ERROR(lit, msg) expect_yaml_error(lit, sizeof(lit) - 1, msg)

static void test_yaml_errors(void **state)
{
	(void)state;
	YAML_ERROR("a: b: c\n", "line 1, column 5: mapping values are not allowed in this context");
	YAML_ERROR("a: [1, 2\nb: 3\n",
			  "line 2, column 2: did not find expected ',' or ']' "
			  "(while parsing a flow sequence at line 1, column 4)");
	YAML_ERROR("x: 1\nm:\n  k: 1\n  j: 2\n  k: 3\n",
			  "line 5, column 3: duplicate key 'k' (first at line 3, column 3)");
	YAML_ERROR("a: *nope\n", "line 1, column 4: undefined alias '*nope'");
	YAML_ERROR("a: &r [1, *r]\n", "line 1, column 11: alias '*r' refers to a node that contains it");
	YAML_ERROR("a: \"\xff\"\n", "line 1, column 5: invalid leading UTF-8 octet (byte 0xFF)");
	YAML_ERROR("a: b\nc: d\xc3\n", "line 2, column 6: invalid trailing UTF-8 octet (byte 0x0A)");
	YAML_ERROR("a: b\nc: d\xc3", "line 2, column 5: incomplete UTF-8 octet sequence");
	YAML_ERROR("a: x\x01y\n", "line 1, column 5: control characters are not allowed (byte 0x01)");
	YAML_ERROR("a: 1\nb: x\0y\n", "line 2, column 5: NUL character in input");
}

static void test_yaml_booleans(void **state)
{
	(void)state;
	const char *y = "- true\n- True\n- TRUE\n- yes\n- Yes\n- YES\n- on\n- On\n- ON\n- tRuE\n"
			"- false\n- False\n- NO\n- off\n- OFF\n- nO\n"
			"- ''\n- \"yes\"\n- 'no'\n- !!str yes\n- !!bool yes\n- y\n- 1\n"
			"- \n- ~\n- null\n- Null\n- NULL\n- nULL\n- '~'\n- !!null ''\n";
	struct ystream *s = NULL;
	char *err = NULL;
	struct ynode **it;

	assert_int_equal(ystream_parse(y, strlen(y), &s, &err), 0);
	it = s->docs[0].root->items;
	for (int i = 0; i < 10; i++) {
		assert_true(yscalar_is_true(it[i]));
		assert_false(yscalar_is_false(it[i]));
	}
	for (int i = 10; i < 16; i++) {
		assert_true(yscalar_is_false(it[i]));
		assert_false(yscalar_is_true(it[i]));
	}
	for (int i = 16; i < 23; i++) {
		bool expect_true = i == 20;
		assert_int_equal(yscalar_is_true(it[i]), expect_true);
		assert_false(yscalar_is_false(it[i]));
		assert_false(yscalar_is_null(it[i]));
	}
	for (int i = 23; i < 28; i++)
		assert_true(yscalar_is_null(it[i]));
	assert_false(yscalar_is_null(it[28]));  /* nULL is a string */
	assert_false(yscalar_is_null(it[29]));  /* quoted */
	assert_true(yscalar_is_null(it[30]));   /* tagged */
	ystream_free(s);
}

static char *repeat(const char *a, size_t n, const char *b, size_t m)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = malloc(la * n + lb * m + 1), *p = s;

	assert_non_null(s);
	for (size_t i = 0; i < n; i++, p += la)
		memcpy(p, a, la);
	for (size_t i = 0; i < m; i++, p += lb)
		memcpy(p, b, lb);
	*p = '\0';
	return s;
}

static void test_yaml_limits(void **state)
{
	(void)state;
	struct ystream *s = NULL;
	char *err = NULL, *y;

	/* 64 levels are fine, 65 are not */
	y = repeat("[", YAML_MAX_DEPTH, "]", YAML_MAX_DEPTH);
	assert_int_equal(ystream_parse(y, strlen(y), &s, &err), 0);
	ystream_free(s);
	free(y);
	y = repeat("[", YAML_MAX_DEPTH + 1, "]", YAML_MAX_DEPTH + 1);
	expect_yaml_error(y, strlen(y), "line 1, column 65: nesting deeper than 64 levels");
	free(y);
	/* an alias cannot smuggle in the depth either */
	y = repeat("[", 40, "]", 40);
	char *y2 = NULL;
	assert_true(asprintf(&y2, "a: &a %s\nb: [[[[[[[[[[[[[[[[[[[[[[[[[*a]]]]]]]]]]]]]]]]]]]]]]]]]\n", y) > 0);
	expect_yaml_error(y2, strlen(y2), "line 2, column 29: nesting deeper than 64 levels");
	free(y2);
	free(y);

	/* billion laughs: 9^9 nodes if expanded */
	y = strdup("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
		   "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
		   "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
		   "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
		   "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
		   "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
		   "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
		   "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
		   "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n");
	expect_yaml_error(y, strlen(y), "line 6, column 8: too many nodes (more than 100000, aliases expanded)");
	free(y);

	/* the input size */
	y = malloc(YAML_MAX_INPUT + 1);
	memset(y, '#', YAML_MAX_INPUT + 1);
	expect_yaml_error(y, YAML_MAX_INPUT + 1, "input larger than 4194304 bytes");
	/* exactly the limit is allowed: a comment */
	assert_int_equal(ystream_parse(y, YAML_MAX_INPUT, &s, &err), 0);
	ystream_free(s);
	free(y);
}

static void test_yaml_many_keys(void **state)
{
	(void)state;
	/* duplicate detection stays fast on a big mapping */
	size_t n = 40000;
	char *y = malloc(n * 16 + 32), *p = y;
	struct ystream *s = NULL;
	char *err = NULL;

	for (size_t i = 0; i < n; i++)
		p += snprintf(p, 32, "k%zu: %zu\n", i, i);
	assert_int_equal(ystream_parse(y, (size_t)(p - y), &s, &err), 0);
	assert_int_equal(s->docs[0].root->n, n);
	ystream_free(s);
	p += snprintf(p, 32, "k777: again\n");
	expect_yaml_error(y, (size_t)(p - y), "line 40001, column 1: duplicate key 'k777' (first at line 778, column 1)");
	free(y);
}

/* ---- the qvm file ---- */

static void test_spec_example(void **state)
{
	(void)state;
	const char *y =
		"---\n"
		"qvm: vm\n"
		"name: web1\n"
		"memory: 1024\n"
		"vcpus: 2\n"
		"import: true\n"
		"osinfo: debian12\n"
		"graphics: none\n"
		"network:\n"
		"  network: default\n"
		"  model: virtio\n"
		"disk:\n"
		"  bus: virtio\n"
		"  zvol:\n"
		"    base: tank/images/debian12      # clones tank/images/debian12@base\n"
		"    volsize: 20G                    # any zfs property for the clone\n"
		"...\n"
		"---\n"
		"qvm: user-data\n"
		"users:\n"
		"  - name: admin\n"
		"    ssh_authorized_keys: [\"ssh-ed25519 AAAA... admin@host\"]\n"
		"runcmd:\n"
		"  - [sh, -c, \"echo provisioned > /root/qvm-ok\"]\n"
		"...\n"
		"---\n"
		"qvm: meta-data\n"
		"instance-id: web1\n"
		"local-hostname: web1\n";
	struct qvm_file *f = parse_ok(y);

	assert_string_equal(f->name, "web1");
	assert_null(f->connect);
	assert_string_equal(f->base_snapshot, "tank/images/debian12@base");
	assert_string_equal(f->clone, "tank/images/web1");
	assert_int_equal(strv_length(f->clone_props), 1);
	assert_string_equal(f->clone_props[0], "volsize=20G");
	assert_ptr_equal(f->boot_disk, ymap_get(f->vm, "disk"));
	assert_null(ymap_get(f->boot_disk, "zvol"));
	assert_int_equal(f->boot_disk->n, 1);
	assert_null(ymap_get(f->vm, "qvm"));
	assert_null(ymap_get(f->user_data, "qvm"));
	assert_null(ymap_get(f->meta_data, "qvm"));
	assert_string_equal(f->vm->keys[0]->value, "name");
	assert_non_null(ymap_get(f->user_data, "runcmd"));
	assert_string_equal(ymap_get(f->meta_data, "instance-id")->value, "web1");
	qvm_file_free(f);
}

static void test_documents_any_order_and_aliases(void **state)
{
	(void)state;
	struct qvm_file *f = parse_ok("qvm: metadata\n---\nqvm: userdata\na: 1\n---\n" VM "---\n");

	assert_string_equal(f->name, "web1");
	assert_int_equal(f->meta_data->n, 0);
	assert_int_equal(f->user_data->n, 1);
	qvm_file_free(f);

	/* empty documents anywhere are ignored */
	f = parse_ok("---\n---\n" VM "...\n---\n...\n" REST "---\n");
	qvm_file_free(f);
	f = parse_ok("---\n# only a comment\n---\n" VM REST "...\n---\n# end\n");
	qvm_file_free(f);
}

static void test_document_errors(void **state)
{
	(void)state;
	expect_only("- a\n- b\n---\n" VM REST, "1:1: document is not a mapping");
	expect_only("hello\n---\n" VM REST, "1:1: document is not a mapping");
	expect_only(VM REST "--- ~\n", "10:5: document is not a mapping");
	expect_only("name: x\n---\n" VM REST,
		    "1:1: document has no 'qvm' key (expected qvm: vm, user-data or meta-data; optional: network-config, vendor-data)");
	expect_error("qvm: vms\n" REST,
		     "1:6: unknown document type 'vms' (expected qvm: vm, user-data or meta-data; optional: network-config, vendor-data)");
	expect_error("qvm: VM\n" REST,
		     "1:6: unknown document type 'VM' (expected qvm: vm, user-data or meta-data; optional: network-config, vendor-data)");
	expect_error("qvm: [vm]\n" REST, "1:6: 'qvm' is not a scalar (expected qvm: vm, user-data or meta-data; optional: network-config, vendor-data)");
	expect_only(VM "---\nqvm: meta-data\n", "1:1: missing user-data document (an empty one is enough: a document holding only 'qvm: user-data')");
	expect_only(REST, "1:1: missing vm document");
	expect_only(VM REST "---\nqvm: vm\nname: x\n", "11:1: duplicate vm document (first at line 1)");
	expect_only(VM REST "---\nqvm: userdata\n", "11:1: duplicate user-data document (first at line 7)");
	expect_only(VM REST "---\nqvm: metadata\n", "11:1: duplicate meta-data document (first at line 9)");

	/* an empty file misses everything */
	char **errors = parse_bad_len("", 0);
	assert_int_equal(strv_length(errors), 2);
	assert_string_equal(errors[0], "1:1: missing vm document");
	assert_string_equal(errors[1], "1:1: missing user-data document (an empty one is enough: a document holding only 'qvm: user-data')");
	strv_free(errors);
}

static void test_name(void **state)
{
	(void)state;
	const char *tail = "disk:\n  zvol:\n    base: tank/images/deb12\n" REST;
	char *y;

#define NAME_CASE(line, msg) do { \
		assert_true(asprintf(&y, "qvm: vm\n%s%s", line, tail) > 0); \
		expect_only(y, msg); \
		free(y); \
	} while (0)

	NAME_CASE("", "1:1: vm document has no 'name'");
	NAME_CASE("name: a b\n", "2:7: invalid VM name 'a b': invalid character (allowed: A-Z a-z 0-9 _ . -)");
	NAME_CASE("name: web/1\n", "2:7: invalid VM name 'web/1': invalid character (allowed: A-Z a-z 0-9 _ . -)");
	NAME_CASE("name: -web\n", "2:7: invalid VM name '-web': starts with '.' or '-'");
	NAME_CASE("name: .web\n", "2:7: invalid VM name '.web': starts with '.' or '-'");
	NAME_CASE("name: ''\n", "2:7: invalid VM name '': empty name");
	NAME_CASE("name: \"a\\0b\"\n", "2:7: value of 'name' contains a NUL character");
	NAME_CASE("name: \"a\\nb\"\n", "2:7: invalid VM name 'a\\nb': invalid character (allowed: A-Z a-z 0-9 _ . -)");
	NAME_CASE("name: [web1]\n", "2:7: 'name' is not a scalar");
	NAME_CASE("name: "
		  "a123456789b123456789c123456789d123456789e123456789f123456789g1234\n",
		  "2:7: invalid VM name 'a123456789b123456789c123456789d123456789e123456789f123456789g1234': "
		  "longer than 64 characters");
#undef NAME_CASE

	/* 64 characters, digits first, dots and dashes: fine */
	struct qvm_file *f = parse_ok("qvm: vm\nname: 0a3456789b123456789c123456789d123456789e123456789f12345.7-9_123\n"
				      "disk: {zvol: {base: tank/i/d}}\n" REST);
	assert_string_equal(f->clone, "tank/i/0a3456789b123456789c123456789d123456789e123456789f12345.7-9_123");
	qvm_file_free(f);
	/* a plain "yes" is just a name here */
	f = parse_ok("qvm: vm\nname: yes\ndisk: {zvol: {base: tank/i/d}}\n" REST);
	assert_string_equal(f->name, "yes");
	qvm_file_free(f);
}

static void test_alias_text(void **state)
{
	/* a long string named many times: the text, not only the nodes, counts */
	size_t n = 2u << 20;
	char *y = malloc(n + 40000);
	char *p = y;
	(void)state;
	assert_non_null(y);
	p += sprintf(p, "a: &x ");
	memset(p, 'A', n);
	p += n;
	p += sprintf(p, "\nb: [");
	for (int i = 0; i < 20; i++)
		p += sprintf(p, "*x, ");
	p += sprintf(p, "*x]\n");
	struct ystream *s = NULL;
	char *err = NULL;
	assert_int_equal(ystream_parse(y, (size_t)(p - y), &s, &err), -EINVAL);
	assert_non_null(strstr(err, "too much text (more than 16 MiB, aliases expanded)"));
	free(err);
	free(y);
}

static void test_refused_keys(void **state)
{
	(void)state;
	expect_only(VM "dry-run: true\n" REST,
		    "6:1: 'dry-run' is not allowed in the vm document (qvm runs virt-install --dry-run itself)");
	expect_only(VM "print-xml:\n" REST,
		    "6:1: 'print-xml' is not allowed in the vm document (qvm creates the VM itself)");
}

static void test_connect(void **state)
{
	(void)state;
	struct qvm_file *f = parse_ok(VM "connect: test:///default\n" REST);

	assert_string_equal(f->connect, "test:///default");
	qvm_file_free(f);
	f = parse_ok(VM "connect:\n" REST);
	assert_null(f->connect);
	qvm_file_free(f);
}

static void test_disk_errors(void **state)
{
	(void)state;
	const char *head = "qvm: vm\nname: web1\n";
	char *y;

#define DISK_CASE(disk, msg) do { \
		assert_true(asprintf(&y, "%s%s" REST, head, disk) > 0); \
		expect_only(y, msg); \
		free(y); \
	} while (0)

	DISK_CASE("", "1:1: vm document has no 'disk'");
	DISK_CASE("disk: /dev/vda\n", "3:7: 'disk' must be a mapping or a sequence of mappings");
	DISK_CASE("disk:\n", "3:6: 'disk' must be a mapping or a sequence of mappings");
	DISK_CASE("disk:\n  - zvol: {base: tank/a/b}\n  - path=/x.iso,device=cdrom\n",
		  "5:5: 'disk' must be a mapping or a sequence of mappings");
	DISK_CASE("disk:\n  bus: virtio\n", "4:3: 'disk' has no 'zvol'");
	DISK_CASE("disk:\n  - bus: virtio\n  - bus: sata\n", "4:3: no 'disk' has a 'zvol'");
	DISK_CASE("disk: []\n", "3:7: no 'disk' has a 'zvol'");
	DISK_CASE("disk:\n  zvol: tank/a/b\n", "4:9: 'zvol' is not a mapping");
	DISK_CASE("disk:\n  zvol:\n", "4:8: 'zvol' is not a mapping");
	DISK_CASE("disk:\n  zvol:\n    volsize: 1G\n", "5:5: 'zvol' has no 'base'");
	DISK_CASE("disk:\n  zvol: {}\n", "4:9: 'zvol' has no 'base'");
	DISK_CASE("disk:\n  - zvol: {base: tank/a/b}\n  - zvol: {bus: virtio}\n",
		  "5:11: 'zvol' needs 'base' (a clone) or 'volsize' (a new volume)");
	DISK_CASE("disk:\n  - zvol: {base: tank/a/b}\n  - zvol: {volsize: 1G, name: tank/a/web1}\n",
		  "5:31: two disks would be the same zvol tank/a/web1 (give each a 'name')");
	DISK_CASE("disk:\n  - zvol: {base: tank/a/b}\n  - zvol: {base: pool/a/c, name: tank/a/x}\n",
		  "5:34: clone 'tank/a/x' is not in the pool of its base 'pool/a/c@base' (zfs clones stay in their pool)");
	DISK_CASE("disk:\n  zvol:\n    base: [tank/a/b]\n", "5:11: 'base' is not a scalar");
	DISK_CASE("disk:\n  zvol:\n    base: tank//x\n", "5:11: invalid base dataset 'tank//x': empty component");
	DISK_CASE("disk:\n  zvol:\n    base: tank/a b\n",
		  "5:11: invalid base dataset 'tank/a b': invalid character (allowed: A-Z a-z 0-9 _ - . :)");
	DISK_CASE("disk:\n  zvol:\n    base: 1tank/x\n",
		  "5:11: invalid base dataset '1tank/x': pool name must start with a letter");
	DISK_CASE("disk:\n  zvol:\n    base: tank/x/\n", "5:11: invalid base dataset 'tank/x/': name ends with '/'");
	DISK_CASE("disk:\n  zvol:\n    base: tank/x@a@b\n", "5:11: invalid base dataset 'tank/x@a@b': more than one '@'");
	DISK_CASE("disk:\n  zvol:\n    base: tank/x@\n", "5:11: invalid base dataset 'tank/x@': empty component");
	DISK_CASE("disk:\n  zvol:\n    base: tank/../x\n", "5:11: invalid base dataset 'tank/../x': component '.' or '..'");
	DISK_CASE("disk:\n  zvol:\n    base: mirror/x\n", "5:11: invalid base dataset 'mirror/x': pool name is reserved");
	DISK_CASE("disk:\n  zvol:\n    base:\n", "5:10: 'base' is empty");
	DISK_CASE("disk:\n  zvol:\n    base: ''\n", "5:11: 'base' is empty");
	DISK_CASE("disk:\n  zvol:\n    base: tank\n",
		  "5:11: base 'tank' has no parent dataset to put the clone in (give the clone a 'name' in 'zvol')");
	DISK_CASE("disk:\n  zvol:\n    base: tank@snap\n",
		  "5:11: base 'tank' has no parent dataset to put the clone in (give the clone a 'name' in 'zvol')");
	DISK_CASE("disk:\n  zvol:\n    base: tank/a/b\n    name: tank/vms/web1@now\n",
		  "6:11: invalid clone name 'tank/vms/web1@now': a snapshot ('@') is not allowed here");
	DISK_CASE("disk:\n  zvol:\n    base: tank/a/b\n    name: {x: 1}\n", "6:11: 'name' in 'zvol' is not a scalar");
	DISK_CASE("disk:\n  zvol:\n    base: tank/a/b\n    name: other/web1\n",
		  "6:11: clone 'other/web1' is not in the pool of its base 'tank/a/b@base' (zfs clones stay in their pool)");
	DISK_CASE("disk:\n  zvol:\n    base: tank/a/b@s1\n    name: tank/a/b\n",
		  "6:11: clone 'tank/a/b' would be the base dataset itself (give the clone a 'name' in 'zvol')");
	DISK_CASE("disk:\n  zvol:\n    base: tank/a/web1\n",
		  "5:11: clone 'tank/a/web1' would be the base dataset itself (give the clone a 'name' in 'zvol')");
#undef DISK_CASE
}

static void test_clone_name_too_long(void **state)
{
	(void)state;
	char dir[201], *y, *msg;

	memset(dir, 'd', 200);
	dir[200] = '\0';
	assert_true(asprintf(&y, "qvm: vm\nname: a123456789b123456789c123456789d123456789e123456789f123\n"
			     "disk:\n  zvol:\n    base: tank/%s/img\n" REST, dir) > 0);
	assert_true(asprintf(&msg, "5:11: invalid clone name 'tank/%s/a123456789b123456789c123456789d123456789e123456789f123': "
			     "name longer than 255 characters", dir) > 0);
	expect_only(y, msg);
	free(y);
	free(msg);
}

static void test_zvol(void **state)
{
	(void)state;
	struct qvm_file *f;

	/* an explicit snapshot, explicit clone name, several properties in order */
	f = parse_ok("qvm: vm\nname: web1\n"
		     "disk:\n"
		     "  - device: cdrom\n"
		     "    path: /x.iso\n"
		     "  - bus: virtio\n"
		     "    zvol:\n"
		     "      volsize: 20G\n"
		     "      base: tank/images/deb12@v2\n"
		     "      compression: lz4\n"
		     "      name: tank/vms/web1\n"
		     "      org.example:note: hello world\n"
		     "      refreservation: none\n"
		     "    cache: none\n" REST);
	assert_string_equal(f->base_snapshot, "tank/images/deb12@v2");
	assert_string_equal(f->clone, "tank/vms/web1");
	assert_int_equal(strv_length(f->clone_props), 4);
	assert_string_equal(f->clone_props[0], "volsize=20G");
	assert_string_equal(f->clone_props[1], "compression=lz4");
	assert_string_equal(f->clone_props[2], "org.example:note=hello world");
	assert_string_equal(f->clone_props[3], "refreservation=none");
	assert_ptr_equal(f->boot_disk, ymap_get(f->vm, "disk")->items[1]);
	assert_int_equal(f->boot_disk->n, 2);
	assert_string_equal(f->boot_disk->keys[0]->value, "bus");
	assert_string_equal(f->boot_disk->keys[1]->value, "cache");
	qvm_file_free(f);

	/* no properties: an empty vector */
	f = parse_ok(VM REST);
	assert_string_equal(f->base_snapshot, "tank/images/deb12@base");
	assert_string_equal(f->clone, "tank/images/web1");
	assert_int_equal(strv_length(f->clone_props), 0);
	assert_int_equal(f->boot_disk->n, 0);
	qvm_file_free(f);

	/* booleans and numbers as written */
	f = parse_ok(VM "    readonly: off\n    volsize: 0x10\n" REST);
	assert_string_equal(f->clone_props[0], "readonly=off");
	assert_string_equal(f->clone_props[1], "volsize=0x10");
	qvm_file_free(f);
}

static void test_zvol_property_errors(void **state)
{
	(void)state;
	expect_only(VM "    Volsize: 1G\n" REST, "6:5: invalid zfs property name 'Volsize'");
	expect_only(VM "    a=b: 1\n" REST, "6:5: invalid zfs property name 'a=b'");
	expect_only(VM "    a,b: 1\n" REST, "6:5: invalid zfs property name 'a,b'");
	expect_only(VM "    -o: 1\n" REST, "6:5: invalid zfs property name '-o'");
	expect_only(VM "    \"\": 1\n" REST, "6:5: invalid zfs property name ''");
	expect_only(VM "    [a]: 1\n" REST, "6:5: zfs property name is not a scalar");
	expect_only(VM "    volsize: [1G]\n" REST, "6:14: zfs property 'volsize' is not a scalar");
	expect_only(VM "    volsize:\n" REST, "6:13: zfs property 'volsize' has no value");
	expect_only(VM "    volsize: \"1\\0G\"\n" REST, "6:14: zfs property 'volsize' contains a NUL character");
	expect_only(VM "    qvm:created: x\n" REST, "6:5: zfs property 'qvm:created' is reserved for qvm");
}

/* A new volume's size as zfs reads it (zfs_nicestrtonum), checked when the
 * file is read: a bad one never reaches zfs create after the seed and the
 * boot clone exist. */
static void test_blank_volsize(void **state)
{
	(void)state;
	static const struct {
		const char *size;
		uint64_t bytes;
	} good[] = {
		{ "8M", 8 << 20 }, { "4GiB", UINT64_C(4) << 30 }, { "1.5t", UINT64_C(3) << 39 },
		{ "512MB", 512 << 20 }, { "65536", 65536 },
	};
	static const struct {
		const char *size, *msg;
	} bad[] = {
		{ "20X", "5:21: invalid volsize '20X': invalid numeric suffix 'X'" },
		{ "1.5Q", "5:21: invalid volsize '1.5Q': invalid numeric suffix 'Q'" },
		{ "0x10", "5:21: invalid volsize '0x10': invalid numeric suffix 'x10'" },
		{ "8MBB", "5:21: invalid volsize '8MBB': invalid numeric suffix 'MBB'" },
		{ "-5", "5:21: invalid volsize '-5': bad numeric value" },
		{ "99999999999999999999", "5:21: invalid volsize '99999999999999999999': numeric value is too large" },
		{ "0", "5:21: invalid volsize '0': volume size cannot be zero" },
	};
	char *y;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct qvm_file *f;
		assert_true(asprintf(&y, "qvm: vm\nname: web1\ndisk:\n  - zvol: {base: tank/a/b}\n"
				     "  - zvol: {volsize: %s, volblocksize: 64K}\n" REST, good[i].size) > 0);
		f = parse_ok(y);
		assert_int_equal(f->n_extra_disks, 1);
		assert_string_equal(f->extra_disks[0].volsize, good[i].size);
		assert_int_equal(f->extra_disks[0].volsize_bytes, good[i].bytes);
		/* the size goes to -V, not -o */
		assert_int_equal(strv_length(f->extra_disks[0].props), 1);
		assert_string_equal(f->extra_disks[0].props[0], "volblocksize=64K");
		qvm_file_free(f);
		free(y);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_true(asprintf(&y, "qvm: vm\nname: web1\ndisk:\n  - zvol: {base: tank/a/b}\n"
				     "  - zvol: {volsize: %s}\n" REST, bad[i].size) > 0);
		expect_only(y, bad[i].msg);
		free(y);
	}
}

/* base: a dataset means its @base snapshot, for every disk alike. */
static void test_base_snapshot_names(void **state)
{
	(void)state;
	struct qvm_file *f = parse_ok("qvm: vm\nname: web1\ndisk:\n  - zvol: {base: tank/a/b}\n"
				      "  - zvol: {base: tank/a/c, name: tank/a/x}\n"
				      "  - zvol: {base: tank/a/d@v2, name: tank/a/y}\n" REST);

	assert_string_equal(f->base_snapshot, "tank/a/b@base");
	assert_string_equal(f->extra_disks[0].base_snapshot, "tank/a/c@base");
	assert_string_equal(f->extra_disks[1].base_snapshot, "tank/a/d@v2");
	assert_null(f->extra_disks[0].volsize);
	qvm_file_free(f);
}

static void test_render_errors(void **state)
{
	(void)state;
	expect_only(VM "network:\n  model: [a, b]\n" REST,
		    "7:10: 'network.model' is a sequence; sequences are not allowed inside a mapping");
	expect_only(VM "network:\n  model:\n" REST,
		    "7:9: 'network.model' has no value; empty values are not allowed inside a mapping");
	expect_only(VM "network:\n  driver:\n    queues: ~\n" REST,
		    "8:13: 'network.driver.queues' has no value; empty values are not allowed inside a mapping");
	expect_only(VM "network:\n  driver: {}\n" REST, "7:11: 'network.driver' is an empty mapping");
	expect_only(VM "graphics: {}\n" REST, "6:11: 'graphics' is an empty mapping");
	expect_only(VM "extra:\n  - [a]\n" REST, "7:5: 'extra' has a sequence inside a sequence");
	expect_only(VM "bad key: 1\n" REST, "6:1: invalid option name 'bad key'");
	expect_only(VM "-x: 1\n" REST, "6:1: invalid option name '-x'");
	expect_only(VM "[a]: 1\n" REST, "6:1: option name is not a scalar");
	expect_only(VM "network:\n  a=b: 1\n" REST, "7:3: invalid sub-option name 'a=b' in 'network'");
	expect_only(VM "network:\n  \"a b\": 1\n" REST, "7:3: invalid sub-option name 'a b' in 'network'");
	expect_only(VM "network:\n  -a: 1\n" REST, "7:3: invalid sub-option name '-a' in 'network'");
	expect_only(VM "network:\n  [a]: 1\n" REST, "7:3: sub-option name in 'network' is not a scalar");
	expect_only(VM "extra: \"a\\0b\"\n" REST, "6:8: value of 'extra' contains a NUL character");
	expect_only(VM "network: {model: \"a\\0b\"}\n" REST, "6:18: value of 'network.model' contains a NUL character");
	/* the boot disk's own keys go through the same rules */
	expect_only(VM "  driver: {}\n" REST, "6:11: 'disk.driver' is an empty mapping");
}

/* The ssh user: the first of user-data's 'users'; "default" is the
 * image's. Its text is user-data's: messages never quote it. */
static void check_first_user(const char *users, const char *want, bool want_default)
{
	char *yaml = NULL;
	struct qvm_file *f;

	assert_true(asprintf(&yaml, VM "---\nqvm: user-data\n%s", users) > 0);
	f = parse_ok(yaml);
	if (want)
		assert_string_equal(f->first_user, want);
	else
		assert_null(f->first_user);
	assert_int_equal(f->first_user_default, want_default);
	qvm_file_free(f);
	free(yaml);
}

static void test_first_user(void **state)
{
	(void)state;
	check_first_user("", NULL, false);
	check_first_user("users:\n", NULL, false);
	check_first_user("users: []\n", NULL, false);
	check_first_user("users:\n  - name: admin\n    sudo: ALL\n  - bob\n", "admin", false);
	check_first_user("users:\n  - ops\n  - name: admin\n", "ops", false);
	check_first_user("users:\n  - default\n  - name: admin\n", NULL, true);
	check_first_user("users: default\n", NULL, true);
	check_first_user("users: ' ops , default'\n", "ops", false);
	check_first_user("users: 'default, ops'\n", NULL, true);
	/* not a login name: refused where it is, never quoted */
	expect_only(VM "---\nqvm: user-data\nusers:\n  - name: -oProxyCommand=x\n",
		    "9:11: the first user in user-data's 'users' is not a login name qvm ssh can use (letters, "
		    "digits, '.', '_', '-', not starting with '-' or '.'; at most 32)");
	expect_only(VM "---\nqvm: user-data\nusers:\n  - 'a b'\n",
		    "9:5: the first user in user-data's 'users' is not a login name qvm ssh can use (letters, "
		    "digits, '.', '_', '-', not starting with '-' or '.'; at most 32)");
	expect_only(VM "---\nqvm: user-data\nusers:\n  - sudo: ALL\n",
		    "9:5: the first user in user-data's 'users' is not a login name qvm ssh can use (letters, "
		    "digits, '.', '_', '-', not starting with '-' or '.'; at most 32)");
	/* a later user is cloud-init's business */
	check_first_user("users:\n  - ok\n  - -x\n", "ok", false);
}

/* meta-data is optional: instance-id and local-hostname are the name. */
static void test_meta_data_optional(void **state)
{
	(void)state;
	struct qvm_file *f = parse_ok(VM "---\nqvm: user-data\n");
	char *out = NULL;
	size_t len;

	assert_non_null(f->meta_data);
	assert_int_equal(cloudinit_meta_data(f, &out, &len), 0);
	assert_string_equal(out, "instance-id: web1\nlocal-hostname: web1\n");
	free(out);
	qvm_file_free(f);
}

static void test_all_errors_at_once(void **state)
{
	(void)state;
	const char *y =
		"qvm: vm\n"                  /* 1 */
		"name: a b\n"                /* 2 */
		"dry-run: yes\n"             /* 3 */
		"disk:\n"                    /* 4 */
		"  zvol:\n"                  /* 5 */
		"    volsize: 1G\n"          /* 6 */
		"network: {model: []}\n"     /* 7 */
		"---\n"                      /* 8 */
		"qvm: user-data\n"           /* 9 */
		"---\n"                      /* 10 */
		"- 1\n";                     /* 11 */
	char **errors = parse_bad_len(y, strlen(y));

	if (strv_length(errors) != 5)
		print_errors(errors);
	assert_int_equal(strv_length(errors), 5);
	assert_string_equal(errors[0], "11:1: document is not a mapping");
	assert_string_equal(errors[1], "2:7: invalid VM name 'a b': invalid character (allowed: A-Z a-z 0-9 _ . -)");
	assert_string_equal(errors[2], "3:1: 'dry-run' is not allowed in the vm document (qvm runs virt-install --dry-run itself)");
	assert_string_equal(errors[3], "6:5: 'zvol' has no 'base'");
	assert_string_equal(errors[4], "7:18: 'network.model' is a sequence; sequences are not allowed inside a mapping");
	strv_free(errors);
}

static void test_yaml_errors_in_file(void **state)
{
	(void)state;
	char *y;

	expect_only("qvm: vm\nname: [web1\n" REST,
		    "3:1: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence at line 2, column 7)");
	expect_only("qvm: vm\nname: a\nname: b\n" REST,
		    "3:1: invalid YAML: duplicate key 'name' (first at line 2, column 1)");
	expect_only(VM "  bus: virtio\n  bus: sata\n" REST,
		    "7:3: invalid YAML: duplicate key 'bus' (first at line 6, column 3)");
	expect_error_len(VM "x: a\0b\n" REST, strlen(VM) + 7 + strlen(REST),
			 "6:5: invalid YAML: NUL character in input");
	/* libyaml decodes the input before it parses it: no document is known
	 * yet, so the byte (of user-data, perhaps) is not shown */
	expect_only(VM "x: caf\xe9\n" REST, "6:8: invalid YAML: invalid trailing UTF-8 octet");
	expect_only(VM "x: \xff\n" REST, "6:4: invalid YAML: invalid leading UTF-8 octet");
	y = repeat("x: ", 1, "[", 70);
	expect_only(y, "1:67: invalid YAML: nesting deeper than 64 levels");
	free(y);
	y = malloc(YAML_MAX_INPUT + 2);
	memset(y, '#', YAML_MAX_INPUT + 1);
	y[YAML_MAX_INPUT + 1] = '\0';
	expect_only(y, "invalid YAML: input larger than 4194304 bytes");
	free(y);
}

static char *write_temp(const char *content, size_t len)
{
	char *path = strdup("/tmp/test-qvmfile-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, len), (ssize_t)len);
	close(fd);
	return path;
}

static void test_load(void **state)
{
	(void)state;
	struct qvm_file *f = NULL;
	char **errors = NULL, *path, *big;

	assert_int_equal(qvm_file_load("/nonexistent/web1.yaml", &f, &errors), -ENOENT);
	assert_null(f);
	assert_int_equal(strv_length(errors), 1);
	assert_string_equal(errors[0], "cannot open '/nonexistent/web1.yaml': No such file or directory");
	strv_free(errors);

	assert_int_equal(qvm_file_load("/", &f, &errors), -EISDIR);
	assert_string_equal(errors[0], "cannot read '/': Is a directory");
	strv_free(errors);

	path = write_temp(VM REST, strlen(VM REST));
	assert_int_equal(qvm_file_load(path, &f, &errors), 0);
	assert_null(errors);
	assert_string_equal(f->name, "web1");
	qvm_file_free(f);
	unlink(path);
	free(path);

	path = write_temp("qvm: vm\n", 8);
	assert_int_equal(qvm_file_load(path, &f, &errors), -EINVAL);
	assert_int_equal(strv_length(errors), 3);
	strv_free(errors);
	unlink(path);
	free(path);

	big = malloc(YAML_MAX_INPUT + 1);
	memset(big, '#', YAML_MAX_INPUT + 1);
	path = write_temp(big, YAML_MAX_INPUT + 1);
	free(big);
	assert_int_equal(qvm_file_load(path, &f, &errors), -EFBIG);
	char *msg;
	assert_true(asprintf(&msg, "cannot read '%s': file larger than 4194304 bytes", path) > 0);
	assert_string_equal(errors[0], msg);
	free(msg);
	strv_free(errors);
	unlink(path);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_yaml_tree),
		cmocka_unit_test(test_yaml_documents),
		cmocka_unit_test(test_yaml_aliases),
		cmocka_unit_test(test_yaml_errors),
		cmocka_unit_test(test_yaml_booleans),
		cmocka_unit_test(test_yaml_limits),
		cmocka_unit_test(test_yaml_many_keys),
		cmocka_unit_test(test_spec_example),
		cmocka_unit_test(test_documents_any_order_and_aliases),
		cmocka_unit_test(test_document_errors),
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_refused_keys),
		cmocka_unit_test(test_alias_text),
		cmocka_unit_test(test_connect),
		cmocka_unit_test(test_disk_errors),
		cmocka_unit_test(test_clone_name_too_long),
		cmocka_unit_test(test_zvol),
		cmocka_unit_test(test_zvol_property_errors),
		cmocka_unit_test(test_blank_volsize),
		cmocka_unit_test(test_base_snapshot_names),
		cmocka_unit_test(test_render_errors),
		cmocka_unit_test(test_all_errors_at_once),
		cmocka_unit_test(test_first_user),
		cmocka_unit_test(test_meta_data_optional),
		cmocka_unit_test(test_yaml_errors_in_file),
		cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
