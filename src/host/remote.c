/* SPDX-License-Identifier: MIT */
/* The remote host of a run (remote.h): one ssh master connection, every
 * command a quoted line through it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <limits.h>
#include <sys/stat.h>
#include <time.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "remote.h"
#include "cleanup.h"
#include "msgtext.h"
#include "report.h"
#include "sshmux.h"
#include "strv.h"
#include "banned.h"

static struct {
	bool open;
	bool here;         /* commands run here for now (remote_here) */
	struct host_spec h;
	char *dir;         /* private 0700 directory holding the control socket */
	int dir_lock;      /* dir, open and flock'ed while the run lives (sweep) */
	char *ctl;
	char *shim;        /* dir/ssh: qvm itself, as ssh for libvirt */
	char *state_dir;
	char *zvol_dir;
	char **kind_names;  /* names in the state dir the first command looked at */
	char *kinds;        /* what each was ('-': nothing), '\0' once told */
} R;

/* the names the next remote_open looks at (remote_prefetch) */
static char **prefetch;

const struct host_spec *remote_current(void)
{
	return R.open ? &R.h : NULL;
}

bool remote_here(bool here)
{
	bool was = R.here;

	R.here = here;
	return was;
}

/* Whether a command goes through ssh now. */
static bool via_ssh(void)
{
	return R.open && !R.here;
}

/* "[USER@]HOST[:PORT]" of a libvirt URI, or NULL; *transport_ssh when it
 * is DRIVER+ssh:// (libvirt's ssh transport: the only one that runs ssh). */
static char *uri_authority(const char *uri, bool *transport_ssh)
{
	const char *sep = strstr(uri, "://"), *plus = memchr(uri, '+', sep ? (size_t)(sep - uri) : 0);
	size_t len;

	*transport_ssh = plus && sep && (size_t)(sep - plus - 1) == 3 && strncmp(plus + 1, "ssh", 3) == 0;
	if (!sep)
		return NULL;
	len = strcspn(sep + 3, "/?");
	return len ? strndup(sep + 3, len) : NULL;
}

char *remote_libvirt_uri(const char *uri)
{
	_cleanup_free_ char *auth = NULL, *want = NULL;
	bool ssh;
	bool v6;

	if (!R.open || !R.shim || !uri)
		return uri ? strdup(uri) : NULL;
	auth = uri_authority(uri, &ssh);
	v6 = strchr(R.h.address, ':') != NULL;
	char port[16] = "";
	if (R.h.port)
		snprintf(port, sizeof(port), ":%u", R.h.port);
	want = strdupf("%s%s%s%s%s%s", R.h.user ? R.h.user : "", R.h.user ? "@" : "", v6 ? "[" : "", R.h.address,
		       v6 ? "]" : "", port);
	/* another user, host or port than qvm's ssh: its own connection */
	if (!ssh || !auth || !want || strcmp(auth, want) != 0 || strstr(uri, "command="))
		return strdup(uri);
	/* the path as a URI's query value: libvirt splits on '&' and ';'
	 * and decodes %XX */
	_cleanup_free_ char *path = malloc(3 * strlen(R.shim) + 1);
	if (!path)
		return NULL;
	char *o = path;
	for (const unsigned char *c = (const unsigned char *)R.shim; *c; c++) {
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._-", *c))
			*o++ = (char)*c;
		else
			o += snprintf(o, 4, "%%%02X", *c);
	}
	*o = '\0';
	return strdupf("%s%ccommand=%s", uri, strchr(uri, '?') ? '&' : '?', path);
}

/* The remote command of libvirt's ssh arguments ([-p PORT] [-l USER]
 * [-i KEY] [-T] [-e none] [-o OPTION]... -- HOST COMMAND...: its words
 * joined with spaces, as ssh joins them), or NULL for any other form:
 * then ssh itself reads them. User, host and port are those of the
 * master (remote_libvirt_uri gives the shim to no other URI). */
static char *shim_command(int argc, char **argv)
{
	static const char with_value[] = "eilop", flags[] = "46CTqx";
	char *line = NULL;
	int i = 1;

	for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
		const char *a = argv[i];
		if (a[0] != '-' || !a[1])
			return NULL;
		if (strchr(with_value, a[1]))
			i += !a[2];    /* "-p 22" or "-p22" */
		else if (!strchr(flags, a[1]) || a[2])
			return NULL;
	}
	if (i + 2 >= argc)
		return NULL;
	for (int k = i + 2; k < argc; k++) {
		char *more = line ? strdupf("%s %s", line, argv[k]) : strdup(argv[k]);
		free(line);
		if (!(line = more))
			return NULL;
	}
	return line;
}

void remote_ssh_shim(int argc, char **argv)
{
	const char *slash = strrchr(argv[0], '/');
	_cleanup_(strv_freep) char **v = NULL;
	char dir[PATH_MAX], link[PATH_MAX + 16], cfg[PATH_MAX];
	ssize_t n;

	/* /.../qvm-ssh-XXXXXX/ssh, as remote_open made it */
	if (!slash || strcmp(slash, "/ssh") != 0 || (size_t)(slash - argv[0]) >= sizeof(dir))
		return;
	memcpy(dir, argv[0], (size_t)(slash - argv[0]));
	dir[slash - argv[0]] = '\0';
	slash = strrchr(dir, '/');
	if (!slash || strncmp(slash + 1, "qvm-ssh-", 8) != 0)
		return;
	/* the usual case: a command, run through the master by qvm itself */
	_cleanup_free_ char *command = shim_command(argc, argv), *ctl = strdupf("%s/master", dir), *why = NULL;
	if (command && ctl) {
		int r = sshmux_attach(ctl, command, &why);
		if (r >= 0)
			_exit(r);
		fprintf(stderr, "qvm: %s\n", why ? why : strerror(-r));
		_exit(255);
	}
	if (strv_push(&v, "ssh") < 0)
		_exit(255);
	/* the run's ssh configuration, if it had one (libvirt passes ssh
	 * only a few variables: it is kept beside the socket) */
	snprintf(link, sizeof(link), "%s/config", dir);
	n = readlink(link, cfg, sizeof(cfg) - 1);
	if (n > 0) {
		cfg[n] = '\0';
		if (strv_push_many(&v, "-F", cfg, NULL) < 0)
			_exit(255);
	}
	if (strv_push(&v, "-S") < 0 || strv_pushf(&v, "%s/master", dir) < 0 ||
	    strv_push_many(&v, "-o", "ControlMaster=no", NULL) < 0)
		_exit(255);
	for (int i = 1; i < argc; i++)
		if (strv_push(&v, argv[i]) < 0)
			_exit(255);
	execvp("ssh", v);
	fprintf(stderr, "qvm: cannot run ssh: %s\n", strerror(errno));
	_exit(255);
}

int remote_prefetch(char *const *names)
{
	strv_free(prefetch);
	prefetch = NULL;
	return names ? strv_extend(&prefetch, names) : 0;
}

bool remote_prefetched_kind(const char *path, char *kind)
{
	size_t len = R.state_dir ? strlen(R.state_dir) : 0;

	if (!via_ssh() || !R.kinds || strncmp(path, R.state_dir, len) != 0 || path[len] != '/')
		return false;
	for (size_t i = 0; R.kind_names && R.kind_names[i]; i++)
		if (R.kinds[i] && strcmp(path + len + 1, R.kind_names[i]) == 0) {
			/* told once: what it is later is asked again */
			*kind = R.kinds[i];
			R.kinds[i] = '\0';
			return true;
		}
	return false;
}

const char *remote_option(void)
{
	static char buf[300];

	if (!R.open)
		return "";
	snprintf(buf, sizeof(buf), " --host %s", R.h.name);
	return buf;
}

const char *remote_state_dir(void)
{
	return R.state_dir;
}

const char *remote_zvol_dir(void)
{
	return R.zvol_dir;
}

/* ssh's options for every connection of the run: no questions (BatchMode),
 * nothing forwarded to the host (agent, X11, ports: a host qvm manages is
 * not trusted with this machine's keys), a dead link noticed within ~45 s. */
static int ssh_base(char ***v)
{
	const char *cfg = getenv("QVM_SSH_CONFIG");
	int r = strv_push(v, "ssh");

	if (r == 0 && cfg && *cfg)
		r = strv_push_many(v, "-F", cfg, NULL);
	if (r == 0)
		r = strv_push_many(v, "-T", "-a", "-x", "-o", "BatchMode=yes", "-o", "ClearAllForwardings=yes", "-o",
				   "ConnectTimeout=15", "-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=3",
				   "-S", R.ctl, NULL);
	if (r == 0 && R.h.port)
		r = strv_pushf(v, "-p%u", R.h.port);
	if (r == 0 && R.h.user)
		r = strv_push_many(v, "-l", R.h.user, NULL);
	return r;
}

/* argv as one line for the remote shell (with SPAWN_C_LOCALE, run by
 * env in the C locale: the remote program reads its own locale from the
 * remote side, and ssh passes the user's LANG/LC_* on). */
static char *command_line(char *const *argv, unsigned flags)
{
	_cleanup_(strv_freep) char **words = NULL;
	int r = 0;

	if (flags & SPAWN_C_LOCALE)
		r = strv_push_many(&words, "env", "LC_ALL=C", "LANGUAGE=C", NULL);
	if (r == 0)
		r = strv_extend(&words, argv);
	return r < 0 ? NULL : strv_join_shell(words);
}

int remote_argv(char *const *argv, unsigned flags, char ***out)
{
	_cleanup_(strv_freep) char **v = NULL;
	char *line;
	int r = 0;

	if (!via_ssh()) {
		r = strv_extend(&v, argv);
		if (r == 0)
			*out = TAKE_PTR(v);
		return r;
	}
	r = ssh_base(&v);
	if (r == 0)
		r = strv_push_many(&v, "-o", "ControlMaster=no", "--", R.h.address, NULL);
	if (r < 0)
		return r;
	if (!(line = command_line(argv, flags)))
		return -ENOMEM;
	r = strv_consume(&v, line);
	if (r == 0)
		*out = TAKE_PTR(v);
	return r;
}

/* "cannot reach HOST: why", why escaped (it may hold the host's words). */
static int unreachable_why(const char *why, char **err)
{
	char shown[1024];

	msg_text(shown, sizeof(shown), why ? why : "", why ? strlen(why) : 0);
	free(*err);
	*err = strdupf("cannot reach %s: %s", R.h.name, shown);
	return *err ? -EHOSTUNREACH : -ENOMEM;
}

/* ssh's own failures exit 255; a remote command's words are its own. */
static int unreachable(const struct spawn_result *res, char **err)
{
	_cleanup_free_ char *why = spawn_error_text(res);

	return unreachable_why(why, err);
}

/* line through the master, as remote_run runs a command there. */
static int run_line(const char *line, unsigned flags, int stdin_fd, struct spawn_result *res, char **err)
{
	_cleanup_free_ char *why = NULL;
	int r = sshmux_run(R.ctl, line, stdin_fd, flags, res, &why);

	if (r == -EHOSTUNREACH)
		return unreachable_why(why, err);
	if (r == -EINTR || (r == 0 && res->status != 0)) {
		free(*err);
		if (!(*err = spawn_error_text(res)))
			return -ENOMEM;
		return r == -EINTR ? r : -EIO;
	}
	if (r < 0) {
		free(*err);
		*err = TAKE_PTR(why);
	}
	return r;
}

int remote_run(char *const *argv, unsigned flags, int stdin_fd, struct spawn_result *res, char **err)
{
	_cleanup_free_ char *line = NULL;

	if (!via_ssh())
		return spawn_check_input(argv, flags, stdin_fd, res, err);
	/* through the master without an ssh process of its own (sshmux.h) */
	if (!(line = command_line(argv, flags))) {
		memset(res, 0, sizeof(*res));
		return report_error(err, -ENOMEM, "cannot run %s: %s", argv[0], strerror(ENOMEM));
	}
	return run_line(line, flags, stdin_fd, res, err);
}

int remote_run_then(char *const *argv, unsigned flags, const char *script, char *const *args,
		    struct spawn_result *res, bool *in_then, char **err)
{
	/* one sh runs both (the script in a subshell of it, with args as its
	 * $1...); the command's status is kept under 100, the script's from
	 * 100 on: which of the two failed is known without another round trip */
	static const char tail[] = "; s=$?; [ \"$s\" = 0 ] || exit $((s > 99 ? 99 : s)); (%s) || "
				   "{ s=$?; exit $((s > 154 ? 254 : 100 + s)); }";
	_cleanup_(strv_freep) char **words = NULL;
	_cleanup_free_ char *cmd = NULL, *both = NULL, *line = NULL, *then = NULL;
	int r;

	*in_then = false;
	memset(res, 0, sizeof(*res));
	if (!via_ssh())
		return report_error(err, -ENOTCONN, "no remote host is open");
	/* sh's own assignment, not env(1): one program fewer to start */
	if (!(cmd = command_line(argv, flags & ~SPAWN_C_LOCALE)) || !(then = strdupf(tail, script)) ||
	    !(both = strdupf("%s%s%s", flags & SPAWN_C_LOCALE ? "LC_ALL=C LANGUAGE=C " : "", cmd, then)) ||
	    strv_push_many(&words, "sh", "-c", both, "qvm", NULL) < 0 || (args && strv_extend(&words, args) < 0) ||
	    !(line = strv_join_shell(words)))
		return report_error(err, -ENOMEM, "cannot run %s: %s", argv[0], strerror(ENOMEM));
	r = run_line(line, flags, -1, res, err);
	if (r == -EIO && res->status >= 100) {
		*in_then = true;
		res->status -= 100;
		free(*err);
		if (!(*err = spawn_error_text(res)))
			return -ENOMEM;
	}
	return r;
}

int remote_sh(const char *script, char *const *args, unsigned flags, int stdin_fd, struct spawn_result *res,
	      char **err)
{
	_cleanup_(strv_freep) char **v = NULL;
	int r;

	memset(res, 0, sizeof(*res));
	if (!R.open)
		return report_error(err, -ENOTCONN, "no remote host is open");
	r = strv_push_many(&v, "sh", "-c", script, "qvm", NULL);
	if (r == 0 && args)
		r = strv_extend(&v, args);
	if (r < 0)
		return report_error(err, r, "%s", strerror(-r));
	return remote_run(v, flags, stdin_fd, res, err);
}

/* The bytes 1..255: every byte a word can hold, read back by the remote
 * shell to prove that quoting means there what it means here. */
static void probe_word(char buf[256])
{
	for (int i = 1; i < 256; i++)
		buf[i - 1] = (char)i;
	buf[255] = '\0';
}

/* A directory the remote reports: absolute, no trailing slash, one line. */
static char *remote_dir(const char *line, size_t len)
{
	while (len > 1 && line[len - 1] == '/')
		len--;
	if (len == 0 || line[0] != '/' || len > 1024)
		return NULL;
	/* printed in messages, given to virt-install: no control characters
	 * (C0, DEL, C1) */
	if (msg_has_control(line, len))
		return NULL;
	return strndup(line, len);
}

/* The host's directories, what the state directory holds under each name
 * of $2... (a letter each: that lookup costs no round trip of its own),
 * then the probe ($1) read back. */
static const char settings_script[] =
	REMOTE_SH_KIND "s=${QVM_STATE_DIR:-/var/lib/qvm}; printf '%s\\n' \"$s\" \"${QVM_ZVOL_DIR:-/dev/zvol}\"; "
	"p=$1; shift; for n; do kind \"$s/$n\"; done; printf '\\n%s' \"$p\"";

static int parse_settings(const char *out, const char *probe, char **err)
{
	const char *nl1 = strchr(out, '\n'), *nl2 = nl1 ? strchr(nl1 + 1, '\n') : NULL;
	const char *nl3 = nl2 ? strchr(nl2 + 1, '\n') : NULL;
	size_t n = strv_length(R.kind_names);

	if (!nl3 || strcmp(nl3 + 1, probe) != 0)
		return report_error(err, -EPROTO, "the login shell on %s does not read a quoted word back as sent "
				    "(qvm needs a POSIX shell there: sh, bash, dash, ksh or zsh, and no output from "
				    "its start-up files)", R.h.name);
	if ((size_t)(nl3 - nl2 - 1) != n || strspn(nl2 + 1, "ldfo-") < n)
		return report_error(err, -EPROTO, "unexpected answer from %s", R.h.name);
	if (n && !(R.kinds = strndup(nl2 + 1, n)))
		return -ENOMEM;
	R.state_dir = remote_dir(out, (size_t)(nl1 - out));
	R.zvol_dir = remote_dir(nl1 + 1, (size_t)(nl2 - nl1 - 1));
	if (!R.state_dir || !R.zvol_dir)
		return report_error(err, -EPROTO, "%s reports a state or zvol directory that is not an absolute path "
				    "of printable characters", R.h.name);
	return 0;
}

static void forget(void)
{
	if (R.dir) {
		_cleanup_free_ char *cfg = strdupf("%s/config", R.dir);
		if (R.ctl)
			(void)unlink(R.ctl);
		if (R.shim)
			(void)unlink(R.shim);
		if (cfg)
			(void)unlink(cfg);
		(void)rmdir(R.dir);
	}
	if (R.dir_lock > 0)
		close(R.dir_lock);
	free(R.dir);
	free(R.ctl);
	free(R.shim);
	free(R.state_dir);
	free(R.zvol_dir);
	strv_free(R.kind_names);
	free(R.kinds);
	host_spec_clear(&R.h);
	memset(&R, 0, sizeof(R));
}

void remote_close(void)
{
	if (!R.open)
		return;
	/* the master ends; commands still running through it are cut off.
	 * It removes its socket as it ends, just after: the directory goes
	 * once that is done (up to a second) */
	if (sshmux_exit(R.ctl, 1000) == 0)
		for (int i = 0; i < 1000 && access(R.ctl, F_OK) == 0; i++)
			usleep(1000);
	forget();
}

static int copy_spec(const struct host_spec *from, struct host_spec *to)
{
	memset(to, 0, sizeof(*to));
	if (!(to->name = strdup(from->name)) || !(to->address = strdup(from->address)) ||
	    (from->user && !(to->user = strdup(from->user))) || (from->connect && !(to->connect = strdup(from->connect))))
		return -ENOMEM;
	to->port = from->port;
	return 0;
}

/* A directory where no other user can rename or replace qvm's entries:
 * root's or this user's, and writable by no one else unless sticky. */
static bool dir_safe(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_uid == 0 || st.st_uid == geteuid()) &&
	       (!(st.st_mode & (S_IWGRP | S_IWOTH)) || (st.st_mode & S_ISVTX));
}

/* Control directories of runs killed before they closed (a read-only
 * command dies of ^C at once; its master ends by itself): this user's,
 * over a minute old, with no master listening in them any more; what is
 * in them is qvm's (the socket, the shim and config links) and goes. */
static void sweep(const char *tmp)
{
	static const char *const names[] = { "master", "ssh", "config" };
	DIR *d = opendir(tmp);
	struct dirent *e;
	struct stat st;
	time_t now = time(NULL);

	while (d && (e = readdir(d))) {
		char path[PATH_MAX], ctl[PATH_MAX + 8];
		if (strncmp(e->d_name, "qvm-ssh-", 8) != 0 || strlen(e->d_name) != 14 ||
		    snprintf(path, sizeof(path), "%s/%s", tmp, e->d_name) >= (int)sizeof(path))
			continue;
		if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() || now - st.st_mtime <= 60)
			continue;
		snprintf(ctl, sizeof(ctl), "%s/master", path);
		if (sshmux_listening(ctl))
			continue;
		/* a live run holds a lock on its directory (its master may still
		 * be logging in, with no socket yet) */
		int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0) {
			close(fd);
			continue;
		}
		for (size_t i = 0; fd >= 0 && i < sizeof(names) / sizeof(names[0]); i++)
			if (fstatat(fd, names[i], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    (S_ISLNK(st.st_mode) || (i == 0 && S_ISSOCK(st.st_mode))))
				(void)unlinkat(fd, names[i], 0);
		if (fd >= 0)
			close(fd);
		(void)rmdir(path);
	}
	if (d)
		closedir(d);
}

int remote_open(const struct host_spec *h, char **err)
{
	_cleanup_(strv_freep) char **v = NULL;
	struct spawn_result res;
	const char *tmp = getenv("TMPDIR");
	static bool registered;
	int r;

	remote_close();
	/* ssh expands %-tokens in the control path, and a unix socket's path
	 * has at most 107 bytes: an unusual TMPDIR is not used for it; nor
	 * one another user could rename qvm's directory in (libvirt runs the
	 * shim in it) */
	if (!tmp || *tmp != '/' || strchr(tmp, '%') || strlen(tmp) > 64 || !dir_safe(tmp))
		tmp = "/tmp";
	if (!dir_safe(tmp))
		return report_error(err, -EPERM, "no directory for the ssh connection: TMPDIR and /tmp are "
				    "writable by other users without the sticky bit, or not root's or this user's");
	sweep(tmp);
	if (copy_spec(h, &R.h) < 0 || !(R.dir = strdupf("%s/qvm-ssh-XXXXXX", tmp))) {
		forget();
		return -ENOMEM;
	}
	if (!mkdtemp(R.dir)) {
		r = -errno;
		free(TAKE_PTR(R.dir));
		forget();
		return report_error(err, r, "cannot create a directory for the ssh connection: %s", strerror(-r));
	}
	if (!(R.ctl = strdupf("%s/master", R.dir))) {
		forget();
		return -ENOMEM;
	}
	R.dir_lock = open(R.dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (R.dir_lock < 0 || flock(R.dir_lock, LOCK_EX | LOCK_NB) < 0) {
		r = -errno;
		forget();
		return report_error(err, r, "cannot lock the ssh connection's directory: %s", strerror(-r));
	}
	/* the ssh libvirt runs for this host: qvm itself (remote_ssh_shim),
	 * through the master; without it libvirt opens connections of its own */
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	const char *cfg = getenv("QVM_SSH_CONFIG");
	if (n > 0) {
		exe[n] = '\0';
		R.shim = strdupf("%s/ssh", R.dir);
		if (R.shim && symlink(exe, R.shim) < 0)
			free(TAKE_PTR(R.shim));
	}
	if (R.shim && cfg && *cfg) {
		_cleanup_free_ char *link = strdupf("%s/config", R.dir), *abs = realpath(cfg, NULL);
		if (!link || !abs || symlink(abs, link) < 0) {
			(void)unlink(R.shim);
			free(TAKE_PTR(R.shim));
		}
	}
	if (!registered) {
		atexit(remote_close);
		registered = true;
	}
	/* the master: authenticates and runs its first command (the host's
	 * directories, the probe read back), then goes to the background and
	 * serves every later command of this run; it ends itself if qvm dies
	 * without closing it (ControlPersist counts from the last command) */
	char probe[256];
	_cleanup_free_ char *line = NULL;
	_cleanup_(strv_freep) char **words = NULL;
	probe_word(probe);
	R.kind_names = TAKE_PTR(prefetch);
	r = strv_push_many(&words, "sh", "-c", settings_script, "qvm", probe, NULL);
	if (r == 0 && R.kind_names)
		r = strv_extend(&words, R.kind_names);
	if (r == 0)
		r = ssh_base(&v);
	if (r == 0 && !(line = strv_join_shell(words)))
		r = -ENOMEM;
	if (r == 0)
		r = strv_push_many(&v, "-o", "ControlMaster=yes", "-o", "ControlPersist=30", "--", R.h.address, line,
				   NULL);
	if (r < 0) {
		forget();
		return r;
	}
	R.open = true;
	r = spawn_check(v, SPAWN_CAPTURE_STDERR | SPAWN_CAPTURE_STDOUT, &res, err);
	if (r < 0 && (res.signal || res.status == 255 || r == -EINTR))
		r = unreachable(&res, err);
	else if (r == -EIO)
		r = report_error(err, -EPROTO, "cannot run sh on %s: %s", R.h.name, *err ? *err : "failed");
	else if (r == 0)
		r = parse_settings(res.out ? res.out : "", probe, err);
	spawn_result_clear(&res);
	if (r < 0)
		remote_close();
	return r;
}
