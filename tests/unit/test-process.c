/* SPDX-License-Identifier: MIT */
/* Running programs: spawn_check's capture and environment, its
 * one error for "not found", "failed" and "killed by a signal". The
 * programs are small scripts written to a temporary directory. */
#include <errno.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "process.h"
#include "signals.h"

static char dir[] = "/tmp/qvm-test-process-XXXXXX";

/* dir/name, with a script body; mode 0755 or, for one that may not be
 * run, 0644. */
static char *script(const char *name, const char *body, mode_t mode)
{
	char *path;
	FILE *f;

	assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

/* spawn_check on one program without arguments, both outputs captured;
 * expects r and, for a failure, the error text. */
static void check(const char *prog, unsigned flags, int expect, const char *expect_err,
		  struct spawn_result *res)
{
	char *const argv[] = { (char *)prog, NULL };
	char *err = NULL;
	int r = spawn_check(argv, flags | SPAWN_CAPTURE_STDOUT | SPAWN_CAPTURE_STDERR, res, &err);

	if (r != expect)
		fprintf(stderr, "  %s: %d (%s), expected %d\n", prog, r, err ? err : "-", expect);
	assert_int_equal(r, expect);
	if (expect_err) {
		assert_non_null(err);
		assert_string_equal(err, expect_err);
	} else {
		assert_null(err);
	}
	free(err);
}

/* check() on a script written for it. */
static void check_script(const char *name, const char *body, unsigned flags, int expect,
			 const char *expect_err, struct spawn_result *res)
{
	char *path = script(name, body, 0755);

	check(path, flags, expect, expect_err, res);
	free(path);
}

static void test_success(void **state)
{
	char *const argv[] = { (char *)"true", NULL };
	struct spawn_result res;
	char *err = NULL;

	(void)state;
	check_script("ok", "printf 'one\\ntwo\\n'; echo 'a note' >&2", 0, 0, NULL, &res);
	assert_int_equal(res.status, 0);
	assert_int_equal(res.signal, 0);
	assert_string_equal(res.out, "one\ntwo\n");
	assert_string_equal(res.err, "a note\n");
	spawn_result_clear(&res);

	/* without capture: nothing kept */
	assert_int_equal(spawn_check(argv, 0, &res, &err), 0);
	assert_null(res.out);
	assert_null(res.err);
	assert_null(err);
	spawn_result_clear(&res);
}

static void test_exit_status(void **state)
{
	struct spawn_result res;

	(void)state;
	/* its stderr, warnings left out, lines joined; res still there */
	check_script("fail", "echo 'WARNING  first a warning' >&2\necho 'boom: it failed  ' >&2\n"
		     "echo >&2\necho 'second line' >&2\nexit 3", 0, -EIO, "boom: it failed; second line", &res);
	assert_int_equal(res.status, 3);
	assert_non_null(strstr(res.err, "WARNING"));
	spawn_result_clear(&res);
	check_script("quiet", "exit 4", 0, -EIO, "exit status 4", &res);
	spawn_result_clear(&res);
	check_script("words", "echo 'said on stdout'; exit 5", 0, -EIO, "said on stdout", &res);
	spawn_result_clear(&res);
	/* a warning is better than nothing */
	check_script("warns", "echo 'WARNING  only this' >&2; exit 1", 0, -EIO, "WARNING  only this", &res);
	spawn_result_clear(&res);
}

/* spawn_check says path is not found or not executable. */
static void not_found(const char *path, struct spawn_result *res)
{
	char *msg;

	assert_true(asprintf(&msg, "cannot run %s: not found on PATH or not executable", path) > 0);
	check(path, 0, -ENOENT, msg, res);
	free(msg);
}

static void test_not_found(void **state)
{
	char *noexec = script("noexec", "exit 0", 0644);
	char *gone = script("gone", "exit 127", 0755);
	char *const argv[] = { (char *)"qvm-test-no-such-program", NULL };
	struct spawn_result res;

	(void)state;
	not_found(argv[0], &res);
	assert_null(res.out);
	spawn_result_clear(&res);
	not_found(noexec, &res);
	spawn_result_clear(&res);
	/* 127 without a word: the shell's "not found", as exec errors are
	 * reported where they are not synchronous */
	not_found(gone, &res);
	assert_int_equal(res.status, 127);
	spawn_result_clear(&res);
	free(noexec);
	free(gone);
}

static void test_signal(void **state)
{
	struct spawn_result res;
	char *text;

	(void)state;
	/* qvm's spelling, not strsignal's "Terminated" / "Killed" */
	check_script("term", "kill -TERM $$; sleep 5", 0, -EINTR, "killed by SIGTERM", &res);
	assert_int_equal(res.signal, 15);
	assert_int_equal(res.status, 128 + 15);
	spawn_result_clear(&res);
	check_script("kill9", "kill -KILL $$; sleep 5", 0, -EINTR, "killed by SIGKILL", &res);
	assert_int_equal(res.signal, 9);
	text = spawn_error_text(&res);
	assert_string_equal(text, "killed by SIGKILL");
	free(text);
	spawn_result_clear(&res);
	/* what it said first is the message, and how it ended */
	check_script("loud", "echo 'going down' >&2; kill -INT $$; sleep 5", 0, -EINTR,
		     "going down (killed by SIGINT)", &res);
	assert_int_equal(res.signal, 2);
	spawn_result_clear(&res);
}

/* The child's LC_ALL|LANGUAGE|LANG|LC_MESSAGES. */
static char *child_locale(unsigned flags)
{
	struct spawn_result res;
	char *out;

	check_script("env", "printf '%s|%s|%s|%s' \"$LC_ALL\" \"$LANGUAGE\" \"$LANG\" \"$LC_MESSAGES\"", flags, 0,
		     NULL, &res);
	out = strdup(res.out);
	spawn_result_clear(&res);
	return out;
}

static void test_locale(void **state)
{
	char *seen;

	(void)state;
	assert_int_equal(setenv("LC_ALL", "de_DE.UTF-8", 1), 0);
	assert_int_equal(setenv("LANGUAGE", "de:fr", 1), 0);
	assert_int_equal(setenv("LANG", "fr_FR.UTF-8", 1), 0);
	assert_int_equal(setenv("LC_MESSAGES", "it_IT.UTF-8", 1), 0);

	/* without the flag the child has the user's locale */
	seen = child_locale(0);
	assert_string_equal(seen, "de_DE.UTF-8|de:fr|fr_FR.UTF-8|it_IT.UTF-8");
	free(seen);

	/* with it: C, over the rest (LC_ALL overrides LANG and LC_*) */
	seen = child_locale(SPAWN_C_LOCALE);
	assert_string_equal(seen, "C|C|fr_FR.UTF-8|it_IT.UTF-8");
	free(seen);

	/* qvm's own environment untouched */
	assert_string_equal(getenv("LC_ALL"), "de_DE.UTF-8");
	assert_string_equal(getenv("LANGUAGE"), "de:fr");

	/* nothing set: still C */
	assert_int_equal(unsetenv("LC_ALL"), 0);
	assert_int_equal(unsetenv("LANGUAGE"), 0);
	seen = child_locale(SPAWN_C_LOCALE);
	assert_string_equal(seen, "C|C|fr_FR.UTF-8|it_IT.UTF-8");
	free(seen);
	seen = child_locale(0);
	assert_string_equal(seen, "||fr_FR.UTF-8|it_IT.UTF-8");
	free(seen);
	assert_null(getenv("LC_ALL"));
	unsetenv("LANG");
	unsetenv("LC_MESSAGES");
}


/* spawn_relay: the bytes between two programs, counted. */
struct counted {
	uint64_t last;
	size_t calls;
	int raise_at;                /* raise SIGTERM once this many MiB passed (0: never) */
};

static void count_cb(uint64_t bytes, void *ctx)
{
	struct counted *c = ctx;

	assert_true(bytes > c->last);
	c->last = bytes;
	c->calls++;
	if (c->raise_at && bytes >= (uint64_t)c->raise_at << 20) {
		c->raise_at = 0;
		raise(SIGTERM);
	}
}

/* Runs the scripts from and to (bodies) through spawn_relay. */
static int relay_scripts(const char *from, const char *to, struct counted *c, struct relay_result *res,
			 char **err)
{
	char *pf = script("relay-from", from, 0755), *pt = script("relay-to", to, 0755);
	char *const fv[] = { pf, NULL }, *const tv[] = { pt, NULL };
	int r = spawn_relay(fv, 0, tv, SPAWN_CAPTURE_STDOUT, count_cb, c, res, err);

	free(pf);
	free(pt);
	return r;
}

static char *path_in_dir(const char *name)
{
	char *p;

	assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
	return p;
}

static void test_relay(void **state)
{
	char *in = path_in_dir("relay-in"), *out = path_in_dir("relay-out"), *from, *to, *cmp;
	struct relay_result res;
	struct counted c = { 0 };
	char *err = NULL;
	struct spawn_result cr;
	char *const cmpv[] = { (char *)"cmp", in, out, NULL };

	(void)state;
	/* 24 MiB of varied bytes, moved whole and counted */
	assert_true(asprintf(&cmp, "head -c 25165824 /dev/urandom > %s", in) > 0);
	assert_int_equal(system(cmp), 0);
	free(cmp);
	assert_true(asprintf(&from, "cat %s; echo 'from says' >&2", in) > 0);
	assert_true(asprintf(&to, "cat > %s; echo done; echo 'to says' >&2", out) > 0);
	assert_int_equal(relay_scripts(from, to, &c, &res, &err), 0);
	assert_null(err);
	assert_int_equal(res.from.status, 0);
	assert_int_equal(res.to.status, 0);
	assert_int_equal(res.bytes, 25165824);
	assert_int_equal(c.last, 25165824);
	assert_true(c.calls >= 2);
	assert_int_equal(res.stopped, 0);
	assert_int_equal(res.error, 0);
	assert_string_equal(res.from.err, "from says\n");
	assert_string_equal(res.to.err, "to says\n");
	assert_string_equal(res.to.out, "done\n");
	assert_int_equal(spawn_check(cmpv, 0, &cr, &err), 0);
	spawn_result_clear(&cr);
	relay_result_clear(&res);
	free(from);
	free(to);

	/* from fails half way: to sees the end of what it got */
	c = (struct counted){ 0 };
	assert_true(asprintf(&to, "cat > %s", out) > 0);
	assert_int_equal(relay_scripts("printf abc; echo 'broke' >&2; exit 4", to, &c, &res, &err), 0);
	assert_int_equal(res.from.status, 4);
	assert_string_equal(res.from.err, "broke\n");
	assert_int_equal(res.to.status, 0);
	assert_int_equal(res.bytes, 3);
	relay_result_clear(&res);
	free(to);

	/* to refuses after the first line: from (endless) is stopped, the
	 * relay ends */
	c = (struct counted){ 0 };
	assert_int_equal(relay_scripts("exec yes", "read -r x; echo \"refused $x\" >&2; exit 3", &c, &res, &err), 0);
	assert_int_equal(res.to.status, 3);
	assert_string_equal(res.to.err, "refused y\n");
	assert_true(res.from.signal == SIGTERM || res.from.signal == SIGPIPE);
	assert_int_equal(res.stopped, 0);
	relay_result_clear(&res);

	/* to leaves a process behind that keeps its stderr open: not waited for */
	c = (struct counted){ 0 };
	time_t t0 = time(NULL);
	assert_int_equal(relay_scripts("printf abc", "cat >/dev/null; sleep 4 >&2 &", &c, &res, &err), 0);
	assert_int_equal(res.to.status, 0);
	assert_true(time(NULL) - t0 <= 3);
	relay_result_clear(&res);
	free(in);
	free(out);
}

static void test_relay_not_found(void **state)
{
	char *const missing[] = { (char *)"qvm-test-no-such-program", NULL };
	char *const yes[] = { (char *)"yes", NULL }, *const cat[] = { (char *)"cat", NULL };
	struct relay_result res;
	char *err = NULL;

	(void)state;
	/* (cat: under valgrind the missing program seems to run and exit 127;
	 * then to reads the end of its input) */
	assert_int_equal(spawn_relay(missing, 0, cat, 0, NULL, NULL, &res, &err), -ENOENT);
	assert_string_equal(err, "cannot run qvm-test-no-such-program: not found on PATH or not executable");
	relay_result_clear(&res);
	free(err);
	err = NULL;
	/* from started, to not: from is stopped and waited for */
	assert_int_equal(spawn_relay(yes, 0, missing, 0, NULL, NULL, &res, &err), -ENOENT);
	assert_string_equal(err, "cannot run qvm-test-no-such-program: not found on PATH or not executable");
	relay_result_clear(&res);
	free(err);
}

/* In a child process: the signal stays pending there, not in the tests
 * after this one. */
static void test_relay_signal(void **state)
{
	int wstatus;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct relay_result res;
		struct counted c = { .raise_at = 2 };
		char *err = NULL;
		int bad = 0;

		signals_install();
		/* a signal stops from; to reads the end and finishes on its own */
		bad |= relay_scripts("exec yes", "cat > /dev/null; echo 'to ended' >&2", &c, &res, &err) != 0;
		bad |= (res.stopped != SIGTERM) << 1;
		bad |= (res.from.signal != SIGTERM) << 2;
		bad |= (res.to.status != 0) << 3;
		bad |= (!res.to.err || strcmp(res.to.err, "to ended\n") != 0) << 4;
		bad |= (res.bytes < (2u << 20)) << 5;
		relay_result_clear(&res);
		_exit(bad);
	}
	assert_int_equal(waitpid(pid, &wstatus, 0), pid);
	assert_true(WIFEXITED(wstatus));
	assert_int_equal(WEXITSTATUS(wstatus), 0);
}

/* spawn_all: every program's own output and status, side by side. */
static void test_all_outputs(void **state)
{
	char *ok = script("all-ok", "echo \"out $1\"; echo \"err $1\" >&2", 0755);
	char *fail = script("all-fail", "echo \"no $1\" >&2; exit 3", 0755);
	/* more than a pipe holds, from each at once */
	char *big = script("all-big", "head -c 300000 /dev/zero | tr '\\000' a", 0755);
	char *const a0[] = { ok, "zero", NULL }, *const a1[] = { fail, "one", NULL }, *const a2[] = { big, NULL },
		    *const a3[] = { "/nonexistent/qvm-test", NULL }, *const a4[] = { big, NULL },
		    *const a5[] = { ok, "five", NULL };
	char *const *argvs[] = { a0, a1, a2, a3, a4, a5 };
	struct spawn_result res[6];
	int errs[6];

	(void)state;
	assert_int_equal(spawn_all(argvs, 6, 0, 0, res, errs), 0);
	assert_int_equal(errs[0], 0);
	assert_int_equal(res[0].status, 0);
	assert_string_equal(res[0].out, "out zero\n");
	assert_string_equal(res[0].err, "err zero\n");
	assert_int_equal(errs[1], 0);
	assert_int_equal(res[1].status, 3);
	assert_null(res[1].out);
	assert_string_equal(res[1].err, "no one\n");
	for (int i = 2; i <= 4; i += 2) {
		assert_int_equal(errs[i], 0);
		assert_non_null(res[i].out);
		assert_int_equal(strlen(res[i].out), 300000);
		assert_int_equal(strspn(res[i].out, "a"), 300000);
	}
	assert_int_equal(errs[3], -ENOENT);
	assert_string_equal(res[5].out, "out five\n");
	for (int i = 0; i < 6; i++)
		spawn_result_clear(&res[i]);
	/* none at all */
	assert_int_equal(spawn_all(argvs, 0, 4, 0, res, errs), 0);
	free(ok);
	free(fail);
	free(big);
}

/* How many of the programs run at once: each marks itself running, waits
 * (up to half a second) to see four marked, and prints the most it saw. */
static unsigned most_at_once(unsigned limit)
{
	char *p = script("all-count", "touch \"$0.run.$1\"; i=0; n=0\n"
			 "while [ $i -lt 25 ]; do\n"
			 "  c=$(ls \"$0.run\".* | wc -l); [ $c -gt $n ] && n=$c; [ $n -ge 4 ] && break\n"
			 "  sleep 0.02; i=$((i+1))\n"
			 "done\n"
			 "echo $n; sleep 0.1; rm \"$0.run.$1\"", 0755);
	char *const a0[] = { p, "0", NULL }, *const a1[] = { p, "1", NULL }, *const a2[] = { p, "2", NULL },
		    *const a3[] = { p, "3", NULL };
	char *const *argvs[] = { a0, a1, a2, a3 };
	struct spawn_result res[4];
	int errs[4];
	unsigned most = 0;

	assert_int_equal(spawn_all(argvs, 4, limit, 0, res, errs), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(errs[i], 0);
		assert_int_equal(res[i].status, 0);
		unsigned v = (unsigned)atoi(res[i].out);
		most = v > most ? v : most;
		spawn_result_clear(&res[i]);
	}
	free(p);
	return most;
}

static void test_all_limit(void **state)
{
	(void)state;
	assert_int_equal(most_at_once(0), 4);
	assert_int_equal(most_at_once(4), 4);
	assert_int_equal(most_at_once(2), 2);
	assert_int_equal(most_at_once(1), 1);
}

/* A command that changes nothing (signals_install_readonly): a signal
 * stops even a child run with SPAWN_NO_FORWARD, and a second one ends the
 * process at once. In a child process, as test_relay_signal. */
static void test_readonly_signal(void **state)
{
	char *p = script("ro-sender", "kill -TERM $PPID; exec sleep 30", 0755);
	int wstatus;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *const argv[] = { p, NULL };
		struct spawn_result res;
		char *err = NULL;
		int bad = 0;

		signals_install_readonly();
		bad |= !signals_readonly();
		bad |= (spawn_check(argv, SPAWN_CAPTURE_STDOUT | SPAWN_NO_FORWARD, &res, &err) != -EINTR) << 1;
		bad |= (res.signal != SIGTERM) << 2;
		bad |= (signal_pending() != SIGTERM) << 3;
		spawn_result_clear(&res);
		free(err);
		free(p);
		if (bad)
			_exit(bad);
		/* the second signal: the default action */
		raise(SIGTERM);
		_exit(100);
	}
	assert_int_equal(waitpid(pid, &wstatus, 0), pid);
	if (WIFEXITED(wstatus))
		fail_msg("the child exited %d (a bit per failed check; 100: the second signal did not end it)",
			 WEXITSTATUS(wstatus));
	assert_true(WIFSIGNALED(wstatus));
	assert_int_equal(WTERMSIG(wstatus), SIGTERM);
	/* signals_install's handlers keep SPAWN_NO_FORWARD's child running */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *q = script("ro-held", "kill -TERM $PPID; sleep 0.2; echo ran", 0755);
		char *const argv[] = { q, NULL };
		struct spawn_result res;
		char *err = NULL;
		int r;

		signals_install();
		r = spawn_check(argv, SPAWN_CAPTURE_STDOUT | SPAWN_NO_FORWARD, &res, &err);
		r = r == 0 && res.out && strcmp(res.out, "ran\n") == 0 && signal_pending() == SIGTERM &&
		    !signals_readonly() ? 0 : 1;
		spawn_result_clear(&res);
		free(err);
		free(q);
		free(p);
		_exit(r);
	}
	assert_int_equal(waitpid(pid, &wstatus, 0), pid);
	assert_true(WIFEXITED(wstatus));
	assert_int_equal(WEXITSTATUS(wstatus), 0);
	free(p);
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Whether process pid has ended (gone, or a zombie nobody reaped yet). */
static bool process_ended(pid_t pid)
{
	char path[64], buf[256], *p;
	FILE *f;
	bool ended = true;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return true;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
		ended = p[1] == ' ' && p[2] == 'Z';
	fclose(f);
	return ended;
}

/* A time limit: who runs past it is sent SIGTERM (with what it started in
 * its process group), SIGKILL if it ignores that; the others are not
 * touched. One that closes its output and goes on is still timed. */
static void test_all_timeout(void **state)
{
	char *slow = script("all-slow", "echo started; sleep 30", 0755);
	char *ok = script("all-ok", "echo \"out $1\"; echo \"err $1\" >&2", 0755);
	char *stubborn = script("all-stubborn", "trap '' TERM; echo stubborn; while :; do sleep 0.05; done", 0755);
	char *closes = script("all-closes", "exec >/dev/null 2>&1; sleep 30", 0755);
	char *group = script("all-group", "sleep 30 & echo $!; wait", 0755);
	char *const a0[] = { slow, NULL }, *const a1[] = { ok, "one", NULL }, *const a2[] = { stubborn, NULL },
		    *const a3[] = { closes, NULL }, *const a4[] = { group, NULL };
	char *const *argvs[] = { a0, a1, a2, a3, a4 };
	struct spawn_result res[5];
	int errs[5];
	struct timespec t0;
	pid_t bg;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(spawn_all(argvs, 5, 0, 300, res, errs), 0);
	/* 300 ms, then a grace as long (it is shorter than SPAWN_ALL_GRACE_MS) */
	assert_true(seconds_since(&t0) < 3);
	assert_int_equal(errs[0], -ETIMEDOUT);
	assert_int_equal(res[0].signal, SIGTERM);
	assert_string_equal(res[0].out, "started\n");
	assert_int_equal(errs[1], 0);
	assert_int_equal(res[1].status, 0);
	assert_string_equal(res[1].out, "out one\n");
	assert_int_equal(errs[2], -ETIMEDOUT);
	assert_int_equal(res[2].signal, SIGKILL);
	assert_string_equal(res[2].out, "stubborn\n");
	assert_int_equal(errs[3], -ETIMEDOUT);
	assert_int_equal(res[3].signal, SIGTERM);
	assert_int_equal(errs[4], -ETIMEDOUT);
	assert_non_null(res[4].out);
	bg = (pid_t)atoi(res[4].out);
	assert_true(bg > 1);
	for (int i = 0; i < 100 && !process_ended(bg); i++)
		usleep(20000);
	assert_true(process_ended(bg));
	for (int i = 0; i < 5; i++)
		spawn_result_clear(&res[i]);
	free(slow);
	free(ok);
	free(stubborn);
	free(closes);
	free(group);
}

/* The limit counts from each program's own start, not from the first's. */
static void test_all_timeout_each(void **state)
{
	char *p = script("all-nap", "sleep 0.3; echo done", 0755);
	char *const a[] = { p, NULL };
	char *const *argvs[] = { a, a, a };
	struct spawn_result res[3];
	int errs[3];

	(void)state;
	assert_int_equal(spawn_all(argvs, 3, 1, 1000, res, errs), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(errs[i], 0);
		assert_string_equal(res[i].out, "done\n");
		spawn_result_clear(&res[i]);
	}
	free(p);
}

/* A signal to qvm (here sent by one of the programs) starts nothing more
 * and reaches the running ones. Last: the signal stays pending. */
static void test_all_signal(void **state)
{
	char *killer = script("all-killer", "kill -TERM $PPID; sleep 5", 0755);
	char *sleeper = script("all-sleeper", "sleep 30", 0755);
	char *const a0[] = { sleeper, NULL }, *const a1[] = { killer, NULL }, *const a2[] = { sleeper, NULL };
	char *const *argvs[] = { a0, a1, a2 };
	struct spawn_result res[3];
	int errs[3];

	(void)state;
	signals_install();
	assert_int_equal(spawn_all(argvs, 3, 2, 0, res, errs), -EINTR);
	assert_int_equal(signal_pending(), SIGTERM);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(errs[i], 0);
		assert_int_equal(res[i].signal, SIGTERM);
		spawn_result_clear(&res[i]);
	}
	assert_int_equal(errs[2], -ECANCELED);
	spawn_result_clear(&res[2]);
	free(killer);
	free(sleeper);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	static const char *const names[] = { "ok", "fail", "quiet", "words", "warns", "noexec", "gone",
		"term", "kill9", "loud", "env", "relay-from", "relay-to", "relay-in", "relay-out",
		"all-ok", "all-fail", "all-big", "all-count", "all-killer", "all-sleeper", "all-slow", "all-stubborn",
		"all-closes", "all-group", "all-nap", "ro-sender", "ro-held" };
	char path[200];

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_success),
		cmocka_unit_test(test_exit_status),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_signal),
		cmocka_unit_test(test_locale),
		cmocka_unit_test(test_relay),
		cmocka_unit_test(test_relay_not_found),
		cmocka_unit_test(test_relay_signal),
		cmocka_unit_test(test_readonly_signal),
		cmocka_unit_test(test_all_outputs),
		cmocka_unit_test(test_all_limit),
		cmocka_unit_test(test_all_timeout),
		cmocka_unit_test(test_all_timeout_each),
		cmocka_unit_test(test_all_signal),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
