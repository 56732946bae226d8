/* SPDX-License-Identifier: MIT */
/* Shared libraries loaded on first use (dlopen) rather than linked: libvirt
 * and libcurl bring ~80 libraries between them, which every qvm run would
 * otherwise load (~8 ms warm, ~100 ms with a cold page cache) while only
 * some commands need them. */
#ifndef QVM_DYNLIB_H
#define QVM_DYNLIB_H

/*
 * Opens soname once (later calls return the same handle) and looks up
 * names[0..n) into fns[0..n). Returns 0, or -1 with *err (malloc'd), e.g.
 * "libvirt.so.0: cannot open shared object file (install libvirt0)".
 */
int dynlib_load(const char *soname, const char *package, const char *const *names, void **fns,
		unsigned n, char **err);

/*
 * A table of functions from a list macro LIST(X) that applies X to each
 * function's name:
 *   static union { struct { LIST(DYNLIB_MEMBER) }; void *slot[0 LIST(DYNLIB_COUNT)]; } api;
 *   static const char *const names[] = { LIST(DYNLIB_NAME) };
 * then dynlib_load(..., names, api.slot, ...) and call api.name(...).
 */
#define DYNLIB_MEMBER(f) __typeof__(f) *f;
#define DYNLIB_COUNT(f) +1
#define DYNLIB_NAME(f) #f,

#endif
