/* SPDX-License-Identifier: MIT */
/* The environment variables of SPEC §4, read in one place. */
#ifndef QVM_SETTINGS_H
#define QVM_SETTINGS_H

/* $QVM_ZVOL_DIR or "/dev/zvol" (trailing slashes removed). Never NULL. */
const char *settings_zvol_dir(void);
/* $QVM_STATE_DIR or "/var/lib/qvm". Never NULL. */
const char *settings_state_dir(void);
/* $QVM_DEVICE_TIMEOUT in seconds (default 30, at most 86400).
 * Returns 0 or -EINVAL if the variable is not a whole number in range. */
int settings_device_timeout(unsigned *seconds);
/* $QVM_HOST_TIMEOUT in seconds (default 30, 1 to 86400): how long each
 * host has to answer qvm list/images --all-hosts and qvm vm --host auto.
 * Returns 0 or -EINVAL if the variable is not a whole number in range. */
int settings_host_timeout(unsigned *seconds);

/* <zvol dir>/<dataset>, malloc'd. */
char *settings_zvol_device(const char *dataset);

#endif
