/* SPDX-License-Identifier: MIT */
/* user-data and meta-data as written into the seed, and the YAML emitter's
 * round trip. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cloudinit.h"
#include "qvmfile.h"
#include "strv.h"
#include "yamltree.h"

#define VM "qvm: vm\nname: web1\ndisk:\n  zvol:\n    base: tank/images/deb12\n"

static struct qvm_file *load(const char *yaml)
{
	struct qvm_file *f = NULL;
	char **errors = NULL;
	int r = qvm_file_parse(yaml, strlen(yaml), &f, &errors);

	for (size_t i = 0; errors && errors[i]; i++)
		fprintf(stderr, "  error: %s\n", errors[i]);
	assert_int_equal(r, 0);
	return f;
}

/* What a YAML loader would make of a scalar's type: plain untagged scalars
 * are resolved (bool, int, null...), anything quoted, block or tagged "!"
 * is a string, other tags say it themselves. */
static const char *scalar_type(const struct ynode *n)
{
	if (n->tag && strcmp(n->tag, "!") != 0)
		return n->tag;
	if (n->tag || n->style != YSTYLE_PLAIN)
		return "(string)";
	return "(plain)";
}

/* Same data, same key order, same types. */
static bool tree_equal(const struct ynode *a, const struct ynode *b, char *why, size_t whylen)
{
	if (!a || !b) {
		snprintf(why, whylen, "one side is NULL");
		return a == b;
	}
	if (a->kind != b->kind) {
		snprintf(why, whylen, "kinds differ at %u:%u", a->line, a->col);
		return false;
	}
	if (a->kind == YNODE_SCALAR) {
		if (yscalar_is_null(a) && yscalar_is_null(b))
			return true;
		if (a->len != b->len || memcmp(a->value, b->value, a->len) != 0) {
			snprintf(why, whylen, "values differ at %u:%u: '%s' vs '%s'", a->line, a->col, a->value,
				 b->value);
			return false;
		}
		if (strcmp(scalar_type(a), scalar_type(b)) != 0) {
			snprintf(why, whylen, "types differ at %u:%u ('%s'): %s vs %s", a->line, a->col, a->value,
				 scalar_type(a), scalar_type(b));
			return false;
		}
		return true;
	}
	if ((a->tag || b->tag) && (!a->tag || !b->tag || strcmp(a->tag, b->tag) != 0) &&
	    !(a->tag && strcmp(a->tag, "!") == 0 && !b->tag)) {
		snprintf(why, whylen, "collection tags differ at %u:%u", a->line, a->col);
		return false;
	}
	if (a->n != b->n) {
		snprintf(why, whylen, "sizes differ at %u:%u: %zu vs %zu", a->line, a->col, a->n, b->n);
		return false;
	}
	for (size_t i = 0; i < a->n; i++) {
		if (a->kind == YNODE_MAPPING && !tree_equal(a->keys[i], b->keys[i], why, whylen))
			return false;
		if (!tree_equal(a->items[i], b->items[i], why, whylen))
			return false;
	}
	return true;
}

/* Emits doc, parses the text, compares. Returns the text. */
static char *round_trip(const struct ynode *doc, const char *header)
{
	struct ystream *s = NULL;
	char *out = NULL, *err = NULL, why[512] = "";
	size_t len = 0;

	assert_int_equal(yaml_emit(doc, header, &out, &len), 0);
	assert_int_equal(strlen(out), len);
	if (ystream_parse(out, len, &s, &err) != 0) {
		fprintf(stderr, "  cannot parse emitted text (%s):\n%s\n", err, out);
		fail();
	}
	assert_int_equal(s->n, 1);
	if (!tree_equal(doc, s->docs[0].root, why, sizeof(why))) {
		fprintf(stderr, "  round trip changed the data: %s\n%s\n", why, out);
		fail();
	}
	ystream_free(s);
	return out;
}

static void round_trip_text(const char *yaml)
{
	struct ystream *s = NULL;
	char *err = NULL;

	if (ystream_parse(yaml, strlen(yaml), &s, &err) != 0) {
		fprintf(stderr, "  bad test input: %s\n", err);
		fail();
	}
	for (size_t i = 0; i < s->n; i++)
		free(round_trip(s->docs[i].root, NULL));
	ystream_free(s);
}

static void test_user_data(void **state)
{
	(void)state;
	struct qvm_file *f = load(VM
		"---\n"
		"qvm: user-data\n"
		"users:\n"
		"  - name: admin\n"
		"    ssh_authorized_keys: [\"ssh-ed25519 AAAA... admin@host\"]\n"
		"runcmd:\n"
		"  - [sh, -c, \"echo provisioned > /root/qvm-ok\"]\n"
		"---\n"
		"qvm: meta-data\n");
	char *out = NULL;
	size_t len = 0;

	assert_int_equal(cloudinit_user_data(f, &out, &len), 0);
	assert_int_equal(strlen(out), len);
	assert_string_equal(out,
		"#cloud-config\n"
		"users:\n"
		"- name: admin\n"
		"  ssh_authorized_keys:\n"
		"  - \"ssh-ed25519 AAAA... admin@host\"\n"
		"runcmd:\n"
		"- - sh\n"
		"  - -c\n"
		"  - \"echo provisioned > /root/qvm-ok\"\n");
	free(out);
	free(round_trip(f->user_data, "#cloud-config\n"));
	qvm_file_free(f);
}

static void test_user_data_empty(void **state)
{
	(void)state;
	struct qvm_file *f = load(VM "---\nqvm: user-data\n---\nqvm: meta-data\n");
	char *out = NULL;
	size_t len = 0;

	assert_int_equal(cloudinit_user_data(f, &out, &len), 0);
	assert_string_equal(out, "#cloud-config\n{}\n");
	free(out);
	qvm_file_free(f);
}

static void test_block_scalars(void **state)
{
	(void)state;
	struct qvm_file *f = load(VM
		"---\n"
		"qvm: user-data\n"
		"write_files:\n"
		"  - path: /etc/motd\n"
		"    content: \"line one\\nline two\\n\"\n"
		"  - path: /etc/issue\n"
		"    content: >\n"
		"      folded\n"
		"      text\n"
		"\n"
		"      para\n"
		"bootcmd:\n"
		"  - |\n"
		"    set -e\n"
		"    echo hi\n"
		"  - \"no newline at end\\nsecond\"\n"
		"  - \"  indented first\\nline\\n\"\n"
		"  - \"kept\\n\\n\"\n"
		"---\n"
		"qvm: meta-data\n");
	char *out = NULL;
	size_t len = 0;

	assert_int_equal(cloudinit_user_data(f, &out, &len), 0);
	assert_string_equal(out,
		"#cloud-config\n"
		"write_files:\n"
		"- path: /etc/motd\n"
		"  content: |\n"
		"    line one\n"
		"    line two\n"
		"- path: /etc/issue\n"
		"  content: |\n"
		"    folded text\n"
		"    para\n"
		"bootcmd:\n"
		"- |\n"
		"  set -e\n"
		"  echo hi\n"
		"- |-\n"
		"  no newline at end\n"
		"  second\n"
		"- |2\n"
		"    indented first\n"
		"  line\n"
		"- |+\n"
		"  kept\n"
		"\n"
		"...\n");
	free(out);
	free(round_trip(f->user_data, "#cloud-config\n"));
	qvm_file_free(f);
}

static void test_meta_data_defaults(void **state)
{
	(void)state;
	struct qvm_file *f;
	char *out = NULL;
	size_t len = 0;

	f = load(VM "---\nqvm: user-data\n---\nqvm: meta-data\n");
	assert_int_equal(cloudinit_meta_data(f, &out, &len), 0);
	assert_int_equal(strlen(out), len);
	assert_string_equal(out, "instance-id: web1\nlocal-hostname: web1\n");
	assert_int_equal(f->meta_data->n, 0);   /* the document is unchanged */
	free(out);
	qvm_file_free(f);

	f = load(VM "---\nqvm: user-data\n---\nqvm: meta-data\ninstance-id: iid-42\n");
	assert_int_equal(cloudinit_meta_data(f, &out, &len), 0);
	assert_string_equal(out, "instance-id: iid-42\nlocal-hostname: web1\n");
	free(out);
	qvm_file_free(f);

	f = load(VM "---\nqvm: meta-data\nlocal-hostname: www\nnetwork-interfaces: |\n  auto eth0\n"
		 "instance-id: x\n---\nqvm: user-data\n");
	assert_int_equal(cloudinit_meta_data(f, &out, &len), 0);
	assert_string_equal(out, "local-hostname: www\nnetwork-interfaces: |\n  auto eth0\ninstance-id: x\n");
	free(out);
	qvm_file_free(f);

	/* present but empty counts as given */
	f = load(VM "---\nqvm: meta-data\ninstance-id:\n---\nqvm: user-data\n");
	assert_int_equal(cloudinit_meta_data(f, &out, &len), 0);
	assert_string_equal(out, "instance-id:\nlocal-hostname: web1\n");
	free(out);
	qvm_file_free(f);
}

static void test_meta_data_name_types(void **state)
{
	(void)state;
	/* names YAML would read as numbers, booleans or null stay strings */
	static const struct { const char *name, *expect; } cases[] = {
		{ "123", "'123'" }, { "1e3", "'1e3'" }, { "0x1F", "'0x1F'" }, { "2024-01-01", "'2024-01-01'" },
		{ "yes", "'yes'" }, { "No", "'No'" }, { "on", "'on'" }, { "y", "'y'" }, { "NULL", "'NULL'" },
		{ "_x", "'_x'" }, { "web-1.lan", "web-1.lan" }, { "e1", "e1" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *yaml = NULL, *out = NULL, *exp = NULL;
		struct qvm_file *f;
		size_t len;

		assert_true(asprintf(&yaml, "qvm: vm\nname: '%s'\ndisk: {zvol: {base: tank/i/d}}\n---\n"
				     "qvm: user-data\n---\nqvm: meta-data\n", cases[i].name) > 0);
		f = load(yaml);
		assert_int_equal(cloudinit_meta_data(f, &out, &len), 0);
		assert_true(asprintf(&exp, "instance-id: %s\nlocal-hostname: %s\n", cases[i].expect,
				     cases[i].expect) > 0);
		assert_string_equal(out, exp);
		free(exp);
		free(out);
		free(yaml);
		qvm_file_free(f);
	}
}

static void test_round_trip(void **state)
{
	(void)state;
	round_trip_text(
		"plain: text\n"
		"int: 42\n"
		"octal: 010\n"
		"hex: 0x1F\n"
		"float: 1.5e3\n"
		"bools: [yes, No, TRUE, off, y]\n"
		"nulls: [~, null, '', \"\", 'null', \"~\"]\n"
		"empty:\n"
		"quoted: ['yes', \"123\", '1.0', \"true\"]\n"
		"single: 'it''s'\n"
		"double: \"tab\\there\"\n"
		"colon: \"a: b\"\n"
		"hash: \"a #b\"\n"
		"lead: \"  two spaces\"\n"
		"trail: \"trailing  \"\n"
		"cr: \"a\\rb\"\n"
		"nul: \"a\\0b\"\n"
		"bell: \"\\a\"\n"
		"unicode: \"caf\\u00e9 \\u4e2d\\u6587\"\n"
		"emoji: \"\\U0001F600\"\n"
		"dash: \"- item\"\n"
		"star: \"*notalias\"\n"
		"amp: \"&notanchor\"\n"
		"brace: \"{a: 1}\"\n"
		"bracket: \"[1]\"\n"
		"question: \"? x\"\n"
		"percent: \"%x\"\n"
		"at: \"@x\"\n"
		"backtick: \"`x`\"\n"
		"multi: \"l1\\nl2\"\n"
		"multi_trailing_space: \"l1 \\nl2\"\n"
		"multi_lead_nl: \"\\nl1\\n\"\n"
		"only_nl: \"\\n\"\n"
		"keep: \"x\\n\\n\\n\"\n"
		"folded: >\n  a\n  b\n"
		"literal: |\n  a\n   b\n"
		"\"quoted key\": 1\n"
		"'yes': key is a string\n"
		"? [complex, key]\n"
		": v\n"
		"? {a: 1}\n"
		": w\n"
		"123: int key\n"
		"emptymap: {}\n"
		"emptyseq: []\n"
		"nested: [[1, [2, [3]]], {a: {b: {c: [d]}}}]\n"
		"tags: [!!str 1, !!int \"2\", !!float 3, !custom x, ! 4, !!binary aGk=]\n"
		"tagged_map: !!map {a: 1}\n"
		"tagged_seq: !custom [1]\n"
		"alias_src: &a {k: v}\n"
		"alias_use: *a\n"
		"merge:\n  <<: *a\n  k2: v2\n");
	round_trip_text("- just\n- a\n- list\n");
	round_trip_text("scalar root\n");
	round_trip_text("--- |\n  block root\n");
	round_trip_text("users:\n  - default\n  - name: x\n    groups: [a, b]\n    sudo: ALL=(ALL) NOPASSWD:ALL\n");
}

static void test_long_lines(void **state)
{
	(void)state;
	char *long_value = malloc(3001), *yaml = NULL, *out;
	struct ystream *s = NULL;
	char *err = NULL;

	for (int i = 0; i < 3000; i++)
		long_value[i] = i % 10 == 9 ? ' ' : 'a';
	long_value[3000] = '\0';
	assert_true(asprintf(&yaml, "k: x%sx\nq: 'x%sx'\n", long_value, long_value) > 0);
	assert_int_equal(ystream_parse(yaml, strlen(yaml), &s, &err), 0);
	out = round_trip(s->docs[0].root, NULL);
	/* no folding: two lines */
	size_t lines = 0;
	for (char *p = out; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 2);
	free(out);
	ystream_free(s);
	free(yaml);
	free(long_value);
}

static void test_emit_null_root(void **state)
{
	(void)state;
	char *out = NULL;
	size_t len = 1;

	assert_int_equal(yaml_emit(NULL, "#h\n", &out, &len), 0);
	assert_string_equal(out, "#h\n");
	assert_int_equal(len, 3);
	free(out);
	assert_int_equal(yaml_emit(NULL, NULL, &out, &len), 0);
	assert_string_equal(out, "");
	assert_int_equal(len, 0);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_user_data),
		cmocka_unit_test(test_user_data_empty),
		cmocka_unit_test(test_block_scalars),
		cmocka_unit_test(test_meta_data_defaults),
		cmocka_unit_test(test_meta_data_name_types),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_emit_null_root),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
