/* SPDX-License-Identifier: MIT */
/* qvm import SOURCE ZVOL (SPEC §2): the options into a request for the
 * import job (import.h), which checks everything, then makes the zvol.
 * A SOURCE that is a bare name (debian-12) is an image of the catalog
 * (catalog.h): its URL, checked against its checksum file, its osinfo
 * name and login user recorded on the image. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "catalog.h"
#include "cleanup.h"
#include "commands.h"
#include "import.h"
#include "log.h"
#include "msgtext.h"
#include "names.h"
#include "osinfo.h"
#include "strv.h"
#include "banned.h"

#define TASK "importing cloud image"

/* A name the catalog could hold: no '/', no "scheme:", its grammar. */
static bool bare_word(const char *s)
{
	return !strchr(s, '/') && !strchr(s, ':') && catalog_name_valid(s);
}

/* A name that reads as a file qvm imports (disk.qcow2, disk.raw.xz): one
 * that is neither a file nor a catalog image is told as a missing file,
 * not as an unknown image. */
static bool file_like(const char *s)
{
	static const char *const ext[] = {
		"raw", "img", "qcow2", "qcow", "vmdk", "vhdx", "vdi", "vhd", "vpc", "iso",
		"xz", "zst", "zstd", "gz", "bz2", "tar", "tgz", "txz", "ova",
	};
	const char *dot = strrchr(s, '.');

	if (!dot)
		return false;
	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++)
		if (strcmp(dot + 1, ext[i]) == 0)
			return true;
	return false;
}

/* --osinfo: a name the host's virt-install knows, or every qvm vm from the
 * image fails there. */
static int check_osinfo(const char *name)
{
	_cleanup_free_ char *err = NULL;
	char *const *names;
	char shown[96];
	int r;

	msg_text(shown, sizeof(shown), name, strlen(name));
	if (!osinfo_name_valid(name))
		return log_error(TASK, "invalid --osinfo '%s': expected an osinfo name such as debian12 "
				 "(virt-install --osinfo list shows them)", shown);
	r = osinfo_list_load(&names, &err);
	if (r < 0)
		return log_error(TASK, "cannot check --osinfo '%s': %s", shown, err ? err : strerror(-r));
	if (!osinfo_known(names, name))
		return log_error(TASK, "--osinfo '%s' is not a name this host's virt-install knows "
				 "(virt-install --osinfo list shows them)", shown);
	return 0;
}

/* The first of an entry's osinfo names that virt-install knows; NULL
 * (with a warning) if it knows none or cannot be asked. */
static const char *pick_osinfo(const struct catalog_entry *e)
{
	_cleanup_free_ char *err = NULL, *all = NULL;
	char *const *names;
	int r = osinfo_list_load(&names, &err), i;

	if (r < 0) {
		log_warning("cannot check the osinfo names of image %s (%s): none recorded; "
			    "give one with --osinfo", e->name, err ? err : strerror(-r));
		return NULL;
	}
	i = osinfo_pick(names, e->osinfo);
	if (i < 0) {
		all = strv_join(e->osinfo, ", ");
		log_warning("this host's virt-install knows none of the osinfo names of image %s (%s): "
			    "none recorded; give one with --osinfo", e->name, all ? all : "");
		return NULL;
	}
	if (i > 0)
		log_warning("this host's virt-install does not know osinfo '%s' (image %s): "
			    "recording '%s'", e->osinfo[0], e->name, e->osinfo[i]);
	return e->osinfo[i];
}

/* A bare name: the catalog's entry, or NULL with *use_file when it is a
 * file here. -1 after an error is told. */
static int resolve(const char *source, struct catalog *cat, const struct catalog_entry **entry,
		   const struct cmd_opts *opts)
{
	_cleanup_free_ char *err = NULL, *names = NULL, *files = NULL;
	struct stat st;
	struct utsname u;
	bool is_file = lstat(source, &st) == 0;
	int r;

	*entry = NULL;
	r = catalog_load(cat, &err);
	/* no catalog installed: a bare word can only be a file */
	if (r == -ENOENT && (is_file || file_like(source)))
		return 0;
	/* a broken catalog does not stop the import of a file that is there */
	if (r < 0 && r != -ENOMEM && is_file) {
		log_warning("cannot read the image catalog (%s): '%s' is taken as the file",
			    err ? err : strerror(-r), source);
		return 0;
	}
	if (r < 0)
		return log_error(TASK, "cannot read the image catalog: %s", err ? err : strerror(-r));
	*entry = catalog_find(cat, source);
	if (*entry && is_file)
		return log_error(TASK, "'%s' is both an image of the catalog (%s) and a file here: "
				 "write ./%s for the file", source, (*entry)->where, source);
	if (is_file || (!*entry && file_like(source)))
		return 0;
	files = catalog_sources(cat);
	names = catalog_names(cat);
	if (!files || !names)
		return log_error(TASK, "%s", strerror(ENOMEM));
	if (!*entry)
		return cat->n ? log_error(TASK, "unknown image '%s'; the catalog (%s) has: %s "
					  "(qvm images --available)", source, files, names)
			      : log_error(TASK, "unknown image '%s'; the catalog (%s) has no images",
					  source, *files ? files : "no files");
	if (opt_has(opts, OPT_SHA256) || opt_has(opts, OPT_SHA512) || opt_has(opts, OPT_CHECKSUM_FILE))
		return log_error(TASK, "image %s is verified against its checksum file %s: "
				 "--sha256, --sha512 and --checksum-file are for a file or URL", source,
				 (*entry)->checksum);
	/* a catalog image for another machine would not boot here */
	if (uname(&u) == 0 && strcmp(u.machine, (*entry)->arch) != 0)
		return log_error(TASK, "image %s is for %s, this host is %s (give its URL to import it "
				 "anyway: %s)", source, (*entry)->arch, u.machine, (*entry)->url);
	return 0;
}

int cmd_import(int argc, char **argv, const struct cmd_opts *opts)
{
	struct import_request req = {
		.source = argv[0],
		.zvol = argv[1],
		.size = opt_last(opts, OPT_SIZE),
		.sha256 = opt_last(opts, OPT_SHA256),
		.sha512 = opt_last(opts, OPT_SHA512),
		.checksum_file = opt_last(opts, OPT_CHECKSUM_FILE),
		.osinfo = opt_last(opts, OPT_OSINFO),
		.user = opt_last(opts, OPT_USER),
		.force = opt_has(opts, OPT_FORCE),
		.live = !opt_has(opts, OPT_QUIET) && log_can_redraw(),
	};
	_cleanup_free_ char *err = NULL;
	const struct catalog_entry *e = NULL;
	struct catalog cat = { 0 };
	struct import *im;
	int r = 0;

	(void)argc;
	log_set_quiet(opt_has(opts, OPT_QUIET));
	const char *why;
	if (req.user && !login_name_valid(req.user, &why)) {
		char shown[96];
		msg_text(shown, sizeof(shown), req.user, strlen(req.user));
		return log_error(TASK, "invalid --user '%s': %s (a login name: 1-%d of A-Z a-z 0-9 . _ -)", shown,
				 why, LOGIN_NAME_MAX_LEN);
	}
	if (req.osinfo && check_osinfo(req.osinfo) < 0)
		return -1;
	if (bare_word(req.source) && resolve(req.source, &cat, &e, opts) < 0) {
		catalog_clear(&cat);
		return -1;
	}
	if (e) {
		req.source = e->url;
		req.checksum_file = e->checksum;
		req.label = e->name;
		if (!req.user)
			req.user = e->user;
		if (!req.osinfo)
			req.osinfo = pick_osinfo(e);
		log_step("Image %s from the catalog (%s): osinfo %s, user %s", e->name, e->where,
			 req.osinfo ? req.osinfo : "(none)", req.user);
	}
	im = import_new(&req);
	if (!im) {
		catalog_clear(&cat);
		return log_error(TASK, "%s", strerror(ENOMEM));
	}
	r = import_check(im, &log_report, &err);
	if (r == 0)
		r = import_run(im, &log_report, &err);
	if (r < 0)
		log_error(TASK, "%s", err);
	/* after the error is told: a failed run's changes undone */
	import_end(im);
	catalog_clear(&cat);
	return r < 0 ? -1 : 0;
}
