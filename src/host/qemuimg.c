/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <json-c/json.h>

#include "cleanup.h"
#include "process.h"
#include "qemuimg.h"
#include "report.h"
#include "strv.h"
#include "banned.h"

/* qemu-img check's exit statuses (qemu-img(1)) */
#define CHECK_INCOMPLETE 1
#define CHECK_CORRUPT 2
#define CHECK_LEAKS 3
#define CHECK_UNSUPPORTED 63

char *qemu_img_spec(const char *path, const char *format)
{
	json_object *o = json_object_new_object(), *file = json_object_new_object();
	char *spec = NULL;
	struct stat st;
	/* qemu's protocol driver for a block device is host_device */
	const char *protocol = stat(path, &st) == 0 && S_ISBLK(st.st_mode) ? "host_device" : "file";

	if (o && file) {
		json_object_object_add(file, "driver", json_object_new_string(protocol));
		json_object_object_add(file, "filename", json_object_new_string(path));
		json_object_object_add(o, "driver", json_object_new_string(format));
		json_object_object_add(o, "file", file);
		file = NULL;
		/* null: no backing file at all, whatever the image says */
		json_object_object_add(o, "backing", NULL);
		if (asprintf(&spec, "json:%s",
			     json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								  JSON_C_TO_STRING_NOSLASHESCAPE)) < 0)
			spec = NULL;
	}
	json_object_put(file);
	json_object_put(o);
	return spec;
}

static int get_string(json_object *o, const char *key, char **out)
{
	json_object *v;

	if (*out || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return 0;
	*out = strdup(json_object_get_string(v));
	return *out ? 0 : -ENOMEM;
}

int qemu_img_parse_info(const char *json, uint64_t *virtual_size, char **refers)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *root, *v, *spec, *data;
	int r = -EINVAL;

	*refers = NULL;
	if (!tok)
		return -ENOMEM;
	root = json_tokener_parse_ex(tok, json, (int)strlen(json));
	if (root && json_tokener_get_error(tok) == json_tokener_success &&
	    json_object_is_type(root, json_type_object) &&
	    json_object_object_get_ex(root, "virtual-size", &v) &&
	    json_object_is_type(v, json_type_int)) {
		errno = 0;
		int64_t n = json_object_get_int64(v);
		if (n > 0 && errno == 0) {
			*virtual_size = (uint64_t)n;
			r = 0;
		}
		/* what the image itself names, whether or not it was opened */
		if (r == 0)
			r = get_string(root, "backing-filename", refers);
		if (r == 0 && json_object_object_get_ex(root, "format-specific", &spec) &&
		    json_object_object_get_ex(spec, "data", &data))
			r = get_string(data, "data-file", refers);
	}
	json_object_put(root);
	json_tokener_free(tok);
	return r;
}

/* qemu-img's failure in *err, and -ENOENT, -EIO or -EINTR (spawn_check). */
static int run(char **argv, unsigned flags, char **out, char **err)
{
	struct spawn_result res;
	int r = spawn_check(argv, flags | SPAWN_CAPTURE_STDERR, &res, err);

	if (r == -ENOENT)
		r = report_error(err, r, "qemu-img not found (install qemu-utils)");
	if (r == 0 && out && !(*out = strdup(res.out ? res.out : "")))
		r = -ENOMEM;
	spawn_result_clear(&res);
	return r;
}

int qemu_img_info(const char *path, const char *format, uint64_t *virtual_size, char **refers,
		  char **err)
{
	_cleanup_free_ char *out = NULL, *spec = qemu_img_spec(path, format);
	_cleanup_strv_free_ char **argv = NULL;
	int r = spec ? strv_push_many(&argv, "qemu-img", "info", "--output=json", spec, NULL) : -ENOMEM;

	*refers = NULL;
	if (r == 0)
		r = run(argv, SPAWN_CAPTURE_STDOUT | SPAWN_NO_FORWARD | SPAWN_C_LOCALE, &out, err);
	if (r == 0) {
		r = qemu_img_parse_info(out, virtual_size, refers);
		if (r == -EINVAL) {
			*err = strdup("qemu-img info printed no virtual size");
			r = -EIO;
		}
	}
	return r;
}

/* The first line of text, trimmed, malloc'd ("" if none). */
static char *first_line(const char *s, const char *prefix)
{
	for (const char *p = s ? s : ""; *p;) {
		size_t len = strcspn(p, "\n");
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\r' || p[len - 1] == '.'))
			len--;
		if (len > 0 && (!prefix || strncmp(p, prefix, strlen(prefix)) == 0))
			return strndup(p, len);
		p += strcspn(p, "\n");
		p += *p == '\n';
	}
	return strdup("");
}

static size_t count_lines(const char *s, const char *prefix)
{
	size_t n = 0;

	for (const char *p = s ? s : ""; *p;) {
		n += strncmp(p, prefix, strlen(prefix)) == 0;
		p += strcspn(p, "\n");
		p += *p == '\n';
	}
	return n;
}

char *qemu_img_check_report(int status, const char *out, const char *err)
{
	/* corrupt: "37 errors were found on the image." on stdout; incomplete:
	 * "qemu-img: Check failed: ..." on stderr; both: ERROR lines on stderr */
	_cleanup_free_ char *summary = status == CHECK_CORRUPT ? first_line(out, NULL) : first_line(err, "qemu-img");
	_cleanup_free_ char *error = first_line(err, "ERROR");
	size_t more = count_lines(err, "ERROR");
	char *report = NULL;

	if (!summary || !error)
		return NULL;
	if (!*summary && !*error)
		return strdup(status == CHECK_CORRUPT ? "errors were found on the image"
						      : "the check could not complete");
	if (!*summary || !*error)
		return strdup(*summary ? summary : error);
	if (more > 1 && asprintf(&report, "%s (first: %s; and %zu more)", summary, error, more - 1) < 0)
		return NULL;
	if (more <= 1 && asprintf(&report, "%s (%s)", summary, error) < 0)
		return NULL;
	return report;
}

int qemu_img_check(const char *path, const char *format, char **report)
{
	_cleanup_free_ char *spec = qemu_img_spec(path, format), *why = NULL;
	_cleanup_strv_free_ char **argv = NULL;
	struct spawn_result res;
	int r = spec ? strv_push_many(&argv, "qemu-img", "check", spec, NULL) : -ENOMEM;

	*report = NULL;
	if (r < 0)
		return r;
	/* its report is parsed: in English */
	r = spawn_check(argv, SPAWN_CAPTURE_STDOUT | SPAWN_CAPTURE_STDERR | SPAWN_NO_FORWARD | SPAWN_C_LOCALE,
			&res, &why);
	if (r == -EIO && res.status == CHECK_LEAKS)
		r = 0;
	else if (r == -EIO && res.status == CHECK_UNSUPPORTED)
		r = -ENOTSUP;
	else if (r == -EIO)
		r = (*report = qemu_img_check_report(res.status, res.out, res.err)) ? -EBADMSG : -ENOMEM;
	else if (r == -ENOENT)
		r = report_error(report, r, "qemu-img not found (install qemu-utils)");
	else if (r < 0)
		*report = TAKE_PTR(why);
	spawn_result_clear(&res);
	return r;
}

int qemu_img_convert_argv(const char *src, const char *format, const char *device, int progress,
			  char ***argv)
{
	_cleanup_free_ char *spec = qemu_img_spec(src, format);
	/* -n: the zvol exists; --target-is-zero: a fresh zvol reads as zeros,
	 * so zeros are not written; -W: writes in any order, faster */
	int r = spec ? strv_push_many(argv, "qemu-img", "convert", "-n", "--target-is-zero", "-W",
				      "-O", "raw", NULL) : -ENOMEM;

	if (r == 0 && progress)
		r = strv_push(argv, "-p");
	if (r == 0)
		r = strv_push_many(argv, spec, device, NULL);
	return r;
}

int qemu_img_convert(const char *src, const char *format, const char *device, int progress,
		     char **err)
{
	char **argv = NULL;
	int r = qemu_img_convert_argv(src, format, device, progress, &argv);

	if (r == 0)
		r = run(argv, progress ? SPAWN_INHERIT_STDOUT : 0, NULL, err);
	strv_free(argv);
	return r;
}
