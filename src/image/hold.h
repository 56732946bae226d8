/* SPDX-License-Identifier: MIT */
/* An image file held still while it is inspected, hashed and converted: a
 * read lease, which the kernel grants only while nobody has the file open
 * for writing and breaks when anyone opens it for writing (or truncates
 * it) later. qemu-img reopens the file: without this, whoever can write it
 * could swap its content after qvm's checks (a backing file /etc/shadow
 * after a clean header). */
#ifndef QVM_HOLD_H
#define QVM_HOLD_H

/*
 * Takes a read lease on fd's file. 0; -EAGAIN if it is open for writing
 * now; -EOPNOTSUPP if it is not a regular file on a local file system (on
 * NFS or FUSE the server can change what a read returns with no open for
 * writing here, and a block device has no leases); -EPERM if its file
 * system lies on a device that can be written past the lease (a loop
 * device, NBD, a removable disk, a device node others may write); or
 * another -errno.
 * The lease break's signal (SIGIO) is ignored from then on: it is checked
 * for, it does not end qvm.
 */
int hold_file(int fd);
/* 1 while nobody opened the file for writing since hold_file(), else 0. */
int hold_intact(int fd);

#endif
