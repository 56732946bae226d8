/* SPDX-License-Identifier: MIT */
/* qvm import IMAGE ZVOL (SPEC §2). */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "commands.h"
#include "device.h"
#include "imgwrite.h"
#include "log.h"
#include "marks.h"
#include "names.h"
#include "settings.h"
#include "signals.h"
#include "size.h"
#include "undo.h"
#include "zfs.h"
#include "strv.h"
#include "undo-steps.h"
#include "banned.h"

#define TASK "importing cloud image"

/* Opens the image and finds its size, before anything changes. */
static int open_image(const char *path, int *fdp, uint64_t *size)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	/* O_NONBLOCK: opening a FIFO must not wait for a writer */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return log_error(TASK, "cannot open image '%s': %s", path, strerror(errno));
	if (fcntl(fd, F_SETFL, 0) < 0 || fstat(fd, &st) < 0)
		return log_error(TASK, "cannot read the size of image '%s': %s", path, strerror(errno));
	if (S_ISREG(st.st_mode)) {
		*size = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, size) < 0)
			return log_error(TASK, "cannot read the size of image '%s': %s", path,
					 strerror(errno));
	} else {
		return log_error(TASK, "image '%s' is not a regular file or block device", path);
	}
	if (*size == 0)
		return log_error(TASK, "image '%s' is empty", path);
	*fdp = TAKE_FD(fd);
	return 0;
}

/* The zvol must be new and its parent an existing filesystem. */
static int check_target(const char *zvol)
{
	_cleanup_free_ char *type = NULL, *err = NULL, *parent = NULL, *pool = NULL;
	const char *why;
	int r;

	if (!dataset_name_valid(zvol, false, &why))
		return log_error(TASK, "invalid zvol name '%s': %s", zvol, why);
	parent = dataset_parent(zvol);
	if (!parent)
		return log_error(TASK, "invalid zvol name '%s': a zvol needs a parent dataset (POOL/NAME)", zvol);

	r = zfs_get_type(zvol, &type, &err);
	if (r == 0) {
		_cleanup_free_ char *state = NULL, *ignored = NULL;
		if (zfs_get(zvol, MARK_STATE, &state, &ignored) == 0 &&
		    strcmp(state, MARK_STATE_CREATING) == 0)
			return log_error(TASK, "zvol %s already exists: it is left over from an interrupted "
					 "qvm run (qvm:state=creating); remove it with: zfs destroy -r %s",
					 zvol, zvol);
		return log_error(TASK, "%s %s already exists",
				 strcmp(type, "volume") == 0 ? "zvol" : "dataset", zvol);
	}
	if (r != -ENOENT)
		return log_error(TASK, "cannot check whether %s exists: %s", zvol, err ? err : strerror(-r));
	free(TAKE_PTR(err));

	r = zfs_get_type(parent, &type, &err);
	if (r == -ENOENT) {
		free(TAKE_PTR(err));
		pool = dataset_pool(zvol);
		if (pool && strcmp(pool, parent) != 0 && zfs_get_type(pool, &type, &err) == -ENOENT)
			return log_error(TASK, "pool %s does not exist", pool);
		if (pool && strcmp(pool, parent) == 0)
			return log_error(TASK, "pool %s does not exist", pool);
		return log_error(TASK, "parent dataset %s does not exist", parent);
	}
	if (r < 0)
		return log_error(TASK, "cannot check parent dataset %s: %s", parent, err ? err : strerror(-r));
	if (strcmp(type, "filesystem") != 0)
		return log_error(TASK, "parent dataset %s is a %s, not a filesystem", parent, type);
	return 0;
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static int interrupted(void)
{
	return log_error(TASK, "interrupted by signal SIG%s", sigabbrev_np(signal_pending()));
}

/* Steps 2-4: everything that changes the host. */
static int import_into(const char *image, int image_fd, uint64_t image_size, const char *zvol,
		       unsigned timeout, struct undo *undo)
{
	_cleanup_free_ char *device = NULL, *err = NULL, *source = NULL;
	_cleanup_strv_free_ char **marks = NULL;
	_cleanup_close_ int dev_fd = -1;
	struct imgwrite_stats stats;
	enum imgwrite_stage stage;
	struct timespec t0;
	uint64_t volsize, dev_size;
	char sz[32], sz2[32];
	int r;

	if (!size_round_up(image_size, MIB, &volsize))
		return log_error(TASK, "image '%s' is too large", image);
	device = settings_zvol_device(zvol);
	source = realpath(image, NULL);
	if (!device || marks_image(source ? source : image, &marks) < 0 ||
	    undo_prepare_destroy(undo, zvol, 1) < 0)
		return log_error(TASK, "%s", strerror(ENOMEM));
	if (signal_pending())
		return interrupted();

	log_begin("Creating zvol %s (%s)", zvol, size_format(volsize, sz, sizeof(sz)));
	r = zfs_create_volume(zvol, volsize, marks, &err);
	if (r < 0)
		return log_error(TASK, "cannot create zvol %s: %s", zvol, err ? err : strerror(-r));
	undo_arm(undo);
	log_done("done");

	log_begin("Waiting for device %s", device);
	r = device_wait(device, timeout);
	if (r == -EINTR)
		return interrupted();
	if (r == -ETIMEDOUT)
		return log_error(TASK, "device %s did not appear within %u seconds", device, timeout);
	if (r < 0)
		return log_error(TASK, "cannot find device %s: %s", device, strerror(-r));
	r = device_open_write(device, &dev_fd, &dev_size);
	if (r == -ENODEV)
		return log_error(TASK, "cannot open device %s: not a block device", device);
	if (r < 0)
		return log_error(TASK, "cannot open device %s: %s", device, strerror(-r));
	if (dev_size < image_size)
		return log_error(TASK, "device %s holds %s, less than the image's %s", device,
				 size_format(dev_size, sz, sizeof(sz)),
				 size_format(image_size, sz2, sizeof(sz2)));
	log_done("done");

	log_begin("Writing image %s to %s", image, device);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = image_write(image_fd, image_size, dev_fd, &stats, &stage, NULL, NULL);
	if (r == -EINTR)
		return interrupted();
	if (r < 0) {
		if (stage == IMGWRITE_READ)
			return log_error(TASK, "cannot read image '%s': %s", image, strerror(-r));
		if (stage == IMGWRITE_WRITE)
			return log_error(TASK, "cannot write to device %s: %s", device, strerror(-r));
		return log_error(TASK, "cannot flush device %s: %s", device, strerror(-r));
	}
	if (close(TAKE_FD(dev_fd)) < 0)
		return log_error(TASK, "cannot write to device %s: %s", device, strerror(errno));
	log_done("wrote %s of data in %.1f s", size_format(stats.written, sz, sizeof(sz)),
		 seconds_since(&t0));

	if (signal_pending())
		return interrupted();
	log_begin("Creating snapshot %s@base", zvol);
	free(TAKE_PTR(err));
	{
		_cleanup_free_ char *snap = NULL;
		if (asprintf(&snap, "%s@base", zvol) < 0)
			return log_error(TASK, "%s", strerror(ENOMEM));
		r = zfs_snapshot(snap, &err);
		if (r < 0)
			return log_error(TASK, "cannot create snapshot %s: %s", snap,
					 err ? err : strerror(-r));
	}
	log_done("done");

	/* the last change: from here on the zvol is a finished image */
	if (signal_pending())
		return interrupted();
	r = zfs_set(zvol, MARK_STATE "=" MARK_STATE_READY, &err);
	if (r < 0)
		return log_error(TASK, "cannot mark zvol %s as ready: %s", zvol, err ? err : strerror(-r));
	/* a signal during that last step still means "stop": roll back */
	if (signal_pending())
		return interrupted();
	return 0;
}

int cmd_import(int argc, char **argv, const struct cmd_opts *opts)
{
	const char *image = argv[0], *zvol = argv[1];
	_cleanup_close_ int image_fd = -1;
	struct undo undo = { 0 };
	uint64_t image_size;
	unsigned timeout;
	char sz[32];

	(void)argc;
	(void)opts;
	if (settings_device_timeout(&timeout) < 0)
		return log_error(TASK, "QVM_DEVICE_TIMEOUT must be a whole number of seconds (0-86400)");
	log_begin("Checking image %s and zvol %s", image, zvol);
	if (open_image(image, &image_fd, &image_size) < 0 || check_target(zvol) < 0)
		return -1;
	log_done("%s", size_format(image_size, sz, sizeof(sz)));

	if (import_into(image, image_fd, image_size, zvol, timeout, &undo) < 0) {
		undo_rollback(&undo);
		return -1;
	}
	undo_commit(&undo);
	log_step("Imported %s as %s@base", image, zvol);
	return 0;
}
