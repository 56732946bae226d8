/* SPDX-License-Identifier: MIT */
/* A guest's SSH host keys as cloud-init prints them on its console (its
 * keys_to_console module), read from the console log libvirt keeps, and
 * written as an OpenSSH known_hosts file. The log is the guest's output:
 * every line is checked, read up to a bound, and nothing from it but keys
 * that decode as keys of their type is kept. The block looks like
 *
 *   -----BEGIN SSH HOST KEY KEYS-----
 *   ecdsa-sha2-nistp256 AAAA... root@host
 *   ssh-ed25519 AAAA... root@host
 *   -----END SSH HOST KEY KEYS-----
 *
 * each line possibly behind a prefix added by what passed it on ("<14>Dec
 * 5 10:00:00 ec2: " from logger, "[  12.3] cloud-init[400]: " from the
 * journal) and ending in "\r\n". */
#ifndef QVM_HOSTKEYS_H
#define QVM_HOSTKEYS_H

#include <stdbool.h>
#include <stddef.h>

/* At most this many bytes of a console log are read, from its start. */
#define HOSTKEYS_READ_MAX (8u << 20)
/* At most this many keys are kept of a block (cloud-init prints one per
 * type the guest has: four today). */
#define HOSTKEYS_MAX 16
/* A line longer than this is no key line (an RSA key of 16384 bits is
 * about 2800 characters of base64). */
#define HOSTKEYS_LINE_MAX 8192

struct hostkey {
	const char *type;            /* static: "ssh-ed25519", "ecdsa-sha2-nistp256", ... */
	char *base64;                /* the key, as base64 (checked: it decodes to a key of type) */
};

struct hostkeys {
	bool complete;               /* a whole BEGIN ... END block was read */
	size_t n;                    /* its keys, in the order printed, without duplicates */
	struct hostkey k[HOSTKEYS_MAX];
	size_t skipped;              /* lines of that block that held no key */
};

/*
 * The parser, fed one line at a time (without its "\n"; any bytes). The
 * first complete block wins: cloud-init prints it once per instance, in
 * its last stage at the first boot, before anyone could log in, so later
 * blocks are either a copy or text someone made the guest print later
 * (a log line a service echoes to the console). A BEGIN inside a block
 * starts it again (the earlier one was cut off, by a reset). Lines of the
 * block that are no key line are skipped and counted (other output of the
 * guest interleaved with cloud-init's).
 */
struct hostkeys_parser {
	bool in_block;
	struct hostkeys cur;         /* the block being read */
};

void hostkeys_parser_init(struct hostkeys_parser *p);
/* 1 once the first complete block has been read (the parser is done), 0
 * to go on, -ENOMEM. */
int hostkeys_parser_feed(struct hostkeys_parser *p, const char *line, size_t len);
/* The result (moved out of p: clear it with hostkeys_clear). */
void hostkeys_parser_finish(struct hostkeys_parser *p, struct hostkeys *out);

/* The keys of buf (a whole console log). 0 or -ENOMEM. */
int hostkeys_parse(const char *buf, size_t len, struct hostkeys *out);

/*
 * The keys of the console log at path: at most HOSTKEYS_READ_MAX bytes
 * from its start; a regular file, not followed through a symlink. 0 (no
 * complete block: out->complete false), -ENOENT when there is no log, or
 * -errno with *err (malloc'd).
 */
int hostkeys_read(const char *path, struct hostkeys *out, char **err);

void hostkeys_clear(struct hostkeys *k);

/*
 * One key line: [PREFIX ]TYPE BASE64[ COMMENT], trailing "\r" and blanks
 * ignored; TYPE a host key type OpenSSH uses (ssh-ed25519, ecdsa-sha2-
 * nistp256/384/521, ssh-rsa), BASE64 canonical base64 of at most
 * HOSTKEYS_LINE_MAX characters that decodes to a public key of that type
 * (its wire format: the type's name, then its fields, nothing after
 * them), COMMENT printable ASCII (dropped). True with *k set (base64
 * malloc'd), false for anything else (k untouched) or on ENOMEM.
 */
bool hostkey_line_parse(const char *line, size_t len, struct hostkey *k);

/* "ALIAS TYPE BASE64\n" per key: the known_hosts file of one host. NULL
 * on ENOMEM. */
char *hostkeys_known_hosts(const struct hostkeys *k, const char *alias);

/*
 * Creates the file name in the directory dirfd with text and mode 0600 -
 * whole or not at all: written under no name (or a temporary one), then
 * linked to name, which it never replaces. 0, -EEXIST when name exists
 * (it is left as it is), or -errno with *err (malloc'd).
 */
int hostkeys_write_file(int dirfd, const char *name, const char *text, char **err);

#endif
