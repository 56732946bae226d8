/* SPDX-License-Identifier: MIT */
/* The subcommands and the options main() parses for them. Each command
 * returns 0 on success or -1 after printing its error; main() turns that
 * into the exit status. */
#ifndef QVM_COMMANDS_H
#define QVM_COMMANDS_H

#include <stdbool.h>

/* Every option of every command has one id. main() knows from the command
 * table which command accepts which. */
enum opt_id {
	OPT_YES,          /* --yes, -y: do not ask */
	OPT_JSON,         /* --json: machine-readable output */
	OPT_KEEP_DISKS,   /* --keep-disks (destroy) */
	OPT_DRY_RUN,      /* --dry-run, -n (vm): check and show, change nothing */
	OPT_NAME,         /* --name NAME (vm) */
	OPT_SET,          /* --set PATH=VALUE (vm), repeatable */
	OPT_COUNT,        /* --count N (vm) */
	OPT_WAIT,         /* --wait[=SECONDS] (vm) */
	OPT_SKIP_EXISTING, /* --skip-existing (vm --count): make only the instances not there */
	OPT_SHA256,       /* --sha256 HEX: the image's expected SHA-256 */
	OPT_SHA512,       /* --sha512 HEX: the image's expected SHA-512 */
	OPT_CHECKSUM_FILE, /* --checksum-file FILE|URL: a SHA256SUMS/SHA512SUMS file naming it */
	OPT_FORCE,        /* --force (import): a raw image in which no disk is recognised */
	OPT_SIZE,         /* --size SIZE: the zvol's size */
	OPT_QUIET,        /* --quiet, -q: no progress output */
	OPT_OSINFO,       /* --osinfo NAME (import): recorded as the image's qvm:osinfo */
	OPT_USER,         /* --user NAME: import: recorded as the image's qvm:user; ssh: the user to log in as */
	OPT_AVAILABLE,    /* --available (images): the catalog, not what was imported */
	OPT_HOST,         /* --host [USER@]HOST[:PORT]|NAME: work on that host, through ssh */
	OPT_ALL_HOSTS,    /* --all-hosts (list, images): this host and every host of the hosts file */
	OPT__MAX
};

/* What main() parsed: each option's values in command-line order
 * (a flag without a value records ""). */
struct cmd_opts {
	char **values[OPT__MAX];
};

static inline bool opt_has(const struct cmd_opts *o, enum opt_id id) { return o->values[id] != 0; }
/* The last value given for an option, or NULL. */
const char *opt_last(const struct cmd_opts *o, enum opt_id id);

/* Opens the host --host names (a hosts-file name or [USER@]HOST[:PORT]);
 * 0, or -1 after printing why. */
int cmd_host_open(const char *name);

int cmd_import(int argc, char **argv, const struct cmd_opts *opts);
int cmd_vm(int argc, char **argv, const struct cmd_opts *opts);
int cmd_cleanup(int argc, char **argv, const struct cmd_opts *opts);
int cmd_destroy(int argc, char **argv, const struct cmd_opts *opts);
int cmd_list(int argc, char **argv, const struct cmd_opts *opts);
int cmd_images(int argc, char **argv, const struct cmd_opts *opts);
int cmd_ssh(int argc, char **argv, const struct cmd_opts *opts);
/* qvm's own: what a host has for qvm vm --host auto (fleet.c) */
int cmd_probe_host(int argc, char **argv, const struct cmd_opts *opts);

#endif
