/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "process.h"
#include "qemuimg.h"
#include "strv.h"
#include "banned.h"

int qemu_img_parse_info(const char *json, uint64_t *virtual_size)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *root, *v;
	int r = -EINVAL;

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
	}
	json_object_put(root);
	json_tokener_free(tok);
	return r;
}

static int run(char **argv, unsigned flags, char **out, char **err)
{
	struct spawn_result res;
	int r = spawn_run(argv, flags | SPAWN_CAPTURE_STDERR, &res);

	if (r < 0)
		return r;
	if (res.status != 0) {
		int sig = res.signal;
		*err = spawn_error_text(&res);
		spawn_result_clear(&res);
		return sig ? -EINTR : -EIO;
	}
	if (out)
		*out = res.out ? strdup(res.out) : strdup("");
	spawn_result_clear(&res);
	return out && !*out ? -ENOMEM : 0;
}

int qemu_img_info(const char *path, const char *format, uint64_t *virtual_size, char **err)
{
	char *out = NULL;
	char **argv = NULL;
	int r = strv_push_many(&argv, "qemu-img", "info", "--output=json", "-f", format, path, NULL);

	if (r == 0)
		r = run(argv, SPAWN_CAPTURE_STDOUT | SPAWN_NO_FORWARD, &out, err);
	strv_free(argv);
	if (r == 0 && qemu_img_parse_info(out, virtual_size) < 0) {
		*err = strdup("qemu-img info printed no virtual size");
		r = -EIO;
	}
	free(out);
	return r;
}

int qemu_img_convert_argv(const char *src, const char *format, const char *device, int progress,
			  char ***argv)
{
	/* -n: the zvol exists; --target-is-zero: a fresh zvol reads as zeros,
	 * so zeros are not written; -W: writes in any order, faster */
	int r = strv_push_many(argv, "qemu-img", "convert", "-n", "--target-is-zero", "-W",
			       "-f", format, "-O", "raw", NULL);

	if (r == 0 && progress)
		r = strv_push(argv, "-p");
	if (r == 0)
		r = strv_push_many(argv, src, device, NULL);
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
