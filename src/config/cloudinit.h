/* SPDX-License-Identifier: MIT */
/* The NoCloud documents written into the seed (SPEC §3.3). */
#ifndef QVM_CLOUDINIT_H
#define QVM_CLOUDINIT_H

#include <stddef.h>
#include "qvmfile.h"

/* "#cloud-config\n" followed by the user-data document. 0 or -errno. */
int cloudinit_user_data(const struct qvm_file *f, char **out, size_t *len);
/* The meta-data document, instance-id and local-hostname defaulting to the
 * VM name when absent. 0 or -errno. */
int cloudinit_meta_data(const struct qvm_file *f, char **out, size_t *len);
/* The network-config document as it was written (NoCloud network config
 * version 1 or 2). -ENOENT when the file has none. */
int cloudinit_network_config(const struct qvm_file *f, char **out, size_t *len);
/* "#cloud-config\n" and the vendor-data document. -ENOENT when none. */
int cloudinit_vendor_data(const struct qvm_file *f, char **out, size_t *len);

#endif
