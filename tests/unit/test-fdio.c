/* SPDX-License-Identifier: MIT */
/* Whole reads and writes: all the bytes, or an error. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "fdio.h"

static void test_write_read(void **state)
{
	int fd = memfd_create("qvm-test-fdio", MFD_CLOEXEC);
	char buf[8] = { 0 };

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write_full(fd, "abcdef", 6), 0);
	assert_int_equal(pwrite_full(fd, "XY", 2, 2), 0);
	assert_int_equal(pread_full(fd, buf, 6, 0), 0);
	assert_memory_equal(buf, "abXYef", 6);
	/* write_full went on at the file position, pwrite_full left it */
	assert_int_equal(lseek(fd, 0, SEEK_CUR), 6);
	assert_int_equal(pread_full(fd, buf, 2, 4), 0);
	assert_memory_equal(buf, "ef", 2);
	/* the file ends before the bytes asked for */
	assert_int_equal(pread_full(fd, buf, 3, 4), -ENODATA);
	assert_int_equal(pread_full(fd, buf, 0, 100), 0);
	close(fd);
	assert_int_equal(write_full(fd, "a", 1), -EBADF);
	assert_int_equal(pread_full(fd, buf, 1, 0), -EBADF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_read),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
