/* SPDX-License-Identifier: MIT */
/* The host a run of qvm works on, when it is not this one: reached with
 * ssh(1) through one master connection (ControlMaster) opened by
 * remote_open and reused by every call until remote_close. While a remote
 * host is open, zfs runs there, the state and zvol directories are the
 * remote's own (its ${QVM_STATE_DIR:-/var/lib/qvm}, ${QVM_ZVOL_DIR:-/dev/zvol})
 * and files in them are made there (hostfs.h). Every word sent is quoted
 * for the remote POSIX shell by strv_join_shell; remote_open checks that
 * the remote shell reads it back byte for byte. $QVM_SSH_CONFIG, if set,
 * is ssh's configuration file (-F). */
#ifndef QVM_REMOTE_H
#define QVM_REMOTE_H

#include <stdbool.h>

#include "hosts.h"
#include "process.h"

/* Opens the connection to h (copied) and makes it the host of this run.
 * 0, or -errno with *err: -EHOSTUNREACH (ssh could not connect: its words),
 * -EPROTO (the remote shell does not read POSIX quoting back). */
int remote_open(const struct host_spec *h, char **err);
/* Closes the master connection (also at exit). Local again. */
void remote_close(void);
/* The open host, or NULL when qvm works on this one. */
const struct host_spec *remote_current(void);
/* While a host is open: here true makes the commands that follow run on
 * this host instead, until remote_here(false) (for what only this host
 * can answer: whether an image is here). The previous setting. */
bool remote_here(bool here);
/* " --host NAME" while a remote host is open, else "": for the qvm
 * commands qvm suggests in its messages (valid while it is open). */
const char *remote_option(void);
/* sh: a function kind PATH that prints what PATH is, a letter as
 * hostfs_kind's ('l' link, 'd' directory, 'f' regular file, 'o' other;
 * '-' nothing). */
#define REMOTE_SH_KIND                                                                                     \
	"kind() { if [ -L \"$1\" ]; then k=l; elif [ -d \"$1\" ]; then k=d; elif [ -f \"$1\" ]; then k=f; " \
	"elif [ -e \"$1\" ]; then k=o; else k=-; fi; printf %s \"$k\"; }; "

/* Names in the host's state directory (the seed directories of the VMs
 * to make) that the next remote_open looks at in its first round trip;
 * remote_prefetched_kind tells what it found under path (that directory/
 * NAME) once: its kind letter as hostfs_kind's, or '-' for nothing. */
int remote_prefetch(char *const *names);
bool remote_prefetched_kind(const char *path, char *kind);
/* The open host's directories (valid while it is open). */
const char *remote_state_dir(void);
const char *remote_zvol_dir(void);

/* The URI libvirt (qvm's own connection, virt-install's) is given for uri:
 * for the open host's own ssh URI (its user, host and port those qvm's
 * ssh uses), the same with command= naming qvm's ssh shim, so that
 * libvirt's ssh goes through the run's master connection instead of
 * opening its own; else uri itself. malloc'd, NULL on ENOMEM. */
char *remote_libvirt_uri(const char *uri);
/* Whether argv[0] is the ssh shim (remote_libvirt_uri): then it runs ssh
 * through the master of the run that made it and does not return. */
void remote_ssh_shim(int argc, char **argv);

/* argv as the argument vector that runs it on the open host: ssh ... --
 * HOST 'QUOTED LINE' (a copy of argv when no host is open). With
 * SPAWN_C_LOCALE in flags, the remote program runs with LC_ALL=C too. */
int remote_argv(char *const *argv, unsigned flags, char ***out);

/* Runs argv on the open host (or here) like spawn_check, with stdin_fd as
 * its standard input (-1: /dev/null). ssh failing to reach the host is
 * -EHOSTUNREACH with "cannot reach HOST: <ssh's words>". */
int remote_run(char *const *argv, unsigned flags, int stdin_fd, struct spawn_result *res, char **err)
	__attribute__((warn_unused_result));

/* Runs argv on the open host as remote_run does and, when it succeeds,
 * the POSIX sh script with args as $1... right after it, in the same
 * round trip. When the script is what failed (-EIO), *in_then is true and
 * res->status is the script's exit status. -ENOTCONN here (no host open:
 * the caller does both steps itself). */
int remote_run_then(char *const *argv, unsigned flags, const char *script, char *const *args,
		    struct spawn_result *res, bool *in_then, char **err) __attribute__((warn_unused_result));

/* Runs the POSIX sh script on the open host (or here) with args as $1...:
 * sh -c SCRIPT qvm ARGS. Same returns as remote_run. */
int remote_sh(const char *script, char *const *args, unsigned flags, int stdin_fd, struct spawn_result *res,
	      char **err) __attribute__((warn_unused_result));

#endif
