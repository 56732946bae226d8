/* SPDX-License-Identifier: MIT */
/* libFuzzer target: arbitrary bytes as a qvm file, through the reader, the
 * validation, the virt-install rendering and the cloud-init emitter - the
 * code that meets untrusted input before any change is made. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "cloudinit.h"
#include "qvmfile.h"
#include "strv.h"
#include "virtargs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qvm_file *f = NULL;
	char **errors = NULL, **argv = NULL, *err = NULL, *text = NULL;
	size_t len;

	if (qvm_file_parse((const char *)data, size, &f, &errors) == 0) {
		const struct vi_run run = { .connect = "test:///default",
					    .uuid = "4b7c5e2a-9d3f-4e1a-8c6b-2f0d1e3a5b7c", .print_xml = true };
		if (virt_install_argv(f, "/dev/zvol", "/var/lib/qvm/x/seed.iso", &run, &argv, &err) == 0)
			strv_free(argv);
		free(err);
		const char *why;
		if (virt_args_console(f->vm, &text, &why) >= 0)
			free(text);
		if (cloudinit_user_data(f, &text, &len) == 0)
			free(text);
		if (cloudinit_meta_data(f, &text, &len) == 0)
			free(text);
		qvm_file_free(f);
	}
	strv_free(errors);
	return 0;
}
