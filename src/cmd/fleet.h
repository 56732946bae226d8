/* SPDX-License-Identifier: MIT */
/* Many hosts at once: qvm list --all-hosts and qvm images --all-hosts
 * (every host of the hosts file and this one, in one table or JSON), and
 * what qvm vm --host auto asks of each host. A run of qvm works on one host
 * (remote.h keeps one connection, process-wide), so each host is asked by
 * a qvm of its own - this binary run again with --host NAME - side by side,
 * at most FLEET_PARALLEL at a time, each given QVM_HOST_TIMEOUT seconds
 * (settings.h) to answer: one that has not by then is ended (spawn_all's
 * time limit; on SIGTERM it closes its ssh master: main.c) and did not
 * answer ("host NAME did not answer within N s (QVM_HOST_TIMEOUT)"). */
#ifndef QVM_FLEET_H
#define QVM_FLEET_H

#include <stddef.h>
#include <json-c/json.h>

#include "table.h"

#define FLEET_PARALLEL 16
/* this host's name in the listings (where qvm runs, without --host) */
#define FLEET_LOCAL_NAME "localhost"

/* A listing's row of one host: adds HOST and the cells made from o (the
 * host's JSON object for it) to t. 0, or -ENOMEM. */
typedef int (*fleet_row_fn)(struct table *t, const char *host, json_object *o);

/*
 * qvm COMMAND --all-hosts [--json]: runs `qvm COMMAND --json` for this host
 * (if it has a zfs program: a machine without is no host of qvm's VMs) and
 * `qvm COMMAND --json --host NAME` for each host of the hosts file,
 * then prints their rows in one table (headers, the first "HOST"; each row
 * by add_row) or one JSON array (each object with "host" first, then the
 * host's own members). A host that does not answer is a warning ("host
 * NAME did not answer: ..."); only when none answers is it an error.
 * Returns 0, or -1 after printing the error as task's.
 */
int fleet_listing(const char *task, const char *command, bool json, size_t ncols, const char *const *headers,
		  fleet_row_fn add_row);

/* A string member of a host's JSON object (valid while o is; the table
 * escapes it); NULL when missing, null or not a string. */
const char *fleet_text(json_object *o, const char *key);
/* A number member as size_format writes it into buf; NULL when missing,
 * null or not a whole number >= 0. */
const char *fleet_size(json_object *o, const char *key, char *buf, size_t size);
/* A number member in decimal into buf; NULL as fleet_size. */
const char *fleet_number(json_object *o, const char *key, char *buf, size_t size);

/*
 * qvm vm --host auto: asks every host of the hosts file (side by side)
 * whether it has every snapshot of bases and how much memory it has free,
 * picks one (placement.h), says so ("Placing WHAT on HOST: why") and sets
 * *chosen (malloc'd) to its name. Hosts that do not answer are warnings;
 * no host with the bases is an error naming the hosts asked and how to
 * copy an image there. 0, or -1 after printing the error.
 */
int fleet_place(char *const *bases, const char *what, char **chosen);

#endif
