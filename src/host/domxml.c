/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "cleanup.h"
#include "domxml.h"
#include "dynlib.h"
#include "strv.h"
#include "banned.h"

/* libxml2 is loaded when a domain's XML is first read (see dynlib.h): every
 * other qvm run would pay for it and the ICU it links. */
#define XML_FUNCS(X) \
	X(xmlReadMemory) \
	X(xmlFreeDoc) \
	X(xmlDocGetRootElement) \
	X(xmlGetLastError) \
	X(xmlSetProp) \
	X(xmlUnsetProp) \
	X(xmlDocDumpMemory)

static union {
	struct {
		XML_FUNCS(DYNLIB_MEMBER)
	};
	void *slot[0 XML_FUNCS(DYNLIB_COUNT)];
} xml_api;
static const char *const xml_names[] = { XML_FUNCS(DYNLIB_NAME) };

static int xml_load(char **err)
{
	static int loaded;
	static char *why;

	if (loaded)
		return 0;
	if (!why && dynlib_load("libxml2.so.2", "libxml2", xml_names, xml_api.slot,
				sizeof(xml_names) / sizeof(xml_names[0]), &why) == 0) {
		loaded = 1;
		return 0;
	}
	*err = strdup(why ? why : "cannot load libxml2.so.2");
	return -ENOSYS;
}

static int is_element(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

/* An attribute's text, without allocating: NULL if absent. */
static const char *attr(const xmlNode *n, const char *name)
{
	for (const xmlAttr *a = n->properties; a; a = a->next)
		if (strcmp((const char *)a->name, name) == 0)
			return a->children && a->children->content ? (const char *)a->children->content : "";
	return NULL;
}

/* An element's text: its one text child ("" when empty). */
static const char *text(const xmlNode *n)
{
	for (const xmlNode *c = n->children; c; c = c->next)
		if (c->type == XML_TEXT_NODE && c->content)
			return (const char *)c->content;
	return "";
}

/* One <source>: every storage it names. libvirt reads the attribute that
 * the disk's type selects (file, dev, dir, ...), so each one present is
 * counted: a <source file='allowed' dev='/dev/sda'/> of a type='block' disk
 * is /dev/sda to libvirt. */
static int add_source(char ***out, const xmlNode *src)
{
	static const char *const paths[] = { "file", "dev", "dir", "path", "socket" };
	const char *v;
	size_t before = strv_length(*out);

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if ((v = attr(src, paths[i])) && strv_push(out, v) < 0)
			return -ENOMEM;
	if ((v = attr(src, "volume")) &&
	    strv_pushf(out, "volume %s/%s", attr(src, "pool") ? attr(src, "pool") : "?", v) < 0)
		return -ENOMEM;
	if ((v = attr(src, "protocol")) &&
	    strv_pushf(out, "network %s %s", v, attr(src, "name") ? attr(src, "name") : "?") < 0)
		return -ENOMEM;
	if (strv_length(*out) == before && strv_push(out, "a source qvm does not know") < 0)
		return -ENOMEM;
	return 0;
}

/* Every <source> below a disk, backing stores and data stores included:
 * each is storage the guest reads. */
static int collect_sources(char ***out, const xmlNode *n, unsigned depth)
{
	if (depth > 64)
		return -EINVAL;
	for (const xmlNode *c = n->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is_element(c, "source") && add_source(out, c) < 0)
			return -ENOMEM;
		int r = collect_sources(out, c, depth + 1);
		if (r < 0)
			return r;
	}
	return 0;
}

int domxml_parse(const char *xml, size_t len, struct domxml *out, char **err)
{
	xmlDoc *doc;
	const xmlNode *root;
	int r = 0;

	memset(out, 0, sizeof(*out));
	*err = NULL;
	if (xml_load(err) < 0)
		return -ENOSYS;
	if (len > 64u << 20) {
		*err = strdup("the domain XML is larger than 64 MiB");
		return -EINVAL;
	}
	/* no network, no entity expansion, no DTD loading: the text is all */
	doc = xml_api.xmlReadMemory(xml, (int)len, "domain.xml", NULL,
				    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc) {
		const xmlError *e = xml_api.xmlGetLastError();
		char *msg = e && e->message ? strdup(e->message) : NULL;
		if (msg)
			msg[strcspn(msg, "\n")] = '\0';
		if (asprintf(err, "the domain XML cannot be read: %s", msg ? msg : "not XML") < 0)
			*err = NULL;
		free(msg);
		return -EINVAL;
	}
	root = xml_api.xmlDocGetRootElement(doc);
	if (!root || !is_element(root, "domain")) {
		xml_api.xmlFreeDoc(doc);
		*err = strdup("the XML is not a libvirt domain (its root is not <domain>)");
		return -EINVAL;
	}
	/* elements are matched by their local name whatever their namespace,
	 * and a second <name> or <uuid> (a <qemu:uuid> before the real one)
	 * is refused: qvm must read what libvirt reads, or refuse */
	unsigned names = 0, uuids = 0;
	for (const xmlNode *c = root->children; c && r == 0; c = c->next) {
		if (is_element(c, "name")) {
			if (names++ == 0 && !(out->name = strdup(text(c))))
				r = -ENOMEM;
		} else if (is_element(c, "uuid")) {
			if (uuids++ == 0 && !(out->uuid = strdup(text(c))))
				r = -ENOMEM;
			for (char *p = out->uuid; p && *p; p++)
				*p = (char)tolower((unsigned char)*p);
		} else if (is_element(c, "devices")) {
			for (const xmlNode *d = c->children; d && r == 0; d = d->next)
				if (is_element(d, "disk"))
					r = collect_sources(&out->sources, d, 0);
		}
	}
	if (r == 0 && (names > 1 || uuids > 1)) {
		xml_api.xmlFreeDoc(doc);
		domxml_clear(out);
		if (asprintf(err, "the domain XML has %u <name> and %u <uuid> elements, not one each", names,
			     uuids) < 0)
			*err = NULL;
		return -EINVAL;
	}
	xml_api.xmlFreeDoc(doc);
	if (r < 0) {
		domxml_clear(out);
		if (r == -EINVAL)
			*err = strdup("the domain XML nests too deep");
		return r;
	}
	return 0;
}

void domxml_clear(struct domxml *d)
{
	free(d->name);
	free(d->uuid);
	strv_free(d->sources);
	memset(d, 0, sizeof(*d));
}

int domxml_uses(const struct domxml *d, const char *path)
{
	for (size_t i = 0; d->sources && d->sources[i]; i++)
		if (strcmp(d->sources[i], path) == 0)
			return 1;
	return 0;
}

int domxml_split(const char *text, char ***docs)
{
	/* virt-install prints each document from a "<domain" line at column 0
	 * (libvirt's and virtinst's formatting); the next one starts the same way */
	const char *start = NULL;

	*docs = NULL;
	for (const char *p = text; *p; p += strcspn(p, "\n"), p += *p == '\n') {
		if (strncmp(p, "<domain", 7) != 0 || (p[7] != ' ' && p[7] != '>'))
			continue;
		if (start && strv_consume(docs, strndup(start, (size_t)(p - start))) < 0)
			return -ENOMEM;
		start = p;
	}
	if (!start)
		return -EINVAL;
	return strv_push(docs, start);
}

int domxml_check(const struct domxml *x, const char *name, const char *uuid, char *const *paths,
		 char *const *allowed, char **why)
{
	*why = NULL;
	if (!x->name || strcmp(x->name, name) != 0) {
		if (asprintf(why, "virt-install named the domain '%s', not '%s'", x->name ? x->name : "", name) < 0)
			*why = NULL;
		return -EINVAL;
	}
	if (!x->uuid || strcmp(x->uuid, uuid) != 0) {
		if (asprintf(why, "virt-install gave the domain UUID %s, not %s", x->uuid ? x->uuid : "(none)",
			     uuid) < 0)
			*why = NULL;
		return -EINVAL;
	}
	for (size_t i = 0; x->sources && x->sources[i]; i++) {
		bool ours = false;
		/* libvirt and QEMU would resolve a relative path against their
		 * own working directory, not qvm's */
		if (x->sources[i][0] != '/' && strncmp(x->sources[i], "volume ", 7) != 0 &&
		    strncmp(x->sources[i], "network ", 8) != 0) {
			if (asprintf(why, "the domain would use %s, a relative path", x->sources[i]) < 0)
				*why = NULL;
			return -EPERM;
		}
		for (size_t j = 0; paths[j] && !ours; j++)
			ours = strcmp(x->sources[i], paths[j]) == 0;
		for (size_t j = 0; allowed && allowed[j] && !ours; j++)
			ours = strcmp(x->sources[i], allowed[j]) == 0;
		if (!ours) {
			if (asprintf(why, "the domain would use %s, which is neither a disk qvm made nor an existing "
				     "file or device the file's disk entries name as their path", x->sources[i]) < 0)
				*why = NULL;
			return -EPERM;
		}
	}
	for (size_t j = 0; paths[j]; j++) {
		if (!domxml_uses(x, paths[j])) {
			if (asprintf(why, "the domain would not use %s", paths[j]) < 0)
				*why = NULL;
			return -EINVAL;
		}
	}
	return 0;
}

/* The <source> of a cdrom <disk> that names stand_in (as file or dev), or NULL. */
static xmlNode *stand_in_source(xmlNode *disk, const char *stand_in)
{
	const char *dev = attr(disk, "device");

	if (!dev || strcmp(dev, "cdrom") != 0)
		return NULL;
	for (xmlNode *c = disk->children; c; c = c->next) {
		const char *f, *d;
		if (!is_element(c, "source"))
			continue;
		f = attr(c, "file");
		d = attr(c, "dev");
		if ((f && strcmp(f, stand_in) == 0) || (d && strcmp(d, stand_in) == 0))
			return c;
	}
	return NULL;
}

int domxml_put_seed(const char *xml, const char *stand_in, const char *seed, char **out, char **err)
{
	xmlDoc *doc;
	xmlNode *root, *disk = NULL, *src = NULL;
	xmlChar *text = NULL;
	int len = 0, found = 0;

	*out = NULL;
	if (xml_load(err) < 0)
		return -ENOSYS;
	doc = xml_api.xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
				    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	root = doc ? xml_api.xmlDocGetRootElement(doc) : NULL;
	for (xmlNode *c = root ? root->children : NULL; c; c = c->next) {
		if (!is_element(c, "devices"))
			continue;
		for (xmlNode *d = c->children; d; d = d->next) {
			xmlNode *s = is_element(d, "disk") ? stand_in_source(d, stand_in) : NULL;
			if (s) {
				found++;
				disk = d;
				src = s;
			}
		}
	}
	if (found != 1) {
		if (doc)
			xml_api.xmlFreeDoc(doc);
		*err = strdupf("virt-install's XML has %d CD-ROM disks of %s where qvm expects one, the seed's",
			       found, stand_in);
		return -EPROTO;
	}
	/* a plain file, whatever virt-install guessed a remote path to be */
	if (!xml_api.xmlSetProp(disk, (const xmlChar *)"type", (const xmlChar *)"file") ||
	    !xml_api.xmlSetProp(src, (const xmlChar *)"file", (const xmlChar *)seed)) {
		xml_api.xmlFreeDoc(doc);
		return -ENOMEM;
	}
	xml_api.xmlUnsetProp(src, (const xmlChar *)"dev");
	xml_api.xmlDocDumpMemory(doc, &text, &len);
	xml_api.xmlFreeDoc(doc);
	if (!text)
		return -ENOMEM;
	/* libxml2's default allocator is malloc's */
	*out = (char *)text;
	return 0;
}

int domxml_pool_target(const char *xml, char **path, char **err)
{
	xmlDoc *doc;
	const xmlNode *root;

	*path = NULL;
	if (xml_load(err) < 0)
		return -ENOSYS;
	doc = xml_api.xmlReadMemory(xml, (int)strlen(xml), "pool.xml", NULL,
				    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	root = doc ? xml_api.xmlDocGetRootElement(doc) : NULL;
	if (!root || !is_element(root, "pool")) {
		if (doc)
			xml_api.xmlFreeDoc(doc);
		*err = strdup("not a storage pool's XML");
		return -EINVAL;
	}
	for (const xmlNode *c = root->children; c && !*path; c = c->next)
		if (is_element(c, "target"))
			for (const xmlNode *t = c->children; t && !*path; t = t->next)
				if (is_element(t, "path") && !(*path = strdup(text(t)))) {
					xml_api.xmlFreeDoc(doc);
					return -ENOMEM;
				}
	xml_api.xmlFreeDoc(doc);
	return 0;
}
