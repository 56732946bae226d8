/* SPDX-License-Identifier: MIT */
/* What qvm reads of a domain's XML (domxml.c) and of virt-install's
 * --debug log (virtlog.c). */
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

#include "domxml.h"
#include "strv.h"
#include "virtlog.h"

#define UUID "4b7c5e2a-9d3f-4e1a-8c6b-2f0d1e3a5b7c"

static const char domain[] =
	"<domain type=\"kvm\">\n"
	"  <name>web1</name>\n"
	"  <uuid>4B7C5E2A-9D3F-4E1A-8C6B-2F0D1E3A5B7C</uuid>\n"
	"  <devices>\n"
	"    <disk type=\"block\" device=\"disk\">\n"
	"      <source dev=\"/dev/zvol/tank/web1\"/>\n"
	"      <target dev=\"vda\" bus=\"virtio\"/>\n"
	"    </disk>\n"
	"    <disk type=\"file\" device=\"cdrom\">\n"
	"      <source file='/var/lib/qvm/web1/seed.iso'/>\n"
	"    </disk>\n"
	"    <disk type=\"file\" device=\"cdrom\"><target dev=\"sdb\"/></disk>\n"
	"    <interface type=\"network\"><source network=\"default\"/></interface>\n"
	"  </devices>\n"
	"</domain>\n";

static void parse(const char *xml, struct domxml *x)
{
	char *err = NULL;
	int r = domxml_parse(xml, strlen(xml), x, &err);

	if (r < 0)
		fprintf(stderr, "  %s\n", err ? err : "?");
	assert_int_equal(r, 0);
	assert_null(err);
}

static void test_parse(void **state)
{
	(void)state;
	struct domxml x;

	parse(domain, &x);
	assert_string_equal(x.name, "web1");
	assert_string_equal(x.uuid, UUID);
	/* disks only (not the interface's source), the empty drive left out */
	assert_int_equal(strv_length(x.sources), 2);
	assert_string_equal(x.sources[0], "/dev/zvol/tank/web1");
	assert_string_equal(x.sources[1], "/var/lib/qvm/web1/seed.iso");
	assert_true(domxml_uses(&x, "/dev/zvol/tank/web1"));
	/* exact paths: a prefix or an extension of one is another disk */
	assert_false(domxml_uses(&x, "/dev/zvol/tank/web"));
	assert_false(domxml_uses(&x, "/dev/zvol/tank/web1-data"));
	domxml_clear(&x);
}

static void test_other_storage(void **state)
{
	(void)state;
	struct domxml x;

	/* a backing store is storage the guest reads too, and so are
	 * volumes and network disks */
	parse("<domain><name>a</name><devices>"
	      "<disk type='file'><source file='/a.qcow2'/><backingStore type='file'>"
	      "<source file='/etc/shadow'/></backingStore></disk>"
	      "<disk type='volume'><source pool='p' volume='v'/></disk>"
	      "<disk type='network'><source protocol='rbd' name='pool/img'/></disk>"
	      "<disk type='vhostuser'><source type='unix' path='/run/sock'/></disk>"
	      "<disk type='nvme'><source type='pci'/></disk>"
	      "</devices></domain>", &x);
	assert_int_equal(strv_length(x.sources), 6);
	assert_string_equal(x.sources[1], "/etc/shadow");
	assert_string_equal(x.sources[2], "volume p/v");
	assert_string_equal(x.sources[3], "network rbd pool/img");
	assert_string_equal(x.sources[4], "/run/sock");
	assert_string_equal(x.sources[5], "a source qvm does not know");
	assert_null(x.uuid);
	domxml_clear(&x);
	/* libvirt reads the attribute the disk's type selects: each one counts */
	parse("<domain><name>a</name><devices><disk type='block'>"
	      "<source file='/ok.img' dev='/dev/sda'/></disk></devices></domain>", &x);
	assert_int_equal(strv_length(x.sources), 2);
	assert_string_equal(x.sources[0], "/ok.img");
	assert_string_equal(x.sources[1], "/dev/sda");
	domxml_clear(&x);
}

static void test_bad(void **state)
{
	(void)state;
	struct domxml x;
	char *err = NULL;

	assert_int_equal(domxml_parse("<domain><name>", 14, &x, &err), -EINVAL);
	assert_non_null(strstr(err, "cannot be read"));
	free(err);
	err = NULL;
	assert_int_equal(domxml_parse("<network/>", 10, &x, &err), -EINVAL);
	assert_non_null(strstr(err, "not a libvirt domain"));
	free(err);
	err = NULL;
	/* a second name or uuid, in another namespace or not: refused */
	static const char two[] = "<domain xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>"
				  "<qemu:uuid>" UUID "</qemu:uuid><name>a</name>"
				  "<uuid>99999999-2222-7777-6666-555555555555</uuid></domain>";
	assert_int_equal(domxml_parse(two, strlen(two), &x, &err), -EINVAL);
	assert_non_null(strstr(err, "2 <uuid>"));
	free(err);
	err = NULL;
	/* no entity is expanded, nothing is fetched */
	static const char ent[] = "<!DOCTYPE d [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>"
				  "<domain><name>&e;</name></domain>";
	assert_int_equal(domxml_parse(ent, strlen(ent), &x, &err), 0);
	assert_null(strstr(x.name ? x.name : "", "root:"));
	domxml_clear(&x);
	free(err);
}

static void test_check(void **state)
{
	(void)state;
	struct domxml x;
	char *why = NULL;
	char *paths[] = { "/dev/zvol/tank/web1", "/var/lib/qvm/web1/seed.iso", NULL };
	char *only_boot[] = { "/dev/zvol/tank/web1", NULL };
	char *more[] = { "/dev/zvol/tank/web1", "/var/lib/qvm/web1/seed.iso", "/dev/zvol/tank/web1-data", NULL };
	char *allowed[] = { "/var/lib/qvm/web1/seed.iso", NULL };

	parse(domain, &x);
	assert_int_equal(domxml_check(&x, "web1", UUID, paths, NULL, &why), 0);
	assert_null(why);
	assert_int_equal(domxml_check(&x, "web2", UUID, paths, NULL, &why), -EINVAL);
	assert_non_null(strstr(why, "named the domain 'web1', not 'web2'"));
	free(why);
	assert_int_equal(domxml_check(&x, "web1", "00000000-0000-4000-8000-000000000000", paths, NULL, &why),
			 -EINVAL);
	assert_non_null(strstr(why, "UUID"));
	free(why);
	/* a disk qvm did not make */
	assert_int_equal(domxml_check(&x, "web1", UUID, only_boot, NULL, &why), -EPERM);
	assert_non_null(strstr(why, "/var/lib/qvm/web1/seed.iso"));
	free(why);
	/* ...unless the file names it itself */
	assert_int_equal(domxml_check(&x, "web1", UUID, only_boot, allowed, &why), 0);
	/* a relative path, even one the file names */
	{
		struct domxml rel;
		char *rel_allowed[] = { "etc/shadow", NULL };
		parse("<domain><name>web1</name><uuid>" UUID "</uuid><devices>"
		      "<disk><source dev='/dev/zvol/tank/web1'/></disk><disk><source file='/var/lib/qvm/web1/seed.iso'/></disk>"
		      "<disk><source file='etc/shadow'/></disk></devices></domain>", &rel);
		assert_int_equal(domxml_check(&rel, "web1", UUID, paths, rel_allowed, &why), -EPERM);
		assert_non_null(strstr(why, "relative path"));
		free(why);
		domxml_clear(&rel);
	}
	/* a disk qvm made that the domain would not use */
	assert_int_equal(domxml_check(&x, "web1", UUID, more, NULL, &why), -EINVAL);
	assert_non_null(strstr(why, "would not use /dev/zvol/tank/web1-data"));
	free(why);
	domxml_clear(&x);
}

static void test_split(void **state)
{
	(void)state;
	char **docs = NULL;

	assert_int_equal(domxml_split("<domain type=\"test\">\n  <name>a</name>\n</domain>\n", &docs), 0);
	assert_int_equal(strv_length(docs), 1);
	strv_free(docs);
	docs = NULL;
	/* an install with its own phase: the install-time domain, then the final one */
	assert_int_equal(domxml_split("<domain type=\"test\">\n  <name>a</name>\n</domain>\n"
				      "<domain type=\"test\">\n  <name>a</name>\n  <domain-ish/>\n</domain>\n",
				      &docs), 0);
	assert_int_equal(strv_length(docs), 2);
	assert_non_null(strstr(docs[1], "domain-ish"));
	assert_null(strstr(docs[0], "domain-ish"));
	strv_free(docs);
	docs = NULL;
	assert_int_equal(domxml_split("Dry run completed successfully\n", &docs), -EINVAL);
	assert_int_equal(domxml_split("<domainx>\n", &docs), -EINVAL);
}

static void test_virtlog(void **state)
{
	(void)state;
	char *out = virtlog_filter(
		"usage: virt-install --name NAME\n"
		"[Fri, 04 Dec 2026 20:40:31 virt-install 27291] DEBUG (cli:204) Version 4.1.0 launched\n"
		"<domain>debug continuation</domain>\n"
		"[Fri, 04 Dec 2026 20:40:31 virt-install 27291] WARNING (virtinstall:373) Using --osinfo generic\n"
		"[Fri, 04 Dec 2026 20:40:31 virt-install 27291] ERROR (cli:257) Unknown OS name 'x'.\n"
		"second line of the error\n"
		"[Fri, 04 Dec 2026 20:40:31 virt-install 27291] DEBUG (cli:259) \n"
		"Traceback (most recent call last):\n");

	assert_string_equal(out, "usage: virt-install --name NAME\n"
				 "WARNING  Using --osinfo generic\n"
				 "ERROR    Unknown OS name 'x'.\n"
				 "second line of the error\n");
	free(out);
	out = virtlog_filter(NULL);
	assert_string_equal(out, "");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_other_storage),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_virtlog),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
