/* SPDX-License-Identifier: MIT */
/* The client side of OpenSSH's mux protocol (sshmux.h). A message is a
 * uint32 length, then its body: a uint32 type and its fields (uint32s and
 * strings, a string being a uint32 length and its bytes), big-endian.
 * The three file descriptors of a session go over the socket as
 * SCM_RIGHTS, one per one-byte message, as ssh's own client sends them. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/param.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sshmux.h"
#include "clock.h"
#include "cleanup.h"
#include "report.h"
#include "signals.h"
#include "strv.h"
#include "banned.h"

enum {
	MUX_VERSION = 4,
	MUX_MSG_HELLO = 0x00000001,
	MUX_C_NEW_SESSION = 0x10000002,
	MUX_C_TERMINATE = 0x10000005,
	MUX_S_OK = 0x80000001,
	MUX_S_PERMISSION_DENIED = 0x80000002,
	MUX_S_FAILURE = 0x80000003,
	MUX_S_EXIT_MESSAGE = 0x80000004,
	MUX_S_SESSION_OPENED = 0x80000006,
	MUX_S_TTY_ALLOC_FAIL = 0x80000008,
};
#define MUX_MSG_MAX (256u * 1024)   /* a master's replies are a few words */
#define REQUEST_ID 1u
#define HELLO_TIMEOUT_MS 30000      /* the master is on this host: it answers at once */
/* What a host's command may print: its stdout is parsed whole (cut short,
 * a listing would lie), its stderr is for a message. Past that, a
 * hostile or broken host would only fill this machine's memory. */
#define OUT_MAX (64u << 20)
#define ERR_MAX (64u << 10)

struct buf {
	unsigned char *p;
	size_t len, cap;
};

static void buf_free(struct buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static int put(struct buf *b, const void *data, size_t n)
{
	if (n > SIZE_MAX / 2 - b->len)
		return -E2BIG;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		unsigned char *p = realloc(b->p, cap);
		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';   /* captured output is a C string */
	return 0;
}

static int put_u32(struct buf *b, uint32_t v)
{
	unsigned char w[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
			       (unsigned char)v };
	return put(b, w, sizeof(w));
}

static int put_str(struct buf *b, const char *s)
{
	size_t n = strlen(s);
	int r = n > MUX_MSG_MAX * 64 ? -E2BIG : put_u32(b, (uint32_t)n);

	return r < 0 ? r : put(b, s, n);
}

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The fields of a received body, read in turn; bad once one is missing. */
struct fields {
	const unsigned char *p;
	size_t left;
	bool bad;
};

static uint32_t field_u32(struct fields *f)
{
	if (f->bad || f->left < 4) {
		f->bad = true;
		return 0;
	}
	uint32_t v = get_u32(f->p);
	f->p += 4;
	f->left -= 4;
	return v;
}

/* A string field as a new C string (NUL bytes in it cut it short). */
static char *field_str(struct fields *f)
{
	uint32_t n = field_u32(f);

	if (f->bad || n > f->left) {
		f->bad = true;
		return NULL;
	}
	char *s = strndup((const char *)f->p, n);
	f->p += n;
	f->left -= n;
	return s;
}

struct conn {
	int sock;
	struct buf in;      /* bytes from the master, not yet a whole message */
	bool eof;
};

static void conn_close(struct conn *c)
{
	if (c->sock >= 0)
		close(c->sock);
	c->sock = -1;
	buf_free(&c->in);
}

static int send_all(int sock, const void *data, size_t n)
{
	const unsigned char *p = data;

	while (n) {
		ssize_t k = send(sock, p, n, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? -errno : -EIO;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* A message whose body is body: its length first. */
static int send_msg(int sock, const struct buf *body)
{
	struct buf m = { 0 };
	int r = put_u32(&m, (uint32_t)body->len);

	if (r == 0)
		r = put(&m, body->p, body->len);
	if (r == 0)
		r = send_all(sock, m.p, m.len);
	buf_free(&m);
	return r;
}

static int send_fd(int sock, int fd)
{
	char byte = 0;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.space, .msg_controllen = sizeof(u.space) };
	ssize_t n;

	memset(&u, 0, sizeof(u));
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(h), &fd, sizeof(int));
	do
		n = sendmsg(sock, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == 1 ? 0 : n < 0 ? -errno : -EIO;
}

/* What the socket has now, added to c->in; c->eof at its end. */
static int read_more(struct conn *c)
{
	unsigned char chunk[4096];
	ssize_t n;

	do
		n = read(c->sock, chunk, sizeof(chunk));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
	if (n == 0) {
		c->eof = true;
		return 0;
	}
	return put(&c->in, chunk, (size_t)n);
}

/* The first whole message in c->in: 1 with *type and its fields (valid
 * until drop_msg), 0 when more bytes are needed, -EPROTO when it is
 * longer than any a master sends. */
static int peek_msg(const struct conn *c, uint32_t *type, struct fields *f)
{
	if (c->in.len < 4)
		return 0;
	uint32_t len = get_u32(c->in.p);
	if (len < 4 || len > MUX_MSG_MAX)
		return -EPROTO;
	if (c->in.len - 4 < len)
		return 0;
	*type = get_u32(c->in.p + 4);
	*f = (struct fields){ .p = c->in.p + 8, .left = len - 4 };
	return 1;
}

static void drop_msg(struct conn *c)
{
	size_t n = 4 + (size_t)get_u32(c->in.p);

	memmove(c->in.p, c->in.p + n, c->in.len - n);
	c->in.len -= n;
}

/* The next message, waiting up to timeout_ms: 1, or -ETIMEDOUT,
 * -ECONNRESET (the master closed the connection), -EPROTO, -errno;
 * -EINTR when stoppable and a signal came (signals.h). */
static int wait_msg(struct conn *c, int timeout_ms, bool stoppable, uint32_t *type, struct fields *f)
{
	int64_t end = clock_ms() + timeout_ms;

	for (;;) {
		int r = peek_msg(c, type, f);
		if (r != 0)
			return r;
		if (c->eof)
			return -ECONNRESET;
		int64_t left = end - clock_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		if (stoppable && signal_pending())
			return -EINTR;
		struct pollfd p = { .fd = c->sock, .events = POLLIN };
		r = poll(&p, 1, stoppable ? (int)MIN(left, 1000) : (int)left);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r > 0 && (r = read_more(c)) < 0)
			return r;
	}
}

/* A socket connected to the one listening on ctl, or -errno. */
static int unix_connect(const char *ctl)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = strlen(ctl);
	int fd, r;

	if (n >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, ctl, n + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	do
		r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

/* Connects to the master on ctl (one of this user's: a socket another
 * user made is not spoken to) and exchanges the hellos. */
static int mux_connect(const char *ctl, bool stoppable, struct conn *c, char **err)
{
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	struct buf hello = { 0 };
	struct fields f;
	uint32_t type;
	int r;

	*c = (struct conn){ .sock = unix_connect(ctl) };
	if (c->sock < 0) {
		r = c->sock;
		c->sock = -1;
		return report_error(err, r, "its ssh connection is gone (%s)", strerror(-r));
	}
	if (getsockopt(c->sock, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 || cred.uid != geteuid())
		return report_error(err, -EPERM, "its control socket %s is not this user's", ctl);
	r = put_u32(&hello, MUX_MSG_HELLO);
	if (r == 0)
		r = put_u32(&hello, MUX_VERSION);
	if (r == 0)
		r = send_msg(c->sock, &hello);
	buf_free(&hello);
	if (r == 0)
		r = wait_msg(c, HELLO_TIMEOUT_MS, stoppable, &type, &f);
	if (r == -EINTR)
		return r;
	if (r < 0)
		return report_error(err, r, "its ssh connection does not answer (%s)", strerror(-r));
	uint32_t version = field_u32(&f);
	if (type != MUX_MSG_HELLO || f.bad || version != MUX_VERSION)
		return report_error(err, -EPROTO, "its ssh master speaks another protocol (version %u)", version);
	drop_msg(c);
	return 0;
}

static int session_request(int sock, const char *command)
{
	struct buf m = { 0 };
	int r = put_u32(&m, MUX_C_NEW_SESSION);

	if (r == 0)
		r = put_u32(&m, REQUEST_ID);
	if (r == 0)
		r = put_str(&m, "");                 /* reserved */
	for (int i = 0; r == 0 && i < 4; i++)
		r = put_u32(&m, 0);                  /* no tty, X11, agent; not a subsystem */
	if (r == 0)
		r = put_u32(&m, 0xffffffffu);        /* no escape character */
	if (r == 0)
		r = put_str(&m, "");                 /* no terminal */
	if (r == 0)
		r = put_str(&m, command);
	if (r == 0)
		r = send_msg(sock, &m);
	buf_free(&m);
	return r;
}

/* The session's progress, from the master's messages. */
struct session {
	bool exited;
	uint32_t status;
	char *refused;      /* the master's reason for not running it */
};

/* The messages in c->in: 0, or -EPROTO. */
static int take_messages(struct conn *c, struct session *s)
{
	uint32_t type;
	struct fields f;
	int r;

	while ((r = peek_msg(c, &type, &f)) == 1) {
		(void)field_u32(&f);    /* the request's or session's id: one of each */
		switch (type) {
		case MUX_S_PERMISSION_DENIED:
		case MUX_S_FAILURE:
			free(s->refused);
			s->refused = field_str(&f);
			if (!s->refused)
				s->refused = strdup("refused");
			break;
		case MUX_S_EXIT_MESSAGE:
			s->status = field_u32(&f);
			s->exited = !f.bad;
			break;
		case MUX_S_SESSION_OPENED:
		case MUX_S_OK:
		case MUX_S_TTY_ALLOC_FAIL:
			break;
		default:
			f.bad = true;
		}
		if (f.bad)
			return -EPROTO;
		drop_msg(c);
	}
	return r;
}

static int open_devnull(int flags)
{
	return open("/dev/null", flags | O_CLOEXEC);
}

/* sshmux_run, with pass[0], pass[1] (when >= 0) given to the session as
 * its stdout and stderr instead of a capture or /dev/null. */
static int run_session(const char *ctl, const char *command, int stdin_fd, const int pass[2], unsigned flags,
		       struct spawn_result *res, char **err)
{
	struct conn c;
	struct session s = { .exited = false };
	struct buf out[2] = { { 0 }, { 0 } };
	int pipes[2][2] = { { -1, -1 }, { -1, -1 } }, null_in = -1, null_out = -1, r;

	/* a command that changes nothing needs no outcome (signals.h) */
	bool stoppable = !(flags & SPAWN_NO_FORWARD) || signals_readonly();

	memset(res, 0, sizeof(*res));
	r = mux_connect(ctl, stoppable, &c, err);
	if (r == -EINTR) {
		res->signal = signal_pending();
		res->status = 128 + res->signal;
	}
	if (r < 0) {
		conn_close(&c);
		return r == -ENOMEM || r == -EINTR ? r : -EHOSTUNREACH;
	}
	/* the session's stdin, stdout and stderr: the master's from now on */
	if (stdin_fd < 0 && (stdin_fd = null_in = open_devnull(O_RDONLY)) < 0)
		r = -errno;
	for (int i = 0; r == 0 && i < 2; i++) {
		unsigned want = i == 0 ? SPAWN_CAPTURE_STDOUT : SPAWN_CAPTURE_STDERR;
		if (pass[i] >= 0)
			continue;
		if ((flags & want) && pipe2(pipes[i], O_CLOEXEC) < 0)
			r = -errno;
		else if (!(flags & want) && null_out < 0 && (null_out = open_devnull(O_WRONLY)) < 0)
			r = -errno;
	}
	if (r < 0) {
		report_error(err, r, "cannot run a command on the host: %s", strerror(-r));
		goto out;
	}
	r = session_request(c.sock, command);
	if (r == 0)
		r = send_fd(c.sock, stdin_fd);
	for (int i = 0; r == 0 && i < 2; i++)
		r = send_fd(c.sock, pass[i] >= 0 ? pass[i] : pipes[i][1] >= 0 ? pipes[i][1] : null_out);
	for (int i = 0; i < 2; i++)
		if (pipes[i][1] >= 0) {
			close(pipes[i][1]);
			pipes[i][1] = -1;
		}
	if (r < 0) {
		r = report_error(err, r == -ENOMEM ? r : -EHOSTUNREACH, "its ssh connection is gone (%s)",
				 strerror(-r));
		goto out;
	}

	/* until the master has said how it ended and closed its outputs */
	struct pollfd p[3] = {
		{ .fd = c.sock, .events = POLLIN },
		{ .fd = pipes[0][0], .events = POLLIN },
		{ .fd = pipes[1][0], .events = POLLIN },
	};
	while (p[0].fd >= 0 || p[1].fd >= 0 || p[2].fd >= 0) {
		if (stoppable && signal_pending()) {
			res->signal = signal_pending();
			res->status = 128 + res->signal;
			r = -EINTR;
			goto out;
		}
		/* bounded when a signal stops it: one that comes between the
		 * check above and poll is seen within a second */
		int k = poll(p, 3, stoppable ? 1000 : -1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = report_error(err, -errno, "cannot wait for the host: %s", strerror(errno));
			goto out;
		}
		for (int i = 1; i < 3; i++) {
			if (p[i].fd < 0 || !p[i].revents)
				continue;
			unsigned char chunk[65536];
			ssize_t n = read(p[i].fd, chunk, sizeof(chunk));
			size_t room = (i == 1 ? OUT_MAX : ERR_MAX) - out[i - 1].len;
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (i == 1 && n > 0 && (size_t)n > room) {
				r = report_error(err, -E2BIG, "the command printed more than %u MiB", OUT_MAX >> 20);
				goto out;
			}
			/* stderr past its limit is read and dropped */
			if (n > 0 && (r = put(&out[i - 1], chunk, MIN((size_t)n, room))) < 0) {
				report_error(err, r, "%s", strerror(-r));
				goto out;
			}
			if (n <= 0)
				p[i].fd = -1;
		}
		if (p[0].fd >= 0 && p[0].revents) {
			r = read_more(&c);
			if (r == 0)
				r = take_messages(&c, &s);
			if (r < 0) {
				r = report_error(err, -EHOSTUNREACH, "its ssh master's answer is unreadable (%s)",
						 strerror(-r));
				goto out;
			}
			if (s.exited || s.refused || c.eof)
				p[0].fd = -1;
		}
	}
	if (s.refused) {
		r = report_error(err, -EHOSTUNREACH, "its ssh master refused the command: %s", s.refused);
	} else if (!s.exited) {
		r = report_error(err, -EHOSTUNREACH, "the ssh connection was lost before the command ended");
	} else {
		res->status = (int)(s.status & 0xff);
		for (int i = 0; i < 2; i++) {
			unsigned want = i == 0 ? SPAWN_CAPTURE_STDOUT : SPAWN_CAPTURE_STDERR;
			if ((flags & want) && !out[i].p && put(&out[i], "", 0) < 0) {
				r = -ENOMEM;
				goto out;
			}
		}
		res->out = (char *)TAKE_PTR(out[0].p);
		res->err = (char *)TAKE_PTR(out[1].p);
		r = 0;
	}
out:
	for (int i = 0; i < 2; i++) {
		buf_free(&out[i]);
		for (int j = 0; j < 2; j++)
			if (pipes[i][j] >= 0)
				close(pipes[i][j]);
	}
	if (null_in >= 0)
		close(null_in);
	if (null_out >= 0)
		close(null_out);
	free(s.refused);
	conn_close(&c);
	return r;
}

int sshmux_run(const char *ctl, const char *command, int stdin_fd, unsigned flags, struct spawn_result *res,
	       char **err)
{
	static const int none[2] = { -1, -1 };

	return run_session(ctl, command, stdin_fd, none, flags, res, err);
}

int sshmux_attach(const char *ctl, const char *command, char **err)
{
	static const int own[2] = { STDOUT_FILENO, STDERR_FILENO };
	struct spawn_result res;
	int r = run_session(ctl, command, STDIN_FILENO, own, SPAWN_NO_FORWARD, &res, err);

	if (r == 0)
		r = res.status;
	spawn_result_clear(&res);
	return r;
}

int sshmux_exit(const char *ctl, int timeout_ms)
{
	_cleanup_free_ char *why = NULL;
	struct buf m = { 0 };
	struct conn c;
	int r = mux_connect(ctl, false, &c, &why);

	if (r == 0)
		r = put_u32(&m, MUX_C_TERMINATE);
	if (r == 0)
		r = put_u32(&m, REQUEST_ID);
	if (r == 0)
		r = send_msg(c.sock, &m);
	buf_free(&m);
	/* its answer (ssh may end before it is sent), then the connection's
	 * end: the master has left its main loop */
	int64_t end = clock_ms() + timeout_ms;
	while (r == 0) {
		uint32_t type;
		struct fields f;
		int64_t left = end - clock_ms();
		r = wait_msg(&c, left > 0 ? (int)left : 0, false, &type, &f);
		if (r == 1 && type == MUX_S_PERMISSION_DENIED)
			r = -EPERM;
		else if (r == 1) {
			drop_msg(&c);
			r = 0;
		} else if (r == -ECONNRESET)
			r = 1;
	}
	conn_close(&c);
	return r < 0 ? r : 0;
}

bool sshmux_listening(const char *ctl)
{
	int fd = unix_connect(ctl);

	if (fd >= 0)
		close(fd);
	return fd >= 0;
}
