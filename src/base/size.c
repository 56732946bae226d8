/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>

#include "size.h"
#include "banned.h"

bool size_round_up(uint64_t size, uint64_t align, uint64_t *out)
{
	uint64_t r = size & (align - 1);

	if (r == 0) {
		*out = size;
		return true;
	}
	if (size > UINT64_MAX - (align - r))
		return false;
	*out = size + (align - r);
	return true;
}

const char *size_format(uint64_t bytes, char *buf, size_t bufsize)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = (double)bytes;
	size_t u = 0;

	while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024.0;
		u++;
	}
	if (u == 0)
		snprintf(buf, bufsize, "%llu B", (unsigned long long)bytes);
	else
		snprintf(buf, bufsize, "%.1f %s", v, units[u]);
	return buf;
}

int parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (; *s; s++) {
		unsigned d;
		if (*s < '0' || *s > '9')
			return -EINVAL;
		d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}
