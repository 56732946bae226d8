#!/bin/bash
# SPDX-License-Identifier: MIT
# qvm import SOURCE ZVOL for every kind of source: formats told by content
# (raw, qcow2 and the other formats qemu-img converts, compressed raw
# images, tar archives), http:// URLs (a local server on 127.0.0.1),
# checksums, and every failure of these, each rolled back.
. "$(dirname "$0")/lib.sh"

# shellcheck source=importlib.sh
. "$(dirname "$0")/importlib.sh"

# --- formats told by content --------------------------------------------------

t_compressed() {
	image
	xz -k -T1 disk.raw
	zstd -q -k disk.raw
	cp disk.raw disk.img && zstd -q --no-content-size disk.img -o nosize.zst
	gzip -k disk.raw
	bzip2 -k disk.raw
	run_qvm import disk.raw.xz tank/images/xz
	expect_exit 0
	expect_empty err
	expect_holds disk.raw tank/images/xz
	expect_match "^create -V 3145728 .* tank/images/xz\$" "$ZFS_DOUBLE_LOG"
	expect_match '^Checking image disk\.raw\.xz .*xz' out
	expect_match '^Creating zvol tank/images/xz \(3\.0 MiB, the size in its xz index\)\.\.\. done$' out
	run_qvm import disk.raw.zst tank/images/zst
	expect_exit 0
	expect_holds disk.raw tank/images/zst
	expect_match '^Creating zvol tank/images/zst \(3\.0 MiB, the sizes in its zstd frames\)' out
	# sizes not recorded: --size says how big the zvol is
	zfs_snapshot_state before
	for f in disk.raw.gz disk.raw.bz2 nosize.zst; do
		run_qvm import "$f" $ZV
		expect_failed "the size of the image compressed in '$f' \(.*\) cannot be known before it is all read: give the zvol's size with --size SIZE, or decompress it first$"
	done
	expect_state_unchanged before
	run_qvm import --size 3M disk.raw.gz tank/images/gz
	expect_exit 0
	expect_holds disk.raw tank/images/gz
	run_qvm import --size=4MiB disk.raw.bz2 tank/images/bz2
	expect_exit 0
	expect_match '^Creating zvol tank/images/bz2 \(4\.0 MiB, --size\)' out
	expect_match "^create -V 4194304 .* tank/images/bz2\$" "$ZFS_DOUBLE_LOG"
	expect_holds disk.raw tank/images/bz2
	# detected by content, not by name
	cp disk.raw.xz misnamed.raw
	run_qvm import misnamed.raw tank/images/misnamed
	expect_exit 0
	expect_holds disk.raw tank/images/misnamed
}
test_case 'xz, zstd (sizes known), gzip and bzip2 (with --size), by content' t_compressed

t_size_errors() {
	image
	gzip -k disk.raw
	zfs_snapshot_state before
	run_qvm import --size 2M disk.raw.gz $ZV
	expect_failed "the image in 'disk\.raw\.gz' is larger than the zvol \(2\.0 MiB\): give a larger --size$"
	expect_rolled_back before
	expect_match "^destroy (-r )?$ZV\$" "$ZFS_DOUBLE_LOG"
	run_qvm import --size 1M disk.raw $ZV
	expect_failed "--size 1\.0 MiB is smaller than the image \(3\.0 MiB\)$"
	run_qvm import --size 12X disk.raw $ZV
	expect_failed "invalid --size '12X'"
	expect_state_unchanged before
}
test_case '--size too small for the stream, smaller than the image, invalid' t_size_errors

t_tar() {
	image
	tar -cf disk.tar disk.raw
	tar -cJf disk.tar.xz disk.raw
	tar --zstd -cf disk.tar.zst disk.raw
	mkdir d && cp --sparse=always disk.raw d/disk.raw
	tar -C d -cSzf sparse.tar.gz . # a directory entry, then a GNU sparse member
	for f in disk.tar disk.tar.xz disk.tar.zst sparse.tar.gz; do
		zv=tank/images/$(echo "$f" | tr . -)
		run_qvm import "$f" "$zv"
		expect_exit 0
		expect_empty err
		expect_holds disk.raw "$zv"
		expect_match "^create -V 3145728 .* $zv\$" "$ZFS_DOUBLE_LOG"
		expect_match "^Creating zvol $zv \(3\.0 MiB, the size in its tar header\)" out
	done
	expect_match '^Writing \./disk\.raw from sparse\.tar\.gz \(tar, gzip\)' out
}
test_case 'tar, tar.xz, tar.zst and a sparse tar.gz: the one disk inside, size from its header' t_tar

t_tar_errors() {
	image 1
	cp disk.raw other.raw
	tar -cJf two.tar.xz disk.raw other.raw
	mkdir empty && tar -C empty -czf empty.tar.gz .
	tar -cJf good.tar.xz disk.raw
	head -c $(($(stat -c %s good.tar.xz) / 2)) good.tar.xz >cut.tar.xz
	zfs_snapshot_state before
	run_qvm import two.tar.xz $ZV
	expect_failed "'two\.tar\.xz' holds more than one file \(disk\.raw and other\.raw\): it must hold exactly one disk image$"
	expect_rolled_back before
	run_qvm import empty.tar.gz $ZV
	expect_failed "'empty\.tar\.gz' holds no disk image: it holds only a directory$"
	run_qvm import cut.tar.xz $ZV
	expect_failed "cannot read (archive|compressed image) 'cut\.tar\.xz': "
	expect_rolled_back before
	head -c 100000 disk.raw | xz >bad.xz
	printf 'garbage' >>bad.xz
	run_qvm import --size 3M bad.xz $ZV
	expect_failed "cannot read compressed image 'bad\.xz': "
	expect_rolled_back before
}
test_case 'several disks in a tar, empty tar, damaged archive: refused, rolled back' t_tar_errors

t_unpacked() {
	image 6
	qemu-img convert -f raw -O qcow2 disk.raw disk.qcow2
	xz -T1 -k disk.qcow2
	zstd -q -k disk.qcow2
	tar -czf qcow.tar.gz disk.qcow2
	run_qvm import disk.qcow2.xz tank/images/xz
	expect_exit 0
	expect_match '^Decompressing disk\.qcow2\.xz \(qcow2, xz\) to a temporary file\.\.\. ' out
	expect_match '^Converting qcow2 image disk\.qcow2\.xz to .*\.\.\. converted in [0-9.]+ s$' out
	expect_match '^Creating zvol tank/images/xz \(3\.0 MiB, its virtual size \(qemu-img info\)\)' out
	expect_holds disk.raw tank/images/xz
	run_qvm import --sha256 "$(sha256sum qcow.tar.gz | cut -d' ' -f1)" qcow.tar.gz tank/images/tar
	expect_exit 0
	expect_match '^Unpacking disk\.qcow2 \(qcow2\) from qcow\.tar\.gz to a temporary file\.\.\. ' out
	expect_holds disk.raw tank/images/tar
	expect_eq "$(sha256sum qcow.tar.gz | cut -d' ' -f1)" "$(zfs get -H -o value qvm:sha256 tank/images/tar)" "qvm:sha256"
	mkdir www && cp disk.qcow2.zst www/
	serve www
	run_qvm import "$URL/disk.qcow2.zst" tank/images/url
	expect_exit 0
	expect_holds disk.raw tank/images/url
	expect_eq "" "$(ls -A "$TMPDIR")" "files left in TMPDIR"
}
test_case 'a qcow2 compressed (xz, zstd, from a URL) or in a tar: unpacked to one temporary file, converted' t_unpacked

t_unpacked_errors() {
	image 7
	qemu-img convert -f raw -O qcow2 disk.raw disk.qcow2
	xz -T1 -k disk.qcow2
	head -c $(($(stat -c %s disk.qcow2.xz) / 2)) disk.qcow2.xz >cut.qcow2.xz
	cp disk.raw other.raw
	tar -czf two.tar.gz disk.qcow2 other.raw
	zfs_snapshot_state before
	run_qvm import --sha256 "$(printf '%064d' 0)" disk.qcow2.xz $ZV
	expect_failed "checksum mismatch for 'disk\.qcow2\.xz'"
	expect_rolled_back before
	run_qvm import cut.qcow2.xz $ZV
	expect_failed "cannot read compressed image 'cut\.qcow2\.xz': "
	expect_rolled_back before
	run_qvm import two.tar.gz $ZV
	expect_failed "'two\.tar\.gz' holds more than one file \(disk\.qcow2 and other\.raw\): it must hold exactly one disk image$"
	expect_rolled_back before
	# no room for the temporary file
	if mount -t tmpfs -o size=64k qvm-test "$TMPDIR" 2>/dev/null; then
		run_qvm import disk.qcow2.xz $ZV
		umount "$TMPDIR"
		expect_failed "cannot write the temporary file in $TMPDIR: No space left on device$"
		expect_state_unchanged before
	fi
	# (valgrind keeps its own files in $TMPDIR: it cannot start without one)
	if [ -z "${QVM_REAL:-}" ]; then
		TMPDIR=$TEST_DIR/nosuch run_qvm import disk.qcow2.xz $ZV
		expect_failed "cannot create a temporary file in $TEST_DIR/nosuch: No such file or directory \(set TMPDIR\)$"
		expect_rolled_back before
	fi
}
test_case 'unpacking: checksum mismatch, damaged file, two files, no room, no temporary directory: nothing changes' t_unpacked_errors

t_qemu_formats() {
	image 2
	for fmt in qcow2 vmdk vhdx vdi vpc; do
		qemu-img convert -f raw -O "$fmt" disk.raw "disk.$fmt"
		run_qvm import "disk.$fmt" "tank/images/$fmt"
		expect_exit 0
		expect_empty err
		expect_match "^Converting $fmt image disk\.$fmt" out
		# vhd rounds the size to its own geometry: at least the image
		expect_holds disk.raw "tank/images/$fmt"
	done
	qemu-img convert -f raw -O vpc -o subformat=fixed disk.raw fixed.vhd
	run_qvm import fixed.vhd tank/images/fixed
	expect_exit 0
	expect_match '^Converting vpc image fixed\.vhd' out
	expect_holds disk.raw tank/images/fixed
}
test_case 'qcow2, vmdk, vhdx, vdi, vhd (dynamic and fixed) converted by qemu-img' t_qemu_formats

t_qemu_fails() {
	image
	qemu-img convert -f raw -O qcow2 disk.raw disk.qcow2
	zfs_snapshot_state before
	# a compression type qemu does not know: qemu-img info refuses
	cp disk.qcow2 broken.qcow2
	python3 -c 'import sys
f = open(sys.argv[1], "r+b"); f.seek(79); f.write(b"\x08"); f.seek(104); f.write(b"\x07")' broken.qcow2
	run_qvm import broken.qcow2 $ZV
	expect_failed "cannot read qcow2 image 'broken\.qcow2': .*unknown compression type: 7"
	expect_state_unchanged before
	zfs_mutations calls
	expect_empty calls
	# qemu-img convert fails after the zvol exists: rolled back
	mkdir bin
	cat >bin/qemu-img <<-'SH'
	#!/bin/sh
	if [ "$1" = convert ]; then echo "qemu-img: simulated failure" >&2; exit 1; fi
	exec /usr/bin/qemu-img "$@"
	SH
	chmod +x bin/qemu-img
	PATH=$TEST_DIR/bin:$PATH run_qvm import disk.qcow2 $ZV
	expect_failed "qemu-img could not convert 'disk\.qcow2': qemu-img: simulated failure$"
	expect_rolled_back before
	expect_match "^destroy (-r )?$ZV\$" "$ZFS_DOUBLE_LOG"
}
test_case 'qemu-img info fails (nothing changes), convert fails (rolled back)' t_qemu_fails

# --- checksums --------------------------------------------------------------------

t_sha256() {
	image
	xz -k disk.raw
	sum=$(sha256sum disk.raw | cut -d' ' -f1)
	xsum=$(sha256sum disk.raw.xz | cut -d' ' -f1)
	run_qvm import --sha256 "$sum" disk.raw $ZV
	expect_exit 0
	expect_holds disk.raw $ZV
	expect_eq "$sum" "$(zfs get -H -o value qvm:sha256 $ZV)" "qvm:sha256"
	expect_match "^Imported disk\.raw as $ZV@base \(sha256 $sum verified\)\$" out
	expect_eq "$PWD/disk.raw" "$(zfs get -H -o value qvm:source $ZV)" "qvm:source"
	# the digest is of the file as it is, here compressed
	upper=$(echo "$xsum" | tr a-f A-F)
	run_qvm import --sha256 "$upper" disk.raw.xz tank/images/x
	expect_exit 0
	expect_eq "$xsum" "$(zfs get -H -o value qvm:sha256 tank/images/x)" "qvm:sha256"
	qemu-img convert -f raw -O qcow2 disk.raw disk.qcow2
	qsum=$(sha256sum disk.qcow2 | cut -d' ' -f1)
	run_qvm import --sha256 "$qsum" disk.qcow2 tank/images/q
	expect_exit 0
	expect_holds disk.raw tank/images/q
	expect_match "^Verifying the SHA-256 of disk\.qcow2\.\.\. ok\$" out
	expect_eq "$qsum" "$(zfs get -H -o value qvm:sha256 tank/images/q)" "qvm:sha256"
}
test_case '--sha256: verified, recorded as qvm:sha256, shown' t_sha256

t_sha256_mismatch() {
	image
	xz -k disk.raw
	qemu-img convert -f raw -O qcow2 disk.raw disk.qcow2
	bad=$(printf '%064d' 0)
	zfs_snapshot_state before
	for f in disk.raw disk.raw.xz disk.qcow2; do
		run_qvm import --sha256 "$bad" "$f" $ZV
		expect_failed "checksum mismatch for '$f': expected sha256 $bad, got $(sha256sum "$f" | cut -d' ' -f1)\$"
		expect_rolled_back before
	done
	run_qvm import --sha256 abc disk.raw $ZV
	expect_failed "invalid --sha256 value 'abc': expected 64 hexadecimal digits$"
	expect_state_unchanged before
}
test_case 'checksum mismatch (raw, compressed, qcow2): rolled back; invalid --sha256' t_sha256_mismatch

t_checksum_file() {
	image
	sum=$(sha256sum disk.raw | cut -d' ' -f1)
	printf '%s  other.raw\n%s  disk.raw\n' "$(printf '%064d' 1)" "$sum" >SUMS.text
	printf '%s *disk.raw\n' "$sum" >SUMS.binary
	printf 'SHA256 (disk.raw) = %s\n' "$sum" >SUMS.bsd
	printf '%s  images/disk.raw\n' "$sum" >SUMS.path
	for s in text binary bsd path; do
		run_qvm import --checksum-file "SUMS.$s" disk.raw "tank/images/$s"
		expect_exit 0
		expect_eq "$sum" "$(zfs get -H -o value qvm:sha256 "tank/images/$s")" "qvm:sha256 ($s)"
	done
	zfs_snapshot_state before
	printf '%s  else.raw\n' "$sum" >SUMS.none
	run_qvm import --checksum-file SUMS.none disk.raw $ZV
	expect_failed "checksum file 'SUMS\.none' has no entry for 'disk\.raw'$"
	printf '%s  disk.raw\n' "$(printf '%0128d' 0)" >SHA512SUMS
	run_qvm import --checksum-file SHA512SUMS disk.raw $ZV
	expect_failed "checksum mismatch for 'disk\.raw': expected sha512 0{128}, got $(sha512sum disk.raw | cut -d' ' -f1)$"
	run_qvm import --checksum-file nosuch disk.raw $ZV
	expect_failed "cannot read checksum file 'nosuch': No such file or directory$"
	# the right digest and a wrong one for the same file: neither is trusted
	printf '%s  disk.raw\n%064d  disk.raw\n' "$sum" 0 >SUMS.twice
	run_qvm import --checksum-file SUMS.twice disk.raw $ZV
	expect_failed "checksum file 'SUMS\.twice' gives 'disk\.raw' two different digests: which is right cannot be told$"
	printf '%064d  disk.raw\n' 5 >SUMS.wrong
	run_qvm import --checksum-file SUMS.wrong disk.raw $ZV
	expect_failed "checksum mismatch for 'disk\.raw'"
	expect_rolled_back before
}
test_case '--checksum-file: "HASH  name", "HASH *name", BSD form, missing entry, SHA-512' t_checksum_file

# --- URLs ---------------------------------------------------------------------------

t_url() {
	image 3
	mkdir www
	cp disk.raw www/
	tar -cJf www/disk.tar.xz disk.raw
	qemu-img convert -f raw -O qcow2 disk.raw www/disk.qcow2
	sum=$(sha256sum www/disk.tar.xz | cut -d' ' -f1)
	sha256sum www/disk.tar.xz | sed 's| www/| |' >www/SHA256SUMS
	serve www
	run_qvm import "$URL/disk.raw" tank/images/raw
	expect_exit 0
	expect_empty err
	expect_holds disk.raw tank/images/raw
	expect_eq "$URL/disk.raw" "$(zfs get -H -o value qvm:source tank/images/raw)" "qvm:source"
	run_qvm import --checksum-file "$URL/SHA256SUMS" "$URL/redirect/disk.tar.xz" tank/images/tar
	expect_exit 0
	expect_holds disk.raw tank/images/tar
	expect_eq "$sum" "$(zfs get -H -o value qvm:sha256 tank/images/tar)" "qvm:sha256"
	run_qvm import --sha256 "$(sha256sum www/disk.qcow2 | cut -d' ' -f1)" "$URL/disk.qcow2" tank/images/qcow2
	expect_exit 0
	expect_match '^Downloading .*disk\.qcow2' out
	expect_holds disk.raw tank/images/qcow2
	expect_eq "" "$(ls -A "$TMPDIR")" "files left in TMPDIR"
	# no Content-Length: a raw image needs --size
	run_qvm import "$URL/nolength/disk.raw" tank/images/nolen
	expect_failed "the server did not say how big $URL/nolength/disk\.raw is: give the zvol's size with --size SIZE$"
	run_qvm import --size 3M "$URL/nolength/disk.raw" tank/images/nolen
	expect_exit 0
	expect_holds disk.raw tank/images/nolen
}
test_case 'http: raw, tar.xz through a redirect with a checksum file, qcow2 via a temporary file' t_url

t_url_xz() {
	image 5
	mkdir www
	xz -k -T1 disk.raw
	cp disk.raw.xz www/
	# two streams, the second with multi-block index and stream padding
	make_image part2 1M 6
	{ xz -c -T1 disk.raw; xz -c -T2 --block-size=256KiB part2; printf '\0\0\0\0\0\0\0\0'; } >www/two.raw.xz
	cat disk.raw part2 >two.raw
	{ cat disk.raw.xz; printf 'trailing'; } >www/trailing.raw.xz
	serve www
	# the size from the index at the end of the file, by range requests
	run_qvm import "$URL/disk.raw.xz" tank/images/xz
	expect_exit 0
	expect_empty err
	expect_holds disk.raw tank/images/xz
	expect_match "^create -V 3145728 .* tank/images/xz\$" "$ZFS_DOUBLE_LOG"
	expect_match '^/disk\.raw\.xz bytes=' ranges.log
	expect_eq 2 "$(grep -c '^/disk\.raw\.xz ' ranges.log)" "range requests: the tail, then the stream header"
	expect_match '^Creating zvol tank/images/xz \(3\.0 MiB, the size in its xz index, by range requests\)' out
	run_qvm import "$URL/redirect/two.raw.xz" tank/images/two
	expect_exit 0
	expect_holds two.raw tank/images/two
	expect_match "^create -V 4194304 .* tank/images/two\$" "$ZFS_DOUBLE_LOG"
	# a server without range requests, a file that does not end as xz does
	zfs_snapshot_state before
	run_qvm import "$URL/norange/disk.raw.xz" $ZV
	expect_failed "the size of the image compressed in '$URL/norange/disk\.raw\.xz' \(xz\) is in the index at the end of the file, which qvm could not read: the server does not answer range requests \(HTTP status 200\): give the zvol's size with --size SIZE, or decompress it first\$"
	run_qvm import "$URL/trailing.raw.xz" $ZV
	expect_failed "the size of the image compressed in '$URL/trailing\.raw\.xz' \(xz\) is in the index at the end of the file, which qvm could not read: the file does not end as an xz file does: give"
	expect_rolled_back before
	# --size still works where the index cannot be read
	run_qvm import --size 3M "$URL/norange/disk.raw.xz" tank/images/sized
	expect_exit 0
	expect_holds disk.raw tank/images/sized
}
test_case 'http: xz-compressed raw, its size from the index by range requests (two streams, redirect); no ranges: --size' t_url_xz

t_url_errors() {
	image 4
	mkdir www
	cp disk.raw www/
	qemu-img convert -f raw -O qcow2 disk.raw www/disk.qcow2
	tar -cJf www/disk.tar.xz disk.raw
	serve www
	zfs_snapshot_state before
	run_qvm import "$URL/nosuch.raw" $ZV
	expect_failed "cannot download $URL/nosuch\.raw: HTTP status 404$"
	expect_rolled_back before
	for f in disk.raw disk.qcow2 disk.tar.xz; do
		run_qvm import "$URL/cut/$f" $ZV
		expect_failed "(cannot download $URL/cut/$f: .*(transfer closed|ended after)|cannot read archive .*)"
		expect_rolled_back before
	done
	run_qvm import --sha256 "$(printf '%064d' 0)" "$URL/disk.raw" $ZV
	expect_failed "checksum mismatch for '$URL/disk\.raw'"
	expect_rolled_back before
	run_qvm import --checksum-file "$URL/SHA256SUMS" "$URL/disk.raw" $ZV
	expect_failed "cannot read checksum file '$URL/SHA256SUMS': HTTP status 404$"
	# a port nobody listens on
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	run_qvm import "http://127.0.0.1:$port/disk.raw" $ZV
	expect_failed "cannot download http://127\.0\.0\.1:$port/disk\.raw: .*([Cc]onnect|refused)"
	expect_rolled_back before
}
test_case 'http errors: 404, transfers cut short (raw, qcow2, tar.xz), mismatch, connection refused' t_url_errors

t_url_signal() {
	image 5
	mkdir www
	cp disk.raw www/
	qemu-img convert -f raw -O qcow2 disk.raw www/disk.qcow2
	serve www
	zfs_snapshot_state before
	for f in disk.raw disk.qcow2; do
		"$QVM" import "$URL/slow/$f" $ZV >out 2>err &
		pid=$!
		for _ in $(seq 100); do grep -q "GET /slow/$f" "$TEST_DIR/httpd.log" && break; sleep 0.05; done
		sleep 0.5
		kill -TERM "$pid"
		status=0
		wait "$pid" || status=$?
		expect_eq 143 "$status" "exit status after SIGTERM ($f)"
		expect_rolled_back before
	done
}
test_case 'SIGTERM during a download (into the zvol, into a temporary file): rolled back' t_url_signal

t_quiet() {
	image
	xz -k disk.raw
	run_qvm import -q disk.raw.xz $ZV
	expect_exit 0
	expect_empty out
	expect_empty err
	expect_holds disk.raw $ZV
	run_qvm import --quiet disk.raw.xz $ZV
	expect_failed "zvol $ZV already exists"
	expect_empty out
}
test_case '-q/--quiet: no output on success, errors still on stderr' t_quiet


t_qemu_img_killed() {
	# qemu-img killed by someone else (the OOM killer): its failure, how it
	# ended, exit 1 - not an interruption of qvm
	image 6
	qemu-img convert -f raw -O qcow2 disk.raw disk.qcow2
	mkdir -p bin
	for step in info check convert; do
		cat >bin/qemu-img <<-EOT
		#!/bin/bash
		if [ "\$1" = $step ]; then echo "qemu-img: going down" >&2; kill -KILL \$\$; fi
		exec /usr/bin/qemu-img "\$@"
		EOT
		chmod +x bin/qemu-img
		zfs_snapshot_state before
		PATH=$PWD/bin:$PATH run_qvm import disk.qcow2 $ZV
		expect_exit 1
		expect_match "^Error importing cloud image: .*qemu-img: going down \(killed by SIGKILL\)$" err
		expect_no_match 'interrupted' err
		expect_rolled_back before
	done
}
test_case 'qemu-img killed by a signal qvm did not get: its failure, rolled back' t_qemu_img_killed

test_done
