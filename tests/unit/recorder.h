/* SPDX-License-Identifier: MIT */
/* A struct report that keeps what it is told, as "KIND text" lines, for
 * unit tests to compare. */
#ifndef QVM_TEST_RECORDER_H
#define QVM_TEST_RECORDER_H

#include "report.h"
#include "strv.h"

static void recorder_say(void *ctx, enum report_kind kind, const char *text)
{
	static const char *const names[] = {
		[REPORT_BEGIN] = "BEGIN", [REPORT_DONE] = "DONE", [REPORT_STEP] = "STEP",
		[REPORT_WARNING] = "WARNING", [REPORT_CHILD] = "CHILD", [REPORT_ERROR] = "ERROR",
	};

	if (strv_pushf((char ***)ctx, "%s %s", names[kind], text) < 0)
		abort();
}

/* Lines go to *lines (a strv the test frees). */
static inline struct report recorder(char ***lines)
{
	return (struct report){ .say = recorder_say, .ctx = lines };
}

/* Fails the test unless lines are exactly the expected ones, NULL-terminated. */
#define assert_lines(lines, ...)                                                          \
	do {                                                                              \
		const char *const want_[] = { __VA_ARGS__, NULL };                         \
		size_t i_;                                                                \
		for (i_ = 0; want_[i_]; i_++) {                                           \
			assert_non_null((lines) && (lines)[i_] ? (lines)[i_] : NULL);      \
			assert_string_equal((lines)[i_], want_[i_]);                      \
		}                                                                         \
		assert_null((lines) ? (lines)[i_] : NULL);                                \
	} while (0)

#endif
