/* SPDX-License-Identifier: MIT */
/* libvirt domains through the libvirt C API (never by parsing virsh). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "cleanup.h"
#include "domain.h"
#include "remote.h"
#include "strv.h"
#include "domxml.h"
#include "dynlib.h"
#include "ipaddr.h"
#include "msgtext.h"
#include "names.h"
#include "banned.h"

/* The libvirt functions qvm calls, looked up when a command first needs
 * libvirt (see dynlib.h). */
#define LIBVIRT_FUNCS(X) \
	X(virConnectClose) \
	X(virConnectOpen) \
	X(virConnectOpenReadOnly) \
	X(virConnectGetURI) \
	X(virConnectIsAlive) \
	X(virDomainCreate) \
	X(virDomainCreateXML) \
	X(virDomainDefineXML) \
	X(virDomainDefineXMLFlags) \
	X(virDomainDestroy) \
	X(virDomainFree) \
	X(virDomainGetInfo) \
	X(virDomainGetName) \
	X(virDomainGetUUIDString) \
	X(virDomainGetXMLDesc) \
	X(virDomainInterfaceAddresses) \
	X(virDomainInterfaceFree) \
	X(virDomainIsActive) \
	X(virDomainIsPersistent) \
	X(virDomainLookupByName) \
	X(virDomainLookupByUUIDString) \
	X(virDomainSetAutostart) \
	X(virDomainUndefine) \
	X(virDomainUndefineFlags) \
	X(virGetLastErrorCode) \
	X(virGetLastErrorMessage) \
	X(virNodeGetFreeMemory) \
	X(virConnectListAllStoragePools) \
	X(virStoragePoolDestroy) \
	X(virStoragePoolFree) \
	X(virStoragePoolGetUUIDString) \
	X(virStoragePoolGetXMLDesc) \
	X(virStoragePoolIsActive) \
	X(virStoragePoolLookupByUUIDString) \
	X(virStoragePoolUndefine) \
	X(virSetErrorFunc)

static union {
	struct {
		LIBVIRT_FUNCS(DYNLIB_MEMBER)
	};
	void *slot[0 LIBVIRT_FUNCS(DYNLIB_COUNT)];
} lv_api;

static const char *const lv_names[] = { LIBVIRT_FUNCS(DYNLIB_NAME) };
#define LV_COUNT (sizeof(lv_names) / sizeof(lv_names[0]))

/* NULL until libvirt is loaded */
static __typeof__(lv_api) *lv;
static char *lv_err;

static void quiet_errors(void *data, virErrorPtr e);

/* Loads libvirt once; lv stays NULL, with the reason in lv_err, if it cannot be. */
static void lv_load(void)
{
	if (lv || lv_err)
		return;
	if (dynlib_load("libvirt.so.0", "libvirt0", lv_names, lv_api.slot, LV_COUNT, &lv_err) < 0)
		return;
	lv = &lv_api;
	/* libvirt prints every error to stderr by default; qvm reports its own */
	lv->virSetErrorFunc(NULL, quiet_errors);
}

void domains_preload(void)
{
	lv_load();
}

struct conn {
	char *uri;                   /* "" for the default */
	virConnectPtr c;
};

struct domains {
	bool read_only;
	struct conn *conns;
	size_t n;
};

static void quiet_errors(void *data, virErrorPtr e)
{
	(void)data;
	(void)e;
}

struct domains *domains_new(bool read_only)
{
	struct domains *d = calloc(1, sizeof(*d));

	if (d)
		d->read_only = read_only;
	lv_load();
	return d;
}

void domains_free(struct domains *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		if (d->conns[i].c)
			lv->virConnectClose(d->conns[i].c);
		free(d->conns[i].uri);
	}
	free(d->conns);
	free(d);
}

/* "what: libvirt's message", its lines joined with "; " (the schema
 * validator's messages run over several): one line of an error message. */
static char *last_error(const char *what)
{
	const char *msg = lv->virGetLastErrorMessage();
	size_t len;
	char *s, *o;

	if (!msg)
		msg = "unknown libvirt error";
	len = strlen(what) + 2 + 2 * strlen(msg) + 1;
	s = malloc(len);
	if (!s)
		return NULL;
	o = s + snprintf(s, len, "%s: ", what);
	for (const char *p = msg; *p; p++) {
		if (*p != '\n') {
			*o++ = *p;
			continue;
		}
		while (o > s && (o[-1] == ' ' || o[-1] == '\t'))
			o--;
		if (p[1] && p[1] != '\n') {
			*o++ = ';';
			*o++ = ' ';
		}
	}
	while (o > s && (o[-1] == ' ' || o[-1] == ';'))
		o--;
	*o = '\0';
	return s;
}

/* The connection for uri, opened on first use. NULL with *err on failure. */
static virConnectPtr conn_get(struct domains *d, const char *uri, char **err)
{
	struct conn *n;
	virConnectPtr c;

	if (!uri)
		uri = "";
	for (size_t i = 0; i < d->n; i++) {
		if (strcmp(d->conns[i].uri, uri) != 0)
			continue;
		/* one that broke (its ssh ended, libvirtd restarted) is opened
		 * again: a rollback must not fail for an old connection */
		if (lv->virConnectIsAlive(d->conns[i].c) != 0)
			return d->conns[i].c;
		lv->virConnectClose(d->conns[i].c);
		free(d->conns[i].uri);
		d->conns[i] = d->conns[--d->n];
		break;
	}
	if (!lv) {
		*err = strdup(lv_err ? lv_err : "cannot load libvirt.so.0");
		return NULL;
	}
	/* a URI from a volume's marks: whoever set it chose no program to run */
	const char *why;
	if (*uri && !libvirt_uri_safe(uri, &why)) {
		char t[300];
		msg_text(t, sizeof(t), uri, strlen(uri));
		if (asprintf(err, "refusing to connect to '%s': %s", t, why) < 0)
			*err = NULL;
		return NULL;
	}
	/* the run's remote host: through qvm's own ssh connection */
	_cleanup_free_ char *via = *uri ? remote_libvirt_uri(uri) : NULL;
	if (*uri && !via) {
		*err = strdup("out of memory");
		return NULL;
	}
	c = d->read_only ? lv->virConnectOpenReadOnly(via) : lv->virConnectOpen(via);
	if (!c) {
		_cleanup_free_ char *what = NULL;
		if (asprintf(&what, "cannot connect to %s", *uri ? uri : "the default libvirt URI") < 0)
			what = NULL;
		*err = last_error(what ? what : "cannot connect to libvirt");
		return NULL;
	}
	n = realloc(d->conns, (d->n + 1) * sizeof(*n));
	if (!n || !(uri = strdup(uri))) {
		if (n)
			d->conns = n;
		lv->virConnectClose(c);
		*err = strdup("out of memory");
		return NULL;
	}
	d->conns = n;
	d->conns[d->n].uri = (char *)uri;
	d->conns[d->n].c = c;
	d->n++;
	return c;
}

/* The domain ref names: by UUID on its URI, by name only for a VM made
 * before qvm recorded UUIDs. NULL with *err NULL if there is none, NULL
 * with *err set on failure. */
static virDomainPtr lookup(struct domains *d, const struct domain_ref *ref, char **err)
{
	virConnectPtr c;
	virDomainPtr dom;

	*err = NULL;
	c = conn_get(d, ref->uri, err);
	if (!c) {
		if (!*err)
			*err = strdup("cannot connect to libvirt");
		return NULL;
	}
	/* the C API looks up exactly what it is asked: no ID or UUID is
	 * tried for a name, as virsh does */
	dom = ref->uuid ? lv->virDomainLookupByUUIDString(c, ref->uuid) : lv->virDomainLookupByName(c, ref->name);
	if (!dom && lv->virGetLastErrorCode() != VIR_ERR_NO_DOMAIN)
		*err = last_error("cannot look up the domain");
	return dom;
}

int domains_uri(struct domains *d, const char *uri, char **canonical, char **err)
{
	virConnectPtr c;
	char *u;

	*canonical = NULL;
	*err = NULL;
	c = conn_get(d, uri, err);
	if (!c)
		return -EIO;
	/* opened through qvm's ssh (remote_libvirt_uri): the URI as the host
	 * names it, not as this run reached it */
	if (uri && remote_current() && strcmp(uri, remote_current()->connect) == 0)
		return (*canonical = strdup(uri)) ? 0 : -ENOMEM;
	u = lv->virConnectGetURI(c);
	if (!u) {
		*err = last_error("cannot get the connection's URI");
		return -EIO;
	}
	*canonical = u;
	return 0;
}

/* The domain's definition (flags 0: what runs, if it runs) read for what
 * qvm checks. */
static int dom_xml(virDomainPtr dom, unsigned flags, struct domxml *x, char **err)
{
	_cleanup_free_ char *xml = lv->virDomainGetXMLDesc(dom, flags);

	if (!xml) {
		*err = last_error("cannot read the domain's definition");
		return -EIO;
	}
	return domxml_parse(xml, strlen(xml), x, err) < 0 ? -EIO : 0;
}

/* True if the domain's disks include one of paths exactly. */
static int dom_uses(virDomainPtr dom, char *const *paths, bool *uses, char **err)
{
	struct domxml x;

	*uses = false;
	if (!paths || !paths[0])
		return 0;
	if (dom_xml(dom, 0, &x, err) < 0)
		return -EIO;
	for (size_t i = 0; paths[i] && !*uses; i++)
		*uses = domxml_uses(&x, paths[i]);
	domxml_clear(&x);
	return 0;
}

static const char *state_name(int state)
{
	switch (state) {
	case VIR_DOMAIN_RUNNING: return "running";
	case VIR_DOMAIN_BLOCKED: return "idle";
	case VIR_DOMAIN_PAUSED: return "paused";
	case VIR_DOMAIN_SHUTDOWN: return "in shutdown";
	case VIR_DOMAIN_SHUTOFF: return "shut off";
	case VIR_DOMAIN_CRASHED: return "crashed";
	case VIR_DOMAIN_PMSUSPENDED: return "pmsuspended";
	default: return "no state";
	}
}

int domain_info_get(struct domains *d, const struct domain_ref *ref, char *const *paths,
		    struct domain_info *info, char **err)
{
	virDomainPtr dom;
	virDomainInfo vi;
	const char *name;
	int r = 0;

	memset(info, 0, sizeof(*info));
	info->state = "undefined";
	dom = lookup(d, ref, err);
	if (!dom)
		return *err ? -EIO : 0;
	info->defined = true;
	if (lv->virDomainGetInfo(dom, &vi) < 0) {
		*err = last_error("cannot get the domain's state");
		r = -EIO;
	} else {
		info->state = state_name(vi.state);
		info->vcpus = vi.nrVirtCpu;
		info->memory_kib = vi.maxMem;
		name = lv->virDomainGetName(dom);
		snprintf(info->name, sizeof(info->name), "%s", name ? name : "");
		r = dom_uses(dom, paths, &info->uses_path, err);
	}
	lv->virDomainFree(dom);
	return r;
}

/* The first IPv4 address of the interfaces, else the first IPv6 one. The
 * guest agent's answer is the guest's word: only a unicast address of
 * another host, of the type it claims, is an address (ipaddr.h: what qvm
 * prints, and gives ssh, in its canonical spelling). */
static char *pick_address(virDomainInterfacePtr *ifaces, int n)
{
	char v6[IPADDR_TEXT_MAX] = "", text[IPADDR_TEXT_MAX];

	for (int i = 0; i < n; i++) {
		for (unsigned j = 0; j < ifaces[i]->naddrs; j++) {
			const virDomainIPAddress *a = &ifaces[i]->addrs[j];
			bool ipv6 = a->type != VIR_IP_ADDR_TYPE_IPV4;
			if (!ipaddr_guest_usable(a->addr, ipv6, text))
				continue;
			if (!ipv6)
				return strdup(text);
			if (!*v6)
				memcpy(v6, text, sizeof(v6));
		}
	}
	return *v6 ? strdup(v6) : NULL;
}

int domain_ip(struct domains *d, const struct domain_ref *ref, unsigned sources, char **ip, char **err)
{
	static const struct { unsigned flag; unsigned src; } order[] = {
		{ DOMAIN_IP_LEASE, VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE },
		{ DOMAIN_IP_AGENT, VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT },
	};
	virDomainPtr dom;

	*ip = NULL;
	dom = lookup(d, ref, err);
	if (!dom)
		return *err ? -EIO : 0;
	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]) && !*ip; k++) {
		virDomainInterfacePtr *ifaces = NULL;
		int n;

		if (!(sources & order[k].flag))
			continue;
		/* no lease yet, no agent: simply nothing known */
		n = lv->virDomainInterfaceAddresses(dom, &ifaces, order[k].src, 0);
		if (n <= 0)
			continue;
		*ip = pick_address(ifaces, n);
		for (int i = 0; i < n; i++)
			lv->virDomainInterfaceFree(ifaces[i]);
		free(ifaces);
	}
	lv->virDomainFree(dom);
	return 0;
}

/* Undefines dom with everything libvirt keeps beside it (NVRAM, managed
 * save, snapshot and checkpoint metadata), asking for less of it only of
 * drivers that know fewer flags (the test driver knows two). */
static int undefine(virDomainPtr dom)
{
	static const unsigned flags[] = {
		VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
			VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA | VIR_DOMAIN_UNDEFINE_NVRAM,
		VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
			VIR_DOMAIN_UNDEFINE_NVRAM,
		VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA,
	};

	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if (lv->virDomainUndefineFlags(dom, flags[i]) == 0)
			return 0;
		if (lv->virGetLastErrorCode() != VIR_ERR_NO_SUPPORT &&
		    lv->virGetLastErrorCode() != VIR_ERR_INVALID_ARG)
			return -1;
	}
	return lv->virDomainUndefine(dom);
}

int domain_remove(struct domains *d, const struct domain_ref *ref, char *const *paths, char **err)
{
	virDomainPtr dom = lookup(d, ref, err);
	bool uses = false;
	int r = 0;

	if (!dom)
		return *err ? -EIO : 0;
	/* a domain that uses none of qvm's disks is not qvm's, whatever it is called */
	if (dom_uses(dom, paths, &uses, err) < 0) {
		lv->virDomainFree(dom);
		return -EIO;
	}
	if (!uses) {
		lv->virDomainFree(dom);
		*err = strdup("the domain uses none of the disks qvm made for it: it is not qvm's");
		return -EPERM;
	}
	if (lv->virDomainIsActive(dom) == 1 && lv->virDomainDestroy(dom) < 0 &&
	    lv->virGetLastErrorCode() != VIR_ERR_OPERATION_INVALID) {
		*err = last_error("cannot stop the domain");
		r = -EIO;
	}
	/* a transient domain is gone once stopped */
	if (r == 0 && lv->virDomainIsPersistent(dom) != 0 && undefine(dom) < 0) {
		*err = last_error("cannot undefine the domain");
		r = -EIO;
	}
	if (r < 0 && lv->virGetLastErrorCode() == VIR_ERR_NO_DOMAIN) {
		free(*err);
		*err = NULL;
		r = 0;
	}
	lv->virDomainFree(dom);
	return r;
}

int domain_check_defined(struct domains *d, const struct domain_ref *ref, char *const *paths,
			 char *const *allowed, bool must_exist, char **err)
{
	static const unsigned which[] = { VIR_DOMAIN_XML_INACTIVE, 0 };
	virDomainPtr dom = lookup(d, ref, err);
	int r = 0;

	if (!dom && !*err && must_exist) {
		if (asprintf(err, "no domain of UUID %s exists", ref->uuid) < 0)
			*err = NULL;
		return -ENOENT;
	}
	if (!dom)
		return *err ? -EIO : 0;
	/* the definition, and what runs now (an install boots another XML) */
	for (size_t i = 0; i < sizeof(which) / sizeof(which[0]) && r == 0; i++) {
		struct domxml x;
		if (which[i] == 0 && lv->virDomainIsActive(dom) != 1)
			break;
		r = dom_xml(dom, which[i], &x, err);
		if (r < 0)
			break;
		r = domxml_check(&x, ref->name, ref->uuid, paths, allowed, err);
		domxml_clear(&x);
	}
	lv->virDomainFree(dom);
	return r;
}

int domain_find(struct domains *d, const char *uri, const char *name, const char *uuid,
		struct domain_clash *clash, char **err)
{
	const struct domain_ref by_name = { .uri = uri, .name = name }, by_uuid = { .uri = uri, .uuid = uuid };
	virDomainPtr dom;

	memset(clash, 0, sizeof(*clash));
	dom = lookup(d, &by_name, err);
	if (*err)
		return -EIO;
	if (dom) {
		clash->name_taken = true;
		if (lv->virDomainGetUUIDString(dom, clash->name_uuid) < 0)
			clash->name_uuid[0] = '\0';
		lv->virDomainFree(dom);
	}
	if (!uuid)
		return 0;
	dom = lookup(d, &by_uuid, err);
	if (*err)
		return -EIO;
	if (dom) {
		const char *n = lv->virDomainGetName(dom);
		clash->uuid_taken = true;
		snprintf(clash->uuid_name, sizeof(clash->uuid_name), "%s", n ? n : "");
		lv->virDomainFree(dom);
	}
	return 0;
}

int domain_create(struct domains *d, const char *uri, const char *xml, const char *name, const char *uuid,
		  unsigned flags, char **err)
{
	struct domain_clash clash;
	virConnectPtr c;
	virDomainPtr dom;
	char got[VIR_UUID_STRING_BUFLEN];
	int r = 0;

	*err = NULL;
	c = conn_get(d, uri, err);
	if (!c)
		return -EIO;
	/* checked up front; again here, right before: defining a name and
	 * UUID that exist would redefine someone else's domain */
	r = domain_find(d, uri, name, uuid, &clash, err);
	if (r < 0)
		return r;
	if (clash.name_taken || clash.uuid_taken) {
		*err = strdup("a domain of that name or UUID was defined meanwhile");
		return -EEXIST;
	}
	if (flags & DOMAIN_TRANSIENT) {
		dom = lv->virDomainCreateXML(c, xml, VIR_DOMAIN_START_VALIDATE);
		if (!dom && (lv->virGetLastErrorCode() == VIR_ERR_NO_SUPPORT ||
			     lv->virGetLastErrorCode() == VIR_ERR_INVALID_ARG))
			dom = lv->virDomainCreateXML(c, xml, 0);
		if (!dom) {
			*err = last_error("cannot start the domain");
			return -EIO;
		}
	} else {
		dom = lv->virDomainDefineXMLFlags(c, xml, VIR_DOMAIN_DEFINE_VALIDATE);
		if (!dom && (lv->virGetLastErrorCode() == VIR_ERR_NO_SUPPORT ||
			     lv->virGetLastErrorCode() == VIR_ERR_INVALID_ARG))
			dom = lv->virDomainDefineXML(c, xml);
		if (!dom) {
			*err = last_error("cannot define the domain");
			return -EIO;
		}
	}
	if (lv->virDomainGetUUIDString(dom, got) < 0 || strcasecmp(got, uuid) != 0) {
		*err = strdup("libvirt gave the domain another UUID than qvm asked for");
		r = -EIO;
	} else if ((flags & DOMAIN_AUTOSTART) && lv->virDomainSetAutostart(dom, 1) < 0) {
		*err = last_error("cannot mark the domain to start when the host boots");
		r = -EIO;
	} else if ((flags & DOMAIN_START) && !(flags & DOMAIN_TRANSIENT) && lv->virDomainCreate(dom) < 0) {
		*err = last_error("cannot start the domain");
		r = -EIO;
	}
	lv->virDomainFree(dom);
	return r;
}

int domains_free_memory(struct domains *d, const char *uri, unsigned long long *bytes, char **err)
{
	virConnectPtr c;

	*bytes = 0;
	*err = NULL;
	c = conn_get(d, uri, err);
	if (!c)
		return -EIO;
	/* 0 is libvirt's failure: no host that runs VMs has no free memory */
	*bytes = lv->virNodeGetFreeMemory(c);
	if (*bytes == 0) {
		*err = last_error("cannot get the host's free memory");
		return -EIO;
	}
	return 0;
}

int domains_pools_at(struct domains *d, const char *uri, const char *dir, char ***uuids, char **err)
{
	virConnectPtr c = conn_get(d, uri, err);
	virStoragePoolPtr *pools = NULL;
	int n, r = 0;

	*uuids = NULL;
	if (!c)
		return -EIO;
	n = lv->virConnectListAllStoragePools(c, &pools, 0);
	if (n < 0) {
		*err = last_error("cannot list the storage pools");
		return -EIO;
	}
	for (int i = 0; i < n; i++) {
		char uuid[VIR_UUID_STRING_BUFLEN];
		_cleanup_free_ char *xml = NULL, *path = NULL, *why = NULL;
		if (r == 0 && (xml = lv->virStoragePoolGetXMLDesc(pools[i], 0)) &&
		    domxml_pool_target(xml, &path, &why) == 0 && path && strcmp(path, dir) == 0 &&
		    lv->virStoragePoolGetUUIDString(pools[i], uuid) == 0)
			r = strv_push(uuids, uuid);
		lv->virStoragePoolFree(pools[i]);
	}
	free(pools);
	if (r < 0) {
		strv_free(*uuids);
		*uuids = NULL;
		*err = strdup("out of memory");
	}
	return r;
}

int domains_pool_remove(struct domains *d, const char *uri, const char *uuid, char **err)
{
	virConnectPtr c = conn_get(d, uri, err);
	virStoragePoolPtr pool;
	int r = 0;

	if (!c)
		return -EIO;
	pool = lv->virStoragePoolLookupByUUIDString(c, uuid);
	if (!pool)
		return 0;
	/* a directory pool: destroying it deactivates it, its files stay */
	if (lv->virStoragePoolIsActive(pool) == 1 && lv->virStoragePoolDestroy(pool) < 0)
		r = -EIO;
	if (r == 0 && lv->virStoragePoolUndefine(pool) < 0)
		r = -EIO;
	if (r < 0)
		*err = last_error("cannot remove the storage pool");
	lv->virStoragePoolFree(pool);
	return r;
}
