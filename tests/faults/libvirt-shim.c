/* SPDX-License-Identifier: MIT */
/* What inject.so's dlopen hands qvm for libvirt.so.0 when QVM_FAULT_LIBVIRT
 * is set: libvirt itself (linked), except for the two calls below.
 *   QVM_FAULT_LIBVIRT=FUNC:MS    FUNC (virDomainDefineXMLFlags or
 *                                virDomainCreate) touches $QVM_FAULT_MARK and
 *                                sleeps MS (signals do not cut the sleep
 *                                short) before it runs: qvm is signalled
 *                                inside the call
 *   QVM_FAULT_LIBVIRT=FUNC:fail  FUNC fails without running */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <libvirt/libvirt.h>

/* libvirt's own function of that name */
static void *real(const char *name)
{
	void *h = dlopen("libvirt.so.0", RTLD_NOW | RTLD_NOLOAD);
	void *f = h ? dlsym(h, name) : NULL;

	if (!f)
		abort();
	return f;
}

/* 1 if func is to fail; after the delay it asks for, 0 to run it */
static int fault(const char *func)
{
	const char *v = getenv("QVM_FAULT_LIBVIRT"), *mark = getenv("QVM_FAULT_MARK");
	size_t len = strlen(func);

	if (!v || strncmp(v, func, len) != 0 || v[len] != ':')
		return 0;
	if (strcmp(v + len + 1, "fail") == 0)
		return 1;
	if (mark) {
		int m = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (m >= 0)
			close(m);
	}
	long ms = atol(v + len + 1);
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L }, rem;
	while (nanosleep(&ts, &rem) < 0 && errno == EINTR)
		ts = rem;
	return 0;
}

virDomainPtr virDomainDefineXMLFlags(virConnectPtr conn, const char *xml, unsigned int flags)
{
	if (fault("virDomainDefineXMLFlags"))
		return NULL;
	return ((virDomainPtr (*)(virConnectPtr, const char *, unsigned int))real("virDomainDefineXMLFlags"))(
		conn, xml, flags);
}

int virDomainCreate(virDomainPtr dom)
{
	if (fault("virDomainCreate"))
		return -1;
	return ((int (*)(virDomainPtr))real("virDomainCreate"))(dom);
}
