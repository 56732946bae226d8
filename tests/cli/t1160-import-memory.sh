#!/bin/bash
# SPDX-License-Identifier: MIT
# qvm import's memory stays under 64 MiB whatever the image's size, for
# every way an image arrives: raw (small and large, sparse), compressed
# (xz, zstd, gzip), a tar.xz archive, and a download.
. "$(dirname "$0")/lib.sh"

LIMIT_KIB=$((64 << 10))

setup() {
	# valgrind and AddressSanitizer multiply the memory a program uses
	[ -z "${QVM_REAL:-}" ] || skip "qvm runs under valgrind"
	! ldd "$QVM" 2>/dev/null | grep -q libasan || skip "an AddressSanitizer build"
	zfs_pool
	export TMPDIR=$TEST_DIR/tmp
	mkdir -p "$TMPDIR"
}

# big_image FILE SIZE: a sparse image of SIZE with 4 regions of 16 MiB of
# (compressible, non-zero) data spread over it, and an MBR
big_image() {
	local file=$1 size=$2 i
	truncate -s "$size" "$file"
	yes 'qvm memory test: a line of image data' | head -c 16M >"$TEST_DIR/region"
	for i in 0 1 2 3; do
		dd if="$TEST_DIR/region" of="$file" bs=1M seek=$((i * $(numfmt --from=iec "$size") / 4 >> 20)) \
			conv=notrunc status=none
	done
	make_mbr "$file"
}

# peak ARGS...: runs qvm ARGS...; $status is its exit status and $peak_kib
# the largest resident set of qvm or of anything it ran and waited for (the
# zfs double, a python program, takes about 20 MiB)
peak() {
	local res
	res=$(python3 -c '
import resource, subprocess, sys
with open("err", "w") as err:
    r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=err)
print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$QVM" "$@")
	status=${res% *}
	peak_kib=${res#* }
}

expect_under_limit() {	# expect_under_limit WHAT
	expect_eq 0 "$status" "$1: exit status ($(cat err))"
	expect_eq 1 "$(test "$peak_kib" -lt "$LIMIT_KIB" && echo 1)" \
		"$1: peak resident set ${peak_kib} KiB, under ${LIMIT_KIB} KiB"
}

t_raw() {
	big_image small.raw 256M
	big_image large.raw 16G
	peak import small.raw tank/images/small
	expect_under_limit "raw, 256 MiB"
	small=$peak_kib
	peak import large.raw tank/images/large
	expect_under_limit "raw, 16 GiB"
	# not growing with the image: within 8 MiB of the small one's
	expect_eq 1 "$(test $((peak_kib - small)) -lt 8192 && echo 1)" \
		"16 GiB image: ${peak_kib} KiB against ${small} KiB for 256 MiB"
	cmp -n $((256 << 20)) large.raw "$QVM_ZVOL_DIR/tank/images/large" || { _fail "device differs"; return 1; }
}
test_case 'raw images of 256 MiB and 16 GiB: the same memory, under 64 MiB' t_raw

t_streams() {
	big_image disk.raw 1G
	xz -T1 -6 -k disk.raw
	zstd -q -k disk.raw
	gzip -1 -k disk.raw
	tar -cf - disk.raw | xz -T1 -6 >disk.tar.xz
	peak import disk.raw.xz tank/images/xz
	expect_under_limit "raw.xz (xz -6)"
	peak import disk.raw.zst tank/images/zst
	expect_under_limit "raw.zst"
	peak import --size 1G disk.raw.gz tank/images/gz
	expect_under_limit "raw.gz"
	peak import disk.tar.xz tank/images/tar
	expect_under_limit "tar.xz"
	cmp disk.raw "$QVM_ZVOL_DIR/tank/images/tar" || { _fail "device differs"; return 1; }
}
test_case 'compressed images and a tar.xz of 1 GiB: under 64 MiB' t_streams

t_download() {
	mkdir www
	big_image www/disk.raw 1G
	serve www
	peak import "$URL/disk.raw" tank/images/url
	expect_under_limit "download of 1 GiB"
	cmp www/disk.raw "$QVM_ZVOL_DIR/tank/images/url" || { _fail "device differs"; return 1; }
}
test_case 'a 1 GiB download: under 64 MiB' t_download

test_done
