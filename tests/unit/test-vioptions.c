/* SPDX-License-Identifier: MIT */
/* The long option names of virt-install: read from --help, held to exact
 * spellings, cached by the program file's identity. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "strv.h"
#include "vioptions.h"
#include "yamltree.h"

/* Every long option virt-install 4.1.0 --help lists, in its order. */
static const char *const v41[] = {
	"help", "version", "connect",
	"name", "memory", "vcpus", "cpu", "metadata", "xml",
	"cdrom", "location", "pxe", "import", "extra-args", "initrd-inject", "unattended",
	"install", "reinstall", "cloud-init", "boot", "idmap",
	"os-variant", "osinfo",
	"disk", "network", "graphics", "controller", "input", "serial", "parallel", "channel",
	"console", "hostdev", "filesystem", "sound", "audio", "watchdog", "video", "smartcard",
	"redirdev", "memballoon", "tpm", "rng", "panic", "shmem", "memdev", "vsock", "iommu",
	"iothreads", "seclabel", "security", "keywrap", "cputune", "numatune", "memtune",
	"blkiotune", "memorybacking", "features", "clock", "pm", "events", "resource", "sysinfo",
	"qemu-commandline", "launchSecurity", "launchsecurity",
	"hvm", "paravirt", "container", "virt-type", "arch", "machine",
	"autostart", "transient", "destroy-on-exit", "wait", "autoconsole", "noautoconsole",
	"noreboot", "print-xml", "dry-run", "check", "quiet", "debug",
	NULL,
};

static char dir[] = "/tmp/qvm-vioptions-XXXXXX";

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t size = 0;
	FILE *m;
	int c;

	if (!f)
		return NULL;
	m = open_memstream(&buf, &size);
	assert_non_null(m);
	while ((c = getc(f)) != EOF)
		putc(c, m);
	fclose(f);
	assert_int_equal(fclose(m), 0);
	return buf;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	size_t len = strlen(text);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

static char *data_file(const char *name)
{
	const char *d = getenv("QVM_TEST_DATA");
	char path[4096];
	char *text;

	assert_non_null(d);
	snprintf(path, sizeof(path), "%s/%s", d, name);
	text = read_file(path);
	if (!text)
		fprintf(stderr, "  cannot read %s\n", path);
	assert_non_null(text);
	return text;
}

static void assert_names(const struct vi_options *o, const char *const *exp)
{
	unsigned n = vi_options_count(o), m = 0;
	bool same;

	while (exp[m])
		m++;
	same = n == m;
	for (unsigned i = 0; same && i < n; i++)
		same = strcmp(vi_options_name(o, i), exp[i]) == 0;
	if (!same) {
		fprintf(stderr, "  expected:");
		for (unsigned i = 0; i < m; i++)
			fprintf(stderr, " %s", exp[i]);
		fprintf(stderr, "\n       got:");
		for (unsigned i = 0; i < n; i++)
			fprintf(stderr, " %s", vi_options_name(o, i));
		fprintf(stderr, "\n");
		fail();
	}
}

static struct vi_options *parse_data(const char *name)
{
	char *text = data_file(name);
	struct vi_options *o = NULL;

	assert_int_equal(vi_options_parse(text, &o), 0);
	free(text);
	return o;
}

/* ---- parsing ---- */

static void test_parse_41(void **state)
{
	struct vi_options *o;

	(void)state;
	o = parse_data("virt-install-4.1-help.txt");
	assert_names(o, v41);
	/* words of the usage line, the help prose and the epilog */
	assert_false(vi_options_has(o, "option"));          /* "Use '--option=?' ..." */
	assert_false(vi_options_has(o, "n"));
	assert_false(vi_options_has(o, "-n"));
	vi_options_free(o);

	/* a narrow terminal: every help text on lines of its own */
	o = parse_data("virt-install-4.1-help-40cols.txt");
	assert_names(o, v41);
	vi_options_free(o);
}

static void test_parse_layout(void **state)
{
	static const char help[] =
		"usage: prog [-h] --usage-only X\n"
		"            --usage-wrapped Y\n"
		"\n"
		"A description that mentions --described.\n"
		"\n"
		"options:\n"
		"  -h, --help            show this help message and exit\n"
		"  --alpha A, --alpha-long A,\n"
		"      --alpha-longer A\n"
		"                        Help mentioning --not-an-option, here.\n"
		"                        --prose-start 1024 (at the help column)\n"
		"  --beta [BETA]         beta help, see --gamma-prose\n"
		"  -g, --gamma\n"
		"                        --prose-after-wrap, still prose\n"
		"  --delta=DELTA         glued metavar\n"
		"  --Mixed_Case M        names as argparse allows them\n"
		"  --bad$name X          not a name qvm believes\n"
		"  --alpha A             listed twice\n"
		"  -x X                  a short option only\n"
		"\n"
		"Group:\n"
		"  A group description line.\n"
		"\n"
		"    --eps               a section may indent its entries deeper\n"
		"      --eps-prose       help column of that section\n"
		"\r\n"
		"Epilog at column 0 mentions --epilog-word\n"
		"  --after-epilog        not in a section\n";
	static const char *const exp[] = {
		"help", "alpha", "alpha-long", "alpha-longer", "beta", "gamma", "delta", "Mixed_Case",
		"eps", NULL,
	};
	struct vi_options *o = NULL;

	(void)state;
	assert_int_equal(vi_options_parse(help, &o), 0);
	assert_names(o, exp);
	vi_options_free(o);
}

static void test_parse_none(void **state)
{
	struct vi_options *o = (struct vi_options *)1;

	(void)state;
	assert_int_equal(vi_options_parse("", &o), -ENODATA);
	assert_null(o);
	assert_int_equal(vi_options_parse("usage: virt-install --name NAME\n\nno options here\n", &o),
			 -ENODATA);
	/* only prose and short options */
	assert_int_equal(vi_options_parse("options:\n  -h  see --help\n", &o), -ENODATA);
}

static void test_parse_too_many(void **state)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	struct vi_options *o = NULL;

	(void)state;
	fputs("options:\n", f);
	for (unsigned i = 0; i < VI_OPTIONS_MAX; i++)
		fprintf(f, "  --opt%u X          help\n", i);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(vi_options_parse(buf, &o), 0);
	assert_int_equal(vi_options_count(o), VI_OPTIONS_MAX);
	vi_options_free(o);
	free(buf);

	buf = NULL;
	f = open_memstream(&buf, &size);
	fputs("options:\n", f);
	for (unsigned i = 0; i <= VI_OPTIONS_MAX; i++)
		fprintf(f, "  --opt%u X          help\n", i);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(vi_options_parse(buf, &o), -E2BIG);
	assert_null(o);
	free(buf);
}

static void test_has(void **state)
{
	struct vi_options *o;

	(void)state;
	o = parse_data("virt-install-4.1-help.txt");
	assert_true(vi_options_has(o, "name"));
	assert_true(vi_options_has(o, "dry-run"));
	assert_true(vi_options_has(o, "os-variant"));
	assert_true(vi_options_has(o, "launchSecurity"));
	assert_false(vi_options_has(o, "nam"));
	assert_false(vi_options_has(o, "dry"));
	assert_false(vi_options_has(o, "conn"));
	assert_false(vi_options_has(o, "--name"));
	assert_false(vi_options_has(o, "Name"));
	assert_false(vi_options_has(o, "names"));
	assert_false(vi_options_has(o, ""));
	/* hidden (help=SUPPRESS) options are not listed */
	assert_false(vi_options_has(o, "ram"));
	assert_false(vi_options_has(o, "nographics"));
	vi_options_free(o);
}

/* ---- checking a vm document ---- */

static char **check(const char *yaml, int expect)
{
	struct vi_options *o = parse_data("virt-install-4.1-help.txt");
	struct ystream *s = NULL;
	char *err = NULL, **errors = NULL;

	if (ystream_parse(yaml, strlen(yaml), &s, &err) < 0)
		fprintf(stderr, "  %s\n", err);
	assert_non_null(s);
	assert_int_equal(vi_options_check_vm(o, s->docs[0].root, &errors), expect);
	ystream_free(s);
	vi_options_free(o);
	return errors;
}

static void assert_errors(char **errors, const char *const *exp)
{
	size_t n = strv_length(errors), m = 0;
	bool same;

	while (exp[m])
		m++;
	same = n == m;
	for (size_t i = 0; same && i < n; i++)
		same = strcmp(errors[i], exp[i]) == 0;
	if (!same) {
		for (size_t i = 0; i < m; i++)
			fprintf(stderr, "  expected: %s\n", exp[i]);
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, "       got: %s\n", errors[i]);
		fail();
	}
	strv_free(errors);
}

static void test_check_exact(void **state)
{
	(void)state;
	/* a name that starts another name is that name (argparse looks for
	 * an exact match first): cpu/cputune, memory/memorybacking, check
	 * and the hidden check-cpu */
	assert_null(check("name: web1\nmemory: 1024\ncpu: host\nmemorybacking: {hugepages: on}\n"
			  "check: {all: off}\nos-variant: debian12\nlaunchSecurity: sev\n"
			  "disk: [a, b]\nhelp: true\n", 0));
	/* an empty mapping has nothing to check; a vm that is not a mapping
	 * is reported elsewhere */
	assert_null(check("{}\n", 0));
	assert_null(check("- name\n", 0));
	assert_null(check("just text\n", 0));
}

static void test_check_abbreviations(void **state)
{
	static const char *const exp[] = {
		"2:1: 'nam' is not a virt-install option: virt-install would read it as --name; "
		"spell it in full",
		"3:1: 'dry' is not a virt-install option: virt-install would read it as --dry-run; "
		"spell it in full",
		"4:1: 'conn' is not a virt-install option: virt-install would read it as --connect; "
		"spell it in full",
		"5:1: 'mem' is not a virt-install option: virt-install would read it as one of "
		"--memory, --memballoon, --memdev, --memtune, --memorybacking; spell it in full",
		"6:1: 'os' is not a virt-install option: virt-install would read it as one of "
		"--os-variant, --osinfo; spell it in full",
		/* argparse is case-sensitive: --launchSecurity does not start so */
		"7:1: 'launchs' is not a virt-install option: virt-install would read it as "
		"--launchsecurity; spell it in full",
		"8:1: 'cpun' is not a virt-install option (did you mean 'cpu'?)",
		NULL,
	};

	(void)state;
	assert_errors(check("name: web1\nnam: web1\ndry: true\nconn: qemu:///system\n"
			    "mem: 1\nos: x\nlaunchs: sev\ncpun: host\n", -EINVAL),
		      exp);

	/* the position is the key's, in any layout */
	static const char *const flow[] = {
		"2:18: 'nam' is not a virt-install option: virt-install would read it as --name; "
		"spell it in full",
		NULL,
	};
	assert_errors(check("# a comment\n{name: a, pxe: , nam: b}\n", -EINVAL), flow);
}

static void test_check_typos(void **state)
{
	static const char *const exp[] = {
		"1:1: 'memroy' is not a virt-install option (did you mean 'memory'?)",
		"2:1: 'netwrok' is not a virt-install option (did you mean 'network'?)",
		"3:1: 'os-varaint' is not a virt-install option (did you mean 'os-variant'?)",
		"4:1: 'Name' is not a virt-install option (did you mean 'name'?)",
		"5:1: 'dryrun' is not a virt-install option (did you mean 'dry-run'?)",
		"6:1: 'frobnicate' is not a virt-install option",
		"7:1: 'graphcis-card' is not a virt-install option",
		/* hidden options are refused, and not named */
		"8:1: 'ram' is not a virt-install option (did you mean 'name'?)",
		"9:1: 'nographics' is not a virt-install option (did you mean 'graphics'?)",
		"10:1: 'name=x' is not a virt-install option (did you mean 'name'?)",
		/* two edits, but nothing of the key left: no suggestion */
		"11:1: 'a\\nb' is not a virt-install option",
		"12:1: '' is not a virt-install option",
		"13:1: 'xy' is not a virt-install option",
		/* two transpositions: two edits (four for plain Levenshtein) */
		"14:1: 'emmroy' is not a virt-install option (did you mean 'memory'?)",
		NULL,
	};

	(void)state;
	assert_errors(check("memroy: 1\nnetwrok: x\nos-varaint: x\nName: x\ndryrun: true\n"
			    "frobnicate: 1\ngraphcis-card: x\nram: 1\nnographics: true\nname=x: 1\n"
			    "\"a\\nb\": 1\n\"\": 1\nxy: 1\nemmroy: 1\n",
			    -EINVAL),
		      exp);
}

static void test_check_long_and_odd(void **state)
{
	char yaml[600];
	char **errors;

	(void)state;
	/* a long key: cut in the message, no suggestion sought */
	memset(yaml, 'x', 300);
	memcpy(yaml + 300, ": 1\n? [complex]\n: 2\nname: ok\n", 28);
	yaml[328] = '\0';
	errors = check(yaml, -EINVAL);
	assert_int_equal(strv_length(errors), 1);
	assert_true(strncmp(errors[0], "1:1: 'xxxx", 10) == 0);
	assert_non_null(strstr(errors[0], "...' is not a virt-install option"));
	assert_null(strstr(errors[0], "did you mean"));
	assert_true(strlen(errors[0]) < 200);
	strv_free(errors);

	/* a NUL in a key: the text before it is not the option */
	errors = check("\"name\\0\": 1\n", -EINVAL);
	assert_int_equal(strv_length(errors), 1);
	assert_string_equal(errors[0], "1:1: 'name\\x00' is not a virt-install option (did you mean 'name'?)");
	strv_free(errors);
}

/* ---- the cache ---- */

static char path_bin[100], path_empty[100], path_cache_dir[100];
static char path_noexec[300], path_count[300], path_env[300], path_help[300], path_cache[300];
static char path_script[300];

/* The fake virt-install: counts its runs, records its environment and
 * arguments, prints $dir/help (or fails when $dir/fail exists). */
static void write_script(void)
{
	char text[4096];

	snprintf(text, sizeof(text),
		 "#!/bin/sh\n"
		 "n=$(cat '%s' 2>/dev/null || echo 0)\n"
		 "echo $((n + 1)) >'%s'\n"
		 "printf '%%s|%%s|%%s|%%s|%%s\\n' \"$LC_ALL\" \"$LANGUAGE\" \"$COLUMNS\" \"$#\" \"$*\" >'%s'\n"
		 "if [ -e '%s/fail' ]; then echo 'ERROR    boom' >&2; exit 2; fi\n"
		 "cat '%s'\n",
		 path_count, path_count, path_env, dir, path_help);
	write_file(path_script, text, 0755);
}

static int runs(void)
{
	char *s = read_file(path_count);
	int n;

	if (!s)
		return 0;
	n = (int)strtol(s, NULL, 10);
	free(s);
	return n;
}

static void load_ok(void)
{
	struct vi_options *o = NULL;
	char *err = NULL;
	int r = vi_options_load(&o, &err);

	if (r < 0)
		fprintf(stderr, "  %s\n", err);
	assert_int_equal(r, 0);
	assert_null(err);
	assert_names(o, v41);
	vi_options_free(o);
}

static void load_fails(int expect, const char *msg)
{
	struct vi_options *o = (struct vi_options *)1;
	char *err = NULL;

	assert_int_equal(vi_options_load(&o, &err), expect);
	assert_null(o);
	assert_non_null(err);
	assert_string_equal(err, msg);
	free(err);
}

static void set_path(const char *first)
{
	char path[1000];

	snprintf(path, sizeof(path), "%s:%s:/usr/bin:/bin", path_empty, first);
	assert_int_equal(setenv("PATH", path, 1), 0);
}

static void test_cache(void **state)
{
	char *help = data_file("virt-install-4.1-help.txt");
	char *text, *env, *abs, *line2;
	struct timespec times[2] = { { 0, UTIME_OMIT }, { 1000000000, 0 } };
	struct stat st;

	(void)state;
	write_file(path_help, help, 0644);
	free(help);
	write_script();
	/* a virt-install that may not be run, earlier on PATH, is passed over
	 * (root may run a file with any x bit: none here) */
	write_file(path_noexec, "#!/bin/sh\nexit 99\n", 0644);
	assert_int_equal(setenv("QVM_CACHE_DIR", path_cache_dir, 1), 0);

	/* the first load runs it once, with the environment that makes the
	 * text predictable and --help its only argument */
	load_ok();
	assert_int_equal(runs(), 1);
	env = read_file(path_env);
	abs = realpath(path_script, NULL);
	assert_non_null(env);
	assert_non_null(abs);
	assert_string_equal(env, "C|C|80|1|--help\n");
	free(env);

	/* the cache: magic, key, names, end */
	text = read_file(path_cache);
	assert_non_null(text);
	assert_true(strncmp(text, "qvm virt-install options 1\ndev=", 31) == 0);
	line2 = strchr(text, '\n') + 1;
	assert_int_equal(stat(abs, &st), 0);
	{
		char key[900];
		snprintf(key, sizeof(key), "ino=%ju size=%jd mtime=%jd.%09ld ", (uintmax_t)st.st_ino,
			 (intmax_t)st.st_size, (intmax_t)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
		assert_non_null(strstr(line2, key));
		snprintf(key, sizeof(key), " path=%s\nhelp\nversion\nconnect\n", abs);
		assert_non_null(strstr(line2, key));
	}
	assert_non_null(strstr(text, "\ndebug\nend\n"));
	assert_int_equal(stat(path_cache, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 022, 0);

	/* the second runs nothing */
	load_ok();
	assert_int_equal(runs(), 1);
	load_ok();
	assert_int_equal(runs(), 1);

	/* a new mtime (and so ctime): run again, once */
	assert_int_equal(utimensat(AT_FDCWD, path_script, times, 0), 0);
	load_ok();
	assert_int_equal(runs(), 2);
	load_ok();
	assert_int_equal(runs(), 2);

	/* the file rewritten in place (same inode and size, new times) */
	write_script();
	load_ok();
	assert_int_equal(runs(), 3);

	/* a corrupt cache is ignored and rewritten */
	free(text);
	text = read_file(path_cache);
	write_file(path_cache, "garbage\n", 0644);
	load_ok();
	assert_int_equal(runs(), 4);
	{
		char *again = read_file(path_cache);
		assert_string_equal(again, text);
		free(again);
	}
	load_ok();
	assert_int_equal(runs(), 4);

	/* the right key with a name no help would list, a missing "end", text
	 * after it, a duplicate name, a NUL: each ignored and rewritten */
	{
		static const char *const edits[][2] = {
			{ "\ncdrom\n", "\ncd rom\n" },
			{ "\ndebug\nend\n", "\ndebug\n" },
			{ "\ndebug\nend\n", "\ndebug\nend\nextra\n" },
			{ "\ncdrom\n", "\ncdrom\ncdrom\n" },
			{ "\ncdrom\n", "\n--cdrom\n" },
			{ "\ncdrom\n", "\ncdrom;\n" },
		};
		int n = 4;

		for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
			char *good = read_file(path_cache), *at = strstr(good, edits[i][0]);
			char bad[8192];

			assert_non_null(at);
			snprintf(bad, sizeof(bad), "%.*s%s%s", (int)(at - good), good, edits[i][1],
				 at + strlen(edits[i][0]));
			write_file(path_cache, bad, 0644);
			load_ok();
			assert_int_equal(runs(), ++n);
			char *now = read_file(path_cache);
			assert_string_equal(now, good);
			free(now);
			free(good);
		}
		/* the same text, but writable by others: not believed */
		char *good = read_file(path_cache);
		assert_int_equal(chmod(path_cache, 0666), 0);
		load_ok();
		assert_int_equal(runs(), ++n);
		assert_int_equal(stat(path_cache, &st), 0);
		assert_int_equal(st.st_mode & 022, 0);
		free(good);
	}
	/* a well-formed file for another program (another key): rewritten */
	write_file(path_cache, "qvm virt-install options 1\ndev=1 ino=2 size=3 mtime=4.000000000 "
		   "ctime=5.000000000 path=/usr/bin/virt-install\nzz-planted\nend\n", 0644);
	load_ok();
	assert_int_equal(runs(), 12);
	{
		char *now = read_file(path_cache);
		assert_non_null(strstr(now, abs));
		assert_null(strstr(now, "zz-planted"));
		free(now);
	}
	free(text);
	free(abs);
	assert_int_equal(unsetenv("QVM_CACHE_DIR"), 0);
}

static void test_cache_unwritable(void **state)
{
	char file[400], sub[420];
	int n;

	(void)state;
	/* a directory that cannot be made: no cache, no error */
	snprintf(file, sizeof(file), "%s/a-file", dir);
	snprintf(sub, sizeof(sub), "%s/sub", file);
	write_file(file, "x\n", 0644);
	assert_int_equal(setenv("QVM_CACHE_DIR", sub, 1), 0);
	n = runs();
	load_ok();
	load_ok();
	assert_int_equal(runs(), n + 2);
	unlink(file);
	assert_int_equal(unsetenv("QVM_CACHE_DIR"), 0);
}

static void test_path_with_equals(void **state)
{
	char odd[200], script[300], cache[300], path[600];
	char *text;
	int n;

	(void)state;
	/* env would take "/.../a=b/virt-install" for an assignment: the
	 * program is run by name, over the same PATH, and not cached */
	snprintf(odd, sizeof(odd), "%s/a=b", dir);
	snprintf(script, sizeof(script), "%s/virt-install", odd);
	snprintf(cache, sizeof(cache), "%s/cache2", dir);
	assert_int_equal(mkdir(odd, 0755), 0);
	text = read_file(path_script);
	assert_non_null(text);
	write_file(script, text, 0755);
	free(text);
	write_file(path_help, "options:\n  --only-here  from the odd directory\n", 0644);
	snprintf(path, sizeof(path), "%s:/usr/bin:/bin", odd);
	assert_int_equal(setenv("PATH", path, 1), 0);
	assert_int_equal(setenv("QVM_CACHE_DIR", cache, 1), 0);
	n = runs();
	for (int i = 1; i <= 2; i++) {
		struct vi_options *o = NULL;
		char *err = NULL;
		static const char *const exp[] = { "only-here", NULL };

		assert_int_equal(vi_options_load(&o, &err), 0);
		assert_names(o, exp);
		vi_options_free(o);
		assert_int_equal(runs(), n + i);
	}
	snprintf(path, sizeof(path), "%s/virt-install-options", cache);
	assert_int_equal(access(path, F_OK), -1);
	unlink(script);
	rmdir(odd);
	rmdir(cache);
	set_path(path_bin);
	assert_int_equal(unsetenv("QVM_CACHE_DIR"), 0);
}

static void test_load_errors(void **state)
{
	char failpath[400];
	char *before;

	(void)state;
	assert_int_equal(setenv("QVM_CACHE_DIR", path_cache_dir, 1), 0);
	/* a changed program that fails: the message, and the cache kept */
	before = read_file(path_cache);
	assert_non_null(before);
	snprintf(failpath, sizeof(failpath), "%s/fail", dir);
	write_file(failpath, "", 0644);
	write_script();
	load_fails(-EIO, "cannot run virt-install --help: ERROR    boom");
	unlink(failpath);

	/* a help text without options */
	write_file(path_help, "usage: virt-install\n\nnothing\n", 0644);
	load_fails(-EPROTO, "virt-install --help listed no options");
	{
		char *now = read_file(path_cache);
		assert_string_equal(now, before);
		free(now);
	}
	free(before);

	/* no virt-install on PATH */
	{
		char path[700];
		snprintf(path, sizeof(path), "%s:/nonexistent", path_empty);
		assert_int_equal(setenv("PATH", path, 1), 0);
		load_fails(-ENOENT, "cannot run virt-install --help: virt-install not found on PATH");
		/* only one that may not be run */
		snprintf(path, sizeof(path), "%s", path_noexec);
		*strrchr(path, '/') = '\0';
		assert_int_equal(setenv("PATH", path, 1), 0);
		if (geteuid() != 0 || access(path_noexec, X_OK) != 0)
			load_fails(-EACCES, "cannot run virt-install --help: Permission denied");
		set_path(path_bin);
	}
	assert_int_equal(unsetenv("QVM_CACHE_DIR"), 0);
}

static int setup(void **state)
{
	char noexec_dir[100];

	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(path_bin, sizeof(path_bin), "%s/bin", dir);
	snprintf(noexec_dir, sizeof(noexec_dir), "%s/noexec", dir);
	snprintf(path_empty, sizeof(path_empty), "%s/empty", dir);
	snprintf(path_noexec, sizeof(path_noexec), "%s/virt-install", noexec_dir);
	snprintf(path_script, sizeof(path_script), "%s/virt-install", path_bin);
	snprintf(path_count, sizeof(path_count), "%s/count", dir);
	snprintf(path_env, sizeof(path_env), "%s/env", dir);
	snprintf(path_help, sizeof(path_help), "%s/help", dir);
	snprintf(path_cache_dir, sizeof(path_cache_dir), "%s/cache/nested", dir);
	snprintf(path_cache, sizeof(path_cache), "%s/virt-install-options", path_cache_dir);
	if (mkdir(path_bin, 0755) < 0 || mkdir(noexec_dir, 0755) < 0 || mkdir(path_empty, 0755) < 0)
		return -1;
	/* the fake first (after a directory without it and the one with a
	 * virt-install that may not be run), then what the script needs */
	{
		char path[1000];
		snprintf(path, sizeof(path), "%s:%s:%s:/usr/bin:/bin", path_empty, noexec_dir, path_bin);
		setenv("PATH", path, 1);
	}
	return 0;
}

static int teardown(void **state)
{
	static const char *const names[] = { "bin/virt-install", "noexec/virt-install", "count", "env",
		"help", "fail", "a-file", "cache/nested/virt-install-options", "a=b/virt-install",
		"cache2/virt-install-options" };
	static const char *const dirs[] = { "bin", "noexec", "empty", "cache/nested", "cache", "a=b",
		"cache2", "" };
	char path[400];

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, dirs[i]);
		if (rmdir(path) < 0 && errno != ENOENT)
			fprintf(stderr, "  cannot remove %s\n", path);
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_41),
		cmocka_unit_test(test_parse_layout),
		cmocka_unit_test(test_parse_none),
		cmocka_unit_test(test_parse_too_many),
		cmocka_unit_test(test_has),
		cmocka_unit_test(test_check_exact),
		cmocka_unit_test(test_check_abbreviations),
		cmocka_unit_test(test_check_typos),
		cmocka_unit_test(test_check_long_and_odd),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_cache_unwritable),
		cmocka_unit_test(test_path_with_equals),
		cmocka_unit_test(test_load_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
