/* SPDX-License-Identifier: MIT */
/* The zfs argument vectors: exactly what qvm runs, and the words it
 * refuses to hand zfs (an option where an operand is meant, a snapshot
 * where a dataset is, a property without a value). */
#include <errno.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "process.h"
#include "strv.h"
#include "zfs.h"

/* The builder's result r is 0 and *argv, joined with spaces, expect;
 * *argv freed and NULL again. (A pointer: the call that fills it is an
 * argument of the same call.) */
static void assert_argv(int r, char ***argv, const char *expect)
{
	char *line;

	assert_int_equal(r, 0);
	line = strv_join(*argv, " ");
	assert_non_null(line);
	assert_string_equal(line, expect);
	free(line);
	strv_free(*argv);
	*argv = NULL;
}

static void test_create_and_clone(void **state)
{
	char *const marks[] = { "qvm:kind=image", "qvm:state=incomplete", NULL };
	char *const props[] = { "volblocksize=64K", "compression=zstd", NULL };
	char **argv = NULL;

	(void)state;
	/* an image: its volblocksize and refreservation fixed, then the marks */
	assert_argv(zfs_create_volume_argv("tank/images/debian", 2147483648u, marks, &argv), &argv,
		    "zfs create -V 2147483648 -o volblocksize=16K -o refreservation=none "
		    "-o qvm:kind=image -o qvm:state=incomplete tank/images/debian");
	assert_argv(zfs_create_volume_argv("tank/x", 16384, NULL, &argv), &argv,
		    "zfs create -V 16384 -o volblocksize=16K -o refreservation=none tank/x");
	/* a blank disk: every property the caller's */
	assert_argv(zfs_create_blank_argv("tank/vms/web-data", "10G", props, &argv), &argv,
		    "zfs create -V 10G -o volblocksize=64K -o compression=zstd tank/vms/web-data");
	assert_argv(zfs_create_blank_argv("tank/d", "1M", NULL, &argv), &argv, "zfs create -V 1M tank/d");
	assert_argv(zfs_clone_argv("tank/images/debian@base", "tank/vms/web", marks, &argv), &argv,
		    "zfs clone -o qvm:kind=image -o qvm:state=incomplete tank/images/debian@base tank/vms/web");
	assert_argv(zfs_clone_argv("tank/a@s", "tank/b", NULL, &argv), &argv, "zfs clone tank/a@s tank/b");
}

static void test_small_commands(void **state)
{
	char **argv = NULL;

	(void)state;
	assert_argv(zfs_snapshot_argv("tank/images/debian@base", &argv), &argv,
		    "zfs snapshot tank/images/debian@base");
	assert_argv(zfs_set_argv("tank/vms/web", "qvm:state=ready", &argv), &argv,
		    "zfs set qvm:state=ready tank/vms/web");
	assert_argv(zfs_destroy_argv("tank/vms/web", 0, &argv), &argv, "zfs destroy tank/vms/web");
	assert_argv(zfs_destroy_argv("tank/images/debian", 1, &argv), &argv, "zfs destroy -r tank/images/debian");
	assert_argv(zfs_destroy_argv("tank/images/debian@base", 0, &argv), &argv,
		    "zfs destroy tank/images/debian@base");
}

/* The builder's result r is -EINVAL and *argv untouched. */
static void refused(int r, char ***argv)
{
	assert_int_equal(r, -EINVAL);
	assert_null(*argv);
}

static void test_refusals(void **state)
{
	char *const bad_props[][2] = { { "-r", NULL }, { "novalue", NULL }, { "=x", NULL }, { "", NULL } };
	char *const good[] = { "a=b", NULL };
	char **argv = NULL;

	(void)state;
	/* an operand zfs would take for an option, or empty */
	refused(zfs_create_volume_argv("-rf", 1, NULL, &argv), &argv);
	refused(zfs_create_volume_argv("", 1, NULL, &argv), &argv);
	refused(zfs_create_blank_argv("-V", "1G", NULL, &argv), &argv);
	refused(zfs_create_blank_argv("tank/x", "-1G", NULL, &argv), &argv);
	refused(zfs_create_blank_argv("tank/x", "", NULL, &argv), &argv);
	refused(zfs_clone_argv("-p@x", "tank/b", NULL, &argv), &argv);
	refused(zfs_clone_argv("tank/a@s", "-p", NULL, &argv), &argv);
	refused(zfs_snapshot_argv("-r", &argv), &argv);
	refused(zfs_set_argv("-x", "a=b", &argv), &argv);
	refused(zfs_set_argv("tank/x", "-a=b", &argv), &argv);
	refused(zfs_destroy_argv("-r", 0, &argv), &argv);
	refused(zfs_destroy_argv("", 1, &argv), &argv);

	/* a snapshot where a dataset is meant, or no snapshot at all */
	refused(zfs_create_volume_argv("tank/x@s", 1, NULL, &argv), &argv);
	refused(zfs_create_blank_argv("tank/x@s", "1G", NULL, &argv), &argv);
	refused(zfs_clone_argv("tank/a", "tank/b", NULL, &argv), &argv);
	refused(zfs_clone_argv("tank/a@", "tank/b", NULL, &argv), &argv);
	refused(zfs_clone_argv("@s", "tank/b", NULL, &argv), &argv);
	refused(zfs_clone_argv("tank/a@s", "tank/b@t", NULL, &argv), &argv);
	refused(zfs_snapshot_argv("tank/a", &argv), &argv);

	/* a property without its value, or an option in its place */
	for (size_t i = 0; i < sizeof(bad_props) / sizeof(bad_props[0]); i++) {
		refused(zfs_create_volume_argv("tank/x", 1, bad_props[i], &argv), &argv);
		refused(zfs_create_blank_argv("tank/x", "1G", bad_props[i], &argv), &argv);
		refused(zfs_clone_argv("tank/a@s", "tank/b", bad_props[i], &argv), &argv);
		refused(zfs_set_argv("tank/x", bad_props[i][0], &argv), &argv);
	}
	assert_argv(zfs_set_argv("tank/x", good[0], &argv), &argv, "zfs set a=b tank/x");
}

/* A refused word reaches no zfs: the runner says why, with -EINVAL. */
static void test_refused_not_run(void **state)
{
	char *err = NULL;

	(void)state;
	/* no zfs on this PATH: had it run, the error would be "cannot run" */
	assert_int_equal(setenv("PATH", "/nonexistent", 1), 0);
	assert_int_equal(zfs_destroy("-r", 1, &err), -EINVAL);
	assert_non_null(err);
	assert_non_null(strstr(err, "refused"));
	free(err);
	err = NULL;
	assert_int_equal(zfs_snapshot("tank/a", &err), -EINVAL);
	free(err);
	err = NULL;
	/* and a zfs that is not there: -ECHILD, not -ENOENT (not "no dataset") */
	assert_int_equal(zfs_snapshot("tank/a@s", &err), -ECHILD);
	assert_string_equal(err, "cannot run zfs: not found on PATH or not executable");
	free(err);
	err = NULL;
	/* a destroy's "already gone" does not hide it either */
	assert_int_equal(zfs_destroy("tank/a", 0, &err), -ECHILD);
	assert_string_equal(err, "cannot run zfs: not found on PATH or not executable");
	free(err);
}

/* A zfs on PATH that records its arguments and prints the given output. */
static char *fake_zfs(const char *output, char **dir_out)
{
	char tmpl[] = "/tmp/qvm-test-zfs-XXXXXX", *dir, *path, *out, *old_path;
	FILE *f;

	dir = strdup(mkdtemp(tmpl));
	assert_non_null(dir);
	assert_true(asprintf(&out, "%s/out", dir) > 0);
	f = fopen(out, "w");
	assert_non_null(f);
	fputs(output, f);
	fclose(f);
	assert_true(asprintf(&path, "%s/zfs", dir) > 0);
	f = fopen(path, "w");
	assert_non_null(f);
	/* an earlier test leaves PATH without /bin: cat by its path */
	fprintf(f, "#!/bin/sh\nprintf '%%s\\n' \"$@\" >'%s/args'\nexec /bin/cat '%s'\n", dir, out);
	fclose(f);
	assert_int_equal(chmod(path, 0755), 0);
	old_path = strdup(getenv("PATH"));
	free(path);
	assert_true(asprintf(&path, "%s:%s", dir, old_path) > 0);
	assert_int_equal(setenv("PATH", path, 1), 0);
	free(path);
	free(out);
	*dir_out = dir;
	return old_path;
}

static void fake_zfs_done(char *dir, char *old_path)
{
	char *cmd;

	assert_int_equal(setenv("PATH", old_path, 1), 0);
	assert_true(asprintf(&cmd, "%s/args", dir) > 0);
	unlink(cmd);
	free(cmd);
	assert_true(asprintf(&cmd, "%s/out", dir) > 0);
	unlink(cmd);
	free(cmd);
	assert_true(asprintf(&cmd, "%s/zfs", dir) > 0);
	unlink(cmd);
	free(cmd);
	rmdir(dir);
	free(dir);
	free(old_path);
}

/* Types and user properties in one zfs list; a name printed twice (a
 * value holding a newline) makes all of it unbelieved. */
static void test_types_props(void **state)
{
	(void)state;
	static const char *const props[] = { "qvm:osinfo", "qvm:user", NULL };
	const char *names[] = { "tank/i/d@base", "tank/i/web", "tank/i", "tank/i/d@base" };
	char *types[4], *values[8], *err = NULL, *dir, *old;
	uint64_t bs[4];

	old = fake_zfs("tank/i\tfilesystem\t-\t-\t-\n"
		       "tank/i/d@base\tsnapshot\t16384\tdebian12\tdebian\n", &dir);
	assert_int_equal(zfs_get_types_props(names, 4, props, types, bs, values, &err), 0);
	assert_string_equal(types[0], "snapshot");
	assert_null(types[1]);
	assert_string_equal(types[2], "filesystem");
	assert_string_equal(types[3], "snapshot");
	assert_int_equal(bs[0], 16384);
	assert_string_equal(values[0], "debian12");
	assert_string_equal(values[1], "debian");
	assert_null(values[2]);
	assert_null(values[3]);
	assert_null(values[4]);     /* "-": not set */
	assert_null(values[5]);
	assert_string_equal(values[6], "debian12");
	/* one zfs list, each name once, the properties as columns */
	char *args_path, buf[512] = { 0 };
	assert_true(asprintf(&args_path, "%s/args", dir) > 0);
	FILE *a = fopen(args_path, "r");
	assert_non_null(a);
	assert_true(fread(buf, 1, sizeof(buf) - 1, a) > 0);
	fclose(a);
	free(args_path);
	assert_string_equal(buf, "list\n-H\n-p\n-o\nname,type,volblocksize,qvm:osinfo,qvm:user\ntank/i/d@base\n"
			    "tank/i/web\ntank/i\n");
	for (size_t i = 0; i < 4; i++)
		free(types[i]);
	for (size_t i = 0; i < 8; i++)
		free(values[i]);
	fake_zfs_done(dir, old);

	/* "debian12\ntank/i/web\tvolume..." in a value: web would seem to exist */
	old = fake_zfs("tank/i/d@base\tsnapshot\t16384\tx\n"
		       "tank/i/web\tvolume\t16384\t-\t-\n"
		       "tank/i/web\tvolume\t16384\t-\t-\n", &dir);
	assert_int_equal(zfs_get_types_props(names, 4, props, types, bs, values, &err), -EIO);
	assert_string_equal(err, "zfs list printed tank/i/web twice (a property value holds a newline?)");
	for (size_t i = 0; i < 4; i++)
		assert_null(types[i]);
	for (size_t i = 0; i < 8; i++)
		assert_null(values[i]);
	free(err);
	fake_zfs_done(dir, old);
}


static void test_send_recv_argv(void **state)
{
	char *const marks[] = { "qvm:kind=image", "qvm:source=/x y", NULL };
	char *const bad[] = { "novalue", NULL };
	char **argv = NULL;

	(void)state;
	assert_argv(zfs_send_argv("tank/i/deb@base", 0, &argv), &argv, "zfs send -L -e -c tank/i/deb@base");
	assert_argv(zfs_send_argv("tank/i/deb@base", ZFS_SEND_RAW, &argv), &argv,
		    "zfs send -L -e -c -w tank/i/deb@base");
	assert_argv(zfs_send_argv("tank/i/deb@base", ZFS_SEND_RAW | ZFS_SEND_DRY_RUN, &argv), &argv,
		    "zfs send -L -e -c -w -n -P tank/i/deb@base");
	assert_argv(zfs_send_resume_argv("1-ab12-9f-789c0aF", 0, &argv), &argv, "zfs send -t 1-ab12-9f-789c0aF");
	assert_argv(zfs_send_resume_argv("1-ab-9f-78", ZFS_SEND_DRY_RUN, &argv), &argv,
		    "zfs send -n -P -t 1-ab-9f-78");
	assert_argv(zfs_recv_argv("tank/images/deb", marks, &argv), &argv,
		    "zfs recv -s -u -o qvm:kind=image -o qvm:source=/x y tank/images/deb");
	assert_argv(zfs_recv_argv("tank/d", NULL, &argv), &argv, "zfs recv -s -u tank/d");

	/* a dataset where a snapshot is meant and back, options, bad tokens */
	refused(zfs_send_argv("tank/i/deb", 0, &argv), &argv);
	refused(zfs_send_argv("-R@x", 0, &argv), &argv);
	refused(zfs_recv_argv("tank/d@s", NULL, &argv), &argv);
	refused(zfs_recv_argv("-F", NULL, &argv), &argv);
	refused(zfs_recv_argv("tank/d", bad, &argv), &argv);
	refused(zfs_send_resume_argv("", 0, &argv), &argv);
	refused(zfs_send_resume_argv("-v", 0, &argv), &argv);
	refused(zfs_send_resume_argv("1-ab cd", 0, &argv), &argv);
	refused(zfs_send_resume_argv("1-ab;rm", 0, &argv), &argv);
	refused(zfs_send_resume_argv("x1-ab", 0, &argv), &argv);
	assert_true(zfs_resume_token_valid("1-10d5c7a83a-f8-789c636064000310a500"));
	assert_false(zfs_resume_token_valid("1-10d5c7a83a-f8-789c\n636064"));
}

static void test_send_size_parse(void **state)
{
	uint64_t n;
	char *snap;

	(void)state;
	assert_int_equal(zfs_send_size_parse("full\ttank/i/d@base\t4096\nsize\t4096\n", &n, &snap), 0);
	assert_int_equal(n, 4096);
	assert_string_equal(snap, "tank/i/d@base");
	free(snap);
	/* a resumed send: the token's contents first, the size of what is left */
	assert_int_equal(zfs_send_size_parse("resume token contents:\nnvlist version: 0\n\tobject = 0x1\n"
					     "\ttoname = tank/i/d@base\nfull\ttank/i/d@base\t123\nsize\t123\n",
					     &n, &snap), 0);
	assert_int_equal(n, 123);
	assert_string_equal(snap, "tank/i/d@base");
	free(snap);
	/* the "full" line alone (a resumed send in OpenZFS 2.2) */
	assert_int_equal(zfs_send_size_parse("full\ttank/x@base\t77\n", &n, NULL), 0);
	assert_int_equal(n, 77);
	assert_int_equal(zfs_send_size_parse("", &n, &snap), -EPROTO);
	assert_null(snap);
	assert_int_equal(zfs_send_size_parse("size\tmany\n", &n, &snap), -EPROTO);
	assert_int_equal(zfs_send_size_parse("full\ttank/x@base\t-1\n", &n, &snap), -EPROTO);
	assert_null(snap);
}

static void count_bytes(uint64_t bytes, void *ctx)
{
	*(uint64_t *)ctx = bytes;
}

/* zfs send into zfs recv (no remote host open: both here), through a zfs
 * that sends a few bytes and receives them into a file. */
static void test_send_recv(void **state)
{
	char tmpl[] = "/tmp/qvm-test-zfs-XXXXXX", *dir = mkdtemp(tmpl), *path, *recvd, *old_path, *err = NULL;
	char *const marks[] = { "qvm:kind=image", NULL };
	struct relay_result res;
	uint64_t seen = 0;
	char buf[64] = { 0 };
	FILE *f;

	(void)state;
	assert_non_null(dir);
	assert_true(asprintf(&path, "%s/zfs", dir) > 0);
	assert_true(asprintf(&recvd, "%s/received", dir) > 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n"
		"case \"$1\" in\n"
		"send) [ -e '%s/sendfail' ] &&\n"
		"      { echo \"cannot open 'tank/a@base': dataset does not exist\" >&2; exit 1; }\n"
		"      printf 'STREAM-DATA'; if [ -e '%s/sendslow' ]; then exec /bin/sleep 30; fi ;;\n"
		"recv) [ -e '%s/sendslow' ] && { /usr/bin/head -c 11 >/dev/null; exit 0; }\n"
		"      [ -e '%s/recvfail' ] &&\n"
		"      { /bin/cat >/dev/null; echo \"cannot receive: it \\033]0;ok\" >&2; exit 1; }\n"
		"      /bin/cat > '%s'; [ -s '%s' ] ||\n"
		"      { echo 'cannot receive: failed to read from stream' >&2; exit 1; }\n"
		"      printf '%%s|' \"$@\" >> '%s' ;;\n"
		"esac\n", dir, dir, dir, dir, recvd, recvd, recvd);
	fclose(f);
	assert_int_equal(chmod(path, 0755), 0);
	old_path = strdup(getenv("PATH"));
	free(path);
	assert_true(asprintf(&path, "%s:%s", dir, old_path) > 0);
	assert_int_equal(setenv("PATH", path, 1), 0);
	free(path);

	assert_int_equal(zfs_send_recv("tank/a@base", NULL, 0, "tank/b", marks, count_bytes, &seen, &res, &err), 0);
	assert_null(err);
	assert_int_equal(res.bytes, 11);
	assert_int_equal(seen, 11);
	relay_result_clear(&res);
	f = fopen(recvd, "r");
	assert_non_null(f);
	assert_true(fread(buf, 1, sizeof(buf) - 1, f) > 0);
	fclose(f);
	assert_string_equal(buf, "STREAM-DATArecv|-s|-u|-o|qvm:kind=image|tank/b|");

	/* zfs recv refuses: its words, escaped */
	assert_true(asprintf(&path, "%s/recvfail", dir) > 0);
	fclose(fopen(path, "w"));
	assert_int_equal(zfs_send_recv("tank/a@base", NULL, 0, "tank/b", marks, NULL, NULL, &res, &err), -EIO);
	assert_string_equal(err, "cannot receive: it \\x1b]0;ok");
	relay_result_clear(&res);
	unlink(path);
	free(path);
	free(err);
	err = NULL;
	/* zfs send fails */
	assert_true(asprintf(&path, "%s/sendfail", dir) > 0);
	fclose(fopen(path, "w"));
	assert_int_equal(zfs_send_recv("tank/a@base", NULL, 0, "tank/b", marks, NULL, NULL, &res, &err), -ECHILD);
	assert_string_equal(err, "zfs send failed: cannot open 'tank/a@base': dataset does not exist");
	relay_result_clear(&res);
	unlink(path);
	free(path);
	free(err);
	err = NULL;
	/* zfs recv done (the stream's end read) while zfs send lingers: whole;
	 * zfs send is stopped, not waited for */
	assert_true(asprintf(&path, "%s/sendslow", dir) > 0);
	fclose(fopen(path, "w"));
	assert_int_equal(zfs_send_recv("tank/a@base", NULL, 0, "tank/b", marks, NULL, NULL, &res, &err), 0);
	assert_int_equal(res.from.signal, SIGTERM);
	relay_result_clear(&res);
	unlink(path);
	free(path);
	/* a bad token reaches no zfs */
	assert_int_equal(zfs_send_recv(NULL, "-R", 0, "tank/b", marks, NULL, NULL, &res, &err), -EINVAL);
	free(err);

	assert_int_equal(setenv("PATH", old_path, 1), 0);
	free(old_path);
	unlink(recvd);
	free(recvd);
	assert_true(asprintf(&path, "%s/zfs", dir) > 0);
	unlink(path);
	free(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_and_clone),
		cmocka_unit_test(test_small_commands),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_refused_not_run),
		cmocka_unit_test(test_types_props),
		cmocka_unit_test(test_send_recv_argv),
		cmocka_unit_test(test_send_size_parse),
		cmocka_unit_test(test_send_recv),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
