/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "marks.h"
#include "strv.h"
#include "banned.h"

const char *marks_run_id(void)
{
	static char id[48];

	if (!id[0]) {
		uint64_t r = 0;
		if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
			r = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
		snprintf(id, sizeof(id), "%ld-%016llx", (long)getpid(), (unsigned long long)r);
	}
	return id;
}

static int marks_common(char ***props)
{
	int r = strv_push(props, MARK_STATE "=" MARK_STATE_CREATING);

	return r < 0 ? r : strv_pushf(props, MARK_RUN "=%s", marks_run_id());
}

int marks_image(const char *source, char ***props)
{
	int r = strv_push(props, "qvm:kind=image");

	if (r == 0)
		r = strv_pushf(props, "qvm:source=%s", source);
	return r < 0 ? r : marks_common(props);
}

int marks_vm_disk(const char *vm, const char *connect, char ***props)
{
	int r = strv_push(props, "qvm:kind=vm-disk");

	if (r == 0)
		r = strv_pushf(props, "qvm:vm=%s", vm);
	if (r == 0 && connect && *connect)
		r = strv_pushf(props, "qvm:connect=%s", connect);
	return r < 0 ? r : marks_common(props);
}

int marks_run_alive(const char *run_id)
{
	char path[64], comm[64] = "";
	char *end;
	long pid = strtol(run_id, &end, 10);
	FILE *f;

	if (end == run_id || *end != '-' || pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	/* a recycled pid belongs to some other program */
	return strcmp(comm, "qvm") == 0;
}
