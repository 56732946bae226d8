/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "settings.h"
#include "remote.h"
#include "size.h"
#include "banned.h"

static const char *dir_from_env(const char *var, const char *fallback, char *buf, size_t size)
{
	const char *v = getenv(var);
	size_t len;

	if (!v || !*v)
		return fallback;
	len = strlen(v);
	while (len > 1 && v[len - 1] == '/')
		len--;
	if (len >= size)
		return v;
	memcpy(buf, v, len);
	buf[len] = '\0';
	return buf;
}

/* On a remote host its own directories count (remote.h). */
const char *settings_zvol_dir(void)
{
	static char buf[4096];
	if (remote_current())
		return remote_zvol_dir();
	return dir_from_env("QVM_ZVOL_DIR", "/dev/zvol", buf, sizeof(buf));
}

const char *settings_state_dir(void)
{
	static char buf[4096];
	if (remote_current())
		return remote_state_dir();
	return dir_from_env("QVM_STATE_DIR", "/var/lib/qvm", buf, sizeof(buf));
}

int settings_device_timeout(unsigned *seconds)
{
	const char *v = getenv("QVM_DEVICE_TIMEOUT");
	uint64_t n;

	if (!v || !*v) {
		*seconds = 30;
		return 0;
	}
	if (parse_u64(v, &n) < 0 || n > 86400)
		return -EINVAL;
	*seconds = (unsigned)n;
	return 0;
}

int settings_host_timeout(unsigned *seconds)
{
	const char *v = getenv("QVM_HOST_TIMEOUT");
	uint64_t n;

	if (!v || !*v) {
		*seconds = 30;
		return 0;
	}
	if (parse_u64(v, &n) < 0 || n < 1 || n > 86400)
		return -EINVAL;
	*seconds = (unsigned)n;
	return 0;
}

char *settings_zvol_device(const char *dataset)
{
	char *p;

	if (asprintf(&p, "%s/%s", settings_zvol_dir(), dataset) < 0)
		return NULL;
	return p;
}
