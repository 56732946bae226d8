/* SPDX-License-Identifier: MIT */
/* qvm's ZFS user properties: every dataset qvm creates says what it is and
 * whether the run that made it finished. They are set with -o at create or
 * clone time, so a dataset never exists unmarked, and change nothing in ZFS.
 *   qvm:kind   image | vm-disk
 *   qvm:vm     the VM's name (vm-disk)
 *   qvm:connect the libvirt URI the VM was defined on, as libvirt names the
 *              connection (unset on disks made before qvm recorded it: the default)
 *   qvm:uuid   the UUID of the VM's domain (unset on disks made before)
 *   qvm:source the image file or URL it was imported from (image)
 *   qvm:sha256 the SHA-256 of the source, verified during the import (image)
 *   qvm:sha512 or its SHA-512, when that is what was verified (image)
 *   qvm:state  creating until the run succeeds, then ready
 *   qvm:run    an id unique to the run that created it
 *   qvm:disk   a VM disk's index after the boot disk (unset on the boot disk)
 *   qvm:osinfo the image's osinfo-db name, the default of a VM's osinfo (image)
 *   qvm:user   the image's default login user (image); on a VM's boot disk,
 *              the user qvm ssh logs in as
 */
#ifndef QVM_MARKS_H
#define QVM_MARKS_H

#include <stddef.h>

#define MARK_KIND "qvm:kind"
#define MARK_STATE "qvm:state"
#define MARK_STATE_CREATING "creating"
#define MARK_STATE_READY "ready"
#define MARK_RUN "qvm:run"
#define MARK_CONNECT "qvm:connect"
#define MARK_UUID "qvm:uuid"
/* A VM disk after the boot disk: its index among the VM's zvol disks (1, 2,
 * ...); the boot disk has none. */
#define MARK_DISK "qvm:disk"
#define MARK_OSINFO "qvm:osinfo"
#define MARK_USER "qvm:user"

/* This process's run id ("<pid>-<16 hex digits>@<12 hex digits of this
 * machine's boot id>-<its pid namespace's inode, hex>"; without "@..."
 * where they are unknown, as older qvm wrote it). */
const char *marks_run_id(void);
/* "-o" values for an imported image; osinfo and user (qvm:osinfo,
 * qvm:user) may be NULL. strv; 0 or -ENOMEM. */
int marks_image(const char *source, const char *osinfo, const char *user, char ***props);
struct volume;
/* "-o" values for a copy of image v on another host (qvm images copy):
 * its kind, source, digest, osinfo and user, as creating by this run. */
int marks_image_copy(const struct volume *v, char ***props);
/* "-o" values for a VM's disk clone. connect and uuid may be NULL. */
int marks_vm_disk(const char *vm, const char *connect, const char *uuid, char ***props);

/* A seed directory holds this file until its run succeeds, so an
 * interrupted run's seed can be told from a working VM's. It contains the
 * run id. */
#define SEED_CREATING_FILE ".qvm-creating"

/* The run id in dir's SEED_CREATING_FILE, into buf: 0, or -errno (-ENOENT:
 * the seed's run finished). */
int marks_seed_run(const char *dir, char *buf, size_t size);
/* True if the run id belongs to a qvm process still running here, or to
 * a run of another boot or machine (it cannot be checked from here). */
int marks_run_alive(const char *run_id);
/* True if the run id names a run of this boot of this machine, in this pid
 * namespace (or has no "@...", as older qvm wrote it): one whose liveness
 * marks_run_alive checks for real rather than assumes. */
int marks_run_local(const char *run_id);
struct volume;
/* dataset's own qvm:kind, qvm:state and qvm:run (set on it, not
 * inherited) into v's fields, which point into *out (malloc'd; NULL where
 * unset; v's other fields NULL). 0, or zfs's -errno with *err. */
int marks_own(const char *dataset, struct volume *v, char **out, char **err);
/* True if dataset is left over from an interrupted qvm run: its own marks
 * (set on it, not inherited) say qvm made it and never finished, and the
 * run that made it is over. */
int marks_leftover(const char *dataset);

#endif
