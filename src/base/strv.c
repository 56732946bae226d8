/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strv.h"
#include "banned.h"

size_t strv_length(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

int strv_consume(char ***v, char *s)
{
	size_t n;
	char **nv;

	if (!s)
		return -ENOMEM;
	n = strv_length(*v);
	nv = realloc(*v, (n + 2) * sizeof(*nv));
	if (!nv) {
		free(s);
		return -ENOMEM;
	}
	nv[n] = s;
	nv[n + 1] = NULL;
	*v = nv;
	return 0;
}

int strv_push(char ***v, const char *s)
{
	return strv_consume(v, strdup(s));
}

char *vstrdupf(const char *fmt, va_list ap)
{
	char *s;

	return vasprintf(&s, fmt, ap) < 0 ? NULL : s;
}

char *strdupf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = vstrdupf(fmt, ap);
	va_end(ap);
	return s;
}

int strv_pushf(char ***v, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = vstrdupf(fmt, ap);
	va_end(ap);
	/* strv_consume takes NULL as -ENOMEM */
	return strv_consume(v, s);
}

int strv_push_many(char ***v, ...)
{
	va_list ap;
	const char *s;
	int r = 0;

	va_start(ap, v);
	while (r == 0 && (s = va_arg(ap, const char *)))
		r = strv_push(v, s);
	va_end(ap);
	return r;
}

int strv_extend(char ***v, char *const *other)
{
	for (size_t i = 0; other && other[i]; i++) {
		int r = strv_push(v, other[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

char *strv_join(char *const *v, const char *sep)
{
	size_t len = 1, seplen = strlen(sep);
	char *out, *p;

	for (size_t i = 0; v && v[i]; i++)
		len += strlen(v[i]) + seplen;
	out = p = malloc(len);
	if (!out)
		return NULL;
	*p = '\0';
	for (size_t i = 0; v && v[i]; i++) {
		size_t l = strlen(v[i]);
		if (i > 0) {
			memcpy(p, sep, seplen);
			p += seplen;
		}
		memcpy(p, v[i], l);
		p += l;
		*p = '\0';
	}
	return out;
}

/* True if s can be pasted into a POSIX shell unquoted (not a leading '=':
 * zsh would expand =WORD to a command's path). */
static int shell_safe(const char *s)
{
	if (!*s || *s == '=')
		return 0;
	for (; *s; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789_-./:=,@+%", *s))
			return 0;
	return 1;
}

char *strv_join_shell(char *const *v)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return NULL;
	for (size_t i = 0; v && v[i]; i++) {
		if (i > 0)
			fputc(' ', f);
		if (shell_safe(v[i])) {
			fputs(v[i], f);
			continue;
		}
		/* single quotes protect everything but a single quote: close,
		 * escape it, reopen */
		fputc('\'', f);
		for (const char *p = v[i]; *p; p++) {
			if (*p == '\'')
				fputs("'\\''", f);
			else
				fputc(*p, f);
		}
		fputc('\'', f);
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
