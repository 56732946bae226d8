/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
/* program_find */
#include <sys/stat.h>

#include "cleanup.h"
#include "clock.h"
#include "process.h"
#include "strv.h"
#include "report.h"
#include "signals.h"
#include "banned.h"

extern char **environ;

struct capture {
	int fd;
	char *buf;
	size_t len, cap;
	size_t max;                  /* bytes kept; the rest is read and dropped */
};

/* A child's error text is for a message: a hostile input can make a tool
 * print without end (qemu-img check reports every damaged cluster). */
#define STDERR_MAX (64u << 10)

static int capture_read(struct capture *c)
{
	char tmp[4096];
	ssize_t n = read(c->fd, tmp, sizeof(tmp));

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -errno;
	if (n == 0) {
		close(c->fd);
		c->fd = -1;
		return 0;
	}
	if (c->max && c->len + (size_t)n > c->max)
		n = (ssize_t)(c->max - c->len);
	if (n == 0)
		return 0;
	if (c->len + (size_t)n + 1 > c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 8192;
		while (ncap < c->len + (size_t)n + 1)
			ncap *= 2;
		char *nb = realloc(c->buf, ncap);
		if (!nb)
			return -ENOMEM;
		c->buf = nb;
		c->cap = ncap;
	}
	memcpy(c->buf + c->len, tmp, (size_t)n);
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	return 0;
}

/* Reads both pipes until the child closes them. */
static int capture_all(struct capture *caps, size_t ncaps)
{
	int r = 0;

	for (;;) {
		struct pollfd pfd[2];
		size_t map[2], n = 0;

		for (size_t i = 0; i < ncaps; i++)
			if (caps[i].fd >= 0) {
				pfd[n].fd = caps[i].fd;
				pfd[n].events = POLLIN;
				map[n++] = i;
			}
		if (n == 0)
			return r;
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (size_t i = 0; i < n; i++)
			if (pfd[i].revents) {
				int q = capture_read(&caps[map[i]]);
				if (q < 0) {
					/* keep draining so the child never blocks */
					r = q;
					close(caps[map[i]].fd);
					caps[map[i]].fd = -1;
				}
			}
	}
}

/* environ without the variables that choose a language, then LC_ALL=C
 * (over every LC_* and LANG) and LANGUAGE=C (GNU gettext reads it before
 * LC_ALL). The strings stay environ's; only the array is malloc'd. */
static char **c_locale_env(void)
{
	static char lc_all[] = "LC_ALL=C", language[] = "LANGUAGE=C";
	size_t n = 0, k = 0;
	char **env;

	while (environ && environ[n])
		n++;
	env = malloc((n + 3) * sizeof(*env));
	if (!env)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "LC_ALL=", 7) != 0 && strncmp(environ[i], "LANGUAGE=", 9) != 0)
			env[k++] = environ[i];
	env[k++] = lc_all;
	env[k++] = language;
	env[k] = NULL;
	return env;
}

/* Starts argv (found on PATH) with stdin from in_fd (-1: /dev/null),
 * stdout to out_fd (-1: /dev/null, or qvm's own with SPAWN_INHERIT_STDOUT)
 * and stderr to err_fd (-1: /dev/null), in its own process group with
 * every signal's default action and none blocked. 0, or -errno. */
static int start_child(char *const argv[], unsigned flags, int in_fd, int out_fd, int err_fd, pid_t *pid)
{
	_cleanup_free_ char **c_env = NULL;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t all, none;
	int r;

	if ((flags & SPAWN_C_LOCALE) && !(c_env = c_locale_env()))
		return -ENOMEM;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	if (in_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, in_fd, STDIN_FILENO);
	else
		posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	if (out_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
	else if (!(flags & SPAWN_INHERIT_STDOUT))
		posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	if (err_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, err_fd, STDERR_FILENO);
	else
		posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	/* own process group: the terminal's ^C reaches only qvm, which decides
	 * what the child gets (and keeps undo steps from being interrupted) */
	sigfillset(&all);
	sigemptyset(&none);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK |
					 POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setpgroup(&attr, 0);

	r = -posix_spawnp(pid, argv[0], &fa, &attr, argv, c_env ? c_env : environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return r;
}

/* How a child ended, into res. */
static void child_status(int wstatus, struct spawn_result *res)
{
	if (WIFEXITED(wstatus)) {
		res->status = WEXITSTATUS(wstatus);
	} else if (WIFSIGNALED(wstatus)) {
		res->signal = WTERMSIG(wstatus);
		res->status = 128 + res->signal;
	}
}

/* 0 when the program ran, whatever its exit status; -errno when it could
 * not be started. */
static int spawn_run(char *const argv[], unsigned flags, int stdin_fd, struct spawn_result *res)
{
	struct capture caps[2] = { { .fd = -1 }, { .fd = -1, .max = STDERR_MAX } };
	int pipes[2][2] = { { -1, -1 }, { -1, -1 } };
	pid_t pid;
	int r, wstatus;

	memset(res, 0, sizeof(*res));
	for (int i = 0; i < 2; i++) {
		unsigned want = i == 0 ? SPAWN_CAPTURE_STDOUT : SPAWN_CAPTURE_STDERR;
		if ((flags & want) && pipe2(pipes[i], O_CLOEXEC) < 0) {
			r = -errno;
			goto close_pipes;
		}
	}
	r = start_child(argv, flags, stdin_fd, pipes[0][1], pipes[1][1], &pid);
	if (r < 0)
		goto close_pipes;
	/* a command that changes nothing needs no outcome: every child stops */
	if (!(flags & SPAWN_NO_FORWARD) || signals_readonly()) {
		signals_set_child(pid);
		/* a signal that came before the child existed is passed on now,
		 * except to an undo step: rollback runs to its end */
		if (signal_pending() && signal_pending() != SIGPIPE && signals_forwarding())
			(void)kill(pid, signal_pending());
	}

	for (int i = 0; i < 2; i++) {
		if (pipes[i][1] >= 0) {
			close(pipes[i][1]);
			pipes[i][1] = -1;
		}
		caps[i].fd = pipes[i][0];
		pipes[i][0] = -1;
	}
	r = capture_all(caps, 2);

	while (waitpid(pid, &wstatus, 0) < 0) {
		if (errno != EINTR) {
			r = -errno;
			break;
		}
	}
	signals_set_child(0);
	if (r == 0) {
		child_status(wstatus, res);
		res->out = TAKE_PTR(caps[0].buf);
		res->err = TAKE_PTR(caps[1].buf);
	}
	free(caps[0].buf);
	free(caps[1].buf);
	return r;

close_pipes:
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2; j++)
			if (pipes[i][j] >= 0)
				close(pipes[i][j]);
	return r;
}

/* A child of spawn_all. */
struct child {
	pid_t pid;                   /* 0 not started, -1 finished */
	int pidfd;                   /* readable once it has ended; -1: none (old kernel) */
	bool reaped;                 /* it has ended: wstatus says how */
	int wstatus;
	struct capture caps[2];      /* stdout, stderr: fd -1 once closed */
	int64_t started, term_at;    /* ms (CLOCK_MONOTONIC); term_at 0: not timed out */
	bool killed;                 /* SIGKILL sent to its group */
};

/* Starts argv with both outputs going to pipes read by qvm. 0 or -errno. */
static int child_start(char *const argv[], struct child *c)
{
	int pipes[2][2] = { { -1, -1 }, { -1, -1 } };
	int r = 0;

	for (int i = 0; i < 2 && r == 0; i++)
		if (pipe2(pipes[i], O_CLOEXEC) < 0)
			r = -errno;
	if (r == 0)
		r = start_child(argv, 0, -1, pipes[0][1], pipes[1][1], &c->pid);
	for (int i = 0; i < 2; i++) {
		if (pipes[i][1] >= 0)
			close(pipes[i][1]);
		if (r < 0 && pipes[i][0] >= 0)
			close(pipes[i][0]);
		else
			c->caps[i].fd = pipes[i][0];
	}
	if (r < 0) {
		c->pid = 0;
		return r;
	}
	c->started = clock_ms();
	c->pidfd = pidfd_open(c->pid, 0);
	return 0;
}

/* Whether the child has ended (reaped now if it has). */
static bool child_ended(struct child *c)
{
	pid_t got;

	if (c->reaped)
		return true;
	got = waitpid(c->pid, &c->wstatus, WNOHANG);
	/* ECHILD: nothing to wait for (never expected: it is ours) */
	if (got == c->pid || (got < 0 && errno == ECHILD))
		c->reaped = true;
	return c->reaped;
}

/* The ended child: its status and output into res (r 0), or its output
 * dropped (r < 0, what is returned). Pipes still open (a process of
 * another group holds them) are closed. */
static int child_finish(struct child *c, int r, struct spawn_result *res)
{
	for (int k = 0; k < 2; k++)
		if (c->caps[k].fd >= 0) {
			close(c->caps[k].fd);
			c->caps[k].fd = -1;
		}
	if (c->pidfd >= 0)
		close(c->pidfd);
	c->pidfd = -1;
	if (r == 0) {
		child_status(c->wstatus, res);
		res->out = TAKE_PTR(c->caps[0].buf);
		res->err = TAKE_PTR(c->caps[1].buf);
	}
	free(c->caps[0].buf);
	free(c->caps[1].buf);
	c->caps[0].buf = c->caps[1].buf = NULL;
	c->pid = -1;
	return r;
}

/* The signal a child of spawn_all is passed when qvm gets sig: the same,
 * but output cut off (SIGPIPE) is qvm's, so the child is asked to end. */
static int forwarded(int sig)
{
	return sig == SIGPIPE ? SIGTERM : sig;
}

/* A child's time limit: SIGTERM to its group at its deadline, SIGKILL a
 * grace later (an ended child is not signalled: its pid may be another's
 * by now; its pipes, held by a process of another group, are given up at
 * the same times). The ms until its next one (INT64_MAX: none). */
static int64_t child_deadlines(struct child *c, unsigned timeout_ms, int64_t now)
{
	int64_t grace = timeout_ms < SPAWN_ALL_GRACE_MS ? timeout_ms : SPAWN_ALL_GRACE_MS;

	if (!timeout_ms)
		return INT64_MAX;
	if (!c->term_at && now - c->started >= timeout_ms) {
		if (!c->reaped)
			(void)kill(-c->pid, SIGTERM);
		c->term_at = now;
	}
	if (!c->term_at)
		return c->started + timeout_ms - now;
	if (!c->killed && now - c->term_at >= grace) {
		if (!c->reaped)
			(void)kill(-c->pid, SIGKILL);
		c->killed = true;
	}
	/* killed: its end is what is waited for (its pidfd, or the tick) */
	return c->killed ? INT64_MAX : c->term_at + grace - now;
}

int spawn_all(char *const *const *argvs, size_t n, unsigned limit, unsigned timeout_ms, struct spawn_result *res,
	      int *errs)
{
	_cleanup_free_ struct child *c = calloc(n ? n : 1, sizeof(*c));
	_cleanup_free_ struct pollfd *pfd = calloc(3 * (n ? n : 1), sizeof(*pfd));
	_cleanup_free_ size_t *map = calloc(3 * (n ? n : 1), sizeof(*map));
	size_t next = 0, running = 0;
	int stop = 0, r = 0;

	if (!c || !pfd || !map)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		memset(&res[i], 0, sizeof(res[i]));
		errs[i] = -ECANCELED;
		c[i].pid = 0;
		c[i].pidfd = -1;
		c[i].caps[0].fd = c[i].caps[1].fd = -1;
		c[i].caps[1].max = STDERR_MAX;
	}
	if (limit == 0)
		limit = (unsigned)(n ? n : 1);
	for (;;) {
		size_t np = 0;
		int64_t now, wait = 1000;

		/* once a signal came, nothing more is started: the running
		 * ones are passed it (once: to each one's process group, so a
		 * shell's children holding the pipes end too) and waited for */
		if (signal_pending() && !stop) {
			for (size_t i = 0; i < n; i++)
				if (c[i].pid > 0 && !c[i].reaped)
					(void)kill(-c[i].pid, forwarded(signal_pending()));
			stop = 1;
		}
		while (!stop && next < n && running < limit) {
			size_t i = next++;
			errs[i] = child_start(argvs[i], &c[i]);
			running += errs[i] == 0;
		}
		if (running == 0)
			break;
		now = clock_ms();
		for (size_t i = 0; i < n; i++) {
			if (c[i].pid <= 0)
				continue;
			int64_t left = child_deadlines(&c[i], timeout_ms, now);
			wait = left < wait ? left : wait;
			for (int k = 0; k < 2; k++)
				if (c[i].caps[k].fd >= 0) {
					pfd[np].fd = c[i].caps[k].fd;
					pfd[np].events = POLLIN;
					map[np++] = 3 * i + (size_t)k;
				}
				/* its end wakes the wait once its output is closed or
			 * its time is up (whoever still holds the pipes) */
			if (!c[i].reaped && ((c[i].caps[0].fd < 0 && c[i].caps[1].fd < 0) || c[i].term_at)) {
				if (c[i].pidfd >= 0) {
					pfd[np].fd = c[i].pidfd;
					pfd[np].events = POLLIN;
					map[np++] = 3 * i + 2;
				} else if (wait > 50) {
					wait = 50;
				}
			}
		}
		/* bounded: a signal between the check above and poll is seen
		 * within a second */
		if (poll(pfd, np, (int)(wait < 0 ? 0 : wait)) < 0) {
			if (errno == EINTR)
				continue;
			/* the children cannot be read: their pipes are closed
			 * (a write then ends them), and each is waited for */
			r = -errno;
			for (size_t j = 0; j < np; j++) {
				struct child *ch = &c[map[j] / 3];
				if (map[j] % 3 == 2)
					continue;
				close(pfd[j].fd);
				ch->caps[map[j] % 3].fd = -1;
				if (errs[map[j] / 3] == 0)
					errs[map[j] / 3] = r;
				if (!ch->reaped)
					(void)kill(-ch->pid, SIGTERM);
			}
			np = 0;
			stop = 1;
		}
		for (size_t j = 0; j < np; j++)
			if (pfd[j].revents && map[j] % 3 != 2) {
				struct capture *cap = &c[map[j] / 3].caps[map[j] % 3];
				int q = capture_read(cap);
				if (q < 0) {
					if (errs[map[j] / 3] == 0)
						errs[map[j] / 3] = q;
					close(cap->fd);
					cap->fd = -1;
				}
			}
		/* a child is done when it has ended and its pipes are closed
		 * (or given up: its time and grace are over) */
		for (size_t i = 0; i < n; i++) {
			bool closed = c[i].caps[0].fd < 0 && c[i].caps[1].fd < 0;
			if (c[i].pid <= 0 || !(closed || c[i].term_at) || !child_ended(&c[i]) || !(closed || c[i].killed))
				continue;
			errs[i] = child_finish(&c[i], errs[i], &res[i]);
			if (errs[i] == 0 && c[i].term_at)
				errs[i] = -ETIMEDOUT;
			/* not found, where exec errors are not reported
			 * synchronously (valgrind): as spawn_check says */
			if (errs[i] == 0 && !res[i].signal && res[i].status == 127 && (!res[i].err || !*res[i].err))
				errs[i] = -ENOENT;
			running--;
		}
	}
	if (r == 0 && stop)
		r = -EINTR;
	return r;
}

int program_find(const char *name, char **out)
{
	const char *path = getenv("PATH");
	bool eacces = false;

	*out = NULL;
	if (!path)
		path = "/bin:/usr/bin";
	for (const char *p = path;;) {
		size_t len = strcspn(p, ":");
		_cleanup_free_ char *cand = NULL;
		struct stat st;

		if (len == 0)
			cand = strdup(name);
		else if (asprintf(&cand, "%.*s/%s", (int)len, p, name) < 0)
			cand = NULL;
		if (!cand)
			return -ENOMEM;
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode)) {
			if (faccessat(AT_FDCWD, cand, X_OK, AT_EACCESS) == 0) {
				*out = realpath(cand, NULL);
				if (*out)
					return 0;
				if (errno == ENOMEM)
					return -ENOMEM;
			} else {
				eacces = true;
			}
		} else if (errno == EACCES) {
			eacces = true;
		}
		if (!p[len])
			break;
		p += len + 1;
	}
	return eacces ? -EACCES : -ENOENT;
}

void spawn_result_clear(struct spawn_result *res)
{
	free(res->out);
	free(res->err);
	memset(res, 0, sizeof(*res));
}

/* Joins the non-blank lines of src with "; ", leaving out warnings unless
 * keep_warnings. */
static char *join_lines(const char *src, int keep_warnings)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return NULL;
	for (const char *p = src; *p;) {
		size_t len = strcspn(p, "\n");
		size_t end = len;
		while (end > 0 && (p[end - 1] == ' ' || p[end - 1] == '\t' || p[end - 1] == '\r'))
			end--;
		if (end > 0 && (keep_warnings || strncmp(p, "WARNING", 7) != 0)) {
			if (ftell(f) > 0)
				fputs("; ", f);
			fwrite(p, 1, end, f);
		}
		p += len;
		if (*p)
			p++;
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

char *spawn_error_text(const struct spawn_result *res)
{
	const char *src = res->err && *res->err ? res->err : res->out;
	char *buf = NULL;

	if (!src || !*src) {
		int n = res->signal ? asprintf(&buf, "killed by %s", signal_name(res->signal))
				    : asprintf(&buf, "exit status %d", res->status);
		return n < 0 ? NULL : buf;
	}
	/* the warnings virt-install prints before its error are noise here */
	buf = join_lines(src, 0);
	if (buf && !*buf) {
		free(buf);
		buf = join_lines(src, 1);
	}
	/* what it said before it was killed is not why it ended */
	if (buf && res->signal) {
		char *both = strdupf("%s (killed by %s)", buf, signal_name(res->signal));
		free(buf);
		buf = both;
	}
	return buf;
}

int spawn_check(char *const argv[], unsigned flags, struct spawn_result *res, char **err)
{
	return spawn_check_input(argv, flags, -1, res, err);
}

int spawn_check_input(char *const argv[], unsigned flags, int stdin_fd, struct spawn_result *res, char **err)
{
	int r = spawn_run(argv, flags, stdin_fd, res);

	if (r == 0 && res->status == 0)
		return 0;
	if (r == 0 && !res->signal && res->status == 127 && (!res->err || !*res->err))
		r = -ENOENT;
	if (r == -ENOENT || r == -EACCES)
		return report_error(err, -ENOENT, "cannot run %s: not found on PATH or not executable", argv[0]);
	if (r < 0)
		return report_error(err, r, "cannot run %s: %s", argv[0], strerror(-r));
	r = res->signal ? -EINTR : -EIO;
	if (err) {
		free(*err);
		*err = spawn_error_text(res);
		if (!*err)
			r = -ENOMEM;
	}
	return r;
}

/* spawn_relay: two children and the bytes between them. */
#define RELAY_CHUNK (1u << 20)
#define RELAY_GRACE_SECONDS 30
#define RELAY_TICK_MS 200

enum { RELAY_FROM, RELAY_TO };
enum { WAIT_NONE, WAIT_SRC, WAIT_DST };

struct relay {
	pid_t pid[2];                /* from, to; 0 once reaped */
	int pidfd[2];                /* readable when the child has ended; -1: none (old kernel) */
	int wstatus[2];
	int src, dst;                /* from's stdout (read end), to's stdin (write end) */
	struct capture caps[3];      /* from's stderr, to's stderr, to's stdout */
	bool splice_ok;
	char *buf;                   /* read/write where splice is refused */
	size_t off, len;
	bool stopping, to_killed, ended;
	struct timespec stop_at, ended_at;
};

void relay_result_clear(struct relay_result *res)
{
	spawn_result_clear(&res->from);
	spawn_result_clear(&res->to);
	memset(res, 0, sizeof(*res));
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Ends the stream: from is told to stop, to sees the end of its input. */
static void relay_stop(struct relay *rl)
{
	if (rl->stopping)
		return;
	rl->stopping = true;
	clock_gettime(CLOCK_MONOTONIC, &rl->stop_at);
	if (rl->pid[RELAY_FROM])
		(void)kill(rl->pid[RELAY_FROM], SIGTERM);
	close_fd(&rl->src);
	close_fd(&rl->dst);
}

/* Moves what can be moved now: the bytes moved (> 0); 0 with *wait the
 * side to wait for, or *eof at the end of from's output; -errno. */
static ssize_t relay_move(struct relay *rl, int *wait, bool *eof)
{
	ssize_t n;

	*wait = WAIT_NONE;
	if (rl->splice_ok) {
		n = splice(rl->src, NULL, rl->dst, NULL, RELAY_CHUNK, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n > 0)
			return n;
		if (n == 0) {
			*eof = true;
			return 0;
		}
		if (errno == EAGAIN) {
			/* the one side that holds it up: data waiting means to is full */
			int avail = 0;
			*wait = ioctl(rl->src, FIONREAD, &avail) == 0 && avail > 0 ? WAIT_DST : WAIT_SRC;
			return 0;
		}
		if (errno == EINTR)
			return 0;
		if (errno != EINVAL && errno != ENOSYS)
			return -errno;
		rl->splice_ok = false;
	}
	if (!rl->buf && !(rl->buf = malloc(RELAY_CHUNK)))
		return -ENOMEM;
	if (rl->off == rl->len) {
		n = read(rl->src, rl->buf, RELAY_CHUNK);
		if (n == 0)
			*eof = true;
		if (n <= 0) {
			if (n < 0 && errno == EAGAIN)
				*wait = WAIT_SRC;
			return n < 0 && errno != EAGAIN && errno != EINTR ? -errno : 0;
		}
		rl->off = 0;
		rl->len = (size_t)n;
	}
	n = write(rl->dst, rl->buf + rl->off, rl->len - rl->off);
	if (n > 0) {
		rl->off += (size_t)n;
		return n;
	}
	if (n < 0 && errno == EAGAIN)
		*wait = WAIT_DST;
	return n < 0 && errno != EAGAIN && errno != EINTR ? -errno : 0;
}

/* Reaps whichever child has ended. */
static void relay_reap(struct relay *rl)
{
	for (int i = 0; i < 2; i++) {
		pid_t got;
		if (!rl->pid[i])
			continue;
		got = waitpid(rl->pid[i], &rl->wstatus[i], WNOHANG);
		if (got == rl->pid[i] || (got < 0 && errno == ECHILD)) {
			rl->pid[i] = 0;
			close_fd(&rl->pidfd[i]);
		}
	}
}

static double relay_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* The loop: moves bytes, reads the captured outputs, reaps the children. */
static void relay_loop(struct relay *rl, void (*progress)(uint64_t, void *), void *ctx, struct relay_result *res)
{
	for (;;) {
		struct pollfd pfd[7];
		struct capture *map[7];
		int wait = WAIT_NONE;
		bool moved = false;
		nfds_t n = 0;

		if (!rl->stopping && signal_pending() && signal_pending() != SIGPIPE) {
			res->stopped = signal_pending();
			relay_stop(rl);
		}
		if (rl->src >= 0) {
			bool eof = false;
			ssize_t m = relay_move(rl, &wait, &eof);
			if (m > 0) {
				moved = true;
				res->bytes += (uint64_t)m;
				if (progress)
					progress(res->bytes, ctx);
			} else if (eof) {
				close_fd(&rl->src);
				close_fd(&rl->dst);
			} else if (m < 0) {
				/* EPIPE: to stopped reading (it exited): its own words say why */
				if (m != -EPIPE)
					res->error = (int)m;
				relay_stop(rl);
			}
		}
		relay_reap(rl);
		/* to ended while from still writes: nothing will read it */
		if (!rl->pid[RELAY_TO] && rl->src >= 0)
			relay_stop(rl);
		if (rl->stopping && rl->pid[RELAY_TO] && !rl->to_killed &&
		    relay_since(&rl->stop_at) > RELAY_GRACE_SECONDS) {
			(void)kill(rl->pid[RELAY_TO], SIGTERM);
			rl->to_killed = true;
		}
		if (wait == WAIT_SRC && rl->src >= 0) {
			pfd[n] = (struct pollfd){ .fd = rl->src, .events = POLLIN };
			map[n++] = NULL;
		} else if (wait == WAIT_DST && rl->dst >= 0) {
			pfd[n] = (struct pollfd){ .fd = rl->dst, .events = POLLOUT };
			map[n++] = NULL;
		}
		for (int i = 0; i < 3; i++)
			if (rl->caps[i].fd >= 0) {
				pfd[n] = (struct pollfd){ .fd = rl->caps[i].fd, .events = POLLIN };
				map[n++] = &rl->caps[i];
			}
		/* nothing more to move or read: the children's ends (what a
		 * process they left behind keeps open is not waited for long) */
		if (rl->src < 0 && !rl->pid[RELAY_FROM] && !rl->pid[RELAY_TO]) {
			if (!rl->ended)
				clock_gettime(CLOCK_MONOTONIC, &rl->ended_at);
			rl->ended = true;
			if (n == 0 || relay_since(&rl->ended_at) > 1)
				return;
		}
		/* woken when a child ends (else the tick finds it) */
		for (int i = 0; i < 2; i++)
			if (rl->pid[i] && rl->pidfd[i] >= 0) {
				pfd[n] = (struct pollfd){ .fd = rl->pidfd[i], .events = POLLIN };
				map[n++] = NULL;
			}
		if (poll(pfd, n, moved ? 0 : RELAY_TICK_MS) <= 0)
			continue;
		for (nfds_t i = 0; i < n; i++)
			if (map[i] && pfd[i].revents && capture_read(map[i]) < 0)
				close_fd(&map[i]->fd);
	}
}

static void close_pipes(int (*p)[2], size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (int j = 0; j < 2; j++)
			close_fd(&p[i][j]);
}

int spawn_relay(char *const from[], unsigned from_flags, char *const to[], unsigned to_flags,
		void (*progress)(uint64_t bytes, void *ctx), void *ctx, struct relay_result *res, char **err)
{
	/* from's stdout, to's stdin, from's stderr, to's stderr, to's stdout */
	int p[5][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 }, { -1, -1 }, { -1, -1 } };
	struct relay rl = {
		.src = -1, .dst = -1, .splice_ok = true, .pidfd = { -1, -1 },
		.caps = { { .fd = -1, .max = STDERR_MAX }, { .fd = -1, .max = STDERR_MAX }, { .fd = -1 } },
	};
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	char *const *failed;
	int r = 0;

	memset(res, 0, sizeof(*res));
	for (int i = 0; i < 5 && r == 0; i++)
		if ((i < 4 || (to_flags & SPAWN_CAPTURE_STDOUT)) && pipe2(p[i], O_CLOEXEC) < 0)
			r = -errno;
	if (r < 0) {
		close_pipes(p, 5);
		return report_error(err, r, "cannot make a pipe: %s", strerror(-r));
	}
	/* fewer, larger moves (the default is 64 KiB; not all systems allow more) */
	(void)fcntl(p[0][1], F_SETPIPE_SZ, RELAY_CHUNK);
	(void)fcntl(p[1][1], F_SETPIPE_SZ, RELAY_CHUNK);
	failed = from;
	r = start_child(from, from_flags, -1, p[0][1], p[2][1], &rl.pid[RELAY_FROM]);
	if (r == 0) {
		failed = to;
		r = start_child(to, to_flags, p[1][0], p[4][1], p[3][1], &rl.pid[RELAY_TO]);
		if (r < 0) {
			(void)kill(rl.pid[RELAY_FROM], SIGTERM);
			while (waitpid(rl.pid[RELAY_FROM], &rl.wstatus[RELAY_FROM], 0) < 0 && errno == EINTR)
				;
		}
	}
	rl.src = TAKE_FD(p[0][0]);
	rl.dst = TAKE_FD(p[1][1]);
	for (int i = 0; i < 3; i++)
		rl.caps[i].fd = TAKE_FD(p[2 + i][0]);
	close_pipes(p, 5);
	if (r < 0) {
		close_fd(&rl.src);
		close_fd(&rl.dst);
		for (int i = 0; i < 3; i++)
			close_fd(&rl.caps[i].fd);
		if (r == -ENOENT || r == -EACCES)
			return report_error(err, -ENOENT, "cannot run %s: not found on PATH or not executable",
					    failed[0]);
		return report_error(err, r, "cannot run %s: %s", failed[0], strerror(-r));
	}
	for (int i = 0; i < 2; i++)
		rl.pidfd[i] = pidfd_open(rl.pid[i], 0);
	(void)fcntl(rl.src, F_SETFL, fcntl(rl.src, F_GETFL) | O_NONBLOCK);
	(void)fcntl(rl.dst, F_SETFL, fcntl(rl.dst, F_GETFL) | O_NONBLOCK);
	/* a write to a to that has exited is EPIPE, not the signal that means
	 * "qvm's own output was cut off" */
	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, &old);
	relay_loop(&rl, progress, ctx, res);
	sigaction(SIGPIPE, &old, NULL);

	for (int i = 0; i < 3; i++)
		close_fd(&rl.caps[i].fd);
	for (int i = 0; i < 2; i++)
		close_fd(&rl.pidfd[i]);
	free(rl.buf);
	child_status(rl.wstatus[RELAY_FROM], &res->from);
	child_status(rl.wstatus[RELAY_TO], &res->to);
	res->from.err = TAKE_PTR(rl.caps[0].buf);
	res->to.err = TAKE_PTR(rl.caps[1].buf);
	res->to.out = TAKE_PTR(rl.caps[2].buf);
	/* 127 without a word: not found, where exec errors are not reported
	 * synchronously (as spawn_check reads it) */
	for (int i = 0; i < 2; i++) {
		const struct spawn_result *s = i == 0 ? &res->from : &res->to;
		if (s->status == 127 && !s->signal && (!s->err || !*s->err))
			return report_error(err, -ENOENT, "cannot run %s: not found on PATH or not executable",
					    (i == 0 ? from : to)[0]);
	}
	return 0;
}
