/* SPDX-License-Identifier: MIT */
/* libvirt domains through the libvirt C API (never by parsing virsh). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "cleanup.h"
#include "domain.h"
#include "dynlib.h"
#include "msgtext.h"
#include "names.h"
#include "banned.h"

/* The libvirt functions qvm calls, looked up when a command first needs
 * libvirt (see dynlib.h). */
#define LIBVIRT_FUNCS(X) \
	X(virConnectClose) \
	X(virConnectOpen) \
	X(virConnectOpenReadOnly) \
	X(virDomainDestroy) \
	X(virDomainFree) \
	X(virDomainGetInfo) \
	X(virDomainGetXMLDesc) \
	X(virDomainInterfaceAddresses) \
	X(virDomainInterfaceFree) \
	X(virDomainIsActive) \
	X(virDomainLookupByName) \
	X(virDomainUndefine) \
	X(virDomainUndefineFlags) \
	X(virGetLastErrorCode) \
	X(virGetLastErrorMessage) \
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

static char *last_error(const char *what)
{
	char *s;
	const char *msg = lv->virGetLastErrorMessage();

	if (asprintf(&s, "%s: %s", what, msg ? msg : "unknown libvirt error") < 0)
		return NULL;
	return s;
}

/* The connection for uri, opened on first use. NULL with *err on failure. */
static virConnectPtr conn_get(struct domains *d, const char *uri, char **err)
{
	struct conn *n;
	virConnectPtr c;

	if (!uri)
		uri = "";
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->conns[i].uri, uri) == 0)
			return d->conns[i].c;
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
	c = d->read_only ? lv->virConnectOpenReadOnly(*uri ? uri : NULL) : lv->virConnectOpen(*uri ? uri : NULL);
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

/* The domain, NULL with *err NULL if there is none, NULL with *err set on
 * failure. */
static virDomainPtr lookup(struct domains *d, const char *uri, const char *name, char **err)
{
	virConnectPtr c;
	virDomainPtr dom;

	*err = NULL;
	c = conn_get(d, uri, err);
	if (!c) {
		if (!*err)
			*err = strdup("cannot connect to libvirt");
		return NULL;
	}
	dom = lv->virDomainLookupByName(c, name);
	if (!dom && lv->virGetLastErrorCode() != VIR_ERR_NO_DOMAIN)
		*err = last_error("cannot look up the domain");
	return dom;
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

/* Does the XML name path as an attribute value ('path' or "path")? */
static bool xml_names(const char *xml, const char *path)
{
	size_t len = strlen(path);

	for (const char *p = xml; (p = strstr(p, path)); p++)
		if (p > xml && (p[-1] == '\'' || p[-1] == '"') && p[len] == p[-1])
			return true;
	return false;
}

int domain_info_get(struct domains *d, const char *uri, const char *name, char *const *paths,
		    struct domain_info *info, char **err)
{
	virDomainPtr dom;
	virDomainInfo vi;

	memset(info, 0, sizeof(*info));
	info->state = "undefined";
	dom = lookup(d, uri, name, err);
	if (!dom)
		return *err ? -EIO : 0;
	info->defined = true;
	if (lv->virDomainGetInfo(dom, &vi) < 0) {
		*err = last_error("cannot get the domain's state");
		lv->virDomainFree(dom);
		return -EIO;
	}
	info->state = state_name(vi.state);
	info->vcpus = vi.nrVirtCpu;
	info->memory_kib = vi.maxMem;
	if (paths && paths[0]) {
		char *xml = lv->virDomainGetXMLDesc(dom, 0);
		if (!xml) {
			*err = last_error("cannot read the domain's definition");
			lv->virDomainFree(dom);
			return -EIO;
		}
		for (size_t i = 0; paths[i] && !info->uses_path; i++)
			info->uses_path = xml_names(xml, paths[i]);
		free(xml);
	}
	lv->virDomainFree(dom);
	return 0;
}

/* The first IPv4 address of the interfaces, else the first IPv6 one. */
static char *pick_address(virDomainInterfacePtr *ifaces, int n)
{
	const char *v6 = NULL;

	for (int i = 0; i < n; i++) {
		for (unsigned j = 0; j < ifaces[i]->naddrs; j++) {
			const virDomainIPAddress *a = &ifaces[i]->addrs[j];
			if (!a->addr)
				continue;
			/* the guest agent reports the loopback too */
			if (strncmp(a->addr, "127.", 4) == 0 || strcmp(a->addr, "::1") == 0 ||
			    strncmp(a->addr, "fe80:", 5) == 0)
				continue;
			if (a->type == VIR_IP_ADDR_TYPE_IPV4)
				return strdup(a->addr);
			if (!v6)
				v6 = a->addr;
		}
	}
	return v6 ? strdup(v6) : NULL;
}

int domain_ip(struct domains *d, const char *uri, const char *name, unsigned sources, char **ip,
	      char **err)
{
	static const struct { unsigned flag; unsigned src; } order[] = {
		{ DOMAIN_IP_LEASE, VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE },
		{ DOMAIN_IP_AGENT, VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT },
	};
	virDomainPtr dom;

	*ip = NULL;
	dom = lookup(d, uri, name, err);
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

int domain_remove(struct domains *d, const char *uri, const char *name, char **err)
{
	const unsigned flags = VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
			       VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA | VIR_DOMAIN_UNDEFINE_NVRAM;
	virDomainPtr dom = lookup(d, uri, name, err);
	int r = 0;

	if (!dom)
		return *err ? -EIO : 0;
	if (lv->virDomainIsActive(dom) == 1 && lv->virDomainDestroy(dom) < 0 &&
	    lv->virGetLastErrorCode() != VIR_ERR_OPERATION_INVALID) {
		*err = last_error("cannot stop the domain");
		r = -EIO;
	}
	if (r == 0 && lv->virDomainUndefineFlags(dom, flags) < 0) {
		/* drivers without the flags (the test driver) */
		if (lv->virGetLastErrorCode() != VIR_ERR_NO_SUPPORT &&
		    lv->virGetLastErrorCode() != VIR_ERR_INVALID_ARG) {
			*err = last_error("cannot undefine the domain");
			r = -EIO;
		} else if (lv->virDomainUndefine(dom) < 0) {
			*err = last_error("cannot undefine the domain");
			r = -EIO;
		}
	}
	if (r < 0 && lv->virGetLastErrorCode() == VIR_ERR_NO_DOMAIN) {
		free(*err);
		*err = NULL;
		r = 0;
	}
	lv->virDomainFree(dom);
	return r;
}
