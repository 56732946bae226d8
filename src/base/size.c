/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The power of two a suffix stands for, or -1. "" is bytes; "BB" is not a
 * suffix, nor is "BiB". */
static int suffix_shift(const char *u)
{
	static const char ends[] = "BKMGTPEZ";
	const char *p;

	if (!*u)
		return 0;
	p = strchr(ends, toupper((unsigned char)*u));
	if (!p)
		return -1;
	if (u[1] == '\0')
		return 10 * (int)(p - ends);
	if (*p != 'B' && ((toupper((unsigned char)u[1]) == 'B' && u[2] == '\0') ||
			  (toupper((unsigned char)u[1]) == 'I' && toupper((unsigned char)u[2]) == 'B' &&
			   u[3] == '\0')))
		return 10 * (int)(p - ends);
	return -1;
}

int size_parse(const char *s, uint64_t *out, const char **why)
{
	static const char *const bad = "bad numeric value", *const suffix = "invalid numeric suffix",
			  *const big = "numeric value is too large";
	const char *p = s;
	uint64_t v = 0;
	int shift;

	if (!s || !(isdigit((unsigned char)*s) || *s == '.'))
		return *why = bad, -EINVAL;
	while (isdigit((unsigned char)*p)) {
		unsigned d = (unsigned)(*p++ - '0');
		if (v > (UINT64_MAX - d) / 10)
			return *why = big, -ERANGE;
		v = v * 10 + d;
	}
	if (*p == '.') {
		/* a fraction: floating point, as zfs computes it */
		char *end;
		double f = strtod(s, &end);

		if ((shift = suffix_shift(end)) < 0)
			return *why = suffix, -EINVAL;
		for (; shift > 0; shift -= 10)
			f *= 1024.0;
		if (!(f < 18446744073709551616.0))
			return *why = big, -ERANGE;
		*out = (uint64_t)f;
		return 0;
	}
	if ((shift = suffix_shift(p)) < 0)
		return *why = suffix, -EINVAL;
	if (shift >= 64 || v > (UINT64_MAX >> shift))
		return *why = big, -ERANGE;
	*out = v << shift;
	return 0;
}
