/* SPDX-License-Identifier: MIT */
/* sshmux: qvm's side of OpenSSH's mux protocol, against a fake master (a
 * child process on a unix socket) that plays one scenario each: a command
 * run with its output and exit status, a master of another protocol
 * version, one that refuses, one that drops the connection or sends
 * garbage, a master of another user, and the request to end. The real
 * master (ssh -M) is exercised by the CLI tests' hosts. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "process.h"
#include "signals.h"
#include "sshmux.h"

static char dir[] = "/tmp/qvm-test-sshmux-XXXXXX";
static char ctl[200];

enum scenario { RUN, BAD_VERSION, REFUSE, DROP, GARBAGE, BIG, STDIN, TERMINATE, FLOOD, ERR_FLOOD, HANG, NO_HELLO };

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16), p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void read_all(int fd, void *buf, size_t n)
{
	unsigned char *p = buf;
	while (n) {
		ssize_t k = read(fd, p, n);
		if (k <= 0)
			_exit(90);
		p += k;
		n -= (size_t)k;
	}
}

/* A message: its type and up to 4 KiB of body. */
static uint32_t read_msg(int fd, unsigned char *body, size_t *len)
{
	unsigned char w[4];
	read_all(fd, w, 4);
	*len = get32(w);
	if (*len < 4 || *len > 4096)
		_exit(91);
	read_all(fd, body, *len);
	return get32(body);
}

/* A message of words (uint32s) and, when s is set, one string last. */
static void send_msg(int fd, const uint32_t *words, size_t n, const char *s)
{
	unsigned char m[512];
	size_t len = 4 * n + (s ? 4 + strlen(s) : 0);
	put32(m, (uint32_t)len);
	for (size_t i = 0; i < n; i++)
		put32(m + 4 + 4 * i, words[i]);
	if (s) {
		put32(m + 4 + 4 * n, (uint32_t)strlen(s));
		memcpy(m + 8 + 4 * n, s, strlen(s));
	}
	if (write(fd, m, 4 + len) != (ssize_t)(4 + len))
		_exit(92);
}

static int recv_fd(int sock)
{
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.space, .msg_controllen = sizeof(u.space) };
	int fd;

	if (recvmsg(sock, &m, 0) != 1 || !CMSG_FIRSTHDR(&m))
		_exit(93);
	memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof(fd));
	return fd;
}

static void master(enum scenario sc, int listener)
{
	unsigned char body[4096];
	size_t len;
	int s = accept(listener, NULL, NULL);
	const uint32_t hello[] = { 1, sc == BAD_VERSION ? 3 : 4 };

	if (s < 0)
		_exit(94);
	if (sc == NO_HELLO) {
		/* a master that never answers; its client is signalled */
		char c;
		alarm(40);
		kill(getppid(), SIGTERM);
		while (read(s, &c, 1) > 0)
			;
		_exit(0);
	}
	send_msg(s, hello, 2, NULL);
	if (read_msg(s, body, &len) != 1 || get32(body + 4) != 4)
		_exit(95);
	if (sc == BAD_VERSION) {
		close(s);
		_exit(0);
	}
	uint32_t type = read_msg(s, body, &len);
	if (sc == TERMINATE) {
		const uint32_t ok[] = { 0x80000001, get32(body + 4) };
		if (type != 0x10000005)
			_exit(96);
		send_msg(s, ok, 2, NULL);
		close(s);
		_exit(0);
	}
	/* new session: id, reserved, 4 flags, escape, term, command */
	if (type != 0x10000002 || get32(body + 8) != 0 || get32(body + 12 + 16) != 0xffffffffu)
		_exit(97);
	uint32_t id = get32(body + 4);
	const unsigned char *cmd = body + 40;   /* after an empty term and its length */
	uint32_t cmdlen = get32(body + 36);
	int fd[3];
	for (int i = 0; i < 3; i++)
		fd[i] = recv_fd(s);
	if (sc == REFUSE) {
		const uint32_t no[] = { 0x80000003, id };
		send_msg(s, no, 2, "no sessions here");
		_exit(0);
	}
	if (sc == GARBAGE) {
		if (write(s, "\xff\xff\xff\xff\x80\x00\x00\x04", 8) != 8)
			_exit(98);
		_exit(0);
	}
	const uint32_t opened[] = { 0x80000006, id, 7 };
	send_msg(s, opened, 3, NULL);
	if (sc == DROP)
		_exit(0);
	if (sc == HANG) {
		/* the command never ends; its client is signalled meanwhile
		 * and leaves (its connection closes) */
		char c;
		alarm(20);
		kill(getppid(), SIGTERM);
		while (read(s, &c, 1) > 0)
			;
		_exit(0);
	}
	if (sc == FLOOD || sc == ERR_FLOOD) {
		/* without end on stdout (qvm stops reading), 1 MiB on stderr */
		static char chunk[65536];
		memset(chunk, 'y', sizeof(chunk));
		signal(SIGPIPE, SIG_IGN);
		for (int i = 0; sc == ERR_FLOOD ? i < 16 : 1; i++)
			if (write(fd[sc == FLOOD ? 1 : 2], chunk, sizeof(chunk)) < 0)
				_exit(0);
	} else if (sc == BIG) {
		static char chunk[65536];
		memset(chunk, 'x', sizeof(chunk));
		for (int i = 0; i < 16; i++)
			if (write(fd[1], chunk, sizeof(chunk)) != (ssize_t)sizeof(chunk))
				_exit(99);
	} else if (sc == STDIN) {
		char in[64];
		ssize_t n = read(fd[0], in, sizeof(in));
		if (n <= 0 || write(fd[1], in, (size_t)n) != n)
			_exit(100);
	} else if (write(fd[1], "out:", 4) != 4 || write(fd[1], cmd, cmdlen) != (ssize_t)cmdlen ||
		   write(fd[2], "err", 3) != 3)
		_exit(101);
	const uint32_t exited[] = { 0x80000004, 7, sc == RUN ? 3 : 0 };
	send_msg(s, exited, 3, NULL);
	for (int i = 0; i < 3; i++)
		close(fd[i]);
	close(s);
	_exit(0);
}

/* A fake master of the scenario, listening on ctl as uid. */
static pid_t start(enum scenario sc, uid_t uid)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int l;
	pid_t pid;

	unlink(ctl);
	if (uid != getuid())
		assert_int_equal(setresuid(-1, uid, -1), 0);
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(l >= 0);
	memcpy(sa.sun_path, ctl, strlen(ctl) + 1);
	assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(l, 1), 0);
	if (uid != getuid())
		assert_int_equal(setresuid(-1, getuid(), -1), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		master(sc, l);
	close(l);
	return pid;
}

static void finish(pid_t pid)
{
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_run(void **state)
{
	(void)state;
	struct spawn_result res;
	char *err = NULL;
	pid_t pid = start(RUN, getuid());

	assert_int_equal(sshmux_run(ctl, "zfs list 'a b'", -1, SPAWN_CAPTURE_STDOUT | SPAWN_CAPTURE_STDERR, &res, &err),
			 0);
	finish(pid);
	assert_int_equal(res.status, 3);
	assert_string_equal(res.out, "out:zfs list 'a b'");
	assert_string_equal(res.err, "err");
	spawn_result_clear(&res);
	free(err);
}

/* not captured: /dev/null */
static void test_run_uncaptured(void **state)
{
	(void)state;
	struct spawn_result res;
	char *err = NULL;
	pid_t pid = start(RUN, getuid());

	assert_int_equal(sshmux_run(ctl, "true", -1, 0, &res, &err), 0);
	finish(pid);
	assert_int_equal(res.status, 3);
	assert_null(res.out);
	assert_null(res.err);
	spawn_result_clear(&res);
}

static void test_big_output(void **state)
{
	(void)state;
	struct spawn_result res;
	char *err = NULL;
	pid_t pid = start(BIG, getuid());

	assert_int_equal(sshmux_run(ctl, "cat", -1, SPAWN_CAPTURE_STDOUT, &res, &err), 0);
	finish(pid);
	assert_int_equal(res.status, 0);
	assert_int_equal(strlen(res.out), 16 * 65536);
	spawn_result_clear(&res);
}

/* a host printing without end: refused once past 64 MiB, not kept */
static void test_flood(void **state)
{
	(void)state;
	struct spawn_result res;
	char *err = NULL;
	pid_t pid = start(FLOOD, getuid());

	assert_int_equal(sshmux_run(ctl, "yes", -1, SPAWN_CAPTURE_STDOUT, &res, &err), -E2BIG);
	assert_non_null(strstr(err, "printed more than 64 MiB"));
	assert_null(res.out);
	free(err);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

/* stderr is for a message: its first 64 KiB */
static void test_err_flood(void **state)
{
	(void)state;
	struct spawn_result res;
	char *err = NULL;
	pid_t pid = start(ERR_FLOOD, getuid());

	assert_int_equal(sshmux_run(ctl, "x", -1, SPAWN_CAPTURE_STDERR, &res, &err), 0);
	finish(pid);
	assert_int_equal(strlen(res.err), 64 << 10);
	spawn_result_clear(&res);
}

static void test_stdin(void **state)
{
	(void)state;
	struct spawn_result res;
	char *err = NULL;
	int fd = memfd_create("in", 0);
	pid_t pid;

	assert_int_equal(write(fd, "seed bytes", 10), 10);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	pid = start(STDIN, getuid());
	assert_int_equal(sshmux_run(ctl, "cat", fd, SPAWN_CAPTURE_STDOUT, &res, &err), 0);
	finish(pid);
	assert_string_equal(res.out, "seed bytes");
	spawn_result_clear(&res);
	close(fd);
}

/* each way of not getting an exit status: -EHOSTUNREACH and why */
static void expect_unreachable(enum scenario sc, const char *why)
{
	struct spawn_result res;
	char *err = NULL;
	pid_t pid = start(sc, getuid());

	assert_int_equal(sshmux_run(ctl, "true", -1, SPAWN_CAPTURE_STDOUT, &res, &err), -EHOSTUNREACH);
	finish(pid);
	assert_non_null(err);
	if (!strstr(err, why))
		fail_msg("\"%s\" does not say \"%s\"", err, why);
	assert_null(res.out);
	spawn_result_clear(&res);
	free(err);
}

static void test_bad_version(void **state)
{
	(void)state;
	expect_unreachable(BAD_VERSION, "another protocol (version 3)");
}

static void test_refused(void **state)
{
	(void)state;
	expect_unreachable(REFUSE, "refused the command: no sessions here");
}

static void test_dropped(void **state)
{
	(void)state;
	expect_unreachable(DROP, "lost before the command ended");
}

static void test_garbage(void **state)
{
	(void)state;
	expect_unreachable(GARBAGE, "unreadable");
}

static void test_no_master(void **state)
{
	(void)state;
	struct spawn_result res;
	char *err = NULL;

	unlink(ctl);
	assert_int_equal(sshmux_run(ctl, "true", -1, 0, &res, &err), -EHOSTUNREACH);
	assert_non_null(strstr(err, "connection is gone"));
	free(err);
	assert_true(sshmux_exit(ctl, 100) < 0);
}

/* a socket another user listens on is not spoken to */
static void test_other_user(void **state)
{
	(void)state;
	struct spawn_result res;
	char *err = NULL;

	if (getuid() != 0)
		skip();
	pid_t pid = start(RUN, 65534);
	assert_int_equal(sshmux_run(ctl, "true", -1, 0, &res, &err), -EHOSTUNREACH);
	assert_non_null(strstr(err, "not this user's"));
	free(err);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

static void test_terminate(void **state)
{
	(void)state;
	pid_t pid = start(TERMINATE, getuid());

	assert_int_equal(sshmux_exit(ctl, 5000), 0);
	finish(pid);
}

/* body run in a child process (a signal it gets stays pending there):
 * its result is the child's exit status, 0 for success. */
static void in_child(int (*body)(void))
{
	int wstatus;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(body());
	assert_int_equal(waitpid(pid, &wstatus, 0), pid);
	assert_true(WIFEXITED(wstatus));
	assert_int_equal(WEXITSTATUS(wstatus), 0);
}

/* sshmux_run on the scenario's master, expecting -EINTR by SIGTERM: bits
 * of what went otherwise */
static int interrupted(enum scenario sc, unsigned flags)
{
	struct spawn_result res;
	char *err = NULL;
	time_t t0 = time(NULL);
	int bad = 0, status;
	pid_t m = start(sc, getuid());

	bad |= sshmux_run(ctl, "sleep 100000", -1, SPAWN_CAPTURE_STDOUT | flags, &res, &err) != -EINTR;
	bad |= (res.signal != SIGTERM) << 1;
	bad |= (time(NULL) - t0 > 10) << 2;
	/* the fake master sees the connection close */
	bad |= (waitpid(m, &status, 0) != m || !WIFEXITED(status) || WEXITSTATUS(status) != 0) << 3;
	spawn_result_clear(&res);
	free(err);
	return bad;
}

/* A command that never ends, run with SPAWN_NO_FORWARD: signals_install's
 * handlers wait for it (its outcome matters); in a command that changes
 * nothing (signals_install_readonly) a signal leaves it. */
static int readonly_signal(void)
{
	signals_install_readonly();
	return interrupted(HANG, SPAWN_NO_FORWARD);
}

static void test_readonly_signal(void **state)
{
	(void)state;
	in_child(readonly_signal);
}

/* A master that never says hello: a command whose outcome does not
 * matter (no SPAWN_NO_FORWARD) is left at the signal, not after the 30 s
 * the hello may take. */
static int signal_before_hello(void)
{
	signals_install();
	return interrupted(NO_HELLO, 0);
}

static void test_signal_before_hello(void **state)
{
	(void)state;
	in_child(signal_before_hello);
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	chmod(dir, 0777);   /* the other user's master listens in it too */
	snprintf(ctl, sizeof(ctl), "%s/master", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(ctl);
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run),
		cmocka_unit_test(test_run_uncaptured),
		cmocka_unit_test(test_big_output),
		cmocka_unit_test(test_stdin),
		cmocka_unit_test(test_flood),
		cmocka_unit_test(test_err_flood),
		cmocka_unit_test(test_bad_version),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_dropped),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_no_master),
		cmocka_unit_test(test_other_user),
		cmocka_unit_test(test_terminate),
		cmocka_unit_test(test_readonly_signal),
		cmocka_unit_test(test_signal_before_hello),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
