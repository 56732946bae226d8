/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include "ipaddr.h"
#include "banned.h"

/* a (host order) is an IPv4 unicast address of some other host */
static bool v4_usable(uint32_t a)
{
	uint8_t first = (uint8_t)(a >> 24);

	if (first == 0 || first == 127 || first >= 224)   /* "this network", loopback, multicast, reserved, broadcast */
		return false;
	if ((a >> 16) == 0xa9fe)                            /* 169.254/16: link-local */
		return false;
	return true;
}

bool ipaddr_guest_usable(const char *text, bool ipv6, char out[IPADDR_TEXT_MAX])
{
	if (!text)
		return false;
	if (!ipv6) {
		struct in_addr a;
		if (inet_pton(AF_INET, text, &a) != 1 || !v4_usable(ntohl(a.s_addr)))
			return false;
		return inet_ntop(AF_INET, &a, out, IPADDR_TEXT_MAX) != NULL;
	}
	struct in6_addr a6;
	if (inet_pton(AF_INET6, text, &a6) != 1)
		return false;
	/* an IPv4 address spelt as IPv6 (::ffff:127.0.0.1, ::127.0.0.1) is
	 * no guest's own IPv6 address: none is taken */
	if (IN6_IS_ADDR_UNSPECIFIED(&a6) || IN6_IS_ADDR_LOOPBACK(&a6) || IN6_IS_ADDR_MULTICAST(&a6) ||
	    IN6_IS_ADDR_LINKLOCAL(&a6) || IN6_IS_ADDR_SITELOCAL(&a6) || IN6_IS_ADDR_V4MAPPED(&a6) ||
	    IN6_IS_ADDR_V4COMPAT(&a6))
		return false;
	/* ::/96 as a whole (IN6_IS_ADDR_V4COMPAT leaves out ::0.0.0.1) */
	static const unsigned char zero12[12];
	if (memcmp(a6.s6_addr, zero12, 12) == 0)
		return false;
	return inet_ntop(AF_INET6, &a6, out, IPADDR_TEXT_MAX) != NULL;
}
