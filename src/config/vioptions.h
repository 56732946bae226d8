/* SPDX-License-Identifier: MIT */
/* The long option names of the installed virt-install, read from its --help
 * and cached, so a vm document's keys can be held to options spelled in
 * full: virt-install's argparse would expand "--nam" to "--name". */
#ifndef QVM_VIOPTIONS_H
#define QVM_VIOPTIONS_H

#include <stdbool.h>

#include "yamltree.h"

struct vi_options;

/* Bounds on what is believed from a help text or a cache file. */
#define VI_OPTIONS_MAX      1024          /* option names */
#define VI_OPTION_NAME_MAX  64            /* characters of one name */

/*
 * The option names of the virt-install that spawn_check would start: argv[0]
 * "virt-install" resolved over $PATH the way posix_spawnp does. Cached in
 * $QVM_CACHE_DIR (default /var/cache/qvm), file "virt-install-options",
 * keyed by that executable's absolute path, device, inode, size, mtime and
 * ctime. On a miss runs "virt-install --help" (LC_ALL=C, COLUMNS=80), reads
 * the option names from it and rewrites the cache atomically; a cache that
 * cannot be written is not an error. Returns 0 with *out set, -ENOMEM, or
 * another -errno with *err a malloc'd message ("cannot run virt-install
 * --help: ...", "virt-install --help listed no options").
 */
int vi_options_load(struct vi_options **out, char **err) __attribute__((warn_unused_result));

/*
 * The long option names of an argparse help text (the text virt-install
 * --help prints), names without "--", in the order listed. Returns 0,
 * -ENODATA if it lists no long option, -E2BIG if more than VI_OPTIONS_MAX,
 * or -ENOMEM.
 */
int vi_options_parse(const char *help, struct vi_options **out) __attribute__((warn_unused_result));

void vi_options_free(struct vi_options *o);
static inline void vi_options_freep(struct vi_options **o) { vi_options_free(*o); }

/* Number of names, and the i-th in the order listed. */
unsigned vi_options_count(const struct vi_options *o);
const char *vi_options_name(const struct vi_options *o, unsigned i);

/* Adds a hidden option qvm itself renders (--uuid): 0, -E2BIG, -ENOMEM. */
int vi_options_add(struct vi_options *o, const char *name) __attribute__((warn_unused_result));

/* Whether name (without "--") is listed, spelled exactly. */
bool vi_options_has(const struct vi_options *o, const char *name);

/*
 * Checks every key of the vm document mapping: each must name a listed
 * option exactly. Appends one "LINE:COL: text" message per other key to
 * *errors: an abbreviation names the option(s) virt-install would expand it
 * to, a typo gets the closest option as a suggestion when one is close
 * enough. Keys that are not scalars are skipped (virt_args_check reports
 * them), as is a vm that is not a mapping. Returns 0, -EINVAL when messages
 * were added, or -ENOMEM.
 */
int vi_options_check_vm(const struct vi_options *o, const struct ynode *vm, char ***errors)
	__attribute__((warn_unused_result));

#endif
