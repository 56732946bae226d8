/* SPDX-License-Identifier: MIT */
/* A guest's address as qvm may print it and give ssh: the guest agent's
 * answer is the guest's word, so only a unicast address of another host
 * counts - never one that reaches this host (loopback, unspecified, an
 * IPv4-mapped form of those) or no single host (multicast, broadcast,
 * link-local). */
#ifndef QVM_IPADDR_H
#define QVM_IPADDR_H

#include <stdbool.h>
#include <stddef.h>

#define IPADDR_TEXT_MAX 46           /* INET6_ADDRSTRLEN */

/* Whether text is such an address of family ipv6 ? AF_INET6 : AF_INET;
 * if so its canonical spelling (inet_ntop) in out. */
bool ipaddr_guest_usable(const char *text, bool ipv6, char out[IPADDR_TEXT_MAX]);

#endif
